"""A matplotlib figure as inline SVG text: no prolog, comments or metadata, ids prefixed per figure."""

from __future__ import annotations

import io
import re

from matplotlib.figure import Figure

__all__ = ["to_svg"]

_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


def to_svg(fig: Figure, key: str) -> str:
    """``fig`` as inline SVG text (see the package docstring) with ids prefixed by ``key``."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=_SVG_METADATA)
    text = _PROLOG.sub("", buffer.getvalue(), count=1)
    text = _COMMENT.sub("", text)
    text = _METADATA.sub("", text)
    # xlink:href is the SVG 1.1 spelling; plain href (SVG 2) works in browsers and WeasyPrint and
    # needs no extra namespace declaration.
    text = text.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace("xlink:href=", "href=")
    text = _prefix_ids(text, f"fig-{key}-")
    # the root's fixed width/height in pt become a viewBox-only drawing the page CSS sizes
    text = re.sub(r'^<svg ([^>]*?)width="[^"]*" height="[^"]*"', r"<svg \1", text, count=1)
    return text.strip()


def _prefix_ids(text: str, prefix: str) -> str:
    """Every id defined in ``text``, and every reference to one, with ``prefix`` in front."""
    ids = set(_ID.findall(text))

    def rename(match: re.Match) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}{name}" if name in ids else match.group(0)

    return _REFERENCE.sub(rename, text)

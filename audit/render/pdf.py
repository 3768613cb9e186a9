"""report.pdf: the HTML report laid out on A4 pages by WeasyPrint.

The PDF is the same document as report.html: its stylesheet carries the ``@page`` rules (A4,
page numbers in the footer) and an ``@media print`` block that WeasyPrint applies.

One difference in form, not content: each inline ``<svg>`` figure becomes an
``<img src="data:image/svg+xml;base64,...">`` of the same SVG before layout. WeasyPrint draws
both identically, but an inline SVG's thousands of elements would each go through the page's
CSS cascade, which doubles the layout time. The rewrite is safe on our own HTML: a raw
``<svg`` can only come from the figures of :mod:`audit.render.plots` (any ``<`` in text from the
model or spec is escaped), and matplotlib's SVG holds no nested ``</svg>``.

WeasyPrint is given no base URL and a URL fetcher that serves those embedded SVG images and
refuses everything else, so laying out the report never reads a file or reaches the network.
"""

from __future__ import annotations

import base64
import re

__all__ = ["render", "layout"]

_INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_DATA_SVG = "data:image/svg+xml;base64,"


def render(result, html_text: str | None = None) -> bytes:
    """The PDF report of ``result``; ``html_text`` is its already rendered HTML, if at hand."""
    return layout(result, html_text).write_pdf()


def layout(result, html_text: str | None = None):
    """The report laid out on pages: a ``weasyprint.Document`` (its ``pages``, ``write_pdf()``)."""
    import weasyprint  # heavy import, only when a PDF is asked for

    from . import html

    if html_text is None:
        html_text = html.render(result)
    source = weasyprint.HTML(string=_svg_as_images(html_text), base_url=None, url_fetcher=_fetcher(weasyprint))
    return source.render()


def _svg_as_images(html_text: str) -> str:
    def image(match: re.Match) -> str:
        encoded = base64.b64encode(match.group(0).encode("utf-8")).decode("ascii")
        return f'<img class="svg-image" alt="" src="{_DATA_SVG}{encoded}">'

    return _INLINE_SVG.sub(image, html_text)


def _check(url: str) -> None:
    if not url.startswith(_DATA_SVG):
        raise ValueError(f"the report fetches nothing (asked for {url[:80]!r})")


def _fetcher(weasyprint):
    """A URL fetcher for the embedded SVG figures and nothing else (WeasyPrint's ``URLFetcher``
    class where it has one, its older function API otherwise)."""
    if hasattr(weasyprint, "URLFetcher"):

        class EmbeddedOnly(weasyprint.URLFetcher):
            def fetch(self, url, headers=None):
                _check(url)
                return super().fetch(url, headers)

        return EmbeddedOnly(allowed_protocols={"data"})

    def fetch(url, *args, **kwargs):  # pragma: no cover - WeasyPrint < 66
        _check(url)
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch

"""One module per output format; each reads an AuditResult and nothing else.

:func:`write_reports` writes the formats a spec asks for into a staging folder and moves them
into the output folder together with a ``manifest.json`` (:mod:`.publish`). ``junit`` and
``markdown`` carry the policies' verdict: they are written only when policies ran.
"""

from __future__ import annotations

from pathlib import Path

from ._atomic import write_atomic

__all__ = ["write_reports", "write_atomic", "REPORT_FILES"]

REPORT_FILES = {"json": "audit.json", "html": "report.html", "pdf": "report.pdf", "junit": "junit.xml",
                "markdown": "summary.md"}
_VERDICT_FORMATS = ("junit", "markdown")


def write_reports(result, out_dir: Path, formats, progress=None) -> dict[str, Path]:
    """Write ``formats`` (json, html, pdf, junit, markdown) of ``result`` into ``out_dir``,
    all at once with their manifest; return their paths by format."""
    from .. import __version__
    from .publish import Staging

    wanted = [fmt for fmt in REPORT_FILES
              if fmt in formats and not (fmt in _VERDICT_FORMATS and result.verdict is None)]
    with Staging(out_dir, result.run_id) as stage:
        for fmt, data in _rendered(result, wanted, progress):
            stage.add(REPORT_FILES[fmt], data)
        placed = stage.publish(created=result.created, version=__version__, known=tuple(REPORT_FILES.values()))
    return {fmt: placed[REPORT_FILES[fmt]] for fmt in wanted}


def _rendered(result, wanted, progress):
    """``(format, bytes)`` of each wanted format, in order (the PDF reuses the HTML)."""
    from . import html, json_report, junit, markdown, pdf

    html_text = None
    for fmt in wanted:
        if progress:
            progress.stage(f"writing {REPORT_FILES[fmt]}")
        if fmt == "json":
            yield fmt, json_report.render(result).encode("utf-8")
        elif fmt == "html":
            html_text = html.render(result)
            yield fmt, html_text.encode("utf-8")
        elif fmt == "pdf":
            yield fmt, pdf.render(result, html_text)
        elif fmt == "junit":
            yield fmt, junit.render(result)
        else:
            yield fmt, markdown.render(result).encode("utf-8")

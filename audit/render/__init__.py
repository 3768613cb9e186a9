"""One module per output format; each reads an AuditResult and nothing else.

:func:`write_reports` writes the formats a spec asks for, each atomically. ``junit`` and
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
    """Write ``formats`` (json, html, pdf, junit, markdown) of ``result`` into ``out_dir``;
    return their paths."""
    from . import html, json_report, junit, markdown, pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    html_text = None
    for fmt in REPORT_FILES:
        if fmt not in formats or (fmt in _VERDICT_FORMATS and result.verdict is None):
            continue
        if progress:
            progress.stage(f"writing {REPORT_FILES[fmt]}")
        path = out_dir / REPORT_FILES[fmt]
        if fmt == "json":
            write_atomic(path, json_report.render(result).encode("utf-8"))
        elif fmt == "html":
            html_text = html.render(result)
            write_atomic(path, html_text.encode("utf-8"))
        elif fmt == "pdf":
            write_atomic(path, pdf.render(result, html_text))
        elif fmt == "junit":
            write_atomic(path, junit.render(result))
        else:
            write_atomic(path, markdown.render(result).encode("utf-8"))
        written[fmt] = path
    return written

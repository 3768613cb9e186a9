"""One module per output format; each reads an AuditResult and nothing else.

:func:`write_reports` writes the formats a spec asks for, each atomically.
"""

from __future__ import annotations

from pathlib import Path

from ._atomic import write_atomic

__all__ = ["write_reports", "write_atomic", "REPORT_FILES"]

REPORT_FILES = {"json": "audit.json", "html": "report.html", "pdf": "report.pdf"}


def write_reports(result, out_dir: Path, formats, progress=None) -> dict[str, Path]:
    """Write ``formats`` (json, html, pdf) of ``result`` into ``out_dir``; return their paths."""
    from . import html, json_report, pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    html_text = None
    for fmt in ("json", "html", "pdf"):
        if fmt not in formats:
            continue
        if progress:
            progress.stage(f"writing {REPORT_FILES[fmt]}")
        path = out_dir / REPORT_FILES[fmt]
        if fmt == "json":
            write_atomic(path, json_report.render(result).encode("utf-8"))
        elif fmt == "html":
            html_text = html.render(result)
            write_atomic(path, html_text.encode("utf-8"))
        else:
            write_atomic(path, pdf.render(result, html_text))
        written[fmt] = path
    return written

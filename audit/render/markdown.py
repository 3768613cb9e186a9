"""summary.md: the verdict as a Markdown summary (a CI job's summary page), and appending it to
``$GITHUB_STEP_SUMMARY``, which GitHub caps at 1 MiB per step: rows that would pass the cap are
left out, worst rules first so what is dropped are passing ones, and a line says how many.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..results import AuditResult, RuleOutcome, Status, Verdict
from .verdict_rows import gate_sentence, ordered_outcomes, tally

__all__ = ["render", "verdict_markdown", "cell", "append_step_summary", "STEP_SUMMARY_LIMIT"]

STEP_SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub shows of one step's summary
_ICONS = {Status.PASS: "\u2705", Status.WARN: "\u26a0\ufe0f", Status.FAIL: "\u274c", Status.ERROR: "\U0001f4a5"}
_HEADER = ("| | rule | policy | requirement | found | what it means |", "|---|---|---|---|---|---|")


def render(result: AuditResult, *, limit: int | None = None) -> str:
    """The summary of ``result.verdict``; with ``limit``, at most that many UTF-8 bytes."""
    return verdict_markdown(result.verdict, result.title, limit=limit)


def verdict_markdown(verdict: Verdict, title: str, *, limit: int | None = None) -> str:
    """A verdict as a heading, a sentence and a table of its rules, worst first."""
    head = [f"## {_ICONS[verdict.status]} model-audit verdict: {verdict.status} \u2014 {cell(title)}", "",
            f"{gate_sentence(verdict)} {tally(verdict)}; policies {', '.join(verdict.policies)}"
            + (f"; baseline `{cell(verdict.baseline)}`" if verdict.baseline else "") + ".", "", *_HEADER]
    rows = [_row(outcome) for outcome in ordered_outcomes(verdict)]
    return _fit(head, rows, limit)


def _row(outcome: RuleOutcome) -> str:
    cells = (f"{_ICONS[outcome.status]} {outcome.status}", f"`{cell(outcome.rule)}`", cell(outcome.policy),
             cell(f"{outcome.subject} {outcome.condition}"), cell(outcome.detail),
             "" if outcome.status == "PASS" else cell(outcome.message))
    return "| " + " | ".join(cells) + " |"


def _fit(head: list[str], rows: list[str], limit: int | None) -> str:
    text = "\n".join(head + rows) + "\n"
    if limit is None or len(text.encode("utf-8")) <= limit:
        return text
    kept = list(rows)
    while kept:
        kept.pop()
        note = f"\n_{len(rows) - len(kept)} more rules left out to fit the {limit:,}-byte limit; see junit.xml or audit.json._"
        text = "\n".join(head + kept) + "\n" + note + "\n"
        if len(text.encode("utf-8")) <= limit:
            return text
    return ""


def cell(text: str) -> str:
    """Table-safe text: no line breaks or pipes, and no HTML (GitHub renders HTML in Markdown)."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(escaped.replace("|", "\\|").replace("`", "'").split())


def append_step_summary(verdict: Verdict, title: str, path: str | os.PathLike) -> bool:
    """Append the verdict's summary to ``path`` ($GITHUB_STEP_SUMMARY) within what is left of
    the 1 MiB cap; return False when not even the headline fits (nothing is written)."""
    path = Path(path)
    used = path.stat().st_size if path.exists() else 0
    text = verdict_markdown(verdict, title, limit=STEP_SUMMARY_LIMIT - used - 1)
    if not text:
        return False
    with path.open("a", encoding="utf-8") as stream:
        stream.write(("\n" if used else "") + text)
    return True

"""``model-audit compare`` output: the regression table of a :class:`~audit.compare.Comparison`
as text, Markdown or a self-contained HTML page. Numbers are formatted once (:func:`rows`), and
each format only lays them out; the policies' verdict follows the table."""

from __future__ import annotations

from dataclasses import dataclass

from ..compare import Comparison, Delta
from .markdown import cell, verdict_markdown
from .verdict_rows import gate_sentence, ordered_outcomes, tally
from .view.format import NONE, fmt_int, fmt_number

__all__ = ["FORMATS", "Row", "rows", "render"]

FORMATS = ("text", "markdown", "html")
COLUMNS = ("target", "figure", "base", "new", "change", "relative")
MODEL_COLUMNS = COLUMNS[1:]  # the model level has one target
_NAME_COLUMNS = ("target", "figure")


@dataclass(frozen=True)
class Row:
    target: str
    figure: str
    base: str
    new: str
    change: str
    relative: str


def rows(deltas: tuple[Delta, ...]) -> list[Row]:
    """Formatted rows of ``deltas``, leaving out figures neither audit has."""
    return [Row(delta.target, delta.figure, _number(delta.base), _number(delta.new),
                _signed(delta.change, _number), _signed(delta.relative, _percent))
            for delta in deltas if delta.base is not None or delta.new is not None]


def render(comparison: Comparison, fmt: str) -> str:
    """The comparison in ``fmt`` (text, markdown, html)."""
    return {"text": _text, "markdown": _markdown, "html": _html}[fmt](comparison)


def _signed(value: float | None, fmt) -> str:
    if value is None:
        return NONE
    return fmt(value) if value < 0 else f"+{fmt(value)}"


def _number(value: float | None) -> str:
    """Whole numbers (widths, counts, parameters) in full; others to three significant digits."""
    if value is not None and float(value).is_integer():
        return fmt_int(value)
    return fmt_number(value)


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _title(comparison: Comparison) -> str:
    return f"{comparison.base_path} ({comparison.base_title}) -> {comparison.new_path} ({comparison.new_title})"


def _text(comparison: Comparison) -> str:
    lines = [f"model-audit compare: {_title(comparison)}", "", "Model"]
    lines += _text_table(rows(comparison.model), MODEL_COLUMNS)
    lines += ["", "Layers"] + _text_table(rows(comparison.layers), COLUMNS)
    for title, deltas in comparison.stage_tables:
        lines += ["", title] + _text_table(rows(deltas), COLUMNS)
    verdict = comparison.verdict
    if verdict is not None:
        lines += ["", f"Verdict: {verdict.status}. {gate_sentence(verdict)} {tally(verdict)}."]
        lines += [f"  {o.status:<5} {o.rule} ({o.policy}): {o.subject} {o.condition}: {o.detail}"
                  for o in ordered_outcomes(verdict)]
    return "\n".join(lines) + "\n"


def _text_table(table: list[Row], columns: tuple[str, ...]) -> list[str]:
    """Aligned columns: names to the left, numbers to the right."""
    grid = [list(columns)] + [[getattr(row, column) for column in columns] for row in table]
    widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]
    return ["  " + "  ".join(text.ljust(width) if column in _NAME_COLUMNS else text.rjust(width)
                             for column, text, width in zip(columns, line, widths)).rstrip()
            for line in grid]


def _markdown(comparison: Comparison) -> str:
    lines = ["# model-audit compare", "", f"`{cell(comparison.base_path)}` ({cell(comparison.base_title)}) \u2192 "
             f"`{cell(comparison.new_path)}` ({cell(comparison.new_title)})", "", "## Model", ""]
    lines += _markdown_table(rows(comparison.model), MODEL_COLUMNS)
    lines += ["", "## Layers", ""] + _markdown_table(rows(comparison.layers), COLUMNS)
    for title, deltas in comparison.stage_tables:
        lines += ["", f"## {title}", ""] + _markdown_table(rows(deltas), COLUMNS)
    text = "\n".join(lines) + "\n"
    if comparison.verdict is not None:
        text += "\n" + verdict_markdown(comparison.verdict, comparison.new_title)
    return text


def _markdown_table(table: list[Row], columns: tuple[str, ...]) -> list[str]:
    head = ["| " + " | ".join(columns) + " |",
            "|" + "|".join("---" if column in _NAME_COLUMNS else "---:" for column in columns) + "|"]
    return head + ["| " + " | ".join(cell(getattr(row, column)) for column in columns) + " |" for row in table]


def _html(comparison: Comparison) -> str:
    from .html import environment  # the report's Jinja environment, with its plots: only for html

    verdict = comparison.verdict
    outcomes = ordered_outcomes(verdict) if verdict is not None else []
    return environment().get_template("compare.html.j2").render(
        title=_title(comparison), model_rows=rows(comparison.model), layer_rows=rows(comparison.layers),
        stage_tables=[(title, rows(deltas)) for title, deltas in comparison.stage_tables],
        verdict=verdict, verdict_line="" if verdict is None else f"{gate_sentence(verdict)} {tally(verdict)}.",
        outcomes=outcomes)

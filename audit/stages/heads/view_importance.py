"""The heads section's ablation part: what ablating each head costs (a layers-by-heads figure)
and the least important heads, the prune candidates, as a table.

Importance values are small numbers (a 1 - cosine of 0.0008); figure and table show them in one
scaled unit ("× 10⁻³") stated in the column heading and on the colour bar, and an accuracy drop
in percentage points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup

from ...render import plots
from ...render._numbers import finite
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView
from ...render.view.format import breakable, fmt_int, fmt_number, fmt_pct, plural
from ...render.view.model import KEEP_ROWS
from .result import HeadRef, HeadsResult
from .view_similarity import head_labels, prefix_note

__all__ = ["ImportanceView", "PruneRow", "importance_view"]

_NOT_ABLATED = "Not computed: no head was ablated (the spec's heads section sets ablation_samples to 0)."
# without prune candidates (prune_fraction names none) the table lists this many least important heads
_LEAST = 5
_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


@dataclass(frozen=True)
class PruneRow:
    rank: str
    layer: Markup
    head: str
    importance: str


@dataclass(frozen=True)
class ImportanceView:
    intro: Markup
    heading: str
    rows: tuple[PruneRow, ...]
    keep_table: bool
    table_note: str
    figure: FigureView | None
    missing: str


def importance_view(ctx: ReportContext, heads: HeadsResult) -> ImportanceView:
    if not heads.importance_measure or not heads.ranking:
        return ImportanceView(intro=Markup(), heading="", rows=(), keep_table=True, table_note="", figure=None,
                              missing=_NOT_ABLATED)
    factor, unit = _scale(heads)
    listed, note = _listed(heads)
    rows = tuple(PruneRow(rank=fmt_int(rank), layer=breakable(ref.layer), head=str(ref.head),
                          importance=fmt_number(ref.importance * factor))
                 for rank, ref in enumerate(listed, 1))
    return ImportanceView(intro=_intro(heads), heading=_label(unit), rows=rows,
                          keep_table=len(rows) <= KEEP_ROWS, table_note=note,
                          figure=_figure(ctx, heads, factor, unit), missing="")


def _scale(heads: HeadsResult) -> tuple[float, str]:
    """The factor importance values are shown multiplied by, and the unit that says so ("× 10⁻³";
    "" when shown as they are)."""
    if heads.importance_measure == "accuracy drop":
        return 100.0, "percentage points"
    largest = max((abs(ref.importance) for ref in heads.ranking if finite(ref.importance)), default=0.0)
    if not largest or largest >= 0.1:
        return 1.0, ""
    exponent = -3 * math.ceil(-math.floor(math.log10(largest)) / 3)
    return 10.0 ** -exponent, f"\u00d7 10{str(exponent).translate(_SUPERSCRIPT)}"


def _listed(heads: HeadsResult) -> tuple[tuple[HeadRef, ...], str]:
    """The heads the table lists: the prune candidates, else the few least important."""
    if heads.prune_candidates:
        return heads.prune_candidates, ""
    least = heads.ranking[:_LEAST]
    return least, (f"The prune fraction {fmt_pct(heads.prune_fraction)} names no head; the {len(least)} least "
                   "important are listed.")


def _intro(heads: HeadsResult) -> Markup:
    total = len(heads.ranking)
    listed = (Markup("The table lists the <strong>{k}</strong> least important ({share} of the heads, the spec's "
                     "prune fraction): the prune candidates, least important first.").format(
                         k=fmt_int(len(heads.prune_candidates)), share=fmt_pct(heads.prune_fraction))
              if heads.prune_candidates else Markup())
    return Markup(
        "Each of the {total} was ablated in turn (its output set to zero) and the model run again on {n} probe "
        "texts; a head's importance is the <em>{measure}</em> this causes, so a head near 0 changes the "
        "output little when removed on its own. Removing several heads at once can cost more than the sum of "
        "their importances. "
    ).format(total=plural(total, "head"), n=fmt_int(heads.ablation_samples), measure=heads.importance_measure) + listed


def _figure(ctx: ReportContext, heads: HeadsResult, factor: float, unit: str) -> FigureView | None:
    layers = [layer for layer in heads.layers if layer.importance]
    if not layers:
        return None
    prefix, labels = head_labels(layers)
    rows = {layer.name: index for index, layer in enumerate(layers)}
    values = [[value * factor if finite(value) else None for value in layer.importance] for layer in layers]
    grid = plots.HeadGrid(layer_labels=labels, values=values,
                          labels=[[_cell(value) for value in row] for row in values],
                          marked=[(rows[ref.layer], ref.head) for ref in heads.prune_candidates if ref.layer in rows])
    marked = (" The prune candidates are outlined in orange." if heads.prune_candidates else "")
    caption = (f"Importance of every head by ablation: the {heads.importance_measure} when the head is switched "
               f"off, on {fmt_int(heads.ablation_samples)} probe texts; rows are attention layers in forward "
               f"order, columns the heads numbered from 0. {_reading(heads, factor, unit)}" + marked
               + prefix_note(prefix))
    svg = plots.head_importance(grid, colour_label=_label(unit), key="importance")
    return ctx.figures.add("importance", svg, caption, "Ablation importance of every head, layers by heads")


def _label(unit: str) -> str:
    return f"Importance ({unit})" if unit else "Importance"


def _reading(heads: HeadsResult, factor: float, unit: str) -> str:
    """How to read the cells: their unit (with an example when scaled) and the colours."""
    colours = ("Red cells cost output quality when removed, blue ones improve it (negative importance)."
               if any(ref.importance < 0 for ref in heads.ranking) else "Darker cells are more important heads.")
    if factor == 1.0:
        return colours
    first = heads.ranking[0].importance
    words = f"units of {unit.removeprefix(chr(0xd7)).strip()}" if unit.startswith("\u00d7") else unit
    return f"Cells give the value in {words} ({_cell(first * factor)} is {fmt_number(first)}). " + colours


def _cell(value: float | None) -> str:
    """A cell's text: two significant digits, at most three characters before the point."""
    if value is None:
        return ""
    size = abs(value)
    if size >= 10:
        return f"{value:.0f}"
    if size >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"

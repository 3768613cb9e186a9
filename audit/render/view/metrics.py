"""Section 4: every metric on every layer (methods, value tables with footnotes, local ID, GRIDE)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...results import LayerResult
from .context import ReportContext
from .figure_book import FigureView
from .format import NONE, breakable, fmt_interval, formatter
from .gride import gride_figure
from .local_id import QuantileRow, local_id_rows
from .methods import MethodRow, method_rows
from .model import KEEP_ROWS

__all__ = ["Footnote", "MetricsView", "ValueCell", "ValueRow", "ValueTable", "build"]

# metric columns per value table
_VALUE_COLUMNS = 5
_INTRO = ("Every metric's value on every layer with its interval below it; the methods table says how each "
          "was computed and how its interval was obtained. Values are dimensions unless marked as a percentage.")


@dataclass(frozen=True)
class ValueCell:
    status: str  # "ok", "failed" or "missing"
    value: str
    interval: str
    n: str  # only where the points used differ between layers
    mark: str  # footnote number, "" when none


@dataclass(frozen=True)
class ValueRow:
    anchor: str
    name: Markup
    meta: str
    cells: tuple[ValueCell, ...]


@dataclass(frozen=True)
class ValueTable:
    title: str
    columns: tuple[str, ...]
    units: tuple[str, ...]
    rows: tuple[ValueRow, ...]
    keep: bool


@dataclass(frozen=True)
class Footnote:
    mark: str
    layer: str
    metric: str
    text: str


@dataclass(frozen=True)
class MetricsView:
    intro: str
    methods: tuple[MethodRow, ...]
    tables: tuple[ValueTable, ...]
    footnotes: tuple[Footnote, ...]
    local_id_columns: tuple[str, ...]
    local_id: tuple[QuantileRow, ...]
    local_id_keep: bool
    gride: FigureView | None


class _Footnotes(list):
    """The value tables' footnotes, numbered from 1 in the order they are added."""

    def add(self, layer: LayerResult, metric: str, text: str) -> str:
        self.append(Footnote(mark=str(len(self) + 1), layer=layer.name, metric=metric, text=text))
        return self[-1].mark


def build(ctx: ReportContext) -> MetricsView:
    footnotes = _Footnotes()
    tables = _value_tables(ctx, footnotes)
    columns, quantiles = local_id_rows(ctx)
    return MetricsView(intro=_intro(ctx), methods=method_rows(ctx), tables=tables, footnotes=tuple(footnotes),
                       local_id_columns=columns, local_id=quantiles, local_id_keep=len(quantiles) <= KEEP_ROWS,
                       gride=gride_figure(ctx))


def _intro(ctx: ReportContext) -> str:
    reductions = sorted({layer.reduction for layer in ctx.result.layers})
    if len(reductions) == 1 and reductions[0]:
        return _INTRO + f" Points per layer: {reductions[0]}."
    return _INTRO


def _value_tables(ctx: ReportContext, footnotes: _Footnotes) -> tuple[ValueTable, ...]:
    """ID metrics, then the others, ``_VALUE_COLUMNS`` metrics a table; the first table's rows
    are the anchors the overview links to."""
    groups = [("Intrinsic dimension", ctx.names_of_kind("id")),
              ("Spectral ranks and diagnostics", [name for name, info in ctx.infos.items() if info.kind != "id"])]
    chunks = [(title, names[start:start + _VALUE_COLUMNS]) for title, names in groups
              for start in range(0, len(names), _VALUE_COLUMNS)]
    return tuple(_value_table(ctx, title, names, footnotes, anchored=index == 0)
                 for index, (title, names) in enumerate(chunks))


def _value_table(ctx: ReportContext, title: str, names: list[str], footnotes: _Footnotes,
                 anchored: bool) -> ValueTable:
    varying_n = {name for name in names if len(ctx.n_used(name)) > 1}
    rows = tuple(ValueRow(anchor=ctx.anchors[layer.name] if anchored else "", name=breakable(layer.name),
                          meta=_layer_meta(layer),
                          cells=tuple(_value_cell(ctx, layer, name, name in varying_n, footnotes) for name in names))
                 for layer in ctx.result.layers)
    return ValueTable(title=title, columns=tuple(ctx.infos[name].title for name in names),
                      units=tuple(_unit_label(ctx, name) for name in names), rows=rows, keep=len(rows) <= KEEP_ROWS)


def _value_cell(ctx: ReportContext, layer: LayerResult, name: str, show_n: bool, footnotes: _Footnotes) -> ValueCell:
    metric, title = layer.metrics.get(name), ctx.infos[name].title
    if metric is None:
        return ValueCell(status="missing", value=NONE, interval="", n="",
                         mark=footnotes.add(layer, title, "no result for this layer"))
    if not metric.ok:
        return ValueCell(status="failed", value="not computed", interval="", n="",
                         mark=footnotes.add(layer, title, metric.message or "no reason given"))
    fmt = formatter(metric.unit)
    return ValueCell(status="ok", value=fmt(metric.value), interval=fmt_interval(metric.ci_low, metric.ci_high, fmt),
                     n=f"n = {metric.n_used:,}" if show_n and metric.n_used is not None else "",
                     mark=footnotes.add(layer, title, metric.message) if metric.message else "")


def _layer_meta(layer: LayerResult) -> str:
    """"Linear · width 64 · 1,797 points" under the layer's name."""
    parts = [layer.module_type, f"width {layer.width:,}"]
    if layer.n_points < layer.n_points_seen:
        parts.append(f"{layer.n_points:,} of {layer.n_points_seen:,} points")
    else:
        parts.append(f"{layer.n_points:,} points")
    if layer.is_output:
        parts.append("output")
    if layer.task_fixed:
        parts.append(f"task-fixed ({layer.task_fixed})")
    return " \u00b7 ".join(part for part in parts if part)


def _unit_label(ctx: ReportContext, name: str) -> str:
    units = {metric.unit for metric in ctx.ok_metrics(name)}
    if units == {"fraction"}:
        return "%"
    if units in ({"dimensions"}, set()):
        return ""
    return ", ".join(sorted(unit for unit in units if unit))

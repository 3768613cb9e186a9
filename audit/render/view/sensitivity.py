"""Section 5: TwoNN on nested subsets of each layer's points, and whether it has settled."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...results import LayerResult, MetricResult
from .. import plots
from .._numbers import item_at
from .context import SETTLED_CHANGE, ReportContext, ok_metric
from .figure_book import FigureView, detail_curve
from .format import NONE, breakable, fmt_bounds, fmt_dim, fmt_pct
from .model import KEEP_ROWS

__all__ = ["SensitivityCell", "SensitivityRow", "SensitivityView", "build"]

_READING = Markup("Relative change = |ID(n) \u2212 ID(previous subset)| / ID(n) between the two largest subsets; "
                  "at most {threshold} reads as settled.").format(threshold=fmt_pct(SETTLED_CHANGE))


@dataclass(frozen=True)
class SensitivityCell:
    value: str
    interval: str
    n: str


@dataclass(frozen=True)
class SensitivityRow:
    name: Markup
    cells: tuple[SensitivityCell, ...]
    change: str
    settled: bool
    failed: str


@dataclass(frozen=True)
class SensitivityView:
    figure: FigureView | None
    columns: tuple[str, ...]
    rows: tuple[SensitivityRow, ...]
    keep_table: bool
    method: str
    reading: Markup | str
    missing: str


def build(ctx: ReportContext) -> SensitivityView:
    if "sample_size" not in ctx.infos:
        return SensitivityView(figure=None, columns=(), rows=(), keep_table=True, method="", reading="",
                               missing="Not computed: the spec did not select the sample_size metric.")
    measured = [(layer, metric) for layer in ctx.result.layers
                if (metric := ok_metric(layer, "sample_size")) and metric.details.get("sizes")]
    sizes = [metric.details["sizes"] for _, metric in measured]
    shared = len({tuple(each) for each in sizes}) == 1
    width = max((len(each) for each in sizes), default=0)
    rows = tuple(_row(layer, width, shared) for layer in ctx.result.layers)
    return SensitivityView(
        figure=_figure(ctx, measured), columns=_columns(sizes, shared), rows=rows, keep_table=len(rows) <= KEEP_ROWS,
        method=measured[0][1].method if measured else "", reading=_READING,
        missing="" if measured else "Not computed on any layer.",
    )


def _columns(sizes: list[list[int]], shared: bool) -> tuple[str, ...]:
    """One heading per subset size of the layer with the most subsets ("n/4 = 449")."""
    if not sizes:
        return ()
    reference = max(sizes, key=len)
    return tuple(_fraction_label(size, reference[-1]) + (f" = {size:,}" if shared else "") for size in reference)


def _fraction_label(size: int, total: int) -> str:
    if size == total:
        return "n"
    ratio = total / size if size else 0
    if ratio and abs(ratio - round(ratio)) < 0.02 * ratio:
        return f"n/{round(ratio)}"
    return fmt_pct(size / total) + " of n"


def _row(layer: LayerResult, width: int, shared: bool) -> SensitivityRow:
    metric = layer.metrics.get("sample_size")
    if metric is None or not metric.ok or not metric.details.get("sizes"):
        reason = "no result" if metric is None else (metric.message or "no subsets")
        return SensitivityRow(name=breakable(layer.name), cells=(), change="", settled=False,
                              failed=f"not computed: {reason}")
    cells = tuple(_cell(metric, index, shared) for index in range(width))
    return SensitivityRow(name=breakable(layer.name), cells=cells, change=fmt_pct(metric.value),
                          settled=metric.value <= SETTLED_CHANGE, failed="")


def _cell(metric: MetricResult, index: int, shared: bool) -> SensitivityCell:
    """The estimate on subset ``index``, with its interval and (sizes differing by layer) its size."""
    details = metric.details
    sizes, values = details["sizes"], details.get("values") or []
    if index >= len(sizes) or index >= len(values):
        return SensitivityCell(value=NONE, interval="", n="")
    low, high = item_at(details.get("ci_lows") or [], index), item_at(details.get("ci_highs") or [], index)
    return SensitivityCell(value=fmt_dim(values[index]), interval=fmt_bounds(low, high),
                           n="" if shared else f"n = {sizes[index]:,}")


def _figure(ctx: ReportContext, measured: list[tuple[LayerResult, MetricResult]]) -> FigureView | None:
    if not measured:
        return None
    curves = [detail_curve(ctx.figures.label(layer.name), metric.details, "sizes", "values")
              for layer, metric in measured]
    caption = ("TwoNN ID on nested random subsets of each layer's points (each subset contains the smaller ones), "
               "with bootstrap intervals; the last point uses every point. A curve that has flattened by the right "
               "edge means more probe data would not change the estimate much; one still rising suggests the "
               "estimate at this sample size is low." + ctx.figures.prefix_note())
    return ctx.figures.add("samples", plots.sample_size_curves(curves, "TwoNN intrinsic dimension"), caption,
                           "TwoNN intrinsic dimension against sample size")

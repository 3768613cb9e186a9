"""The cost section's Pareto figure: every measured variant of every target, quality kept
against its ONNX latency and against its bytes (shares of the original's), with the front of each
quality measure (:mod:`.pareto`)."""

from __future__ import annotations

from ...render import plots
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView
from . import result as results
from .pareto import VariantPoint, by_measure, front, variant_points

__all__ = ["pareto_figure"]

_AXES = (("latency", "ONNX p50 latency / original's"), ("size", "bytes / original's"))


def pareto_figure(ctx: ReportContext, cost: results.CostResult) -> FigureView | None:
    """The figure, None when fewer than two variants were measured on any cost."""
    placed = [point for point in variant_points(cost) if not point.original]
    panels = [_panel(placed, axis, label) for axis, label in _AXES
              if sum(getattr(point, axis) is not None for point in placed) >= 2]
    if not panels:
        return None
    svg = plots.pareto_fronts(panels, cost.quality_floor)
    measures = sorted({point.measure for point in placed})
    caption = ("Quality kept against cost for every measured variant: left, the ONNX p50 latency as a share of the "
               "original's timed in the same turns; right, the bytes (ONNX file bytes for a quantized variant, else "
               "float32 model bytes) as a share of the original's. Quality is measured on the held-out samples, with "
               "its 95% bootstrap interval as an error bar; the star is the original. The grey step line joins the "
               "Pareto front (ringed): the variants no other variant beats on both axes, compared only with variants scored "
               f"by the same measure ({', '.join(measures)}). The dashed line is the quality floor.")
    return ctx.figures.add("cost-pareto", svg, caption,
                           "Scatter charts of quality retained against relative latency and relative bytes, with "
                           "Pareto fronts")


def _panel(placed: list[VariantPoint], axis: str, label: str) -> plots.ParetoPanel:
    series = [plots.Curve(label=name, x=[getattr(p, axis) for p in group], y=[p.quality for p in group],
                          lows=[p.low for p in group], highs=[p.high for p in group])
              for name, group in _series(placed).items()]
    fronts = []
    for measure, group in by_measure(placed).items():
        found = front(group, axis)
        if found:
            fronts.append(plots.Curve(label=measure, x=[getattr(p, axis) for p in found],
                                      y=[p.quality for p in found]))
    return plots.ParetoPanel(xlabel=label, series=series, fronts=fronts)


def _series(placed: list[VariantPoint]) -> dict[str, list[VariantPoint]]:
    """One series per resized target (its widths or ranks), one per labelled variant of the whole
    model (each quantization, each set of layers dropped)."""
    groups: dict[str, list[VariantPoint]] = {}
    for point in placed:
        groups.setdefault(point.label if point.kind in results.WHOLE_MODEL_KINDS else point.target, []).append(point)
    return groups

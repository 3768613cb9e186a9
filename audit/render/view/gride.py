"""Section 4's GRIDE figure: each layer's ID against the neighbour scale."""

from __future__ import annotations

from .. import plots
from .context import ReportContext, ok_metric
from .figure_book import FigureView, detail_curve
from .format import fmt_common_level

__all__ = ["gride_figure"]


def gride_figure(ctx: ReportContext) -> FigureView | None:
    layers = [(layer, metric) for layer in ctx.result.layers
              if (metric := ok_metric(layer, "gride")) and metric.details.get("scales")]
    if not layers:
        return None
    curves = [detail_curve(ctx.figures.label(layer.name), metric.details, "scales", "dims") for layer, metric in layers]
    level = fmt_common_level(layer.metrics.get("gride") for layer in ctx.result.layers)
    caption = (f"GRIDE's ID at growing neighbour scales: n1 = 1, 2, 4, \u2026 with n2 = 2 n1, one line per layer "
               f"(dark: first, light: last) with its {level or 'reported'} Wald interval (band). A flat curve means "
               "the dimension does not depend on the scale; a curve that falls with the scale is typical when "
               "noise adds dimensions at the smallest distances. The headline GRIDE value is the first scale."
               + ctx.figures.prefix_note())
    return ctx.figures.add("gride", plots.gride_curves(curves), caption, "GRIDE intrinsic dimension against scale")

"""The summary's "layers at a glance" table: each layer's primary ID, share of its width,
redundancy rate and PCA component count."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...results import LayerResult
from .context import ReportContext, ok_metric, pca_reach, redundancy_bounds
from .format import NONE, breakable, fmt_bounds, fmt_dim, fmt_int, fmt_pct, fmt_value

__all__ = ["OverviewRow", "overview_rows", "id_header", "linear_header"]


@dataclass(frozen=True)
class OverviewRow:
    anchor: str
    name: Markup
    module_type: Markup  # breakable()
    width: str
    id_value: str
    id_interval: str
    share: str
    redundancy: str
    redundancy_interval: str
    linear: str
    candidate: bool
    is_output: bool
    task_fixed: str


def overview_rows(ctx: ReportContext) -> tuple[OverviewRow, ...]:
    candidates = {id(layer) for layer in ctx.candidates()}
    return tuple(_row(ctx, layer, id(layer) in candidates) for layer in ctx.result.layers)


def _row(ctx: ReportContext, layer: LayerResult, candidate: bool) -> OverviewRow:
    metric = ctx.primary_metric(layer)
    if metric is None:
        id_value, interval, share, rate, rate_interval = "not computed", "", NONE, NONE, ""
    else:
        id_value = fmt_dim(metric.value)
        interval = fmt_bounds(metric.ci_low, metric.ci_high)
        share = fmt_pct(metric.value / layer.width)
        rate = "task-fixed" if layer.task_fixed else fmt_pct(ctx.redundancy(layer))
        rate_interval = "" if layer.task_fixed else fmt_bounds(*redundancy_bounds(metric, layer.width), fmt_pct)
    return OverviewRow(
        anchor=ctx.anchors[layer.name], name=breakable(layer.name), module_type=breakable(layer.module_type),
        width=fmt_int(layer.width), id_value=id_value, id_interval=interval, share=share, redundancy=rate,
        redundancy_interval=rate_interval, linear=_linear(layer), candidate=candidate, is_output=layer.is_output,
        task_fixed=layer.task_fixed,
    )


def _linear(layer: LayerResult) -> str:
    """The components PCA needs for its smallest variance level, else PCA's value."""
    reach = pca_reach(layer)
    if reach:
        return fmt_int(reach[0][1])
    pca = ok_metric(layer, "pca")
    return NONE if pca is None else fmt_value(pca)


def id_header(ctx: ReportContext, level: str) -> str:
    """The ID column's heading: the primary metric and its interval level."""
    return f"{ctx.primary_title} [{level or 'CI'}]" if ctx.result.primary_id else "ID"


def linear_header(ctx: ReportContext) -> str:
    """The PCA column's heading, "" when PCA was not selected."""
    if "pca" not in ctx.infos:
        return ""
    levels = ctx.reach_levels()
    return f"PCs for {fmt_pct(levels[0])} var." if levels else "PCA-ID"

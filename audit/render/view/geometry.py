"""Section: linear-probe accuracy beside each layer's ID (and accuracy per ID), neural collapse
NC1 with its definition, and dead units, layer by layer."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...results import LayerResult, MetricResult
from .. import plots
from .context import ReportContext, ok_metric
from .figure_book import FigureView
from .format import NONE, breakable, fmt_dim, fmt_int, fmt_interval, fmt_number, fmt_pct
from .model import KEEP_ROWS

__all__ = ["GeometryRow", "GeometryView", "build"]

GEOMETRY_METRICS = ("linear_probe", "nc1", "dead_units")
_NC1_DEFINITION = ("NC1 = tr(\u03a3_W \u03a3_B\u207a) / C (Papyan, Han and Donoho 2020), with \u03a3_W the within-class "
                   "covariance, \u03a3_B the covariance of the class means and \u207a the pseudo-inverse")


@dataclass(frozen=True)
class GeometryRow:
    name: Markup
    id: str
    probe: str
    probe_interval: str
    per_id: str
    nc1: str
    nc1_interval: str
    dead: str
    dead_detail: str


@dataclass(frozen=True)
class GeometryView:
    figure: FigureView | None
    rows: tuple[GeometryRow, ...]
    keep_table: bool
    notes: tuple[str, ...]
    nc1_definition: str
    methods: tuple[str, ...]
    missing: Markup | str


def build(ctx: ReportContext) -> GeometryView:
    chosen = [name for name in GEOMETRY_METRICS if name in ctx.infos]
    if not chosen:
        return GeometryView(figure=None, rows=(), keep_table=True, notes=(), nc1_definition="", methods=(),
                            missing=Markup("Not computed: the spec selected none of the metrics <code>linear_probe</code>, "
                                           "<code>nc1</code>, <code>dead_units</code>."))
    rows = tuple(_row(ctx, layer) for layer in ctx.result.layers)
    return GeometryView(figure=_figure(ctx), rows=rows, keep_table=len(rows) <= KEEP_ROWS, notes=_notes(ctx, chosen),
                        nc1_definition=_nc1_definition(ctx), methods=_methods(ctx, chosen), missing="")


def _row(ctx: ReportContext, layer: LayerResult) -> GeometryRow:
    probe, nc1, dead = (ok_metric(layer, name) for name in GEOMETRY_METRICS)
    return GeometryRow(
        name=breakable(layer.name), id=fmt_dim(layer.id_value),
        probe=_value(layer, "linear_probe", fmt_pct(probe.value, 1) if probe else ""),
        probe_interval=fmt_interval(probe.ci_low, probe.ci_high, _pct_1) if probe else "",
        per_id=fmt_number(layer.probe_accuracy_per_id),
        nc1=_value(layer, "nc1", fmt_number(nc1.value) if nc1 else ""),
        nc1_interval=fmt_interval(nc1.ci_low, nc1.ci_high, fmt_number) if nc1 else "",
        dead=_value(layer, "dead_units", f"{fmt_int(dead.value)} of {fmt_int(layer.width)}" if dead else ""),
        dead_detail=(f"{fmt_int(dead.details.get('never_active'))} never active, "
                     f"{fmt_int(dead.details.get('constant'))} constant") if dead else "",
    )


def _pct_1(value: float | None) -> str:
    return fmt_pct(value, 1)


def _value(layer: LayerResult, name: str, text: str) -> str:
    """``text`` for a computed metric; "not computed" for a failed one; a dash when not selected."""
    metric = layer.metrics.get(name)
    if metric is None:
        return NONE
    return text if metric.ok else "not computed"


def _notes(ctx: ReportContext, chosen: list[str]) -> tuple[str, ...]:
    """One line per metric that failed, with the reasons (e.g. "the probe has no labels")."""
    notes = []
    for name in chosen:
        reasons = sorted({layer.metrics[name].message for layer in ctx.result.layers
                          if name in layer.metrics and not layer.metrics[name].ok})
        if reasons:
            notes.append(f"{ctx.infos[name].title}: {'; '.join(reasons)}.")
    return tuple(notes)


def _nc1_definition(ctx: ReportContext) -> str:
    found = ctx.ok_metrics("nc1")
    definition = found[0].details.get("definition") if found else None
    return f"{definition or _NC1_DEFINITION}. 0 means every point sits on its class mean (collapse); larger values " \
           f"mean more spread within classes relative to the separation of their means."


def _methods(ctx: ReportContext, chosen: list[str]) -> tuple[str, ...]:
    found = []
    for name in chosen:
        metrics = ctx.ok_metrics(name)
        if metrics:
            interval = f"; {metrics[0].ci_method}" if metrics[0].ci_method else ""
            found.append(f"{ctx.infos[name].title}: {metrics[0].method}{interval}.")
    return tuple(found)


def _figure(ctx: ReportContext) -> FigureView | None:
    layers = ctx.result.layers
    probes = [ok_metric(layer, "linear_probe") for layer in layers]
    if not any(probes):
        return None
    accuracy = _series("linear-probe accuracy", probes)
    ids = _series(f"ID ({ctx.primary_title})", [ctx.primary_metric(layer) for layer in layers])
    caption = ("Linear-probe accuracy (above, with Wilson intervals) beside each layer's intrinsic dimension "
               f"({ctx.primary_title}, below), layers in forward order." + ctx.figures.prefix_note())
    return ctx.figures.add("probes", plots.probe_beside_id([ctx.figures.label(layer.name) for layer in layers],
                                                           accuracy, ids),
                           caption, "Linear-probe accuracy and intrinsic dimension per layer")


def _series(label: str, metrics: list[MetricResult | None]) -> plots.Series:
    return plots.Series(label=label, values=[m.value if m else None for m in metrics],
                        lows=[m.ci_low if m else None for m in metrics], highs=[m.ci_high if m else None for m in metrics],
                        emphasis=True)

"""Section 2: every ID estimate and every spectral rank across the layers, as two figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .. import plots
from .._numbers import finite
from .context import ReportContext, ok_metric
from .figure_book import FigureView
from .format import fmt_common_level

__all__ = ["ProfileView", "build"]


@dataclass(frozen=True)
class ProfileView:
    figures: tuple[FigureView, ...]
    reading: tuple[Markup, ...]
    missing: str


def build(ctx: ReportContext) -> ProfileView:
    ids, ranks = ctx.names_of_kind("id"), ctx.names_of_kind("rank")
    id_series, rank_series = _measured_series(ctx, ids), _measured_series(ctx, ranks)
    if not id_series and not rank_series:
        return ProfileView(figures=(), reading=(), missing="Not computed: no ID or rank metric produced a value.")
    figures = []
    if id_series:
        figures.append(_id_figure(ctx, id_series, _level(ctx, ids)))
    if rank_series:
        figures.append(_rank_figure(ctx, rank_series, _level(ctx, ranks), colour_offset=len(id_series)))
    return ProfileView(figures=tuple(figures), reading=(_reading(ctx),), missing="")


def _measured_series(ctx: ReportContext, names: Sequence[str]) -> list[plots.Series]:
    """The series of ``names`` that have a value on at least one layer."""
    every = (_series(ctx, name) for name in names)
    return [item for item in every if any(value is not None for value in item.values)]


def _series(ctx: ReportContext, name: str) -> plots.Series:
    metrics = [ok_metric(layer, name) for layer in ctx.result.layers]
    metrics = [metric if metric is not None and finite(metric.value) else None for metric in metrics]

    def values(attribute: str) -> list[float | None]:
        found = [getattr(metric, attribute) if metric else None for metric in metrics]
        return [value if finite(value) else None for value in found]

    return plots.Series(label=ctx.infos[name].title, values=values("value"), lows=values("ci_low"),
                        highs=values("ci_high"), emphasis=name == ctx.result.primary_id)


def _level(ctx: ReportContext, names: Sequence[str]) -> str:
    return fmt_common_level(layer.metrics.get(name) for layer in ctx.result.layers for name in names)


def _layer_axis(ctx: ReportContext) -> tuple[list[str], list[int]]:
    layers = ctx.result.layers
    return [ctx.figures.label(layer.name) for layer in layers], [layer.width for layer in layers]


def _id_figure(ctx: ReportContext, series: list[plots.Series], level: str) -> FigureView:
    in_ticks = len(ctx.result.layers) <= plots.WIDTHS_IN_TICKS
    widths = ("Each layer is labelled with its width." if in_ticks
              else f"The layer widths are in the table of Section {ctx.section_number('summary')}.")
    caption = ("Every intrinsic-dimension estimate that ran, per layer in forward order (points), with its "
               f"{level or 'reported'} interval (bars); the primary estimate, {ctx.primary_title}, is drawn "
               "heavier. " + widths + ctx.figures.prefix_note())
    svg = plots.layer_profile(*_layer_axis(ctx), series, ylabel="intrinsic dimension", key="profile")
    return ctx.figures.add("profile", svg, caption, "Intrinsic dimension estimates per layer")


def _rank_figure(ctx: ReportContext, series: list[plots.Series], level: str, colour_offset: int) -> FigureView:
    caption = ("Spectral ranks of each layer's centred activations with their "
               f"{level or 'reported'} intervals, on a log scale against the layer width (dashed): how many "
               "linear directions carry the variance, by three definitions." + ctx.figures.prefix_note())
    svg = plots.layer_profile(*_layer_axis(ctx), series, ylabel="dimensions (log scale)", against_width=True,
                              colour_offset=colour_offset, key="ranks")
    return ctx.figures.add("ranks", svg, caption, "Spectral ranks per layer against the width")


def _reading(ctx: ReportContext) -> Markup:
    return Markup(
        "The nonlinear estimators (TwoNN, MLE, GRIDE, local ID) measure the dimension of the curved set "
        "the activations lie on; PCA-ID counts the linear directions needed for a fixed share of the "
        "variance and is usually larger. The gap between them is the room a nonlinear compression has "
        "over a linear one. Estimators that disagree by more than their intervals respond differently "
        "to noise, curvature or sample size; Sections {metrics} and {sens} give the details.").format(
            metrics=ctx.section_number("metrics"), sens=ctx.section_number("sensitivity"))

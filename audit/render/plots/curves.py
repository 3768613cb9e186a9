"""Figures of one line per layer against a scale: GRIDE's ID against the neighbour scale, and
TwoNN against the sample size."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from .._numbers import finite
from ._axes import bounded, error_bars, legend, points
from ._data import Curve
from ._style import PAGE_WIDTH_IN, STYLE, sequential, tick
from ._svg import to_svg

__all__ = ["gride_curves", "sample_size_curves", "draw_curves"]


def gride_curves(curves: Sequence[Curve]) -> str:
    """GRIDE's ID against the neighbour scale n1 (log2 axis), one line per layer with its
    interval band; colours run from the first layer (dark) to the last (light)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 2.8), layout="constrained")
        ax = fig.add_subplot()
        draw_curves(ax, curves, band=True)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("neighbour scale n1 (n2 = 2 n1), log scale")
        ax.set_ylabel("GRIDE intrinsic dimension")
        ax.set_ylim(bottom=0)
        legend(ax, len(curves))
        return to_svg(fig, "gride")


def sample_size_curves(curves: Sequence[Curve], ylabel: str) -> str:
    """An estimate against the number of points in nested subsets (log2 axis), one line per
    layer with interval bars."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 2.8), layout="constrained")
        ax = fig.add_subplot()
        draw_curves(ax, curves, band=False, dodge=0.025)
        ax.set_xscale("log", base=2)
        xs = sorted({x for curve in curves for x in curve.x})
        if 0 < len(xs) <= 8:
            ax.set_xticks(xs, [f"{int(x):,}" for x in xs])
            ax.minorticks_off()
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("points in the subset (log scale)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        legend(ax, len(curves))
        return to_svg(fig, "samples")


def draw_curves(ax, curves: Sequence[Curve], *, band: bool, markers: bool = True, dodge: float = 0.0) -> None:
    """One line per curve in layer-order colours; interval bands (``band``) or bars, the bars of
    neighbouring curves shifted apart by the log-x factor ``dodge`` so they do not overlap."""
    count = len(curves)
    for index, (colour, curve) in enumerate(zip(sequential(count), curves)):
        shift = (1.0 + dodge) ** (index - (count - 1) / 2) if dodge and count <= 12 else 1.0
        found = points(curve.x, curve.y, curve.lows, curve.highs, keep=lambda x, y: finite(y) and finite(x) and x > 0)
        found = [(x * shift, y, low, high) for x, y, low, high in found]
        if found:
            _draw_curve(ax, curve, found, colour, band=band, markers=markers)


def _draw_curve(ax, curve: Curve, found: list[tuple], colour, *, band: bool, markers: bool) -> None:
    ax.plot([p[0] for p in found], [p[1] for p in found], color=colour, marker="o" if markers else None,
            markersize=3, linewidth=1.1, label=tick(curve.label))
    with_interval = bounded(found)
    if band and len(with_interval) > 1:
        ax.fill_between([p[0] for p in with_interval], [p[2] for p in with_interval], [p[3] for p in with_interval],
                        color=colour, alpha=0.15, linewidth=0)
    elif with_interval:
        error_bars(ax, with_interval, ecolor=colour, elinewidth=0.8, capsize=2)

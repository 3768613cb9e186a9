"""Quality kept against size: one line per resized target (the output embedding, each factorized
layer) with each quality's bootstrap interval as an error bar, the quality floor as a dashed line
and each target's recommended width ringed."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ._axes import bounded, error_bars, points
from ._data import Curve
from ._style import MARKERS, PAGE_WIDTH_IN, QUALITATIVE, STYLE, tick
from ._svg import to_svg

__all__ = ["quality_vs_size"]


def quality_vs_size(curves: Sequence[Curve], floor: float, chosen: Sequence[float | None]) -> str:
    """``curves``: x = width as a share of the original (0..1], y = quality retained (0..1);
    ``chosen[i]``: the x of curve i's recommended width, None when there is none; a curve's
    ``lows``/``highs`` are drawn as error bars."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 2.9), layout="constrained")
        ax = fig.add_subplot()
        for index, (curve, pick) in enumerate(zip(curves, chosen)):
            colour, marker = QUALITATIVE[index % len(QUALITATIVE)], MARKERS[index % len(MARKERS)]
            ax.plot(curve.x, curve.y, color=colour, marker=marker, markersize=3.5, linewidth=1.1, label=tick(curve.label))
            error_bars(ax, bounded(points(curve.x, curve.y, curve.lows, curve.highs)), color=colour, linewidth=0.8,
                       capsize=2)
            if pick is not None:
                y = curve.y[list(curve.x).index(pick)]
                ax.plot([pick], [y], linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                        markeredgecolor=colour, markeredgewidth=1.2)
        ax.axhline(floor, color="#6b7280", linestyle="--", linewidth=0.8)
        ax.annotate(f"floor {floor:.0%}", (0.0, floor), xycoords=("axes fraction", "data"), xytext=(3, 3),
                    textcoords="offset points", fontsize=7, color="#4b5563")
        ax.set_xlim(0, 1.03)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("width, rank or blocks kept, as a share of the original")
        ax.set_ylabel("quality retained")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, handlelength=1.6,
                  title="target", title_fontsize=7.5, alignment="left")
        return to_svg(fig, "cost")

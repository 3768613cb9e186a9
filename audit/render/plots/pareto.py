"""Quality kept against latency and against bytes: every measured variant of the cost stage as a
point with its quality's bootstrap interval, the original as a star at (100%, 100%), the quality
floor dashed, and the Pareto front of each quality measure as a grey step line ringing its
variants."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ._axes import bounded, error_bars, points
from ._data import ParetoPanel
from ._style import MARKERS, PAGE_WIDTH_IN, QUALITATIVE, STYLE, tick
from ._svg import to_svg

__all__ = ["pareto_fronts"]

_FRONT_STYLES = ("-", ":", "-.")


def pareto_fronts(panels: Sequence[ParetoPanel], floor: float) -> str:
    """One panel per cost side by side, sharing the quality axis; each series keeps its colour and
    marker in every panel, and the legend below the panels names them."""
    with matplotlib.rc_context(STYLE):
        rows = -(-(len(panels[0].series) + len(panels[0].fronts) + 1) // 3)  # legend rows: series, fronts, original
        fig = Figure(figsize=(PAGE_WIDTH_IN, 3.0 + 0.16 * rows))  # fixed margins: a constrained layout costs draws
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        for ax, panel in zip(axes, panels):
            _panel(ax, panel, floor)
        axes[0].set_ylabel("quality retained")
        handles = {}
        for ax in axes:  # a series or front missing from one panel is still named
            for handle, label in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(label, handle)
        legend_in = 0.16 * rows + 0.15
        fig.subplots_adjust(left=0.1, right=0.98, top=0.97, wspace=0.06,
                            bottom=(legend_in + 0.45) / fig.get_figheight())
        fig.legend(list(handles.values()), list(handles), loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=3,
                   handlelength=1.4, fontsize=6.5, frameon=False)
        return to_svg(fig, "pareto")


def _legend_label(label: str) -> str:
    """A variant's name for the legend: a quantized resized variant on two lines."""
    kind, plus, resized = label.partition(" + ")
    return f"{kind} +\n{tick(resized, 48)}" if plus else tick(label, 48)


def _panel(ax, panel: ParetoPanel, floor: float) -> None:
    for index, front in enumerate(panel.fronts):
        ax.plot(front.x, front.y, color="#6b7280", linewidth=0.9, drawstyle="steps-post", marker="o", markersize=8,
                markerfacecolor="none", markeredgewidth=0.9, linestyle=_FRONT_STYLES[index % len(_FRONT_STYLES)],
                label=f"Pareto front ({front.label})", zorder=1)
    for index, series in enumerate(panel.series):
        colour, marker = QUALITATIVE[index % len(QUALITATIVE)], MARKERS[index % len(MARKERS)]
        found = points(series.x, series.y, series.lows, series.highs,
                       keep=lambda x, y: x is not None and y is not None)
        if not found:
            continue
        ax.plot([p[0] for p in found], [p[1] for p in found], linestyle="none", marker=marker, markersize=4,
                color=colour, label=_legend_label(series.label), zorder=3)
        error_bars(ax, bounded(found), color=colour, linewidth=0.8, capsize=2, zorder=2)
    ax.plot([1.0], [1.0], linestyle="none", marker="*", markersize=9, color="#111827", label="original", zorder=4)
    ax.axhline(floor, color="#9ca3af", linestyle="--", linewidth=0.8)
    ax.annotate(f"floor {floor:.0%}", (0.0, floor), xycoords=("axes fraction", "data"), xytext=(3, 3),
                textcoords="offset points", fontsize=7, color="#4b5563")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(panel.xlabel)

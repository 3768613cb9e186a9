"""Figures of the factorization sweep (score against rank, one panel per group) and of the
linear probes (probe accuracy above each layer's ID)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from ._axes import bounded, error_bars, points
from ._data import Series, SweepPanel
from ._style import PAGE_WIDTH_IN, QUALITATIVE, STYLE, WIDTH_COLOUR, tick
from ._svg import to_svg
from .id_profiles import series_panel

__all__ = ["sweep_curves", "probe_beside_id"]

_COLUMNS = 3


def sweep_curves(panels: Sequence[SweepPanel], ylabel: str) -> str:
    """Score against rank (log2 axis) per group: measured points with their interval bars, the
    monotone PCHIP fit, the teacher's score (dotted), the knee (vertical line) and the
    retained-level range (band)."""
    columns = min(_COLUMNS, max(len(panels), 1))
    rows = math.ceil(len(panels) / columns)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 0.4 + 2.2 * rows), layout="constrained")
        axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
        for ax, panel in zip(axes.flat, panels):
            _sweep_panel(ax, panel)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(ylabel)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), handlelength=1.4)
        return to_svg(fig, "sweep")


def _sweep_panel(ax, panel: SweepPanel) -> None:
    if panel.range_low is not None and panel.range_high is not None:
        ax.axvspan(panel.range_low * 0.97, panel.range_high * 1.03, color=QUALITATIVE[2], alpha=0.15, linewidth=0,
                   label=panel.range_label)
    ax.axhline(panel.teacher, color=WIDTH_COLOUR, linestyle=":", linewidth=0.9, label="teacher")
    ax.plot(panel.fit_ranks, panel.fit_scores, color=QUALITATIVE[0], linewidth=1.1, label="PCHIP fit")
    ax.scatter(panel.ranks, panel.scores, color=QUALITATIVE[0], s=10, zorder=3, label="measured")
    error_bars(ax, bounded(points(panel.ranks, panel.scores, panel.lows, panel.highs)), color=QUALITATIVE[0],
               linewidth=0.8, capsize=1.5, zorder=3)
    if panel.knee is not None:
        ax.axvline(panel.knee, color=QUALITATIVE[1], linewidth=0.9, linestyle="--", label="knee")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("rank (log scale)")
    ax.set_title(tick(panel.label), loc="left")


def probe_beside_id(layer_labels: Sequence[str], accuracy: Series, ids: Series) -> str:
    """Two panels over the layers in forward order: linear-probe accuracy above, ID below."""
    n = len(layer_labels)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 3.6), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True)
        series_panel(top, [accuracy], n)
        series_panel(bottom, [ids], n, offset_colours=1)
        top.set_ylabel("linear-probe accuracy")
        top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.3g}%"))
        bottom.set_ylabel(ids.label)
        bottom.set_ylim(bottom=0)
        bottom.set_xticks(range(n), [tick(label) for label in layer_labels], rotation=60 if n > 8 else 0,
                          ha="right" if n > 8 else "center", rotation_mode="anchor" if n > 8 else "default")
        for ax in (top, bottom):
            ax.set_xlim(-0.5, n - 0.5)
            ax.grid(axis="x", visible=False)
        return to_svg(fig, "probes")

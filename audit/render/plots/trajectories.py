"""Figures of a checkpoint series: one small panel per layer (primary ID and effective rank
against the training step, with their intervals and the early warnings), and the accuracy above."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from ._axes import bounded, error_bars, points
from ._data import Series, TrajectoryPanel
from ._style import PAGE_WIDTH_IN, QUALITATIVE, STYLE, tick
from ._svg import to_svg

__all__ = ["checkpoint_trajectories"]

_COLUMNS = 3


def checkpoint_trajectories(panels: Sequence[TrajectoryPanel], id_label: str, accuracy: Series | None) -> str:
    """Small multiples against the step (symmetric-log axis, so step 0 shows): per layer its
    ``id_label`` and effective rank with interval bars, a dashed line at each warned step; the
    accuracy (with its interval) in a first, wider panel when there is one."""
    columns = min(_COLUMNS, max(len(panels), 1))
    rows = math.ceil(len(panels) / columns) + (accuracy is not None)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 0.5 + 1.9 * rows), layout="constrained")
        grid = fig.add_gridspec(rows, columns)
        steps = panels[0].steps if panels else ()
        if accuracy is not None:
            _accuracy_panel(fig.add_subplot(grid[0, :]), steps, accuracy)
        first = int(accuracy is not None)
        for index, panel in enumerate(panels):
            _layer_panel(fig.add_subplot(grid[first + index // columns, index % columns]), panel, id_label)
        entries = _legend_entries(fig.axes[first:])
        if entries:
            fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=len(entries),
                       handlelength=1.4)
        return to_svg(fig, "trajectories")


def _legend_entries(axes) -> dict:
    """Label -> handle over every layer panel, first seen first (a warning line is in some panels only)."""
    entries: dict = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    return entries


def _step_axis(ax, steps: Sequence[int]) -> None:
    positive = [step for step in steps if step > 0]
    ax.set_xscale("symlog", linthresh=min(positive) if positive else 1, linscale=0.5)
    ax.set_xticks(list(steps))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelsize="small")


def _line(ax, steps, values, lows, highs, colour: str, label: str, marker: str = "o") -> None:
    found = points(steps, values, lows, highs)
    ax.plot([p[0] for p in found], [p[1] for p in found], color=colour, linewidth=1.0, marker=marker, markersize=3,
            label=label)
    error_bars(ax, bounded(found), color=colour, linewidth=0.8, capsize=1.5)


def _layer_panel(ax, panel: TrajectoryPanel, id_label: str) -> None:
    _line(ax, panel.steps, panel.ids, panel.id_lows, panel.id_highs, QUALITATIVE[0], id_label)
    _line(ax, panel.steps, panel.ranks, panel.rank_lows, panel.rank_highs, QUALITATIVE[2], "effective rank", "s")
    for number, step in enumerate(sorted(set(panel.warnings))):
        ax.axvline(step, color=QUALITATIVE[1], linestyle="--", linewidth=0.9, label="early warning" if not number else None)
    _step_axis(ax, panel.steps)
    ax.set_ylim(bottom=0)
    ax.set_title(tick(panel.label), loc="left")


def _accuracy_panel(ax, steps: Sequence[int], accuracy: Series) -> None:
    _line(ax, steps, accuracy.values, accuracy.lows, accuracy.highs, QUALITATIVE[6], "accuracy")
    _step_axis(ax, steps)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.3g}%"))
    ax.set_ylabel("accuracy")
    ax.set_title("probe accuracy", loc="left")

"""Pieces several figures draw: interval bars, a legend for many layers, plain log-axis ticks."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from .._numbers import finite, item_at

__all__ = ["bounded", "error_bars", "legend", "log_ticks", "points"]


def points(xs: Sequence[float], ys: Sequence[float | None], lows: Sequence, highs: Sequence,
           keep: Callable[[float, float], bool] = lambda x, y: finite(y)) -> list[tuple]:
    """(x, y, low, high) for each point ``keep`` accepts; a missing interval end is None."""
    return [(x, y, item_at(lows, i), item_at(highs, i)) for i, (x, y) in enumerate(zip(xs, ys)) if keep(x, y)]


def bounded(found: Sequence[tuple]) -> list[tuple]:
    """The (x, y, low, high) points with both interval ends."""
    return [point for point in found if finite(point[2]) and finite(point[3])]


def error_bars(ax, found: Sequence[tuple], *, horizontal: bool = False, **style) -> None:
    """Interval bars on (position, value, low, high) points: along y, or along x when ``horizontal``."""
    positions, values = [p[0] for p in found], [p[1] for p in found]
    spread = [[max(p[1] - p[2], 0) for p in found], [max(p[3] - p[1], 0) for p in found]]
    if horizontal:
        ax.errorbar(values, positions, xerr=spread, fmt="none", **style)
    else:
        ax.errorbar(positions, values, yerr=spread, fmt="none", **style)


def legend(ax, count: int) -> None:
    """A legend right of the axes; past 16 layers only the first and last are named (the colour
    runs in layer order, and the tables carry every layer)."""
    if not count:
        return
    handles, labels = ax.get_legend_handles_labels()
    title = "layer"
    if count > 16 and len(handles) > 2:
        handles, labels = [handles[0], handles[-1]], [labels[0], labels[-1]]
        title = f"layer ({count} in order)"
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2,
              handlelength=1.6, title=title, title_fontsize=7.5, alignment="left")


def log_ticks(axis, low: float, high: float, label: Callable[[float], str]) -> None:
    """Plain-number labels on a log axis (no mathtext): 1-2-5 steps over a narrow range,
    decades over a wide one; no minor ticks (they would double the SVG's size)."""
    span = math.log10(high / low) if low > 0 and high > 0 else 0
    subs = (1.0, 2.0, 5.0) if span < 2.5 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: label(v)))
    axis.set_minor_locator(NullLocator())

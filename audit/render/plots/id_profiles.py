"""Figures with one position per layer: the share of each layer's width its ID uses, and the
estimates of several metrics across the layers."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .._numbers import finite
from ._axes import bounded, error_bars, log_ticks, points
from ._data import Series
from ._style import MARKERS, PAGE_WIDTH_IN, QUALITATIVE, STYLE, WIDTH_COLOUR, tick
from ._svg import to_svg

__all__ = ["WIDTHS_IN_TICKS", "width_usage", "layer_profile", "series_panel"]

# up to this many layers the ID profile's tick labels carry the width too (and are not rotated)
WIDTHS_IN_TICKS = 8


def width_usage(labels: Sequence[str], shares: Sequence[float | None], lows: Sequence[float | None],
                highs: Sequence[float | None], notes: Sequence[str], muted: Sequence[bool]) -> str:
    """Horizontal bars: the share of each layer's width its ID accounts for, with intervals.

    ``shares`` etc. are fractions (ID / width); ``notes`` are printed right of each bar
    ("8.2 of 128"); ``muted`` layers (the output layer) are drawn in grey.
    """
    n = len(labels)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 0.45 + 0.26 * max(n, 2)), layout="constrained")
        ax = fig.add_subplot()
        ys = list(range(n))
        _usage_bars(ax, points(ys, shares, lows, highs), muted)
        _usage_notes(ax, ys, notes, shares, highs)
        ax.set_yticks(ys, [tick(label) for label in labels])
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("share of the layer's width accounted for by its intrinsic dimension (ID / width)")
        ax.grid(axis="y", visible=False)
        ax.axvline(1.0, color="#6b7280", linewidth=0.6, linestyle=":")
        return to_svg(fig, "usage")


def _usage_bars(ax, drawn: list[tuple], muted: Sequence[bool]) -> None:
    colours = [WIDTH_COLOUR if muted[y] else QUALITATIVE[0] for y, *_ in drawn]
    ax.barh([p[0] for p in drawn], [p[1] for p in drawn], height=0.6, alpha=0.85, color=colours)
    with_interval = bounded(drawn)
    if with_interval:
        error_bars(ax, with_interval, horizontal=True, ecolor="#111827", elinewidth=0.8, capsize=2)


def _usage_notes(ax, ys: list[int], notes: Sequence[str], shares: Sequence, highs: Sequence) -> None:
    """The x range (100% and every bar and interval in view), and each bar's note right of it."""
    upper = max([1.0] + [h for h in highs if finite(h)] + [s for s in shares if finite(s)])
    ax.set_xlim(0, min(upper, 1.5) * 1.18)
    right = ax.get_xlim()[1]
    for y, note, share, high in zip(ys, notes, shares, highs):
        x = min(max(v for v in (share, high, 0.0) if finite(v)), right * 0.86)
        ax.text(x + 0.012 * right, y, note, va="center", ha="left", fontsize=7)


def layer_profile(layer_labels: Sequence[str], widths: Sequence[int], series: Sequence[Series], *,
                  ylabel: str, against_width: bool = False, colour_offset: int = 0, key: str = "profile") -> str:
    """Estimates per layer in forward order, each with its interval bars, slightly dodged so the
    metrics do not hide each other. ``against_width``: log scale, with the layer width drawn as
    a dashed line for reference (for spectral ranks, which can approach the width)."""
    n = len(layer_labels)
    many = n > WIDTHS_IN_TICKS
    ticks = [tick(label) + ("" if many or against_width else f"\nwidth {width:,}")
             for label, width in zip(layer_labels, widths)]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 2.6 if not many else 3.2), layout="constrained")
        ax = fig.add_subplot()
        if against_width:
            ax.plot(range(n), widths, color=WIDTH_COLOUR, linestyle="--", linewidth=1.0, marker="_",
                    markersize=10, label="layer width", zorder=1)
        series_panel(ax, series, n, offset_colours=colour_offset)
        _value_axis(ax, series, widths, log_scale=against_width)
        ax.set_ylabel(ylabel)
        ax.set_xticks(range(n), ticks, rotation=60 if many else 0, ha="right" if many else "center",
                      rotation_mode="anchor" if many else "default")
        ax.set_xlim(-0.5, n - 0.5)
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, handlelength=1.6)
        return to_svg(fig, key)


def _value_axis(ax, series: Sequence[Series], widths: Sequence[int], *, log_scale: bool) -> None:
    """A y axis from 0, or a log axis spanning every value, interval end and width."""
    if not log_scale:
        ax.set_ylim(bottom=0)
        return
    ax.set_yscale("log")
    values = [v for item in series for v in list(item.values) + list(item.lows) + list(item.highs)
              if finite(v) and v > 0] + [w for w in widths if w > 0]
    log_ticks(ax.yaxis, min(values), max(values), lambda v: f"{v:g}")


def series_panel(ax, series: Sequence[Series], n: int, offset_colours: int = 0) -> None:
    """Each series as points joined by a thin line with its interval bars, shifted sideways a
    little per series so that estimates of the same layer stay apart."""
    count = len(series)
    spread = min(0.5, 0.1 * (count - 1))
    for index, item in enumerate(series):
        shift = 0.0 if count == 1 else -spread / 2 + spread * index / (count - 1)
        found = points([x + shift for x in range(n)], item.values, item.lows, item.highs)
        if found:
            _draw_series(ax, item, found, index + offset_colours)


def _draw_series(ax, item: Series, found: list[tuple], style_index: int) -> None:
    colour = QUALITATIVE[style_index % len(QUALITATIVE)]
    xs, ys = [p[0] for p in found], [p[1] for p in found]
    ax.plot(xs, ys, color=colour, linewidth=1.6 if item.emphasis else 0.8, alpha=0.9 if item.emphasis else 0.6,
            zorder=3 if item.emphasis else 2)
    ax.scatter(xs, ys, color=colour, marker=MARKERS[style_index % len(MARKERS)], s=22 if item.emphasis else 14,
               zorder=4, label=item.label)
    with_interval = bounded(found)
    if with_interval:
        error_bars(ax, with_interval, ecolor=colour, elinewidth=0.9, capsize=2, zorder=3)

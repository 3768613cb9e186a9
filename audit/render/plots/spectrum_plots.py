"""PCA spectrum figures: small multiples (one panel per layer) or, for many layers, every
layer's cumulative explained variance in one panel."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from .._numbers import finite
from ._axes import legend, log_ticks
from ._data import Curve, Spectrum
from ._style import PAGE_WIDTH_IN, QUALITATIVE, STYLE, tick
from ._svg import to_svg
from .curves import draw_curves

__all__ = ["pca_spectra", "pca_cumulative"]

# beyond this many components the component axis is logarithmic
_LINEAR_COMPONENTS = 16


def pca_spectra(spectra: Sequence[Spectrum], *, columns: int = 3, key: str = "pca") -> str:
    """Small multiples, one panel per layer: the share of variance along each principal
    component (log scale, left axis) and its running sum (right axis), with the component
    counts that reach the variance fractions of ``reach`` marked and named in the panel title.
    The component axis is logarithmic beyond 16 components so the first few stay readable."""
    n = len(spectra)
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 0.3 + 2.2 * rows), layout="constrained")
        for index, ax in enumerate(fig.subplots(rows, columns, squeeze=False).flat):
            if index >= n:
                ax.set_visible(False)
                continue
            _spectrum_panel(ax, spectra[index], left=index % columns == 0,
                            right=index % columns == columns - 1 or index == n - 1, bottom=index >= n - columns)
        return to_svg(fig, key)


def _spectrum_panel(ax, spectrum: Spectrum, *, left: bool, right: bool, bottom: bool) -> None:
    """One layer's panel; ``left``, ``right``, ``bottom``: which axis labels it carries."""
    reach = sorted((level, k) for level, k in spectrum.reach.items() if k is not None)
    ax.set_title(_panel_title(spectrum.label, reach), loc="left", fontsize=7.2, fontweight="normal",
                 linespacing=1.3)
    ratios = _positive(spectrum.explained)
    if not ratios:
        ax.text(0.5, 0.5, "no spectrum", transform=ax.transAxes, ha="center", va="center")
        return
    ks = list(range(1, len(ratios) + 1))
    _share_axis(ax, ks, ratios)
    cumulative = _cumulative_axis(ax, ks, ratios, reach)
    if left:
        ax.set_ylabel("variance share (log)", color=QUALITATIVE[0], fontsize=7)
    if right:
        cumulative.set_ylabel("cumulative", color=QUALITATIVE[1], fontsize=7)
    if bottom:
        ax.set_xlabel("principal component" + (" (log)" if len(ks) > _LINEAR_COMPONENTS else ""), fontsize=7)


def _panel_title(label: str, reach: list[tuple[float, int]]) -> str:
    """The layer's name, and the components that reach each variance level ("PCs for 90/95%: 12, 20")."""
    title = tick(label, 34)
    if reach:
        title += "\nPCs for " + "/".join(f"{level * 100:g}" for level, _ in reach) + "%: " + \
            ", ".join(f"{k:,}" for _, k in reach)
    return title


def _share_axis(ax, ks: list[int], ratios: list[float]) -> None:
    """The share of variance per component on the left axis (log), components along x."""
    linear = len(ks) <= _LINEAR_COMPONENTS
    ax.plot(ks, ratios, color=QUALITATIVE[0], linewidth=1.1, marker="o" if linear else None, markersize=2.2)
    ax.set_yscale("log")
    log_ticks(ax.yaxis, min(ratios), max(ratios), lambda v: f"{v * 100:.2g}%")
    if linear:
        ax.set_xlim(0.5, len(ks) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    else:
        ax.set_xscale("log")
        ax.set_xlim(0.85, len(ks) * 1.15)
        log_ticks(ax.xaxis, 1, len(ks), lambda v: f"{v:g}")
    ax.tick_params(axis="y", colors=QUALITATIVE[0], labelsize=6.5)
    ax.tick_params(axis="x", labelsize=6.5)


def _cumulative_axis(ax, ks: list[int], ratios: list[float], reach: list[tuple[float, int]]):
    """The running share of variance on a right axis, with the components reaching each level marked."""
    cumulative = ax.twinx()
    cumulative.plot(ks, list(itertools.accumulate(ratios)), color=QUALITATIVE[1], linewidth=1.1)
    cumulative.set_ylim(0, 1.03)
    cumulative.grid(False)
    cumulative.spines["right"].set_visible(True)
    cumulative.tick_params(axis="y", colors=QUALITATIVE[1], labelsize=6.5)
    cumulative.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for level, k in reach:
        cumulative.axhline(level, color="#9ca3af", linewidth=0.5, linestyle=":", zorder=1)
        if k <= len(ks):
            cumulative.axvline(k, ymax=level / 1.03, color="#6b7280", linewidth=0.6, linestyle=":", zorder=1)
            cumulative.plot([k], [level], marker="o", color="#111827", markersize=2.4, zorder=5)
    return cumulative


def pca_cumulative(spectra: Sequence[Spectrum]) -> str:
    """One panel for many layers: each layer's cumulative share of variance against the number of
    principal components (log axis), coloured from the first layer (dark) to the last (light)."""
    curves = [_cumulative_curve(spectrum) for spectrum in spectra]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 3.4), layout="constrained")
        ax = fig.add_subplot()
        draw_curves(ax, curves, band=False, markers=False)
        ax.set_xscale("log")
        longest = max((len(curve.x) for curve in curves), default=1)
        log_ticks(ax.xaxis, 1, max(longest, 2), lambda v: f"{v:g}")
        _level_lines(ax, sorted({level for spectrum in spectra for level in spectrum.reach}))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("principal components (log scale)")
        ax.set_ylabel("cumulative share of variance")
        legend(ax, len(curves))
        return to_svg(fig, "pcacum")


def _cumulative_curve(spectrum: Spectrum) -> Curve:
    running = list(itertools.accumulate(_positive(spectrum.explained)))
    return Curve(label=spectrum.label, x=list(range(1, len(running) + 1)), y=running)


def _level_lines(ax, levels: list[float]) -> None:
    """A dotted line at each variance level, labelled right of the axes."""
    for level in levels:
        ax.axhline(level, color="#6b7280", linewidth=0.6, linestyle=":")
        ax.annotate(f"{level:.0%}", (1.0, level), xycoords=("axes fraction", "data"), xytext=(2, 0),
                    textcoords="offset points", va="center", fontsize=6.5, color="#6b7280")


def _positive(explained: Sequence[float]) -> list[float]:
    return [ratio for ratio in explained if finite(ratio) and ratio > 0]

"""Attention-head figures: each layer's head-by-head similarity (small multiples sharing one
colour bar) and the ablation importance of every head (layers by heads)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, MaxNLocator

from .._numbers import finite
from ._data import HeadGrid, SimilarityPanel
from ._style import PAGE_WIDTH_IN, QUALITATIVE, STYLE, tick
from ._svg import to_svg

__all__ = ["head_similarity", "head_importance"]

# similarity: light (unrelated heads) to dark (duplicates); importance: light to dark, or a
# diverging map around 0 where ablating some head helps; marked cells outlined in orange, which
# stands out on both
SIMILARITY_CMAP = "Blues"
IMPORTANCE_CMAP = "Purples"
DIVERGING_CMAP = "RdBu_r"
MARK_COLOUR = QUALITATIVE[1]
# up to this many heads every head index is written on the axes
_ALL_TICKS = 16
# up to this many cells the importance grid carries its values
_ANNOTATED_CELLS = 400
# the importance grid stays within a page with its caption, however many layers
_MAX_HEIGHT_IN = 8.0


def head_similarity(panels: Sequence[SimilarityPanel], *, threshold: float, colour_label: str,
                    columns: int = 3, key: str = "heads") -> str:
    """Small multiples, one square panel per layer: the similarity of every pair of heads on a
    colour scale from 0 to 1 shared by all panels (one colour bar, the threshold marked on it).
    Pairs at or above ``threshold`` (off the diagonal) are outlined; values below 0 (estimation
    noise of a debiased measure) take the colour of 0."""
    n = len(panels)
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    norm = Normalize(0.0, 1.0, clip=True)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, 0.35 + 2.35 * rows), layout="constrained")
        axes = fig.subplots(rows, columns, squeeze=False)
        image = None
        for index, ax in enumerate(axes.flat):
            if index >= n:
                ax.set_visible(False)
                continue
            image = _similarity_panel(ax, panels[index], norm, threshold,
                                      left=index % columns == 0, bottom=index >= n - columns)
        bar = _colour_bar(fig, image, axes, shrink=min(0.9, 0.55 + 0.15 * rows), aspect=22 * min(rows, 2), pad=0.02)
        _threshold_mark(bar, threshold)
        bar.set_label(colour_label, fontsize=7)
        bar.ax.tick_params(labelsize=6.5)
        return to_svg(fig, key)


def _similarity_panel(ax, panel: SimilarityPanel, norm, threshold: float, *, left: bool, bottom: bool):
    count = len(panel.similarity)
    matrix = [[value if finite(value) else math.nan for value in row] for row in panel.similarity]
    image = _cells(ax, matrix, SIMILARITY_CMAP, norm)
    ax.set_aspect("equal")
    ax.set_title(tick(panel.label, 30) + ("\n" + panel.note if panel.note else ""), loc="left", fontsize=7.2,
                 fontweight="normal", linespacing=1.3)
    for a in range(count):
        for b in range(count):
            if a != b and finite(matrix[a][b]) and matrix[a][b] >= threshold:
                _outline(ax, b, a, linewidth=1.1)
    _head_ticks(ax.xaxis, count)
    _head_ticks(ax.yaxis, count)
    ax.tick_params(length=1.5, pad=1.5, labelsize=6 if count <= 12 else 5.5)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if left:
        ax.set_ylabel("head", fontsize=7, labelpad=1)
    if bottom:
        ax.set_xlabel("head", fontsize=7, labelpad=1)
    return image


def _cells(ax, matrix: list[list[float]], cmap, norm):
    """The matrix as one vector quad per cell (an image would be embedded as a PNG), row 0 at the
    top, cell (row, column) centred on (column, row); missing values are left blank."""
    values = np.ma.masked_invalid(np.array(matrix, dtype=float).reshape(len(matrix), -1))
    rows, columns = values.shape
    mesh = ax.pcolormesh(np.arange(columns + 1) - 0.5, np.arange(rows + 1) - 0.5, values, cmap=cmap, norm=norm,
                         shading="flat", edgecolors="face", linewidth=0.0)
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    return mesh


def _colour_bar(fig, mappable, ax, **options):
    """A colour bar drawn as vectors (matplotlib rasterizes one of 50 steps or more)."""
    bar = fig.colorbar(mappable, ax=ax, **options)
    if bar.solids is not None:
        bar.solids.set_rasterized(False)
        bar.solids.set_edgecolor("face")
    return bar


def _threshold_mark(bar, threshold: float) -> None:
    """A line across the colour bar at the threshold, labelled on the bar's left."""
    bar.ax.axhline(threshold, color=MARK_COLOUR, linewidth=1.2)
    bar.ax.annotate(f"{threshold:g}", (0.0, threshold), xycoords=("axes fraction", "data"), xytext=(-2, 0),
                    textcoords="offset points", ha="right", va="center", fontsize=6.5, color=MARK_COLOUR)


def head_importance(grid: HeadGrid, *, colour_label: str, key: str = "importance") -> str:
    """Layers (rows, in forward order) by heads (columns): the loss from ablating each head, its
    value written in the cell (``grid.labels``) while the grid is small enough, and the marked
    heads (the prune candidates) outlined. A sequential scale from 0; a diverging one centred on
    0 when ablating some head improves the output (negative importance)."""
    rows, columns = len(grid.values), max((len(row) for row in grid.values), default=0)
    matrix = [[value if finite(value) else math.nan for value in row] + [math.nan] * (columns - len(row))
              for row in grid.values]
    norm, cmap = _importance_norm(matrix)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PAGE_WIDTH_IN, min(0.75 + 0.3 * max(rows, 2), _MAX_HEIGHT_IN)), layout="constrained")
        ax = fig.add_subplot()
        image = _cells(ax, matrix, cmap, norm)
        if rows * columns <= _ANNOTATED_CELLS:
            _cell_labels(ax, matrix, grid.labels, image)
        for layer, head in grid.marked:
            _outline(ax, head, layer, linewidth=1.4)
        _head_ticks(ax.xaxis, columns)
        ax.set_yticks(range(rows), [tick(label) for label in grid.layer_labels])
        ax.tick_params(length=2, labelsize=7)
        ax.set_xlabel("head")
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = _colour_bar(fig, image, ax, pad=0.015, aspect=12)
        bar.set_label(colour_label, fontsize=7)
        bar.ax.tick_params(labelsize=6.5)
        return to_svg(fig, key)


def _importance_norm(matrix: list[list[float]]):
    values = [value for row in matrix for value in row if finite(value)]
    low, high = min(values, default=0.0), max(values, default=1.0)
    if low < 0 < high:
        return TwoSlopeNorm(0.0, low, high), DIVERGING_CMAP
    if high <= 0:
        return Normalize(min(low, -1e-12), 0.0), f"{IMPORTANCE_CMAP}_r"
    return Normalize(0.0, high), IMPORTANCE_CMAP


def _cell_labels(ax, matrix: list[list[float]], labels: Sequence[Sequence[str]], image) -> None:
    """Each cell's label in black or white, whichever reads better on the cell's colour."""
    for row, (values, texts) in enumerate(zip(matrix, labels)):
        for column, (value, text) in enumerate(zip(values, texts)):
            if not text or not finite(value):
                continue
            red, green, blue, _ = image.cmap(image.norm(value))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.55
            ax.text(column, row, text, ha="center", va="center", fontsize=6.2,
                    color="white" if dark else "#111827")


def _outline(ax, column: int, row: int, *, linewidth: float) -> None:
    ax.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=MARK_COLOUR,
                           linewidth=linewidth, zorder=3))


def _head_ticks(axis, count: int) -> None:
    """Head indices (from 0, as in audit.json): every one up to 16 heads, fewer beyond."""
    if count <= _ALL_TICKS:
        axis.set_major_locator(FixedLocator(list(range(count))))
    else:
        axis.set_major_locator(MaxNLocator(8, integer=True))

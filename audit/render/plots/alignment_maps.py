"""Alignment figures: the layer x layer debiased linear CKA of the audited model as a heatmap,
each cell carrying its value while the grid is small, the layer-drop pairs outlined."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from .._numbers import finite
from ._style import PAGE_WIDTH_IN, STYLE, tick
from ._svg import to_svg
from .head_grids import SIMILARITY_CMAP, _cell_labels, _cells, _colour_bar, _outline, _threshold_mark

__all__ = ["cka_heatmap"]

_ANNOTATED_LAYERS = 14  # up to this many layers each cell shows its value


def cka_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[float | None]], *, marked: Sequence[tuple[int, int]],
                threshold: float, colour_label: str, key: str = "layer-cka") -> str:
    """Layers by layers (audit order, row 0 at the top) on a scale from 0 to 1; blank cells
    where no CKA is defined (the two layers hold different points), ``marked`` (row, column)
    cells outlined, the threshold drawn on the colour bar. Values below 0 take the colour of 0."""
    count = len(labels)
    values = [[value if finite(value) else math.nan for value in row] for row in matrix]
    side = min(PAGE_WIDTH_IN * 0.62, 1.6 + 0.32 * count)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(side + 1.6, side), layout="constrained")
        ax = fig.add_subplot()
        image = _cells(ax, values, SIMILARITY_CMAP, Normalize(0.0, 1.0, clip=True))
        if count <= _ANNOTATED_LAYERS:
            _cell_labels(ax, values, [[f"{v:.2f}" if finite(v) else "" for v in row] for row in values], image)
        for row, column in marked:
            _outline(ax, column, row, linewidth=1.4)
        ax.set_aspect("equal")
        short = [tick(label, 26) for label in labels]
        ax.set_xticks(range(count), short, rotation=90)
        ax.set_yticks(range(count), short)
        ax.tick_params(length=2, labelsize=6.5)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = _colour_bar(fig, image, ax, pad=0.02, aspect=18, shrink=0.9)
        _threshold_mark(bar, threshold)
        bar.set_label(colour_label, fontsize=7)
        bar.ax.tick_params(labelsize=6.5)
        return to_svg(fig, key)

"""The figures' look: page width, rcParams, colours, markers, and axis labels for layer names."""

from __future__ import annotations

import matplotlib

__all__ = ["PAGE_WIDTH_IN", "STYLE", "QUALITATIVE", "MARKERS", "WIDTH_COLOUR", "sequential", "tick"]

# A4 minus the report's margins is about 174 mm of text width; figures are drawn at that size
# so that 8 pt text in the figure is 8 pt on paper.
PAGE_WIDTH_IN = 6.8

STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "model-audit",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans", "Helvetica Neue", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#6b7280",
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "xtick.color": "#374151",
    "ytick.color": "#374151",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.labelcolor": "#1f2937",
    "text.color": "#1f2937",
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "errorbar.capsize": 2,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "mathtext.default": "regular",
}

# Okabe-Ito: distinguishable with the common colour-vision deficiencies and in greyscale print.
QUALITATIVE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
WIDTH_COLOUR = "#9ca3af"
_LABEL_CHARS = 28


def sequential(count: int) -> list:
    """Colours from dark blue to green along the layers (viridis without its pale yellow end)."""
    cmap = matplotlib.colormaps["viridis"]
    if count <= 1:
        return [cmap(0.25)]
    return [cmap(0.05 + 0.8 * i / (count - 1)) for i in range(count)]


def tick(label: str, limit: int = _LABEL_CHARS) -> str:
    """A layer name fit for an axis: shortened in the middle and with mathtext ``$`` escaped."""
    text = label if len(label) <= limit else label[: limit // 2 - 1] + "…" + label[-(limit - limit // 2):]
    return text.replace("$", r"\$")

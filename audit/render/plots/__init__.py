"""The report's figures: matplotlib drawings returned as inline SVG text.

Every function takes plain numbers prepared by :mod:`audit.render.view` (lists of floats, None
where a value is missing; :class:`Series`, :class:`Curve`, :class:`Spectrum`) and returns one
``<svg>...</svg>`` string ready to be placed inside the HTML report: no XML prolog or DOCTYPE,
no comments, no metadata block, no external namespace other than the SVG one, and element ids
prefixed per figure so several figures can share one HTML document without clashing ids
(:mod:`._svg`).

One module per family of figures: :mod:`.id_profiles` (one position per layer),
:mod:`.spectrum_plots` (PCA spectra), :mod:`.curves` (one line per layer against a scale),
:mod:`.head_grids` (attention heads: similarity and ablation importance), :mod:`.alignment_maps`
(the layer x layer CKA), :mod:`.rank_curves` (factorization sweeps, linear probes), :mod:`.savings`
(quality kept against size), :mod:`.pareto` (quality against latency and bytes, with fronts),
:mod:`.trajectories` (checkpoint series: ID and effective rank against the step); their shared
look is in :mod:`._style` and their shared drawing pieces in :mod:`._axes`. They are imported on
first use, and matplotlib with them: reading results (``compare``'s text, ``validate``) never
loads it.

Figures are built with the object-oriented API (:class:`matplotlib.figure.Figure` rendered by
the Agg/SVG canvases) rather than ``pyplot``: nothing touches pyplot's global figure registry,
so there is nothing to close and no GUI backend is ever selected, whatever backend the calling
process uses. Style settings live in a ``rc_context`` so the caller's rcParams are untouched.
Text stays text (``svg.fonttype = "none"``): it is searchable and selectable in the HTML and
the PDF, and the SVG is a third of the size of glyph outlines (WeasyPrint lays it out faster
too). Its layout is measured with DejaVu Sans (matplotlib's bundled font) and the SVG names a
sans-serif stack, so a viewer without DejaVu substitutes a close sans-serif. Axis labels avoid
mathtext (log axes get plain-number formatters) so no math font is needed. ``svg.hashsalt``
and a ``None`` date make the output byte-identical from run to run.
"""

from __future__ import annotations

from importlib import import_module

from ._data import Curve, HeadGrid, ParetoPanel, Series, SimilarityPanel, Spectrum, SweepPanel, TrajectoryPanel

_LAZY = {"PAGE_WIDTH_IN": "_style", "checkpoint_trajectories": "trajectories", "cka_heatmap": "alignment_maps",
         "gride_curves": "curves", "sample_size_curves": "curves",
         "head_importance": "head_grids", "head_similarity": "head_grids", "WIDTHS_IN_TICKS": "id_profiles",
         "layer_profile": "id_profiles", "width_usage": "id_profiles", "probe_beside_id": "rank_curves",
         "sweep_curves": "rank_curves", "quality_vs_size": "savings", "pca_cumulative": "spectrum_plots",
         "pca_spectra": "spectrum_plots", "pareto_fronts": "pareto"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


__all__ = [
    "Series",
    "Curve",
    "Spectrum",
    "SimilarityPanel",
    "HeadGrid",
    "PAGE_WIDTH_IN",
    "WIDTHS_IN_TICKS",
    "width_usage",
    "layer_profile",
    "pca_spectra",
    "pca_cumulative",
    "gride_curves",
    "sample_size_curves",
    "head_similarity",
    "head_importance",
    "SweepPanel",
    "sweep_curves",
    "probe_beside_id",
    "quality_vs_size",
    "TrajectoryPanel",
    "checkpoint_trajectories",
    "cka_heatmap",
    "ParetoPanel",
    "pareto_fronts",
]

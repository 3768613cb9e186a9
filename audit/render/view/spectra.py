"""Section 3: PCA spectra (component counts per variance level, first PC, participation ratio)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...results import LayerResult
from .. import plots
from .._numbers import finite
from .context import ReportContext, ok_metric, pca_reach
from .figure_book import FigureView
from .format import DASH, NONE, breakable, fmt_dim, fmt_int, fmt_pct
from .model import KEEP_ROWS

__all__ = ["SpectraView", "SpectrumRow", "build"]

_SPECTRA_PER_FIGURE = 6
# beyond this many layers the spectra are one overlay figure instead of small multiples
_MAX_SMALL_MULTIPLES = 12


@dataclass(frozen=True)
class SpectrumRow:
    name: Markup
    width: str
    reach: tuple[str, ...]
    top: str
    participation: str


@dataclass(frozen=True)
class SpectraView:
    levels: tuple[str, ...]
    rows: tuple[SpectrumRow, ...]
    keep_table: bool
    figures: tuple[FigureView, ...]
    missing: str


def build(ctx: ReportContext) -> SpectraView:
    if "pca" not in ctx.infos:
        return SpectraView(levels=(), rows=(), keep_table=True, figures=(),
                           missing="Not computed: the spec did not select the pca metric.")
    levels = ctx.reach_levels()
    rows = tuple(_row(layer, levels) for layer in ctx.result.layers)
    spectra = [_spectrum(ctx, layer) for layer in ctx.result.layers if ok_metric(layer, "pca")]
    return SpectraView(levels=tuple(fmt_pct(level) for level in levels), rows=rows, keep_table=len(rows) <= KEEP_ROWS,
                       figures=_figures(ctx, spectra, ", ".join(fmt_pct(level) for level in levels)),
                       missing="" if spectra else "Not computed on any layer (see the metric tables).")


def _explained(layer: LayerResult) -> list[float]:
    """The layer's explained-variance ratios (its PCA succeeded)."""
    ratios = ok_metric(layer, "pca").details.get("explained_variance_ratio") or []
    return [float(value) for value in ratios if finite(value)]


def _row(layer: LayerResult, levels: list[float]) -> SpectrumRow:
    participation = ok_metric(layer, "participation_ratio")
    pr = NONE if participation is None else fmt_dim(participation.value)
    name, width = breakable(layer.name), fmt_int(layer.width)
    metric = layer.metrics.get("pca")
    if metric is None or not metric.ok:
        reason = "no result" if metric is None else metric.message
        return SpectrumRow(name=name, width=width, reach=tuple("" for _ in levels), top=f"not computed: {reason}",
                           participation=pr)
    explained, reach = _explained(layer), dict(pca_reach(layer))
    return SpectrumRow(name=name, width=width,
                       reach=tuple(fmt_int(reach[level]) if level in reach else NONE for level in levels),
                       top=fmt_pct(explained[0], 1) if explained else NONE, participation=pr)


def _spectrum(ctx: ReportContext, layer: LayerResult) -> plots.Spectrum:
    return plots.Spectrum(label=f"{ctx.figures.label(layer.name)} (width {layer.width:,})",
                          explained=_explained(layer), reach=dict(pca_reach(layer)))


def _figures(ctx: ReportContext, spectra: list[plots.Spectrum], level_text: str) -> tuple[FigureView, ...]:
    if len(spectra) > _MAX_SMALL_MULTIPLES:
        return (_cumulative_figure(ctx, spectra, level_text),)
    chunks = [spectra[i:i + _SPECTRA_PER_FIGURE] for i in range(0, len(spectra), _SPECTRA_PER_FIGURE)]
    return tuple(_small_multiples(ctx, chunks, index, len(spectra), level_text) for index in range(len(chunks)))


def _cumulative_figure(ctx: ReportContext, spectra: list[plots.Spectrum], level_text: str) -> FigureView:
    caption = ("Cumulative share of variance of each layer's centred activations against the number of "
               "principal components (log scale), one line per layer from the first (dark) to the last "
               f"(light); dotted lines mark {level_text or 'the variance levels'}. The table above gives the "
               "counts per layer." + ctx.figures.prefix_note())
    return ctx.figures.add("pcacum", plots.pca_cumulative(spectra), caption,
                           "Cumulative explained variance of every layer")


def _small_multiples(ctx: ReportContext, chunks: list[list[plots.Spectrum]], index: int, total: int,
                     level_text: str) -> FigureView:
    """Figure ``index`` of the small-multiple spectra, ``_SPECTRA_PER_FIGURE`` panels at most."""
    first = index * _SPECTRA_PER_FIGURE
    part = f" (layers {first + 1}{DASH}{first + len(chunks[index])} of {total})" if len(chunks) > 1 else ""
    caption = ("PCA spectrum of each layer's centred activations" + part + ": the share of variance along "
               "each principal component (blue, log scale, left axis) and the cumulative share (orange, "
               "right axis); dots mark the components needed to reach " + (level_text or "each level")
               + " of the variance, counted in each panel's title." + ctx.figures.prefix_note())
    key = f"pca{index + 1}"
    return ctx.figures.add(key, plots.pca_spectra(chunks[index], key=key), caption, "PCA spectra, one panel per layer")

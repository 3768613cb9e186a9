"""The heads section's similarity figures (small multiples, six layers a figure), the names of the
similarity measures and what they mean, and the layer labels the head figures show."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from ...render import plots
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView, common_prefix
from ...render.view.format import DASH, fmt_int
from .result import HeadLayerResult

__all__ = ["MEASURES", "head_labels", "measure_name", "prefix_note", "similarity_figures"]

_PANELS_PER_FIGURE = 6
_NAMES = {"cka": "CKA", "correlation": "correlation"}
MEASURES = {
    "cka": Markup(
        "Similarity is debiased linear CKA (centred kernel alignment; Kornblith et al. 2019, debiased as in "
        "Nguyen, Raghu and Kornblith 2021) between two heads\u2019 outputs on the same tokens, computed with "
        "the unbiased HSIC estimator of Song et al. (2012). It is unchanged by a rotation or a uniform scaling "
        "of either head, which the output projection can absorb, so heads near 1 carry the same information "
        "in different coordinates; it reads about 0 for unrelated heads at any number of tokens and can be "
        "slightly negative from estimation noise."),
    "correlation": Markup(
        "Similarity is the absolute cosine between two heads\u2019 column-centred, flattened outputs on the "
        "same tokens: 1 when one head is a multiple of the other coordinate by coordinate. Unlike CKA it "
        "changes when a head\u2019s coordinates are rotated, so it finds heads that duplicate each other "
        "coordinate by coordinate."),
}
_SCALE = {"cka": "identical up to rotation and scaling", "correlation": "identical up to a factor"}


def measure_name(measure: str) -> str:
    """The similarity measure's short name ("CKA")."""
    return _NAMES.get(measure, measure)


def head_labels(layers: Sequence[HeadLayerResult]) -> tuple[str, list[str]]:
    """The prefix every attention layer's name shares, and the names without it."""
    prefix = common_prefix([layer.name for layer in layers])
    return prefix, [layer.name[len(prefix):] for layer in layers]


def prefix_note(prefix: str) -> str:
    return f" Layer names are shown without their common prefix \u201c{prefix}\u201d." if prefix else ""


def similarity_figures(ctx: ReportContext, layers: Sequence[HeadLayerResult]) -> tuple[FigureView, ...]:
    """One figure per six attention layers (three panels a row), sharing one colour scale."""
    prefix, labels = head_labels(layers)
    panels = [plots.SimilarityPanel(label=label, similarity=layer.similarity, note=_panel_note(layer))
              for label, layer in zip(labels, layers)]
    starts = range(0, len(panels), _PANELS_PER_FIGURE)
    return tuple(_figure(ctx, layers, panels, start, prefix) for start in starts)


def _panel_note(layer: HeadLayerResult) -> str:
    """The panel's second line: its groups ("groups: 3+7, 1+4+9"), or that it has none."""
    note = ("groups: " + ", ".join("+".join(str(head) for head in group) for group in layer.groups)
            if layer.groups else f"no pair \u2265 {layer.threshold:g}")
    if layer.constant_heads:
        note += "; constant: " + ", ".join(str(head) for head in layer.constant_heads)
    return note


def _figure(ctx: ReportContext, layers: Sequence[HeadLayerResult], panels: list[plots.SimilarityPanel],
            start: int, prefix: str) -> FigureView:
    chunk = panels[start:start + _PANELS_PER_FIGURE]
    shown = layers[start:start + len(chunk)]
    thresholds = sorted({layer.threshold for layer in layers})
    measures = list(dict.fromkeys(layer.measure for layer in layers))
    name = " / ".join(measure_name(measure) for measure in measures)
    part = (f" (attention layers {start + 1}{DASH}{start + len(chunk)} of {len(layers)})"
            if len(panels) > _PANELS_PER_FIGURE else "")
    points = sorted({layer.n_points for layer in shown})
    caption = (
        f"Similarity ({name}) of every pair of heads in each attention layer{part}, on "
        f"{' / '.join(fmt_int(n) for n in points)} tokens; rows and columns are the heads, numbered from 0 as in "
        "audit.json, and the diagonal is each head with itself (1). All panels share one colour scale from 0 "
        f"(unrelated) to 1 ({' / '.join(_SCALE.get(measure, 'identical') for measure in measures)}); values "
        f"below 0 are drawn as 0. Pairs at or above the threshold {' / '.join(f'{t:g}' for t in thresholds)} "
        "(the orange line on the colour bar) are outlined in orange and count as near-duplicates; each panel "
        "names its groups under the layer's name." + prefix_note(prefix))
    svg = plots.head_similarity(chunk, threshold=min(thresholds), colour_label=f"{name} similarity",
                                key=f"heads{start // _PANELS_PER_FIGURE + 1}")
    return ctx.figures.add(f"heads{start // _PANELS_PER_FIGURE + 1}", svg, caption,
                           "Head-by-head similarity heatmaps, one per attention layer")

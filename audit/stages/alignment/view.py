"""Section: representation alignment (each matched layer's CKA and overlap with the reference,
the local-ID relation, the layer x layer CKA heatmap and the layer-drop candidates), and its
sentence in the executive summary."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...render import plots
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView
from ...render.view.format import NONE, breakable, fmt_bounds, fmt_int, fmt_number
from ...render.view.model import KEEP_ROWS, Fact
from ...results import MetricResult
from .result import AlignmentResult, SelfSimilarity

__all__ = ["AlignmentView", "MatchedRow", "build", "finding"]

_MISSING = Markup("Not computed: the spec has no <code>reference</code> section.")
_METHOD = (
    "CKA is the debiased linear centred kernel alignment (Kornblith et al. 2019) through the unbiased HSIC "
    "estimator (Song et al. 2012): 1 when one representation is a rotation and scaling of the other, about 0 "
    "for unrelated ones; its interval is a delete-a-group jackknife over {groups} groups of probe samples "
    "(the tokens of one text are left out together), normal at {level}. The overlap is DADApy's neighbourhood "
    "overlap (Doimo et al. 2020): for each point, the share of its {k} nearest neighbours (exact Euclidean "
    "search, the point itself excluded) that are also among its {k} nearest in the other representation, "
    "averaged over points; its interval is a {level} percentile bootstrap over points ({boot} replicates) "
    "with both neighbour graphs held fixed. Both models run on the same probe points, at most {points} per "
    "layer (a seeded subset). The relation to local ID (Yu et al. 2025: lower local ID goes with stronger "
    "alignment) is Spearman's rank correlation over the matched layers with a Fisher-z interval, standard "
    "error sqrt(1.06 / (n \u2212 3)) (Fieller et al. 1957); it needs at least 5 layers.")


@dataclass(frozen=True)
class MatchedRow:
    name: Markup
    reference: Markup
    points: str
    cka: str
    cka_interval: str
    overlap: str
    overlap_interval: str
    local_id: str


@dataclass(frozen=True)
class AlignmentView:
    facts: tuple[Fact, ...]
    rows: tuple[MatchedRow, ...]
    keep_table: bool
    relations: tuple[Fact, ...]
    figure: FigureView | None
    drops: tuple[Fact, ...]
    method: str
    missing: Markup | str


def build(ctx: ReportContext) -> AlignmentView:
    result = ctx.result.reference
    if result is None:
        return AlignmentView((), (), True, (), None, (), "", _MISSING)
    rows = tuple(_row(layer) for layer in result.layers)
    return AlignmentView(facts=_facts(result), rows=rows, keep_table=len(rows) <= KEEP_ROWS,
                         relations=tuple(_relation(metric) for metric in result.relations),
                         figure=_figure(ctx, result.self_similarity), drops=_drops(result.self_similarity),
                         method=_method(result), missing="")


def _method(result: AlignmentResult) -> str:
    return _METHOD.format(groups=result.n_groups, level=f"{result.ci_level:.0%}", k=result.k, boot=result.n_bootstrap,
                          points=fmt_int(result.max_points))


def _facts(result: AlignmentResult) -> tuple[Fact, ...]:
    if result.reference is None:
        return (Fact("Reference", "none: the audited model's own layers are compared"),)
    return (Fact("Reference", result.reference.source, detail=result.reference.module_type),
            Fact("Changed", result.variant),
            Fact("Lowest CKA", fmt_number(result.min_cka) if result.min_cka is not None else NONE,
                 detail="over the matched layers"))


def _value(metric: MetricResult) -> tuple[str, str]:
    if not metric.ok:
        return "not computed", metric.message
    return fmt_number(metric.value), fmt_bounds(metric.ci_low, metric.ci_high, fmt_number)


def _row(layer) -> MatchedRow:
    cka, cka_interval = _value(layer.cka)
    overlap, overlap_interval = _value(layer.overlap)
    return MatchedRow(name=breakable(layer.name), reference=breakable(layer.reference), points=fmt_int(layer.n_points),
                      cka=cka, cka_interval=cka_interval, overlap=overlap, overlap_interval=overlap_interval,
                      local_id=fmt_number(layer.local_id) if layer.local_id is not None else NONE)


def _relation(metric: MetricResult) -> Fact:
    value, interval = _value(metric)
    detail = f"Spearman \u03c1 over {fmt_int(metric.n_used)} layers {interval}" if metric.ok else ""
    return Fact(metric.title, value if metric.ok else interval, detail=detail)


def _figure(ctx: ReportContext, similarity: SelfSimilarity | None) -> FigureView | None:
    if similarity is None or len(similarity.layers) < 2:
        return None
    index = {name: i for i, name in enumerate(similarity.layers)}
    marked = [(index[pair.name], index[pair.previous]) for pair in similarity.consecutive if pair.drop_candidate]
    svg = plots.cka_heatmap([ctx.figures.label(name) for name in similarity.layers], similarity.cka, marked=marked,
                            threshold=similarity.threshold, colour_label="debiased linear CKA")
    caption = (f"Debiased linear CKA between every pair of audited layers on the same {fmt_int(similarity.n_points)} "
               f"points (blank: the two layers hold different points). Outlined: consecutive layers at or above "
               f"{fmt_number(similarity.threshold)}, where the later layer barely changes the representation "
               "(a layer-drop candidate)." + ctx.figures.prefix_note())
    return ctx.figures.add("layer-cka", svg, caption, "Layer by layer CKA of the audited model")


def _drops(similarity: SelfSimilarity | None) -> tuple[Fact, ...]:
    if similarity is None:
        return ()
    return tuple(Fact(pair.name, " ".join(filter(None, _value(pair.cka))), detail=f"after {pair.previous}")
                 for pair in similarity.consecutive if pair.drop_candidate)


def finding(ctx: ReportContext) -> Markup | None:
    """The executive summary's sentence: the lowest matched-layer CKA and the drop candidates."""
    result = ctx.result.reference
    if result is None:
        return None
    section = ctx.section_number("alignment")
    parts = []
    if result.min_cka is not None:
        parts.append(Markup("the lowest CKA with the reference over {n} matched layers is <strong>{cka}</strong>")
                     .format(n=len(result.layers), cka=fmt_number(result.min_cka)))
    drops = result.drop_candidates
    if result.self_similarity is not None:
        parts.append(Markup("{count} layer-drop candidate{s}").format(count=len(drops) or "no",
                                                                    s="" if len(drops) == 1 else "s"))
    if not parts:
        return None
    return Markup("Alignment: {parts} (Section {section}).").format(parts=Markup("; ").join(parts), section=section)

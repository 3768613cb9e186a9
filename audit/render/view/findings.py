"""The summary's findings: one sentence per candidate layer for narrowing, the least redundant
layer, the output layer, and the layers the primary ID could not be computed on; and, for a
the stages' own findings come from :mod:`.stage_summary`."""

from __future__ import annotations

from collections.abc import Iterator

from markupsafe import Markup

from ...results import LayerResult
from .._numbers import finite
from .context import CANDIDATE_REDUNDANCY, ReportContext, ok_metric, pca_reach, redundancy_bounds
from .format import fmt_dim, fmt_int, fmt_level, fmt_pct, fmt_range, plural

__all__ = ["findings"]


def findings(ctx: ReportContext) -> Iterator[Markup]:
    if not ctx.result.primary_id:
        yield Markup("No intrinsic-dimension metric ran, so the report cannot say which layers use "
                     "little of their width; add <code>twonn</code> to the spec's metrics.")
        return
    ranked, candidates = ctx.ranked_hidden(), ctx.candidates()
    yield from (_candidate_sentence(ctx, layer, explain=i == 0) for i, layer in enumerate(candidates))
    if ranked and not candidates:
        yield _no_candidate_sentence(ctx, ranked[0])
    if len(ranked) > 1 and ranked[-1] not in candidates:
        yield _least_redundant_sentence(ctx, ranked[-1])
    yield from _output_sentences(ctx)
    failed = [layer for layer in ctx.result.layers if ctx.primary_metric(layer) is None]
    if failed:
        yield Markup("The {metric} could not be computed on {count}: {names} (see the warnings below).").format(
            metric=ctx.primary_title, count=plural(len(failed), "layer"),
            names=Markup(", ").join(Markup("<code>{}</code>").format(layer.name) for layer in failed))


def _no_candidate_sentence(ctx: ReportContext, top: LayerResult) -> Markup:
    return Markup(
        "No hidden layer has a redundancy rate of {threshold} or more: the most redundant, <code>{name}</code>, "
        "uses about {id} of its {width} dimensions (redundancy {rate}). ID alone does not point to a "
        "narrower layer."
    ).format(threshold=fmt_pct(CANDIDATE_REDUNDANCY), name=top.name, id=fmt_dim(ctx.primary_metric(top).value),
             width=fmt_int(top.width), rate=fmt_pct(ctx.redundancy(top)))


def _least_redundant_sentence(ctx: ReportContext, low: LayerResult) -> Markup:
    return Markup(
        "At the other end, <code>{name}</code> uses the largest share of its width: about {id} of {width} "
        "dimensions ({share}), leaving least room to narrow it."
    ).format(name=low.name, id=fmt_dim(ctx.primary_metric(low).value), width=fmt_int(low.width),
             share=fmt_pct(1 - ctx.redundancy(low)))


def _output_sentences(ctx: ReportContext) -> Iterator[Markup]:
    """One sentence on the output and the task-fixed layers: their unused width is not redundancy."""
    for layer in ctx.result.layers:
        if layer.is_output and not layer.task_fixed and ctx.primary_metric(layer):
            yield Markup(
                "The output <code>{name}</code> (width {width}, ID {id}) holds no class scores that labels or a "
                "softmax reveal, so its width is read as a design choice (an embedding), which the cost of resizing "
                "measures narrowing{where}; name it in <code>layers.task_fixed</code> if the task fixes it."
            ).format(name=layer.name, width=fmt_int(layer.width), id=fmt_dim(ctx.primary_metric(layer).value),
                     where=f" (Section {ctx.section_number('cost')})" if ctx.result.cost else "")
    fixed = [layer for layer in ctx.result.layers if layer.task_fixed and ctx.primary_metric(layer)]
    if fixed:
        yield Markup("The task sets the width of {names}, so the width their ID leaves unused is not redundancy "
                     "and no narrower width is proposed for them.").format(
            names=Markup(", ").join(Markup("<code>{}</code> ({} wide: {})").format(
                layer.name, fmt_int(layer.width), layer.task_fixed) for layer in fixed))


def _candidate_sentence(ctx: ReportContext, layer: LayerResult, *, explain: bool) -> Markup:
    metric = ctx.primary_metric(layer)
    sentence = Markup("<code>{name}</code> uses about <strong>{id}</strong> of its {width} dimensions").format(
        name=layer.name, id=fmt_dim(metric.value), width=fmt_int(layer.width))
    return (sentence + _id_clause(ctx, layer) + Markup(".") + _other_estimates(ctx, layer) + _scale_clause(layer)
            + _linear_clause(layer, explain))


def _id_clause(ctx: ReportContext, layer: LayerResult) -> Markup:
    """The primary ID's interval and the redundancy rate with its range, in brackets."""
    metric, rate = ctx.primary_metric(layer), fmt_pct(ctx.redundancy(layer))
    if not (finite(metric.ci_low) and finite(metric.ci_high)):
        return Markup(" ({metric}, no interval; redundancy <strong>{rate}</strong>)").format(
            metric=ctx.primary_title, rate=rate)
    return Markup(" ({metric}, {level} interval {range}; redundancy <strong>{rate}</strong>, {rrange})").format(
        metric=ctx.primary_title, level=fmt_level(metric.ci_level) or "confidence",
        range=fmt_range(metric.ci_low, metric.ci_high), rate=rate,
        rrange=fmt_range(*redundancy_bounds(metric, layer.width), fmt_pct))


def _other_estimates(ctx: ReportContext, layer: LayerResult) -> Markup:
    """What the other nonlinear ID estimates say about ``layer``."""
    others = [(ctx.infos[name].title, ok_metric(layer, name).value) for name in ctx.names_of_kind("id")
              if name not in (ctx.result.primary_id, "pca") and ok_metric(layer, name)]
    if not others:
        return Markup()
    low, high = min(others, key=lambda item: item[1]), max(others, key=lambda item: item[1])
    if low is high:
        return Markup(" The other nonlinear estimate, {title}, gives {value}.").format(
            title=low[0], value=fmt_dim(low[1]))
    return Markup(" The other nonlinear estimates range from {lv} ({lt}) to {hv} ({ht}).").format(
        lv=fmt_dim(low[1]), lt=low[0], hv=fmt_dim(high[1]), ht=high[0])


def _scale_clause(layer: LayerResult) -> Markup:
    """How GRIDE's estimate moves with the neighbourhood scale, where it ran on two or more."""
    gride = ok_metric(layer, "gride")
    dims, scales = (gride.details.get("dims"), gride.details.get("scales")) if gride else (None, None)
    if not dims or len(dims) < 2 or not scales:
        return Markup()
    return Markup(" GRIDE reads {first} at the nearest neighbours and {last} at neighbour rank {rank}: "
                  "the nonlinear ID depends on the scale it is read at.").format(
        first=fmt_dim(dims[0]), last=fmt_dim(dims[-1]), rank=fmt_int(2 * scales[-1]))


def _linear_clause(layer: LayerResult, explain: bool) -> Markup:
    """The nonlinear ID set against the linear dimensions a cut keeps (PCA components); the
    first candidate's sentence says how to read the two, the others only give the counts."""
    reach = pca_reach(layer)
    if not reach:
        return Markup()
    first_level, first_k = reach[0]
    rest = [f"{fmt_int(k)} for {fmt_pct(level)}" for level, k in reach[1:]]
    counts = Markup("{k} principal components hold {level} of the variance{rest}").format(
        k=fmt_int(first_k), level=fmt_pct(first_level), rest=f" ({', '.join(rest)})" if rest else "")
    if not explain:
        return Markup(" A linear cut: {counts}.").format(counts=counts)
    return Markup(" That ID is what a nonlinear map of these activations could keep; a linear cut (a narrower "
                  "layer or a low-rank factor) keeps principal components, and here {counts}. Size a cut by the "
                  "components, and confirm it with the cost stage.").format(counts=counts)

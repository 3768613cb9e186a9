"""The stage's run: capture the reference on the probe, measure the matched layers, the audited
model's layer x layer CKA and the local-ID relation."""

from __future__ import annotations

from ...capture import capture_probe
from ...estimators.knn import resolve_device
from .measure import matched_layer, relations, self_similarity
from .result import AlignmentResult

__all__ = ["alignment_result"]


def alignment_result(context, plan) -> AlignmentResult:
    """``plan``: ``(reference model, variant, matched pairs)`` from ``prepare``, None without a
    reference."""
    spec, section, captured = context.spec, context.spec.reference, context.captured.layers
    device = resolve_device(spec.capture.knn_device)
    matched, reference, variant = [], None, "none"
    if plan is not None:
        model, variant, pairs = plan
        reference = model.info
        context.progress.stage(f"capturing {len(pairs)} reference layers on {context.probe.info.n_samples} samples")
        theirs = capture_probe(model, context.probe, list(dict.fromkeys(t for _, t in pairs)), spec,
                               context.progress).layers
        local_ids = {layer.name: _local_id(layer) for layer in context.layers}
        for ours, other in pairs:
            context.progress.stage(f"alignment of {ours} with the reference's {other}")
            matched.append(matched_layer(captured[ours], theirs[other], local_ids.get(ours), section, spec.seed, device))
    similarity = None
    if section.self_cka:
        context.progress.stage(f"layer x layer CKA of {len(context.layer_names)} layers")
        similarity = self_similarity([captured[name] for name in context.layer_names], section, spec.seed)
    return AlignmentResult(reference=reference, variant=variant, k=section.k, max_points=section.max_points,
                           n_groups=section.n_groups, n_bootstrap=section.n_bootstrap, ci_level=section.ci_level,
                           layers=tuple(matched),
                           self_similarity=similarity, relations=relations(matched, section.ci_level) if matched else ())


def _local_id(layer) -> float | None:
    metric = layer.metrics.get("local_id")
    return metric.value if metric is not None and metric.ok else None

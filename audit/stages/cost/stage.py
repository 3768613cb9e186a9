"""The cost stage, orchestration only: which targets, their candidate widths, each variant built
for real, estimated (:mod:`.estimate`), timed through ONNX Runtime (:mod:`.onnx_timing`), scored
(:mod:`.quality`, :mod:`audit.outputs`), priced (:mod:`.money`) and recommended
(:mod:`.recommend`) against the original (:mod:`.bench`) -> :class:`~audit.results.CostResult`.

Targets: the model's output embedding (reduced by PCA; ``cost.embedding``) and the audited
``nn.Linear`` layers the spec selects (factorized by truncated SVD; ``cost.factorize``). The stage
takes the loaded model handle and asks its adapter (:mod:`audit.sources.adapters`) for the dense
layers and the bench: a torch model is measured through :class:`.bench.Bench` (variants are torch
modules, exported to time them), an ONNX model through :class:`.onnx_bench.OnnxBench` (variants
are edited graphs).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib.metadata
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from .bench import Bench
from .candidates import candidate_widths
from .drop_target import dropped_targets
from .layer_stacks import DropPlan, plan_dropped
from .quantize_target import RecommendedVariant, quantized_target, recommended_variant
from .recommend import recommendation_sentence, recommended_row
from .result import CostResult, CostSettings, CostTarget
from .scores import COSINE_POINTS, INTERVAL, embedding_quality, linear_scorer, original_embedding_quality
from .variants import EmbeddingProjector

__all__ = ["CostPlan", "plan_cost", "plan_factorized", "cost_result", "FLOP_COUNTER"]

FLOP_COUNTER = ("torch.utils.flop_counter.FlopCounterMode on one sample (dispatcher level: every matmul, attention "
                "included; a multiply-add is 2 FLOPs; elementwise work not counted)")
_PER_SAMPLE = "one point per sample"


@dataclass(frozen=True)
class CostPlan:
    """What the stage checked against the model before the probe runs: the dense layers to
    factorize and the blocks to drop (None: no ``cost.drop_layers``)."""

    factorized: tuple[str, ...] = ()
    dropped: DropPlan | None = None


def plan_cost(loaded, model, audited: list[str]) -> CostPlan:
    """``cost.factorize`` and ``cost.drop_layers`` checked against the model (spec errors naming
    their line)."""
    return CostPlan(plan_factorized(loaded, model, audited), plan_dropped(loaded, model.module))


def plan_factorized(loaded, model, audited: list[str]) -> tuple[str, ...]:
    """The audited dense layers ``cost.factorize`` selects (all of them by default): ``nn.Linear``
    modules, or for an ONNX model the outputs of ``Gemm``/``MatMul`` nodes with a weight
    initializer. A pattern matching none is a spec error naming its line; checked before the
    probe is run."""
    cost = loaded.spec.cost
    if cost is None:
        return ()
    dense = _dense_layers(model, audited)
    if cost.factorize is None:
        return tuple(dense)
    for index, pattern in enumerate(cost.factorize):
        if not any(fnmatch.fnmatchcase(name, pattern) for name in dense):
            raise loaded.error(("cost", "factorize", index),
                               f"pattern {pattern!r} matches no audited dense layer (audited: {', '.join(dense) or 'none'}; "
                               f"a layer must be in layers.include to be factorized)")
    return tuple(name for name in dense if any(fnmatch.fnmatchcase(name, p) for p in cost.factorize))


def _dense_layers(model, audited: list[str]) -> list[str]:
    return model.adapter.dense_layers(model, audited)


def cost_result(loaded, model, probe, captured, layers, plan: CostPlan, use_accuracy: bool, progress,
                alignment=None) -> CostResult | None:
    """The cost of resizing the targets; None when the spec has no ``cost`` block. ``alignment``
    is the reference stage's result (None when it did not run): ``cost.drop_layers: auto`` reads
    its layer x layer CKA."""
    cost = loaded.spec.cost
    if cost is None:
        return None
    settings = _settings(cost, model)
    embedding = _embedding_layer(loaded, layers, use_accuracy)
    factorized = plan.factorized
    if embedding is None and not factorized and not cost.quantize and plan.dropped is None:
        return CostResult("not_computed", "nothing to resize: no output embedding (the output is class scores, not "
                          "audited, or cost.embedding is no), no audited dense layer selected by cost.factorize, "
                          "no cost.quantize and no cost.drop_layers",
                          (), settings, cost.quality_floor)
    bench = model.adapter.bench(loaded, model, probe, progress)
    settings = dataclasses.replace(settings, sequence_length=bench.sequence_length)
    resized = [_embedding_target(bench, embedding, captured.layers[embedding.name])] if embedding else []
    by_name = {layer.name: layer for layer in layers}
    resized += [_linear_target(bench, by_name[name], use_accuracy) for name in factorized]
    targets = [target for target, _ in resized]
    if cost.quantize:
        combined = [variant for _, variant in resized if variant is not None] if cost.quantize_combined else []
        targets.append(quantized_target(bench, cost.quantize, embedding=embedding is not None, use_accuracy=use_accuracy,
                                        combined=combined))
    if plan.dropped is not None:
        targets += dropped_targets(bench, plan.dropped, alignment, embedding=embedding is not None,
                                   use_accuracy=use_accuracy)
    return CostResult("ok", "", tuple(targets), settings, cost.quality_floor)


def _settings(cost, model) -> CostSettings:
    try:
        runtime = importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        runtime = None
    return CostSettings(
        stored_vectors=cost.stored_vectors, store_dtype=cost.store_dtype, queries_per_month=cost.queries_per_month,
        prices=cost.prices.model_dump(), id_margin=cost.id_margin, recall_k=cost.recall_k, holdout=cost.holdout,
        n_samples=cost.n_samples, measured=cost.measure, batch_size=cost.batch_size,
        sequence_length=cost.sequence_length, warmup=cost.warmup, repeats=cost.repeats, threads=cost.threads,
        onnxruntime=runtime, exporter=model.adapter.exporter, flop_counter=model.adapter.flop_counter,
    )


def _embedding_layer(loaded, layers, use_accuracy: bool):
    """The audited output layer holding one embedding per sample, as ``cost.embedding`` asks:
    ``auto`` leaves out class scores and any other task-fixed output, ``yes`` costs it anyway."""
    choice = loaded.spec.cost.embedding
    if choice == "no":
        return None
    found = next((layer for layer in layers if layer.is_output and layer.reduction == _PER_SAMPLE), None)
    if choice == "yes" and found is None:
        raise loaded.error(("cost", "embedding"), "the model's output is not among the audited layers as one vector "
                           "per sample: add its last module (or 'output') to layers.include")
    return None if choice == "auto" and (use_accuracy or found is None or found.task_fixed) else found


def _embedding_target(bench: Bench, layer, captured) -> tuple[CostTarget, RecommendedVariant | None]:
    """The embedding's target, with its recommended variant (the model projected to the
    recommended width) to quantize."""
    cost = bench.cost
    fit, heldout = _split_rows(captured, bench.split)
    candidates = candidate_widths(layer, margin=cost.id_margin, extra=cost.widths, limit=min(layer.width, fit.shape[0]))
    measure_name = f"recall@{min(cost.recall_k, heldout.shape[0] - 1)}"
    original = bench.original_row(layer.width, vectors=True, quality=original_embedding_quality(measure_name, heldout.shape[0]))
    pending = []
    if candidates:
        projector = EmbeddingProjector(fit, max(c.width for c in candidates), seed=bench.seed)
        for candidate in candidates:
            bench.progress.stage(f"cost: {layer.name} reduced to {candidate.width} dimensions")
            quality = embedding_quality(measure_name, heldout, projector.transform(heldout, candidate.width),
                                        k=cost.recall_k, seed=bench.seed)
            variant = bench.projected(projector.axes(candidate.width))
            pending.append(bench.pending(variant, candidate.width, candidate.sources, vectors=True, quality=quality))
    rows = bench.rows(pending)
    method = (f"PCA fitted on {fit.shape[0]:,} probe embeddings of {layer.name} (a seeded share "
              f"{1 - cost.holdout:.0%} of the probe); the variant is the model followed by a bias-free linear map "
              f"{layer.width} -> k, z = e V_k^T (the top-k principal axes). Quality, on the other "
              f"{heldout.shape[0]:,} samples (held out: the PCA never saw them): {measure_name} of cosine neighbours "
              f"of the reduced against the full embeddings, with a {INTERVAL}, and pairwise cosine preservation "
              f"over {min(COSINE_POINTS, heldout.shape[0]):,} of them.")
    target = _target(layer, "embedding", original, rows, cost.quality_floor, method)
    width = target.recommended
    return target, recommended_variant(bench, target, pending, f"{layer.name} at width {width}", width,
                                       lambda: nullcontext(bench.projected(projector.axes(width))))


def _split_rows(captured, split) -> tuple[np.ndarray, np.ndarray]:
    """The captured embeddings of the samples to fit on and of the held-out ones."""
    matrix, samples = captured.matrix, captured.samples
    return matrix[np.isin(samples, split.fit)], matrix[np.isin(samples, split.heldout)]


def _linear_target(bench: Bench, layer, use_accuracy: bool) -> tuple[CostTarget, RecommendedVariant | None]:
    """A Linear layer's target, with its recommended variant (the layer factorized at the
    recommended rank) to quantize."""
    cost = bench.cost
    n_in, n_out = bench.linear_shape(layer.name)
    candidates = candidate_widths(layer, margin=cost.id_margin, extra=cost.ranks, limit=min(n_in, n_out))
    score = linear_scorer(bench.baseline_outputs(), bench.heldout_labels if use_accuracy else None, seed=bench.seed)
    original = bench.original_row(min(n_in, n_out), vectors=False, quality=score(bench.baseline_outputs()))
    pending = []
    for candidate in candidates:
        bench.progress.stage(f"cost: {layer.name} factorized at rank {candidate.width}")
        with bench.factorized(layer.name, candidate.width) as variant:
            quality = score(bench.outputs(variant))
            pending.append(bench.pending(variant, candidate.width, candidate.sources, vectors=False, quality=quality))
    rows = bench.rows(pending)
    measured = "accuracy on the probe's labels relative to the original's" if use_accuracy else \
        "mean cosine of the model's outputs to the original's"
    method = (f"Truncated SVD of the {n_out} x {n_in} weight, W ~ U_r S_r V_r^T, as two "
              f"{bench.linear_kind} layers ({n_in} -> r -> {n_out}); parameters fall below the "
              f"original's for r < {n_in * n_out / (n_in + n_out):.1f}. The SVD uses no data; quality: {measured}, "
              f"on the {len(bench.split.heldout):,} held-out probe samples every variant of the audit is scored on, "
              f"with a {INTERVAL}.")
    target = _target(layer, "linear", original, rows, cost.quality_floor, method, module_type=bench.linear_kind)
    rank = target.recommended
    return target, recommended_variant(bench, target, pending, f"{layer.name} at rank {rank}", None,
                                       lambda: bench.factorized(layer.name, rank))


def _target(layer, kind, original, rows, floor, method, module_type=None) -> CostTarget:
    chosen = recommended_row(rows, floor)
    return CostTarget(
        name=layer.name, kind=kind, module_type=module_type or layer.module_type, width=original.width,
        original=original, candidates=tuple(rows), recommended=None if chosen is None else chosen.width,
        recommendation=recommendation_sentence(layer.name, kind, original, chosen, rows, floor), method=method,
    )

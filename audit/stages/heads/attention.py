"""Attention-head analysis of transformer models: where the heads are, how similar their outputs
are, and how much each one matters when it is switched off.

Heads are found as modules carrying ``num_attention_heads`` and ``attention_head_size`` (the
BERT family's self-attention: BERT, MiniLM, RoBERTa, ...), whose output is the concatenated
per-head context (n, T, h * d_head) before the output projection ``<attention>.output.dense``.
Ablating head ``a`` zeroes its slice of the projection's input, which removes exactly that
head's contribution.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import torch

from ...errors import CaptureError
from ...estimators import effective_heads, head_redundancy
from ...metrics._base import from_estimate
from ...outputs import accuracy_score, fidelity_score, model_outputs, probe_subset
from .result import HeadLayerResult, HeadRef, HeadsResult

__all__ = ["AttentionLayer", "attention_layers", "head_layer_result", "heads_result"]


@dataclass(frozen=True)
class AttentionLayer:
    name: str  # the module whose output is the concatenated head contexts
    projection: str  # the output projection that mixes them
    n_heads: int
    d_head: int


def attention_layers(module: torch.nn.Module) -> list[AttentionLayer]:
    """Every self-attention module with per-head outputs and a findable output projection."""
    modules = dict(module.named_modules())
    found = []
    for name, child in modules.items():
        n_heads, d_head = getattr(child, "num_attention_heads", None), getattr(child, "attention_head_size", None)
        projection = f"{name.rpartition('.')[0]}.output.dense"
        if isinstance(n_heads, int) and isinstance(d_head, int) and projection in modules:
            found.append(AttentionLayer(name, projection, n_heads, d_head))
    if not found:
        raise CaptureError("heads", "no BERT-family attention modules (num_attention_heads, attention_head_size and "
                                    "a sibling output.dense) in this model: head analysis cannot run")
    return found


def head_layer_result(layer: AttentionLayer, matrix: np.ndarray, heads_spec, seed: int) -> HeadLayerResult:
    """Similarity, near-duplicate groups and effective number of heads of one layer's contexts."""
    per_head = matrix.reshape(matrix.shape[0], layer.n_heads, layer.d_head)
    redundancy = head_redundancy(per_head, measure=heads_spec.measure, threshold=heads_spec.threshold)
    effective = effective_heads(per_head, seed=seed)
    return HeadLayerResult(
        name=layer.name,
        n_heads=layer.n_heads,
        d_head=layer.d_head,
        n_points=int(matrix.shape[0]),
        measure=redundancy.measure,
        method=redundancy.method,
        threshold=redundancy.threshold,
        similarity=tuple(tuple(float(v) for v in row) for row in redundancy.similarity),
        groups=redundancy.groups,
        constant_heads=tuple(redundancy.constant_heads),
        effective_rank=from_estimate("effective_rank", "effective rank of the heads", effective.effective_rank),
        participation_ratio=from_estimate("participation_ratio", "participation ratio of the heads", effective.participation_ratio),
    )


def heads_result(model, probe, layers: list[AttentionLayer], results: list[HeadLayerResult], heads_spec,
                 seed: int, use_accuracy: bool, progress=None) -> HeadsResult:
    """Attach ablation importance to each layer's result and rank every head."""
    importance, measure = {}, None
    if heads_spec.ablation_samples > 0:
        importance, measure = _ablation(model, probe, layers, heads_spec, seed, use_accuracy, progress)
    results = tuple(_with_importance(result, importance.get(result.name)) for result in results)
    ranking = tuple(sorted((HeadRef(r.name, a, v) for r in results if r.importance for a, v in enumerate(r.importance)),
                           key=lambda ref: (ref.importance, ref.layer, ref.head)))
    n_prune = int(np.floor(heads_spec.prune_fraction * len(ranking)))
    return HeadsResult(results, measure, min(heads_spec.ablation_samples, probe.info.n_samples) if measure else 0,
                       ranking, ranking[:n_prune], heads_spec.prune_fraction)


def _with_importance(result: HeadLayerResult, importance):
    return result if importance is None else replace(result, importance=tuple(float(v) for v in importance))


def _ablation(model, probe, layers, heads_spec, seed, use_accuracy, progress):
    texts, labels = probe_subset(probe, heads_spec.ablation_samples, seed)
    baseline = model_outputs(model, texts)
    score = accuracy_score(labels) if use_accuracy else fidelity_score(baseline)
    reference = score(baseline)
    modules = dict(model.module.named_modules())
    bar = progress.bar(sum(layer.n_heads for layer in layers), "head ablation") if progress else None
    importance = {}
    for layer in layers:
        losses = []
        for head in range(layer.n_heads):
            with _zeroed_head(modules[layer.projection], head, layer.d_head):
                losses.append(reference - score(model_outputs(model, texts)))
            if bar:
                bar.update(1)
        importance[layer.name] = losses
    if bar:
        bar.close()
    return importance, ("accuracy drop" if use_accuracy else "1 - mean cosine to the unablated output")


@contextmanager
def _zeroed_head(projection: torch.nn.Module, head: int, d_head: int):
    def zero_slice(module, inputs):
        hidden = inputs[0].clone()
        hidden[..., head * d_head : (head + 1) * d_head] = 0
        return (hidden, *inputs[1:])

    handle = projection.register_forward_pre_hook(zero_slice)
    try:
        yield
    finally:
        handle.remove()

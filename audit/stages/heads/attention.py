"""Attention-head analysis of transformer models: where the heads are, how similar their outputs
are, and how much each one matters when it is switched off.

Each attention layer's per-head contexts (n, T, h * d_head: the heads' value mixtures side by
side, before the output projection mixes them) are read where the family leaves them:

- the BERT family's self-attention (BERT, MiniLM, RoBERTa, ViT...: a module carrying
  ``num_attention_heads`` and ``attention_head_size`` with a sibling ``output.dense``) returns
  them, so they are that module's output;
- GPT-2-, Llama- and Qwen-style attention (a module with ``head_dim`` and ``num_heads``, or the
  ``num_attention_heads`` of its ``config``, and an output projection ``c_proj``, ``o_proj`` or
  ``out_proj``, a ``Linear`` or GPT-2's ``Conv1D``, taking h * d_head features) returns them
  already projected, so they are read as the projection's input (:func:`audit.layers.input_tap`).
  With grouped-query attention (Llama, Qwen: fewer key/value heads) the heads are the query
  heads: each has its own context, though heads of a group share keys and values.

Ablating head ``a`` zeroes its slice of the output projection's input, which removes exactly that
head's contribution, in every family.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import torch

from ...errors import CaptureError
from ...estimators import effective_heads, head_redundancy
from ...layers import input_tap
from ...metrics._base import from_estimate
from ...outputs import accuracy_score, fidelity_score, model_batches, probe_subset
from .result import HeadLayerResult, HeadRef, HeadsResult
from .resume import ResumablePasses

__all__ = ["AttentionLayer", "attention_layers", "head_layer_result", "heads_result"]

_PROJECTIONS = ("o_proj", "c_proj", "out_proj")  # output projections of GPT-2-, Llama- and Qwen-style attention


@dataclass(frozen=True)
class AttentionLayer:
    """One attention layer: ``name`` is its attention module (what results name), ``contexts``
    the capture name holding its concatenated per-head contexts (the module itself, whose output
    they are, or ``input_tap(projection)``), ``projection`` the output projection mixing them,
    whose input slice ablation zeroes."""

    name: str
    projection: str
    n_heads: int
    d_head: int
    contexts: str


def attention_layers(module: torch.nn.Module) -> list[AttentionLayer]:
    """Every attention module with per-head contexts and a findable output projection, in model order."""
    modules = dict(module.named_modules())
    found = [layer for name, child in modules.items() if (layer := _bert_style(name, child, modules) or _projected(name, child))]
    if not found:
        raise CaptureError("heads", "no attention modules with per-head contexts in this model: head analysis reads the "
                                    "BERT family's self-attention (num_attention_heads, attention_head_size and a sibling "
                                    "output.dense) and GPT-2-, Llama- and Qwen-style attention (head_dim, a head count "
                                    f"and an output projection {', '.join(_PROJECTIONS)})")
    return found


def _bert_style(name: str, child: torch.nn.Module, modules: dict) -> AttentionLayer | None:
    """The BERT family: the self-attention module returns the concatenated contexts."""
    n_heads, d_head = getattr(child, "num_attention_heads", None), getattr(child, "attention_head_size", None)
    projection = f"{name.rpartition('.')[0]}.output.dense"
    if isinstance(n_heads, int) and isinstance(d_head, int) and projection in modules:
        return AttentionLayer(name, projection, n_heads, d_head, contexts=name)
    return None


def _projected(name: str, child: torch.nn.Module) -> AttentionLayer | None:
    """GPT-2, Llama, Qwen...: the contexts are what the output projection is called with."""
    if isinstance(child, torch.nn.MultiheadAttention):  # its out_proj is never called as a module: no hook sees it
        return None
    d_head = getattr(child, "head_dim", None)
    n_heads = getattr(child, "num_heads", None)
    if not isinstance(n_heads, int):
        n_heads = getattr(getattr(child, "config", None), "num_attention_heads", None)
    projection = next((attribute for attribute in _PROJECTIONS if isinstance(getattr(child, attribute, None), torch.nn.Module)), None)
    if not (isinstance(d_head, int) and isinstance(n_heads, int) and projection and d_head > 0 and n_heads > 0):
        return None
    if _input_width(getattr(child, projection)) != n_heads * d_head:
        return None
    full = f"{name}.{projection}" if name else projection
    return AttentionLayer(name, full, n_heads, d_head, contexts=input_tap(full))


def _input_width(projection: torch.nn.Module) -> int | None:
    """Features a Linear or a Conv1D (weight stored (in, out)) takes."""
    if isinstance(projection, torch.nn.Linear):
        return projection.in_features
    nx = getattr(projection, "nx", None)  # transformers.pytorch_utils.Conv1D
    return nx if isinstance(nx, int) else None


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
    ready = list(model_batches(model, texts))
    passes = ResumablePasses(model.module, ready, [layer.name for layer in layers])
    baseline = passes.baseline()
    score = accuracy_score(labels) if use_accuracy else fidelity_score(baseline)
    reference = score(baseline)
    modules = dict(model.module.named_modules())
    bar = progress.bar(sum(layer.n_heads for layer in layers), "head ablation") if progress else None
    importance = {}
    for layer in layers:
        losses = []
        for head in range(layer.n_heads):
            with _zeroed_head(modules[layer.projection], head, layer.d_head):
                losses.append(reference - score(passes.outputs(layer.name)))
            if bar:
                bar.update(1)
        importance[layer.name] = losses
    if bar:
        bar.close()
    return importance, ("accuracy drop" if use_accuracy else "1 - mean cosine to the unablated output")


@contextmanager
def _zeroed_head(projection: torch.nn.Module, head: int, d_head: int):
    def zero_slice(module, inputs):
        if not inputs:
            raise CaptureError("heads", f"the output projection {type(module).__name__} was called without a positional "
                                        "input: head ablation cannot zero a head's slice of it")
        hidden = inputs[0].clone()
        hidden[..., head * d_head : (head + 1) * d_head] = 0
        return (hidden, *inputs[1:])

    handle = projection.register_forward_pre_hook(zero_slice)
    try:
        yield
    finally:
        handle.remove()

"""ID of a transformer's input token-embedding matrix, and the LoRA rank it suggests.

Rows are vocabulary entries. TwoNN measures the dimension the rows occupy; the redundancy rate
is 1 - ID / width. The suggested LoRA rank for the embedding layer is the smallest power of two
at or above the upper end of the ID interval: an update of that rank can span the directions
the embeddings use, and powers of two are how LoRA ranks are conventionally set.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...errors import CaptureError
from ...estimators import EstimatorInputError, twonn
from ...metrics._base import capped_at_width, failed, from_estimate
from . import TokenEmbeddingResult

__all__ = ["token_embedding_result", "LORA_RULE"]

LORA_RULE = "smallest power of two at or above the upper end of the TwoNN interval"


def token_embedding_result(module: torch.nn.Module, spec, seed: int) -> TokenEmbeddingResult:
    embedding = _input_embeddings(module)
    name = next(name for name, child in module.named_modules() if child is embedding)
    weight = embedding.weight.detach().float().numpy()
    rows = _sampled_rows(weight, spec.max_rows, seed)
    try:
        found = twonn(rows, seed=seed)
        estimate = from_estimate("twonn", "token-embedding TwoNN ID", found, n_duplicates=found.n_duplicates)
        estimate = capped_at_width(estimate, int(weight.shape[1]))
    except EstimatorInputError as error:
        estimate = failed("twonn", "token-embedding TwoNN ID", error)
    return TokenEmbeddingResult(
        module=name,
        vocab_size=int(weight.shape[0]),
        width=int(weight.shape[1]),
        n_rows=int(rows.shape[0]),
        id=estimate,
        suggested_lora_rank=_lora_rank(estimate),
        lora_rank_rule=LORA_RULE,
    )


def _input_embeddings(module: torch.nn.Module) -> torch.nn.Embedding:
    transformer = getattr(module, "transformer", module)
    getter = getattr(transformer, "get_input_embeddings", None)
    embedding = getter() if getter else None
    if not isinstance(embedding, torch.nn.Embedding):
        raise CaptureError("token_embeddings", "the model exposes no input token embedding (get_input_embeddings)")
    return embedding


def _sampled_rows(weight: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    if not max_rows or max_rows >= weight.shape[0]:
        return weight
    chosen = np.sort(np.random.default_rng(seed).choice(weight.shape[0], max_rows, replace=False))
    return weight[chosen]


def _lora_rank(estimate) -> int | None:
    upper = estimate.ci_high if estimate.ci_high is not None else estimate.value
    if upper is None or not upper > 0:
        return None
    return 2 ** max(0, math.ceil(math.log2(upper)))

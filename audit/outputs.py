"""The model's outputs on a list of samples, and scores of outputs against a reference: the
accuracy on labels, the agreement with a baseline's predictions and the fidelity to a baseline.
Shared by head ablation, the cost stage and the factorization sweep, which all ask "how much
does this change to the model change what it returns?".

Scores are computed in float32 by default; ``dtype=torch.float64`` computes them in double
precision (the sweep's choice).
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from .batches import Batch, batches, first_tensor, masked_mean

__all__ = ["model_outputs", "model_batches", "outputs_of", "batch_outputs", "accuracy_score", "agreement_score", "fidelity_score",
           "accuracy_values", "agreement_values", "fidelity_values", "sample_indices", "probe_subset", "subset",
           "outputs_class_scores", "pooled_rows"]


def model_outputs(model, features, batch_size: int = 64) -> torch.Tensor:
    """``model.module``'s output on ``features``, one flattened row per sample (token states are
    averaged over each text's real tokens)."""
    return outputs_of(model.module, model_batches(model, features, batch_size))


def model_batches(model, features, batch_size: int = 64) -> Iterator[Batch]:
    """``features`` in batches as ``model`` takes them (texts tokenized by its tokenizer)."""
    return batches(features, batch_size, dtype=model.input_dtype, tokenizer=model.tokenizer, max_length=model.max_length)


def outputs_of(module: torch.nn.Module, inputs: Iterable[Batch]) -> torch.Tensor:
    """``module``'s output on ready batches, one row per sample (see :func:`batch_outputs`)."""
    with torch.inference_mode():
        return torch.cat([batch_outputs(module, batch) for batch in inputs])


def batch_outputs(module: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """``module``'s output on one batch as float32 rows: the first tensor it returns, flattened
    after the sample axis; token states (with a mask) are averaged over each text's real tokens."""
    return pooled_rows(first_tensor(batch.run(module)), batch.mask)


def pooled_rows(output, mask) -> torch.Tensor:
    """A batch's output (a tensor or an ONNX Runtime array) as one float32 row per sample, flattened
    after the sample axis; (N, T, C) token states with a (N, T) ``mask`` averaged over the real tokens."""
    output = torch.as_tensor(output)
    if output.ndim == 3 and mask is not None:
        output = masked_mean(output, torch.as_tensor(mask).bool())
    return output.float().flatten(1)


def fidelity_values(baseline: torch.Tensor, *, dtype: torch.dtype = torch.float32):
    """Per-row cosine similarity of outputs to ``baseline`` (a tensor of one value per row)."""
    reference = baseline.to(dtype)
    return lambda outputs: torch.nn.functional.cosine_similarity(outputs.to(dtype), reference, dim=1)


def accuracy_values(labels, *, dtype: torch.dtype = torch.float32):
    """Per-row correctness: 1 where the row's argmax is the label, else 0."""
    truth = torch.as_tensor(labels)
    return lambda outputs: (outputs.argmax(dim=1) == truth).to(dtype)


def agreement_values(baseline: torch.Tensor, *, dtype: torch.dtype = torch.float32):
    """Per-row agreement: 1 where the row's argmax is ``baseline``'s, else 0."""
    return accuracy_values(baseline.argmax(dim=1), dtype=dtype)


def _mean_of(values):
    return lambda outputs: float(values(outputs).mean())


def fidelity_score(baseline: torch.Tensor, *, dtype: torch.dtype = torch.float32):
    """Mean cosine similarity of outputs to ``baseline``, row by row."""
    return _mean_of(fidelity_values(baseline, dtype=dtype))


def accuracy_score(labels, *, dtype: torch.dtype = torch.float32):
    """Share of rows whose argmax is the label."""
    return _mean_of(accuracy_values(labels, dtype=dtype))


def agreement_score(baseline: torch.Tensor, *, dtype: torch.dtype = torch.float32):
    """Share of rows whose argmax is ``baseline``'s (agreement of predictions)."""
    return _mean_of(agreement_values(baseline, dtype=dtype))


def sample_indices(n: int, wanted: int, seed: int) -> np.ndarray:
    """``wanted`` of ``n`` sample indices drawn without replacement with ``seed``, in increasing
    order; all of them when ``wanted`` is 0 or at least ``n``."""
    if wanted == 0 or wanted >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, wanted, replace=False))


def probe_subset(probe, wanted: int, seed: int):
    """``(features, labels)`` of the probe's samples :func:`sample_indices` draws (labels None
    when the probe has none); features stay an array for an array probe, else become a list."""
    return subset(probe.features, probe.labels, sample_indices(probe.info.n_samples, wanted, seed))


def subset(features, labels, chosen):
    """``(features, labels)`` at the indices ``chosen`` (labels None stays None); features stay an
    array for an array, else become a list."""
    picked = features[chosen] if isinstance(features, np.ndarray) else [features[i] for i in chosen]
    return picked, None if labels is None else labels[chosen]


def outputs_class_scores(predictions, labels, output_width: int | None) -> bool:
    """Whether the model's output reads as class scores: predictions exist, and the output is as
    wide as the number of classes (the largest label + 1)."""
    return predictions is not None and labels is not None and output_width == int(labels.max()) + 1

"""Batches of model input from a probe: arrays as tensors, texts through the model's tokenizer.

Each batch carries the samples' first index and, for text, the attention mask, so capture can
skip padding and key every token by (sample, position).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

__all__ = ["Batch", "batches", "last_positions", "masked_mean"]


@dataclass(frozen=True)
class Batch:
    inputs: object  # a tensor, or a mapping of keyword tensors (input_ids, attention_mask, ...)
    mask: torch.Tensor | None  # (samples, positions) True where a token is real, for text
    first_sample: int
    size: int

    def run(self, module):
        return module(**self.inputs) if isinstance(self.inputs, dict) else module(self.inputs)


def batches(features, batch_size: int, *, dtype=torch.float32, tokenizer=None, max_length: int = 0) -> Iterator[Batch]:
    """Batches of ``features`` (an array, or a list of texts with ``tokenizer``)."""
    for start in range(0, len(features), batch_size):
        chunk = features[start : start + batch_size]
        if tokenizer is None:
            yield Batch(torch.as_tensor(np.asarray(chunk)).to(dtype), None, start, len(chunk))
        else:
            encoded = tokenizer(list(chunk), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            inputs = dict(encoded)
            yield Batch(inputs, inputs["attention_mask"].bool(), start, len(chunk))


def masked_mean(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of (N, T, C) ``states`` over the positions where ``mask`` (N, T) is true."""
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def last_positions(mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last true position in a (N, T) ``mask``: a text's last real token
    whatever side its padding is on (0 for a row with none)."""
    return mask.long().cumsum(dim=1).argmax(dim=1)


def n_batches(features, batch_size: int) -> int:
    return (len(features) + batch_size - 1) // batch_size


def first_tensor(output):
    """The tensor a module returned: itself, ``last_hidden_state`` of a model output, or the first
    tensor found in a mapping, tuple or list; None when there is none."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict) or hasattr(output, "keys"):
        if "last_hidden_state" in output:
            return output["last_hidden_state"]
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        return next((first_tensor(item) for item in output if first_tensor(item) is not None), None)
    return None

"""Estimated cost of a model: parameters, bytes per dtype, FLOPs per sample, vector-store memory
and brute-force search work.

FLOPs are counted at the dispatcher with :class:`torch.utils.flop_counter.FlopCounterMode`: every
matrix multiply the forward pass runs is seen, attention's ``Q K^T`` and ``A V`` included (a
module-hook counter sees only the modules' own Linear layers). Torch 2.13's counter has no
formula for the CPU flash-attention kernel (``_scaled_dot_product_flash_attention_for_cpu``), the
kernel ``scaled_dot_product_attention`` takes on the CPU, so it is added here with torch's own
SDPA formula; without it attention would count zero. Counts follow the counter's convention: a
multiply-add is two FLOPs; elementwise work (softmax, norms, activations) is not counted.
"""

from __future__ import annotations

import torch
from torch.utils import flop_counter

__all__ = ["DTYPE_BYTES", "parameter_count", "model_bytes", "flops_per_sample", "store_bytes", "search_flops"]

DTYPE_BYTES = {"float32": 4, "float16": 2, "int8": 1}

_aten = torch.ops.aten


def _cpu_flash_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return flop_counter.sdpa_flop_count(query_shape, key_shape, value_shape)


_EXTRA_FORMULAS = {_aten._scaled_dot_product_flash_attention_for_cpu: _cpu_flash_flops}


def parameter_count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def model_bytes(parameters: int) -> dict[str, int]:
    """Bytes of ``parameters`` weights stored as float32, float16 and int8."""
    return {dtype: parameters * size for dtype, size in DTYPE_BYTES.items()}


def flops_per_sample(module: torch.nn.Module, one_sample) -> int:
    """FLOPs of one forward pass of ``module`` on ``one_sample`` (a tensor, or a mapping of
    keyword tensors, with a batch dimension of 1)."""
    counter = flop_counter.FlopCounterMode(display=False, custom_mapping=_EXTRA_FORMULAS)
    with counter, torch.no_grad():
        module(**one_sample) if isinstance(one_sample, dict) else module(one_sample)
    return int(counter.get_total_flops())


def store_bytes(n_vectors: int, width: int, dtype: str) -> int:
    """A flat vector store: ``n_vectors`` rows of ``width`` values of ``dtype``."""
    return n_vectors * width * DTYPE_BYTES[dtype]


def search_flops(n_vectors: int, width: int) -> int:
    """Exact (brute-force) search of one query: a dot product with each stored vector."""
    return 2 * n_vectors * width

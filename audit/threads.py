"""Torch's intra-op thread count, pinned to one for a block: for bitwise-reproducible results
(a matrix product's rounding depends on how many threads split it) and for LAPACK calls whose
many short parallel sections slow down when another process holds a core."""

from __future__ import annotations

from contextlib import contextmanager

import torch

__all__ = ["one_torch_thread"]


@contextmanager
def one_torch_thread():
    """Within the block torch uses one intra-op thread (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)

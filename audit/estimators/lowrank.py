"""Truncated SVD of weight matrices: one decomposition per layer, reused for every rank.

Pure maths on tensors, no model walking: :func:`factorize` takes a weight (a Linear's
``(out, in)`` or a conv's ``(out, in, *kernel)``, read as the ``(out, in * prod(kernel))``
matrix) and returns its :class:`LowRankFactors`; ``factors.weight(r)`` is the best rank-``r``
approximation in the Frobenius norm (Eckart-Young), in the weight's own shape and dtype, and
``factors.split(r)`` the two thin factors ``A (out, r)``, ``B (r, in...)`` with ``A @ B`` equal
to it (the balanced split ``U sqrt(S)``, ``sqrt(S) Vh``). :func:`factorized_parameters` counts
what a rank-``r`` pair of layers stores, so a cost model can share this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["LowRankFactors", "factorize", "factorized_parameters", "dense_parameters"]


@dataclass(frozen=True)
class LowRankFactors:
    """The thin SVD ``U diag(S) Vh`` of a weight read as a matrix, and the weight's shape.

    ``u``: (out, k); ``s``: (k,) in decreasing order; ``vh``: (k, in * prod(kernel));
    ``k = min(out, in * prod(kernel))`` is ``max_rank``. Held in float64.
    """

    u: torch.Tensor
    s: torch.Tensor
    vh: torch.Tensor
    shape: tuple[int, ...]
    dtype: torch.dtype

    @property
    def max_rank(self) -> int:
        return int(self.s.numel())

    def weight(self, rank: int) -> torch.Tensor:
        """The best rank-``rank`` approximation, shaped and typed like the original weight."""
        r = self._clip(rank)
        return ((self.u[:, :r] * self.s[:r]) @ self.vh[:r]).reshape(self.shape).to(self.dtype)

    def split(self, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(A, B)`` with ``A @ B == weight(rank)`` as matrices: ``A = U_r sqrt(S_r)``, ``B = sqrt(S_r) Vh_r``."""
        r = self._clip(rank)
        root = self.s[:r].sqrt()
        return (self.u[:, :r] * root).to(self.dtype), (root[:, None] * self.vh[:r]).to(self.dtype)

    def energy(self, rank: int) -> float:
        """Share of the squared Frobenius norm the rank-``rank`` approximation keeps."""
        total = float((self.s ** 2).sum())
        return 1.0 if total == 0 else float((self.s[: self._clip(rank)] ** 2).sum()) / total

    def _clip(self, rank: int) -> int:
        if rank < 1:
            raise ValueError(f"rank must be at least 1, got {rank}")
        return min(int(rank), self.max_rank)


def factorize(weight: torch.Tensor) -> LowRankFactors:
    """The thin SVD of ``weight`` (2-D or more; dimensions after the first are flattened)."""
    if weight.ndim < 2:
        raise ValueError(f"a weight to factorize needs at least 2 dimensions, got shape {tuple(weight.shape)}")
    matrix = weight.detach().reshape(weight.shape[0], -1).to(torch.float64).cpu()
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    return LowRankFactors(u=u, s=s, vh=vh, shape=tuple(weight.shape), dtype=weight.dtype)


def dense_parameters(shape: tuple[int, ...]) -> int:
    """Entries of a dense weight of ``shape``."""
    count = 1
    for size in shape:
        count *= int(size)
    return count


def factorized_parameters(shape: tuple[int, ...], rank: int) -> int:
    """Entries of the two factors of a rank-``rank`` weight of ``shape``: ``rank * (out + in)``,
    or the dense count where factorizing would not save (a layer kept dense)."""
    out, inner = int(shape[0]), dense_parameters(shape) // max(int(shape[0]), 1)
    r = min(int(rank), out, inner)
    return min(r * (out + inner), out * inner)

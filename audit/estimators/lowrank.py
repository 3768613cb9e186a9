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


GRAM_SIDE = 1024  # from this smaller side on, the SVD comes from the Gram matrix's eigen-decomposition


def factorize(weight: torch.Tensor) -> LowRankFactors:
    """The thin SVD of ``weight`` (2-D or more; dimensions after the first are flattened), in float64.

    A matrix whose smaller side is at least :data:`GRAM_SIDE` is decomposed through its Gram
    matrix on that side (``W W^T = U S^2 U^T``, then ``Vh = S^-1 U^T W``): several times faster
    than LAPACK's SVD of a 2,048 x 6,144 weight, and every rank-``r`` approximation it gives,
    ``U_r U_r^T W``, is the exact projection onto the top ``r`` singular directions up to float64
    rounding of the Gram matrix (far below a float32 weight's own resolution). Smaller weights
    (every example's) take LAPACK's SVD, as before."""
    if weight.ndim < 2:
        raise ValueError(f"a weight to factorize needs at least 2 dimensions, got shape {tuple(weight.shape)}")
    matrix = weight.detach().reshape(weight.shape[0], -1).to(torch.float64).cpu()
    if min(matrix.shape) >= GRAM_SIDE:
        u, s, vh = _gram_svd(matrix)
    else:
        u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    return LowRankFactors(u=u, s=s, vh=vh, shape=tuple(weight.shape), dtype=weight.dtype)


def _gram_svd(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``U, S, Vh`` of ``matrix`` from the eigen-decomposition of its Gram matrix on the smaller side."""
    wide = matrix.shape[0] <= matrix.shape[1]
    side = matrix if wide else matrix.T
    values, vectors = torch.linalg.eigh(side @ side.T)
    values, vectors = values.flip(0).clamp(min=0), vectors.flip(1)
    s = values.sqrt()
    inverse = torch.where(s > s[0] * max(side.shape) * torch.finfo(torch.float64).eps, 1 / s, torch.zeros_like(s))
    other = (vectors.T @ side) * inverse[:, None]  # rows: the right singular vectors of `side`
    return (vectors, s, other) if wide else (other.T, s, vectors.T)


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

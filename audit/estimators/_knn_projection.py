"""The coordinates the exact neighbour search runs in: the centred points, or PCA lower bounds.

Let ``x_i`` be the centred points and ``V`` (d x p) orthonormal leading principal axes. Split each
point into head coordinates ``h_i = V^T x_i`` and a residual ``r_i = x_i - V h_i`` orthogonal to
the axes, and let ``z_i = (h_i, |r_i|)``. Then

    |z_i - z_j|^2 = |h_i - h_j|^2 + (|r_i| - |r_j|)^2  <=  |h_i - h_j|^2 + |r_i - r_j|^2 = |x_i - x_j|^2

(reverse triangle inequality on the residual) and ``|z_i| = |x_i|``. A search over the p + 1
coordinates of z therefore ranks points by a lower bound of their distance, at a fraction of the
cost when the spectrum leaves little variance outside p axes. Any orthonormal V keeps the bound,
so the axes may come from a sample of rows. Heads and residual norms are computed in float64
(the residual directly, not as ``|x|^2 - |h|^2``, which would cancel) before rounding to float32.

When: the axes are computed only when the plain search costs far more than the eigenproblem
(:func:`worth_examining`). Which p: the candidates are the smallest p leaving at most 1e-2, 1e-3,
1e-4 of the sample's variance outside, with p + 1 at most a third of d. A trial on a few hundred
query points measures the share of rows whose certificate each p fails (those rows are searched
again in full dimension); the p of lowest modelled cost wins, or none if no p saves enough over a
plain search. The leading axes also give the search its row order (:func:`spatial_order`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..threads import one_torch_thread

__all__ = ["Space", "Geometry", "worth_examining", "geometry", "full_space", "choose_space", "spatial_order"]

_MIN_POINTS = 1000
_SAMPLE_ROWS = 4096
_MAX_EIGEN = 1024
_TAIL_LEVELS = (1e-2, 1e-3, 1e-4)
_MAX_SHARE = 1 / 3  # of the features: p + 1 above this is not worth a second pass
_SAMPLE_SHARE = 1 / 4  # of the sampled rows: p above this is not estimated from the sample
_CHUNK_ROWS = 2048
_HEAD_CHUNK_ROWS = 512
_ORDER_AXES = 16


@dataclass(frozen=True)
class Space:
    """Float32 coordinates of every point in search order, and what the certificate needs.

    ``scale`` holds each point's squared norm (float64, centred): float32 rounding of a squared
    distance is bounded relative to it. ``sq_norms`` are the float32 coordinates' squared norms,
    summed in float64 and rounded once. ``rank`` is p for PCA lower bounds, None for the points.
    """

    points: torch.Tensor
    sq_norms: torch.Tensor
    scale: np.ndarray
    rank: int | None = None

    @property
    def n_terms(self) -> int:
        return self.points.shape[1]


@dataclass(frozen=True)
class Geometry:
    """Centre, principal variances (descending, all of them) and leading axes (d x r, float64,
    orthonormal) of a matrix; ``max_rank`` is the largest p worth trying."""

    centre: np.ndarray
    variances: np.ndarray
    axes: torch.Tensor
    max_rank: int

    def ranks(self) -> list[int]:
        """Candidate head sizes p, ascending (empty when pruning cannot pay)."""
        total = self.variances.sum()
        if total <= 0:
            return []
        kept = np.cumsum(self.variances) / total
        ranks = {int(np.searchsorted(kept, 1.0 - level)) + 1 for level in _TAIL_LEVELS}
        return sorted(p for p in ranks if p <= self.max_rank)

    def leading_coordinates(self, matrix: np.ndarray, count: int = _ORDER_AXES) -> np.ndarray:
        """Coordinates of every row on the first ``count`` axes, uncentred (float32 is plenty:
        they only order rows)."""
        axes = self.axes[:, :count].to(torch.float32 if matrix.dtype == np.float32 else torch.float64)
        return (torch.from_numpy(matrix) @ axes).float().numpy()


def spatial_order(coords: np.ndarray, leaf: int = 32) -> np.ndarray:
    """Row order of a k-d tree's leaves (split at the median of the widest coordinate), so that
    rows near in the order are near in space."""
    order = np.arange(coords.shape[0])
    cells = [(0, coords.shape[0])]
    while cells:
        start, stop = cells.pop()
        if stop - start <= leaf:
            continue
        members = order[start:stop]
        values = coords[members]
        widest = np.argmax(values.max(axis=0) - values.min(axis=0))
        half = (stop - start) // 2
        order[start:stop] = members[np.argpartition(values[:, widest], half)]
        cells += [(start, start + half), (start + half, stop)]
    return order


def centre_of(matrix: np.ndarray) -> np.ndarray:
    """Column means in float64 (any centre keeps distances; the mean keeps norms small)."""
    return matrix.mean(axis=0, dtype=np.float64)


def worth_examining(n_points: int, n_features: int) -> bool:
    """Whether a plain search (about n^2 d multiply-adds) costs enough that computing principal
    axes (an eigenproblem of size m = min(d, sample), ~m^3 on one thread) is a small overhead."""
    eigen_size = min(n_features, _SAMPLE_ROWS if n_features <= _MAX_EIGEN else _MAX_EIGEN)
    return n_points >= _MIN_POINTS and eigen_size**3 <= n_points**2 * n_features / 100


def geometry(matrix: np.ndarray) -> Geometry:
    """Principal axes of an evenly spaced sample of rows: up to ``_SAMPLE_ROWS`` when d is at most
    ``_MAX_EIGEN``, else ``_MAX_EIGEN`` rows (the eigenproblem never exceeds that size)."""
    centre = centre_of(matrix)
    n_points, n_features = matrix.shape
    n_sample = min(n_points, _SAMPLE_ROWS if n_features <= _MAX_EIGEN else _MAX_EIGEN)
    rows = np.unique(np.linspace(0, n_points - 1, n_sample).astype(np.int64))
    sample = (torch.from_numpy(matrix[rows]).double() - torch.from_numpy(centre)).float()
    # a sample's spectrum says little about the tail beyond a fraction of its size
    max_rank = int(min(n_features * _MAX_SHARE - 1, rows.size * _SAMPLE_SHARE))
    variances, axes = _principal_axes(sample, max(max_rank, _ORDER_AXES))
    return Geometry(centre=centre, variances=variances / rows.size, axes=axes, max_rank=max_rank)


def _principal_axes(sample: torch.Tensor, count: int) -> tuple[np.ndarray, torch.Tensor]:
    """Eigenvalues (descending) of ``sample^T sample`` and its first ``count`` unit eigenvectors,
    through whichever of the d x d covariance and the s x s Gram matrix is smaller."""
    if sample.shape[0] >= sample.shape[1]:
        values, vectors = _eigh((sample.T @ sample).double())
        return values.numpy(), vectors[:, :count]
    values, vectors = _eigh((sample @ sample.T).double())
    count = min(count, int((values > values[0] * 1e-12).sum()))
    axes = sample.double().T @ (vectors[:, :count] / values[:count].sqrt())
    return values.numpy(), _orthonormal(axes)


def _eigh(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (descending, negatives from rounding set to 0) and eigenvectors, on one thread:
    LAPACK's many short parallel sections slow down by 10-50x when another process holds a core."""
    with one_torch_thread():
        values, vectors = torch.linalg.eigh(matrix)
    return values.flip(0).clamp(min=0), vectors.flip(1)


def _orthonormal(vectors: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis (to float64 rounding) of the columns' span, the first ones first."""
    with one_torch_thread():
        return torch.linalg.qr(vectors).Q


def full_space(ordered: np.ndarray, centre: np.ndarray) -> Space:
    """The centred points themselves in float32 (float32 input is centred in float32: the centre
    only needs to be near the mean, and ``x - c`` rounds relative to its own size)."""
    source = torch.from_numpy(ordered)
    if source.dtype == torch.float32:
        points = source - torch.from_numpy(centre).float()
    else:
        points = torch.empty(source.shape, dtype=torch.float32)
        for rows, centred in _centred_chunks(ordered, centre):
            points[rows] = centred
    scale = _sq_norms(points)
    return Space(points=points, sq_norms=scale.float(), scale=scale.numpy())


def _sq_norms(points: torch.Tensor) -> torch.Tensor:
    """Squared norms of float32 rows summed in float64 (exact but for float64 rounding), chunk by
    chunk: rounded once to float32 they are within one unit of the truth, where a float32 sum
    may be m units off."""
    return torch.cat([points[start : start + _CHUNK_ROWS].double().pow(2).sum(dim=1)
                      for start in range(0, points.shape[0], _CHUNK_ROWS)])


def _centred_chunks(ordered: np.ndarray, centre: np.ndarray, chunk: int = _CHUNK_ROWS):
    """(row slice, float64 centred rows) in chunks, never an n x d float64 temporary."""
    shift = torch.from_numpy(centre)
    for start in range(0, ordered.shape[0], chunk):
        rows = slice(start, start + chunk)
        yield rows, torch.from_numpy(ordered[rows]).double() - shift


@dataclass(frozen=True)
class _Heads:
    """Head coordinates on the first ``p_max`` axes, the residual's squared norm, the squared norm."""

    coords: torch.Tensor
    residual: torch.Tensor
    sq_norms: torch.Tensor

    def space(self, p: int) -> Space:
        """Lower-bound coordinates z = (h[:p], |r_p|); |r_p|^2 adds the dropped heads (no cancellation)."""
        tail = (self.residual + self.coords[:, p:].pow(2).sum(dim=1)).sqrt()
        points = torch.cat([self.coords[:, :p], tail[:, None]], dim=1).float()
        return Space(points=points, sq_norms=_sq_norms(points).float(), scale=self.sq_norms.numpy(), rank=p)


def _heads(ordered: np.ndarray, centre: np.ndarray, basis: torch.Tensor) -> _Heads:
    """Heads on the orthonormal columns of ``basis`` (the bound needs orthonormal axes).

    On one thread, in chunks that stay in cache: the work is a few passes over each chunk
    between two small products, and such short parallel sections slow down several times over
    when another process holds a core (at n = 200,000, d = 768: 4-12 s on two threads, 2-5 s on
    one, on a shared machine)."""
    coords, residual, sq_norms = [], [], []
    with one_torch_thread():
        for _, centred in _centred_chunks(ordered, centre, _HEAD_CHUNK_ROWS):
            head = centred @ basis
            coords.append(head)
            residual.append((centred - head @ basis.T).pow(2).sum(dim=1))
            sq_norms.append(centred.pow(2).sum(dim=1))
    return _Heads(torch.cat(coords), torch.cat(residual), torch.cat(sq_norms))


def choose_space(ordered: np.ndarray, shape: Geometry, failure_share: Callable[[Space], float]) -> Space | None:
    """The PCA lower-bound space of lowest modelled cost, or None when the plain search is cheaper.

    Cost per query row, in multiply-adds per point: (p + 1) / 2 for the symmetric pruned search
    plus d for each row that fails its certificate and is searched again; a plain search costs
    d / 2, and pruning must cost at most a third of that to pay for its extra passes.

    A p whose cost could not beat the best so far even without failures is not tried. The heads
    are computed on the smallest p's axes first (n d p multiply-adds, twice, in float64: at
    n = 200,000 that is seconds per hundred axes), and on all candidate axes only when a larger
    p is tried; the axes are the same orthonormal basis either way.
    """
    ranks = shape.ranks()
    if not ranks:
        return None
    basis = _orthonormal(shape.axes[:, : ranks[-1]])
    heads = _heads(ordered, shape.centre, basis[:, : ranks[0]])
    n_features = ordered.shape[1]
    best, best_cost = None, n_features / 6
    for p in ranks:
        if (p + 1) / 2 >= best_cost:  # ranks ascend: no later p can do better either
            break
        if p > heads.coords.shape[1]:
            heads = _heads(ordered, shape.centre, basis)
        space = heads.space(p)
        failed = failure_share(space)
        cost = (p + 1) / 2 + failed * n_features
        if cost < best_cost:
            best, best_cost = space, cost
        if failed == 0:
            break
    return best

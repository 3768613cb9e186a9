"""Exact k-nearest-neighbour search, shared by every kNN-based estimator.

How it works (and why it is exact):

1. Rows are taken in a search order: the query points first and, when the search is large
   enough to pay for principal axes, each part in k-d tree order on the leading axes, so that
   near points sit in near blocks (heaps fill with good candidates early, and the float64 pass
   below reads memory that is still cached). Results come back in the caller's order.
2. Squared distances are computed block by block with a float32 matrix multiply of centred
   coordinates (distances do not change; cancellation in ``|a|^2 - 2 a.b + |b|^2`` shrinks with
   the norms). The coordinates are either the centred points or, when the spectrum leaves little
   variance outside p << d principal axes, the p + 1 PCA lower-bound coordinates of
   :mod:`._knn_projection`, whose squared distances never exceed the true ones.
3. On the CPU, blocks are taken in symmetric pairs (I, J >= I): one multiply serves the rows of
   I and, transposed, the rows of J, so the search does half the arithmetic of a plain brute
   force. Compiled kernels offer every entry to a bounded per-point max-heap of the
   ``k + extra`` smallest values; the heap's root is a threshold that tightens as blocks stream
   by. Memory is ``O(n (k + extra) + block^2)``: never an n x n matrix. Elsewhere (a GPU) each
   row block is matched against all columns with ``torch.topk``.
4. The kept candidates' distances are recomputed exactly in float64 from coordinate
   differences of the original rows and sorted; the first ``k`` are the answer.
5. Certificate: every point not kept had a float32 value at least the heap's final root ``v``.
   That value is at most the true squared distance (a lower bound's is smaller still) plus its
   float32 rounding, below ``err = (m + 24) 2^-24 (|x_i|^2 + max_j |x_j|^2)`` for m coordinates
   (the multiply, the norms, summed in float64 and rounded once, and the rounding of the
   coordinates to float32; m is taken as gamma_m / 2^-24 = m / (1 - m 2^-24)). If
   ``v - err`` exceeds the exact k-th squared distance, no discarded point can be nearer than
   the k-th kept one. Rows that fail (near-ties at the boundary, huge offsets, neighbours told
   apart only outside the principal axes, tight clusters far from the centre) are searched
   again: in all d coordinates when the first pass was pruned; then, if still uncertified, by
   collecting every point whose float32 value, less that pair's own bound (``err`` with
   ``|x_j|^2`` in place of the maximum), is at most the row's exact k-th candidate distance:
   the true k nearest are among them and are measured exactly; a row collecting too many
   points (more than 4096) is searched in float64.

``query_points`` restricts the search to a seeded random subset of query points whose
neighbours are still searched among all points: the per-point statistics of large data sets
keep their scale while the cost falls to ``m n d``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from . import _knn_projection as projection
from ._distinct import DistinctRows, distinct_rows
from ._input import EstimatorInputError, as_matrix, check_int, rng_from
from ._knn_blocks import (
    _EXTRA_CANDIDATES,
    _search_float64,
    _search_rows,
    _search_symmetric,
    _search_torch,
    _search_within,
    _select_exact,
    _uncertified,
)

__all__ = ["Neighbors", "nearest_neighbors", "neighbors_for", "resolve_device"]

_TRIAL_QUERIES = 256


@dataclass(frozen=True)
class Neighbors:
    """The ``k`` nearest neighbours of ``query_index`` rows among all ``n_points`` rows of X.

    ``distances[i, j]`` is the exact (float64) Euclidean distance from point ``query_index[i]``
    to its (j+1)-th nearest other point ``indices[i, j]``, ascending along each row.
    ``n_recertified`` counts the query rows whose first certificate failed and that were
    searched again (in full dimension and, if need be, in float64).

    A search of distinct points (``distinct=True``) ran on one row per distinct point: its
    queries and neighbours are those rows (the first of each set of equal rows), so no distance
    is zero, and ``multiplicity[i]`` says how many rows of X equal query ``i``.
    """

    distances: np.ndarray
    indices: np.ndarray
    query_index: np.ndarray
    n_points: int
    n_features: int
    method: str
    n_recertified: int = 0
    multiplicity: np.ndarray | None = None
    n_distinct: int | None = None

    @property
    def k(self) -> int:
        return self.distances.shape[1]

    @property
    def n_queries(self) -> int:
        return self.distances.shape[0]

    @property
    def is_duplicate(self) -> np.ndarray:
        """Query points at distance zero from their nearest neighbour (exact duplicates; none in a
        search of distinct points)."""
        return self.distances[:, 0] == 0.0

    @property
    def n_duplicates(self) -> int:
        """Rows, among those the queries stand for, that have an identical copy in X."""
        if self.multiplicity is None:
            return int(self.is_duplicate.sum())
        return int(self.multiplicity[self.multiplicity > 1].sum())

    @property
    def n_rows_queried(self) -> int:
        """Rows of X the queries stand for (a distinct query stands for all its copies)."""
        return self.n_queries if self.multiplicity is None else int(self.multiplicity.sum())

    @property
    def n_searched(self) -> int:
        """Points the neighbours were searched among: the distinct ones in a distinct search."""
        return self.n_points if self.n_distinct is None else self.n_distinct

    def require(self, k: int, X_shape: tuple[int, int]) -> "Neighbors":
        """Check these neighbours fit a matrix of ``X_shape`` and hold at least ``k`` per point."""
        if (self.n_points, self.n_features) != tuple(X_shape):
            raise EstimatorInputError(
                f"neighbors were computed on a {self.n_points} x {self.n_features} matrix, "
                f"not on this {X_shape[0]} x {X_shape[1]} one"
            )
        if self.k < k:
            raise EstimatorInputError(f"neighbors hold {self.k} per point; this estimate needs {k}")
        return self


def resolve_device(device) -> torch.device:
    """``"auto"`` picks CUDA when torch sees a GPU, else the CPU; anything else goes to torch."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise EstimatorInputError(f"unknown device {device!r}: {error}") from None


def nearest_neighbors(
    X,
    *,
    k: int,
    query_points: int | None = None,
    seed=0,
    device="auto",
    block_size: int = 2048,
    distinct: bool = False,
) -> Neighbors:
    """Exact ``k`` nearest neighbours (Euclidean, excluding the point itself) of every row of X,
    or of ``query_points`` seeded random rows searched among all rows.

    Parameters
    ----------
    X : array (n, d) or torch tensor
    k : number of neighbours, 1 <= k < n.
    query_points : if set and smaller than n, only that many random rows are queried.
    seed : seed of the query sample (unused without ``query_points``).
    device : ``"auto"`` (GPU when torch sees one), ``"cpu"``, or a torch device string.
    block_size : rows per block; memory is about ``4 block_size^2`` bytes per block (four times
        that when ``query_points`` are searched: their column blocks are four row blocks wide).
    distinct : collapse exact duplicate rows first and search the distinct points (what the
        estimators do; then 1 <= k < the number of distinct points).
    """
    matrix = as_matrix(X, min_points=2, keep_float32=True)
    search = {"query_points": query_points, "seed": seed, "device": device, "block_size": block_size}
    return neighbors_for(matrix, k, None, distinct=distinct, **search)


def neighbors_for(matrix: np.ndarray, k: int, neighbors: Neighbors | None, *, distinct=False, **search) -> Neighbors:
    """``neighbors`` checked against ``matrix`` (already through ``as_matrix``) and ``k``, or a
    fresh search of ``matrix`` with the ``search`` options of :func:`nearest_neighbors`.

    ``distinct``: False searches every row; True (or the :class:`DistinctRows` of ``matrix``,
    when already known) collapses exact duplicate rows first and searches the distinct points.
    """
    if neighbors is not None:
        return neighbors.require(k, matrix.shape)
    if distinct is False:
        return _search(matrix, k, **search)
    return _on_distinct_rows(matrix, distinct_rows(matrix) if distinct is True else distinct, k, search)


def _on_distinct_rows(matrix: np.ndarray, rows: DistinctRows, k: int, search: dict) -> Neighbors:
    """A search of the distinct rows, its positions mapped back to rows of ``matrix`` (no copy
    and no mapping when every row is distinct)."""
    if rows.all_distinct:
        found = _search(matrix, k, **search)
        return replace(found, multiplicity=_readonly(np.ones(found.n_queries, dtype=np.int64)), n_distinct=rows.n_rows)
    if rows.n_distinct < 2:
        raise EstimatorInputError(f"X has {rows.n_distinct} distinct points; a neighbour search needs at least 2")
    found = _search(matrix[rows.index], k, **search)
    return replace(
        found,
        indices=_readonly(rows.index[found.indices]),
        query_index=_readonly(rows.index[found.query_index]),
        n_points=rows.n_rows,
        method=f"{found.method}, on the {rows.n_distinct} distinct of {rows.n_rows} rows",
        multiplicity=_readonly(rows.counts[found.query_index]),
        n_distinct=rows.n_distinct,
    )


def _search(matrix, k, *, query_points=None, seed=0, device="auto", block_size=2048) -> Neighbors:
    n_points = matrix.shape[0]
    k = check_int(k, "k", low=1, high=n_points - 1)
    block_size = check_int(block_size, "block_size", low=16)
    torch_device = resolve_device(device)
    job_order, n_queries = _query_order(n_points, query_points, seed)
    shape = projection.geometry(matrix) if projection.worth_examining(*matrix.shape) else None
    order, back = _search_order(job_order, n_queries, matrix, shape)
    job = _Job(matrix[order], k, n_queries, torch_device, block_size)
    centre = shape.centre if shape is not None else projection.centre_of(matrix)
    space = _first_space(job, shape, centre)
    exact, found, n_recertified = job.solve(space, centre)
    return Neighbors(
        distances=_readonly(np.sqrt(exact)[back]),
        indices=_readonly(order[found][back]),
        query_index=_readonly(job_order[:n_queries].copy()),
        n_points=n_points,
        n_features=matrix.shape[1],
        method=_describe(job, space),
        n_recertified=n_recertified,
    )


def _query_order(n_points: int, query_points, seed) -> tuple[np.ndarray, int]:
    """A row order that puts the query points first, and how many there are."""
    if query_points is None or query_points >= n_points:
        return np.arange(n_points), n_points
    n_queries = check_int(query_points, "query_points", low=2)
    return rng_from(seed).permutation(n_points), n_queries


def _search_order(job_order, n_queries, matrix, shape) -> tuple[np.ndarray, np.ndarray]:
    """``job_order`` with the queries and the other rows each in k-d tree order on the leading
    principal axes, and where each query of ``job_order`` landed (to put results back)."""
    if shape is None:
        return job_order, np.arange(n_queries)
    coords = shape.leading_coordinates(matrix)[job_order]
    queries = projection.spatial_order(coords[:n_queries])
    rest = n_queries + projection.spatial_order(coords[n_queries:])
    back = np.empty(n_queries, dtype=np.int64)
    back[queries] = np.arange(n_queries)
    return job_order[np.concatenate([queries, rest])], back


def _first_space(job: "_Job", shape, centre) -> projection.Space:
    """PCA lower bounds when a trial on a few queries says they pay, else the centred points."""
    pruned = None
    if shape is not None and job.k + _EXTRA_CANDIDATES < job.n_points - 1:
        trial = np.unique(np.linspace(0, job.n_queries - 1, min(job.n_queries, _TRIAL_QUERIES)).astype(np.int64))
        pruned = projection.choose_space(job.ordered, shape, lambda space: job.run(space, trial)[2].size / trial.size)
    return pruned if pruned is not None else projection.full_space(job.ordered, centre)


@dataclass(frozen=True)
class _Job:
    """One search: rows in search order (queries first, original values) and its options."""

    ordered: np.ndarray
    k: int
    n_queries: int
    device: torch.device
    block_size: int

    @property
    def n_points(self) -> int:
        return self.ordered.shape[0]

    def solve(self, space, centre) -> tuple[np.ndarray, np.ndarray, int]:
        """Exact squared distances and positions of every query's k nearest; rows re-searched."""
        exact, found, failed = self.run(space)
        n_recertified = failed.size
        full = space
        if failed.size and space.rank is not None:
            full = projection.full_space(self.ordered, centre)
            exact[failed], found[failed], still = self.run(full, failed)
            failed = failed[still]
        if failed.size:
            exact[failed], found[failed], still = _search_within(self.ordered, full, failed, exact[failed, -1],
                                                                 self.k, self.block_size)
            failed = failed[still]
        if failed.size:
            exact[failed], found[failed] = _search_float64(self.ordered, failed, self.k)
        return exact, found, n_recertified

    def run(self, space, queries=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Search ``queries`` (positions; None: all queries) in ``space``: exact squared distances
        and positions of their k nearest candidates, and which of them failed the certificate."""
        keep = min(self.n_points - 1, self.k + _EXTRA_CANDIDATES)
        rows = np.arange(self.n_queries) if queries is None else queries
        roots, candidates = self._candidates(space, rows, keep)
        exact, found = _select_exact(self.ordered, rows, candidates, self.k)
        if keep == self.n_points - 1:  # every point was a candidate: nothing to certify
            return exact, found, np.empty(0, dtype=np.int64)
        return exact, found, _uncertified(roots, space, rows, exact[:, -1])

    def _candidates(self, space, rows, keep):
        if self.device.type != "cpu":
            points, sq_norms = space.points.to(self.device), space.sq_norms.to(self.device)
            return _search_torch(points, sq_norms, rows, keep, self.block_size)
        if rows.size == self.n_points:  # every point, in order: symmetric block pairs
            return _search_symmetric(space.points, space.sq_norms.numpy(), keep, self.block_size)
        return _search_rows(space.points, space.sq_norms.numpy(), rows, keep, self.block_size)


def _describe(job: _Job, space: projection.Space) -> str:
    n_queries, n_points = job.n_queries, job.n_points
    scope = "all points" if n_queries == n_points else f"{n_queries} random query points of {n_points}"
    coordinates = "" if space.rank is None else f" of PCA-pruned p={space.rank} lower bounds"
    return (
        f"exact kNN (k={job.k}, {scope}, float32 search{coordinates} on {job.device.type}, "
        f"float64 distances, certified)"
    )


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array

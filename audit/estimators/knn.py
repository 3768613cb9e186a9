"""Exact k-nearest-neighbour search, shared by every kNN-based estimator.

How it works (and why it is exact):

1. The matrix is centred (distances do not change; float32 cancellation in
   ``|x|^2 - 2 x.y + |y|^2`` shrinks with the norms) and squared distances are computed block by
   block with a float32 matrix multiply.
2. On the CPU, blocks are taken in symmetric pairs (I, J >= I): one multiply serves the rows of
   I and, transposed, the rows of J, so the search does half the arithmetic of a plain brute
   force. Compiled kernels offer every entry to a bounded per-point max-heap of the
   ``k + extra`` smallest values; the heap's root is a threshold that tightens as blocks
   stream by. Memory is ``O(n (k + extra) + block^2)``: never an n x n matrix. Elsewhere (a GPU)
   each row block is matched against all columns with ``torch.topk``.
3. The kept candidates' distances are recomputed exactly in float64 from coordinate
   differences and sorted; the first ``k`` are the answer.
4. Certificate: every point not kept had a float32 squared distance at least the heap's final
   root ``v``; float32 rounding moves a squared distance by at most
   ``err = (d + 8) 2^-24 (|x_i|^2 + max_j |x_j|^2)``. If ``v - err`` exceeds the exact k-th squared
   distance, no discarded point can be nearer than the k-th kept one. Rows that fail the
   certificate (near-ties at the boundary, huge offsets) are searched again in float64.

``query_points`` restricts the search to a seeded random subset of query points whose
neighbours are still searched among all points: the per-point statistics of large data sets
keep their scale while the cost falls to ``m n d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import _knn_kernels as kernels
from ._input import EstimatorInputError, as_matrix, check_int, rng_from

__all__ = ["Neighbors", "nearest_neighbors", "neighbors_for", "resolve_device"]

_EXTRA_CANDIDATES = 8
_FP32_UNIT_ROUNDOFF = 2.0**-24


@dataclass(frozen=True)
class Neighbors:
    """The ``k`` nearest neighbours of ``query_index`` rows among all ``n_points`` rows of X.

    ``distances[i, j]`` is the exact (float64) Euclidean distance from point ``query_index[i]``
    to its (j+1)-th nearest other point ``indices[i, j]``, ascending along each row.
    """

    distances: np.ndarray
    indices: np.ndarray
    query_index: np.ndarray
    n_points: int
    n_features: int
    method: str
    n_recertified: int = 0

    @property
    def k(self) -> int:
        return self.distances.shape[1]

    @property
    def n_queries(self) -> int:
        return self.distances.shape[0]

    @property
    def is_duplicate(self) -> np.ndarray:
        """Query points at distance zero from their nearest neighbour (exact duplicates)."""
        return self.distances[:, 0] == 0.0

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
    block_size : rows per block; memory is about ``4 block_size^2`` bytes per block.
    """
    matrix = as_matrix(X, min_points=2, keep_float32=True)
    n_points, n_features = matrix.shape
    k = check_int(k, "k", low=1, high=n_points - 1)
    block_size = check_int(block_size, "block_size", low=16)
    order, n_queries = _query_order(n_points, query_points, seed)
    points, sq_norms = _centred_float32(matrix, order)
    torch_device = resolve_device(device)
    keep = min(n_points - 1, k + _EXTRA_CANDIDATES)
    if torch_device.type == "cpu":
        roots, candidates = _search_cpu(points, sq_norms, n_queries, keep, block_size)
    else:
        roots, candidates = _search_torch(points.to(torch_device), sq_norms.to(torch_device), n_queries, keep, block_size)
    exact, neighbours = _select_exact(matrix, order[:n_queries], order[candidates], k)
    failed = np.empty(0, dtype=np.int64)
    if keep < n_points - 1:  # otherwise every point was a candidate: nothing to certify
        failed = _uncertified(roots, sq_norms.numpy(), exact[:, -1], n_features)
    if failed.size:
        exact[failed], neighbours[failed] = _search_float64(matrix, order[failed], k)
    return Neighbors(
        distances=_readonly(np.sqrt(exact)),
        indices=_readonly(neighbours),
        query_index=_readonly(order[:n_queries].copy()),
        n_points=n_points,
        n_features=n_features,
        method=_describe(k, n_queries, n_points, torch_device),
        n_recertified=int(failed.size),
    )


def _centred_float32(matrix: np.ndarray, order: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows in search order, centred (distances unchanged, cancellation smaller), as float32."""
    source = torch.from_numpy(matrix)
    mean = source.mean(dim=0, dtype=torch.float64)
    if not np.array_equal(order, np.arange(order.size)):
        source = source[torch.from_numpy(order)]
    points = (source.double() - mean).float()
    return points, points.pow(2).sum(dim=1)


def neighbors_for(matrix: np.ndarray, k: int, neighbors: Neighbors | None, **search) -> Neighbors:
    """``neighbors`` checked against ``matrix`` and ``k``, or a fresh search with ``search`` options."""
    if neighbors is not None:
        return neighbors.require(k, matrix.shape)
    check_int(k, "k", low=1, high=matrix.shape[0] - 1)
    return nearest_neighbors(matrix, k=k, **search)


def _query_order(n_points: int, query_points, seed) -> tuple[np.ndarray, int]:
    """A row order that puts the query points first, and how many there are."""
    if query_points is None or query_points >= n_points:
        return np.arange(n_points), n_points
    n_queries = check_int(query_points, "query_points", low=2)
    return rng_from(seed).permutation(n_points), n_queries


def _describe(k: int, n_queries: int, n_points: int, device: torch.device) -> str:
    scope = "all points" if n_queries == n_points else f"{n_queries} random query points of {n_points}"
    return f"exact kNN (k={k}, {scope}, float32 search on {device.type}, float64 distances, certified)"


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _sq_distance_block(points, sq_norms, rows: slice, cols: slice) -> torch.Tensor:
    base = sq_norms[rows, None] + sq_norms[None, cols]
    return torch.addmm(base, points[rows], points[cols].T, beta=1.0, alpha=-2.0)


def _search_cpu(points, sq_norms, n_queries, keep, block_size):
    n_points = points.shape[0]
    heap_values = np.full((n_queries, keep), np.inf, dtype=np.float32)
    heap_indices = np.full((n_queries, keep), -1, dtype=np.int64)
    n_chunks = 4 * torch.get_num_threads()
    symmetric = n_queries == n_points
    for row_start in range(0, n_queries, block_size):
        rows = slice(row_start, min(n_queries, row_start + block_size))
        first_col = row_start if symmetric else 0
        for col_start in range(first_col, n_points, block_size):
            cols = slice(col_start, min(n_points, col_start + block_size))
            block = _sq_distance_block(points, sq_norms, rows, cols).numpy()
            kernels.push_rows(block, row_start, col_start, heap_values, heap_indices)
            if symmetric and col_start != row_start:
                kernels.push_columns(block, row_start, col_start, heap_values, heap_indices, n_chunks)
    return heap_values.max(axis=1), heap_indices


def _search_torch(points, sq_norms, n_queries, keep, block_size):
    """Row blocks against all columns with ``torch.topk`` (used on GPUs)."""
    n_points = points.shape[0]
    roots, found = [], []
    for row_start in range(0, n_queries, block_size):
        rows = slice(row_start, min(n_queries, row_start + block_size))
        block = _sq_distance_block(points, sq_norms, rows, slice(0, n_points))
        block[torch.arange(block.shape[0]), torch.arange(rows.start, rows.stop)] = float("inf")
        values, indices = torch.topk(block, keep, dim=1, largest=False, sorted=False)
        roots.append(values.max(dim=1).values.cpu())
        found.append(indices.cpu())
    return torch.cat(roots).numpy(), torch.cat(found).numpy().astype(np.int64)


def _select_exact(matrix, query_rows, candidates, k):
    """Exact float64 squared distances of the candidates (rows of ``matrix``), the ``k`` nearest."""
    exact = kernels.exact_sq_distances(matrix, query_rows, candidates)
    order = np.argsort(exact, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(exact, order, axis=1), np.take_along_axis(candidates, order, axis=1)


def _uncertified(roots, sq_norms, kth_sq_distance, n_features) -> np.ndarray:
    """Queries whose discarded points might, within float32 rounding, beat the k-th kept one.

    ``sq_norms`` are the float32 squared norms of the centred rows (queries first); the factor
    2 on the rounding bound covers the rounding of those norms themselves.
    """
    norms = sq_norms.astype(np.float64)
    bound = 2 * (n_features + 8) * _FP32_UNIT_ROUNDOFF * (norms[: roots.size] + norms.max())
    return np.flatnonzero(~(roots.astype(np.float64) - bound > kth_sq_distance))


def _search_float64(matrix, query_rows, k, block_size: int = 256):
    """Brute force in float64 for the queries the float32 certificate could not vouch for."""
    points = torch.from_numpy(matrix).double()
    points = points - points.mean(dim=0)
    sq_norms = (points * points).sum(dim=1)
    keep = min(points.shape[0] - 1, k + _EXTRA_CANDIDATES)
    distances = np.empty((query_rows.size, k))
    indices = np.empty((query_rows.size, k), dtype=np.int64)
    for start in range(0, query_rows.size, block_size):
        batch = torch.from_numpy(query_rows[start : start + block_size])
        block = sq_norms[batch, None] + sq_norms[None, :] - 2.0 * points[batch] @ points.T
        block[torch.arange(batch.numel()), batch] = float("inf")
        candidates = torch.topk(block, keep, dim=1, largest=False).indices.numpy()
        found = slice(start, start + batch.numel())
        distances[found], indices[found] = _select_exact(matrix, batch.numpy(), candidates, k)
    return distances, indices

"""The block searches and the certification of the exact kNN search (:mod:`.knn`): candidate
neighbours from blocks of the distance matrix (both halves of a symmetric block at once, rows
against column blocks, or torch on a device), their exact float64 distances, which rows the
rounding bound cannot certify, and the re-search of those within their own bound (or, last, a
float64 brute force)."""

from __future__ import annotations

import numpy as np
import torch

from . import _knn_kernels as kernels
from . import _knn_projection as projection
from ._knn_fill import fill_rows

_EXTRA_CANDIDATES = 16  # candidates kept beyond k (8: 4,085 of MPNet's 20,000 token states failed the certificate, 16: 2,818)
_ROWS_WIDTH = 4  # column blocks of a search of some rows: this many row blocks wide
_WITHIN_ENTRIES = 2**23  # candidate slots of the within-bound re-search (64 MB)
_FP32_UNIT_ROUNDOFF = 2.0**-24


def _empty_heaps(n_rows: int, keep: int):
    values = np.full((n_rows, keep), np.inf, dtype=np.float32)
    return values, np.full((n_rows, keep), -1, dtype=np.int64), np.full(n_rows, np.inf, dtype=np.float32)


def _search_symmetric(points, sq_norms, keep, block_size):
    """Every point against every other, over block pairs (I, J >= I): the diagonal first (each
    row's first block, selected into its empty heap), then pairs further and further apart in
    the search order."""
    n_points = points.shape[0]
    heap_values, heap_indices, roots = _empty_heaps(n_points, keep)
    positions = np.arange(n_points)
    n_chunks = 4 * torch.get_num_threads()
    starts = range(0, n_points, block_size)
    for offset in range(len(starts)):
        for row_start, col_start in zip(starts, starts[offset:]):
            rows, cols = slice(row_start, row_start + block_size), slice(col_start, col_start + block_size)
            dots = (points[rows] @ points[cols].T).numpy()
            offer_rows = kernels.push_rows if offset else fill_rows
            offer_rows(dots, sq_norms[rows], sq_norms[cols], positions[rows], row_start, col_start,
                       heap_values, heap_indices, roots)
            if offset:
                kernels.push_columns(dots, sq_norms[rows], sq_norms[cols], row_start, col_start,
                                     heap_values, heap_indices, roots, n_chunks)
    return roots, heap_indices


def _search_rows(points, sq_norms, queries, keep, block_size):
    """The points at positions ``queries`` against all points, block by block: column blocks
    ``_ROWS_WIDTH`` times as wide (fewer, longer products and kernel calls), visited nearest
    first (by their centres' distance to the row block's), so that the heaps' thresholds are
    tight early and most later entries fail the vectorised test."""
    heap_values, heap_indices, roots = _empty_heaps(queries.size, keep)
    query_points = points[torch.from_numpy(queries)]
    width = block_size * _ROWS_WIDTH
    col_starts = np.arange(0, points.shape[0], width)
    col_centres = torch.stack([points[start : start + width].mean(dim=0) for start in col_starts])
    for row_start in range(0, queries.size, block_size):
        rows = slice(row_start, row_start + block_size)
        nearest_first = torch.cdist(query_points[rows].mean(dim=0, keepdim=True), col_centres)[0].argsort()
        for visit, col_start in enumerate(col_starts[nearest_first.numpy()]):
            cols = slice(col_start, col_start + width)
            dots = (query_points[rows] @ points[cols].T).numpy()
            offer_rows = kernels.push_rows if visit else fill_rows
            offer_rows(dots, sq_norms[queries[rows]], sq_norms[cols], queries[rows], row_start, int(col_start),
                       heap_values, heap_indices, roots)
    return roots, heap_indices


def _search_torch(points, sq_norms, queries, keep, block_size):
    """The points at positions ``queries`` against all columns with ``torch.topk`` (used on GPUs)."""
    roots, found = [], []
    for start in range(0, queries.size, block_size):
        batch = torch.from_numpy(queries[start : start + block_size]).to(points.device)
        base = sq_norms[batch, None] + sq_norms[None, :]
        block = torch.addmm(base, points[batch], points.T, beta=1.0, alpha=-2.0)
        block[torch.arange(batch.numel(), device=points.device), batch] = float("inf")
        values, indices = torch.topk(block, keep, dim=1, largest=False, sorted=False)
        roots.append(values.max(dim=1).values.cpu())
        found.append(indices.cpu())
    return torch.cat(roots).numpy(), torch.cat(found).numpy().astype(np.int64)


def _select_exact(matrix, query_rows, candidates, k):
    """Exact float64 squared distances of the candidates (rows of ``matrix``), the ``k`` nearest."""
    exact = kernels.exact_sq_distances(matrix, query_rows, candidates)
    order = np.argsort(exact, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(exact, order, axis=1), np.take_along_axis(candidates, order, axis=1)


def _rounding_slack(space: projection.Space) -> float:
    """Bound on a float32 squared distance's rounding, per unit of the pair's ``scale`` sum.

    For ``|a|^2 + |b|^2 - 2 a.b`` over m coordinates: the float32 product's error is at most
    ``gamma_m |a||b| <= gamma_m (|a|^2 + |b|^2) / 2`` (``gamma_m = m u / (1 - m u)``), doubled;
    the norms (summed in float64, rounded once) and the two float32 additions add at most 4
    units, for which 8 are allowed; 16 further units cover the rounding of the coordinates
    themselves to float32 (at most 4 units).
    """
    m_units = space.n_terms / (1 - space.n_terms * _FP32_UNIT_ROUNDOFF)  # gamma_m / u
    return (m_units + 8 + 16) * _FP32_UNIT_ROUNDOFF


def _uncertified(roots, space, query_rows, kth_sq_distance) -> np.ndarray:
    """Queries whose discarded points might, within float32 rounding, beat the k-th kept one.

    ``roots`` are float32 values computed from ``space`` (centred points or PCA lower bounds),
    within :func:`_rounding_slack` times the pair's squared norms of the truth.
    """
    bound = _rounding_slack(space) * (space.scale[query_rows] + space.scale.max())
    return np.flatnonzero(~(roots.astype(np.float64) - bound > kth_sq_distance))


def _search_within(matrix, space, query_rows, limits, k, block_size):
    """Queries whose certificate failed, searched again by collecting every point whose float32
    squared distance in the centred ``space``, less that pair's own rounding bound, is at most the
    query's limit (the k-th of its exact candidate distances, so at least its true k-th): the
    true k nearest are all collected, and measured exactly. The bound of each pair scales with
    both points' squared norms, not with the largest norm, so near-duplicate clusters far from
    the centre, where the heap's certificate cannot hold, are settled here in float32.

    Returns the exact squared distances and positions of the k nearest, and which of the queries
    collected more points than fit (those are left to the float64 search)."""
    n_points = space.points.shape[0]
    capacity = _within_capacity(n_points, query_rows.size, k)
    found = np.full((query_rows.size, capacity), -1, dtype=np.int64)
    counts = np.zeros(query_rows.size, dtype=np.int64)
    points, sq_norms, slack = space.points, space.sq_norms.numpy(), _rounding_slack(space)
    query_points = points[torch.from_numpy(query_rows)]
    for row_start in range(0, query_rows.size, block_size):
        rows = slice(row_start, row_start + block_size)
        queries = query_rows[rows]
        for col_start in range(0, n_points, block_size):
            cols = slice(col_start, col_start + block_size)
            dots = (query_points[rows] @ points[cols].T).numpy()
            kernels.collect_within(dots, sq_norms[queries], sq_norms[cols], space.scale[queries], space.scale[cols],
                                   slack, limits[rows], queries, col_start, found[rows], counts[rows])
    settled = (counts >= k) & (counts <= capacity)
    exact = np.full((query_rows.size, k), np.inf)
    nearest = np.full((query_rows.size, k), -1, dtype=np.int64)
    if settled.any():
        collected = found[settled, : counts[settled].max()]
        exact[settled], nearest[settled] = _select_exact(matrix, query_rows[settled], collected, k)
    return exact, nearest, np.flatnonzero(~settled)


def _within_capacity(n_points: int, n_queries: int, k: int) -> int:
    """Points each query of :func:`_search_within` may collect: 4096 (fewer when many queries
    share ``_WITHIN_ENTRIES``, never below four times the heap's size)."""
    return min(n_points - 1, max(4 * (k + _EXTRA_CANDIDATES), min(4096, _WITHIN_ENTRIES // n_queries)))


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

"""Compiled inner loops of the CPU neighbour search (numba).

The matrix multiply that yields dot products runs in torch (BLAS); these kernels do what BLAS
cannot: turn each dot product into a squared distance ``|a|^2 + |b|^2 - 2 a.b`` (float32, the
same operations as ``torch.addmm``) and keep, per point, the ``kc`` smallest seen so far in a
bounded max-heap (so the selection threshold tightens as blocks stream by and no n x n matrix is
ever held), and recompute the kept neighbours' distances exactly in float64.

Each point's heap root is mirrored in a contiguous ``roots`` array, so a run of ``_LANES``
entries is first tested against the thresholds with one vectorised comparison; only a run that
holds a candidate is walked entry by entry.
"""

from __future__ import annotations

import numba
import numpy as np

_LANES = 32
_TWO = np.float32(2.0)


@numba.njit(inline="always")
def _sift_down(values, indices, pos, size):
    """Move the entry at ``pos`` of a max-heap row down until its children are no larger."""
    value, index = values[pos], indices[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and values[child + 1] > values[child]:
            child += 1
        if values[child] <= value:
            break
        values[pos] = values[child]
        indices[pos] = indices[child]
        pos = child
    values[pos] = value
    indices[pos] = index


@numba.njit(inline="always")
def _heap_replace_root(values, indices, value, index):
    """Replace the root (largest) of one max-heap row and restore the heap property."""
    values[0] = value
    indices[0] = index
    _sift_down(values, indices, 0, values.shape[0])


@numba.njit(inline="always")
def _any_below(values, norms, row_norm, thresholds):
    """Whether one of ``_LANES`` entries gives a squared distance below its threshold (vectorised:
    the slices start at 0, so no index can wrap around)."""
    hits = 0
    for lane in range(_LANES):
        hits += row_norm + norms[lane] - _TWO * values[lane] < thresholds[lane]
    return hits > 0


@numba.njit(inline="always")
def _outward(centre, step, n_runs):
    """The ``step``-th of ``n_runs`` runs visited outward from ``centre``: 0, +1, -1, +2, -2, ..."""
    offset = (step + 1) // 2 if step % 2 else -(step // 2)
    return (centre + offset) % n_runs


@numba.njit(parallel=True, cache=True, nogil=True)
def push_rows(dots, row_norms, col_norms, self_ids, heap_start, col_start, heap_values, heap_indices, roots):
    """Offer every entry of a block to its row's heap.

    ``dots[r, c]`` is the dot product of query ``heap_start + r`` (the point at position
    ``self_ids[r]``, which is skipped as its own neighbour) with point ``col_start + c``. Runs of
    columns are visited outward from the row's own point (when it lies in the block): in search
    order its first candidates are near ones, so fewer entries enter the heap only to leave it.
    """
    n_rows, n_cols = dots.shape
    n_runs = (n_cols + _LANES - 1) // _LANES
    for row in numba.prange(n_rows):
        owner = heap_start + row
        values, indices = heap_values[owner], heap_indices[owner]
        row_norm, itself = row_norms[row], self_ids[row] - col_start
        threshold = np.full(_LANES, roots[owner])
        own_run = min(max(itself, 0), n_cols - 1) // _LANES
        for run in range(n_runs):
            first = _outward(own_run, run, n_runs) * _LANES
            last = min(n_cols, first + _LANES)
            full = last - first == _LANES
            if full and not _any_below(dots[row, first:last], col_norms[first:last], row_norm, threshold):
                continue
            for col in range(first, last):
                value = row_norm + col_norms[col] - _TWO * dots[row, col]
                if value < values[0] and col != itself:
                    _heap_replace_root(values, indices, value, col_start + col)
            threshold[:] = values[0]
        roots[owner] = values[0]


@numba.njit(parallel=True, cache=True, nogil=True)
def push_columns(dots, row_norms, col_norms, row_start, col_start, heap_values, heap_indices, roots, n_chunks):
    """Offer every entry of a block to its column's heap (the symmetric half of a block pair).

    Each of ``n_chunks`` tasks owns a contiguous range of columns and walks the rows in order,
    so reads stay sequential and no two threads touch the same heap.
    """
    n_rows, n_cols = dots.shape
    chunk = (n_cols + n_chunks - 1) // n_chunks
    thresholds = roots[col_start : col_start + n_cols]
    for chunk_id in numba.prange(n_chunks):
        chunk_end = min(n_cols, (chunk_id + 1) * chunk)
        for row in range(n_rows):
            row_norm, point = row_norms[row], row_start + row
            for first in range(chunk_id * chunk, chunk_end, _LANES):
                last = min(chunk_end, first + _LANES)
                thresholds_run = thresholds[first:last]
                full = last - first == _LANES
                if full and not _any_below(dots[row, first:last], col_norms[first:last], row_norm, thresholds_run):
                    continue
                for col in range(first, last):
                    owner = col_start + col
                    value = row_norm + col_norms[col] - _TWO * dots[row, col]
                    if value < thresholds[col] and owner != point:
                        _heap_replace_root(heap_values[owner], heap_indices[owner], value, point)
                        thresholds[col] = heap_values[owner, 0]


@numba.njit(parallel=True, cache=True, nogil=True)
def collect_within(dots, row_norms, col_norms, row_scales, col_scales, slack, limits, self_ids, col_start, found, counts):
    """Append to ``found[r]`` every point ``col_start + c`` whose float32 squared distance, less
    its rounding bound ``slack * (row_scales[r] + col_scales[c])``, is at most ``limits[r]``: every
    point that may be within the limit. ``counts[r]`` counts on past ``found``'s capacity (the
    caller searches an overflowing row otherwise); the point itself (``self_ids[r]``) is skipped.
    """
    n_rows, n_cols = dots.shape
    capacity = found.shape[1]
    for row in numba.prange(n_rows):
        row_norm, itself = row_norms[row], self_ids[row] - col_start
        limit, row_scale = limits[row], row_scales[row]
        count = counts[row]
        for col in range(n_cols):
            value = row_norm + col_norms[col] - _TWO * dots[row, col]
            if np.float64(value) - slack * (row_scale + col_scales[col]) <= limit and col != itself:
                if count < capacity:
                    found[row, count] = col_start + col
                count += 1
        counts[row] = count


@numba.njit(parallel=True, cache=True, nogil=True, fastmath={"reassoc", "contract"})
def exact_sq_distances(X, rows, candidates):
    """Squared distances from ``X[rows[i]]`` to ``X[candidates[i, j]]``, accumulated in float64
    from coordinate differences (no cancellation); ``candidates`` < 0 give +inf.

    ``reassoc`` lets the float64 sum vectorise; the order is fixed per build, so results are
    deterministic, and any order is accurate to a few float64 units.
    """
    n_rows, n_candidates = candidates.shape
    n_features = X.shape[1]
    out = np.empty((n_rows, n_candidates), dtype=np.float64)
    for i in numba.prange(n_rows):
        point = rows[i]
        for j in range(n_candidates):
            other = candidates[i, j]
            if other < 0:
                out[i, j] = np.inf
                continue
            total = 0.0
            for f in range(n_features):
                diff = np.float64(X[point, f]) - np.float64(X[other, f])
                total += diff * diff
            out[i, j] = total
    return out

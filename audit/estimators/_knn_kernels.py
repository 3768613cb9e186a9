"""Compiled inner loops of the CPU neighbour search (numba).

The matrix multiply that yields squared distances runs in torch (BLAS); these kernels do what
BLAS cannot: keep, per point, the ``kc`` smallest squared distances seen so far in a bounded
max-heap (so the selection threshold tightens as blocks stream by and no n x n matrix is ever
held), and recompute the kept neighbours' distances exactly in float64.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(inline="always")
def _heap_replace_root(values, indices, value, index):
    """Replace the root (largest) of one max-heap row and restore the heap property."""
    size = values.shape[0]
    pos = 0
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


@numba.njit(parallel=True, cache=True, nogil=True)
def push_rows(block, row_start, col_start, heap_values, heap_indices):
    """Offer every entry of ``block`` (rows row_start.., columns col_start..) to its row's heap.

    Entries on the diagonal of the full matrix (a point and itself) are skipped.
    """
    n_rows, n_cols = block.shape
    for local_row in numba.prange(n_rows):
        row = row_start + local_row
        values = heap_values[row]
        indices = heap_indices[row]
        for local_col in range(n_cols):
            value = block[local_row, local_col]
            if value < values[0]:
                col = col_start + local_col
                if col != row:
                    _heap_replace_root(values, indices, value, col)


@numba.njit(parallel=True, cache=True, nogil=True)
def push_columns(block, row_start, col_start, heap_values, heap_indices, n_chunks):
    """Offer every entry of ``block`` to its column's heap (the symmetric half of a block pair).

    Each of ``n_chunks`` tasks owns a contiguous range of columns and walks the rows in order,
    so reads stay sequential and no two threads touch the same heap.
    """
    n_rows, n_cols = block.shape
    chunk = (n_cols + n_chunks - 1) // n_chunks
    for chunk_id in numba.prange(n_chunks):
        first = chunk_id * chunk
        last = min(n_cols, first + chunk)
        for local_row in range(n_rows):
            row = row_start + local_row
            for local_col in range(first, last):
                value = block[local_row, local_col]
                col = col_start + local_col
                if value < heap_values[col, 0] and col != row:
                    _heap_replace_root(heap_values[col], heap_indices[col], value, row)


@numba.njit(parallel=True, cache=True, nogil=True)
def exact_sq_distances(X, rows, candidates):
    """Squared distances from ``X[rows[i]]`` to ``X[candidates[i, j]]``, accumulated in float64
    from coordinate differences (no cancellation); ``candidates`` < 0 give +inf."""
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

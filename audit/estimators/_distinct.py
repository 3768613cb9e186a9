"""Exact duplicate rows, found cheaply so the kNN estimators can see distinct points only.

A duplicated row biases ratio estimators even when the copies themselves are left out: a point
whose two nearest neighbours are a duplicate pair has r2 / r1 = 1. DADApy removes identical
points before its estimates; :func:`distinct_rows` finds them so the search runs on one row per
distinct point and each keeps its multiplicity.

How: every row gets a 64-bit hash of its bit pattern (``-0.0`` read as ``0.0``), one pass over
the matrix in integer arithmetic. Rows whose hash is unique are distinct: in the common case,
where every hash is unique, that is all the work. Rows sharing a hash are compared exactly
(``np.unique`` on those rows only), so a hash collision can never merge two different points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DistinctRows", "distinct_rows"]

_CHUNK_ROWS = 4096
_MIX_SEED = 0x5EED


@dataclass(frozen=True)
class DistinctRows:
    """One representative row per distinct point of an ``n_rows``-row matrix.

    ``index`` holds the first row of each distinct point, ascending; ``counts`` how many rows
    are equal to it (its multiplicity, >= 1).
    """

    index: np.ndarray
    counts: np.ndarray
    n_rows: int

    @property
    def n_distinct(self) -> int:
        return int(self.index.size)

    @property
    def all_distinct(self) -> bool:
        return self.index.size == self.n_rows


def distinct_rows(matrix: np.ndarray) -> DistinctRows:
    """The distinct rows of a finite 2-D float ``matrix`` and their multiplicities (exact)."""
    n_rows = matrix.shape[0]
    hashes = _row_hashes(matrix)
    order = np.argsort(hashes, kind="stable")
    same_as_previous = hashes[order][1:] == hashes[order][:-1]
    if not same_as_previous.any():
        return DistinctRows(np.arange(n_rows), np.ones(n_rows, dtype=np.int64), n_rows)
    return _group_equal_rows(matrix, order, same_as_previous)


def _row_hashes(matrix: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's values: per column, the bit pattern times an odd random
    weight, xor-shifted, summed modulo 2^64 (equal rows always hash equal)."""
    unsigned = np.uint32 if matrix.dtype.itemsize == 4 else np.uint64
    weights = np.random.default_rng(_MIX_SEED).integers(1, 2**63, size=matrix.shape[1], dtype=np.uint64) | np.uint64(1)
    hashes = np.empty(matrix.shape[0], dtype=np.uint64)
    for start in range(0, matrix.shape[0], _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        bits = (matrix[rows] + 0.0).view(unsigned).astype(np.uint64)  # + 0.0 turns -0.0 into 0.0
        mixed = bits * weights
        mixed ^= mixed >> np.uint64(29)
        hashes[rows] = mixed.sum(axis=1)
    return hashes


def _group_equal_rows(matrix: np.ndarray, order: np.ndarray, same_as_previous: np.ndarray) -> DistinctRows:
    """Exact grouping of the rows that share a hash; the others stay alone."""
    n_rows = matrix.shape[0]
    shared = np.zeros(n_rows, dtype=bool)
    shared[1:] |= same_as_previous
    shared[:-1] |= same_as_previous  # sorted positions in a run of equal hashes
    candidates = np.sort(order[shared])
    _, first, inverse = np.unique(matrix[candidates] + 0.0, axis=0, return_index=True, return_inverse=True)
    representative = np.arange(n_rows)
    representative[candidates] = candidates[first][inverse.ravel()]
    index, counts = np.unique(representative, return_counts=True)
    return DistinctRows(index, counts, n_rows)

"""The first block of a row's search, by selection instead of heap pushes (numba).

A row's heap starts empty, so its first block would push hundreds of entries one by one into
the heap, only for most to leave it again (on MPNet's token states, 30 ms of a 2048 x 2048
block, against 3 ms for a block met with a tight heap; on a low-dimensional manifold in search
order, 20 ms). :func:`fill_rows` selects instead: every entry's float32 squared distance (the
same operations as :func:`._knn_kernels.push_rows`), a limit from a strided sample that lets
about twice the heap's size through, and a selection of the ``kc`` smallest among the heap and
the entries below the limit, rebuilt as a max-heap (9 ms on that block). The heap then holds
the same values as after the pushes; only entries of equal value may be kept in another order,
and the search's certificate (every discarded entry is at least the root) holds the same.

Entries are compared as 64-bit keys: the float32 value's bits made ordered as integers, above
the entry's slot, so that all keys differ and a selection by partitions always ends.
"""

from __future__ import annotations

import numba
import numpy as np

from ._knn_kernels import _TWO, _sift_down

_STRIDE = 8  # one entry in this many is sampled for the limit
_SMALL = 16  # ranges this short are insertion-sorted


@numba.njit(inline="always")
def _key(value_bits, slot):
    """An integer ordered as the float32 whose bits are ``value_bits``, then by ``slot``."""
    bits = np.int64(value_bits)
    return ((bits ^ ((bits >> 31) & 0x7FFFFFFF)) << 32) | slot


@numba.njit(inline="always")
def _select_keys(keys, spare, n, k):
    """Move the ``k`` smallest of the distinct ``keys[:n]`` (n >= k) into ``keys[:k]``, in any
    order: branchless two-sided partitions into ``spare`` around a median of three, whose
    median of distinct keys always leaves at least one key on each side."""
    low = 0  # keys[:low] are among the k smallest, and below every key of keys[low:n]
    while n - low > _SMALL and low < k:
        first, middle, last = keys[low], keys[(low + n) // 2], keys[n - 1]
        pivot = max(min(first, middle), min(max(first, middle), last))
        left, right = low, n - 1
        for i in range(low, n):
            key = keys[i]
            below = key < pivot
            spare[left] = key
            spare[right] = key
            left += below
            right -= 1 - below
        keys[low:n] = spare[low:n]
        if left >= k:
            n = left
        else:
            low = left
    for i in range(low + 1, n):
        key, j = keys[i], i - 1
        while j >= low and keys[j] > key:
            keys[j + 1] = keys[j]
            j -= 1
        keys[j + 1] = key


@numba.njit(inline="always")
def _block_keys(block_bits, keep, limit_key, keys, count):
    """Append the keys (slots ``keep + column``) of the block's entries below ``limit_key``."""
    for col in range(block_bits.size):
        key = _key(block_bits[col], keep + col)
        keys[count] = key
        count += key < limit_key
    return count


@numba.njit(inline="always")
def _sample_limit(block_bits, keys, spare, n_cols, keep):
    """A key that about ``2 keep + 4 * stride`` of the block's entries fall below: the matching
    rank of a strided sample."""
    n_sample = max(1, n_cols // _STRIDE)
    rank = min(n_sample, 2 * ((keep * n_sample + n_cols - 1) // n_cols) + 4)
    for s in range(n_sample):
        keys[s] = _key(block_bits[s * _STRIDE], s)
    _select_keys(keys, spare, n_sample, rank)
    return keys[:rank].max()


@numba.njit(inline="always")
def _select_into_heap(block_values, keep, col_start, values, indices, scratch):
    """The heap's entries and the block's give way to the ``keep`` smallest of them all (entries
    equal to the root stay out, as with pushes), rebuilt as a max-heap."""
    old_values, old_indices, keys, spare = scratch
    block_bits, old_bits = block_values.view(np.int32), old_values.view(np.int32)
    n_cols = block_values.shape[0]
    old_values[:] = values
    old_indices[:] = indices
    for slot in range(keep):
        keys[slot] = _key(old_bits[slot], slot)
    root_key = _key(old_bits[0], 0)
    limit_key = min(root_key, _sample_limit(block_bits, keys[keep:], spare, n_cols, keep))
    count = _block_keys(block_bits, keep, limit_key, keys, keep)
    if count < 2 * keep and limit_key < root_key:  # fewer than keep entries below the limit: all below the root
        count = _block_keys(block_bits, keep, root_key, keys, keep)
    _select_keys(keys, spare, count, keep)
    for i in range(keep):
        slot = keys[i] & 0xFFFFFFFF
        if slot < keep:
            values[i], indices[i] = old_values[slot], old_indices[slot]
        else:
            values[i], indices[i] = block_values[slot - keep], col_start + slot - keep
    for pos in range(keep // 2 - 1, -1, -1):
        _sift_down(values, indices, pos, keep)


@numba.njit(parallel=True, cache=True, nogil=True)
def fill_rows(dots, row_norms, col_norms, self_ids, heap_start, col_start, heap_values, heap_indices, roots):
    """What :func:`._knn_kernels.push_rows` does with the same arguments, by selection: faster
    where the rows' heaps are empty (a row's first block)."""
    n_rows, n_cols = dots.shape
    keep = heap_values.shape[1]
    n_chunks = min(n_rows, 64)
    per_chunk = (n_rows + n_chunks - 1) // n_chunks
    for chunk in numba.prange(n_chunks):
        block_values = np.empty(n_cols, dtype=np.float32)
        scratch = (np.empty(keep, dtype=np.float32), np.empty(keep, dtype=np.int64),
                   np.empty(keep + n_cols, dtype=np.int64), np.empty(keep + n_cols, dtype=np.int64))
        for row in range(chunk * per_chunk, min(n_rows, (chunk + 1) * per_chunk)):
            owner = heap_start + row
            row_norm, itself = row_norms[row], self_ids[row] - col_start
            for col in range(n_cols):
                block_values[col] = row_norm + col_norms[col] - _TWO * dots[row, col]
            if 0 <= itself < n_cols:
                block_values[itself] = np.inf
            _select_into_heap(block_values, keep, col_start, heap_values[owner], heap_indices[owner], scratch)
            roots[owner] = heap_values[owner, 0]

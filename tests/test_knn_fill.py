"""A row's first block is selected into its heap (:func:`fill_rows`) instead of pushed entry by
entry (:func:`push_rows`): the heaps must end holding the same values, as valid max-heaps,
never the row's own point, in every case the selection takes a different path."""

import numpy as np
import pytest

from audit.estimators._knn_blocks import _empty_heaps
from audit.estimators._knn_fill import fill_rows
from audit.estimators._knn_kernels import push_rows


def block_arguments(points, rows, cols):
    sq_norms = (points.astype(np.float64) ** 2).sum(axis=1).astype(np.float32)
    dots = points[rows] @ points[cols].T
    return dots, sq_norms[rows], sq_norms[cols], np.arange(points.shape[0])[rows], rows.start, cols.start


def heaps_after(offer, points, keep, blocks):
    """Heaps of every point after ``offer`` took the last of ``blocks`` (earlier ones pushed)."""
    heap_values, heap_indices, roots = _empty_heaps(points.shape[0], keep)
    for number, (rows, cols) in enumerate(blocks):
        kernel = offer if number == len(blocks) - 1 else push_rows
        kernel(*block_arguments(points, rows, cols), heap_values, heap_indices, roots)
    return heap_values, heap_indices, roots


def assert_valid_max_heaps(values):
    size = values.shape[1]
    for child in range(1, size):
        assert (values[:, (child - 1) // 2] >= values[:, child]).all()


CASES = {
    "empty heaps, the diagonal block": (np.random.default_rng(0).standard_normal((600, 24)), 40, [(slice(0, 300), slice(0, 300))]),
    "empty heaps, another block": (np.random.default_rng(1).standard_normal((600, 24)), 40, [(slice(0, 300), slice(300, 600))]),
    "filled heaps": (np.random.default_rng(2).standard_normal((600, 24)), 40,
                     [(slice(0, 300), slice(0, 300)), (slice(0, 300), slice(300, 600))]),
    "fewer columns than the heap holds": (np.random.default_rng(3).standard_normal((330, 8)), 50,
                                           [(slice(300, 330), slice(300, 330))]),
    "many equal values": (np.repeat(np.random.default_rng(4).integers(0, 2, (50, 3)), 8, axis=0), 30,
                          [(slice(0, 400), slice(0, 400))]),
}


@pytest.mark.parametrize("case", CASES)
def test_selection_keeps_what_pushes_keep(case):
    points, keep, blocks = CASES[case]
    points = points.astype(np.float32)
    rows = blocks[-1][0]
    pushed_values, _, pushed_roots = heaps_after(push_rows, points, keep, blocks)
    values, indices, roots = heaps_after(fill_rows, points, keep, blocks)
    np.testing.assert_array_equal(np.sort(values[rows], axis=1), np.sort(pushed_values[rows], axis=1))
    np.testing.assert_array_equal(roots[rows], pushed_roots[rows])
    assert_valid_max_heaps(values[rows])
    assert not (indices[rows] == np.arange(points.shape[0])[rows, None]).any()
    assert ((indices[rows] >= 0) == np.isfinite(values[rows])).all()
    assert_values_belong_to_their_indices(points, rows, values[rows], indices[rows])


def assert_values_belong_to_their_indices(points, rows, values, indices):
    kept = indices >= 0
    query = np.broadcast_to(np.arange(points.shape[0])[rows, None], indices.shape)[kept]
    truth = ((points[query].astype(np.float64) - points[indices[kept]]) ** 2).sum(axis=1)
    np.testing.assert_allclose(values[kept], truth, rtol=1e-4, atol=1e-4)


def test_a_misleading_sample_falls_back_to_every_entry():
    """Every 8th column (what the limit is sampled from) is nearest: the limit lets too few through."""
    rng = np.random.default_rng(5)
    points = rng.standard_normal((1025, 16)).astype(np.float32)
    points[1::8] = points[0] + 1e-2 * rng.standard_normal((128, 16)).astype(np.float32)
    blocks = [(slice(0, 1), slice(1, 1025))]
    pushed_values, _, _ = heaps_after(push_rows, points, 64, blocks)
    values, _, _ = heaps_after(fill_rows, points, 64, blocks)
    np.testing.assert_array_equal(np.sort(values[0]), np.sort(pushed_values[0]))

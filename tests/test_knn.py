"""The neighbour search is exact: it matches scikit-learn's brute force in float64."""

import numpy as np
import pytest
import torch
from reference_data import hypercube
from sklearn.neighbors import NearestNeighbors

from audit.estimators import EstimatorInputError, nearest_neighbors
from audit.estimators import knn as knn_module


def reference(X, k):
    return NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X).kneighbors()


@pytest.mark.parametrize("n, d, k, block", [(1500, 40, 10, 256), (700, 300, 33, 100), (50, 3, 49, 16)])
def test_matches_brute_force(n, d, k, block):
    X = np.random.default_rng(n).standard_normal((n, d))
    found = nearest_neighbors(X, k=k, block_size=block)
    distances, indices = reference(X, k)
    np.testing.assert_allclose(found.distances, distances, rtol=1e-12, atol=1e-12)
    assert (found.indices == indices).mean() > 0.999  # ties may order differently
    assert found.n_recertified == 0


def test_float32_cancellation_is_repaired():
    """A low-dimensional cloud far from the origin: float32 |x|^2 - 2xy + |y|^2 alone is useless."""
    X = hypercube(400, 4, width=64, seed=3) * 1e-3 + 1e4
    found = nearest_neighbors(X, k=8)
    # scikit-learn's float64 |x|^2 - 2xy + |y|^2 fails here too: the reference uses differences
    all_pairs = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(all_pairs, np.inf)
    np.testing.assert_allclose(found.distances, np.sort(all_pairs, axis=1)[:, :8], rtol=1e-12)


def test_query_points_are_searched_among_all():
    X = np.random.default_rng(0).standard_normal((2000, 30))
    found = nearest_neighbors(X, k=5, query_points=300, seed=1)
    distances, indices = reference(X, 5)
    assert found.n_queries == 300 and len(set(found.query_index)) == 300
    np.testing.assert_allclose(found.distances, distances[found.query_index], rtol=1e-12)
    np.testing.assert_array_equal(found.indices, indices[found.query_index])


def test_torch_path_and_float64_fallback_agree_with_reference():
    """The GPU code path (run here on the CPU) and the float64 fallback give the same answer."""
    X = np.random.default_rng(2).standard_normal((900, 64))
    distances, _ = reference(X, 6)
    points, sq_norms = knn_module._centred_float32(X, np.arange(900))
    roots, candidates = knn_module._search_torch(points, sq_norms, 900, 14, 128)
    exact, _ = knn_module._select_exact(X, np.arange(900), candidates, 6)
    np.testing.assert_allclose(np.sqrt(exact), distances, rtol=1e-12)
    fallback, _ = knn_module._search_float64(X, np.arange(0, 900, 7), 6)
    np.testing.assert_allclose(np.sqrt(fallback), distances[::7], rtol=1e-12)


def test_uncertified_rows_are_searched_again(monkeypatch):
    X = np.random.default_rng(4).standard_normal((400, 20))
    monkeypatch.setattr(knn_module, "_uncertified", lambda roots, *rest: np.arange(0, roots.size, 3))
    found = nearest_neighbors(X, k=4)
    assert found.n_recertified == len(range(0, 400, 3))
    np.testing.assert_allclose(found.distances, reference(X, 4)[0], rtol=1e-12)


def test_duplicates_have_zero_distance_and_are_flagged():
    X = np.random.default_rng(5).standard_normal((300, 10))
    X[10] = X[20]
    X[30] = X[20]
    found = nearest_neighbors(X, k=3)
    assert set(np.flatnonzero(found.is_duplicate)) == {10, 20, 30}
    assert np.all(np.isfinite(found.distances))


def test_accepts_torch_tensors_and_float32():
    X = np.random.default_rng(6).standard_normal((500, 16)).astype(np.float32)
    a = nearest_neighbors(X, k=4)
    b = nearest_neighbors(torch.from_numpy(X), k=4)
    np.testing.assert_array_equal(a.distances, b.distances)


@pytest.mark.parametrize("k", [0, 500, 2.5])
def test_rejects_bad_k(k):
    with pytest.raises(EstimatorInputError, match="k must"):
        nearest_neighbors(np.random.default_rng(0).standard_normal((500, 4)), k=k)


def test_reused_neighbors_must_fit_the_matrix():
    X = np.random.default_rng(7).standard_normal((300, 8))
    found = nearest_neighbors(X, k=3)
    with pytest.raises(EstimatorInputError, match="neighbors hold 3"):
        found.require(5, X.shape)
    with pytest.raises(EstimatorInputError, match="300 x 8"):
        found.require(2, (300, 9))

"""The neighbour search is exact: it matches scikit-learn's brute force in float64, with and
without PCA-basis pruning, through every re-search stage."""

import numpy as np
import pytest
import torch
from reference_data import hypercube
from sklearn.neighbors import NearestNeighbors

from audit.estimators import EstimatorInputError, nearest_neighbors
from audit.estimators import _knn_blocks as blocks
from audit.estimators import _knn_projection as projection
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
    space = projection.full_space(X, projection.centre_of(X))
    roots, candidates = knn_module._search_torch(space.points, space.sq_norms, np.arange(900), 14, 128)
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


# --- PCA-basis pruning -------------------------------------------------------------------------


def exact_reference(X, k, rows=None):
    """k nearest by float64 brute force, then their distances recomputed from differences."""
    rows = np.arange(len(X)) if rows is None else rows
    _, candidates = NearestNeighbors(n_neighbors=k + 10, algorithm="brute").fit(X).kneighbors(X[rows])
    candidates = np.where(candidates == rows[:, None], -1, candidates)  # the point itself, if listed
    exact = np.where(candidates >= 0, ((X[rows, None, :] - X[candidates]) ** 2).sum(axis=2), np.inf)
    order = np.argsort(exact, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(exact, order, axis=1)), np.take_along_axis(candidates, order, axis=1)


def assert_exact(found, X, rows=None):
    """Distances equal the reference; every listed neighbour is really at its listed distance
    (so tied neighbours may be listed in any order), never the point itself, never twice."""
    rows = found.query_index if rows is None else rows
    distances, _ = exact_reference(X, found.k, rows)
    np.testing.assert_allclose(found.distances, distances, rtol=1e-12, atol=1e-300)
    listed = np.sqrt(((X[rows, None, :] - X[found.indices]) ** 2).sum(axis=2))
    np.testing.assert_allclose(listed, found.distances, rtol=1e-12, atol=1e-300)
    assert not (found.indices == rows[:, None]).any()
    assert all(len(set(row)) == found.k for row in found.indices)


def curved(n, d, rank, noise, seed):
    """A curved rank-``rank`` cloud in d dimensions plus isotropic noise: a low-rank spectrum."""
    rng = np.random.default_rng(seed)
    latent = np.tanh(rng.standard_normal((n, rank)) @ rng.standard_normal((rank, 2 * rank)))
    return latent @ rng.standard_normal((2 * rank, d)) + noise * rng.standard_normal((n, d))


def tail_clusters(seed=0, groups=3, size=30):
    """Low-rank data plus a few tight clusters whose members share one point's principal
    coordinates and differ only outside them: there the lower bounds cannot rank neighbours."""
    rng = np.random.default_rng(seed)
    X = curved(2000, 150, 4, 1e-3, seed)
    tail = np.zeros((groups * size, 150))
    tail[:, 100:] = 0.1 * rng.standard_normal((groups * size, 50))
    return np.vstack([X, np.repeat(X[rng.choice(2000, groups, replace=False)], size, axis=0) + tail])


@pytest.mark.parametrize("n, d", [(2500, 120), (1200, 1500)])  # axes from covariance, from Gram
def test_pruned_search_is_exact_on_low_rank_data(n, d, monkeypatch):
    monkeypatch.setattr(projection, "worth_examining", lambda n, d: True)  # however small the search
    X = curved(n, d, 5, 1e-3, seed=1)
    found = nearest_neighbors(X, k=12, block_size=512)
    assert "PCA-pruned" in found.method
    assert_exact(found, X)
    np.testing.assert_array_equal(found.indices, exact_reference(X, 12)[1])  # no ties here


def test_flat_spectrum_is_searched_in_full():
    X = np.random.default_rng(3).standard_normal((1500, 60))
    found = nearest_neighbors(X, k=8)
    assert "PCA" not in found.method
    assert_exact(found, X)


def test_neighbours_told_apart_only_outside_the_axes_are_searched_again():
    X = tail_clusters()
    found = nearest_neighbors(X, k=10)
    assert "PCA-pruned" in found.method
    assert found.n_recertified >= 60  # most cluster members fail the lower-bound certificate
    assert_exact(found, X)


def test_every_re_search_stage_after_pruning(monkeypatch):
    """Rows failing the pruned certificate go to a full-dimension search, and rows failing that
    one to float64; forcing failures at both stages still gives the exact answer."""
    X = curved(1200, 90, 4, 1e-3, seed=2)
    shape = projection.geometry(X)
    space = projection.choose_space(X, shape, lambda space: 0.0)
    assert space is not None and space.rank is not None
    job = knn_module._Job(X, 7, len(X), torch.device("cpu"), 256)
    calls = []

    def every_fourth(roots, space, rows, kth):
        calls.append(space.rank)
        return np.arange(0, roots.size, 4)

    monkeypatch.setattr(knn_module, "_uncertified", every_fourth)
    exact, found, n_recertified = job.solve(space, shape.centre)
    assert calls == [space.rank, None] and n_recertified == len(range(0, len(X), 4))
    distances, indices = exact_reference(X, 7)
    np.testing.assert_allclose(np.sqrt(exact), distances, rtol=1e-12)
    np.testing.assert_array_equal(found, indices)


def test_exact_ties_are_settled_exactly():
    """A rotated 3-D integer lattice: whole shells of neighbours tie with the k-th, so the float32
    certificate cannot hold; every tied point is collected and measured in float64."""
    grid = np.stack(np.meshgrid(*[np.arange(11)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    X = grid @ np.linalg.qr(np.random.default_rng(4).standard_normal((30, 3)))[0].T
    found = nearest_neighbors(X, k=34)
    assert found.n_recertified > 0
    assert_exact(found, X)


def test_pruned_query_points_are_searched_among_all():
    X = curved(3000, 100, 4, 1e-3, seed=5)
    found = nearest_neighbors(X, k=9, query_points=400, seed=2)
    assert "PCA-pruned" in found.method and found.n_queries == 400
    assert_exact(found, X)
    np.testing.assert_array_equal(found.query_index, np.random.default_rng(2).permutation(3000)[:400])


def test_pruned_search_flags_duplicates():
    X = curved(2000, 80, 4, 1e-3, seed=6)
    X[[10, 30]] = X[20]
    X[1500] = X[1600]
    found = nearest_neighbors(X, k=5)
    assert "PCA-pruned" in found.method
    assert set(np.flatnonzero(found.is_duplicate)) == {10, 20, 30, 1500, 1600}
    assert_exact(found, X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pruned_search_survives_a_large_offset(dtype):
    """Centring happens before any rounding to float32 (float64 input) or rounds relative to the
    centred values (float32 input): an offset far larger than the spread changes nothing."""
    X = (curved(1500, 60, 3, 1e-3, seed=7) * 1e-2 + 300.0).astype(dtype)
    found = nearest_neighbors(X, k=6)
    assert "PCA-pruned" in found.method
    assert_exact(found, X.astype(np.float64))


def test_torch_path_searches_pruned_coordinates():
    X = curved(1500, 90, 4, 1e-3, seed=8)
    shape = projection.geometry(X)
    space = projection.choose_space(X, shape, lambda space: 0.0)
    rows = np.arange(0, 1500, 5)
    roots, candidates = knn_module._search_torch(space.points, space.sq_norms, rows, 20, 128)
    exact, _ = knn_module._select_exact(X, rows, candidates, 6)
    assert knn_module._uncertified(roots, space, rows, exact[:, -1]).size < rows.size // 10
    certified = np.setdiff1d(np.arange(rows.size), knn_module._uncertified(roots, space, rows, exact[:, -1]))
    np.testing.assert_allclose(np.sqrt(exact[certified]), exact_reference(X, 6, rows[certified])[0], rtol=1e-12)


def far_clusters(seed=0, groups=8, size=120, d=40):
    """Tight clusters (spread 1e-4) around points of norm ~10: each cluster's k nearest lie far
    below the heap certificate's bound, which scales with the largest squared norm."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((groups, d)) * 10 / np.sqrt(d)
    return np.repeat(centres, size, axis=0) + 1e-4 * rng.standard_normal((groups * size, d))


def test_tight_clusters_are_settled_within_the_bound(monkeypatch):
    """Rows whose certificate fails are settled by collecting the points within their own bound,
    in float32: the float64 search never runs, and the answer is exact."""
    X = far_clusters()

    def no_float64(*args):
        raise AssertionError("float64 search")

    monkeypatch.setattr(knn_module, "_search_float64", no_float64)
    found = nearest_neighbors(X, k=10)
    assert found.n_recertified > len(X) // 2
    assert_exact(found, X)


def test_rows_collecting_too_many_points_are_searched_in_float64(monkeypatch):
    X = far_clusters(seed=1)
    calls = []
    search_float64 = knn_module._search_float64
    monkeypatch.setattr(blocks, "_within_capacity", lambda *args: 60)  # a cluster holds 119 others
    monkeypatch.setattr(knn_module, "_search_float64", lambda *args: calls.append(args[1].size) or search_float64(*args))
    found = nearest_neighbors(X, k=10)
    assert calls and calls[0] == found.n_recertified
    assert_exact(found, X)

"""Estimates land near the true intrinsic dimension of planted data."""

import numpy as np
import pytest
from reference_data import embed, hypercube, sphere

from audit import estimators as est


@pytest.mark.parametrize("dim", [2, 5, 10])
def test_sphere_dimension_is_found(dim):
    X = sphere(4000, dim, seed=dim)
    found = est.knn_estimates(X, k=20, gride_range_max=16, n_bootstrap=100)
    for name in ("twonn", "mle", "gride"):
        assert found[name].value == pytest.approx(dim, rel=0.12), name
    assert found["local_id"].median == pytest.approx(dim, rel=0.15)


def test_interval_covers_the_truth_on_a_sphere():
    X = sphere(3000, 6, seed=1)
    result = est.twonn(X)
    assert result.ci_low < 6 < result.ci_high
    assert result.ci_high - result.ci_low < 1.0


def test_shared_bootstrap_draws_give_each_estimator_its_own_interval():
    """knn_estimates draws the bootstrap counts once for TwoNN, MLE and local ID: each interval is
    the one the estimator's own fresh draw gives, for an int seed and for a Generator."""
    X = sphere(1500, 4, seed=3)
    for seed in (7, np.random.default_rng(7)):
        found = est.knn_estimates(X, k=20, gride_range_max=16, seed=seed)
        rng = np.random.default_rng(7) if isinstance(seed, np.random.Generator) else seed
        alone = {name: getattr(est, name)(X, seed=rng, neighbors=found["neighbors"]) for name in ("twonn", "mle", "local_id")}
        for name, estimate in alone.items():
            assert (found[name].ci_low, found[name].ci_high) == (estimate.ci_low, estimate.ci_high), name


def test_hypercube_in_768_dimensions(cube10):
    found = est.knn_estimates(cube10, k=20, gride_range_max=16, n_bootstrap=0)
    assert 8 < found["twonn"].value < 11  # boundary effects pull cube estimates a little low
    assert 8 < found["mle"].value < 11


def test_planted_rank_is_found_by_the_spectral_estimators():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 7)) @ rng.standard_normal((7, 120))  # rank 7
    assert est.pca_id(X, variance=0.999999).value == 7
    assert est.participation_ratio(X).value <= 7
    assert est.effective_rank(X).value <= 7
    assert est.stable_rank(X).value <= est.effective_rank(X).value


def test_spectral_values_match_their_closed_forms():
    rng = np.random.default_rng(1)
    singular = np.array([5.0, 3.0, 2.0, 1.0, 0.5])
    u = np.linalg.qr(rng.standard_normal((200, 5)))[0]
    v = np.linalg.qr(rng.standard_normal((50, 5)))[0]
    X = u @ np.diag(singular) @ v.T
    p = singular / singular.sum()
    assert est.effective_rank(X).value == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-9)
    assert est.stable_rank(X).value == pytest.approx((singular**2).sum() / 25.0, rel=1e-9)
    lam = np.linalg.eigvalsh(np.cov(X.T))
    assert est.participation_ratio(X).value == pytest.approx(lam.sum() ** 2 / (lam**2).sum(), rel=1e-9)
    spectrum = est.pca_id(X, variance=0.9).spectrum
    np.testing.assert_allclose(spectrum[:5], np.sort(lam)[::-1][:5], rtol=1e-9)


def test_duplicates_are_counted_never_nan():
    X = hypercube(1000, 4, width=32, seed=2)
    X[100:150] = X[0]  # 51 identical points
    for name, result in est.knn_estimates(X, k=10, gride_range_max=8).items():
        if name == "neighbors":
            continue
        assert np.isfinite(result.value) and np.isfinite(result.ci_low) and np.isfinite(result.ci_high), name
        assert result.n_duplicates == 51, name
    local = est.local_id(X, k=10)  # the 51 equal rows are one distinct point, row 0, with its local ID
    assert 0 in local.point_index and not set(range(100, 150)) & set(local.point_index)
    assert local.n_used == 950 and np.all(np.isfinite(local.values))


def test_sample_size_sensitivity_uses_nested_subsets():
    X = sphere(2400, 4, seed=5)
    result = est.sample_size_sensitivity(X, est.twonn, n_bootstrap=0)
    assert result.sizes == (300, 600, 1200, 2400)
    assert result.values[-1] == est.twonn(X, n_bootstrap=0).value
    assert all(v == pytest.approx(4, rel=0.2) for v in result.values)
    with pytest.raises(est.EstimatorInputError, match="subset of 2 points"):
        est.sample_size_sensitivity(X[:16], est.twonn, fractions=(0.125, 1.0))


def test_query_sampled_estimate_is_close_to_the_full_one():
    X = embed(np.random.default_rng(3).random((6000, 5)), 64, 3)
    full = est.twonn(X)
    sampled = est.twonn(X, query_points=1500)
    assert sampled.n_used < full.n_used and "query points" in sampled.notes[0]
    assert sampled.ci_low < full.value < sampled.ci_high

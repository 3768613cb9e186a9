"""PCA-ID's interval: a count's uncertainty shows as whole components, not as a point."""

import numpy as np
import pytest

from audit import estimators as est


def power_law(seed):
    """400 points with variances 1/j over 40 axes: the 90 % threshold lands within a component
    or so of an edge once the sample's noise is counted."""
    return np.random.default_rng(seed).standard_normal((400, 40)) / np.sqrt(np.arange(1, 41))


def rank(k, seed, equal):
    """Exactly rank-k data in R^30: k equal variances (``equal``) or a random mixing."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((30, k)))[0] if equal else rng.standard_normal((30, k))
    return rng.standard_normal((500, k)) @ basis.T


def test_an_uncertain_count_has_an_interval_of_whole_components():
    result = est.pca_id(power_law(0))
    assert (result.ci_low, result.value, result.ci_high) == (25, 25, 26)  # was 25 [25, 25]
    assert "interpolated" in result.ci_method


@pytest.mark.parametrize("seed", range(4))
def test_the_interval_holds_the_count_and_whole_numbers(seed):
    result = est.pca_id(power_law(seed))
    assert result.ci_low <= result.value <= result.ci_high
    assert all(float(end).is_integer() for end in (result.ci_low, result.value, result.ci_high))


@pytest.mark.parametrize(("variance", "equal"), [(0.9, True), (1.0, False), (0.999999, False)])
def test_exactly_rank_k_data_keeps_a_point_interval(variance, equal):
    result = est.pca_id(rank(5, 1, equal), variance=variance)
    assert (result.ci_low, result.value, result.ci_high) == (5, 5, 5)


def test_the_four_spectral_estimates_share_one_set_of_eigen_decompositions(monkeypatch):
    """pca, participation ratio, effective rank and stable rank on one matrix (same centring,
    groups and seed) decompose it once; another matrix of the same shape is decomposed afresh."""
    from audit.estimators import spectral

    calls = []
    decompose = np.linalg.eigvalsh
    monkeypatch.setattr(np.linalg, "eigvalsh", lambda matrix: calls.append(1) or decompose(matrix))
    X = np.random.default_rng(7).normal(size=(300, 12))
    first = [estimator(X, center=True, seed=3).value for estimator in
             (est.pca_id, est.participation_ratio, est.effective_rank, est.stable_rank)]
    assert len(calls) == 21  # the full spectrum and 20 leave-one-group-out ones, once
    spectral._SPECTRA.clear()
    again = [estimator(X, center=True, seed=3).value for estimator in
             (est.stable_rank, est.effective_rank, est.participation_ratio, est.pca_id)][::-1]
    assert again == first
    est.participation_ratio(X + 1e-3 * np.random.default_rng(8).normal(size=X.shape), center=True, seed=3)
    assert len(calls) == 63

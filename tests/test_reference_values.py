"""Our estimators against the peers: scikit-dimension (run here) and DADApy (its values stored in
tests/data/dadapy_twonn.json by tests/data/make_dadapy_reference.py, since DADApy pins numpy<2)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import skdim
from reference_data import REFERENCE_SETS

from audit import estimators as est

DADAPY = json.loads((Path(__file__).parent / "data" / "dadapy_twonn.json").read_text())


def _skdim_benchmark_sets():
    all_sets = skdim.datasets.BenchmarkManifolds(random_state=0).generate("all", n=1500)
    for name in ("M1_Sphere", "M2_Affine_3to5", "M5b_Helix2d", "M7_Roll", "M9_Affine", "M10a_Cubic", "M12_Norm"):
        yield name, all_sets[name]


ALL_SETS = {name: make() for name, make in REFERENCE_SETS.items()} | dict(_skdim_benchmark_sets())


def _skdim(estimator, X, **fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, **fit)


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_twonn_equals_scikit_dimension(name):
    X = ALL_SETS[name]
    for fit, method in (("linear", "linear"), ("mle", "mle")):
        ours = est.twonn(X, fit=fit, n_bootstrap=0).value
        theirs = _skdim(skdim.id.TwoNN(method=method), X).dimension_
        assert ours == pytest.approx(theirs, rel=1e-6), fit


@pytest.mark.parametrize("name", sorted(DADAPY))
def test_twonn_equals_dadapy(name):
    X = REFERENCE_SETS[name]()
    assert est.twonn(X, n_bootstrap=0).value == pytest.approx(DADAPY[name]["base"], rel=1e-6)
    # DADApy's "ml" ignores the discarded fraction: (N - 1) / sum(log mu) over all points
    ml = est.twonn(X, fit="mle", discard_fraction=0.0, n_bootstrap=0).value
    assert ml == pytest.approx(DADAPY[name]["ml"], rel=1e-6)


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_mle_equals_scikit_dimension(name):
    X = ALL_SETS[name]
    for combine, comb in (("inverse", "mle"), ("mean", "mean")):
        ours = est.mle(X, k=20, combine=combine, n_bootstrap=0).value
        theirs = _skdim(skdim.id.MLE(), X, n_neighbors=20, comb=comb).dimension_
        assert ours == pytest.approx(theirs, rel=1e-9), combine


def test_mle_matches_the_published_formulas():
    """Levina & Bickel 2005, eq. (8) per point; MacKay & Ghahramani 2005 for the combination."""
    X = REFERENCE_SETS["sphere8_384"]()
    k = 10
    distances, _ = __import__("sklearn.neighbors").neighbors.NearestNeighbors(n_neighbors=k).fit(X).kneighbors()
    per_point = np.array([(k - 1) / np.sum(np.log(row[k - 1] / row[: k - 1])) for row in distances])
    assert est.mle(X, k=k, n_bootstrap=0).value == pytest.approx(1 / np.mean(1 / per_point), rel=1e-10)
    assert est.mle(X, k=k, combine="mean", n_bootstrap=0).value == pytest.approx(per_point.mean(), rel=1e-10)
    unbiased = per_point * (k - 2) / (k - 1)
    assert est.mle(X, k=k, unbiased=True, n_bootstrap=0).value == pytest.approx(1 / np.mean(1 / unbiased), rel=1e-10)
    local = est.local_id(X, k=k, n_bootstrap=0)
    np.testing.assert_allclose(local.values, per_point, rtol=1e-10)
    assert local.median == pytest.approx(np.median(per_point))


@pytest.mark.parametrize("name", ["sphere3_768", "cube12_768", "M7_Roll"])
def test_gride_equals_scikit_dimension(name):
    X = ALL_SETS[name]
    ours = est.gride(X, range_max=32)
    theirs = _skdim(skdim.id.GRIDE(multiscale=True, range_max=32), X)
    np.testing.assert_allclose(ours.dims, theirs.dimension_scales_, rtol=1e-8)
    np.testing.assert_allclose(ours.radii, theirs.radius_scales_, rtol=1e-10)


def test_gride_first_scale_is_the_twonn_maximum_likelihood():
    X = REFERENCE_SETS["cube5_768"]()
    twonn_ml = est.twonn(X, fit="mle", discard_fraction=0.0, n_bootstrap=0).value
    assert est.gride(X, range_max=4).value == pytest.approx(twonn_ml, rel=1e-2)  # GRIDE drops outliers

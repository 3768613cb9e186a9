"""Fisher separability ID against scikit-dimension's FisherS, and its explicit status where
FisherS gives NaN (too few points for the dimension: scikit-dimension issue #10)."""

import warnings

import numpy as np
import pytest
import skdim
from reference_data import hypercube, sphere

from audit import estimators as est
from audit.metrics import compute_layer, registry
from audit.metrics._base import LayerData
from audit.spec import METRIC_ORDER

CASES = {
    "cube5_32": lambda: hypercube(600, 5, width=32, seed=1),
    "sphere3_16": lambda: sphere(500, 3, width=16, seed=2),
    "gaussian10": lambda: np.random.default_rng(3).standard_normal((400, 10)),
    "gaussian20_small": lambda: np.random.default_rng(6).standard_normal((300, 20)),
    "anisotropic": lambda: np.random.default_rng(4).standard_normal((500, 12)) * np.linspace(0.2, 1.0, 12),
}


def reference(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skdim.id.FisherS().fit(X)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fisher_s_equals_scikit_dimension(name):
    X = CASES[name]()
    ours, theirs = est.fisher_s(X, n_bootstrap=50), reference(X)
    assert ours.value == pytest.approx(theirs.dimension_, rel=1e-9)
    np.testing.assert_allclose(ours.dims, theirs.n_alpha_, rtol=1e-9)  # NaN where theirs is NaN
    # their separable_fraction_ sums over alphas, not points; the share per alpha is read from p_alpha_
    np.testing.assert_array_equal(ours.separable_fraction, (theirs.p_alpha_ == 0).mean(axis=1))
    assert ours.ci_low <= ours.value <= ours.ci_high and ours.alpha in ours.alphas


def too_high_for_its_size():
    return np.random.default_rng(5).standard_normal((100, 50))


def test_where_fisher_s_gives_nan_ours_says_why():
    X = too_high_for_its_size()
    assert np.isnan(reference(X).dimension_)
    with pytest.raises(est.EstimatorInputError, match="separable from all others at every alpha"):
        est.fisher_s(X)


def test_the_metric_is_not_computed_with_the_reason_and_otherwise_a_number():
    params = {"fisher_s": registry()["fisher_s"].params()}
    failed = compute_layer(LayerData("wide", too_high_for_its_size().astype(np.float32), seed=0), params)["fisher_s"]
    assert failed.status == "failed" and "too few points for the dimension" in failed.message
    done = compute_layer(LayerData("cube", CASES["cube5_32"]().astype(np.float32), seed=0), params)["fisher_s"]
    assert done.ok and done.value == pytest.approx(4.8, abs=0.3) and done.details["n_components"] == 5
    assert None in done.details["dims"] or all(np.isfinite(done.details["dims"]))  # JSON-ready, no NaN


def test_registered_off_by_default_in_the_id_order():
    definition = registry()["fisher_s"]
    assert definition.kind == "id" and not definition.default
    assert METRIC_ORDER.index("fisher_s") < METRIC_ORDER.index("pca")


@pytest.mark.parametrize(("options", "message"), [({"alphas": (0.9, 0.8)}, "alphas"), ({"alphas": (0.5, 1.0)}, "alphas"),
                                                  ({"condition_number": 1.0}, "condition_number")])
def test_bad_options_are_rejected(options, message):
    with pytest.raises(est.EstimatorInputError, match=message):
        est.fisher_s(CASES["gaussian10"](), **options)

"""One contract, run over every public estimator (in the manner of scikit-learn's estimator checks)."""

import json

import numpy as np
import pytest
import torch
from reference_data import hypercube

from audit import estimators as est
from audit.metrics import compute_layer, registry
from audit.metrics._base import LayerData
from audit.results import as_json

ESTIMATORS = {
    "twonn": est.twonn,
    "mle": est.mle,
    "local_id": est.local_id,
    "gride": lambda X, **kw: est.gride(X, range_max=16, **kw),
    "pca_id": est.pca_id,
    "participation_ratio": est.participation_ratio,
    "effective_rank": est.effective_rank,
    "stable_rank": est.stable_rank,
    "fisher_s": est.fisher_s,
}


@pytest.fixture(scope="module")
def data():
    return hypercube(600, 6, width=48, seed=11)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_result_shape(name, data):
    result = ESTIMATORS[name](data)
    assert isinstance(result.value, float) and np.isfinite(result.value)
    assert isinstance(result.method, str) and result.method
    assert result.n_used and 0 < result.n_used <= data.shape[0]
    assert result.ci_low <= result.value <= result.ci_high and 0 < result.ci_level < 1
    with pytest.raises(AttributeError):
        result.value = 0.0  # frozen
    assert isinstance(result.to_dict(), dict)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_deterministic_and_input_untouched(name, data):
    copy = data.copy()
    first, second = ESTIMATORS[name](data, seed=3), ESTIMATORS[name](data, seed=3)
    np.testing.assert_array_equal(data, copy)
    assert first.value == second.value and first.ci_low == second.ci_low and first.ci_high == second.ci_high


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_torch_tensor_gives_the_same_value(name, data):
    assert ESTIMATORS[name](torch.from_numpy(data)).value == pytest.approx(ESTIMATORS[name](data).value, rel=1e-12)


BAD_INPUTS = {
    "nan": (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), "NaN"),
    "inf": (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 7, np.inf, X), "inf"),
    "one-dimensional": (lambda X: X[:, 0], "2-D"),
    "too few points": (lambda X: X[:2], "needs at least"),
    "constant": (lambda X: np.ones_like(X), "constant"),
    "text": (lambda X: np.full(X.shape, "a"), "real numbers"),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("problem", sorted(BAD_INPUTS))
def test_bad_input_gives_a_clear_error(name, problem, data):
    corrupt, message = BAD_INPUTS[problem]
    with pytest.raises(est.EstimatorInputError, match=message):
        ESTIMATORS[name](corrupt(data))


@pytest.mark.parametrize("name", ["twonn", "mle", "local_id", "fisher_s"])
def test_bad_interval_options_are_rejected(name, data):
    with pytest.raises(est.EstimatorInputError, match="ci_level"):
        ESTIMATORS[name](data, ci_level=1.5)
    with pytest.raises(est.EstimatorInputError, match="n_bootstrap"):
        ESTIMATORS[name](data, n_bootstrap=-1)


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_metric_gives_a_number_with_its_method_or_says_why_not(name, data):
    """Every registered metric on a layer: ok with a finite value inside its interval, or failed
    with a reason (a probe without labels); audit.json-ready either way (no NaN)."""
    layer = LayerData("layer", data.astype(np.float32), seed=0, neighbors_k=registry()[name].neighbors(
        registry()[name].params()))
    result = compute_layer(layer, {name: registry()[name].params()})[name]
    json.dumps(as_json(result), allow_nan=False)
    if not result.ok:
        assert result.value is None and result.message, name
        return
    assert np.isfinite(result.value) and result.method, name
    if result.ci_low is not None:
        assert result.ci_low <= result.value <= result.ci_high, name

"""Degenerate input gives honest numbers or an explicit status: exact duplicate rows are read as
one distinct point, too few points are "not computed", an ID above the width is the width."""

import numpy as np
import pytest

from audit import estimators as est
from audit.estimators import _distinct
from audit.estimators._distinct import distinct_rows
from audit.metrics import compute_layer, registry
from audit.metrics._base import LayerData
from audit.results import LayerResult, as_json

KNN = {
    "twonn": est.twonn,
    "mle": est.mle,
    "local_id": est.local_id,
    "gride": lambda X, **kw: est.gride(X, range_max=16, **kw),
}


@pytest.fixture(scope="module")
def subspace():
    """2000 points on a 5-dimensional linear subspace of R^20, and the same with 10 % of its
    rows appended again as exact copies."""
    rng = np.random.default_rng(0)
    clean = rng.standard_normal((2000, 5)) @ rng.standard_normal((5, 20))
    copied = rng.choice(2000, 200, replace=False)
    return clean, np.vstack([clean, clean[copied]])


@pytest.mark.parametrize("name", sorted(KNN))
def test_duplicated_rows_leave_the_estimate_inside_the_clean_interval(name, subspace):
    clean, duplicated = subspace
    before, after = KNN[name](clean), KNN[name](duplicated)
    assert before.ci_low <= after.value <= before.ci_high, (name, before.value, after.value)
    assert after.value == pytest.approx(before.value, rel=1e-12)  # the distinct points are the clean set
    assert after.n_duplicates == 400 and after.n_used == before.n_used


def test_duplicates_are_a_number_in_the_metric_result(subspace):
    _, duplicated = subspace
    layer = LayerData("layer", duplicated.astype(np.float32), seed=0, neighbors_k=20)
    results = compute_layer(layer, {name: registry()[name].params() for name in ("twonn", "mle", "pca")})
    assert results["twonn"].n_duplicates == 400 and results["mle"].n_duplicates == 400
    assert "400 rows are exact duplicates" in results["twonn"].message
    assert results["pca"].n_duplicates is None  # a spectrum is not a neighbour statistic
    assert as_json(results["twonn"])["n_duplicates"] == 400


def test_distinct_rows_are_exact_even_when_hashes_collide(monkeypatch):
    X = np.random.default_rng(1).standard_normal((50, 4))
    X[[7, 30]] = X[3]
    X[41] = X[12]
    X[20, 0], X[21] = 0.0, X[20]
    X[21, 0] = -0.0  # the same point
    found = distinct_rows(X)
    monkeypatch.setattr(_distinct, "_row_hashes", lambda matrix: np.zeros(matrix.shape[0], dtype=np.uint64))
    collided = distinct_rows(X)
    for rows in (found, collided):
        assert rows.n_distinct == 46
        np.testing.assert_array_equal(rows.index, np.setdiff1d(np.arange(50), [7, 30, 41, 21]))
        assert rows.counts[rows.index == 3][0] == 3 and rows.counts[rows.index == 20][0] == 2


def test_a_search_of_distinct_points_changes_nothing_without_duplicates():
    X = np.random.default_rng(2).standard_normal((600, 12))
    plain, distinct = est.nearest_neighbors(X, k=5), est.nearest_neighbors(X, k=5, distinct=True)
    np.testing.assert_array_equal(plain.distances, distinct.distances)
    np.testing.assert_array_equal(plain.indices, distinct.indices)
    assert distinct.n_duplicates == 0 and distinct.n_searched == 600


@pytest.mark.parametrize("name", sorted(KNN))
@pytest.mark.parametrize("rows", [3, 19])
def test_too_few_points_are_an_error_not_a_number(name, rows):
    X = np.random.default_rng(3).standard_normal((rows, 8))
    with pytest.raises(est.EstimatorInputError, match="needs at least 20 distinct points"):
        KNN[name](X, **({"k": 10} if name in ("mle", "local_id") else {}))


def test_duplicates_count_against_the_minimum():
    X = np.random.default_rng(4).standard_normal((19, 8))
    with pytest.raises(est.EstimatorInputError, match="there are 19 among 40 rows"):
        est.twonn(np.vstack([X, X, X[:2]]))
    assert np.isfinite(est.twonn(np.random.default_rng(4).standard_normal((20, 8))).value)


def test_a_three_row_layer_shows_knn_metrics_as_not_computed():
    layer = LayerData("tiny", np.random.default_rng(5).standard_normal((3, 6)).astype(np.float32), seed=0,
                      neighbors_k=2)
    selected = {name: registry()[name].params() for name in ("twonn", "mle", "gride", "local_id")}
    for name, result in compute_layer(layer, selected).items():
        assert result.status == "failed" and result.value is None, name
        assert "distinct points" in result.message, (name, result.message)


def test_mle_needs_its_k_neighbours_among_distinct_points():
    X = np.random.default_rng(6).standard_normal((30, 8))
    with pytest.raises(est.EstimatorInputError, match="MLE needs at least 31 distinct points; there are 30"):
        est.mle(X, k=30)


def width_one_layer():
    """A width-1 layer whose TwoNN estimate (1.06) lies above its width."""
    return LayerData("narrow", np.random.default_rng(1).random((500, 1)).astype(np.float32), seed=0, neighbors_k=20)


def test_an_id_above_the_width_is_reported_as_the_width():
    metric = compute_layer(width_one_layer(), {"twonn": registry()["twonn"].params()})["twonn"]
    assert metric.ok and metric.value == 1.0 and metric.ci_high == 1.0
    assert metric.details["raw_value"] == pytest.approx(1.0607, abs=1e-4) and metric.details["raw_ci_high"] > 1
    assert "estimate 1.061 above the width 1; reported as 1" in metric.message
    layer = LayerResult(name="narrow", module_type="Linear", width=1, n_points=500, n_points_seen=500,
                        reduction="", metrics={"twonn": metric}, primary_id="twonn")
    assert layer.redundancy_rate == 0.0


def test_an_id_within_the_width_is_left_alone():
    X = np.random.default_rng(7).standard_normal((400, 3)) @ np.random.default_rng(8).standard_normal((3, 16))
    layer = LayerData("wide", X.astype(np.float32), seed=0, neighbors_k=20)
    metric = compute_layer(layer, {"twonn": registry()["twonn"].params()})["twonn"]
    assert metric.value < 16 and "raw_value" not in metric.details and "width" not in metric.message


def test_the_sample_size_full_point_is_the_headline_twonn_with_duplicates():
    """Page 1's TwoNN and the sample-size section's full-size value are one estimate, also when
    rows are duplicated, and it is the estimate of the distinct points (5.04; with the copies
    in the fit both read 5.47 before)."""
    from audit.metrics import LayerData, compute_layer, neighbors_needed, registry

    rng = np.random.default_rng(0)
    points = rng.normal(size=(1500, 5)) @ rng.normal(size=(5, 20))
    matrix = np.vstack([points, points[:150]]).astype(np.float32)
    metrics = registry()
    selected = {name: metrics[name].params() for name in ("twonn", "gride", "sample_size")}
    found = compute_layer(LayerData("layer", matrix, 0, neighbors_needed(selected)), selected)
    assert found["sample_size"].details["values"][-1] == found["twonn"].value
    assert found["twonn"].n_duplicates == 300
    clean = compute_layer(LayerData("layer", points.astype(np.float32), 0, neighbors_needed(selected)), selected)
    assert found["twonn"].value == pytest.approx(clean["twonn"].value)


def test_duplicates_are_a_warning_once_per_count_not_silence():
    """The warnings box said every metric ran on all points where TwoNN had collapsed copies;
    now the copies are a warning, one sentence for the layers that share a count."""
    from audit.audit_warnings import layer_warnings
    from audit.results import MetricResult

    def layer(name, duplicates):
        metric = MetricResult(name="twonn", title="TwoNN ID", value=5.0, method="TwoNN", n_duplicates=duplicates)
        return LayerResult(name=name, module_type="Linear", width=16, n_points=256, n_points_seen=256,
                           reduction="mean", metrics={"twonn": metric})

    found = list(layer_warnings([layer("a", 8), layer("b", 8), layer("c", 0), layer("d", 2)]))
    assert found == ["2 layers (a, b): 8 of 256 points are exact duplicates; the kNN estimates count each distinct point "
                     "once, the spectral ones every row",
                     "d: 2 of 256 points are exact duplicates; the kNN estimates count each distinct point once, the "
                     "spectral ones every row"]

"""Linear probes, neural collapse NC1 and dead units: reference formulas, planted structure,
labels aligned with captured rows, and "not computed" without labels."""

import numpy as np
import pytest
import torch

from audit import estimators as est
from audit.batches import batches
from audit.capture import CaptureSettings, capture
from audit.metrics import LayerData, compute_layer, registry
from audit.runner import run_audit
from audit.spec import load_spec


def gaussian_classes(seed=0, n_per_class=150, n_classes=4, width=12, spread=1.0):
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_classes, width)) * 3
    labels = np.repeat(np.arange(n_classes), n_per_class)
    return means[labels] + spread * rng.standard_normal((labels.size, width)), labels


def nc1_direct(X, y):
    """Papyan et al. (2020): Sigma_W over all N points, Sigma_B over the C class means, tr(Sigma_W pinv(Sigma_B)) / C."""
    classes = np.unique(y)
    means = np.stack([X[y == c].mean(axis=0) for c in classes])
    within = sum((X[y == c] - m).T @ (X[y == c] - m) for c, m in zip(classes, means)) / len(X)
    centred = means - means.mean(axis=0)
    between = centred.T @ centred / len(classes)
    return np.trace(within @ np.linalg.pinv(between)) / len(classes)


@pytest.mark.parametrize("seed, n_classes, width", [(0, 4, 12), (1, 3, 40), (2, 7, 5)])
def test_nc1_matches_the_direct_formula(seed, n_classes, width):
    X, y = gaussian_classes(seed, n_classes=n_classes, width=width)
    found = est.nc1(X, y)
    assert found.value == pytest.approx(nc1_direct(X, y), rel=1e-9)
    assert found.ci_low < found.value < found.ci_high


def test_nc1_grows_with_spread_and_vanishes_on_collapsed_classes():
    values = [est.nc1(*gaussian_classes(spread=spread)).value for spread in (0.5, 1.0, 2.0)]
    assert values[0] < values[1] < values[2]
    X, y = gaussian_classes(spread=1e-7)
    assert est.nc1(X, y).value < 1e-12


def test_nc1_needs_two_classes():
    X, y = gaussian_classes(n_classes=2)
    with pytest.raises(est.EstimatorInputError, match="at least 2 classes"):
        est.nc1(X, np.zeros_like(y))


def test_dead_units_finds_never_active_and_constant_features():
    X = np.maximum(np.random.default_rng(0).standard_normal((100, 6)), 0)
    X[:, 2] = 0.0  # a ReLU that never fires: never active and constant
    X[:, 4] = 3.0  # constant but active
    X[:, 5] = -np.abs(X[:, 5]) - 0.1  # never positive, varying
    found = est.dead_units(X)
    assert found.never_active == (2, 5) and found.constant == (2, 4) and found.dead == (2, 4, 5)


def layer(matrix, labels=None, samples=None):
    return LayerData("layer", matrix.astype(np.float32), seed=0, labels=labels, samples=samples)


def test_linear_probe_reads_separable_labels_and_not_random_ones():
    X, y = gaussian_classes(spread=0.5)
    params = registry()["linear_probe"].params()
    separable = compute_layer(layer(X, y), {"linear_probe": params})["linear_probe"]
    assert separable.ok and separable.value > 0.97 and separable.ci_low <= separable.value <= separable.ci_high
    shuffled = np.random.default_rng(1).permutation(y)
    chance = compute_layer(layer(X, shuffled), {"linear_probe": params})["linear_probe"]
    assert chance.value < 0.4  # 4 balanced classes: chance is 0.25


def test_without_labels_the_label_metrics_say_so():
    X, _ = gaussian_classes()
    selected = {name: registry()[name].params() for name in ("linear_probe", "nc1", "dead_units")}
    found = compute_layer(layer(X), selected)
    for name in ("linear_probe", "nc1"):
        assert found[name].status == "failed" and found[name].message == "not computed: the probe has no labels"
    assert found["dead_units"].ok and found["dead_units"].value == 0


def test_token_rows_carry_their_samples_label():
    """Every token is a point; feature 0 holds the sample's index, so each kept row names its sample."""
    n, length = 30, 5
    features = np.zeros((n, length, 3), dtype=np.float32)
    features[:, :, 0] = np.arange(n)[:, None]
    features[:, :, 1] = np.arange(length)[None, :]
    module = torch.nn.Sequential(torch.nn.Identity())
    settings = CaptureSettings(max_points=40, sequence="tokens", seed=3)
    found = capture(module, batches(features, 7), ["0"], settings).layers["0"]
    assert found.matrix.shape[0] == 40
    np.testing.assert_array_equal(found.samples, found.matrix[:, 0].astype(int))


def test_a_planted_dead_relu_unit_is_reported(tmp_path):
    (tmp_path / "model.py").write_text(
        "import torch\n"
        "def build():\n"
        "    torch.manual_seed(0)\n"
        "    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU())\n"
        "    with torch.no_grad():\n"
        "        model[0].bias[3] = -100.0\n"
        "    return model\n")
    np.save(tmp_path / "probe.npy", np.random.default_rng(0).standard_normal((200, 4)).astype(np.float32))
    (tmp_path / "audit.yaml").write_text("model: {kind: torch, factory: model.py:build}\nprobe: {source: probe.npy}\n"
                                         "layers: {include: ['1']}\nmetrics: [dead_units, nc1]\n")
    result = run_audit(load_spec(tmp_path / "audit.yaml"))
    dead = result.layer("1").metrics["dead_units"]
    assert dead.value == 1 and dead.details["indices"] == [3] and dead.details["never_active"] == 1
    assert result.layer("1").metrics["nc1"].message == "not computed: the probe has no labels"

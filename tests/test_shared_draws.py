"""Bootstrap counts shared within a scope: the same intervals as fresh draws, drawn once per
(seed, points, replicates), within a bounded store whose least recently used draws give way."""

from pathlib import Path

import numpy as np

from audit.estimators import _bootstrap
from audit.runner import run_audit
from audit.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def mean_replicates(values, seed=0):
    return _bootstrap.replicate_seeded(lambda counts: counts @ values / values.size, values.size, 200, seed)


def counting_draws(monkeypatch):
    drawn = []
    original = _bootstrap.resample_counts

    def counted(n_points, n_bootstrap, rng):
        drawn.append(n_points)
        return original(n_points, n_bootstrap, rng)

    monkeypatch.setattr(_bootstrap, "resample_counts", counted)
    return drawn


def test_a_scope_draws_each_size_once_and_changes_no_replicate(monkeypatch):
    rng = np.random.default_rng(0)
    first, second, other_size = rng.random(500), rng.random(500), rng.random(300)
    fresh = [mean_replicates(values) for values in (first, second, other_size)]
    drawn = counting_draws(monkeypatch)
    with _bootstrap.shared_draws():
        shared = [mean_replicates(values) for values in (first, second, other_size)]
    for expected, found in zip(fresh, shared):
        np.testing.assert_array_equal(found, expected)
    assert drawn == [500] * 4 + [300] * 4  # 200 replicates in chunks of 50, for each size once


def test_the_store_is_bounded_and_gives_way_to_new_draws(monkeypatch):
    monkeypatch.setattr(_bootstrap, "_SHARED_MAX_COUNTS", 200 * 500 + 200 * 300)
    rng = np.random.default_rng(1)
    sizes = (500, 300, 400, 500)
    arrays = [rng.random(n) for n in sizes]
    expected = [mean_replicates(values) for values in arrays]
    drawn = counting_draws(monkeypatch)
    with _bootstrap.shared_draws():
        found = [mean_replicates(values) for values in arrays]
        held = sum(block.size for draws in _bootstrap._scope.shared.values() for block in draws)
    for want, got in zip(expected, found):
        np.testing.assert_array_equal(got, want)
    assert held <= _bootstrap._SHARED_MAX_COUNTS
    assert drawn.count(500) == 8  # the 500-point draw made room for the 400-point one: drawn again


def test_an_audit_shares_draws_across_layers(monkeypatch, tmp_path):
    """The digits MLP's layers all hold its 360 held-out digits: one MLE draw serves them all."""
    digits = ROOT / "examples" / "digits-mlp"
    spec = tmp_path / "audit.yaml"
    spec.write_text(f"model:\n  kind: torch\n  factory: {digits}/model.py:build\n  weights: {digits}/weights.safetensors\n"
                    f"probe:\n  source: {digits}/heldout.npz\nmetrics: [mle]\noutput:\n  formats: [json]\n")
    drawn = counting_draws(monkeypatch)
    result = run_audit(load_spec(spec))
    assert len(result.layers) >= 3 and all(layer.n_points == 360 for layer in result.layers)
    assert drawn == [360] * 4  # 200 replicates in chunks of 50, once for every layer

"""Quality measured on samples a variant was not fitted on, with a bootstrap interval: the seeded
split and the intervals themselves, the cost stage's PCA fitted on one split and every variant
scored on the other (checked against a hand-built reference on the digits MLP), and the sweep's
distillation trained on one split and scored on the other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from audit.heldout import mean_interval, ratio_interval, split_samples
from audit.runner import run_audit
from audit.sources import load_model, load_probe
from audit.spec import load_spec
from audit.stages.cost.quality import recall_per_query

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits-mlp"
MODEL = f"model: {{kind: torch, factory: {DIGITS / 'model.py'}:build, weights: {DIGITS / 'weights.safetensors'}}}\n"


def test_split_is_seeded_disjoint_and_covers_the_samples():
    split = split_samples(101, 0.25, seed=3)
    assert len(split.heldout) == 25 and len(split.fit) == 76
    assert not set(split.fit) & set(split.heldout) and set(split.fit) | set(split.heldout) == set(range(101))
    assert list(split.heldout) == sorted(split.heldout)
    again, other = split_samples(101, 0.25, seed=3), split_samples(101, 0.25, seed=4)
    assert np.array_equal(again.heldout, split.heldout) and not np.array_equal(other.heldout, split.heldout)
    with pytest.raises(ValueError):
        split_samples(10, 1.0, seed=0)


def test_intervals_bracket_the_value_narrow_with_more_samples_and_pair_ratios():
    rng = np.random.default_rng(0)
    small, large = rng.random(50) < 0.9, rng.random(2000) < 0.9
    a, b = mean_interval(small, seed=0), mean_interval(large, seed=0)
    assert a.low <= small.mean() <= a.high and b.low <= large.mean() <= b.high
    assert b.high - b.low < a.high - a.low and a.n_samples == 50 and "50 held-out" in a.method
    assert mean_interval(small, seed=0) == a  # seeded
    same = ratio_interval(small, small, seed=0)  # a ratio resampled paired: a variant equal to the original is exactly 1
    assert same.low == same.high == 1.0


@pytest.fixture(scope="module")
def digits_cost(tmp_path_factory):
    spec = tmp_path_factory.mktemp("heldout") / "audit.yaml"
    spec.write_text(MODEL + "probe: {source: 'sklearn:digits', batch_size: 512}\nlayers: {include: [blocks.0.linear, head]}\n"
                    "metrics: {twonn: {}, pca: {}}\n"
                    "cost: {embedding: 'yes', factorize: [blocks.0.linear], ranks: [8], measure: false, holdout: 0.25}\n"
                    "seed: 3\n")
    loaded = load_spec(spec)
    return loaded, run_audit(loaded).cost


def _reference(loaded):
    model, probe = load_model(loaded), load_probe(loaded)
    with torch.no_grad():
        logits = model.module(torch.as_tensor(probe.features, dtype=torch.float32)).double().numpy()
    return split_samples(len(probe.labels), 0.25, seed=3), logits, np.asarray(probe.labels)


def test_the_embedding_pca_is_fitted_on_one_split_and_recall_scored_on_the_other(digits_cost):
    loaded, cost = digits_cost
    split, logits, _ = _reference(loaded)
    target = next(t for t in cost.targets if t.kind == "embedding")
    row = target.candidates[0]
    pca = PCA(n_components=row.width, svd_solver="full").fit(logits[split.fit])
    held = logits[split.heldout]
    expected = recall_per_query(held, held @ pca.components_.T, k=10).mean()
    assert row.quality.retained == pytest.approx(expected, abs=1e-9)
    assert row.quality.n_samples == len(split.heldout) == 449
    assert row.quality.ci_low <= row.quality.retained <= row.quality.ci_high and "bootstrap" in row.quality.ci_method
    assert "fitted on 1,348" in target.method and "held out" in target.method


def test_every_factorized_row_is_scored_on_the_same_held_out_samples(digits_cost):
    loaded, cost = digits_cost
    split, logits, labels = _reference(loaded)
    target = next(t for t in cost.targets if t.kind == "linear")
    original = (logits.argmax(axis=1) == labels)[split.heldout].mean()
    assert target.original.quality.details["original_accuracy"] == pytest.approx(original, abs=1e-6)
    for row in (target.original, *target.candidates):
        quality = row.quality
        assert quality.n_samples == 449
        assert quality.details["original_accuracy"] == target.original.quality.details["accuracy"]
        assert quality.ci_low <= quality.retained <= quality.ci_high
        assert quality.details["accuracy_ci_low"] <= quality.details["accuracy"] <= quality.details["accuracy_ci_high"]


def test_sweep_scores_carry_held_out_bootstrap_intervals(tmp_path):
    spec = tmp_path / "audit.yaml"
    spec.write_text(MODEL + "probe: {source: 'sklearn:digits', batch_size: 512}\nlayers: {include: [head]}\n"
                    "metrics: {pca: {}}\nsweep: {layers: [blocks.1.linear], n_ranks: 3, refine: 0, n_samples: 400, "
                    "distill: {steps: 5, lr: 0.01, holdout: 0.25}}\n")
    sweep = run_audit(load_spec(spec)).sweep
    assert sweep.n_samples == 100 and sweep.distill_samples == 300
    assert sweep.teacher_ci_low <= sweep.teacher_score <= sweep.teacher_ci_high and "100 held-out" in sweep.ci_method
    for point in sweep.groups[0].points:
        assert point.ci_low <= point.score <= point.ci_high
        assert point.retained_ci_low <= point.retained <= point.retained_ci_high


def test_a_bounded_heldout_subset_keeps_the_fit_part_and_is_a_seeded_subset():
    from audit.heldout import split_samples

    full, bounded = split_samples(1000, 0.5, 3), split_samples(1000, 0.5, 3, most=100)
    assert np.array_equal(full.fit, bounded.fit) and bounded.heldout.size == 100
    assert set(bounded.heldout) <= set(full.heldout) and np.all(np.diff(bounded.heldout) > 0)
    assert np.array_equal(split_samples(1000, 0.5, 3, most=5000).heldout, full.heldout)

"""Factorization sweeps: truncated SVD against Eckart-Young, the PCHIP/knee/range maths on a
hand-computed curve, a planted exact-rank layer found at its rank, executors that agree."""

import json
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import torch

from audit.cli import main
from audit.estimators.lowrank import dense_parameters, factorize, factorized_parameters
from audit.render.json_report import schema
from audit.runner import run_audit
from audit.spec import load_spec
from audit.stages.sweep.curve import fit_curve, knee_rank, rank_for_level
from audit.stages.sweep.executor import chunks
from audit.stages.sweep.grid import geometric_ranks, refined_ranks

DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))
import planted_rank  # noqa: E402


def test_truncation_is_the_eckart_young_optimum():
    weight = torch.randn(20, 12, generator=torch.Generator().manual_seed(0))
    factors = factorize(weight)
    singular = np.linalg.svd(weight.double().numpy(), compute_uv=False)
    for rank in (1, 3, 12):
        approx = factors.weight(rank)
        assert np.linalg.matrix_rank(approx.double().numpy(), tol=1e-5) == rank
        error = torch.linalg.matrix_norm(weight.double() - approx.double())
        assert float(error) == pytest.approx(np.sqrt(np.sum(singular[rank:] ** 2)), abs=1e-5)
        a, b = factors.split(rank)
        assert a.shape == (20, rank) and b.shape == (rank, 12)
        torch.testing.assert_close(a @ b, approx)
    assert factors.energy(12) == pytest.approx(1.0)


def test_a_conv_kernel_is_factorized_as_out_by_in_times_kernel():
    kernel = torch.randn(8, 3, 3, 3, generator=torch.Generator().manual_seed(1))
    factors = factorize(kernel)
    assert factors.max_rank == 8 and factors.weight(8).shape == kernel.shape
    torch.testing.assert_close(factors.weight(8), kernel, atol=1e-5, rtol=1e-5)


def test_parameter_counts():
    assert dense_parameters((64, 32)) == 2048
    assert factorized_parameters((64, 32), 4) == 4 * (64 + 32)
    assert factorized_parameters((64, 32), 32) == 2048  # no saving: counted dense
    assert factorized_parameters((16, 3, 3, 3), 2) == 2 * (16 + 27)


def test_hand_computed_curve():
    """Scores 0, 1, 1, 1 at ranks 1, 5, 9, 13. PCHIP on [1, 5]: end slope ((2h0 + h1) d0 - h0 d1) / (h0 + h1)
    = (12 * 0.25 - 0) / 8 = 0.375 at rank 1, 0 at rank 5 (the slopes 0.25 and 0 differ); at rank 4
    (t = 0.75) the Hermite cubic gives h01 + h10 * 4 * 0.375 = 0.84375 + 0.046875 * 1.5 = 0.9140625, at
    rank 3 (t = 0.5) 0.5 + 0.125 * 1.5 = 0.6875. Secant distance 12 y - (x - 1): 8 at rank 5, 7.97 at 4."""
    fit = fit_curve([13, 1, 9, 5], [1.0, 0.0, 1.0, 1.0], teacher=1.0)
    assert fit.ranks.tolist() == list(range(1, 14))
    assert fit.scores[3] == pytest.approx(0.9140625) and fit.scores[2] == pytest.approx(0.6875)
    assert fit.knee == 5
    assert fit.levels == {0.85: 4, 0.9: 4, 0.95: 5}


def test_fit_is_monotone_and_knee_ignores_units():
    ranks, scores = [1, 2, 4, 8, 16, 32], [0.1, 0.6, 0.55, 0.9, 0.97, 0.96]
    fit = fit_curve(ranks, scores, teacher=0.97)
    assert np.all(np.diff(fit.scores) >= -1e-12)
    assert knee_rank(fit.ranks, fit.scores * 100) == knee_rank(fit.ranks, fit.scores) == fit.knee
    assert rank_for_level(fit.ranks, fit.scores, 2.0, 0.9) is None  # never reaches 90% of a teacher at 2


def test_rank_grid_and_refinement():
    assert geometric_ranks(64, n_ranks=7) == [1, 2, 4, 8, 16, 32, 64]
    assert geometric_ranks(1, n_ranks=8) == [1]
    assert refined_ranks([1, 2, 4, 8, 16], 5, n_extra=2) == [5, 6]
    assert refined_ranks([4, 5, 8], 5, n_extra=9) == [6, 7]
    assert [len(c) for c in chunks(list(range(7)), 3)] == [3, 2, 2] and chunks([1], 4) == [[1]]


def planted_spec(tmp_path, sweep: str, metrics: str = "[pca]") -> Path:
    features, labels = planted_rank.probe()
    np.savez(tmp_path / "probe.npz", X=features, y=labels)
    spec = tmp_path / "audit.yaml"
    spec.write_text(f"model: {{kind: torch, factory: {DATA / 'planted_rank.py'}:build}}\n"
                    f"probe: {{source: probe.npz}}\nmetrics: {metrics}\nsweep: {sweep}\n"
                    f"output: {{dir: out}}\n")
    return spec


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    spec = planted_spec(tmp_path_factory.mktemp("planted"), "{layers: [hidden], n_ranks: 8, workers: 2}")
    return spec, run_audit(load_spec(spec))


def test_planted_rank_gives_knee_and_range_at_that_rank(planted):
    sweep = planted[1].sweep
    assert sweep.measure == "accuracy" and sweep.teacher_score == 1.0
    (group,) = sweep.groups
    assert group.layers == ("hidden",) and group.full_rank == planted_rank.WIDTH
    measured = {point.rank: point.score for point in group.points}
    assert measured[planted_rank.RANK - 1] == pytest.approx(planted_rank.RANK / planted_rank.N_CLASSES)  # (k + 1) / 6
    assert measured[planted_rank.RANK] == 1.0
    assert group.knee.rank == planted_rank.RANK
    assert [level.point.rank for level in group.levels] == [planted_rank.RANK] * 3
    knee = group.knee
    assert knee.parameters == planted_rank.RANK * 2 * planted_rank.WIDTH
    assert knee.compression == pytest.approx(planted_rank.WIDTH ** 2 / knee.parameters)


def test_sweep_json_is_schema_valid(planted):
    document = json.loads(json.dumps(planted[1].to_dict()))
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert document["sweep"]["groups"][0]["knee"]["rank"] == planted_rank.RANK


def test_one_worker_and_two_workers_agree(tmp_path, planted):
    spec = planted_spec(tmp_path, "{layers: [hidden], n_ranks: 8, workers: 1}")
    assert run_audit(load_spec(spec)).sweep.groups == planted[1].sweep.groups


def test_ray_executor_gives_the_same_results(tmp_path, planted):
    ray = pytest.importorskip("ray")
    spec = planted_spec(tmp_path, "{layers: [hidden], n_ranks: 8, workers: 2, executor: ray}")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_audit(load_spec(spec)).sweep
    finally:
        ray.shutdown()
    assert result.executor == "ray" and result.groups == planted[1].sweep.groups


def test_grouping_one_at_a_time_and_fidelity_without_labels(tmp_path):
    features, _ = planted_rank.probe()
    np.save(tmp_path / "probe.npy", features)
    spec = tmp_path / "audit.yaml"
    spec.write_text(f"model: {{kind: torch, factory: {DATA / 'planted_rank.py'}:build}}\nprobe: {{source: probe.npy}}\n"
                    "metrics: [pca]\nsweep: {grouping: one_at_a_time, fidelity: agreement, n_ranks: 6, refine: 0}\n")
    sweep = run_audit(load_spec(spec)).sweep
    assert sweep.measure == "agreement" and sweep.teacher_score == 1.0
    assert [group.name for group in sweep.groups] == ["hidden", "head"]
    hidden = sweep.groups[0]
    assert {p.rank: p.score for p in hidden.points}[planted_rank.WIDTH] == 1.0


def test_distillation_leaves_the_teacher_untouched(tmp_path):
    spec = planted_spec(tmp_path, "{layers: [hidden], n_ranks: 4, refine: 0, distill: {steps: 5, lr: 0.01}}")
    loaded = load_spec(spec)
    from audit.outputs import outputs_of
    from audit.sources import load_model, load_probe
    from audit.stages.sweep.rank_scoring import Evaluator, Task
    from audit.stages.sweep.setup import prepare

    model = load_model(loaded)
    setup = prepare(loaded, model, load_probe(loaded))
    before = {name: p.detach().clone() for name, p in model.module.named_parameters()}
    Evaluator(setup, loaded.spec.sweep.distill)(Task(0, 3))
    after = dict(model.module.named_parameters())
    assert sorted(after) == sorted(before) and not hasattr(model.module.hidden, "parametrizations")
    for name, value in before.items():
        torch.testing.assert_close(after[name], value, rtol=0, atol=0)
    assert setup.score(outputs_of(model.module, setup.inputs)).mean() == 1.0


@pytest.mark.parametrize("sweep, where, what", [
    ("{layers: [hiden]}", "sweep.layers[0]", "did you mean 'hidden'"),
    ("{levels: [0.9, 1.5]}", "sweep.levels", "each in (0, 1]"),
    ("{executor: spark}", "sweep.executor", "'local' or 'ray'"),
    ("{distill: {stepz: 3}}", "sweep.distill.stepz", "did you mean 'steps'"),
])
def test_bad_sweep_specs_exit_2_naming_the_key(tmp_path, capsys, sweep, where, what):
    spec = planted_spec(tmp_path, sweep)
    assert main(["run", str(spec), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"audit.yaml:4: {where}:" in line and what in line


def _digits_setup(folder: Path, distill: str):
    from audit.sources import load_model, load_probe
    from audit.stages.sweep.setup import prepare

    example = Path(__file__).resolve().parents[1] / "examples" / "digits-mlp"
    spec = folder / "audit.yaml"
    spec.write_text(f"model: {{kind: torch, factory: {example / 'model.py'}:build, weights: {example / 'weights.safetensors'}}}\n"
                    "probe: {source: 'sklearn:digits'}\n"
                    f"sweep: {{layers: ['blocks.*.linear', head], grouping: per_block, n_samples: 512, distill: {distill}}}\n")
    loaded = load_spec(spec)
    return loaded, prepare(loaded, load_model(loaded), load_probe(loaded))


@pytest.fixture(scope="module")
def digits_setup(tmp_path_factory):
    return _digits_setup(tmp_path_factory.mktemp("digits"), "{steps: 30, lr: 0.01}")


def test_per_block_groups_follow_the_main_blocks(digits_setup):
    _, setup = digits_setup
    assert setup.groups == [("blocks.0", ("blocks.0.linear",)), ("blocks.1", ("blocks.1.linear",)),
                            ("blocks.2", ("blocks.2.linear",)), ("head", ("head",))]
    assert setup.measure == "accuracy" and setup.n_samples == 256 and setup.n_train == 256  # distill.holdout 0.5


def test_distillation_trains_on_one_split_and_is_scored_on_the_other(digits_setup, tmp_path):
    """The 512 samples split in two disjoint halves: students train on one, every score is
    measured on the other; without distillation nothing is fitted and all 512 are scored."""
    _, setup = digits_setup
    train = {tuple(row) for batch in setup.train_inputs for row in batch.inputs.tolist()}
    scored = {tuple(row) for batch in setup.inputs for row in batch.inputs.tolist()}
    assert len(train) == len(scored) == 256 and not train & scored
    assert setup.teacher_outputs.shape[0] == 256 and setup.train_teacher.shape[0] == 256
    _, plain = _digits_setup(tmp_path, "{steps: 0}")
    assert plain.n_samples == 512 and plain.n_train == 0


def test_distillation_recovers_held_out_accuracy_a_truncation_lost(digits_setup):
    """blocks.1.linear at rank 3 keeps about 54% accuracy truncated; 30 distillation steps of its
    factors against the teacher's logits on the training half bring most of it back on the
    held-out half (measured: 0.54 -> 0.9 at 50 steps)."""
    from audit.stages.sweep import DistillSpec
    from audit.stages.sweep.rank_scoring import Evaluator, Task

    loaded, setup = digits_setup
    truncated = Evaluator(setup, DistillSpec())(Task(1, 3)).mean()
    distilled = Evaluator(setup, loaded.spec.sweep.distill)(Task(1, 3)).mean()
    assert truncated < 0.7 and distilled > truncated + 0.15


def test_shared_scores_and_subset():
    from audit.outputs import accuracy_score, agreement_score, fidelity_score, sample_indices

    teacher = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.5], [0.2, 0.1]])
    student = torch.tensor([[2.0, 1.0], [3.0, 0.0], [1.0, 0.5], [0.1, 0.2]])
    assert agreement_score(teacher, dtype=torch.float64)(student) == 0.5
    assert agreement_score(teacher)(student) == accuracy_score(teacher.argmax(dim=1))(student)
    assert fidelity_score(teacher, dtype=torch.float64)(teacher) == pytest.approx(1.0, abs=1e-15)
    assert list(sample_indices(7, 0, seed=3)) == list(range(7)) == list(sample_indices(7, 9, seed=3))
    chosen = sample_indices(100, 10, seed=3)
    assert len(set(chosen)) == 10 and list(chosen) == sorted(chosen)
    assert list(chosen) == list(sample_indices(100, 10, seed=3))


@pytest.mark.parametrize("shape", [(24, 40), (40, 24)])
def test_the_gram_path_of_large_weights_gives_the_same_approximations(monkeypatch, shape):
    """Large weights are decomposed through their Gram matrix: every rank's approximation and
    split equal LAPACK's SVD to float64 rounding (the path is forced here on a small matrix)."""
    from audit.estimators import lowrank

    weight = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    exact = lowrank.factorize(weight)
    monkeypatch.setattr(lowrank, "GRAM_SIDE", 8)
    gram = lowrank.factorize(weight)
    assert torch.allclose(gram.s, exact.s, rtol=1e-12, atol=1e-12)
    for rank in (1, 5, 24):
        assert torch.allclose(gram.weight(rank), exact.weight(rank), atol=1e-12)
        first, second = gram.split(rank)
        assert torch.allclose(first @ second, exact.weight(rank), atol=1e-12)

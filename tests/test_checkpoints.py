"""The checkpoints stage on real training and a planted collapse: the digits MLP's first 400 Adam
steps (examples/digits-checkpoints, its committed checkpoints), a toy whose
representation collapses two checkpoints before its accuracy falls, threads and Ray equal to one
worker, bad sections as one-line errors, and the CLI gating a run on the early warning."""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import save_file

from audit.cli import main
from audit.runner import run_audit
from audit.sources import load_model, load_probe
from audit.spec import load_spec
from audit.stages.checkpoints.executor import run_local
from audit.stages.checkpoints.measure import plan_for
from audit.stages.checkpoints.series import checkpoint_series

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits-checkpoints"
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(DATA))
import planted_collapse  # noqa: E402

HIDDEN = ("blocks.0.act", "blocks.1.act", "blocks.2.act")


@pytest.fixture(scope="module")
def digits():
    return run_audit(load_spec(EXAMPLE / "audit.yaml")).checkpoints


def test_digits_ids_fall_early_in_training_while_accuracy_rises(digits):
    steps = [step.step for step in digits.steps]
    assert steps == [0, 10, 30, 100, 400]
    accuracy = [step.accuracy for step in digits.steps]
    assert accuracy[0] < 0.2 and accuracy[-1] > 0.95  # chance at initialisation, trained by step 400
    trajectory = {layer.name: layer for layer in digits.layers}
    for name in HIDDEN:  # measured (TwoNN, step 0 -> 400): -7%, -28%, -43%; effective rank -21%, -53%, -40%
        assert trajectory[name].id_change < 0 and trajectory[name].rank_change < -0.15
    assert trajectory["blocks.2.act"].id_change < trajectory["blocks.1.act"].id_change < trajectory["blocks.0.act"].id_change
    first, last = (next(layer for layer in step.layers if layer.name == "blocks.2.act") for step in (digits.steps[0], digits.steps[-1]))
    assert last.id.ci_high < first.id.ci_low  # 8.6 [7.8, 9.3] -> 4.9 [4.4, 5.4]: the fall is beyond the intervals
    assert digits.warnings == () and digits.accuracy_fall_step is None  # every fall came with accuracy rising
    assert digits.primary_id == "twonn" and digits.accuracy_method.endswith("Wilson score interval")


def test_two_threads_equal_one(digits):
    loaded = load_spec(EXAMPLE / "audit.yaml")
    model, probe = load_model(loaded), load_probe(loaded)
    plan = plan_for(loaded.spec, [layer.name for layer in digits.layers])
    assert tuple(run_local(loaded, model, probe, plan, checkpoint_series(loaded), workers=1)) == digits.steps


def _toy_spec(tmp_path: Path, section: str, *, labels: bool = True, extra: str = "") -> Path:
    folder = tmp_path / "ckpt"
    if not folder.exists():
        planted_collapse.save_series(folder)
    features, classes = planted_collapse.probe()
    np.savez(tmp_path / "probe.npz", **({"X": features, "y": classes} if labels else {"X": features}))
    spec = tmp_path / "audit.yaml"
    spec.write_text(f"model: {{kind: torch, factory: {DATA / 'planted_collapse.py'}:build}}\n"
                    "probe: {source: probe.npz}\nmetrics: [twonn, pca, effective_rank]\n"
                    f"checkpoints:\n{section}{extra}")
    return spec


def test_planted_collapse_warns_before_accuracy_falls(tmp_path):
    series = run_audit(load_spec(_toy_spec(tmp_path, "  weights: ckpt/step-*.safetensors\n"))).checkpoints
    assert series.accuracy_fall_step == planted_collapse.ACCURACY_FALL_STEP == 400
    assert series.first_warning_step == planted_collapse.COLLAPSE_STEP == 200 and series.warned_before_accuracy_fell
    assert {warning.layer for warning in series.warnings} == {"embed"}  # the head's fall came with accuracy's
    assert all(warning.separated and warning.accuracy_after == warning.accuracy_before for warning in series.warnings)
    embed = next(layer for layer in series.layers if layer.name == "embed")
    assert embed.rank_change < -0.7


def test_without_labels_every_large_fall_warns_and_says_so(tmp_path):
    series = run_audit(load_spec(_toy_spec(tmp_path, "  weights: ckpt/step-*.safetensors\n", labels=False))).checkpoints
    assert series.steps[0].accuracy is None and series.accuracy_fall_step is None
    assert series.warned_before_accuracy_fell is None
    assert {warning.layer for warning in series.warnings} == {"embed", "head"}
    assert all("no accuracy" in warning.note for warning in series.warnings)


def test_ray_executor_gives_the_same_results(tmp_path):
    ray = pytest.importorskip("ray")
    section = "  weights: [{step: 0, weights: ckpt/step-0.safetensors}, {step: 300, weights: ckpt/step-300.safetensors}]\n"
    local = run_audit(load_spec(_toy_spec(tmp_path, section))).checkpoints
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        found = run_audit(load_spec(_toy_spec(tmp_path, section, extra="  executor: ray\n"))).checkpoints
    finally:
        ray.shutdown()
    assert found.executor == "ray" and found.steps == local.steps


def _one_error_line(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("section, expected", [
    ("  weights: ckpt/nothing-*.pt\n", ":5: checkpoints.weights: no file matches 'ckpt/nothing-*.pt'"),
    ("  weights: ckpt/*.safetensors\n  step_pattern: 'step'\n", ":6: checkpoints.step_pattern: the pattern needs a group"),
    ("  weights: ckpt/*.safetensors\n  step_pattern: '(\\w+)-'\n", ":5: checkpoints.weights: cannot read a step from"),
    ("  weights: []\n", ":5: checkpoints.weights: name at least one checkpoint"),
    ("  weights:\n    - {step: 1, weights: ckpt/step-0.safetensors}\n    - {step: 1, weights: ckpt/step-100.safetensors}\n",
     ":7: checkpoints.weights[1].step: step 1 is named twice (ckpt/step-0.safetensors and ckpt/step-100.safetensors)"),
    ("  weights: [{step: 0, weights: ckpt/missing.pt}]\n", ":5: checkpoints.weights[0].weights: file not found"),
    ("  weights: [{step: -1, weights: ckpt/step-0.safetensors}]\n", ":5: checkpoints.weights[0].step: Input should be greater"),
    ("  weights: ckpt/step-*.safetensors\n  warn_drop: 1.5\n", ":6: checkpoints.warn_drop: Input should be less than 1"),
    ("  weights: ckpt/step-*.safetensors\n  wran_drop: 0.5\n", "unknown key 'wran_drop'; did you mean 'warn_drop'?"),
])
def test_bad_sections_are_one_line_errors(tmp_path, capsys, section, expected):
    line = _one_error_line(capsys, ["run", str(_toy_spec(tmp_path, section)), "--out", str(tmp_path / "out"), "--quiet"])
    assert expected in line
    assert not (tmp_path / "out").exists()


def test_checkpoints_that_do_not_fit_the_model_name_their_line(tmp_path, capsys):
    planted_collapse.save_series(tmp_path / "ckpt")
    state = planted_collapse.state_at(0)
    save_file({"embed.weight": state["embed.weight"][:8], "head.weight": state["head.weight"]}, str(tmp_path / "narrow.safetensors"))
    save_file({"embed.weight": state["embed.weight"], "body.weight": state["head.weight"]}, str(tmp_path / "renamed.safetensors"))
    (tmp_path / "notes.pt").write_text("not a state dict")
    for name, expected in (("narrow.safetensors", "weights do not fit the model: shapes: embed.weight [8, 16] (model: [16, 16])"),
                           ("renamed.safetensors", "weights do not fit the model: missing keys: head.weight; unexpected keys: body.weight"),
                           ("notes.pt", "cannot read the weights")):
        section = f"  weights:\n    - {{step: 0, weights: ckpt/step-0.safetensors}}\n    - {{step: 5, weights: {name}}}\n"
        line = _one_error_line(capsys, ["run", str(_toy_spec(tmp_path, section)), "--out", str(tmp_path / "out"), "--quiet"])
        assert f":7: checkpoints.weights[1].weights: {name}: {expected}" in line


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data):
        self.text.append(data)


def test_cli_gates_a_collapsing_run_and_reports_it(tmp_path):
    spec = _toy_spec(tmp_path, "  weights: ckpt/step-*.safetensors\n",
                     extra=f"policies: [{EXAMPLE / 'checkpoints.yaml'}]\n")
    out = tmp_path / "out"
    completed = subprocess.run([sys.executable, "-m", "audit", "run", str(spec), "--out", str(out), "--quiet"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1, completed.stderr  # the early warning fails the gate
    document = json.loads((out / "audit.json").read_text())
    assert document["checkpoints"]["first_warning_step"] == 200 and document["checkpoints"]["accuracy_fall_step"] == 400
    parser = _Text()
    parser.feed((out / "report.html").read_text())
    text = " ".join(parser.text)
    assert "Checkpoint trajectories" in text and "Early warning" in text and "ID and effective rank of each layer" in text
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        pdf = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True).stdout
        assert "Checkpoint trajectories" in pdf and "fell by" in pdf and "Wilson" in pdf
    compared = subprocess.run([sys.executable, "-m", "audit", "compare", str(out / "audit.json"), str(out / "audit.json")],
                              capture_output=True, text=True, timeout=120)
    table = compared.stdout.split("Checkpoint trajectories: change from the first step to the last")[1]
    assert "checkpoint_id_change" in table and "checkpoint_rank_change" in table  # compare shows the series side by side

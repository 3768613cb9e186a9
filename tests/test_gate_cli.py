"""The gate end to end on real audits of the digits example, before and after a change (80% of
each Linear's weights pruned by magnitude): exit codes of run and compare, the verdict in
audit.json / junit.xml / the step summary, policy errors before the model loads, and the CI
examples' commands against the real CLI."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import torch
import xmlschema
import yaml
from safetensors.torch import load_file, save_file

from audit.cli import _parser, main
from audit.render.json_report import schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits-mlp"
JUNIT_XSD = Path(__file__).parent / "data" / "junit-windyroad.xsd"
SPEC = """model: {{kind: torch, factory: {factory}, weights: {weights}}}
probe: {{source: "sklearn:digits", batch_size: 512}}
layers: {{include: ["blocks.*.act", head]}}
metrics: {{twonn: {{n_bootstrap: 20}}, pca: {{}}}}
output: {{formats: [json, junit, markdown]}}
{extra}"""


def write_spec(folder: Path, weights: Path, extra: str = "") -> Path:
    path = folder / "audit.yaml"
    path.write_text(SPEC.format(factory=f"{EXAMPLE / 'model.py'}:build", weights=weights, extra=extra))
    return path


def pruned_weights(path: Path, fraction: float = 0.8) -> Path:
    state = load_file(EXAMPLE / "weights.safetensors")
    for key, value in state.items():
        if key.endswith("linear.weight"):
            cut = value.abs().flatten().kthvalue(int(fraction * value.numel())).values
            state[key] = torch.where(value.abs() <= cut, torch.zeros_like(value), value)
    save_file(state, path)
    return path


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    """The base audit gated by `default` (passes); the pruned one by `strict` and by `regression`
    against the base (fails)."""
    folder = tmp_path_factory.mktemp("gate")
    base_spec = write_spec(folder, EXAMPLE / "weights.safetensors")
    new_folder = folder / "pruned"
    new_folder.mkdir()
    new_spec = write_spec(new_folder, pruned_weights(new_folder / "pruned.safetensors"))
    summary = folder / "step_summary.md"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        base_code = main(["run", str(base_spec), "--out", str(folder / "base"), "-q", "--policy", "default"])
        new_code = main(["run", str(new_spec), "--out", str(folder / "new"), "-q", "--policy", "strict",
                         "--policy", "regression", "--baseline", str(folder / "base" / "audit.json")])
    return {"folder": folder, "codes": (base_code, new_code), "summary": summary}


def test_run_exits_0_when_the_policies_pass_and_1_when_one_fails(audits):
    assert audits["codes"] == (0, 1)
    base = json.loads((audits["folder"] / "base" / "audit.json").read_text())
    new = json.loads((audits["folder"] / "new" / "audit.json").read_text())
    for document in (base, new):
        jsonschema.Draft202012Validator(schema()).validate(document)
    assert base["verdict"]["status"] == "PASS" and base["verdict"]["passed"]
    statuses = {o["rule"]: o["status"] for o in new["verdict"]["outcomes"]}
    assert statuses["hidden-width-used"] == "FAIL"  # blocks.0.act: TwoNN ~9 of 128 -> redundancy ~0.93 > 0.75
    assert statuses["id-settled"] == "ERROR"  # strict asks for sample_size, which this spec does not run
    assert statuses["accuracy-kept"] == "FAIL"  # run --baseline: pruning cost more than a point of accuracy
    assert new["verdict"]["baseline"].endswith("base/audit.json")


def test_junit_and_step_summary_carry_the_verdict(audits):
    document = (audits["folder"] / "new" / "junit.xml").read_text()
    xmlschema.XMLSchema(JUNIT_XSD).validate(document)
    assert 'name="hidden-width-used"' in document and "<failure" in document and "<error" in document
    summary = audits["summary"].read_text()
    assert summary.count("model-audit verdict:") == 2
    assert "verdict: PASS" in summary and "verdict: ERROR" in summary  # ERROR outranks FAIL
    assert (audits["folder"] / "base" / "summary.md").read_text() in summary


def test_a_bad_policy_is_exit_2_before_the_model_loads(audits, tmp_path, capsys):
    spec = write_spec(tmp_path, EXAMPLE / "weights.safetensors")
    assert main(["run", str(spec), "--policy", "defualt"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --policy: unknown policy pack 'defualt'; did you mean 'default'?\n"  # no "loading model"
    spec = write_spec(tmp_path, EXAMPLE / "weights.safetensors", extra="policies: [strict, embeding]\n")
    assert main(["validate", str(spec)]) == 2
    assert capsys.readouterr().err == (f"error: {spec}:6: policies[1]: unknown policy pack 'embeding'; "
                                       "did you mean 'embedding'?\n")


def test_compare_gives_a_regression_table_and_gates_on_changes(audits, tmp_path, capsys):
    base, new = (str(audits["folder"] / name / "audit.json") for name in ("base", "new"))
    assert main(["compare", base, new]) == 0
    table = capsys.readouterr().out
    for layer in ("blocks.0.act", "blocks.1.act", "blocks.2.act", "head"):
        assert re.search(rf"^  {re.escape(layer)} +id ", table, re.M) and re.search(rf"^  {re.escape(layer)} +twonn ", table, re.M)
    accuracy = next(line.split() for line in table.splitlines() if line.strip().startswith("accuracy "))
    assert float(accuracy[1]) > float(accuracy[2]) and accuracy[3].startswith("-")  # pruning cost accuracy
    assert main(["compare", base, new, "--policy", "regression"]) == 1
    assert "FAIL  accuracy-kept (regression)" in capsys.readouterr().out


def test_fail_on_warn_makes_warnings_fail_the_gate(audits, tmp_path, capsys):
    base, new = (str(audits["folder"] / name / "audit.json") for name in ("base", "new"))
    pack = tmp_path / "warn.yaml"
    pack.write_text("- id: id-unchanged\n  metric: id\n  change: absolute\n  must_be: '<='\n  threshold: 0\n"
                    "  severity: warn\n  message: a layer's ID rose\n")
    assert main(["compare", base, new, "--policy", str(pack)]) == 0
    assert main(["compare", base, new, "--policy", str(pack), "--fail-on", "warn"]) == 1
    out = tmp_path / "compare.html"
    assert main(["compare", base, new, "--policy", str(pack), "--format", "html", "--out", str(out)]) == 0
    assert "Policy verdict: WARN" in out.read_text() and "id-unchanged" in out.read_text()
    capsys.readouterr()


def _commands(lines) -> list[list[str]]:
    return [shlex.split(line.split("#", 1)[0]) for line in lines if line.strip().startswith("model-audit ")]


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_examples_run_real_cli_flags_and_keep_the_reports(name):
    document = yaml.safe_load((ROOT / "examples" / "ci" / name).read_text())
    if name.startswith("github"):
        steps = document["jobs"]["audit"]["steps"]
        lines = [line for step in steps for line in str(step.get("run", "")).splitlines()]
        kept = next(step for step in steps if "upload-artifact" in str(step.get("uses")))["with"]["path"].split()
        assert all(step.get("if") == "always()" for step in steps if "model-audit-report" in str(step) or "junit" in str(step))
    else:
        job = document["model-audit"]
        lines = job["script"]
        kept = job["artifacts"]["paths"] + [job["artifacts"]["reports"]["junit"]]
        assert job["artifacts"]["when"] == "always"
    (command,) = _commands(lines)
    args = _parser().parse_args(command[1:])
    assert args.command.__name__ == "_run" and args.policy and (ROOT / args.spec).is_file()
    assert {f"{args.out}/{file}" for file in ("report.pdf", "junit.xml")} <= set(kept)


SAVINGS_PACK = """rules:  # the pack is named by its file
  - id: every-block-resizable
    metric: resize_recommended
    layers: ["blocks.*"]
    must_be: "=="
    threshold: 1
    message: A factorized block got no rank that keeps the quality floor.
  - id: recommended-keeps-accuracy
    metric: quality_retained
    must_be: ">="
    threshold: 0.95
    message: A recommended rank keeps under 95% of the accuracy.
  - id: savings-{verdict}
    metric: model_bytes_reduction
    must_be: "{must_be}"
    threshold: {threshold}
    severity: {severity}
    message: The recommended factorization {verdict}.
  - id: compressible-at-95
    metric: compression_at_95
    must_be: ">="
    threshold: 2
    message: A block does not halve at 95% of the teacher's score.
"""


def savings_pack(folder: Path, name: str, *, must_be: str = ">=", threshold: float = 0.05,
                 severity: str = "fail") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(SAVINGS_PACK.format(verdict=name, must_be=must_be, threshold=threshold, severity=severity))
    return path


@pytest.fixture(scope="module")
def costed(tmp_path_factory):
    """The digits example's own cost and sweep sections on a lighter audit (two metrics, five timed
    runs), gated by a pack of cost and sweep figures it passes."""
    folder = tmp_path_factory.mktemp("costed")
    example = yaml.safe_load((EXAMPLE / "audit.yaml").read_text())
    extra = yaml.safe_dump({"sweep": example["sweep"], "cost": {**example["cost"], "warmup": 1, "repeats": 5}})
    spec = write_spec(folder, EXAMPLE / "weights.safetensors", extra=extra)
    spec.write_text(spec.read_text().replace('include: ["blocks.*.act", head]', 'include: ["blocks.*.linear", head]'))
    code = main(["run", str(spec), "--out", str(folder / "out"), "-q", "--policy", str(savings_pack(folder, "saves"))])
    return {"folder": folder, "code": code, "audit": folder / "out" / "audit.json"}


def test_cost_and_sweep_figures_gate_a_real_audit(costed):
    assert costed["code"] == 0
    document = json.loads(costed["audit"].read_text())
    outcomes = {o["rule"]: o for o in document["verdict"]["outcomes"]}
    assert {rule: o["status"] for rule, o in outcomes.items()} == dict.fromkeys(
        ["every-block-resizable", "recommended-keeps-accuracy", "savings-saves", "compressible-at-95"], "PASS")
    for target in document["cost"]["targets"]:  # the figure is the recommended row against the original
        row = next(row for row in target["candidates"] if row["width"] == target["recommended"])
        saved = 1 - row["model_bytes"]["float32"] / target["original"]["model_bytes"]["float32"]
        observed = {o["target"]: o["value"] for o in outcomes["savings-saves"]["observations"]}
        assert observed[target["name"]] == pytest.approx(saved)
    groups = {o["target"] for o in outcomes["compressible-at-95"]["observations"]}
    assert groups == {"blocks.0.linear", "blocks.1.linear", "blocks.2.linear"}  # one_at_a_time: a group per layer


def test_cost_figures_fail_warn_and_miss_through_the_cli(costed, audits, tmp_path, capsys):
    found = str(costed["audit"])
    too_big = savings_pack(tmp_path, "leaves-a-quarter", must_be="<=", threshold=0.25)  # digits saves ~33%
    assert main(["compare", found, found, "--policy", str(too_big)]) == 1
    assert "FAIL  savings-leaves-a-quarter (leaves-a-quarter)" in capsys.readouterr().out
    worth = savings_pack(tmp_path, "is-worth-acting-on", must_be="<=", threshold=0.25, severity="warn")
    assert main(["compare", found, found, "--policy", str(worth)]) == 0
    assert main(["compare", found, found, "--policy", str(worth), "--fail-on", "warn"]) == 1
    capsys.readouterr()
    no_cost = str(audits["folder"] / "base" / "audit.json")  # an audit without cost or sweep sections
    assert main(["compare", no_cost, no_cost, "--policy", str(savings_pack(tmp_path, "saves"))]) == 1
    assert ("ERROR every-block-resizable (saves): resize_recommended of layers blocks.* == 1: nothing selected "
            "(missing: error)") in capsys.readouterr().out
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(savings_pack(tmp_path, "saves").read_text().replace("    message:", "    missing: pass\n    message:"))
    assert main(["compare", no_cost, no_cost, "--policy", str(lenient)]) == 0

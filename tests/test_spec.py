"""Bad specs: every kind gives exit code 2 and exactly one line naming file, line and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit.cli import main
from audit.spec import load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits-mlp"

GOOD = f"""\
model:
  kind: torch
  factory: {EXAMPLE}/model.py:build
  weights: {EXAMPLE}/weights.safetensors
probe:
  source: sklearn:digits
  n_samples: 300
metrics:
  twonn: {{n_bootstrap: 20}}
output:
  formats: [json]
"""


def write(tmp_path, text, name="spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def one_error_line(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize(
    "change, expected",
    [
        (("  n_samples: 300\n", "  n_sampels: 300\n"), ":7: probe.n_sampels: unknown key 'n_sampels'; did you mean 'n_samples'?"),
        (("  n_samples: 300\n", "  n_samples: many\n"), ":7: probe.n_samples: Input should be a valid integer"),
        (("  twonn: {n_bootstrap: 20}\n", "  twomn: {}\n"), ":9: metrics.twomn: unknown key 'twomn'; did you mean 'twonn'?"),
        (("  twonn: {n_bootstrap: 20}\n", "  twonn: {discard_fraction: 1.5}\n"),
         ":9: metrics.twonn.discard_fraction: Input should be less than 1"),
        ((f"{EXAMPLE}/weights.safetensors", "missing.safetensors"), ":4: model.weights: file not found"),
        (("kind: torch", "kind: keras"), ":2: model.kind: unknown kind 'keras'; expected one of: torch, torchscript"),
        (("  source: sklearn:digits\n", "  source: sklearn:digitz\n"),
         ":6: probe.source: unknown built-in probe 'sklearn:digitz'; did you mean 'sklearn:digits'?"),
        (("formats: [json]", "formats: [json, docx]"),
         ":11: output.formats[1]: Input should be 'json', 'html', 'pdf', 'junit' or 'markdown'"),
        (("probe:\n", "probe: [\n"), "malformed YAML"),
    ],
)
def test_bad_spec_is_one_line_with_exit_2(tmp_path, capsys, change, expected):
    spec = write(tmp_path, GOOD.replace(*change))
    line = one_error_line(capsys, ["validate", str(spec)])
    assert str(spec) in line and expected in line


def test_good_spec_validates(tmp_path, capsys):
    assert main(["validate", str(write(tmp_path, GOOD))]) == 0
    assert "ok:" in capsys.readouterr().out


def test_layer_pattern_matching_nothing_names_its_line_and_suggests(tmp_path, capsys):
    spec = write(tmp_path, GOOD + "layers:\n  include: ['blocks.*.act', 'blocks.3.act', 'haed']\n")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
    assert f"{spec}:13: layers.include[1]: pattern 'blocks.3.act' matches no layer; did you mean" in line
    assert "'blocks.0.act'" in line
    assert not (tmp_path / "out").exists()  # nothing written for a bad spec


def test_missing_spec_file_and_empty_spec(tmp_path, capsys):
    line = one_error_line(capsys, ["validate", str(tmp_path / "nope.yaml")])
    assert "cannot read the spec" in line
    line = one_error_line(capsys, ["validate", str(write(tmp_path, "# nothing\n"))])
    assert "the spec is empty" in line


def test_corrupt_weights_are_a_source_error(tmp_path, capsys):
    (tmp_path / "w.safetensors").write_bytes(b"not really safetensors")
    spec = write(tmp_path, GOOD.replace(f"{EXAMPLE}/weights.safetensors", "w.safetensors"))
    line = one_error_line(capsys, ["run", str(spec), "--quiet"])
    assert f"{tmp_path / 'w.safetensors'}: cannot read the weights" in line


def test_paths_resolve_against_the_spec_folder(tmp_path):
    loaded = load_spec(write(tmp_path, GOOD))
    assert loaded.resolve("x.npz") == tmp_path / "x.npz"


def test_debug_shows_the_traceback(tmp_path):
    spec = write(tmp_path, GOOD.replace("n_samples: 300", "n_samples: 0"))
    plain = subprocess.run([sys.executable, "-m", "audit", "validate", str(spec)], capture_output=True, text=True)
    debug = subprocess.run([sys.executable, "-m", "audit", "validate", str(spec), "--debug"], capture_output=True, text=True)
    assert plain.returncode == debug.returncode == 2
    assert "Traceback" not in plain.stderr and "Traceback" in debug.stderr


def test_readme_documents_every_spec_key_and_metric_option():
    from audit.metrics import registry
    from audit.sources.adapters import adapters
    from audit.spec import AuditSpec, CaptureSpec, LayersSpec, OutputSpec, ProbeSpec
    from audit.stages import stages

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## The audit spec"): readme.index("## The estimators")]
    sections = [AuditSpec, ProbeSpec, LayersSpec, CaptureSpec, OutputSpec, *(adapter.spec_model for adapter in adapters())]
    sections = [nested for model in sections for nested in _with_nested(model)]
    sections += [model for stage in stages() if stage.params for model in _with_nested(stage.params)]
    keys = {key for model in sections for key in model.model_fields}
    for name, definition in registry().items():
        keys |= {f"{name}:"} | {f"{option}:" for option in definition.params.model_fields}
    missing = sorted(key for key in keys if key.rstrip(":") + ":" not in section)
    assert not missing, f"README's spec section does not document {missing}"


def _with_nested(model) -> list:
    """``model`` and every pydantic model its fields hold (a stage's sub-sections: cost.prices, sweep.distill)."""
    import typing

    from pydantic import BaseModel

    nested = [arg for field in model.model_fields.values()
              for arg in (field.annotation, *typing.get_args(field.annotation))
              if isinstance(arg, type) and issubclass(arg, BaseModel)]
    return [model, *(inner for child in nested for inner in _with_nested(child))]


@pytest.mark.parametrize("extra, expected", [
    ('"~": null\n', ":12: ~: unknown key '~'"),  # found by tests/test_fuzz.py: a key like a union tag, at the top
    ('checkpoints: {weights: "*.pt", "~glob": 1}\n', ":12: checkpoints.~glob: unknown key '~glob'"),  # ... and last
])
def test_keys_shaped_like_union_tags_are_named_not_dropped(tmp_path, capsys, extra, expected):
    line = one_error_line(capsys, ["validate", str(write(tmp_path, GOOD + extra))])
    assert expected in line, line

"""``model-audit layers``: every selectable name with what an audit would measure on it, read
through the real CLI on the digits MLP (torch) and PaddleOCR's direction classifier (ONNX)."""

from __future__ import annotations

import json
from pathlib import Path

from audit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def listing(capsys, spec: Path) -> dict:
    assert main(["layers", str(spec), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_torch_listing_names_every_module_with_its_width_parameters_and_default(capsys):
    found = listing(capsys, ROOT / "examples" / "digits-mlp" / "audit.yaml")
    rows = {row["name"]: row for row in found["rows"]}
    assert found["kind"] == "torch" and found["batch_size"] == 8
    assert list(rows)[-1] == "output" and rows["output"]["parameters"] == found["n_parameters"] == 18986
    assert rows["blocks.0.linear"] == {"name": "blocks.0.linear", "type": "Linear", "shape": [8, 128], "width": 128,
                                       "reduction": "one point per sample", "parameters": 64 * 128 + 128,
                                       "default": False}
    assert rows["blocks.0"]["parameters"] == rows["blocks.0.linear"]["parameters"]  # a block holds its linear
    assert [name for name, row in rows.items() if row["default"]] == ["blocks.0", "blocks.1", "blocks.2", "head"]


def test_the_onnx_listing_gives_op_types_and_conv_reductions(capsys):
    found = listing(capsys, ROOT / "examples" / "text-direction-onnx" / "audit.yaml")
    rows = {row["name"]: row for row in found["rows"]}
    first = found["rows"][0]
    assert first["type"] == "Conv" and len(first["shape"]) == 4 and first["width"] == first["shape"][1]
    assert first["reduction"].startswith("conv: mean over") and first["parameters"] > 0
    assert rows["output"]["width"] == 2 and any(row["default"] for row in found["rows"])
    capsys.readouterr()
    assert main(["layers", str(ROOT / "examples" / "text-direction-onnx" / "audit.yaml")]) == 0
    text = capsys.readouterr().out
    assert "Conv" in text and "output shape" in text.splitlines()[2]


def test_a_bad_spec_is_one_line_before_any_model_loads(tmp_path, capsys):
    spec = tmp_path / "audit.yaml"
    spec.write_text("model: {kind: torch, factory: m.py:build}\nprobe: {source: sklearn:digits, n_sampels: 3}\n")
    assert main(["layers", str(spec)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {spec}:2: probe.n_sampels: unknown key")

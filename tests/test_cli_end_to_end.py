"""The CLI end to end on the digits example: all three files, the JSON valid against the
shipped schema, the HTML naming every layer, the PDF's first page not blank, and the same
metric values on a second run."""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from audit.cli import main
from audit.render.json_report import schema

EXAMPLE_SPEC = Path(__file__).resolve().parents[1] / "examples" / "digits-mlp" / "audit.yaml"
LAYERS = ["blocks.0.linear", "blocks.0.act", "blocks.1.linear", "blocks.1.act", "blocks.2.linear", "blocks.2.act", "head"]


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    completed = subprocess.run(
        [sys.executable, "-m", "audit", "run", str(EXAMPLE_SPEC), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    assert "capturing 7 layers on 360 samples" in completed.stderr  # progress goes to stderr; the held-out digits
    return out


def test_writes_all_three_files_and_nothing_half_done(audit_dir):
    assert sorted(p.name for p in audit_dir.iterdir()) == ["audit.json", "manifest.json", "report.html", "report.pdf"]


def test_json_is_valid_against_the_schema(audit_dir):
    document = json.loads((audit_dir / "audit.json").read_text())
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert [layer["name"] for layer in document["layers"]] == LAYERS
    widths = {layer["name"]: layer["width"] for layer in document["layers"]}
    assert widths == {"blocks.0.linear": 128, "blocks.0.act": 128, "blocks.1.linear": 64, "blocks.1.act": 64,
                      "blocks.2.linear": 32, "blocks.2.act": 32, "head": 10}
    for layer in document["layers"]:
        twonn = layer["metrics"]["twonn"]
        assert twonn["ci_low"] <= twonn["value"] <= twonn["ci_high"]
        if layer["name"] == "head":  # the logits: 10 classes, a width the task fixes
            assert layer["task_fixed"] == "the model's output: one score per class" and layer["redundancy_rate"] is None
        else:
            assert layer["task_fixed"] is None
            assert layer["redundancy_rate"] == pytest.approx(1 - twonn["value"] / layer["width"])
    accuracy = document["accuracy"]
    assert accuracy["accuracy"] == pytest.approx(351 / 360)  # the 20% train.py held out (0.995 on all 1,797 digits)
    assert document["probe"]["n_samples"] == 360
    assert accuracy["last_hidden_layer"] == "blocks.2.act"
    assert accuracy["accuracy_per_id"] == pytest.approx(accuracy["accuracy"] / accuracy["last_hidden_id"])
    assert len(document["model"]["files"]) == 2 and document["model"]["n_parameters"] == 18986


def test_digits_sweep_probes_and_class_geometry(audit_dir):
    document = json.loads((audit_dir / "audit.json").read_text())
    sweep = document["sweep"]
    assert sweep["measure"] == "accuracy" and sweep["teacher_score"] == pytest.approx(351 / 360)  # all 360 scored
    assert sweep["teacher_ci_low"] < sweep["teacher_score"] < sweep["teacher_ci_high"]
    for target in document["cost"]["targets"]:  # cost.holdout 0.5: every row scored on the same 180 digits
        assert {row["quality"]["n_samples"] for row in (target["original"], *target["candidates"])} == {180}
    assert [group["name"] for group in sweep["groups"]] == ["blocks.0.linear", "blocks.1.linear", "blocks.2.linear"]
    for group in sweep["groups"]:
        ranks = [point["rank"] for point in group["points"]]
        assert ranks[0] == 1 and ranks[-1] == group["full_rank"]
        assert group["points"][-1]["retained"] == pytest.approx(1.0)  # full rank is the teacher
        levels = [level["point"]["rank"] for level in group["levels"]]
        assert levels == sorted(levels) and levels[-1] < group["full_rank"]  # a trained MLP keeps 95% below full rank
        assert group["knee"]["compression"] > 1
    for layer in document["layers"]:
        probe = layer["metrics"]["linear_probe"]
        assert probe["status"] == "ok" and probe["value"] > 0.9  # the digits are linearly separable at every layer
        assert layer["probe_accuracy_per_id"] == pytest.approx(probe["value"] / layer["id"])
        assert layer["metrics"]["nc1"]["value"] > 0 and layer["metrics"]["dead_units"]["status"] == "ok"


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_names_every_layer_and_is_self_contained(audit_dir):
    parser = _Text()
    parser.feed((audit_dir / "report.html").read_text())
    text = " ".join(parser.text)
    for name in LAYERS:
        assert name in text
    for heading in ("Linear probes and class geometry", "Low-rank factorization sweep", "tr(\u03a3_W \u03a3_B\u207a) / C"):
        assert heading in text
    assert "svg" in parser.tags and "script" not in parser.tags and "link" not in parser.tags


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils' pdftoppm is not installed")
def test_pdf_first_page_is_not_blank(audit_dir, tmp_path):
    import matplotlib.image

    pdf = audit_dir / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    page = matplotlib.image.imread(next(tmp_path.glob("page*.png")))
    assert page.std() > 0.05  # a white page has std 0


def test_two_runs_give_identical_metric_values(audit_dir, tmp_path):
    assert main(["run", str(EXAMPLE_SPEC), "--out", str(tmp_path), "--quiet"]) == 0
    first, second = (json.loads((folder / "audit.json").read_text()) for folder in (audit_dir, tmp_path))
    assert [layer["metrics"] for layer in first["layers"]] == [layer["metrics"] for layer in second["layers"]]
    assert first["accuracy"] == second["accuracy"]
    assert first["sweep"] == second["sweep"]


def test_cost_section_in_json_html_and_pdf(audit_dir):
    cost = json.loads((audit_dir / "audit.json").read_text())["cost"]
    assert cost["status"] == "ok"
    assert [target["name"] for target in cost["targets"]] == ["blocks.0.linear", "blocks.1.linear", "blocks.2.linear"]
    for target in cost["targets"]:
        original = target["original"]
        assert original["flops_per_sample"] == 2 * (64 * 128 + 128 * 64 + 64 * 32 + 32 * 10)  # the MLP's matmuls
        assert original["timing"]["max_abs_diff"] < 1e-4  # ONNX Runtime reproduces torch
        assert original["money"]["storage_per_month"] is None and original["money"]["compute_per_month"] > 0
        widths = [row["width"] for row in target["candidates"]]
        assert widths == sorted(widths) and 16 in widths and max(widths) < target["width"]
        for row in target["candidates"]:  # a rank-r factorization: r (in + out) weights replace in x out
            assert row["parameters"] < original["parameters"] or row["width"] * 3 >= target["width"]
            assert 0 < row["quality"]["retained"] <= 1.01 and row["timing"]["reference_p50_s"] > 0
        assert target["recommended"] in widths and target["recommendation"].startswith("Recommended: factorize")
    parser = _Text()
    parser.feed((audit_dir / "report.html").read_text())
    html_text = " ".join(parser.text)
    assert "Cost of resizing" in html_text and "ONNX latency p50" in html_text and "Accuracy retained" in html_text
    assert "Recommended: factorize blocks.0.linear" in html_text
    if shutil.which("pdftotext"):
        pdf_text = " ".join(subprocess.run(["pdftotext", str(audit_dir / "report.pdf"), "-"], capture_output=True,
                                           text=True, check=True).stdout.split())
        assert "Cost of resizing" in pdf_text and "ONNX latency p50" in pdf_text and "(proposed by)" in pdf_text

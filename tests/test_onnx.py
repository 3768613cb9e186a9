"""ONNX models as audit subjects, on models nobody here wrote:

- PaddleOCR's text-direction classifier (a trained MobileNetV3) as shipped in the PyPI package
  rapidocr-onnxruntime 1.4.4 (scripts/setup.sh installs it without its dependencies);
- the "light" model-zoo graphs inside the onnx package's backend test data (SqueezeNet with
  weights generated in the graph by ConstantOfShape, exported with a fixed batch of 1).

Every bad file must end as one ``error:`` line with exit code 2.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper
from test_spec import one_error_line

from audit.batches import batches
from audit.capture import CaptureSettings, capture
from audit.render.json_report import schema
from audit.sources.adapters.onnx.loader import load_onnx
from audit.sources.adapters.onnx.taps import OnnxTaps

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = ROOT / "examples" / "text-direction-onnx" / "audit.yaml"
RAPIDOCR = Path(importlib.util.find_spec("rapidocr_onnxruntime").submodule_search_locations[0])
CLS_MODEL = RAPIDOCR / "models" / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
SQUEEZENET = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / "light_squeezenet.onnx"
CLS_DEFAULT_LAYERS = ["Clip@0", "relu_3.tmp_0", "Clip@1", "Clip@4", "Clip@8", "Clip@11", "Clip@15", "pool2d_10.tmp_0", "output"]


@pytest.fixture(scope="module")
def probe():
    with np.load(EXAMPLE_SPEC.parent / "probe.npz") as data:
        return data["X"], data["y"]


@pytest.fixture(scope="module")
def example_audit(tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx-example")
    completed = subprocess.run([sys.executable, "-m", "audit", "run", str(EXAMPLE_SPEC), "--out", str(out)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    return out


def test_example_audits_the_shipped_classifier(example_audit):
    document = json.loads((example_audit / "audit.json").read_text())
    jsonschema.Draft202012Validator(schema()).validate(document)
    model = document["model"]
    assert model["kind"] == "onnx" and model["n_parameters"] == 133_700  # Conv/BN weights stored as Constant nodes
    assert model["files"][0]["sha256"].startswith("e47acedf663230f8")  # the file rapidocr-onnxruntime 1.4.4 ships
    assert [layer["name"] for layer in document["layers"]] == CLS_DEFAULT_LAYERS
    assert document["layers"][-1]["width"] == 2 and document["layers"][-2]["width"] == 200
    assert document["accuracy"]["accuracy"] > 0.95  # it reads 254 of 256 rendered lines the right way up
    assert document["accuracy"]["last_hidden_layer"] == "pool2d_10.tmp_0"
    page = (example_audit / "report.html").read_text()
    assert all(name.split("@")[0] in page for name in CLS_DEFAULT_LAYERS)
    assert (example_audit / "report.pdf").read_bytes().startswith(b"%PDF")


def test_captured_tensors_equal_onnxruntime_outputs(probe):
    images = probe[0][:13]
    graph = load_onnx(CLS_MODEL)
    found = capture(OnnxTaps(graph), batches(images, 5), ["Clip@4", "output"], CaptureSettings(max_points=100))
    exposed = onnx.load(str(CLS_MODEL))
    exposed.graph.output.append(helper.make_tensor_value_info("Clip@4", TensorProto.FLOAT, None))
    session = onnxruntime.InferenceSession(exposed.SerializeToString(), providers=["CPUExecutionProvider"])
    expected_output, expected_clip = session.run(None, {"x": images})
    np.testing.assert_allclose(found.layers["output"].matrix, expected_output, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(found.layers["Clip@4"].matrix, expected_clip.mean(axis=(2, 3)), rtol=1e-4, atol=1e-5)
    assert found.layers["Clip@4"].module_type == "Clip" and found.layers["output"].is_output
    np.testing.assert_array_equal(found.predictions, expected_output.argmax(axis=1))


def test_fixed_batch_model_runs_in_pieces_of_its_batch():
    graph = load_onnx(SQUEEZENET)
    assert graph.input_shape == (1, 3, 224, 224) and graph.fixed_batch == 1
    inputs = np.random.default_rng(0).normal(size=(3, 3, 224, 224)).astype(np.float32)
    found = capture(OnnxTaps(graph), batches(inputs, 3), ["output"], CaptureSettings())
    session = onnxruntime.InferenceSession(str(SQUEEZENET), providers=["CPUExecutionProvider"])
    one_by_one = np.concatenate([session.run(None, {graph.input_name: inputs[i:i + 1]})[0] for i in range(3)])
    np.testing.assert_allclose(found.layers["output"].matrix, one_by_one.reshape(3, -1), rtol=1e-5, atol=1e-7)


def test_weights_computed_inside_the_graph_are_not_layers():
    graph = load_onnx(SQUEEZENET)
    generated = {out for node in graph.proto.graph.node if node.op_type == "ConstantOfShape" for out in node.output}
    assert len(generated) == 39 and not generated & set(graph.layer_names)
    assert dict(graph.tensors)["r1"] == "Relu" and len(graph.layer_names) == 66


def test_default_layers_leave_out_squeeze_excitation_internals():
    graph = load_onnx(CLS_MODEL)
    assert graph.default_layers() == CLS_DEFAULT_LAYERS
    assert "relu_7.tmp_0" in graph.layer_names and "relu_7.tmp_0" in graph.squeezed  # an SE block's bottleneck


def spec_with(folder: Path, model: str, probe: str = "probe.npz", extra: str = "") -> Path:
    spec = folder / "audit.yaml"
    spec.write_text(f"model:\n{model}probe:\n  source: {probe}\n{extra}")
    return spec


@pytest.fixture
def folder(tmp_path, probe):
    np.savez(tmp_path / "probe.npz", X=probe[0][:8], y=probe[1][:8])
    return tmp_path


def cli_error(capsys, spec: Path) -> str:
    return one_error_line(capsys, ["run", str(spec), "--out", str(spec.parent / "out"), "--quiet"])


def test_truncated_and_foreign_files_are_input_errors(folder, capsys):
    (folder / "half.onnx").write_bytes(CLS_MODEL.read_bytes()[:200_000])
    (folder / "text.onnx").write_text("this is not a model\n")
    for name in ("half.onnx", "text.onnx"):
        line = cli_error(capsys, spec_with(folder, f"  kind: onnx\n  path: {name}\n"))
        assert f"{folder / name}: cannot read as an ONNX model" in line or f"{folder / name}: onnx.checker rejects" in line


def save_graph(folder: Path, nodes, inputs, outputs, name="made.onnx", domains=()) -> str:
    graph = helper.make_graph(nodes, "made", inputs, outputs)
    opsets = [helper.make_opsetid("", 17), *(helper.make_opsetid(domain, 1) for domain in domains)]
    onnx.save(helper.make_model(graph, opset_imports=opsets, ir_version=10), str(folder / name))  # ONNX Runtime 1.31 reads IR <= 13
    return name


def vector(name: str, width=None):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", width] if width else None)


def test_invalid_graph_is_rejected_by_the_checker(folder, capsys):
    name = save_graph(folder, [helper.make_node("Relu", ["missing"], ["y"])], [vector("x", 4)], [vector("y", 4)])
    line = cli_error(capsys, spec_with(folder, f"  kind: onnx\n  path: {name}\n"))
    assert "onnx.checker rejects the model" in line


def test_operator_the_runtime_lacks_is_an_input_error(folder, capsys):
    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="com.example")
    name = save_graph(folder, [node], [vector("x", 4)], [vector("y", 4)], domains=["com.example"])
    line = cli_error(capsys, spec_with(folder, f"  kind: onnx\n  path: {name}\n"))
    assert f"{folder / name}: ONNX Runtime cannot run the model" in line and "com.example:Frobnicate" in line


def test_two_inputs_need_model_input_and_a_wrong_name_lists_them(folder, capsys):
    name = save_graph(folder, [helper.make_node("Add", ["a", "b"], ["y"])], [vector("a", 4), vector("b", 4)], [vector("y", 4)])
    line = cli_error(capsys, spec_with(folder, f"  kind: onnx\n  path: {name}\n"))
    assert ("has 2 graph inputs without a value (a, b); name the one the probe feeds with model.input and give the "
            "others one in model.constants") in line
    line = cli_error(capsys, spec_with(folder, f"  kind: onnx\n  path: {name}\n  input: c\n"))
    assert "has no graph input 'c'; its inputs are: a, b" in line


def test_probe_of_the_wrong_shape_is_a_capture_error(folder, capsys):
    np.save(folder / "flat.npy", np.zeros((8, 10), dtype=np.float32))
    line = cli_error(capsys, spec_with(folder, f"  kind: onnx\n  path: {CLS_MODEL}\n", probe="flat.npy"))
    assert line.startswith("error: model: ONNX Runtime failed on samples 0..7:")


def test_layer_typo_suggests_the_tensor(folder, capsys):
    spec = spec_with(folder, f"  kind: onnx\n  path: {CLS_MODEL}\n", extra="layers:\n  include: [pool2d_10.tmp0]\n")
    line = cli_error(capsys, spec)
    assert "layers.include[0]: pattern 'pool2d_10.tmp0' matches no layer; did you mean 'pool2d_10.tmp_0'" in line


@pytest.mark.parametrize("model, expected", [
    ("  kind: onnx\n  package_file: no_such_package/m.onnx\n", "model.package_file: no installed package 'no_such_package'"),
    ("  kind: onnx\n  package_file: onnx/no/such.onnx\n", "model.package_file: file not found"),
    ("  kind: onnx\n  path: a.onnx\n  package_file: onnx/b.onnx\n", "give exactly one of 'path' and 'package_file'"),
    ("  kind: onnx\n  path: m.onnx\n  threads: -1\n", "model.threads: Input should be greater than or equal to 0"),
])
def test_bad_onnx_model_keys(folder, capsys, model, expected):
    assert expected in one_error_line(capsys, ["validate", str(spec_with(folder, model))])


def test_heads_need_a_transformers_model(folder, capsys):
    spec = spec_with(folder, f"  kind: onnx\n  path: {CLS_MODEL}\n", extra="heads: {}\n")
    assert "heads needs model kind transformers" in one_error_line(capsys, ["validate", str(spec)])

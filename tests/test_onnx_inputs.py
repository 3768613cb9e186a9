"""ONNX graphs with several inputs (issue 15): constant inputs, and every graph input fed, on a
model nobody here wrote: the Silero voice-activity detector as shipped in PyPI ``silero-vad``
6.2.3 (scripts/setup.sh installs it without its dependencies), whose recurrent state and sample
rate are graph inputs.

Every bad value is one ``error:`` line at its spec line with exit code 2.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from test_spec import one_error_line

from audit.batches import batches
from audit.capture import CaptureSettings, capture
from audit.cli import main
from audit.sources import load_model
from audit.spec import load_spec

VAD_PACKAGE = Path(importlib.util.find_spec("silero_vad").submodule_search_locations[0])
VAD = "silero_vad/data/silero_vad_16k_op15.onnx"  # its encoder's convolutions are main-graph tensors
VAD_CONSTANTS = "  constants:\n    state: {shape: [2, batch, 128], value: 0.0}\n    sr: {value: 16000}\n"


def write(folder: Path, text: str, name: str = "audit.yaml") -> Path:
    (folder / name).write_text(text)
    return folder / name


@pytest.fixture(scope="module")
def vad_folder(tmp_path_factory):
    """A probe of 48 chunks of 512 samples at 16 kHz: sine tones of 24 pitches, then noise."""
    folder = tmp_path_factory.mktemp("vad")
    t = np.arange(512) / 16_000
    tones = [0.5 * np.sin(2 * np.pi * (200 + 80 * i) * t) for i in range(24)]
    noise = 0.1 * np.random.default_rng(0).normal(size=(24, 512))
    np.savez(folder / "chunks.npz", X=np.concatenate([tones, noise]).astype(np.float32))
    return folder


def test_silero_vad_with_state_and_sample_rate_as_constants(vad_folder, capsys):
    spec = write(vad_folder, f"model:\n  kind: onnx\n  package_file: {VAD}\n{VAD_CONSTANTS}"
                             "probe: {source: chunks.npz, batch_size: 20}\nmetrics: [twonn, pca]\noutput: {formats: [json]}\n")
    assert main(["run", str(spec), "--out", str(vad_folder / "out"), "--quiet"]) == 0
    document = json.loads((vad_folder / "out" / "audit.json").read_text())
    layers = {layer["name"]: layer for layer in document["layers"]}
    encoder = [f"/model/encoder/{i}/activation/Relu_output_0" for i in range(4)]
    assert list(layers) == [*encoder, "/model/decoder/decoder/1/Relu_output_0", "output"]
    # 1-d conv activations are (samples, channels, positions): their width is the channel count
    assert [layers[name]["width"] for name in encoder] == [128, 64, 64, 128]
    assert layers["/model/encoder/0/activation/Relu_output_0"]["reduction"].startswith("conv: mean over")
    assert all(layer["n_points"] == 48 for layer in layers.values())
    assert document["model"]["files"][0]["sha256"].startswith("7ed98ddbad84ccac")  # the file silero-vad 6.2.3 ships
    # the output is what ONNX Runtime gives on each batch with a zero state and the 16 kHz rate
    chunks = np.load(vad_folder / "chunks.npz")["X"]
    session = onnxruntime.InferenceSession(str(VAD_PACKAGE.parent / VAD), providers=["CPUExecutionProvider"])
    expected = np.concatenate([session.run(["output"], {"input": chunks[i:i + 20], "sr": np.array(16000),
                                                        "state": np.zeros((2, len(chunks[i:i + 20]), 128), np.float32)})[0]
                               for i in range(0, 48, 20)])
    loaded = load_spec(spec)
    model = load_model(loaded)
    found = capture(model.taps(), batches(chunks, 20), ["output"], CaptureSettings())
    np.testing.assert_allclose(found.layers["output"].matrix, expected, rtol=1e-5, atol=1e-6)
    assert 0 <= expected.min() and expected.max() <= 1  # speech probabilities


def test_silero_vad_input_nothing_feeds_is_named(vad_folder, capsys):
    """The detector as the package ships it (silero_vad.onnx: everything inside one If) with its
    state left out: one line naming the input, when the model loads."""
    spec = write(vad_folder, "model:\n  kind: onnx\n  package_file: silero_vad/data/silero_vad.onnx\n  input: input\n"
                             "  constants: {sr: 16000}\nprobe: {source: chunks.npz}\n", "unfed.yaml")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(vad_folder / "unfed"), "--quiet"])
    assert line == (f"error: {VAD_PACKAGE / 'data' / 'silero_vad.onnx'}: graph input 'state' would not be fed: the "
                    "probe feeds only 'input' (model.input) and model.constants 'sr', and every input without an "
                    "initializer needs a value (give it one in model.constants)")
    assert not (vad_folder / "unfed").exists() or not any((vad_folder / "unfed").iterdir())


VAD_SPEC = f"model:\n  kind: onnx\n  package_file: {VAD}\n{VAD_CONSTANTS}probe: {{source: chunks.npz}}\n"


@pytest.mark.parametrize("change, expected", [
    (("    state:", "    stat:"), ":5: model.constants.stat: silero_vad_16k_op15.onnx has no graph input 'stat'; "
                                   "did you mean 'state'? Its inputs are: input, state, sr"),
    (("[2, batch, 128]", "[2, btach, 128]"), ":5: model.constants.state.shape[1]: a size is a whole number (0 or "
                                             "more) or 'batch' (the batch size), not 'btach'; did you mean 'batch'?"),
    (("[2, batch, 128]", "[2, batch, 64]"), ":5: model.constants.state.shape: shape [2, batch, 64] does not fit graph "
                                            "input 'state' of shape [2, batch, 128]"),
    (("{value: 16000}", "{value: 16000, dtype: float32}"), ":6: model.constants.sr.dtype: graph input 'sr' takes int64, "
                                                           "not float32"),
    (("{value: 16000}", "{value: 0.5}"), ":6: model.constants.sr.value: 0.5 is not a valid int64 value (the dtype of "
                                         "graph input 'sr')"),
    (("{value: 16000}", "{value: fast}"), ":6: model.constants.sr.value: a constant's value is a number (or true/false), "
                                          "not 'fast'"),
    (("{value: 16000}", "{valeu: 16000}"), ":6: model.constants.sr.valeu: unknown key 'valeu'; did you mean 'value'?"),
    (("  constants:", "  input: audio\n  constants:"), ":4: model.input: silero_vad_16k_op15.onnx has no graph input "
                                                       "'audio'; its inputs are: input, state, sr"),
])
def test_bad_constants_and_inputs_are_one_line_at_their_line(vad_folder, capsys, change, expected):
    spec = write(vad_folder, VAD_SPEC.replace(*change), "bad.yaml")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(vad_folder / "bad-out"), "--quiet"])
    assert line.startswith(f"error: {spec}:") and expected in line, line

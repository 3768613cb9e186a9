"""Decoders (``model.task: causal-lm``): the tiny GPT-2 trained in examples/tiny-decoder audited end
to end through the CLI; last-token pooling against the causal LM's own forward on unpadded texts;
head discovery and ablation on GPT-2, Llama and Qwen2 modules (a planted copy of a head found, a
zeroed head's effect equal to zeroing its rows of the output projection); a tied LM head factorized
without touching the token embeddings; bad values as one-line errors at their line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from test_spec import one_error_line

from audit.batches import batches
from audit.capture import CaptureSettings, capture
from audit.cli import main
from audit.runner import run_audit
from audit.sources import load_model
from audit.spec import load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny-decoder"
MODEL = EXAMPLE / "model"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
N_TEXTS = 24


def probe_texts(n: int = N_TEXTS) -> list[str]:
    return (EXAMPLE / "probe.txt").read_text().splitlines()[:n]


def write_spec(folder: Path, body: str) -> Path:
    (folder / "probe.txt").write_text("\n".join(probe_texts()) + "\n")
    path = folder / "spec.yaml"
    path.write_text(body)
    return path


@pytest.fixture(scope="module")
def decoder_audit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-decoder")
    spec = write_spec(folder, f"""\
model: {{kind: transformers, path: {MODEL}, task: causal-lm, max_length: 64}}
probe: {{source: probe.txt, batch_size: 10}}
metrics: [pca]
heads: {{max_points: 300, ablation_samples: 8}}
token_embeddings: {{}}
sweep: {{layers: ["transformer.h.*.mlp.c_fc"], n_ranks: 3, refine: 0}}
cost: {{measure: false, factorize: []}}
output: {{formats: [json]}}
""")
    assert main(["run", str(spec), "--out", str(folder / "out"), "--quiet"]) == 0
    return json.loads((folder / "out" / "audit.json").read_text())


def test_decoder_layers_reduce_to_the_last_token_and_the_lm_head_is_task_fixed(decoder_audit):
    layers = {layer["name"]: layer for layer in decoder_audit["layers"]}
    assert list(layers) == [f"transformer.h.{i}" for i in range(4)] + ["last_token", "lm_head"]
    assert decoder_audit["model"]["module_type"] == "GPT2LMHeadModel"
    for name in ("transformer.h.0", "transformer.h.3"):
        assert layers[name]["reduction"] == "sequence: last position (padding skipped)"
        assert layers[name]["n_points"] == N_TEXTS and layers[name]["width"] == 96
    assert layers["last_token"]["width"] == 96 and layers["last_token"]["task_fixed"] is None
    head = layers["lm_head"]
    assert head["is_output"] and head["width"] == 1024 and head["n_points"] == N_TEXTS
    assert head["task_fixed"] == "its width equals the 1,024-entry vocabulary" and head["redundancy_rate"] is None
    cost = decoder_audit["cost"]  # embedding: auto skips the vocabulary-wide output
    assert cost["status"] == "not_computed" and "no output embedding" in cost["reason"]


def test_decoder_heads_token_embeddings_and_sweep(decoder_audit):
    heads = decoder_audit["heads"]
    assert [layer["name"] for layer in heads["layers"]] == [f"transformer.h.{i}.attn" for i in range(4)]
    for layer in heads["layers"]:
        assert layer["n_heads"] == 4 and layer["d_head"] == 24 and len(layer["importance"]) == 4
        np.testing.assert_allclose(np.diag(layer["similarity"]), 1.0)
    assert len(heads["ranking"]) == 16 and heads["ablation_samples"] == 8
    tokens = decoder_audit["token_embeddings"]
    assert tokens["module"] == "transformer.wte" and tokens["vocab_size"] == 1024 and tokens["width"] == 96
    assert 1 < tokens["id"]["value"] < 96 and tokens["suggested_lora_rank"] >= tokens["id"]["ci_high"]
    sweep = decoder_audit["sweep"]
    (group,) = sweep["groups"]
    assert group["layers"] == [f"transformer.h.{i}.mlp.c_fc" for i in range(4)] and group["full_rank"] == 96
    assert sweep["measure"] == "agreement" and sweep["teacher_score"] == 1.0  # next-token argmax against itself
    assert group["points"][-1]["rank"] == 96 and group["points"][-1]["score"] == 1.0  # full rank: the teacher (Conv1D)


def test_last_token_is_the_causal_lm_at_each_texts_last_real_token(tmp_path):
    """A padded batch (texts of 3 to 20 tokens) against the causal LM run on each text alone."""
    from transformers import AutoModelForCausalLM

    spec = write_spec(tmp_path, f"model: {{kind: transformers, path: {MODEL}, task: causal-lm}}\nprobe: {{source: probe.txt}}\n")
    loaded = load_spec(spec)
    model = load_model(loaded)
    texts = ["Ay, my lord.", *probe_texts(7), "O, " * 9]
    lengths = [len(model.tokenizer(text)["input_ids"]) for text in texts]
    assert len(set(lengths)) > 3 and model.tokenizer.pad_token == model.tokenizer.eos_token
    names = ["transformer.h.1", "last_token", "lm_head"]
    found = capture(model.taps(), batches(texts, 4, tokenizer=model.tokenizer, max_length=64), names,
                    CaptureSettings(sequence=model.sequence, max_points=100))
    reference = AutoModelForCausalLM.from_pretrained(MODEL, local_files_only=True).eval()
    with torch.inference_mode():
        direct = [reference(**model.tokenizer(text, return_tensors="pt"), output_hidden_states=True) for text in texts]
    expected = {"transformer.h.1": [run.hidden_states[2][0, -1] for run in direct],  # after block 1 (0: the embeddings)
                "last_token": [run.hidden_states[-1][0, -1] for run in direct],  # after the final layer norm
                "lm_head": [run.logits[0, -1] for run in direct]}
    for name in names:
        np.testing.assert_allclose(found.layers[name].matrix, torch.stack(expected[name]).numpy(), rtol=1e-4, atol=1e-4)


def random_decoder(folder: Path, family: str, **sizes) -> Path:
    """A random GPT-2, Llama or Qwen2 causal LM with the example's tokenizer; weights drawn wide
    (0.2) so its random heads differ the way trained ones do."""
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    for name in TOKENIZER_FILES:
        shutil.copy(MODEL / name, folder / name)
    if family == "gpt2":
        config = GPT2Config(vocab_size=1024, n_positions=64, n_embd=64, n_layer=2, n_head=4, initializer_range=0.2,
                            eos_token_id=0, bos_token_id=0)
        model = GPT2LMHeadModel(config)
    else:
        config_type, model_type = (LlamaConfig, LlamaForCausalLM) if family == "llama" else (Qwen2Config, Qwen2ForCausalLM)
        config = config_type(vocab_size=sizes.get("vocab", 1024), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=sizes.get("kv_heads", 2), max_position_embeddings=64,
                             initializer_range=0.2, eos_token_id=0, bos_token_id=0, tie_word_embeddings=False)
        model = model_type(config)
    model.eval().save_pretrained(folder)
    return folder


@pytest.mark.parametrize("family, kv_heads, vocab", [("llama", 2, 1024), ("qwen2", 1, 1088)])
def test_llama_and_qwen_heads_tokens_and_padded_vocabulary(tmp_path, family, kv_heads, vocab):
    """Grouped-query attention (4 query heads on 2 or 1 key/value heads): 4 heads of 16 read at
    o_proj's input; Qwen's LM head padded past the 1,024-entry tokenizer is still task-fixed."""
    folder = random_decoder(tmp_path, family, kv_heads=kv_heads, vocab=vocab)
    spec = write_spec(tmp_path, f"""\
model: {{kind: transformers, path: {folder}, task: causal-lm}}
probe: {{source: probe.txt}}
metrics: [pca]
heads: {{max_points: 200, ablation_samples: 4}}
token_embeddings: {{}}
sweep: {{layers: ["transformer.layers.*.self_attn.o_proj"], n_ranks: 2, refine: 0, n_samples: 8}}
""")
    result = run_audit(load_spec(spec))
    assert [layer.name for layer in result.layers] == ["transformer.layers.0", "transformer.layers.1", "last_token", "lm_head"]
    assert result.layers[-1].task_fixed == f"its width equals the {vocab:,}-entry vocabulary"
    assert [(layer.name, layer.n_heads, layer.d_head) for layer in result.heads.layers] == \
        [(f"transformer.layers.{i}.self_attn", 4, 16) for i in range(2)]
    assert all(layer.importance is not None for layer in result.heads.layers)
    assert result.token_embeddings.module == "transformer.embed_tokens" and result.token_embeddings.vocab_size == vocab
    assert result.sweep.groups[0].full_rank == 64 and result.sweep.groups[0].points[-1].score == 1.0


@pytest.fixture(scope="module")
def planted_gpt2(tmp_path_factory):
    """A random 2-layer GPT-2 whose layer-0 head 3 copies head 1 (its query, key and value columns of c_attn)."""
    from transformers import GPT2LMHeadModel

    folder = random_decoder(tmp_path_factory.mktemp("planted-gpt2"), "gpt2")
    model = GPT2LMHeadModel.from_pretrained(folder, local_files_only=True)
    c_attn, width, d_head = model.transformer.h[0].attn.c_attn, 64, 16
    with torch.no_grad():
        for offset in (0, width, 2 * width):  # query, key, value blocks of the Conv1D's (in, 3 * out) weight
            c_attn.weight[:, offset + 3 * d_head: offset + 4 * d_head] = c_attn.weight[:, offset + d_head: offset + 2 * d_head]
            c_attn.bias[offset + 3 * d_head: offset + 4 * d_head] = c_attn.bias[offset + d_head: offset + 2 * d_head]
    model.save_pretrained(folder)
    return folder


def test_planted_copy_of_a_gpt2_head_is_the_only_redundant_pair(planted_gpt2, tmp_path):
    spec = write_spec(tmp_path, f"""\
model: {{kind: transformers, path: {planted_gpt2}, task: causal-lm}}
probe: {{source: probe.txt}}
layers: {{include: [lm_head]}}
metrics: [pca]
heads: {{max_points: 400, ablation_samples: 12}}
""")
    heads = run_audit(load_spec(spec)).heads
    layer0, layer1 = heads.layers
    assert layer0.groups == ((1, 3),) and layer0.similarity[1][3] == pytest.approx(1.0, abs=1e-9)
    assert layer1.groups == ()
    assert all(value > 0 for layer in heads.layers for value in layer.importance)  # switching any head off changes the output
    assert layer0.importance[1] == pytest.approx(layer0.importance[3], rel=0.5)


def test_zeroing_a_head_is_zeroing_its_rows_of_c_proj(planted_gpt2, tmp_path):
    """Ablation's hook on GPT-2's Conv1D projection (weight stored in x out) against the same head
    removed from the weight itself."""
    from audit.stages.heads.attention import _zeroed_head, attention_layers

    model = load_model(load_spec(write_spec(tmp_path, f"model: {{kind: transformers, path: {planted_gpt2}, "
                                                      "task: causal-lm}\nprobe: {source: probe.txt}\n")))
    layer = attention_layers(model.module)[1]
    assert (layer.projection, layer.contexts) == ("transformer.h.1.attn.c_proj", "transformer.h.1.attn.c_proj:input")
    projection = dict(model.module.named_modules())[layer.projection]
    inputs = model.tokenizer(probe_texts(6), padding=True, return_tensors="pt")
    with torch.inference_mode():
        baseline = model.module(**inputs)
        with _zeroed_head(projection, 2, layer.d_head):
            ablated = model.module(**inputs)
        projection.weight[2 * layer.d_head: 3 * layer.d_head] = 0
        edited = model.module(**inputs)
    assert (ablated - baseline).abs().max() > 1e-2
    torch.testing.assert_close(ablated, edited, rtol=1e-5, atol=1e-5)


def test_a_tied_lm_head_is_factorized_without_its_token_embeddings():
    from audit.estimators.lowrank import factorize
    from audit.sources.text_decoder import load_text_decoder
    from audit.stages.sweep.rank_scoring import low_rank_weights

    module = load_text_decoder(MODEL)[0]
    embedding, head = module.transformer.wte, module.lm_head
    assert head.weight is embedding.weight  # GPT-2 ties them
    original = embedding.weight.detach().clone()
    with low_rank_weights({"lm_head": head}, {"lm_head": factorize(head.weight)}, 2):
        assert torch.linalg.matrix_rank(head.weight, rtol=1e-5) == 2
        torch.testing.assert_close(embedding.weight, original, rtol=0, atol=0)
    assert head.weight is embedding.weight


@pytest.mark.parametrize("body, line, message", [
    ("  task: causal_lm\n", 5, "model.task: Input should be 'encoder' or 'causal-lm'"),
    ("  task: causal-lm\n  pooling: mean\n", 6, "model.pooling: pooling is for task encoder"),
])
def test_bad_decoder_values_are_one_line_at_their_line(tmp_path, capsys, body, line, message):
    spec = tmp_path / "spec.yaml"
    (tmp_path / "probe.txt").write_text("to be\n")
    spec.write_text(f"model:\n  kind: transformers\n  path: {MODEL}\n  max_length: 32\n{body}probe: {{source: probe.txt}}\n")
    assert f"{spec}:{line}: {message}" in one_error_line(capsys, ["validate", str(spec)])


def test_a_sweep_pattern_matching_nothing_says_what_the_sweep_factorizes(tmp_path, capsys):
    spec = write_spec(tmp_path, f"model: {{kind: transformers, path: {MODEL}, task: causal-lm}}\nprobe: {{source: probe.txt}}\n"
                                "sweep: {layers: ['transformer.h.*.attn.c_atn']}\n")
    error = one_error_line(capsys, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
    assert f"{spec}:3: sweep.layers[0]: pattern 'transformer.h.*.attn.c_atn' matches no layer the sweep can factorize" in error
    assert "GPT-2's Conv1D" in error and "did you mean" in error


def test_a_causal_lm_that_soft_caps_its_logits_is_refused(tmp_path, capsys):
    """Gemma 2 soft-caps its logits after the LM head (30 tanh(logits / 30)), which the audit's
    last-token LM head would not reproduce: one line at load, exit 2."""
    from transformers import Gemma2Config, Gemma2ForCausalLM

    for name in TOKENIZER_FILES:
        shutil.copy(MODEL / name, tmp_path / name)
    config = Gemma2Config(vocab_size=1024, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                          num_key_value_heads=1, head_dim=16, max_position_embeddings=64, eos_token_id=0, bos_token_id=0,
                          pad_token_id=0)
    Gemma2ForCausalLM(config).save_pretrained(tmp_path)
    spec = write_spec(tmp_path, f"model: {{kind: transformers, path: {tmp_path}, task: causal-lm}}\nprobe: {{source: probe.txt}}\n")
    error = one_error_line(capsys, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
    assert error == (f"error: {tmp_path}: Gemma2ForCausalLM's logits are not its LM head over its base model's last hidden "
                     "states (it scales or soft-caps them): task causal-lm cannot reproduce them")

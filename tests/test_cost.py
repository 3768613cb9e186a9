"""The cost stage against planted structure and hand-computed values: candidate widths, bytes
and money arithmetic, dispatcher-level FLOPs (attention matmuls included), PCA and SVD variants
that must be exact where the data has exact rank, ONNX export that reproduces torch, and the
spec's cost errors (exit 2, one line naming the key)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from audit.results import LayerResult, MetricResult
from audit.stages.cost import CostRow, PricesSpec, Quality
from audit.stages.cost.candidates import candidate_widths
from audit.stages.cost.estimate import flops_per_sample, model_bytes, search_flops, store_bytes
from audit.stages.cost.money import monthly_money
from audit.stages.cost.onnx_timing import exported, measure
from audit.stages.cost.quality import cosine_preservation, recall_at_k
from audit.stages.cost.recommend import recommended_row
from audit.stages.cost.variants import EmbeddingProjector, Projected, linear_map, svd_factorized, swapped
from tests.test_spec import GOOD, one_error_line, write


def _metric(name, value, **details):
    return MetricResult(name=name, title=name, value=value, method="", details=details)


def _layer(width=64, twonn=9.3, effective_rank=12.2, reach=None):
    metrics = {"twonn": _metric("twonn", twonn), "effective_rank": _metric("effective_rank", effective_rank),
               "pca": _metric("pca", 20, components_to_reach=reach or {"0.9": 20, "0.95": 24, "0.99": 40})}
    return LayerResult(name="blocks.0", module_type="Linear", width=width, n_points=100, n_points_seen=100,
                       reduction="one point per sample", metrics=metrics, primary_id="twonn")


def test_candidates_come_from_id_rank_pca_and_the_spec_merged_and_below_the_limit():
    found = candidate_widths(_layer(), margin=0.25, extra=[24, 64, 128], limit=64)
    # ceil(9.3 x 1.25) = 12, ceil(12.2) = 13, PCA 95% = 24 (also asked by the spec), PCA 99% = 40;
    # 64 and 128 are not below the width and save nothing
    assert [(c.width, c.sources) for c in found] == [
        (12, ("ID \u00d7 1.25",)), (13, ("effective rank",)), (24, ("PCA 95%", "spec")), (40, ("PCA 99%",))]


def test_bytes_store_and_search_arithmetic():
    assert model_bytes(1000) == {"float32": 4000, "float16": 2000, "int8": 1000}
    assert store_bytes(1_000_000, 128, "float16") == 256_000_000
    assert search_flops(1_000_000, 128) == 256_000_000


def test_money_per_month_from_given_prices_only():
    prices = PricesSpec(storage_per_gb_month=0.25, compute_per_hour=2.0, currency="EUR")
    money = monthly_money(prices, store_bytes=4_000_000_000, seconds_per_sample=0.018, queries_per_month=1_000_000)
    assert money.storage_per_month == pytest.approx(1.0)  # 4 GB x 0.25
    assert money.compute_per_month == pytest.approx(10.0)  # 18,000 s = 5 h x 2.0
    assert money.total_per_month == pytest.approx(11.0) and money.currency == "EUR"
    assert monthly_money(PricesSpec(), store_bytes=10, seconds_per_sample=1.0, queries_per_month=5) is None


def test_flops_of_an_mlp_are_the_hand_count():
    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).eval()
    assert flops_per_sample(mlp, torch.zeros(1, 64)) == 2 * (64 * 128 + 128 * 10)


def test_flops_of_a_tiny_bert_count_the_attention_matmuls():
    from transformers import BertConfig, BertModel

    d, inner, layers, heads, t = 32, 64, 2, 4, 16
    config = BertConfig(vocab_size=100, hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=inner, max_position_embeddings=64, attn_implementation="sdpa")
    model = BertModel(config, add_pooling_layer=False).eval()
    ids = torch.randint(0, 100, (1, t))
    linear = layers * t * 2 * (4 * d * d + 2 * d * inner)  # Q, K, V, output; two feed-forward layers
    attention = layers * 2 * (2 * t * t * d)  # Q K^T and A V: t x t scores over d = heads x d_head
    assert flops_per_sample(model, {"input_ids": ids, "attention_mask": torch.ones_like(ids)}) == linear + attention


def test_svd_at_the_exact_rank_reproduces_a_low_rank_linear():
    torch.manual_seed(0)
    layer = nn.Linear(40, 30)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(30, 5) @ torch.randn(5, 40))  # rank 5
    x = torch.randn(200, 40)
    with torch.no_grad():
        assert torch.allclose(svd_factorized(layer, 5)(x), layer(x), atol=1e-4)
        assert not torch.allclose(svd_factorized(layer, 4)(x), layer(x), atol=1e-2)
    assert sum(p.numel() for p in svd_factorized(layer, 5).parameters()) == 5 * (40 + 30) + 30


def test_swapped_replaces_a_submodule_and_restores_it():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    original = model[0]
    with swapped(model, "0", nn.Identity()) as inside:
        assert isinstance(inside[0], nn.Identity)
    assert model[0] is original


def test_pca_variant_at_the_planted_rank_keeps_every_neighbour_and_cosine():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(600, 6)) @ rng.normal(size=(6, 48)) + 0.0  # rank 6 through the origin
    projector = EmbeddingProjector(embeddings, 8, seed=0)
    exact, short = projector.transform(embeddings, 6), projector.transform(embeddings, 2)
    assert recall_at_k(embeddings, exact, k=10) == 1.0
    assert cosine_preservation(embeddings, exact)["cosine_correlation"] == pytest.approx(1.0, abs=1e-9)
    assert recall_at_k(embeddings, short, k=10) < 0.9  # two of six directions lose neighbours
    with torch.no_grad():
        as_module = linear_map(projector.axes(6))(torch.as_tensor(embeddings, dtype=torch.float32)).numpy()
    assert np.allclose(as_module, exact, atol=1e-3)


def test_recommendation_is_the_smallest_width_reaching_the_floor():
    rows = [CostRow(width=w, sources=("spec",), parameters=1, model_bytes=model_bytes(1), flops_per_sample=1,
                    quality=Quality("recall@10", q)) for w, q in ((8, 0.7), (16, 0.96), (32, 0.99))]
    assert recommended_row(rows, 0.95).width == 16
    assert recommended_row(rows, 0.995) is None


def test_onnx_runtime_reproduces_torch_and_the_model_stays_in_eval_mode():
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)
    model = Projected(BertModel(config, add_pooling_layer=False).eval(), nn.Identity())
    assert not model.training  # a wrapper takes the model's mode
    ids = torch.randint(0, 100, (3, 12))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # padding in one row; token_type_ids between the two, as tokenizers order them
    inputs = {"input_ids": ids, "token_type_ids": torch.zeros_like(ids), "attention_mask": mask}

    class LastHidden(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, **extra):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state

    wrapped = LastHidden(model.model).eval()
    assert exported(wrapped, inputs, threads=1).max_abs_diff < 1e-5
    assert not any(module.training for module in wrapped.modules())


def test_measure_times_a_variant_in_turns_with_the_original():
    model = nn.Sequential(nn.Linear(16, 8)).eval()
    x = torch.randn(4, 16)
    original, reference = measure(model, x, warmup=1, repeats=5, threads=1)
    variant, _ = measure(nn.Sequential(nn.Linear(16, 8)).eval(), x, warmup=1, repeats=5, threads=1, reference=reference)
    assert original.reference_p50_s is None and original.max_abs_diff < 1e-6
    assert variant.reference_p50_s > 0 and variant.p50_change == pytest.approx(variant.p50_s / variant.reference_p50_s - 1)
    assert original.p95_s >= original.p50_s > 0 and original.throughput == pytest.approx(4 / original.p50_s)
    assert original.p50_change_low is None and variant.p50_change_low <= variant.p50_change_high


def test_the_paired_change_interval_resamples_turns_and_brackets_the_change():
    from audit.stages.cost.onnx_timing import turn_spread

    rng = np.random.default_rng(0)
    original = rng.lognormal(size=20)
    variant = original * 0.8
    variant[3] *= 50  # one preempted run: the interval stays near -20%, as the change does
    low, high = turn_spread(variant, original)
    change = np.median(variant) / np.median(original) - 1
    assert low <= change <= high and high - low < 0.5
    assert turn_spread(variant, original) == (low, high)  # seeded


@pytest.mark.parametrize(
    "block, expected",
    [
        ("cost:\n  stored_vectors: 10\n  prices: {compute_per_hour: 2.0}\n",
         ":14: cost.prices.compute_per_hour: cost.prices.compute_per_hour needs cost.queries_per_month"),
        ("cost:\n  prices: {storage_per_gb_month: 0.1}\n",
         ":13: cost.prices.storage_per_gb_month: cost.prices.storage_per_gb_month needs cost.stored_vectors"),
        ("cost:\n  sequence_length: 64\n", ":13: cost.sequence_length: cost.sequence_length applies to text models"),
        ("cost:\n  repeats: 0\n", ":13: cost.repeats: Input should be greater than or equal to 1"),
        ("cost:\n  embeding: yes\n", ":13: cost.embeding: unknown key 'embeding'; did you mean 'embedding'?"),
    ],
)
def test_bad_cost_blocks_are_one_line_naming_the_key(tmp_path, capsys, block, expected):
    line = one_error_line(capsys, ["validate", str(write(tmp_path, GOOD + block))])
    assert expected in line


def test_a_factorize_pattern_matching_no_audited_linear_layer_is_bad_input(tmp_path, capsys):
    spec = GOOD + "layers:\n  include: [blocks.0.linear, head]\ncost:\n  factorize: [blocks.1.linear]\n"
    line = one_error_line(capsys, ["run", str(write(tmp_path, spec)), "--out", str(tmp_path / "out"), "--quiet"])
    assert ":15: cost.factorize[0]: pattern 'blocks.1.linear' matches no audited dense layer" in line
    assert "blocks.0.linear, head" in line

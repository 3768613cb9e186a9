"""The HTML and PDF reports, rendered from the real digits-MLP audit."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from result_fixtures import cost_settings

from audit.render import html, pdf, plots, view, write_reports
from audit.render.view import section_titles
from audit.results import MetricResult
from audit.stages.cost import CostResult
from audit.stages.heads import HeadLayerResult, HeadRef, HeadsResult
from audit.stages.token_embeddings import TokenEmbeddingResult

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "digits-mlp" / "audit.yaml"
SVG_NAMESPACE = 'xmlns="http://www.w3.org/2000/svg"'
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture(scope="module")
def result():
    from audit.runner import run_audit
    from audit.spec import load_spec

    return run_audit(load_spec(SPEC))


@pytest.fixture(scope="module")
def html_text(result):
    return html.render(result)


@pytest.fixture(scope="module")
def pdf_bytes(result, html_text):
    return pdf.render(result, html_text)


class _Document(HTMLParser):
    """Collects the text, the tags and their URL-bearing attributes; checks that tags nest."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.tags, self.urls, self.errors = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls.extend(value for name, value in attrs if name in ("href", "src", "xlink:href", "action") and value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.urls.extend(value for name, value in attrs if name in ("href", "src", "xlink:href") and value)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> _Document:
    document = _Document()
    document.feed(text)
    document.close()
    return document


def text_of(text: str) -> str:
    """The visible text of an HTML page, whitespace collapsed (``<wbr>`` splits no words)."""
    return " ".join("".join(parse(text).text).split())


def with_layer(result, index, **changes):
    layers = list(result.layers)
    layers[index] = dataclasses.replace(layers[index], **changes)
    return dataclasses.replace(result, layers=tuple(layers))


# ---------------------------------------------------------------------------------------------
# HTML


def test_html_parses_and_names_every_layer(result, html_text):
    document = parse(html_text)
    assert not document.errors, document.errors[:5]
    assert not document.stack, f"unclosed tags: {document.stack}"
    visible = " ".join("".join(document.text).split())
    for layer in result.layers:
        assert layer.name in visible
    assert result.title in visible
    assert html_text.lstrip().startswith("<!DOCTYPE html>")


def test_html_is_self_contained(html_text):
    without_namespace = html_text.replace(SVG_NAMESPACE, "")
    assert not re.search(r"https?://", without_namespace), re.findall(r".{40}https?://.{40}", without_namespace)[:3]
    document = parse(html_text)
    assert all(url.startswith("#") for url in document.urls), [u for u in document.urls if not u.startswith("#")][:5]
    for tag in ("script", "link", "iframe", "object", "embed", "img"):
        assert tag not in document.tags, tag
    assert "@import" not in html_text and "@font-face" not in html_text
    assert not re.search(r"url\((?!#)", html_text)


def test_html_has_inline_svg_figures_in_order(html_text):
    assert html_text.count("<svg") >= 5
    assert "<?xml" not in html_text and "<!DOCTYPE svg" not in html_text
    visible = text_of(html_text)
    headings = ["Executive summary", "Intrinsic dimension across layers", "PCA spectra",
                "Every metric, layer by layer", "Sample-size sensitivity", "Attention heads", "Token embeddings",
                "Linear probes and class geometry", "Representation alignment", "Low-rank factorization sweep",
                "Cost of resizing", "Checkpoint trajectories", "Policy verdict", "Environment and provenance"]
    positions = [visible.index(f"{number} {heading}") for number, heading in enumerate(headings, 1)]
    assert positions == sorted(positions)
    for number in range(1, 6):
        assert f"Figure {number}." in visible
    # svg ids are unique across the figures that share the page
    ids = re.findall(r'\bid="([^"]+)"', html_text)
    assert len(ids) == len(set(ids))


def test_html_reports_numbers_with_uncertainty_and_method(result, html_text):
    visible = text_of(html_text)
    layer = result.layers[0]
    twonn = layer.metrics["twonn"]
    assert f"uses about {twonn.value:.1f} of its {layer.width} dimensions" in visible
    assert f"[{twonn.ci_low:.1f}, {twonn.ci_high:.1f}]" in visible
    assert twonn.method in visible and twonn.ci_method in visible
    assert f"{result.probe.n_samples:,}" in visible
    assert f"{result.model.n_parameters:,}" in visible
    assert result.model.files[0].sha256[:12] in visible and result.model.files[0].sha256 in visible
    assert result.environment.python in visible
    assert f"{result.accuracy.accuracy:.1%}" in visible
    assert "Wilson" in visible


def test_layer_names_are_escaped(result):
    evil = "<script>alert(1)</script>"
    odd = "encoder.layers.11.self_attn.$\\frac{1}{0}$.out_proj_with_a_very_long_name"  # mathtext, long
    hostile = with_layer(with_layer(result, 0, name=evil), 1, name=odd)
    hostile = dataclasses.replace(hostile, title='Audit <img src=x onerror="alert(2)">')
    text = html.render(hostile)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script" not in text.lower()
    assert "<img" not in text.lower()
    visible = text_of(text)
    assert evil in visible and odd in visible


def test_failed_metric_renders_its_message(result):
    message = "all 1797 points are identical: no distances to measure"
    failed = MetricResult(name="twonn", title="TwoNN ID", value=None, method="", status="failed", message=message)
    layer = result.layers[1]
    broken = with_layer(result, 1, metrics={**layer.metrics, "twonn": failed})
    visible = text_of(html.render(broken))
    assert f"{layer.name}, TwoNN ID: {message}" in visible  # the footnote of the value tables
    assert "not computed" in visible
    assert f"{layer.name}: TwoNN ID could not be computed" in visible  # the warnings list


def test_id_above_the_width_renders_as_the_width_with_its_note(result):
    from audit.metrics._base import capped_at_width

    raw = MetricResult(name=result.primary_id, title="ID", value=1.036, method="TwoNN", ci_low=0.95, ci_high=1.12,
                       ci_level=0.95, ci_method="percentile bootstrap", n_used=500, unit="dimensions")
    layer = result.layers[0]
    narrow = with_layer(result, 0, width=1, metrics={**layer.metrics, result.primary_id: capped_at_width(raw, 1)})
    # the tables' text, not the figures': a latency axis of the cost section's Pareto figure may
    # carry a "104%" tick, as timings vary from run to run
    visible = text_of(re.sub(r"<svg.*?</svg>", "", html.render(narrow), flags=re.S))
    assert "estimate 1.036 above the width 1; reported as 1" in visible  # the value tables' footnote
    assert "104%" not in visible and "-3.6%" not in visible and "-4%" not in visible
    # the layers-at-a-glance row: ID 1 [0.95, 1], 100% of the width, redundancy 0.0% [0.0%, 5.0%]
    assert "100% 0.0% [0.0%, 5.0%]" in visible


def test_fisher_s_renders_among_the_id_metrics(result):
    from reference_data import hypercube

    from audit.metrics import compute_layer, registry
    from audit.metrics._base import LayerData

    data = LayerData("cube", hypercube(300, 4, width=16, seed=1).astype(np.float32), seed=0)
    fisher = compute_layer(data, {"fisher_s": registry()["fisher_s"].params()})["fisher_s"]
    layers = tuple(dataclasses.replace(layer, metrics={**layer.metrics, "fisher_s": fisher}) for layer in result.layers)
    info = {**result.metric_info, "fisher_s": {"title": "FisherS ID", "kind": "id", "description": "separability"}}
    text = html.render(dataclasses.replace(result, layers=layers, metric_names=(*result.metric_names, "fisher_s"),
                                           metric_info=info))
    assert not parse(text).errors
    visible = text_of(text)
    assert "FisherS ID" in visible and fisher.method in visible


def test_absent_metrics_still_render(result):
    kept = ("mle", "effective_rank")
    layers = tuple(dataclasses.replace(layer, metrics={k: v for k, v in layer.metrics.items() if k in kept},
                                       primary_id="mle") for layer in result.layers)
    # one layer lacks a selected metric altogether
    layers = (dataclasses.replace(layers[0], metrics={"effective_rank": layers[0].metrics["effective_rank"]}),) + layers[1:]
    slim = dataclasses.replace(result.with_stages(accuracy=None), layers=layers, metric_names=kept, primary_id="mle", warnings=())
    visible = text_of(html.render(slim))
    assert "no result for this layer" in visible
    assert "Not computed: the spec did not select the pca metric." in visible
    assert "Not computed: the spec did not select the sample_size metric." in visible
    assert "Accuracy was not computed" in visible


def test_no_id_metric_at_all(result):
    layers = tuple(dataclasses.replace(layer, metrics={"stable_rank": layer.metrics["stable_rank"]}, primary_id=None)
                   for layer in result.layers)
    bare = dataclasses.replace(result.with_stages(accuracy=None), layers=layers, metric_names=("stable_rank",),
                               primary_id=None, warnings=())
    document = parse(html.render(bare))
    assert not document.errors
    assert "No intrinsic-dimension metric" in " ".join("".join(document.text).split())


def test_metric_missing_from_metric_info_still_renders(result):
    """A metric the result's metric_info does not describe renders with fallback metadata."""
    info = {name: meta for name, meta in result.metric_info.items() if name != "stable_rank"}
    partial = dataclasses.replace(result, metric_info=info)
    text = html.render(partial)
    assert not parse(text).errors
    visible = text_of(text)
    assert "Spectral ranks and diagnostics" in visible
    assert result.layers[0].metrics["stable_rank"].title in visible
    assert result.metric_info["stable_rank"]["description"] not in visible
    built = view.build(dataclasses.replace(result, metric_info={}))
    assert built.sections[0].data.id_header.startswith(result.layers[0].metrics["twonn"].title)


def test_write_reports_html(result, tmp_path):
    written = write_reports(result, tmp_path, {"html"})
    assert written["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "report.html"]  # no staging folder left


# ---------------------------------------------------------------------------------------------
# transformer parts: attention heads and token embeddings (small synthetic results on the real
# digits audit, so no transformer runs here)


def _spectral(name, value, low, high):
    return MetricResult(name=name, title=name.replace("_", " "), value=value, method=f"{name} of centred heads",
                        ci_low=low, ci_high=high, ci_level=0.95, ci_method="delete-a-group jackknife", n_used=64,
                        unit="dimensions")


def head_layer(name, *, groups=(), constant=(), importance=(0.0021, 0.0008, 0.0042, 0.0013)):
    similarity = [[1.0 if a == b else 0.1 * (a + b) / 6 for b in range(4)] for a in range(4)]
    for group in groups:
        for a in group:
            for b in group:
                if a != b:
                    similarity[a][b] = 0.95
    similarity[0][1] = similarity[1][0] = -0.02  # debiased CKA can be slightly negative
    return HeadLayerResult(
        name=name, n_heads=4, d_head=2, n_points=64, measure="cka",
        method="debiased linear CKA (unbiased HSIC of Song et al. 2012); groups: connected components of "
               "similarity >= 0.9", threshold=0.9, similarity=tuple(tuple(row) for row in similarity),
        groups=tuple(groups), constant_heads=tuple(constant),
        effective_rank=_spectral("effective_rank", 5.2, 4.9, 5.5),
        participation_ratio=_spectral("participation_ratio", 3.1, 2.8, 3.4),
        importance=importance)


def heads_result(layers, measure="1 - mean cosine to the unablated output", fraction=0.25):
    ranking = tuple(sorted((HeadRef(layer.name, head, value) for layer in layers if layer.importance
                            for head, value in enumerate(layer.importance)),
                           key=lambda ref: (ref.importance, ref.layer, ref.head)))
    candidates = ranking[:int(fraction * len(ranking))]
    return HeadsResult(layers=tuple(layers), importance_measure=measure if ranking else None,
                       ablation_samples=16 if ranking else 0, ranking=ranking, prune_candidates=candidates,
                       prune_fraction=fraction)


def token_result(**changes):
    twonn = MetricResult(name="twonn", title="token-embedding TwoNN ID", value=36.7, method="TwoNN (linear fit)",
                         ci_low=33.04, ci_high=41.3, ci_level=0.95, ci_method="percentile bootstrap", n_used=4500)
    fields = dict(module="transformer.embeddings.word_embeddings", vocab_size=30522, width=384, n_rows=5000,
                  id=twonn, suggested_lora_rank=64,
                  lora_rank_rule="smallest power of two at or above the upper end of the TwoNN interval")
    return TokenEmbeddingResult(**{**fields, **changes})


@pytest.fixture(scope="module")
def transformer_result(result):
    layers = [head_layer("encoder.layer.0.attention.self", groups=[(0, 2)]),
              head_layer("encoder.layer.1.attention.self", constant=(3,))]
    return result.with_stages(heads=heads_result(layers), token_embeddings=token_result())


SECTION_NUMBERS = {title: number for number, title in enumerate(section_titles(), 1)}


def heading(title: str) -> str:
    """A section's numbered heading as the reader sees it ("6 Attention heads")."""
    return f"{SECTION_NUMBERS[title]} {title}"


def section_text(visible: str, title: str, until: str | None = None) -> str:
    """The visible text of one section, from its heading to the next section's (or ``until``)."""
    titles = list(SECTION_NUMBERS)
    start = visible.index(heading(title))
    return visible[start:visible.index(until or heading(titles[titles.index(title) + 1]), start)]


def test_heads_section_renders(transformer_result):
    text = html.render(transformer_result)
    document = parse(text)
    assert not document.errors and not document.stack
    visible = text_of(text)
    heads = section_text(visible, "Attention heads")
    # per layer: shape, groups, constant heads, effective rank with interval, effective heads
    assert "4 × 2" in heads and "Groups at CKA ≥ 0.9" in heads
    assert "0, 2" in heads and "constant: 3" in heads
    assert "5.2 [4.9, 5.5]" in heads and "65%" in heads and "2.6 of 4 [2.5, 2.8]" in heads
    # the ablation ranking: measure, samples, prune candidates least important first, in one scaled unit
    assert "1 - mean cosine to the unablated output" in heads and "16 probe texts" in heads
    assert "Importance (× 10⁻³)" in heads
    assert re.search(r"1 ?encoder\.layer\.0\.attention\.self ?1 ?0\.8 ?2 ?encoder\.layer\.1\.attention\.self ?1 ?0\.8 ",
                     heads)
    assert "0.80 is 0.0008" in heads
    assert "debiased linear CKA" in heads and "unbiased HSIC" in heads and "Song et al." in heads
    # two figures (similarity small multiples, importance grid), numbered after the earlier ones
    figures = [int(n) for n in re.findall(r"Figure (\d+)\.", heads)]
    assert len(figures) == 2 and figures[0] == figures[1] - 1 and figures[0] > 1
    assert "threshold 0.9" in heads and "prune candidates are outlined" in heads
    # figures are vector drawings: nothing embedded as a raster image, nothing fetched
    assert "<image" not in text and "data:image/png" not in text
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))


def test_token_embeddings_section_renders(transformer_result):
    visible = text_of(html.render(transformer_result))
    tokens = section_text(visible, "Token embeddings")
    assert "30,522 × 384" in tokens and "5,000 of 30,522" in tokens
    assert "36.7 95% interval [33.0, 41.3]" in tokens
    assert "90% 95% interval [89%, 91%]" in tokens  # redundancy 1 - 36.7/384 with its interval
    assert "64 smallest power of two at or above the upper end of the TwoNN interval" in tokens
    assert "a guide, not a guarantee" in tokens


def test_summary_mentions_heads_and_tokens(transformer_result):
    visible = text_of(html.render(transformer_result))
    summary = section_text(visible, "Executive summary", "Layers at a glance")
    assert "1 group of near-duplicate heads (2 heads) in 1 of 2 attention layers at CKA ≥ 0.9" in summary
    assert "effective rank worth about 2.6 of the 4 heads per layer" in summary
    assert "names the 2 least important of 8 heads as prune candidates" in summary
    assert "evidence for pruning, not proof" in summary and "(Section 6)" in summary
    assert "The token embeddings (30,522 × 384) use about 36.7 of their 384 dimensions" in summary
    assert "a LoRA rank of 64 for them is suggested, a guide, not a guarantee (Section 7)" in summary


def test_heads_without_groups_or_ablation(result):
    layers = [head_layer(f"encoder.layer.{i}.attention.self", importance=None) for i in range(2)]
    failed = MetricResult(name="effective_rank", title="effective rank of the heads", value=None, method="",
                          status="failed", message="every head is constant")
    layers[1] = dataclasses.replace(layers[1], effective_rank=failed)
    plain = result.with_stages(heads=heads_result(layers))
    visible = text_of(html.render(plain))
    heads = section_text(visible, "Attention heads")
    assert "No near-duplicate heads at threshold 0.9 in any layer" in heads
    assert "not computed every head is constant" in heads
    assert "Not computed: no head was ablated" in heads
    assert heads.count("Figure ") == 1  # the similarity figure only
    summary = section_text(visible, "Executive summary", "Layers at a glance")
    assert "no two heads in any of the 2 attention layers reach CKA ≥ 0.9" in summary
    assert "prune candidates" not in summary


def test_negative_importance_and_accuracy_drop(result):
    layers = [head_layer("a.attention", importance=(0.05, -0.02, 0.0, 0.1))]
    text = html.render(result.with_stages(heads=heads_result(layers, measure="accuracy drop")))
    heads = section_text(text_of(text), "Attention heads")
    assert "Importance (percentage points)" in heads and "−2.0" not in heads and "-2" in heads
    assert "blue ones improve it" in heads


def test_failed_token_embedding_id(result):
    failed = MetricResult(name="twonn", title="token-embedding TwoNN ID", value=None, method="", status="failed",
                          message="all rows are identical")
    broken = result.with_stages(token_embeddings=token_result(id=failed, suggested_lora_rank=None))
    visible = text_of(html.render(broken))
    tokens = section_text(visible, "Token embeddings")
    assert "TwoNN could not be computed on the token embeddings: all rows are identical" in tokens
    assert "No LoRA rank is suggested" in tokens
    assert "The token embeddings' ID could not be computed (Section 7)." in visible


def test_hostile_names_in_heads_and_tokens_are_escaped(result):
    evil = '<script>alert("head")</script>.attention.self'
    layers = [head_layer(evil, groups=[(0, 2)]), head_layer("b<img src=x onerror=alert(3)>.attention.self")]
    hostile = result.with_stages(heads=heads_result(layers),
                                 token_embeddings=token_result(module="<script>alert(4)</script>"))
    text = html.render(hostile)
    assert "<script" not in text.lower() and "<img" not in text.lower()
    assert "&lt;script&gt;" in text
    visible = text_of(text)
    assert evil in visible and "<script>alert(4)</script>" in visible
    assert not parse(text).errors


def test_absent_heads_and_tokens_say_not_computed(result, html_text):
    visible = text_of(html_text)
    assert result.heads is None and result.token_embeddings is None
    assert f"{heading('Attention heads')} Not computed: the spec has no heads section" in visible
    assert f"{heading('Token embeddings')} Not computed: the spec has no token_embeddings section" in visible
    assert f"{heading('Policy verdict')} Not evaluated: no policy was given" in visible
    assert heading("Environment and provenance") in visible
    assert "Attention heads:" not in visible and "LoRA" not in visible


def test_cost_section_says_why_it_was_not_computed(result):
    without = text_of(html.render(result.with_stages(cost=None)))
    assert f"{heading('Cost of resizing')} Not computed: the spec has no cost section" in without
    reason = "the model (kind onnx) is not a torch module: variants are built by replacing torch modules"
    skipped = CostResult("not_computed", reason, (), cost_settings(), 0.95)
    visible = text_of(html.render(result.with_stages(cost=skipped)))
    assert f"{heading('Cost of resizing')} Not computed: {reason}." in visible
    number = SECTION_NUMBERS["Cost of resizing"]
    assert f"The cost of resizing was not computed: {reason} (Section {number})." in visible  # the summary says so too


def test_cost_section_shows_each_target_with_its_recommended_row(result, html_text):
    visible = text_of(html_text)
    section = section_text(visible, "Cost of resizing")
    for target in result.cost.targets:
        assert target.recommendation in section and target.name in section
    assert "Figure" in section and "Quality kept against size" in section
    assert html_text.count('<tr class="recommended">') == sum(t.recommended is not None for t in result.cost.targets)


def test_cost_and_sweep_tables_show_held_out_quality_with_its_interval(result):
    section = section_text(text_of(html.render(result)), "Cost of resizing")
    target = result.cost.targets[0]
    row = target.candidates[0]
    def pct(value):
        return f"{value * 100:.1f}%"

    assert f"{pct(row.quality.retained)} [{pct(row.quality.ci_low)}, {pct(row.quality.ci_high)}]" in section
    assert f"({row.quality.n_samples:,} held out)" in section
    sweep = section_text(text_of(html.render(result)), "Low-rank factorization sweep")
    assert "held-out" in sweep or "nothing is fitted" in sweep
    level = next(level.point for level in result.sweep.groups[0].levels if level.point is not None)
    assert f"keeps {pct(level.retained)} [{pct(level.retained_ci_low)}, {pct(level.retained_ci_high)}]" in sweep


def test_a_variant_row_reads_both_p50s_from_its_own_turns(result):
    """The original timed alone at 234 ms, then a variant at 128 ms in turns with an original that
    also took 128 ms in those turns: the row must not read 234 ms -> 128 ms beside "+0%"."""
    from audit.stages.cost import Timing

    def timing(p50, reference=None, low=None, high=None):
        return Timing(batch_size=8, sequence_length=None, warmup=1, repeats=20, threads=1, p50_s=p50, p95_s=p50,
                      throughput=8 / p50, onnx_bytes=1, max_abs_diff=0.0, reference_p50_s=reference,
                      p50_change_low=low, p50_change_high=high)

    target = result.cost.targets[0]
    original = dataclasses.replace(target.original, timing=timing(0.234))
    variant = dataclasses.replace(target.candidates[0], timing=timing(0.128, 0.128, -0.03, 0.02))
    cost = dataclasses.replace(result.cost, targets=(dataclasses.replace(target, original=original,
                                                                         candidates=(variant,)),))
    section = section_text(text_of(html.render(result.with_stages(cost=cost))), "Cost of resizing")
    assert "234 msp95 234 ms, timed alone" in section  # value and detail are two lines of one cell
    assert "128 ms \u2192 128 ms+0% [\u22123%, +2%] over 20 turns" in section
    assert "ONNX latency p50, original \u2192 variant" in section


def test_transformer_pdf_lays_out(transformer_result, tmp_path):
    document = pdf.layout(transformer_result)
    assert len(document.pages) >= 2
    if shutil.which("pdftotext"):
        path = tmp_path / "report.pdf"
        document.write_pdf(path)
        text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
                        .stdout.decode().split())
        assert heading("Attention heads") in text and heading("Token embeddings") in text
        assert "Heads ranked by ablation" in text


def test_head_figures_are_deterministic_vectors():
    panels = [plots.SimilarityPanel(label=f"{i}.attention", similarity=[[1.0, 0.95], [0.95, 1.0]], note="groups: 0+1")
              for i in range(4)]
    first = plots.head_similarity(panels, threshold=0.9, colour_label="CKA similarity")
    assert first == plots.head_similarity(panels, threshold=0.9, colour_label="CKA similarity")
    grid = plots.HeadGrid(layer_labels=["0", "1"], values=[[0.5, 1.0], [None, 2.0]],
                          labels=[["0.50", "1.0"], ["", "2.0"]], marked=[(0, 0)])
    second = plots.head_importance(grid, colour_label="Importance")
    assert second == plots.head_importance(grid, colour_label="Importance")
    for svg in (first, second):
        assert svg.startswith("<svg ") and "<image" not in svg and "<!--" not in svg


# ---------------------------------------------------------------------------------------------
# figures and formatting


def test_figures_are_deterministic_and_clean():
    args = (["a", "b"], [0.1, 0.5], [0.05, 0.4], [0.15, 0.6], ["1 of 10", "5 of 10"], [False, True])
    first, second = plots.width_usage(*args), plots.width_usage(*args)
    assert first == second
    assert first.startswith("<svg ") and first.endswith("</svg>")
    assert "<!--" not in first and "<metadata" not in first and "xlink" not in first
    assert re.findall(r"https?://[^\"]*", first) == ["http://www.w3.org/2000/svg"]


def test_number_formatting():
    assert view.fmt_dim(8.23246) == "8.2"
    assert view.fmt_dim(21.0) == "21"
    assert view.fmt_dim(None) == "\u2014"
    assert view.fmt_int(1797) == "1,797"
    assert view.fmt_pct(0.93568) == "94%"
    assert view.fmt_pct(0.0229) == "2.3%"
    assert view.fmt_interval(7.806, 8.689) == "[7.8, 8.7]"
    assert view.fmt_interval(1.0, float("inf")) == "[1, \u221e]"
    assert str(view.breakable("<a>.b")) == "&lt;a&gt;.<wbr>b"


# ---------------------------------------------------------------------------------------------
# PDF


def test_pdf_is_a_multipage_a4_document(result, html_text, pdf_bytes, tmp_path):
    assert pdf_bytes.startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=pdf_bytes, capture_output=True, check=True).stdout.decode()
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
        assert "595.2" in info and "841.8" in info  # A4 in points
    else:
        pages = len(pdf.layout(result, html_text).pages)
    assert pages >= 2
    if shutil.which("pdftotext"):
        path = tmp_path / "report.pdf"
        path.write_bytes(pdf_bytes)
        first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True,
                               check=True).stdout.decode()
        assert f"page 1 of {pages}" in first
        assert "Executive summary" in first


def test_pdf_first_page_is_not_blank(pdf_bytes, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    from matplotlib import image

    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    pixels = image.imread(str(tmp_path / "page.png"))
    assert pixels.shape[0] > pixels.shape[1]  # portrait
    assert float(np.std(pixels[..., :3])) > 0.05


def test_verdict_heads_the_report_and_every_rule_has_a_row(result, html_text):
    from audit.policy import Gate, evaluate, load_pack, stock_packs

    assert "Not evaluated: no policy was given" in text_of(html_text) and "<div class=\"verdict-banner" not in html_text
    packs = (load_pack(stock_packs()["default"]), load_pack(stock_packs()["strict"]))
    gate = Gate(packs=packs)
    gated = dataclasses.replace(result, verdict=evaluate(gate, result.to_dict()))
    page = html.render(gated)
    visible = text_of(page)
    banner = visible.index("Policy verdict: ")
    assert banner < visible.index("Contents") < visible.index("1 Executive summary")  # heads the report
    assert visible[banner:].startswith(f"Policy verdict: {gated.verdict.status}")
    rows = re.findall(r'<tr class="rule-(\w+)">', page)
    assert len(rows) == len(gated.verdict.outcomes) == sum(len(pack.rules) for pack in packs)
    assert rows == sorted(rows, key=lambda status: ["error", "fail", "warn", "pass"].index(status))  # worst first
    for outcome in gated.verdict.outcomes:
        assert outcome.rationale.split()[0] in visible


def test_sweep_and_class_geometry_sections_render(result, html_text):
    visible = text_of(html_text)
    sweep = section_text(visible, "Low-rank factorization sweep")
    for group in result.sweep.groups:
        assert group.name in sweep and f"rank {group.knee.rank}" in sweep
    assert "PCHIP" in sweep and "keeps 95%" in sweep and "Figure" in sweep
    geometry = section_text(visible, "Linear probes and class geometry")
    assert "NC1 = tr(\u03a3_W \u03a3_B\u207a) / C" in geometry and "Papyan" in geometry
    probe = result.layers[0].metrics["linear_probe"]
    assert f"{probe.value * 100:.1f}%" in geometry
    summary = section_text(visible, "Executive summary", "Layers at a glance")
    assert "fewer weight parameters (truncated SVD, no fine-tuning; Section 10)" in summary


def test_absent_sweep_and_geometry_say_not_computed(result):
    bare = dataclasses.replace(result.with_stages(sweep=None), layers=tuple(
        dataclasses.replace(layer, metrics={k: v for k, v in layer.metrics.items() if k == "twonn"})
        for layer in result.layers), metric_info={"twonn": result.metric_info["twonn"]}, metric_names=("twonn",))
    visible = text_of(html.render(bare))
    assert f"{heading('Low-rank factorization sweep')} Not computed: the spec has no sweep section." in visible
    assert f"{heading('Linear probes and class geometry')} Not computed: the spec selected none of the metrics" in visible


def test_page_one_leads_with_the_measured_decision(result, html_text):
    """Before, the summary opened with what ID is; the cost stage's recommendation came last."""
    summary = section_text(text_of(html_text), "Executive summary")
    assert summary.index("Decision the measurements support") < summary.index("This audit measured")
    for target in result.cost.targets:
        if target.recommended is not None:
            step = target.recommendation.removeprefix("Recommended: ")
            assert step[:1].upper() + step[1:] in summary
            chosen = next(row for row in target.candidates if row.width == target.recommended)
            assert f"[{chosen.quality.ci_low:.1%}, " in summary  # the quality it keeps, with its interval
    assert summary.count("Recommended: ") == 0  # said once, in the decision, not again among the findings


def test_a_candidates_id_is_placed_against_the_components_a_linear_cut_keeps(html_text):
    summary = section_text(text_of(html_text), "Executive summary")
    assert summary.count("That ID is what a nonlinear map of these activations could keep") == 1  # explained once
    assert "principal components hold 90% of the variance" in summary and " A linear cut: " in summary
    assert "GRIDE reads" in summary and "the nonlinear ID depends on the scale it is read at" in summary


def test_the_settled_note_says_which_way_a_moving_id_goes(result):
    summary = section_text(text_of(html.render(result)), "Executive summary")
    assert "rising on" in summary or "falling on" in summary
    assert "likely still underestimates" in summary or "the smaller subsets overstated them" in summary

"""Policies on crafted results: every stock rule passes and fails where it should, an exception
in a rule is an ERROR and never a crash, bad policy files are one-line errors with a "did you
mean", and the gate's outputs (junit.xml against the JUnit XSD, the Markdown summary and its
1 MiB cap)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import xmlschema
from result_fixtures import cost_settings

from audit.errors import SpecError
from audit.policy import Gate, Rule, evaluate, evaluate_rule, load_pack, stock_packs
from audit.render import junit, markdown
from audit.results import AuditResult, EnvironmentInfo, LayerResult, MetricResult, ModelInfo, ProbeInfo
from audit.stages.accuracy import AccuracyResult
from audit.stages.cost import CostResult, CostRow, CostTarget, Money, Quality, Timing
from audit.stages.heads import HeadLayerResult, HeadsResult
from audit.stages.sweep import RankLevel, SweepGroup, SweepPoint, SweepResult
from audit.stages.token_embeddings import TokenEmbeddingResult

JUNIT_XSD = Path(__file__).parent / "data" / "junit-windyroad.xsd"


def _metric(name: str, value: float | None) -> MetricResult:
    if value is None:
        return MetricResult(name=name, title=name, value=None, method="m", status="failed", message="constant layer")
    return MetricResult(name=name, title=name, value=value, method="m", ci_low=value * 0.9, ci_high=value * 1.1)


def _layer(name: str, width: int, twonn: float | None, sample_size: float, *, is_output: bool = False) -> LayerResult:
    return LayerResult(name=name, module_type="Linear", width=width, n_points=1000, n_points_seen=1000,
                       reduction="none", metrics={"twonn": _metric("twonn", twonn),
                                                  "sample_size": _metric("sample_size", sample_size)},
                       primary_id="twonn", is_output=is_output)


def _heads(groups: int) -> HeadsResult:
    rank = _metric("effective_rank", 10.0)
    layer = HeadLayerResult(name="encoder.layer.0.attention", n_heads=12, d_head=32, n_points=500, measure="cka",
                            method="m", threshold=0.9, similarity=((1.0,),), groups=((0, 1),) * groups,
                            constant_heads=(), effective_rank=rank, participation_ratio=rank)
    return HeadsResult(layers=(layer,), importance_measure=None, ablation_samples=0, ranking=(),
                       prune_candidates=(), prune_fraction=0.1)


def _row(width: int, parameters: int, *, store: int | None, retained: float, p50_s: float = 0.01,
         per_month: float = 10.0) -> CostRow:
    return CostRow(width=width, sources=("spec",), parameters=parameters,
                   model_bytes={"float32": 4 * parameters, "float16": 2 * parameters, "int8": parameters},
                   flops_per_sample=2 * parameters, store_bytes=store,
                   timing=Timing(batch_size=8, sequence_length=None, warmup=1, repeats=5, threads=1, p50_s=p50_s,
                                 p95_s=p50_s, throughput=8 / p50_s, onnx_bytes=4 * parameters, max_abs_diff=0.0,
                                 reference_p50_s=0.01),
                   money=Money(currency="USD", storage_per_month=None, compute_per_month=per_month),
                   quality=Quality(measure="recall@10", retained=retained, ci_low=retained - 0.02,
                                   ci_high=min(retained + 0.01, 1.0), ci_level=0.95, n_samples=500))


def _target(name: str, kind: str, width: int, recommended: int | None, *, parameters: int = 1000,
            retained: float = 0.97) -> CostTarget:
    """A cost target of full ``width`` (1000 parameters, a store of 1000 bytes per dimension when an
    embedding) whose one candidate, at width ``recommended``, has ``parameters``; None: no candidate
    kept the floor (the candidate is then at half the width)."""
    store = (lambda w: 1000 * w) if kind == "embedding" else (lambda w: None)
    candidate = recommended or width // 2
    return CostTarget(name=name, kind=kind, module_type="Linear", width=width,
                      original=_row(width, 1000, store=store(width), retained=1.0),
                      candidates=(_row(candidate, parameters, store=store(candidate), retained=retained, p50_s=0.008,
                                       per_month=8.0),),
                      recommended=recommended, recommendation="r", method="m")


def _cost(embedding_width: int | None, factorized_parameters: int, retained: float) -> CostResult:
    """The output ``head`` (width 384) reduced to ``embedding_width`` keeping ``retained`` of recall, and
    ``blocks.0`` factorized at rank 16 into a model of ``factorized_parameters`` (of 1000)."""
    targets = (_target("head", "embedding", 384, embedding_width, retained=retained),
               _target("blocks.0", "linear", 128, 16, parameters=factorized_parameters))
    return CostResult(status="ok", reason="", targets=targets, settings=cost_settings(), quality_floor=0.95)


def _sweep(compression_95: float | None, knee_retained: float = 0.97) -> SweepResult:
    """``blocks.0`` (full 8192 parameters) reaching 95% of the teacher's score at ``compression_95``."""
    def point(compression: float, retained: float) -> SweepPoint:
        return SweepPoint(rank=8, score=retained, retained=retained, parameters=round(8192 / compression),
                          reduction=1 - 1 / compression, compression=compression)
    at_95 = None if compression_95 is None else point(compression_95, 0.96)
    group = SweepGroup(name="blocks.0", layers=("blocks.0",), full_rank=64, full_parameters=8192, points=(),
                       fit_ranks=(), fit_scores=(), knee=point(5.0, knee_retained),
                       levels=(RankLevel(0.9, point(6.0, 0.91)), RankLevel(0.95, at_95)))
    return SweepResult(measure="accuracy", measure_description="d", teacher_score=1.0, n_samples=512,
                       grouping="one_at_a_time", executor="local", workers=1, distill_steps=0, distill_lr=None,
                       levels=(0.9, 0.95), groups=(group,))


def crafted(*, hidden_id=40.0, output_id=60.0, sample_size=0.02, failed=False, accuracy=0.9, head_groups=0,
            token_id=100.0, warnings=(), with_sample_size=True, embedding_width=256, factorized_parameters=800,
            retained=0.97, compression_95=3.0) -> AuditResult:
    """A result every stock rule passes; each keyword moves one figure the rules read.

    Hidden layer ``blocks.0`` (width 128), output ``head`` (width 384, a sentence embedding),
    token embeddings of width 384, one attention layer with ``head_groups`` duplicate groups; a
    cost stage (see :func:`_cost`) and a sweep of ``blocks.0`` (see :func:`_sweep`).
    """
    layers = (_layer("blocks.0", 128, None if failed else hidden_id, sample_size),
              _layer("head", 384, output_id, sample_size, is_output=True))
    if not with_sample_size:
        layers = tuple(dataclasses.replace(layer, metrics={"twonn": layer.metrics["twonn"]}) for layer in layers)
    return AuditResult(
        title="crafted", spec_path="audit.yaml",
        model=ModelInfo(source="model.py:build", kind="torch", files=(), n_parameters=1000, module_type="M"),
        probe=ProbeInfo(source="sklearn:digits", n_samples=1000, n_features=64, has_labels=True, n_classes=10, seed=0),
        environment=EnvironmentInfo(model_audit="0", python="3", platform="p", packages={}, torch_threads=1, device="cpu"),
        layers=layers, metric_names=tuple(layers[0].metrics), primary_id="twonn",
        stages=dict(
            accuracy=AccuracyResult(accuracy=accuracy, n_samples=1000, ci_low=accuracy - 0.01, ci_high=accuracy + 0.01,
                                    ci_level=0.95, ci_method="wilson", last_hidden_layer="blocks.0",
                                    last_hidden_id=hidden_id, accuracy_per_id=accuracy / hidden_id),
            heads=_heads(head_groups),
            token_embeddings=TokenEmbeddingResult(module="embeddings", vocab_size=30000, width=384, n_rows=30000,
                                                  id=_metric("twonn", token_id), suggested_lora_rank=128,
                                                  lora_rank_rule="rule"),
            cost=_cost(embedding_width, factorized_parameters, retained), sweep=_sweep(compression_95)),
        warnings=tuple(warnings), created="2026-01-31T12:00:00+00:00")


def stock_rule(pack: str, rule: str):
    return next(r for r in load_pack(stock_packs()[pack]).rules if r.id == rule)


def outcome(pack: str, rule: str, result: AuditResult, baseline: AuditResult | None = None):
    return evaluate_rule(stock_rule(pack, rule), result.to_dict(), policy=pack,
                         baseline=crafted().to_dict() if baseline is None and pack == "regression" else
                         (baseline.to_dict() if baseline else None))


# (pack, rule, a change that still passes (at or near the threshold), a change that breaks it, its status)
STOCK_CASES = [
    ("default", "metrics-computed", {}, {"failed": True}, "FAIL"),
    ("default", "id-settled", {"sample_size": 0.1}, {"sample_size": 0.11}, "WARN"),
    ("default", "hidden-width-used", {"hidden_id": 6.4}, {"hidden_id": 6.3}, "WARN"),  # 1 - 6.4/128 = 0.95
    ("default", "resize-worth-acting-on", {"factorized_parameters": 500}, {"factorized_parameters": 490}, "WARN"),
    ("default", "factorization-headroom", {"compression_95": 10.0}, {"compression_95": 10.5}, "WARN"),
    ("embedding", "embedding-not-collapsed", {"output_id": 2.0}, {"output_id": 1.9}, "FAIL"),
    ("embedding", "embedding-width-used", {"output_id": 38.4}, {"output_id": 38.0}, "WARN"),  # 1 - 38.4/384 = 0.9
    ("embedding", "token-table-used", {"token_id": 19.2}, {"token_id": 19.0}, "WARN"),
    ("embedding", "few-duplicate-heads", {"head_groups": 4}, {"head_groups": 5}, "WARN"),
    ("embedding", "recommended-width-keeps-recall", {"retained": 0.95}, {"retained": 0.94}, "FAIL"),
    ("embedding", "store-saving-worth-acting-on", {"embedding_width": 192}, {"embedding_width": 190}, "WARN"),  # of 384
    ("strict", "metrics-computed", {}, {"failed": True}, "FAIL"),
    ("strict", "no-warnings", {}, {"warnings": ("blocks.0: 5000 of 9000 points sampled",)}, "FAIL"),
    ("strict", "id-settled", {"sample_size": 0.05}, {"sample_size": 0.06}, "FAIL"),
    ("strict", "hidden-width-used", {"hidden_id": 32.0}, {"hidden_id": 31.0}, "FAIL"),  # 1 - 32/128 = 0.75
    ("strict", "no-duplicate-heads", {}, {"head_groups": 1}, "FAIL"),
    ("strict", "right-sized", {"factorized_parameters": 750}, {"factorized_parameters": 740}, "FAIL"),  # of 1000
    ("strict", "little-factorization-headroom", {"compression_95": 4.0}, {"compression_95": 4.1}, "FAIL"),
    ("regression", "accuracy-kept", {"accuracy": 0.891}, {"accuracy": 0.889}, "FAIL"),  # baseline 0.9
    ("regression", "no-new-failed-metrics", {}, {"failed": True}, "FAIL"),
    ("regression", "id-stable", {"hidden_id": 50.0}, {"hidden_id": 50.5}, "WARN"),  # baseline 40: +25%
]


def test_every_stock_rule_has_a_case():
    shipped = {(pack, rule.id) for pack, path in stock_packs().items() for rule in load_pack(path).rules}
    assert shipped == {(pack, rule) for pack, rule, *_ in STOCK_CASES}
    for pack, path in stock_packs().items():
        assert all(rule.rationale for rule in load_pack(path).rules), f"{pack}: every stock rule says why"


def test_every_stock_pack_passes_the_clean_result():
    gate = Gate(packs=tuple(load_pack(path) for path in stock_packs().values()), baseline=crafted().to_dict())
    verdict = evaluate(gate, crafted().to_dict())
    assert verdict.status == "PASS" and verdict.passed, [o for o in verdict.outcomes if o.status != "PASS"]


@pytest.mark.parametrize("pack, rule, passing, failing, status", STOCK_CASES, ids=[f"{c[0]}-{c[1]}" for c in STOCK_CASES])
def test_stock_rule_passes_and_fails_where_it_should(pack, rule, passing, failing, status):
    assert outcome(pack, rule, crafted(**passing)).status == "PASS"
    broken = outcome(pack, rule, crafted(**failing))
    assert broken.status == status, broken.detail
    assert broken.message == stock_rule(pack, rule).message


def test_role_keeps_the_output_out_of_hidden_rules():
    wide_output = crafted(output_id=3.0)  # 1 - 3/384 = 0.99: far above every hidden-layer threshold
    assert outcome("default", "hidden-width-used", wide_output).status == "PASS"
    assert outcome("embedding", "embedding-width-used", wide_output).status == "WARN"


def test_missing_values_follow_the_rule():
    no_subsets = crafted(with_sample_size=False)
    assert outcome("default", "id-settled", no_subsets).status == "PASS"  # missing: pass
    strict = outcome("strict", "id-settled", no_subsets)  # missing: error (the default)
    assert strict.status == "ERROR" and "not measured" in strict.detail
    no_tokens = crafted().with_stages(token_embeddings=None, heads=None)
    assert outcome("embedding", "token-table-used", no_tokens).status == "PASS"
    assert outcome("strict", "no-duplicate-heads", no_tokens).status == "PASS"
    no_cost = crafted().with_stages(cost=None, sweep=None)
    no_recommendation = crafted(embedding_width=None)
    for pack, rule in (("default", "resize-worth-acting-on"), ("default", "factorization-headroom"),
                       ("embedding", "recommended-width-keeps-recall"), ("embedding", "store-saving-worth-acting-on"),
                       ("strict", "right-sized"), ("strict", "little-factorization-headroom")):
        assert outcome(pack, rule, no_cost).status == "PASS", rule
        assert outcome(pack, rule, no_recommendation).status == "PASS", rule


COST_FIGURES = ("resize_recommended", "recommended_width", "quality_retained", "quality_retained_low",
                "model_bytes_reduction",
                "flops_reduction", "store_bytes_reduction", "latency_change", "money_saved_per_month")
SWEEP_FIGURES = ("compression_at_95", "knee_compression", "knee_retained")


def observed(figure: str, result: AuditResult, **rule) -> dict[str, float | None]:
    found = evaluate_rule(Rule(id="r", metric=figure, must_be=">=", threshold=0, message="m", **rule), result.to_dict())
    return {o.target: None if o.value is None else round(o.value, 6) for o in found.observations}


def test_cost_and_sweep_figures_read_each_target_and_group():
    result = crafted(embedding_width=96, factorized_parameters=600, retained=0.96, compression_95=4.5)
    assert {figure: observed(figure, result) for figure in (*COST_FIGURES, *SWEEP_FIGURES)} == {
        "resize_recommended": {"head": 1.0, "blocks.0": 1.0},
        "recommended_width": {"head": 96.0, "blocks.0": 16.0},
        "quality_retained": {"head": 0.96, "blocks.0": 0.97},
        "quality_retained_low": {"head": 0.94, "blocks.0": 0.95},  # the bootstrap interval's lower end
        "model_bytes_reduction": {"head": 0.0, "blocks.0": 0.4},  # 600 of 1000 parameters
        "flops_reduction": {"head": 0.0, "blocks.0": 0.4},
        "store_bytes_reduction": {"head": 0.75, "blocks.0": None},  # 96 of 384 dims; a Linear has no store
        "latency_change": {"head": -0.2, "blocks.0": -0.2},  # p50 8 ms against 10 ms in the same runs
        "money_saved_per_month": {"head": 2.0, "blocks.0": 2.0},  # 10 - 8 a month
        "compression_at_95": {"blocks.0": 4.5},
        "knee_compression": {"blocks.0": 5.0},
        "knee_retained": {"blocks.0": 0.97},
    }
    assert observed("store_bytes_reduction", result, layers=("he*",)) == {"head": 0.75}  # globs select targets


def test_a_rule_on_the_lower_bound_fails_a_floor_the_mean_alone_passes():
    """0.96 retained passes a 0.95 floor; its interval's lower end, 0.94, does not."""
    result = crafted(embedding_width=96, retained=0.96).to_dict()
    on_mean = Rule(id="r", metric="quality_retained", layers=("head",), must_be=">=", threshold=0.95, message="m")
    on_low = on_mean.model_copy(update={"metric": "quality_retained_low"})
    assert evaluate_rule(on_mean, result).status == "PASS" and evaluate_rule(on_low, result).status == "FAIL"


def test_a_target_without_a_recommendation_has_no_savings():
    result = crafted(embedding_width=None)
    assert observed("resize_recommended", result) == {"head": 0.0, "blocks.0": 1.0}
    for figure in COST_FIGURES[1:]:
        assert observed(figure, result, layers=("head",)) == {"head": None}, figure
    rule = Rule(id="r", metric="quality_retained", layers=("head",), must_be=">=", threshold=0.9, message="m")
    assert evaluate_rule(rule, result.to_dict()).status == "ERROR"  # missing: error, the default
    assert evaluate_rule(rule.model_copy(update={"missing": "pass"}), result.to_dict()).status == "PASS"
    assert observed("compression_at_95", crafted(compression_95=None)) == {"blocks.0": None}  # 95% never reached


def test_the_detail_says_which_values_were_not_measured():
    def detail(figure: str, result: AuditResult, **rule) -> str:
        return evaluate_rule(Rule(id="r", metric=figure, must_be="<=", threshold=0.5, message="m", missing="pass",
                                  **rule), result.to_dict()).detail

    assert detail("store_bytes_reduction", crafted()) == "head: 0.3333, <= 0.5 (2 of 2 PASS)"  # not blocks.0's None
    assert detail("store_bytes_reduction", crafted(embedding_width=None)) == \
        "2 values, all not measured (missing: pass)"
    assert detail("model_bytes_reduction", crafted(embedding_width=None)) == "blocks.0: 0.2, <= 0.5 (2 of 2 PASS)"
    assert detail("model_bytes_reduction", crafted()) == "all 2 values <= 0.5"
    two = crafted(embedding_width=96)
    assert detail("model_bytes_reduction", two.with_stages(cost=dataclasses.replace(
        two.cost, targets=(*two.cost.targets, _target("extra", "linear", 64, None))))) == \
        "all 2 values <= 0.5 (1 not measured, missing: pass)"


NOT_COMPUTED = CostResult(status="not_computed", reason="not a torch module", targets=(), settings=cost_settings(),
                          quality_floor=0.95)


ABSENT = [("cost", figure, absent) for figure in COST_FIGURES for absent in (None, NOT_COMPUTED)] + \
         [("sweep", figure, None) for figure in SWEEP_FIGURES]


@pytest.mark.parametrize("section, figure, absent", ABSENT,
                         ids=[f"{figure}-{'none' if absent is None else 'not-computed'}" for _, figure, absent in ABSENT])
def test_no_cost_or_sweep_section_is_a_missing_figure(section, figure, absent):
    result = crafted().with_stages(**{section: absent})
    outcomes = {missing: evaluate_rule(Rule(id="r", metric=figure, must_be=">=", threshold=0, message="m",
                                            missing=missing), result.to_dict()) for missing in ("error", "pass", "warn")}
    assert {missing: o.status for missing, o in outcomes.items()} == {"error": "ERROR", "pass": "PASS", "warn": "WARN"}
    assert outcomes["error"].detail == "nothing selected (missing: error)"


def write_pack(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(text)
    return path


RULE = "- id: r\n  {key}: {value}\n  must_be: '<='\n  threshold: 1\n  message: m\n"


def test_an_exception_inside_a_rule_is_an_error_outcome_not_a_crash(tmp_path):
    pack = load_pack(write_pack(tmp_path, RULE.format(key="path", value="title") +
                                RULE.replace("id: r", "id: change").format(key="metric", value="accuracy")
                                .replace("message: m", "message: m\n  change: relative") +
                                RULE.replace("id: r", "id: fine").format(key="metric", value="warnings")))
    verdict = evaluate(Gate(packs=(pack,)), crafted().to_dict())
    by_rule = {o.rule: o for o in verdict.outcomes}
    assert by_rule["r"].status == "ERROR" and by_rule["r"].detail.startswith("TypeError: not a number: a str")
    assert by_rule["change"].status == "ERROR" and "needs a baseline audit" in by_rule["change"].detail
    assert by_rule["fine"].status == "PASS"  # the other rules still ran
    assert verdict.status == "ERROR" and not verdict.passed  # an ERROR fails the gate


def test_a_path_reaches_any_value_and_globs_select_layers(tmp_path):
    text = ("- id: upper\n  path: layers.*.metrics.twonn.ci_high\n  layers: ['blocks.*']\n"
            "  must_be: '<'\n  threshold: 45\n  message: m\n")
    rule = load_pack(write_pack(tmp_path, text)).rules[0]
    found = evaluate_rule(rule, crafted(hidden_id=42.0).to_dict())
    assert [(o.target, round(o.value, 6)) for o in found.observations] == [("blocks.0", 46.2)]  # head (66) not selected
    assert found.status == "FAIL"


def test_relative_change_is_measured_against_the_baseline(tmp_path):
    text = RULE.format(key="metric", value="id").replace("message: m", "message: m\n  change: relative\n  role: hidden")
    rule = load_pack(write_pack(tmp_path, text.replace("threshold: 1", "threshold: 0.1"))).rules[0]
    found = evaluate_rule(rule, crafted(hidden_id=50.0).to_dict(), baseline=crafted(hidden_id=40.0).to_dict())
    (observation,) = found.observations
    assert observation.baseline == 40.0 and observation.value == pytest.approx(0.25) and found.status == "FAIL"


@pytest.mark.parametrize("text, where, what", [
    (RULE.format(key="metric", value="twon"), ":2: [0].metric", "unknown metric 'twon'; did you mean 'twonn'?"),
    (RULE.format(key="metric", value="redundancy").replace("must_be", "mustbe"), ":3: [0].mustbe",
     "unknown key 'mustbe'; did you mean 'must_be'?"),
    (RULE.format(key="path", value="cots.savings"), ":2: [0].path", "audit.json has no key 'cots'"),
    (RULE.format(key="metric", value="id").replace("'<='", "'=<'"), ":3: [0].must_be", "Input should be '<', '<='"),
    ("name: p\nrules:\n" + "  " + RULE.format(key="metric", value="id").replace("\n  ", "\n    ").replace("threshold: 1", "threshold: x"),
     ":6: rules[0].threshold", "Input should be a valid number"),
])
def test_bad_policy_files_name_the_line_and_key(tmp_path, text, where, what):
    path = write_pack(tmp_path, text)
    with pytest.raises(SpecError) as raised:
        load_pack(path)
    assert raised.value.where == f"{path}{where}"
    assert raised.value.what.startswith(what)


def test_junit_validates_against_the_junit_schema_with_each_outcome(tmp_path):
    text = "".join(RULE.replace("id: r", f"id: {name}").format(key="path", value=path) + extra
                   for name, path, extra in (("passes", "warnings", ""), ("fails", "model.n_parameters", ""),
                                             ("warns", "model.n_parameters", "  severity: warn\n"),
                                             ("errors", "title", "")))
    result = dataclasses.replace(crafted(), title="crafted \x00 <&> model")  # NUL cannot be in XML at all
    for fail_on, failures in (("fail", 1), ("warn", 2)):
        verdict = evaluate(Gate(packs=(load_pack(write_pack(tmp_path, text)),), fail_on=fail_on), result.to_dict())
        document = junit.render(dataclasses.replace(result, verdict=verdict))
        schema = xmlschema.XMLSchema(JUNIT_XSD)
        schema.validate(document.decode("utf-8"))
        suite = schema.to_dict(document.decode("utf-8"))["testsuite"][0]
        assert [case["@name"] for case in suite["testcase"]] == ["passes", "fails", "warns", "errors"]
        assert (suite["@tests"], suite["@failures"], suite["@errors"]) == (4, failures, 1)


def test_markdown_summary_fits_the_step_summary_cap(tmp_path):
    many = "".join(RULE.replace("id: r", f"id: rule-{i}").format(key="metric", value="warnings") for i in range(300))
    verdict = evaluate(Gate(packs=(load_pack(write_pack(tmp_path, many)),)), crafted().to_dict())
    title = "crafted"
    whole = markdown.verdict_markdown(verdict, title)
    assert whole.count("\n| ") == 301  # the header and every rule
    cut = markdown.verdict_markdown(verdict, title, limit=4000)
    assert len(cut.encode()) <= 4000 and "more rules left out" in cut and cut.startswith(whole[:200])
    summary = tmp_path / "step_summary.md"
    summary.write_bytes(b"x" * (markdown.STEP_SUMMARY_LIMIT - 3000))
    assert markdown.append_step_summary(verdict, title, summary)
    assert summary.stat().st_size <= markdown.STEP_SUMMARY_LIMIT
    assert not markdown.append_step_summary(verdict, title, summary)  # no room left for even the headline


def test_readme_documents_every_rule_key_figure_and_stock_pack():
    from audit.policy import PolicyPack, Rule, derived_figures

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Policies and CI gates"): readme.index("## The estimators")]
    missing = [f"{key}:" for key in (*Rule.model_fields, *PolicyPack.model_fields) if f"{key}:" not in section]
    missing += [f"`{name}`" for name in (*derived_figures(), *stock_packs()) if f"`{name}`" not in section]
    assert not missing, f"README's policy section does not document {missing}"


def test_gate_reads_stock_packs_by_name_and_a_baseline_file(tmp_path):
    import json

    from audit.errors import SourceError
    from audit.policy import gate_for

    baseline = tmp_path / "base.json"
    baseline.write_text(json.dumps(crafted(accuracy=0.95).to_dict()))
    gate = gate_for(None, policies=["regression"], baseline=str(baseline))
    verdict = evaluate(gate, crafted(accuracy=0.90).to_dict())
    assert verdict.baseline == str(baseline) and not verdict.passed
    assert {o.rule: o.status for o in verdict.outcomes}["accuracy-kept"] == "FAIL"
    baseline.write_text('{"not": "an audit"}')
    with pytest.raises(SourceError, match="not an audit.json"):
        gate_for(None, policies=["regression"], baseline=str(baseline))


def test_an_unknown_metric_is_the_only_problem_reported(tmp_path):
    path = write_pack(tmp_path, RULE.format(key="metric", value="redundency_rate"))
    with pytest.raises(SpecError) as raised:
        load_pack(path)
    assert str(raised.value) == f"{path}:2: [0].metric: unknown metric 'redundency_rate'; did you mean 'redundancy_rate'?"

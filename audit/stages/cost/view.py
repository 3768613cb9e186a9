"""Section: the cost of resizing. Per target (the output embedding, each factorized Linear layer)
a savings table (width -> model size, FLOPs, vector store, ONNX latency, money, quality kept),
the recommendation with its evidence and the method; one figure of quality against size; the
settings the numbers depend on; and the executive summary's sentence."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...render import plots
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView
from ...render.view.format import NONE, breakable, fmt_bounds, fmt_bytes, fmt_flops, fmt_int, fmt_latency, fmt_money, fmt_pct
from ...render.view.model import KEEP_ROWS, Fact, PageDecision
from . import result as results
from .pareto_view import pareto_figure
from .recommend import FINDING

__all__ = ["CostView", "CostTargetView", "CostRowView", "Cell", "build", "finding"]

_NO_SPEC = Markup("Not computed: the spec has no <code>cost</code> section (add one to cost resizing the output "
                  "embedding and factorizing Linear layers; see the README).")
_KIND = {"embedding": "output embedding, reduced by PCA", "linear": "Linear layer, factorized by truncated SVD",
         "quantized": "the whole model, quantized by ONNX Runtime's tools (cost.quantize)",
         "drop_layers": "a layer stack, blocks dropped (cost.drop_layers)"}
_WIDTH_HEADER = {"embedding": "Width", "linear": "Rank", "quantized": "Output width", "drop_layers": "Blocks kept"}


@dataclass(frozen=True)
class Cell:
    value: str
    change: str = ""  # against the original, e.g. "−35%"


@dataclass(frozen=True)
class CostRowView:
    width: str
    sources: str
    original: bool
    recommended: bool
    model: Cell
    flops: Cell
    store: Cell
    latency: Cell
    money: Cell
    quality: Cell


@dataclass(frozen=True)
class CostTargetView:
    name: Markup
    kind: str
    width_header: str
    model_header: str
    quality_header: str
    latency_header: str
    store_header: str
    recommendation: str
    method: str
    rows: tuple[CostRowView, ...]
    show_store: bool
    show_money: bool
    timing_note: str
    keep_table: bool


@dataclass(frozen=True)
class CostView:
    missing: Markup | str
    intro: Markup
    facts: tuple[Fact, ...]
    targets: tuple[CostTargetView, ...]
    figure: FigureView | None
    pareto: FigureView | None = None


def build(ctx: ReportContext) -> CostView:
    cost = ctx.result.cost
    if cost is None:
        return CostView(_NO_SPEC, Markup(), (), (), None)
    facts = _facts(cost.settings)
    if cost.status != "ok":
        return CostView(f"Not computed: {cost.reason}.", Markup(), facts, (), None)
    return CostView(missing="", intro=_intro(cost), facts=facts,
                    targets=tuple(_target(target, cost.settings) for target in cost.targets),
                    figure=_figure(ctx, cost), pareto=pareto_figure(ctx, cost))


def _intro(cost: results.CostResult) -> Markup:
    return Markup(
        "Each candidate width is built for real and measured as a whole model: the output embedding projected by "
        "PCA to k dimensions, or one Linear layer factorized at rank r. Candidates come from the measurements "
        "(ID with a safety margin, effective rank, PCA at 95% and 99% of the variance) and the spec. Whole-model "
        "variants are measured the same way: the model quantized by ONNX Runtime's tools (cost.quantize, alone "
        "and at each recommended width or rank) and the model without blocks of a layer stack "
        "(cost.drop_layers). Changes are "
        "against the original row; the recommended row (bold) is the smallest keeping at least {floor} of the "
        "quality. Quality is measured on the probe samples held out from every fit (the PCA never saw them), "
        "with its 95% bootstrap interval over them in brackets. A variant's latency reads the original's p50 "
        "and the variant's p50 from the same turns (the two are timed run by run, in turns, so that load on the "
        "machine falls on both alike), then the change with its 95% bootstrap interval over those turns; the "
        "original's own row was timed alone.").format(floor=fmt_pct(cost.quality_floor))


def _facts(settings: results.CostSettings) -> tuple[Fact, ...]:
    shape = f"{fmt_int(settings.batch_size)} samples"
    if settings.sequence_length:
        shape += f" \u00d7 {fmt_int(settings.sequence_length)} tokens"
    prices = settings.prices
    currency = prices.get("currency", "")
    priced = [f"storage {fmt_money(prices['storage_per_gb_month'], currency)} per GB-month"
              if prices.get("storage_per_gb_month") is not None else "",
              f"compute {fmt_money(prices['compute_per_hour'], currency)} per hour"
              if prices.get("compute_per_hour") is not None else ""]
    facts = [
        Fact("Stored vectors (N)", fmt_int(settings.stored_vectors) if settings.stored_vectors else
             "not given", detail=f"as {settings.store_dtype}" if settings.stored_vectors else ""),
        Fact("Queries per month", fmt_int(settings.queries_per_month) if settings.queries_per_month
             is not None else "not given"),
        Fact("Prices", "; ".join(p for p in priced if p) or "none given: no money is shown"),
        Fact("ONNX timing", shape if settings.measured else "not measured (cost.measure: false)",
             detail=(f"{fmt_int(settings.warmup)} warm-up + {fmt_int(settings.repeats)} timed runs, "
                     f"{fmt_int(settings.threads)} intra-op thread(s); ONNX Runtime "
                     f"{settings.onnxruntime or NONE}") if settings.measured else ""),
        Fact("Exporter", str(settings.exporter)),
        Fact("FLOPs", str(settings.flop_counter)),
    ]
    return tuple(facts)


def _target(target: results.CostTarget, settings: results.CostSettings) -> CostTargetView:
    rows = (target.original, *target.candidates)
    errors = sorted({row.timing_error for row in rows if row.timing_error})
    return CostTargetView(
        name=breakable(target.name), kind=_KIND.get(target.kind, target.kind),
        width_header=_WIDTH_HEADER.get(target.kind, "Width"),
        model_header="ONNX file bytes" if target.kind == "quantized" else "Model bytes, float32",
        quality_header=_quality_header(target.original.quality),
        latency_header="ONNX latency p50" if target.original.timing is None or not target.candidates else
        "ONNX latency p50, original \u2192 variant",
        store_header=f"Vector store, {fmt_int(settings.stored_vectors)} × {settings.store_dtype}",
        recommendation=target.recommendation, method=target.method,
        rows=tuple(_row(row, target) for row in rows),
        show_store=target.original.store_bytes is not None,
        show_money=any(row.money is not None for row in rows),
        timing_note="; ".join(errors), keep_table=len(rows) <= KEEP_ROWS,
    )


def _row(row: results.CostRow, target: results.CostTarget) -> CostRowView:
    base, original = target.original, row is target.original
    money = row.money.total_per_month if row.money else None
    recommended = row.variant == target.recommended_variant if row.variant is not None else \
        target.recommended == row.width
    proposed = ", ".join(row.sources)
    return CostRowView(
        width=fmt_int(row.width), sources=proposed if row.variant in (None, proposed) else f"{row.variant}; {proposed}",
        original=original,
        recommended=recommended and not original, model=_model_cell(row, base, original),
        flops=Cell(fmt_flops(row.flops_per_sample), _change(row.flops_per_sample, base.flops_per_sample, original)),
        store=Cell(fmt_bytes(row.store_bytes) if row.store_bytes is not None else NONE,
                   ", ".join(filter(None, (f"search {fmt_flops(row.search_flops_per_query)}/query"
                                           if row.search_flops_per_query else "",
                                           _change(row.store_bytes, base.store_bytes, original))))),
        latency=_latency(row.timing, original),
        money=Cell(fmt_money(money, row.money.currency) if row.money else NONE,
                   _change(money, base.money.total_per_month if base.money else None, original)),
        quality=_quality(row.quality, original),
    )


def _model_cell(row: results.CostRow, base: results.CostRow, original: bool) -> Cell:
    """The model's size: the ONNX file's bytes on disk for a quantized target, else float32 bytes."""
    if base.file_bytes is not None:
        return Cell(fmt_bytes(row.file_bytes) if row.file_bytes is not None else NONE,
                    _change(row.file_bytes, base.file_bytes, original))
    return Cell(fmt_bytes(row.model_bytes["float32"]), _change(row.model_bytes["float32"], base.model_bytes["float32"],
                                                               original))


def _change(value, reference, original: bool) -> str:
    if original or value is None or not reference:
        return ""
    return _signed(value / reference - 1)


def _signed(change: float) -> str:
    """A change in whole percent with its sign; a change that rounds to 0 reads +0%, never -0%."""
    return f"{round(change * 100) + 0:+d}%".replace("-", "\u2212")


def _latency(timing: results.Timing | None, original: bool) -> Cell:
    """The original's p50 timed alone; a variant's p50 beside the original's from the same turns,
    and the paired change with its bootstrap interval over those turns."""
    if timing is None:
        return Cell(NONE)
    if original or not timing.reference_p50_s:
        return Cell(fmt_latency(timing.p50_s), f"p95 {fmt_latency(timing.p95_s)}, timed alone")
    return Cell(f"{fmt_latency(timing.reference_p50_s)} \u2192 {fmt_latency(timing.p50_s)}",
                f"{_paired_change(timing)} over {fmt_int(timing.repeats)} turns")


def _paired_change(timing: results.Timing) -> str:
    """A variant's p50 change against the original in the same turns, with its interval: ``+8% [+6%, +11%]``."""
    spread = "" if timing.p50_change_low is None else \
        f" [{_signed(timing.p50_change_low)}, {_signed(timing.p50_change_high)}]"
    return f"{_signed(timing.p50_change)}{spread}"


def _pct1(value: float | None) -> str:
    return fmt_pct(value, 1)


def _quality(quality: results.Quality | None, original: bool) -> Cell:
    """Quality kept with its bootstrap interval (none on the original row: 100% by definition),
    and the second figure beside it: the cosine correlation, or the accuracy with its interval."""
    if quality is None:
        return Cell(NONE)
    details = quality.details
    if "cosine_correlation" in details:
        detail = f"cosine r {details['cosine_correlation']:.3f}"
    elif "accuracy" in details:
        detail = " ".join(filter(None, (f"accuracy {_pct1(details['accuracy'])}", fmt_bounds(
            details.get("accuracy_ci_low"), details.get("accuracy_ci_high"), _pct1))))
    else:
        detail = ""
    interval = "" if original else fmt_bounds(quality.ci_low, quality.ci_high, _pct1)
    return Cell(" ".join(filter(None, (_pct1(quality.retained), interval))), detail)


def _quality_header(quality: results.Quality | None) -> str:
    if quality is None:
        return "Quality kept"
    name = quality.measure[:1].upper() + quality.measure[1:]
    return name if quality.n_samples is None else f"{name} ({fmt_int(quality.n_samples)} held out)"


def _figure(ctx: ReportContext, cost: results.CostResult) -> FigureView | None:
    targets = [target for target in cost.targets if target.candidates and target.kind != "quantized"]
    if not targets:  # quantized rows all have the original's width: they are in their table, not on this chart
        return None
    curves, chosen = [], []
    for target in targets:
        rows = sorted((*target.candidates, target.original),  # at one width, the recommended variant first: it is ringed
                      key=lambda row: (row.width, row.variant != target.recommended_variant))
        qualities = [row.quality for row in rows]
        curves.append(plots.Curve(label=target.name, x=[row.width / target.width for row in rows],
                                  y=[q.retained if q else None for q in qualities],
                                  lows=[q.ci_low if q else None for q in qualities],
                                  highs=[q.ci_high if q else None for q in qualities]))
        chosen.append(_chosen_width(target) / target.width if _chosen_width(target) else None)
    svg = plots.quality_vs_size(curves, cost.quality_floor, chosen)
    caption = ("Quality kept against size: each target's candidate widths (or ranks, or blocks kept) as a share of "
               "the original, with the quality each keeps (recall@k for an embedding, accuracy relative to the original with "
               "labels, else the mean cosine of outputs) on the held-out samples, with its 95% bootstrap interval as "
               "an error bar. The dashed line is the quality floor; a ring marks each target's recommended width.")
    return ctx.figures.add("cost", svg, caption, "Line chart of quality retained against relative width per target")


def _chosen_width(target: results.CostTarget) -> int | None:
    """The recommended row's width: a layer-dropping target's is its recommended variant's blocks kept."""
    if target.recommended_variant is None:
        return target.recommended
    return next(row.width for row in target.candidates if row.variant == target.recommended_variant)


def decision(ctx: ReportContext) -> PageDecision | None:
    """What page 1 leads with when the cost stage measured a recommendation: every recommended
    width, rank or variant with the quality it keeps (held out, with its interval) and what it
    saves, then one line naming the measured variants slower than the original."""
    cost = ctx.result.cost
    if cost is None or cost.status != "ok":
        return None
    steps = [_step(target) for target in _recommending(cost)]
    slower = _slower_line(cost)
    note = (f"Measured in Section {ctx.section_number('cost')}: quality on held-out probe samples with its interval; "
            "latency paired with the original in the same runs.")
    return PageDecision(tuple(steps) + ((slower,) if slower else ()), note) if steps else None


def _recommending(cost: results.CostResult) -> list[results.CostTarget]:
    return [target for target in cost.targets if target.recommended is not None or target.recommended_variant]


def _step(target: results.CostTarget) -> str:
    """A target's recommendation without its slower-variant findings (page 1 gathers those)."""
    return target.recommendation.partition(f" {FINDING}")[0].removeprefix("Recommended: ")


def _slower_line(cost: results.CostResult) -> str:
    """One finding naming each measured variant of the whole model (quantized, layers dropped)
    whose ONNX p50 is above the original's in the same turns, with the change and its interval."""
    rows = [row for target in cost.targets if target.kind in results.WHOLE_MODEL_KINDS for row in target.candidates
            if row.timing and row.timing.p50_change is not None and row.timing.p50_change > 0]
    if not rows:
        return ""
    changes = ", ".join(f"{row.variant} {_paired_change(row.timing)}" for row in rows)
    return f"{FINDING}{len(rows)} measured variant{'s are' if len(rows) > 1 else ' is'} slower than the original " \
           f"(ONNX p50 in the same turns): {changes}."


def finding(ctx: ReportContext) -> Markup | None:
    """The executive summary's sentence on resizing, None without a cost section."""
    cost = ctx.result.cost
    if cost is None:
        return None
    section = ctx.section_number("cost")
    if cost.status != "ok":
        return Markup("The cost of resizing was not computed: {reason} (Section {section}).").format(
            reason=cost.reason, section=section)
    chosen = [_step(target) for target in _recommending(cost)]
    if not chosen:
        return Markup("No candidate width or variant keeps {floor} of the quality; the cost analysis is in Section "
                      "{section}.").format(floor=fmt_pct(cost.quality_floor), section=section)
    first = chosen[0][:1].upper() + chosen[0][1:]
    return Markup("{first} (Section {section}{more}).").format(
        first=first.rstrip("."), section=section,
        more=f"; {len(chosen) - 1} more recommendation{'s' if len(chosen) > 2 else ''} there" if len(chosen) > 1 else "")

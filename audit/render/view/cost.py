"""Section: the cost of resizing. Per target (the output embedding, each factorized Linear layer)
a savings table (width -> model size, FLOPs, vector store, ONNX latency, money, quality kept),
the recommendation with its evidence and the method; one figure of quality against size; the
settings the numbers depend on; and the executive summary's sentence."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ... import results
from .. import plots
from .context import ReportContext
from .figures import FigureView
from .format import NONE, breakable, fmt_bytes, fmt_flops, fmt_int, fmt_latency, fmt_money, fmt_pct
from .model import KEEP_ROWS, Fact

__all__ = ["CostView", "CostTargetView", "CostRowView", "Cell", "build", "finding"]

_NO_SPEC = Markup("Not computed: the spec has no <code>cost</code> section (add one to cost resizing the output "
                  "embedding and factorizing Linear layers; see the README).")
_KIND = {"embedding": "output embedding, reduced by PCA", "linear": "Linear layer, factorized by truncated SVD"}


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
    quality_header: str
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


def build(ctx: ReportContext) -> CostView:
    cost = ctx.result.cost
    if cost is None:
        return CostView(_NO_SPEC, Markup(), (), (), None)
    facts = _facts(cost.settings)
    if cost.status != "ok":
        return CostView(f"Not computed: {cost.reason}.", Markup(), facts, (), None)
    return CostView(missing="", intro=_intro(cost), facts=facts,
                    targets=tuple(_target(target, cost.settings) for target in cost.targets),
                    figure=_figure(ctx, cost))


def _intro(cost: results.CostResult) -> Markup:
    return Markup(
        "Each candidate width is built for real and measured as a whole model: the output embedding projected by "
        "PCA to k dimensions, or one Linear layer factorized at rank r. Candidates come from the measurements "
        "(ID with a safety margin, effective rank, PCA at 95% and 99% of the variance) and the spec. Changes are "
        "against the original row; the recommended row (bold) is the smallest keeping at least {floor} of the "
        "quality. A variant's latency change is against the original timed in turns with it, run by run, so "
        "that load on the machine falls on both alike.").format(floor=fmt_pct(cost.quality_floor))


def _facts(settings: dict) -> tuple[Fact, ...]:
    shape = f"{fmt_int(settings.get('batch_size'))} samples"
    if settings.get("sequence_length"):
        shape += f" \u00d7 {fmt_int(settings['sequence_length'])} tokens"
    prices = settings.get("prices") or {}
    currency = prices.get("currency", "")
    priced = [f"storage {fmt_money(prices['storage_per_gb_month'], currency)} per GB-month"
              if prices.get("storage_per_gb_month") is not None else "",
              f"compute {fmt_money(prices['compute_per_hour'], currency)} per hour"
              if prices.get("compute_per_hour") is not None else ""]
    facts = [
        Fact("Stored vectors (N)", fmt_int(settings.get("stored_vectors")) if settings.get("stored_vectors") else
             "not given", detail=f"as {settings.get('store_dtype')}" if settings.get("stored_vectors") else ""),
        Fact("Queries per month", fmt_int(settings.get("queries_per_month")) if settings.get("queries_per_month")
             is not None else "not given"),
        Fact("Prices", "; ".join(p for p in priced if p) or "none given: no money is shown"),
        Fact("ONNX timing", shape if settings.get("measured") else "not measured (cost.measure: false)",
             detail=(f"{fmt_int(settings.get('warmup'))} warm-up + {fmt_int(settings.get('repeats'))} timed runs, "
                     f"{fmt_int(settings.get('threads'))} intra-op thread(s); ONNX Runtime "
                     f"{settings.get('onnxruntime') or NONE}") if settings.get("measured") else ""),
        Fact("Exporter", str(settings.get("exporter", NONE))),
        Fact("FLOPs", str(settings.get("flop_counter", NONE))),
    ]
    return tuple(facts)


def _target(target: results.CostTarget, settings: dict) -> CostTargetView:
    rows = (target.original, *target.candidates)
    errors = sorted({row.timing_error for row in rows if row.timing_error})
    return CostTargetView(
        name=breakable(target.name), kind=_KIND.get(target.kind, target.kind),
        width_header="Width" if target.kind == "embedding" else "Rank",
        quality_header=_quality_header(target.original.quality),
        store_header=f"Vector store, {fmt_int(settings.get('stored_vectors'))} × {settings.get('store_dtype')}",
        recommendation=target.recommendation, method=target.method,
        rows=tuple(_row(row, target) for row in rows),
        show_store=target.original.store_bytes is not None,
        show_money=any(row.money is not None for row in rows),
        timing_note="; ".join(errors), keep_table=len(rows) <= KEEP_ROWS,
    )


def _row(row: results.CostRow, target: results.CostTarget) -> CostRowView:
    base, original = target.original, row is target.original
    p50_change = _change(row.timing and row.timing.p50_s, row.timing and row.timing.reference_p50_s, original)
    money = row.money.total_per_month if row.money else None
    return CostRowView(
        width=fmt_int(row.width), sources=", ".join(row.sources), original=original,
        recommended=target.recommended == row.width and not original,
        model=Cell(fmt_bytes(row.model_bytes["float32"]), _change(row.model_bytes["float32"],
                                                                   base.model_bytes["float32"], original)),
        flops=Cell(fmt_flops(row.flops_per_sample), _change(row.flops_per_sample, base.flops_per_sample, original)),
        store=Cell(fmt_bytes(row.store_bytes) if row.store_bytes is not None else NONE,
                   ", ".join(filter(None, (f"search {fmt_flops(row.search_flops_per_query)}/query"
                                           if row.search_flops_per_query else "",
                                           _change(row.store_bytes, base.store_bytes, original))))),
        latency=Cell(fmt_latency(row.timing.p50_s), ", ".join(filter(None, (f"p95 {fmt_latency(row.timing.p95_s)}",
                                                                           p50_change))))
        if row.timing else Cell(NONE),
        money=Cell(fmt_money(money, row.money.currency) if row.money else NONE,
                   _change(money, base.money.total_per_month if base.money else None, original)),
        quality=_quality(row.quality),
    )


def _change(value, reference, original: bool) -> str:
    if original or value is None or not reference:
        return ""
    return f"{(value / reference - 1) * 100:+.0f}%".replace("-", "\u2212")


def _quality(quality: results.Quality | None) -> Cell:
    if quality is None:
        return Cell(NONE)
    details = quality.details
    if "cosine_correlation" in details:
        detail = f"cosine r {details['cosine_correlation']:.3f}"
    elif "accuracy" in details:
        detail = f"accuracy {fmt_pct(details['accuracy'], 1)}"
    else:
        detail = ""
    return Cell(fmt_pct(quality.retained, 1), detail)


def _quality_header(quality: results.Quality | None) -> str:
    return "Quality kept" if quality is None else quality.measure[:1].upper() + quality.measure[1:]


def _figure(ctx: ReportContext, cost: results.CostResult) -> FigureView | None:
    targets = [target for target in cost.targets if target.candidates]
    if not targets:
        return None
    curves, chosen = [], []
    for target in targets:
        rows = sorted((*target.candidates, target.original), key=lambda row: row.width)
        curves.append(plots.Curve(label=target.name, x=[row.width / target.width for row in rows],
                                  y=[row.quality.retained if row.quality else None for row in rows]))
        chosen.append(target.recommended / target.width if target.recommended else None)
    svg = plots.quality_vs_size(curves, cost.quality_floor, chosen)
    caption = ("Quality kept against size: each target's candidate widths (or ranks) as a share of the original, "
               "with the quality each keeps (recall@k for an embedding, accuracy relative to the original with "
               "labels, else the mean cosine of outputs). The dashed line is the quality floor; a ring marks each "
               "target's recommended width.")
    return ctx.figures.add("cost", svg, caption, "Line chart of quality retained against relative width per target")


def finding(ctx: ReportContext) -> Markup | None:
    """The executive summary's sentence on resizing, None without a cost section."""
    cost = ctx.result.cost
    if cost is None:
        return None
    section = ctx.section_number("cost")
    if cost.status != "ok":
        return Markup("The cost of resizing was not computed: {reason} (Section {section}).").format(
            reason=cost.reason, section=section)
    chosen = [target.recommendation for target in cost.targets if target.recommended is not None]
    if not chosen:
        return Markup("No candidate width keeps {floor} of the quality; the cost analysis is in Section {section}.").format(
            floor=fmt_pct(cost.quality_floor), section=section)
    return Markup("{first} (Section {section}{more}).").format(
        first=chosen[0].rstrip("."), section=section,
        more=f"; {len(chosen) - 1} more recommendation{'s' if len(chosen) > 2 else ''} there" if len(chosen) > 1 else "")

"""Section 1: the executive summary (lead, findings on the layers, then on the attention heads and
token embeddings, notes, warnings, overview table, width figure)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from .. import plots
from .._numbers import finite
from .context import ReportContext
from .figure_book import FigureView
from .findings import findings
from .format import fmt_common_level, fmt_dim, fmt_int, plural
from .model import KEEP_ROWS
from .notes import accuracy_note, settled_note, warnings
from .overview import OverviewRow, id_header, linear_header, overview_rows
from .stage_summary import page_decision, stage_findings

__all__ = ["SummaryView", "build"]


@dataclass(frozen=True)
class SummaryView:
    decision: tuple[str, ...]
    decision_note: str
    lead: Markup
    findings: tuple[Markup, ...]
    advice: str
    part_findings: tuple[Markup, ...]
    notes: tuple[Markup, ...]
    warnings: tuple[str, ...]
    all_clear: str
    id_header: str
    linear_header: str
    rows: tuple[OverviewRow, ...]
    keep_table: bool
    figure: FigureView | None
    missing: str


def build(ctx: ReportContext) -> SummaryView:
    found = tuple(warnings(ctx))
    rows = overview_rows(ctx)
    level = fmt_common_level(ctx.primary_metric(layer) for layer in ctx.result.layers)
    decided = page_decision(ctx)
    return SummaryView(
        decision=decided[1].steps if decided else (),
        decision_note=decided[1].note if decided else "",
        lead=_lead(ctx),
        findings=tuple(findings(ctx)),
        advice=_advice(sum(row.candidate for row in rows)),
        part_findings=tuple(stage_findings(ctx)),
        notes=tuple(note for note in (accuracy_note(ctx), settled_note(ctx)) if note),
        warnings=found,
        all_clear="" if found else "No warnings: every selected metric ran on every layer, on all its points, none of them duplicates.",
        id_header=id_header(ctx, level),
        linear_header=linear_header(ctx),
        rows=rows,
        keep_table=len(rows) <= KEEP_ROWS,
        figure=_usage_figure(ctx, level),
        missing="" if ctx.result.primary_id else
        "No intrinsic-dimension metric was selected, so no redundancy rates are reported.",
    )


def _lead(ctx: ReportContext) -> Markup:
    result = ctx.result
    lead = Markup(
        "This audit measured <strong>{layers}</strong> of <strong>{title}</strong> ({params} parameters) "
        "on {n} probe points from <code>{probe}</code>. The intrinsic dimension (ID) of a layer is the "
        "number of coordinates its activations need locally; set against the layer's width it shows "
        "how much of that width the data occupies. "
    ).format(
        layers=plural(len(result.layers), "layer"), title=result.title, params=fmt_int(result.model.n_parameters),
        n=fmt_int(result.probe.n_samples), probe=result.probe.source,
    )
    if result.primary_id:
        lead += Markup("Primary ID estimate: {metric}; redundancy rate = 1 \u2212 ID / width.").format(
            metric=ctx.primary_title)
    return lead


def _advice(candidates: int) -> str:
    if not candidates:
        return ""
    return (("This layer is a candidate" if candidates == 1 else "These layers are candidates")
            + " for a narrower width or a low-rank factorization. ID describes the activations on this probe, "
            "not what the model needs to keep its accuracy: confirm with the cost analysis and an accuracy "
            "check of the resized model before changing it.")


def _usage_figure(ctx: ReportContext, level: str) -> FigureView | None:
    layers = ctx.result.layers
    metrics = [ctx.primary_metric(layer) for layer in layers]
    if not any(metrics):
        return None

    def shares(attribute: str) -> list[float | None]:
        values = [getattr(metric, attribute) if metric else None for metric in metrics]
        return [value / layer.width if finite(value) else None for value, layer in zip(values, layers)]

    notes = ["not computed" if metric is None else f"{fmt_dim(metric.value)} of {layer.width:,}"
             for metric, layer in zip(metrics, layers)]
    svg = plots.width_usage([ctx.figures.label(layer.name) for layer in layers], shares("value"), shares("ci_low"),
                            shares("ci_high"), notes, [layer.is_output or bool(layer.task_fixed) for layer in layers])
    caption = (f"Share of each layer's width accounted for by its {ctx.primary_title} (ID / width), "
               f"with the {level or 'reported'} interval of the estimate; labels give ID and width. "
               "The redundancy rate is the rest of the bar's length to 100%. Output and task-fixed layers are "
               "grey: their width is set by the task (classes, vocabulary), so what it leaves unused is not redundancy."
               + ctx.figures.prefix_note())
    return ctx.figures.add("usage", svg, caption, "Bar chart of ID divided by width for each layer")

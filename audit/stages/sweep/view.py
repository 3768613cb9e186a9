"""Section: the low-rank factorization sweep (score against rank per group, its monotone PCHIP
fit, the knee and the ranks that keep 85/90/95% of the teacher's score)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...render import plots
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView
from ...render.view.format import NONE, breakable, fmt_bounds, fmt_int, fmt_number, fmt_pct, plural
from ...render.view.model import KEEP_ROWS, Fact
from .result import SweepGroup, SweepPoint, SweepResult

__all__ = ["SweepCell", "SweepRow", "SweepView", "build", "finding"]

_MISSING = Markup("Not computed: the spec has no <code>sweep</code> section.")
_METHOD = ("Each chosen layer's weight (a conv kernel read as out \u00d7 in\u00b7k\u00b7k) is replaced by its "
           "truncated SVD at rank r, the best rank-r approximation; one SVD per layer serves every rank. Ranks "
           "follow a geometric grid from 1 to the full rank, then the unmeasured ranks next to the first knee and "
           "to each level's rank are measured too. The fit is the isotonic (non-decreasing) regression of the "
           "scores interpolated by a monotone PCHIP; the knee is the rank where the fit lies farthest from the "
           "secant through its end points; a level's rank is the smallest rank from which the fit keeps that "
           "share of the teacher's score up to the full rank. Parameters count the weight entries of the two "
           "factors, r \u00b7 (out + in), or the dense weight where that is smaller; compression is dense over "
           "factorized. Scores are measured on samples no student was trained on (with distillation, the subset is "
           "split with the seed and students train on the other part); brackets give the 95% percentile bootstrap "
           "interval over those samples of the measurement at that rank (a share of the teacher's score is "
           "resampled paired with the teacher's per-sample scores).")


@dataclass(frozen=True)
class SweepCell:
    rank: str
    retained: str
    compression: str


@dataclass(frozen=True)
class SweepRow:
    name: Markup
    layers: str
    full_rank: str
    cells: tuple[SweepCell, ...]  # the knee, then each level


@dataclass(frozen=True)
class SweepView:
    facts: tuple[Fact, ...]
    figure: FigureView | None
    level_columns: tuple[str, ...]
    rows: tuple[SweepRow, ...]
    keep_table: bool
    method: str
    missing: Markup | str


def build(ctx: ReportContext) -> SweepView:
    sweep = ctx.result.sweep
    if sweep is None:
        return SweepView(facts=(), figure=None, level_columns=(), rows=(), keep_table=True, method="", missing=_MISSING)
    rows = tuple(_row(group) for group in sweep.groups)
    return SweepView(facts=_facts(sweep), figure=_figure(ctx, sweep),
                     level_columns=tuple(f"keeps {fmt_pct(level)}" for level in sweep.levels), rows=rows,
                     keep_table=len(rows) <= KEEP_ROWS, method=_METHOD,
                     missing="" if sweep.groups else "No layer was swept.")


def _facts(sweep: SweepResult) -> tuple[Fact, ...]:
    distill = (f"{fmt_int(sweep.distill_steps)} Adam steps at lr {fmt_number(sweep.distill_lr)} per student"
               if sweep.distill_steps else "off (students are scored as truncated)")
    trained = f"trained on {fmt_int(sweep.distill_samples)} other samples" if sweep.distill_steps else ""
    scored = (f"on {fmt_int(sweep.n_samples)} held-out probe samples" if sweep.distill_steps else
              f"on {fmt_int(sweep.n_samples)} probe samples (nothing is fitted to them)")
    teacher = " ".join(filter(None, (_score(sweep, sweep.teacher_score),
                                     fmt_bounds(sweep.teacher_ci_low, sweep.teacher_ci_high,
                                                lambda value: _score(sweep, value)))))
    return (
        Fact("Score", sweep.measure, detail=sweep.measure_description),
        Fact("Teacher's score", teacher, detail=scored),
        Fact("Grouping", sweep.grouping.replace("_", " ")),
        Fact("Distillation", distill, detail=trained),
        Fact("Executor", f"{sweep.executor}, {plural(sweep.workers, 'worker')}"),
    )


def _score(sweep: SweepResult, value: float) -> str:
    return fmt_pct(value, 1) if sweep.measure in ("accuracy", "agreement") else fmt_number(value)


def _row(group: SweepGroup) -> SweepRow:
    layers = "" if len(group.layers) == 1 and group.layers[0] == group.name else f"{len(group.layers)} layers"
    return SweepRow(name=breakable(group.name), layers=layers, full_rank=fmt_int(group.full_rank),
                    cells=(_cell(group.knee, "too few ranks"), *(_cell(level.point) for level in group.levels)))


def _cell(point: SweepPoint | None, missing: str = "never reached") -> SweepCell:
    if point is None:
        return SweepCell(rank=NONE, retained=missing, compression="")
    interval = fmt_bounds(point.retained_ci_low, point.retained_ci_high, lambda value: fmt_pct(value, 1))
    return SweepCell(rank=f"rank {fmt_int(point.rank)}",
                     retained=" ".join(filter(None, (f"keeps {fmt_pct(point.retained, 1)}", interval))),
                     compression=f"{point.compression:,.1f}\u00d7 fewer parameters")


def _figure(ctx: ReportContext, sweep: SweepResult) -> FigureView | None:
    panels = [_panel(ctx, group, sweep) for group in sweep.groups if len(group.points) >= 2]
    if not panels:
        return None
    caption = (f"Score ({sweep.measure}) of the factorized model against the rank of the chosen layers: measured "
               "points with their 95% bootstrap intervals, the monotone PCHIP fit, the teacher's score (dotted), the knee (dashed) "
               "and the ranks from "
               f"the lowest to the highest level ({_levels_text(sweep)} of the teacher's score; shaded)." + ctx.figures.prefix_note())
    return ctx.figures.add("sweep", plots.sweep_curves(panels, sweep.measure), caption,
                           "Score against rank for each factorized group")


def _panel(ctx: ReportContext, group: SweepGroup, sweep: SweepResult) -> plots.SweepPanel:
    reached = [level.point.rank for level in group.levels if level.point is not None]
    return plots.SweepPanel(
        label=ctx.figures.label(group.name), ranks=[p.rank for p in group.points], scores=[p.score for p in group.points],
        fit_ranks=list(group.fit_ranks), fit_scores=list(group.fit_scores),
        knee=None if group.knee is None else group.knee.rank,
        range_low=min(reached) if reached else None, range_high=max(reached) if reached else None,
        teacher=sweep.teacher_score, range_label=f"keeps {_levels_text(sweep)}",
        lows=[p.ci_low for p in group.points], highs=[p.ci_high for p in group.points])


def _levels_text(sweep: SweepResult) -> str:
    low, high = min(sweep.levels), max(sweep.levels)
    return fmt_pct(low) if low == high else f"{fmt_pct(low)}\u2013{fmt_pct(high)}"


def finding(ctx: ReportContext) -> Markup | None:
    """The executive summary's sentence on the sweep: the group factorized furthest at the highest
    level it reaches, None without a sweep or when no group reaches a level."""
    sweep = ctx.result.sweep
    reached = [(group, level) for group in (sweep.groups if sweep else ()) for level in group.levels[-1:] if level.point]
    if not reached:
        return None
    group, level = max(reached, key=lambda pair: pair[1].point.compression)
    return Markup(
        "Truncated to rank <strong>{rank}</strong> of {full}, <code>{name}</code> keeps {kept} of the teacher's "
        "{measure} with <strong>{compression}\u00d7</strong> fewer weight parameters ({how}; "
        "Section {section}).").format(
        rank=fmt_int(level.point.rank), full=fmt_int(group.full_rank), name=group.name,
        kept=fmt_pct(level.point.retained, 1), measure=sweep.measure, compression=f"{level.point.compression:,.1f}",
        how=f"truncated SVD, then {fmt_int(sweep.distill_steps)} distillation steps" if sweep.distill_steps
        else "truncated SVD, no fine-tuning", section=ctx.section_number("sweep"))

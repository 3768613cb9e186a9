"""Section: ID trajectories across checkpoints (small multiples per layer, a step x layer table,
each layer's change, the early warnings), and its sentence in the executive summary."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...render import plots
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView
from ...render.view.format import fmt_bounds, fmt_dim, fmt_int, fmt_level, fmt_pct, plural
from ...render.view.model import KEEP_ROWS, Fact
from .result import CheckpointsResult, CheckpointStep, EarlyWarning, LayerTrajectory

__all__ = ["CheckpointsView", "build", "finding"]

_MISSING = Markup("Not computed: the spec has no <code>checkpoints</code> section.")
_MEASURES = {"id": "primary ID", "effective_rank": "effective rank"}


@dataclass(frozen=True)
class StepRow:
    step: str
    accuracy: str
    cells: tuple[str, ...]  # per layer: "ID [interval] · rank"


@dataclass(frozen=True)
class ChangeRow:
    name: Markup
    id_change: str
    rank_change: str
    largest_drop: str
    notes: str


@dataclass(frozen=True)
class CheckpointsView:
    facts: tuple[Fact, ...]
    figure: FigureView | None
    layer_columns: tuple[str, ...]
    steps: tuple[StepRow, ...]
    changes: tuple[ChangeRow, ...]
    warnings: tuple[str, ...]
    keep_table: bool
    method: str
    missing: Markup | str


def build(ctx: ReportContext) -> CheckpointsView:
    series = ctx.result.checkpoints
    if series is None:
        return CheckpointsView((), None, (), (), (), (), True, "", _MISSING)
    rows = tuple(_step_row(step) for step in series.steps)
    return CheckpointsView(
        facts=_facts(series), figure=_figure(ctx, series),
        layer_columns=tuple(ctx.figures.label(layer.name) for layer in series.layers), steps=rows,
        changes=tuple(_change_row(layer) for layer in series.layers),
        warnings=tuple(_warning_text(series, warning) for warning in series.warnings),
        keep_table=len(rows) <= KEEP_ROWS, method=_method(series), missing="")


def _facts(series: CheckpointsResult) -> tuple[Fact, ...]:
    steps = [step.step for step in series.steps]
    fell = (f"at step {fmt_int(series.accuracy_fall_step)}" if series.accuracy_fall_step is not None else
            "never" if series.steps[0].accuracy is not None else "unknown (no labels or no class scores)")
    return (
        Fact("Checkpoints", f"{fmt_int(len(steps))}, steps {fmt_int(steps[0])}\u2013{fmt_int(steps[-1])}",
             detail=f"each on the same {fmt_int(series.n_samples)} probe samples and layers"),
        Fact("Measured", f"{series.primary_title}, PCA-ID, effective rank", detail="per layer, with intervals"),
        Fact("Early warnings", fmt_int(len(series.warnings)),
             detail=f"a fall of more than {fmt_pct(series.warn_drop)} between steps while accuracy moved by at most "
                    f"{fmt_pct(series.accuracy_tolerance)}"),
        Fact("Accuracy fell", fell, detail=f"more than {fmt_pct(series.accuracy_tolerance)} below the best earlier step"),
        Fact("Executor", f"{series.executor}, {plural(series.workers, 'worker')}"),
    )


def _cell(step: CheckpointStep, index: int) -> str:
    layer = step.layers[index]
    value = fmt_dim(layer.id.value) if layer.id.ok else "failed"
    bounds = fmt_bounds(layer.id.ci_low, layer.id.ci_high)
    rank = fmt_dim(layer.effective_rank.value) if layer.effective_rank.ok else "failed"
    return f"{value} {bounds} \u00b7 {rank}".replace("  ", " ")


def _step_row(step: CheckpointStep) -> StepRow:
    accuracy = ("" if step.accuracy is None else
                f"{fmt_pct(step.accuracy, 1)} {fmt_bounds(step.accuracy_ci_low, step.accuracy_ci_high, lambda v: fmt_pct(v, 1))}")
    return StepRow(fmt_int(step.step), accuracy, tuple(_cell(step, index) for index in range(len(step.layers))))


def _signed(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:+.0%}".replace("-", "\u2212")


def _change_row(layer: LayerTrajectory) -> ChangeRow:
    return ChangeRow(Markup("<code>{}</code>").format(layer.name), _signed(layer.id_change), _signed(layer.rank_change),
                     "\u2014" if layer.largest_drop is None else fmt_pct(layer.largest_drop), "; ".join(layer.notes))


def _warning_text(series: CheckpointsResult, warning: EarlyWarning) -> str:
    accuracy = ("accuracy unknown" if warning.accuracy_before is None else
                f"accuracy {fmt_pct(warning.accuracy_before, 1)} \u2192 {fmt_pct(warning.accuracy_after, 1)}")
    trust = "intervals separated" if warning.separated else warning.note
    return (f"{warning.layer}: {_MEASURES[warning.measure]} {fmt_dim(warning.before)} \u2192 {fmt_dim(warning.after)} "
            f"(\u2212{fmt_pct(warning.drop)}) from step {fmt_int(warning.from_step)} to {fmt_int(warning.to_step)}; "
            f"{accuracy}; {trust}")


def _method(series: CheckpointsResult) -> str:
    layer = series.steps[0].layers[0] if series.steps[0].layers else None
    estimators = "" if layer is None else "; ".join(
        f"{metric.title}: {metric.method}" + (f", {fmt_level(metric.ci_level)} {metric.ci_method}" if metric.ci_method else "")
        for metric in (layer.id, layer.pca, layer.effective_rank))
    accuracy = f" Accuracy: {series.accuracy_method}." if series.accuracy_method else ""
    return ("The model is built once and the probe loaded once; each checkpoint's state dict is loaded into it and "
            "run on the same probe points of the same layers (the audit's capture, seeded sampling). Estimators as in "
            f"the main audit ({estimators}).{accuracy} Change is last / first \u2212 1; a fall between consecutive "
            "steps is 1 \u2212 after / before. An early warning is a fall of more than "
            f"{fmt_pct(series.warn_drop)} of a layer's primary ID or effective rank while accuracy moved by at most "
            f"{fmt_pct(series.accuracy_tolerance)}: a fall while accuracy rose more is the compression of learning, "
            "one while it dropped is no longer early. A warning whose two intervals overlap is one the resampling does "
            "not separate from noise; it is said so beside it.")


def _figure(ctx: ReportContext, series: CheckpointsResult) -> FigureView | None:
    if len(series.steps) < 2 or not series.layers:
        return None
    panels = [_panel(ctx, series, index) for index in range(len(series.layers))]
    accuracy = None if series.steps[0].accuracy is None else plots.Series(
        "accuracy", [s.accuracy for s in series.steps], [s.accuracy_ci_low for s in series.steps],
        [s.accuracy_ci_high for s in series.steps])
    level = fmt_level(series.steps[0].layers[0].id.ci_level) or "confidence"
    caption = (f"{series.primary_title} and effective rank of each layer against the training step (symmetric-log axis), "
               f"with {level} intervals (the estimators' own: bootstrap or jackknife); dashed lines mark early warnings"
               + ("; above, accuracy on the probe labels with 95% Wilson intervals." if accuracy else ".")
               + ctx.figures.prefix_note())
    return ctx.figures.add("checkpoints", plots.checkpoint_trajectories(panels, series.primary_title, accuracy), caption,
                           "ID and effective rank of each layer across checkpoints")


def _panel(ctx: ReportContext, series: CheckpointsResult, index: int) -> plots.TrajectoryPanel:
    layers = [step.layers[index] for step in series.steps]
    name = layers[0].name
    return plots.TrajectoryPanel(
        label=ctx.figures.label(name), steps=[step.step for step in series.steps],
        ids=[layer.id.value for layer in layers], id_lows=[layer.id.ci_low for layer in layers],
        id_highs=[layer.id.ci_high for layer in layers], ranks=[layer.effective_rank.value for layer in layers],
        rank_lows=[layer.effective_rank.ci_low for layer in layers],
        rank_highs=[layer.effective_rank.ci_high for layer in layers],
        warnings=[warning.to_step for warning in series.warnings if warning.layer == name])


def finding(ctx: ReportContext) -> Markup | None:
    """The executive summary's sentence on the series: the first early warning, else the layer whose
    primary ID changed most; None without a series."""
    series = ctx.result.checkpoints
    if series is None:
        return None
    section = ctx.section_number("checkpoints")
    if series.warnings:
        first = series.warnings[0]
        fell = (Markup("; accuracy fell at step {}").format(fmt_int(series.accuracy_fall_step))
                if series.accuracy_fall_step is not None else Markup(""))
        return Markup(
            "<strong>Early warning</strong>: the {measure} of <code>{layer}</code> fell by <strong>{drop}</strong> "
            "between steps {a} and {b} while accuracy held{fell} ({count} in all; Section {section}).").format(
            measure=_MEASURES[first.measure], layer=first.layer, drop=fmt_pct(first.drop), a=fmt_int(first.from_step),
            b=fmt_int(first.to_step), fell=fell, count=fmt_int(len(series.warnings)), section=section)
    changed = [layer for layer in series.layers if layer.id_change is not None]
    if not changed:
        return None
    layer = max(changed, key=lambda entry: abs(entry.id_change))
    return Markup(
        "Across {n} checkpoints (steps {a}\u2013{b}) the {title} of <code>{layer}</code> changed most, by "
        "<strong>{change}</strong>; no early warning (Section {section}).").format(
        n=fmt_int(len(series.steps)), a=fmt_int(series.steps[0].step), b=fmt_int(series.steps[-1].step),
        title=series.primary_title, layer=layer.name, change=_signed(layer.id_change), section=section)

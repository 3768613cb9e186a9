"""Reading a measured series: each layer's change across it, the step where accuracy falls, and
the early warnings. Pure functions of the steps' numbers.

The early warning (after the self-supervised-collapse observation that a representation's rank can
collapse before downstream accuracy degrades): a layer's primary ID or effective rank falls by more
than ``warn_drop`` (``1 - after / before``) between consecutive checkpoints while accuracy holds
within ``accuracy_tolerance``. A fall while accuracy rose by more is the compression that comes
with learning (the early-training ID drop of Kataiwa et al. 2025), not a warning; a fall while it
dropped by more is no longer early. Without labels accuracy is unknown and every such fall warns.
A warning is ``separated`` when the later value's interval lies wholly below the earlier one's.
"""

from __future__ import annotations

from .result import CheckpointStep, EarlyWarning, LayerTrajectory

__all__ = ["accuracy_fall_step", "early_warnings", "layer_trajectories"]

_MEASURES = (("id", "primary ID"), ("effective_rank", "effective rank"))


def _metric(step: CheckpointStep, layer: str, measure: str):
    found = next(entry for entry in step.layers if entry.name == layer)
    return getattr(found, measure)


def _value(metric) -> float | None:
    return metric.value if metric.ok and metric.value is not None else None


def _change(first: float | None, last: float | None) -> float | None:
    return None if first is None or last is None or first <= 0 else last / first - 1.0


def layer_trajectories(steps: list[CheckpointStep]) -> tuple[LayerTrajectory, ...]:
    """Per layer: first and last values of the primary ID and effective rank, their change, the
    largest fall between consecutive steps, and notes where a step's estimate failed."""
    return tuple(_trajectory(steps, layer.name) for layer in steps[0].layers)


def _trajectory(steps: list[CheckpointStep], layer: str) -> LayerTrajectory:
    ends, notes = {}, []
    for measure, title in _MEASURES:
        values = [_value(_metric(step, layer, measure)) for step in steps]
        known = [value for value in values if value is not None]
        ends[measure] = (known[0], known[-1]) if known else (None, None)
        failed = [step for step, value in zip(steps, values) if value is None]
        if failed:
            reason = _metric(failed[0], layer, measure).message or "estimate failed"
            notes.append(f"{title} not measured at step {', '.join(str(step.step) for step in failed)}: {reason}")
    if len(steps) < 2:
        notes.append("one checkpoint: no change to measure")
    drops = [drop for measure, _ in _MEASURES for _, _, drop in _drops(steps, layer, measure)]
    return LayerTrajectory(layer, *ends["id"], _change(*ends["id"]), *ends["effective_rank"],
                           _change(*ends["effective_rank"]), max(drops, default=None), tuple(notes))


def _drops(steps: list[CheckpointStep], layer: str, measure: str):
    """(earlier step index, later step index, 1 - after / before) for consecutive measured steps."""
    for index in range(1, len(steps)):
        before, after = _value(_metric(steps[index - 1], layer, measure)), _value(_metric(steps[index], layer, measure))
        if before is not None and after is not None and before > 0:
            yield index - 1, index, 1.0 - after / before


def accuracy_fall_step(steps: list[CheckpointStep], tolerance: float) -> int | None:
    """The first step whose accuracy is more than ``tolerance`` below the best earlier accuracy."""
    best = None
    for step in steps:
        if step.accuracy is None:
            return None
        if best is not None and step.accuracy < best - tolerance:
            return step.step
        best = step.accuracy if best is None else max(best, step.accuracy)
    return None


def early_warnings(steps: list[CheckpointStep], warn_drop: float, tolerance: float) -> tuple[EarlyWarning, ...]:
    """Every fall of more than ``warn_drop`` between consecutive steps while accuracy held, by step."""
    found = [_warning(steps, layer.name, measure, earlier, later, drop)
             for layer in steps[0].layers for measure, _ in _MEASURES
             for earlier, later, drop in _drops(steps, layer.name, measure) if drop > warn_drop]
    held = [warning for warning in found if _accuracy_held(warning, tolerance)]
    return tuple(sorted(held, key=lambda warning: (warning.to_step, warning.layer, warning.measure)))


def _warning(steps, layer: str, measure: str, earlier: int, later: int, drop: float) -> EarlyWarning:
    first, second = steps[earlier], steps[later]
    before, after = _metric(first, layer, measure), _metric(second, layer, measure)
    separated = None not in (after.ci_high, before.ci_low) and after.ci_high < before.ci_low
    note = "" if separated else ("no interval to compare" if None in (after.ci_high, before.ci_low) else
                                 "the two intervals overlap: a fall the resampling does not separate from noise")
    if first.accuracy is None:
        note = "; ".join(filter(None, (note, "no accuracy (no labels or no class scores): the fall alone")))
    return EarlyWarning(layer, measure, first.step, second.step, before.value, after.value, drop, separated,
                        first.accuracy, second.accuracy, note)


def _accuracy_held(warning: EarlyWarning, tolerance: float) -> bool:
    if warning.accuracy_before is None or warning.accuracy_after is None:
        return True
    return abs(warning.accuracy_after - warning.accuracy_before) <= tolerance

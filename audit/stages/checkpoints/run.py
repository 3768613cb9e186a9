"""The checkpoints stage's work: the series checked against the model (``prepare``), then measured
on the chosen executor and read into trajectories and early warnings (``run``)."""

from __future__ import annotations

from .executor import run_local, run_ray
from .measure import ACCURACY_METHOD, plan_for
from .result import CheckpointsResult
from .series import check_fits, checkpoint_series
from .trajectory import accuracy_fall_step, early_warnings, layer_trajectories

__all__ = ["prepare_series", "checkpoints_result"]


def prepare_series(context) -> None:
    """Resolve and check the series before the probe runs; keep it in ``context.plans``."""
    series = checkpoint_series(context.loaded)
    check_fits(context.loaded, context.model.module, series)
    context.plans["checkpoints"] = series


def checkpoints_result(context) -> CheckpointsResult:
    """Every checkpoint measured on the audit's probe and layers, with the series read."""
    section, series = context.spec.checkpoints, context.plans["checkpoints"]
    plan = plan_for(context.spec, context.layer_names)
    context.progress.stage(f"auditing {len(series)} checkpoints on {len(plan.layer_names)} layers "
                           f"({section.executor}, {section.workers} workers)")
    if section.executor == "ray":
        steps = run_ray(str(context.loaded.path.resolve()), plan, series, workers=section.workers,
                        address=section.ray_address)
    else:
        steps = run_local(context.loaded, context.model, context.probe, plan, series, workers=section.workers)
    first = steps[0].layers[0].id if steps[0].layers else None
    return CheckpointsResult(
        primary_id=plan.primary, primary_title=first.title if first else plan.primary,
        warn_drop=section.warn_drop, accuracy_tolerance=section.accuracy_tolerance, executor=section.executor,
        workers=section.workers, n_samples=context.probe.info.n_samples, steps=tuple(steps),
        layers=layer_trajectories(steps), warnings=early_warnings(steps, section.warn_drop, section.accuracy_tolerance),
        accuracy_fall_step=accuracy_fall_step(steps, section.accuracy_tolerance),
        accuracy_method=ACCURACY_METHOD if steps[0].accuracy is not None else "")

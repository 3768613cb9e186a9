"""The sweep stage: a geometric pass over the ranks of each group, a refining pass next to each
knee, then the fitted curve, the knee and the rank per level as a :class:`SweepResult`.

Every evaluation returns one score per scored sample (held out from distillation, see
:mod:`.setup`); a point's score is their mean, with a percentile bootstrap interval over those
samples (:mod:`audit.heldout`), and its share of the teacher's is resampled paired with the
teacher's per-sample scores."""

from __future__ import annotations

import numpy as np

from ...estimators.lowrank import dense_parameters, factorized_parameters
from ...heldout import mean_interval, ratio_interval
from ...outputs import outputs_of
from .curve import fit_curve
from .executor import one_torch_thread, run_local, run_ray
from .grid import geometric_ranks, refined_ranks
from .rank_scoring import Task
from .result import RankLevel, SweepGroup, SweepPoint, SweepResult
from .setup import SweepSetup, prepare

__all__ = ["sweep_result"]


def sweep_result(loaded, model, probe, progress=None) -> SweepResult:
    """Run the spec's sweep on ``model`` over ``probe`` (one torch thread per evaluation, see
    :mod:`.executor`)."""
    with one_torch_thread():
        return _sweep(loaded, model, probe, progress)


def _sweep(loaded, model, probe, progress) -> SweepResult:
    sweep = loaded.spec.sweep
    setup = prepare(loaded, model, probe)
    teacher = setup.score(outputs_of(setup.module, setup.inputs)).numpy()
    first = [Task(g, rank) for g in range(len(setup.groups)) for rank in geometric_ranks(_full_rank(setup, g),
                                                                                         n_ranks=sweep.n_ranks)]
    scores = dict(zip(first, _evaluate(loaded, setup, first, progress, "sweep")))
    extra = [Task(g, rank) for g in range(len(setup.groups)) for rank in _refinement(setup, g, scores, teacher, sweep)]
    scores.update(zip(extra, _evaluate(loaded, setup, extra, progress, "sweep near the knees")))
    groups = tuple(_group_result(setup, g, scores, teacher, sweep.levels, loaded.spec.seed)
                   for g in range(len(setup.groups)))
    interval = mean_interval(teacher, seed=loaded.spec.seed)
    return SweepResult(
        measure=setup.measure, measure_description=setup.measure_description, teacher_score=float(teacher.mean()),
        n_samples=setup.n_samples, grouping=sweep.grouping, executor=sweep.executor, workers=sweep.workers,
        distill_steps=sweep.distill.steps, distill_lr=sweep.distill.lr if sweep.distill.steps else None,
        levels=tuple(sweep.levels), groups=groups, teacher_ci_low=interval.low, teacher_ci_high=interval.high,
        ci_level=interval.level, ci_method=interval.method, distill_samples=setup.n_train,
    )


def _evaluate(loaded, setup: SweepSetup, tasks: list[Task], progress, label: str) -> list[np.ndarray]:
    if not tasks:
        return []
    sweep = loaded.spec.sweep
    if progress is not None:
        progress.stage(f"{label}: {len(tasks)} evaluations on {setup.n_samples} samples ({sweep.executor}, "
                       f"{sweep.workers} workers)")
    if sweep.executor == "ray":
        return run_ray(str(loaded.path.resolve()), sweep.distill, tasks, workers=sweep.workers,
                       address=sweep.ray_address)
    return run_local(setup, sweep.distill, tasks, workers=sweep.workers)


def _full_rank(setup: SweepSetup, group: int) -> int:
    return max(setup.factors[name].max_rank for name in setup.groups[group][1])


def _measured(scores: dict, group: int) -> tuple[list[int], list[float]]:
    """A group's measured ranks, increasing, and their mean scores."""
    found = sorted((task.rank, float(values.mean())) for task, values in scores.items() if task.group == group)
    return [rank for rank, _ in found], [score for _, score in found]


def _refinement(setup, group: int, scores: dict, teacher: np.ndarray, sweep) -> list[int]:
    ranks, values = _measured(scores, group)
    if len(ranks) < 2 or sweep.refine == 0:
        return []
    fit = fit_curve(ranks, values, teacher=float(teacher.mean()), levels=sweep.levels)
    targets = [fit.knee] + [rank for rank in fit.levels.values() if rank is not None]
    extra: set[int] = set()
    for target in targets:
        extra |= set(refined_ranks(ranks, target, n_extra=sweep.refine))
    return sorted(extra)


def _group_result(setup: SweepSetup, group: int, scores: dict, teacher: np.ndarray, levels, seed: int) -> SweepGroup:
    name, layers = setup.groups[group]
    shapes = [setup.factors[layer].shape for layer in layers]
    ranks, values = _measured(scores, group)
    per_sample = {task.rank: found for task, found in scores.items() if task.group == group}

    def point(rank: int, score: float) -> SweepPoint:
        return _point(rank, score, shapes, per_sample.get(rank), teacher, seed)

    fit = fit_curve(ranks, values, teacher=float(teacher.mean()), levels=levels) if len(ranks) >= 2 else None
    fitted = {} if fit is None else dict(zip(fit.ranks.tolist(), fit.scores.tolist()))
    at_level = {} if fit is None else fit.levels
    return SweepGroup(
        name=name, layers=tuple(layers), full_rank=_full_rank(setup, group),
        full_parameters=sum(dense_parameters(shape) for shape in shapes),
        points=tuple(point(rank, score) for rank, score in zip(ranks, values)),
        fit_ranks=tuple(fitted), fit_scores=tuple(fitted.values()),
        knee=None if fit is None else point(fit.knee, fitted[fit.knee]),
        levels=tuple(RankLevel(level=level, point=None if at_level.get(level) is None
                               else point(at_level[level], fitted[at_level[level]])) for level in levels),
    )


def _point(rank: int, score: float, shapes, measured: np.ndarray | None, teacher: np.ndarray, seed: int) -> SweepPoint:
    """The group at ``rank`` with ``score`` (measured, or read from the fit); the intervals are
    those of the measurement at that rank (None for a rank only the fit reached)."""
    full = sum(dense_parameters(shape) for shape in shapes)
    parameters = sum(factorized_parameters(shape, rank) for shape in shapes)
    score_low, score_high = (None, None) if measured is None else _ends(mean_interval(measured, seed=seed))
    kept_low, kept_high = (None, None) if measured is None else _ends(ratio_interval(measured, teacher, seed=seed))
    return SweepPoint(rank=rank, score=score, retained=_share(score, float(teacher.mean())), parameters=parameters,
                      reduction=1 - parameters / full, compression=full / parameters, ci_low=score_low,
                      ci_high=score_high, retained_ci_low=kept_low, retained_ci_high=kept_high)


def _ends(interval) -> tuple[float | None, float | None]:
    return interval.low, interval.high


def _share(score: float, teacher: float) -> float | None:
    return score / teacher if teacher > 0 else None

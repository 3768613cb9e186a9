"""The sweep stage: a geometric pass over the ranks of each group, a refining pass next to each
knee, then the fitted curve, the knee and the rank per level as a :class:`SweepResult`."""

from __future__ import annotations

from ..outputs import outputs_of
from ..results import RankLevel, SweepGroup, SweepPoint, SweepResult
from .curve import fit_curve
from .evaluate import Task
from .executor import one_torch_thread, run_local, run_ray
from .grid import geometric_ranks, refined_ranks
from .lowrank import dense_parameters, factorized_parameters
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
    teacher = setup.score(outputs_of(setup.module, setup.inputs))
    first = [Task(g, rank) for g in range(len(setup.groups)) for rank in geometric_ranks(_full_rank(setup, g),
                                                                                         n_ranks=sweep.n_ranks)]
    scores = dict(zip(first, _evaluate(loaded, setup, first, progress, "sweep")))
    extra = [Task(g, rank) for g in range(len(setup.groups)) for rank in _refinement(setup, g, scores, teacher, sweep)]
    scores.update(zip(extra, _evaluate(loaded, setup, extra, progress, "sweep near the knees")))
    groups = tuple(_group_result(setup, g, scores, teacher, sweep.levels) for g in range(len(setup.groups)))
    return SweepResult(
        measure=setup.measure, measure_description=setup.measure_description, teacher_score=teacher,
        n_samples=setup.n_samples, grouping=sweep.grouping, executor=sweep.executor, workers=sweep.workers,
        distill_steps=sweep.distill.steps, distill_lr=sweep.distill.lr if sweep.distill.steps else None,
        levels=tuple(sweep.levels), groups=groups,
    )


def _evaluate(loaded, setup: SweepSetup, tasks: list[Task], progress, label: str) -> list[float]:
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
    found = sorted((task.rank, score) for task, score in scores.items() if task.group == group)
    return [rank for rank, _ in found], [score for _, score in found]


def _refinement(setup, group: int, scores: dict, teacher: float, sweep) -> list[int]:
    ranks, values = _measured(scores, group)
    if len(ranks) < 2 or sweep.refine == 0:
        return []
    fit = fit_curve(ranks, values, teacher=teacher, levels=sweep.levels)
    targets = [fit.knee] + [rank for rank in fit.levels.values() if rank is not None]
    extra: set[int] = set()
    for target in targets:
        extra |= set(refined_ranks(ranks, target, n_extra=sweep.refine))
    return sorted(extra)


def _group_result(setup: SweepSetup, group: int, scores: dict, teacher: float, levels) -> SweepGroup:
    name, layers = setup.groups[group]
    shapes = [setup.factors[layer].shape for layer in layers]
    full = sum(dense_parameters(shape) for shape in shapes)
    ranks, values = _measured(scores, group)

    def point(rank: int, score: float) -> SweepPoint:
        parameters = sum(factorized_parameters(shape, rank) for shape in shapes)
        return SweepPoint(rank=rank, score=score, retained=_share(score, teacher), parameters=parameters,
                          reduction=1 - parameters / full, compression=full / parameters)

    fit = fit_curve(ranks, values, teacher=teacher, levels=levels) if len(ranks) >= 2 else None
    fitted = {} if fit is None else dict(zip(fit.ranks.tolist(), fit.scores.tolist()))
    at_level = {} if fit is None else fit.levels
    return SweepGroup(
        name=name, layers=tuple(layers), full_rank=_full_rank(setup, group), full_parameters=full,
        points=tuple(point(rank, score) for rank, score in zip(ranks, values)),
        fit_ranks=tuple(fitted), fit_scores=tuple(fitted.values()),
        knee=None if fit is None else point(fit.knee, fitted[fit.knee]),
        levels=tuple(RankLevel(level=level, point=None if at_level.get(level) is None
                               else point(at_level[level], fitted[at_level[level]])) for level in levels),
    )


def _share(score: float, teacher: float) -> float | None:
    return score / teacher if teacher > 0 else None

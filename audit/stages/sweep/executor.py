"""Where a sweep's evaluations run: threads on this machine, or tasks on a Ray cluster.

Each evaluation is independent and deterministic (fixed weights, samples and SVDs), so the
scores (one per scored sample) do not depend on the executor; they come back in the order of
the tasks.

- ``local``: ``workers`` threads, each with its own copy of the model (torch releases the GIL
  in its kernels).

Every evaluation, and the set-up it compares with (the teacher's outputs, the SVDs), runs with
one torch intra-op thread (:func:`one_torch_thread`) wherever it runs: a matrix product's
rounding depends on how many threads split it, so this is what makes the scores bitwise equal
across executors. Parallelism comes from ``workers``.
- ``ray``: the tasks are cut into ``workers`` chunks, one Ray task each; a worker rebuilds the
  sweep from the spec file (:func:`~audit.stages.sweep.setup.prepare_from_spec`), so the spec, the
  model's files and the probe must be readable at the same paths on every node.
"""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from ...errors import AuditInputError
from ...threads import one_torch_thread
from .rank_scoring import Evaluator, Task

__all__ = ["run_local", "run_ray", "chunks", "one_torch_thread", "ray_chunks"]


def run_local(setup, distill, tasks: list[Task], *, workers: int, progress=None) -> list[np.ndarray]:
    """Scores of ``tasks`` from ``workers`` threads (inline with one)."""
    if workers == 1 or len(tasks) == 1:
        evaluator = Evaluator(setup, distill)
        return [_counted(evaluator, task, progress) for task in tasks]
    local = threading.local()

    def evaluate(task: Task) -> np.ndarray:
        if not hasattr(local, "evaluator"):
            local.evaluator = Evaluator(replace(setup, module=copy.deepcopy(setup.module)), distill)
        return _counted(local.evaluator, task, progress)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(evaluate, tasks))


def run_ray(spec_path: str, distill, tasks: list[Task], *, workers: int, address: str | None) -> list[np.ndarray]:
    """Scores of ``tasks`` from ``workers`` Ray tasks: on the Ray the caller started, else on one
    joined at ``address`` (a new local one when None) for this call only."""
    return ray_chunks(_evaluate_chunk, (spec_path, distill), tasks, workers=workers, address=address, key="sweep")


def ray_chunks(function, arguments: tuple, tasks: list, *, workers: int, address: str | None, key: str) -> list:
    """``function(*arguments, chunk)`` for ``tasks`` cut into ``workers`` chunks, one Ray task (one
    CPU) each, their results joined in task order: on the Ray the caller started, else on one joined
    at ``address`` (a new local one when None) for this call only. ``key`` names the spec section
    whose executor asked for Ray, in the error when it is not installed."""
    try:
        import ray
    except ImportError:
        raise AuditInputError(f"{key}.executor", "ray is not installed: pip install 'model-audit[ray]'") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(function)
        pending = [remote.remote(*arguments, chunk) for chunk in chunks(tasks, workers)]
        return [result for found in ray.get(pending) for result in found]
    finally:
        if started:
            ray.shutdown()


def chunks(tasks: list, count: int) -> list[list]:
    """``tasks`` cut into at most ``count`` contiguous, nearly equal, non-empty chunks."""
    count = max(1, min(count, len(tasks)))
    size, extra = divmod(len(tasks), count)
    cut, found = 0, []
    for index in range(count):
        end = cut + size + (1 if index < extra else 0)
        found.append(tasks[cut:end])
        cut = end
    return found


def _evaluate_chunk(spec_path: str, distill, tasks: list[Task]) -> list[np.ndarray]:
    from .setup import prepare_from_spec

    with one_torch_thread():
        evaluator = Evaluator(prepare_from_spec(spec_path), distill)
        return [evaluator(task) for task in tasks]


def _counted(evaluator, task, progress) -> np.ndarray:
    score = evaluator(task)
    if progress is not None:
        progress.update(1)
    return score

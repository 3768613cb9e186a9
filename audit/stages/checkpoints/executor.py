"""Where the checkpoints are measured: threads on this machine, or tasks on a Ray cluster (the
sweep's two executors, :mod:`audit.stages.sweep.executor`, whose chunking this reuses).

Each checkpoint is independent and deterministic (its weights, the seeded probe points, the seeded
intervals), so the results do not depend on the executor; they come back in step order. Every
measurement runs with one torch intra-op thread (:func:`~audit.threads.one_torch_thread`), as the
sweep's do, so a matrix product rounds the same way on every executor.

- ``local``: ``workers`` threads, each with its own copy of the model built once (weights are
  swapped into it, never into the audit's model).
- ``ray``: the checkpoints cut into ``workers`` chunks, one Ray task each; a task rebuilds the model
  and probe from the spec file, so the spec, the model's files, the probe and the checkpoints must be
  readable at the same paths on every node.
"""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ...threads import one_torch_thread
from ..sweep.executor import ray_chunks
from .measure import Plan, measure_checkpoint
from .result import CheckpointStep
from .series import Checkpoint

__all__ = ["run_local", "run_ray"]


def run_local(loaded, model, probe, plan: Plan, series: list[Checkpoint], *, workers: int,
              progress=None) -> list[CheckpointStep]:
    """Each checkpoint of ``series`` measured on ``workers`` threads (inline with one)."""
    local = threading.local()

    def measure(checkpoint: Checkpoint) -> CheckpointStep:
        if not hasattr(local, "model"):
            local.model = replace(model, module=copy.deepcopy(model.module))
        step = measure_checkpoint(loaded, local.model, probe, plan, checkpoint)
        if progress is not None:
            progress.update(1)
        return step

    with one_torch_thread():
        if workers == 1 or len(series) == 1:
            return [measure(checkpoint) for checkpoint in series]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(measure, series))


def run_ray(spec_path: str, plan: Plan, series: list[Checkpoint], *, workers: int,
            address: str | None) -> list[CheckpointStep]:
    """Each checkpoint measured by ``workers`` Ray tasks: on the Ray the caller started, else on
    one joined at ``address`` (a new local one when None) for this call only."""
    return ray_chunks(_measure_chunk, (spec_path, plan), series, workers=workers, address=address, key="checkpoints")


def _measure_chunk(spec_path: str, plan: Plan, series: list[Checkpoint]) -> list[CheckpointStep]:
    from ...sources import load_model, load_probe
    from ...spec import load_spec

    loaded = load_spec(spec_path)
    return run_local(loaded, load_model(loaded), load_probe(loaded), plan, series, workers=1)

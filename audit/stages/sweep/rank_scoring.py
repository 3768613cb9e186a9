"""One evaluation of a sweep: a group's layers at one rank (the "student"), scored.

:func:`low_rank_weights` swaps each layer's weight for its rank-``r`` truncation and puts the
original back afterwards, so one model serves every evaluation of a worker. With distillation
(``sweep.distill.steps > 0``) the student's factors ``A``, ``B`` are trained for that many Adam
steps on the training split to match the teacher's outputs (:mod:`.distill`) before it is
scored on the held-out split. An evaluation returns one score per scored sample (the mean is
the point's score, and a bootstrap over them its interval).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from ...outputs import outputs_of
from .distill import distilled
from .setup import SweepSetup

__all__ = ["Task", "Evaluator", "low_rank_weights"]


@dataclass(frozen=True)
class Task:
    """Evaluate group ``group`` (an index into ``SweepSetup.groups``) at rank ``rank``."""

    group: int
    rank: int


class Evaluator:
    """Scores tasks on one model; a worker holds one (models are not shared between threads)."""

    def __init__(self, setup: SweepSetup, distill):
        self.setup = setup
        self.distill = distill

    def __call__(self, task: Task) -> np.ndarray:
        setup = self.setup
        names = setup.groups[task.group][1]
        modules = dict(setup.module.named_modules())
        layers = {name: modules[name] for name in names}
        if self.distill.steps > 0:
            with distilled(layers, setup.factors, task.rank, setup, self.distill):
                return self._scores()
        with low_rank_weights(layers, setup.factors, task.rank):
            return self._scores()

    def _scores(self) -> np.ndarray:
        return self.setup.score(outputs_of(self.setup.module, self.setup.inputs)).numpy()


@contextmanager
def low_rank_weights(layers: dict[str, torch.nn.Module], factors, rank: int):
    """Within the block, each of ``layers`` (name -> module) has its rank-``rank`` weight.

    The weight parameter itself is swapped for a new one, not written into, so a weight another
    module shares (a decoder's LM head tied to its token embeddings) stays whole in that module."""
    originals = {name: module.weight for name, module in layers.items()}
    try:
        for name, module in layers.items():
            module.weight = torch.nn.Parameter(factors[name].weight(rank), requires_grad=False)
        yield
    finally:
        for name, module in layers.items():
            module.weight = originals[name]

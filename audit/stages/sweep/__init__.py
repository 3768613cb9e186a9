"""Low-rank factorization sweeps: how many dimensions a network's weight matrices really need.

Pure maths in :mod:`audit.estimators.lowrank` (truncated SVD, parameter counts, shared with the
cost stage), :mod:`.grid` (which ranks), :mod:`.curve` (monotone PCHIP fit, knee, rank per
retained share); the model side in :mod:`.setup` (layers, groups, probe subset, score),
:mod:`.rank_scoring` (one student, scored), :mod:`.distill` (optional knowledge distillation),
:mod:`.executor` (threads or Ray) and the stage itself in :mod:`.run`; its report section in
:mod:`.view`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pydantic_core import PydanticCustomError

from ...policy.figure import Figure
from ...policy.paths import at
from .. import ReportSection, Stage, register_stage
from .params import DistillSpec, SweepSpec
from .result import RankLevel, SweepGroup, SweepPoint, SweepResult

__all__ = ["DistillSpec", "RankLevel", "SweepGroup", "SweepPoint", "SweepResult", "SweepSpec", "SweepStage"]


def _compression_at(level: float) -> Callable[[object], float | None]:
    """Reads a sweep group's compression at the smallest rank keeping ``level`` of the teacher's score."""
    def read(group):
        point = next((entry.get("point") for entry in at(group, "levels") or ()
                      if math.isclose(entry.get("level", -1), level)), None)
        return None if point is None else point.get("compression")
    return read


@register_stage
class SweepStage(Stage):
    key = "sweep"
    params = SweepSpec
    result = SweepResult
    order = 30
    figures = {
        "compression_at_95": Figure("each sweep group: full parameters / parameters at the rank keeping 95% of "
                                    "the teacher's score", "sweep.groups.*", read=_compression_at(0.95)),
        "knee_compression": Figure("each sweep group: full parameters / parameters at the knee",
                                   "sweep.groups.*.knee.compression"),
        "knee_retained": Figure("each sweep group: share of the teacher's score kept at the knee",
                                "sweep.groups.*.knee.retained"),
    }
    section = ReportSection("sweep", "Low-rank factorization sweep", 90, "audit.stages.sweep.view:build",
                            finding="audit.stages.sweep.view:finding")

    def check(self, spec, adapter) -> None:
        if spec.sweep is not None and not adapter.replaceable_weights:
            raise PydanticCustomError("cross_key", "sweep needs a model whose weights can be replaced (kind {kinds}), "
                                      "not {kind}", {"key": "sweep", "kind": adapter.kind,
                                                     "kinds": adapter.kinds_with("replaceable_weights")})

    def prepare(self, context) -> None:
        from .setup import sweep_layers

        sweep_layers(context.loaded, context.model)  # a pattern matching nothing fails before any work

    def run(self, context) -> SweepResult:
        from .run import sweep_result

        return sweep_result(context.loaded, context.model, context.probe, context.progress)

"""ID trajectories across a series of checkpoints, with an early warning of representation collapse.

The spec's model is built once and the probe loaded once; each checkpoint's state dict is swapped
in and audited on the same probe points and layers: the primary ID, PCA-ID and effective rank per
layer (the main audit's estimators and intervals) and the accuracy on the probe labels. Modules:
:mod:`.params` (the spec section), :mod:`.series` (files, steps, fit to the model), :mod:`.measure`
(one checkpoint), :mod:`.executor` (threads or Ray), :mod:`.trajectory` (changes, accuracy fall,
early warnings), :mod:`.run` (the stage's work), :mod:`.result` and the report's :mod:`.view`.
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from ...policy.figure import Figure
from .. import ReportSection, Stage, register_stage
from .params import CheckpointEntry, CheckpointsSpec
from .result import CheckpointLayer, CheckpointsResult, CheckpointStep, EarlyWarning, LayerTrajectory

__all__ = ["CheckpointEntry", "CheckpointLayer", "CheckpointStep", "CheckpointsResult", "CheckpointsSpec",
           "CheckpointsStage", "EarlyWarning", "LayerTrajectory"]


@register_stage
class CheckpointsStage(Stage):
    key = "checkpoints"
    params = CheckpointsSpec
    result = CheckpointsResult
    order = 50
    figures = {
        "checkpoint_warnings": Figure("early warnings: a layer's ID or effective rank fell by more than "
                                      "checkpoints.warn_drop between steps while accuracy held", "checkpoints.warnings"),
        "checkpoint_id_change": Figure("each layer: primary ID at the last checkpoint / at the first - 1",
                                       "checkpoints.layers.*.id_change"),
        "checkpoint_rank_change": Figure("each layer: effective rank at the last checkpoint / at the first - 1",
                                         "checkpoints.layers.*.rank_change"),
        "checkpoint_largest_drop": Figure("each layer: largest fall (1 - after / before) of its ID or effective rank "
                                          "between consecutive checkpoints", "checkpoints.layers.*.largest_drop"),
        "checkpoint_final_accuracy": Figure("accuracy on the probe labels at the last checkpoint",
                                            "checkpoints.final_accuracy"),
    }
    section = ReportSection("checkpoints", "Checkpoint trajectories", 105, "audit.stages.checkpoints.view:build",
                            finding="audit.stages.checkpoints.view:finding")

    def check(self, spec, adapter) -> None:
        if spec.checkpoints is not None and not adapter.replaceable_weights:
            raise PydanticCustomError("cross_key", "checkpoints needs a model whose weights can be replaced (kind "
                                      "{kinds}), not {kind}", {"key": "checkpoints", "kind": adapter.kind,
                                                               "kinds": adapter.kinds_with("replaceable_weights")})

    def prepare(self, context) -> None:
        from .run import prepare_series

        prepare_series(context)  # files, steps and fit to the model fail before the probe runs

    def run(self, context) -> CheckpointsResult:
        from .run import checkpoints_result

        return checkpoints_result(context)

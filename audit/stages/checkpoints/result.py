"""What the checkpoints stage measured: per step, each audited layer's primary ID, PCA-ID and
effective rank with their intervals and the accuracy on the probe labels; per layer, its change
across the series; and the early warnings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from ...results import Meta, MetricResult

__all__ = ["CheckpointLayer", "CheckpointStep", "CheckpointsResult", "EarlyWarning", "LayerTrajectory"]

Share = Annotated[float, Meta(minimum=0, maximum=1)]
Step = Annotated[int, Meta(minimum=0)]
Measure = Literal["id", "effective_rank"]


@dataclass(frozen=True)
class CheckpointLayer:
    """One audited layer at one checkpoint: its primary ID, PCA-ID and effective rank, each a
    metric result of the main audit's estimators (value, interval, method, status)."""

    name: str
    id: MetricResult
    pca: MetricResult
    effective_rank: MetricResult


@dataclass(frozen=True)
class CheckpointStep:
    """One checkpoint: its step, its weights file (as the spec names it or the glob found it), its
    layers, and the accuracy of its class scores on the probe labels with the Wilson interval
    (None without labels or class-score outputs)."""

    step: Step
    weights: str
    layers: tuple[CheckpointLayer, ...]
    accuracy: Share | None = None
    accuracy_ci_low: Share | None = None
    accuracy_ci_high: Share | None = None


@dataclass(frozen=True)
class LayerTrajectory:
    """One layer across the series: its primary ID and effective rank at the first and last step
    where each was measured, their relative change (``last / first - 1``), and the largest share
    by which either fell between consecutive steps (None where fewer than two steps measured it)."""

    name: str
    id_first: float | None
    id_last: float | None
    id_change: Annotated[float | None, Meta(description="primary ID at the last step / at the first - 1")]
    rank_first: float | None
    rank_last: float | None
    rank_change: Annotated[float | None, Meta(description="effective rank at the last step / at the first - 1")]
    largest_drop: Annotated[float | None, Meta(description="largest 1 - after / before of the primary ID or the "
                                               "effective rank between consecutive steps")]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EarlyWarning:
    """A layer whose ``measure`` fell by more than ``warn_drop`` from ``from_step`` to ``to_step``
    while accuracy held within the tolerance (or is unknown: ``accuracy_before`` None).
    ``separated``: the later value's interval lies wholly below the earlier one's (a drop the
    resampling supports); ``note`` says what limits trust in it."""

    layer: str
    measure: Measure
    from_step: Step
    to_step: Step
    before: float
    after: float
    drop: Annotated[float, Meta(description="1 - after / before")]
    separated: bool
    accuracy_before: Share | None = None
    accuracy_after: Share | None = None
    note: str = ""


@dataclass(frozen=True)
class CheckpointsResult:
    """The series audited checkpoint by checkpoint on the same probe points and layers (the
    probe loaded once, the model built once, weights swapped). ``primary_id`` names the ID
    metric (the audit's primary ID); ``accuracy_fall_step`` is the first step whose accuracy lies
    more than ``accuracy_tolerance`` below the best of the steps before it (None: it never does,
    or no labels); ``warnings`` are the early warnings in step order."""

    DERIVED: ClassVar[tuple[str, ...]] = ("final_accuracy", "first_warning_step", "warned_before_accuracy_fell")

    primary_id: str
    primary_title: str
    warn_drop: Annotated[float, Meta(exclusiveMinimum=0, exclusiveMaximum=1)]
    accuracy_tolerance: Share
    executor: Literal["local", "ray"]
    workers: Annotated[int, Meta(minimum=1)]
    n_samples: Annotated[int, Meta(minimum=1, description="probe samples every checkpoint runs on")]
    steps: Annotated[tuple[CheckpointStep, ...], Meta(minItems=1, description="by step")]
    layers: tuple[LayerTrajectory, ...]
    warnings: tuple[EarlyWarning, ...]
    accuracy_fall_step: Step | None = None
    accuracy_method: str = ""

    @property
    def final_accuracy(self) -> Annotated[float | None, Meta(description="accuracy at the last step")]:
        return self.steps[-1].accuracy

    @property
    def first_warning_step(self) -> Annotated[int | None, Meta(description="to_step of the first early warning")]:
        return min((warning.to_step for warning in self.warnings), default=None)

    @property
    def warned_before_accuracy_fell(self) -> Annotated[bool | None, Meta(
            description="an early warning came at a step before accuracy fell (None: accuracy never fell)")]:
        if self.accuracy_fall_step is None:
            return None
        first = self.first_warning_step
        return first is not None and first < self.accuracy_fall_step

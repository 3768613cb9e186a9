"""What the factorization sweep measured: each group's score at each rank, the monotone fit, its
knee and the rank that keeps each share of the teacher's score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from ...results import Meta

__all__ = ["RankLevel", "SweepGroup", "SweepPoint", "SweepResult"]

Count = Annotated[int, Meta(minimum=0)]
Positive = Annotated[int, Meta(minimum=1)]


@dataclass(frozen=True)
class SweepPoint:
    """A group's layers at one rank: the score, its share of the teacher's (``retained``), the
    weight entries the factorized layers store (``parameters``), ``reduction = 1 - parameters /
    full`` and ``compression = full / parameters``. ``ci_low``/``ci_high`` (of ``score``) and
    ``retained_ci_low``/``retained_ci_high`` are percentile bootstrap intervals over the scored
    (held-out) samples of the measurement at this rank; None for a rank only the fit reached."""

    rank: Positive
    score: float
    retained: Annotated[float | None, Meta(description="score / teacher_score")]
    parameters: Annotated[int, Meta(minimum=0, description="weight entries of the group's layers at this rank")]
    reduction: Annotated[float, Meta(description="1 - parameters / full_parameters")]
    compression: Annotated[float, Meta(description="full_parameters / parameters")]
    ci_low: Annotated[float | None, Meta(description="percentile bootstrap interval of score over the scored "
                                         "(held-out) samples of the measurement at this rank; null for a rank only "
                                         "the fit reached")] = None
    ci_high: float | None = None
    retained_ci_low: Annotated[float | None, Meta(description="the same for retained, resampled paired with the "
                                                  "teacher's per-sample scores")] = None
    retained_ci_high: float | None = None


@dataclass(frozen=True)
class RankLevel:
    """The smallest rank from which the fitted curve keeps ``level`` of the teacher's score
    (``point`` on the fitted curve), None when it never does."""

    level: float
    point: SweepPoint | None


@dataclass(frozen=True)
class SweepGroup:
    """One factorization sweep: ``layers`` truncated together at each measured rank
    (``points``), the monotone PCHIP fit at every integer rank (``fit_ranks``, ``fit_scores``),
    its knee and the rank per retained level (both read from the fit)."""

    name: str
    layers: Annotated[tuple[str, ...], Meta(minItems=1)]
    full_rank: Positive
    full_parameters: Positive
    points: Annotated[tuple[SweepPoint, ...], Meta(description="measured, by rank")]
    fit_ranks: tuple[int, ...]
    fit_scores: Annotated[tuple[float, ...], Meta(description="isotonic + PCHIP fit at fit_ranks")]
    knee: Annotated[SweepPoint | None, Meta(description="rank of the fit farthest from the secant through its end points")]
    levels: tuple[RankLevel, ...]


@dataclass(frozen=True)
class SweepResult:
    """Low-rank factorization sweeps. ``measure`` is ``accuracy`` (with labels), ``agreement``
    or ``cosine`` (fidelity to the unfactorized teacher), described in ``measure_description``;
    ``teacher_score`` is the unfactorized model's score on the same ``n_samples`` (with its
    bootstrap interval ``teacher_ci_low``/``teacher_ci_high`` at ``ci_level``, ``ci_method``).
    With distillation, students are trained on ``distill_samples`` other samples of the subset:
    ``n_samples`` are held out from it and every score is measured on them."""

    measure: Literal["accuracy", "agreement", "cosine"]
    measure_description: str
    teacher_score: float
    n_samples: Annotated[int, Meta(minimum=1, description="samples every score is measured on (held out from "
                                   "distillation when it runs)")]
    grouping: Literal["one_at_a_time", "per_block", "all"]
    executor: Literal["local", "ray"]
    workers: Positive
    distill_steps: Count
    distill_lr: float | None
    levels: tuple[float, ...]
    groups: tuple[SweepGroup, ...]
    teacher_ci_low: Annotated[float | None, Meta(description="percentile bootstrap interval of teacher_score over "
                                                 "the scored samples")] = None
    teacher_ci_high: float | None = None
    ci_level: Annotated[float | None, Meta(exclusiveMinimum=0, maximum=1)] = None
    ci_method: str = ""
    distill_samples: Annotated[int, Meta(minimum=0, description="samples students are distilled on (0 without "
                                         "distillation); never scored")] = 0

"""The ``sweep:`` section of the spec."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .._base import StageParams

__all__ = ["DistillSpec", "SweepSpec"]


class DistillSpec(StageParams):
    """Knowledge distillation of each factorized student before it is scored (off: steps 0)."""

    steps: int = Field(0, ge=0, le=10000, description="optimizer steps per student (0: no distillation)")
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of the low-rank factors")
    temperature: float = Field(2.0, gt=0, description="softmax temperature of the distillation loss")
    holdout: float = Field(0.5, gt=0, lt=1, description="share of the sweep's samples held out: students are "
                           "distilled on the rest and every score is measured on these")


class SweepSpec(StageParams):
    """Low-rank factorization sweep: truncated SVD of chosen layers at a grid of ranks, scored."""

    layers: list[str] | None = Field(None, description="glob patterns over Linear/Conv module names (default: every one)")
    exclude: list[str] = Field(default_factory=list, description="patterns removed from that selection")
    grouping: Literal["one_at_a_time", "per_block", "all"] = Field(
        "all", description="one curve per layer, per main block, or one for every chosen layer together")
    n_ranks: int = Field(8, ge=2, le=64, description="ranks of the geometric grid from 1 to the full rank")
    refine: int = Field(4, ge=0, le=64, description="extra ranks measured next to the knee of the first pass")
    n_samples: int = Field(512, ge=0, description="probe samples each evaluation runs on, drawn with the seed (0: all)")
    fidelity: Literal["agreement", "cosine"] = Field(
        "agreement", description="score without labels: agreement of argmax predictions, or mean cosine of outputs")
    levels: list[float] = Field([0.85, 0.9, 0.95], min_length=1, description="shares of the teacher's score to find ranks for")
    distill: DistillSpec = Field(default_factory=DistillSpec)
    executor: Literal["local", "ray"] = Field("local", description="local threads, or tasks on a Ray cluster")
    workers: int = Field(2, ge=1, description="parallel evaluations (local threads or Ray tasks)")
    ray_address: str | None = Field(None, description="ray.init address ('auto', 'ray://host:10001'); none: a local Ray")

    @field_validator("levels")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        if not all(0 < level <= 1 for level in value):
            raise ValueError("levels are shares of the teacher's score, each in (0, 1]")
        return sorted(set(value))

    @field_validator("distill", mode="before")
    @classmethod
    def _null_means_defaults(cls, value):
        return {} if value is None else value

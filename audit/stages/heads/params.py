"""The ``heads:`` section of the spec."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .._base import StageParams

__all__ = ["HeadsSpec"]


class HeadsSpec(StageParams):
    """Attention-head redundancy (transformers models)."""

    measure: Literal["cka", "correlation"] = Field("cka", description="head similarity: debiased linear CKA or correlation")
    threshold: float = Field(0.9, gt=0, le=1, description="similarity at or above which heads are near-duplicates")
    max_points: int = Field(2000, ge=10, description="tokens per layer used for head similarity")
    ablation_samples: int = Field(128, ge=0, description="texts used to rank heads by ablation (0: no ablation)")
    prune_fraction: float = Field(0.1, ge=0, lt=1, description="share of least important heads named as prune candidates")

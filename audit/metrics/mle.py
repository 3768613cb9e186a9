"""Levina-Bickel maximum-likelihood intrinsic dimension of a layer's activations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..estimators.mle import mle_from_neighbors
from ._base import BootstrapParams, LayerData, from_estimate
from ._registry import register


class MLEParams(BootstrapParams):
    k: int = Field(20, ge=3, description="neighbours per point")
    combine: Literal["inverse", "mean"] = Field("inverse", description="MacKay-Ghahramani (average the inverses) or the plain mean")
    unbiased: bool = Field(False, description="use k-2 instead of k-1 in the per-point estimate")


@register(
    "mle", title="MLE ID", params=MLEParams, kind="id",
    description="Levina-Bickel maximum-likelihood intrinsic dimension from k neighbours",
    neighbors=lambda params: params.k,
)
def compute(layer: LayerData, params: MLEParams):
    estimate = mle_from_neighbors(layer.neighbors(params.k), seed=layer.seed, **params.model_dump())
    return from_estimate("mle", "MLE ID", estimate)

"""Levina-Bickel maximum-likelihood intrinsic dimension of a layer's activations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..estimators.mle import mle_from_neighbors
from ._base import LayerData, from_estimate
from ._registry import register
from .local_id import LocalIDParams


class MLEParams(LocalIDParams):
    combine: Literal["inverse", "mean"] = Field("inverse", description="MacKay-Ghahramani (average the inverses) or the plain mean")


@register(
    "mle", title="MLE ID", params=MLEParams, kind="id",
    description="Levina-Bickel maximum-likelihood intrinsic dimension from k neighbours",
    neighbors=lambda params: params.k,
)
def compute(layer: LayerData, params: MLEParams):
    estimate = mle_from_neighbors(layer.neighbors(params.k), seed=layer.seed, **params.model_dump())
    return from_estimate("mle", "MLE ID", estimate, n_duplicates=estimate.n_duplicates)

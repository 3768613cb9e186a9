"""Per-point local intrinsic dimension (Levina-Bickel with k neighbours) and its spread."""

from __future__ import annotations

from pydantic import Field

from ..estimators.mle import local_id_from_neighbors
from ._base import BootstrapParams, LayerData, from_estimate
from ._registry import register


class LocalIDParams(BootstrapParams):
    k: int = Field(20, ge=3, description="neighbours per point")
    unbiased: bool = Field(False, description="use k-2 instead of k-1 in the per-point estimate")


@register(
    "local_id", title="local ID (mean)", params=LocalIDParams, kind="id",
    description="mean of the per-point local ID, with its median and quantiles",
    neighbors=lambda params: params.k,
)
def compute(layer: LayerData, params: LocalIDParams):
    estimate = local_id_from_neighbors(layer.neighbors(params.k), seed=layer.seed, **params.model_dump())
    quantiles = {f"q{round(level * 100):02d}": value for level, value in estimate.quantiles}
    return from_estimate("local_id", "local ID (mean)", estimate, n_duplicates=estimate.n_duplicates,
                         median=estimate.median, quantiles=quantiles)

"""PCA-ID: how many principal components reach a variance fraction; the spectrum comes along."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..estimators import pca_id
from ._base import LayerData, MetricParams, from_estimate
from ._registry import register

_SPECTRUM_LENGTH = 256  # eigenvalues kept for the report's spectrum plot


class PCAParams(MetricParams):
    variance: float = Field(0.9, gt=0, le=1, description="variance fraction the components must reach")
    n_groups: int = Field(20, ge=0, description="groups of the delete-a-group jackknife interval (0: none)")
    ci_level: float = Field(0.95, gt=0, lt=1, description="confidence level of the interval")


@register(
    "pca", title="PCA-ID", params=PCAParams, kind="id",
    description="principal components needed to reach the variance fraction",
)
def compute(layer: LayerData, params: PCAParams):
    estimate = pca_id(layer.matrix, seed=layer.seed, **params.model_dump())
    spectrum = np.asarray(estimate.spectrum)
    explained = spectrum / spectrum.sum()
    cumulative = np.cumsum(explained)
    reach = {f"{level:g}": int(np.searchsorted(cumulative, level - 1e-12) + 1) for level in (0.9, 0.95, 0.99)}
    return from_estimate(
        "pca", f"PCA-ID ({params.variance:g})", estimate,
        explained_variance_ratio=explained[:_SPECTRUM_LENGTH], components_to_reach=reach,
    )

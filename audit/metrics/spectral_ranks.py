"""Spectral summaries of a layer: participation ratio, effective rank, stable rank."""

from __future__ import annotations

from pydantic import Field

from ..estimators import effective_rank, participation_ratio, stable_rank
from ._base import LayerData, MetricParams, from_estimate
from ._registry import register


class SpectralParams(MetricParams):
    center: bool = Field(True, description="centre the activations (describe their covariance, not their offset)")
    n_groups: int = Field(20, ge=0, description="groups of the delete-a-group jackknife interval (0: none)")
    ci_level: float = Field(0.95, gt=0, lt=1, description="confidence level of the interval")


def _spectral_metric(name: str, title: str, estimator, description: str):
    @register(name, title=title, params=SpectralParams, kind="rank", description=description)
    def compute(layer: LayerData, params: SpectralParams):
        return from_estimate(name, title, estimator(layer.matrix, seed=layer.seed, **params.model_dump()))

    return compute


participation_ratio_metric = _spectral_metric(
    "participation_ratio", "participation ratio", participation_ratio,
    "(sum of covariance eigenvalues)^2 / sum of their squares")
effective_rank_metric = _spectral_metric(
    "effective_rank", "effective rank", effective_rank,
    "Roy-Vetterli: exp of the entropy of the normalised singular values")
stable_rank_metric = _spectral_metric(
    "stable_rank", "stable rank", stable_rank,
    "squared Frobenius norm over squared spectral norm")

"""TwoNN intrinsic dimension (Facco et al. 2017) of a layer's activations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..estimators.twonn import twonn_from_neighbors
from ._base import BootstrapParams, LayerData, from_estimate
from ._registry import register


class TwoNNParams(BootstrapParams):
    discard_fraction: float = Field(0.1, ge=0, lt=1, description="fraction of the largest ratios r2/r1 dropped before the fit")
    fit: Literal["linear", "mle"] = Field("linear", description="regression through the origin, or censored maximum likelihood")


@register(
    "twonn", title="TwoNN ID", params=TwoNNParams, kind="id",
    description="intrinsic dimension from the ratio of each point's two nearest-neighbour distances",
    neighbors=lambda params: 2,
)
def compute(layer: LayerData, params: TwoNNParams):
    estimate = twonn_from_neighbors(layer.neighbors(2), seed=layer.seed, **params.model_dump())
    return from_estimate("twonn", "TwoNN ID", estimate, n_duplicates=estimate.n_duplicates)

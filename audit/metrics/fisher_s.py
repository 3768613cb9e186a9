"""Fisher separability ID (Albergante et al. 2019), as scikit-dimension's ``FisherS``."""

from __future__ import annotations

from pydantic import Field, field_validator

from ..estimators.fisher import DEFAULT_ALPHAS, fisher_s
from ._base import BootstrapParams, LayerData, from_estimate
from ._registry import register


class FisherSParams(BootstrapParams):
    condition_number: float = Field(10.0, gt=1, description="keep principal components with variance above the largest over this")
    alphas: tuple[float, ...] = Field(DEFAULT_ALPHAS, min_length=1, description="increasing separability margins in (0, 1)")

    @field_validator("alphas")
    @classmethod
    def _increasing_within_unit_interval(cls, alphas):
        if any(not 0 < alpha < 1 for alpha in alphas) or any(b <= a for a, b in zip(alphas, alphas[1:])):
            raise ValueError("alphas must increase strictly within (0, 1)")
        return alphas


@register(
    "fisher_s", title="FisherS ID", params=FisherSParams, kind="id", default=False,
    description="intrinsic dimension from how often a point is linearly separable from the others "
                "(whitened, on the unit sphere); O(n^2) in the points, not run unless named",
)
def compute(layer: LayerData, params: FisherSParams):
    estimate = fisher_s(layer.matrix, seed=layer.seed, **params.model_dump())
    return from_estimate(
        "fisher_s", "FisherS ID", estimate,
        alpha=estimate.alpha, alphas=estimate.alphas, n_components=estimate.n_components,
        dims=[None if dim != dim else dim for dim in estimate.dims.tolist()],  # NaN: every point separable
        separable_fraction=estimate.separable_fraction,
    )

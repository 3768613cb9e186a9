"""GRIDE (Denti et al. 2022): intrinsic dimension across neighbourhood scales."""

from __future__ import annotations

from pydantic import Field

from ..estimators.gride import gride_from_neighbors
from ._base import LayerData, MetricParams, from_estimate
from ._registry import register


class GrideParams(MetricParams):
    range_max: int = Field(64, ge=2, description="largest neighbour rank n2; scales n1 = 1, 2, 4, ... with n2 = 2 n1")
    ci_level: float = Field(0.95, gt=0, lt=1, description="level of the Wald intervals per scale")


@register(
    "gride", title="GRIDE ID", params=GrideParams, kind="id",
    description="intrinsic dimension as a function of the neighbour scale; the value is the first scale",
    neighbors=lambda params: params.range_max,
)
def compute(layer: LayerData, params: GrideParams):
    found = layer.neighbors(min(params.range_max, layer.max_neighbors))
    estimate = gride_from_neighbors(found, range_max=min(params.range_max, found.k), ci_level=params.ci_level)
    return from_estimate(
        "gride", "GRIDE ID", estimate, n_duplicates=estimate.n_duplicates,
        scales=estimate.scales, dims=estimate.dims, ci_lows=estimate.ci_lows, ci_highs=estimate.ci_highs,
        radii=estimate.radii,
    )

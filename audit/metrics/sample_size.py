"""Sample-size sensitivity: TwoNN on nested random subsets (n/8, n/4, n/2, n) of the points.

The headline value is the relative change of the estimate between the two largest subsets: a
few percent says the estimate has converged at this sample size.
"""

from __future__ import annotations

from pydantic import Field

from ..estimators import sample_size_sensitivity, twonn
from ..results import MetricResult
from ._base import LayerData, MetricParams
from ._registry import register


class SampleSizeParams(MetricParams):
    fractions: tuple[float, ...] = Field((0.125, 0.25, 0.5, 1.0), min_length=2,
                                         description="nested subset sizes as fractions of n, each in (0, 1]")
    n_bootstrap: int = Field(100, ge=0, description="bootstrap replicates per subset")


@register(
    "sample_size", title="TwoNN sample-size sensitivity", params=SampleSizeParams, kind="diagnostic",
    description="relative change of TwoNN between the two largest nested subsets",
)
def compute(layer: LayerData, params: SampleSizeParams):
    found = sample_size_sensitivity(
        layer.matrix, twonn, fractions=params.fractions, seed=layer.seed, n_bootstrap=params.n_bootstrap,
    )
    return MetricResult(
        name="sample_size",
        title="TwoNN sample-size sensitivity",
        value=float(found.relative_change),
        method=f"{found.method}; relative change between the two largest",
        n_used=found.sizes[-1],
        unit="fraction",
        details={
            "sizes": list(found.sizes),
            "values": [float(v) for v in found.values],
            "ci_lows": [e.ci_low for e in found.estimates],
            "ci_highs": [e.ci_high for e in found.estimates],
        },
    )

"""Neural collapse NC1 (Papyan et al. 2020): within-class spread relative to class separation."""

from __future__ import annotations

from pydantic import Field

from ..estimators import nc1
from ._base import LayerData, MetricParams, from_estimate
from ._registry import register

DEFINITION = ("NC1 = tr(\u03a3_W \u03a3_B\u207a) / C, with \u03a3_W = (1/N) \u03a3_c \u03a3_(i\u2208c) (h_i \u2212 \u03bc_c)"
              "(h_i \u2212 \u03bc_c)\u1d40 the within-class covariance, \u03a3_B = (1/C) \u03a3_c (\u03bc_c \u2212 \u03bc_G)"
              "(\u03bc_c \u2212 \u03bc_G)\u1d40 the between-class covariance of the class means \u03bc_c around their "
              "mean \u03bc_G, \u207a the Moore-Penrose pseudo-inverse, C classes and N points")


class NC1Params(MetricParams):
    n_groups: int = Field(20, ge=0, description="groups of samples of the delete-a-group jackknife interval (0: none)")
    ci_level: float = Field(0.95, gt=0, lt=1, description="confidence level of the interval")


@register(
    "nc1", title="NC1", params=NC1Params, kind="diagnostic", default=False,
    description="neural collapse: within-class over between-class variability, 0 when classes collapse (needs labels)",
)
def compute(layer: LayerData, params: NC1Params):
    estimate = nc1(layer.matrix, layer.require_labels(), groups=layer.samples, seed=layer.seed, **params.model_dump())
    return from_estimate("nc1", "NC1", estimate, unit="", definition=DEFINITION)

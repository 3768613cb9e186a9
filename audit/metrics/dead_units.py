"""Dead units: features of a layer never positive on the probe, or never changing."""

from __future__ import annotations

from ..estimators import dead_units
from ..results import MetricResult
from ._base import LayerData, MetricParams
from ._registry import register

_LISTED = 64  # indices kept in the details


class DeadUnitsParams(MetricParams):
    pass


@register(
    "dead_units", title="Dead units", params=DeadUnitsParams, kind="diagnostic", default=False,
    description="features never active (never positive) or with zero variance on the probe",
)
def compute(layer: LayerData, params: DeadUnitsParams) -> MetricResult:
    found = dead_units(layer.matrix)
    return MetricResult(
        name="dead_units", title="Dead units", value=float(len(found.dead)), unit="units",
        method="features whose maximum over the probe is at most 0 (never active) or whose values are all equal "
               "(zero variance)",
        n_used=found.n_used,
        details={"never_active": len(found.never_active), "constant": len(found.constant),
                 "fraction": len(found.dead) / found.width, "indices": list(found.dead[:_LISTED])},
    )

"""One audited layer and every metric computed on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from .layout import Meta

__all__ = ["MetricResult", "LayerResult"]

Count = Annotated[int, Meta(minimum=0)]
Level = Annotated[float, Meta(exclusiveMinimum=0, exclusiveMaximum=1)]


@dataclass(frozen=True)
class MetricResult:
    """One metric on one layer.

    ``status`` is ``"ok"`` or ``"failed"``; a failed metric has ``value`` None and says why in
    ``message`` (a constant layer, too few points...): nothing silently becomes NaN.
    ``details`` holds what the metric measured beyond its headline value (a spectrum, GRIDE's
    scales, quantiles of local ID, estimates on nested subsets) as JSON-ready lists and numbers.
    ``n_duplicates`` counts the rows that are exact copies of another row (kNN metrics collapse
    them and read the distinct points); None where the metric does not look at it.
    """

    SCHEMA_EXTRA: ClassVar[dict] = {"if": {"properties": {"status": {"const": "ok"}}},
                                    "then": {"properties": {"value": {"type": "number"}}},
                                    "else": {"properties": {"value": {"type": "null"}}}}

    name: str
    title: str
    value: float | None
    method: str
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: Level | None = None
    ci_method: str | None = None
    n_used: Count | None = None
    n_duplicates: Annotated[int | None, Meta(minimum=0, description="rows that are exact copies of another row "
                                              "(kNN metrics read the distinct points)")] = None
    unit: str = ""
    status: Literal["ok", "failed"] = "ok"
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class LayerResult:
    """One audited layer: its activation matrix's shape and every metric computed on it.

    ``width`` is the number of features per point; ``n_points`` how many points entered the
    metrics (after pooling and the per-layer cap); ``n_points_seen`` how many the probe produced.
    ``redundancy_rate`` is ``1 - id / width`` with ``id`` the audit's primary ID metric
    (``primary_id``), None when that metric failed; ``probe_accuracy_per_id`` is the
    ``linear_probe`` accuracy over that ID.
    """

    DERIVED: ClassVar[tuple[str, ...]] = ("id=id_value", "redundancy_rate", "probe_accuracy_per_id")

    name: str
    module_type: str
    width: Annotated[int, Meta(minimum=1)]
    n_points: Annotated[int, Meta(minimum=1)]
    n_points_seen: Annotated[int, Meta(minimum=1)]
    reduction: Annotated[str, Meta(description="how the module output became points (pooling)")]
    metrics: dict[str, MetricResult]
    primary_id: str | None = None
    is_output: bool = False
    task_fixed: Annotated[str | None, Meta(description="why the task fixes this layer's width (class scores, "
                                           "vocabulary, layers.task_fixed); null when it does not. A task-fixed layer "
                                           "has no redundancy_rate")] = None

    @property
    def id_value(self) -> float | None:
        metric = self.metrics.get(self.primary_id or "")
        return metric.value if metric is not None and metric.ok else None

    @property
    def redundancy_rate(self) -> Annotated[float | None, Meta(description="1 - id / width")]:
        """1 - ID / width; None without an ID, or when the task fixes the width (no redundancy)."""
        value = self.id_value
        return None if value is None or self.task_fixed else 1.0 - value / self.width

    @property
    def probe_accuracy_per_id(self) -> Annotated[float | None, Meta(description="linear_probe accuracy / id")]:
        """Linear-probe accuracy over the layer's ID, None without either."""
        probe, value = self.metrics.get("linear_probe"), self.id_value
        return probe.value / value if probe is not None and probe.ok and value else None

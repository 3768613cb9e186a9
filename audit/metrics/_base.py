"""What a metric reads (one layer's activation matrix, with a shared neighbour search) and the
helpers that turn estimator results into :class:`~audit.results.MetricResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..estimators import EstimatorInputError
from ..estimators.results import Estimate
from ..results import MetricResult

if TYPE_CHECKING:
    from ..estimators.knn import Neighbors

__all__ = ["LayerData", "MetricParams", "BootstrapParams", "from_estimate", "failed", "NO_LABELS"]

NO_LABELS = "not computed: the probe has no labels"


class MetricParams(BaseModel):
    """Base of every metric's params: unknown options are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BootstrapParams(MetricParams):
    n_bootstrap: int = Field(200, ge=0, description="bootstrap replicates for the interval (0: none)")
    ci_level: float = Field(0.95, gt=0, lt=1, description="confidence level of the interval")


@dataclass
class LayerData:
    """One layer's activation matrix (points x features, float32) and its shared kNN search.

    ``neighbors_k`` is the largest neighbour count any selected metric needs; the first metric
    that asks runs the search with it, the others reuse the result. ``samples`` is the probe
    sample of each row (several rows share one when every token or position is a point) and
    ``labels`` that sample's label, None when the probe has none.
    """

    name: str
    matrix: np.ndarray
    seed: int
    neighbors_k: int = 0
    device: str = "auto"
    samples: np.ndarray | None = None
    labels: np.ndarray | None = None
    _neighbors: Neighbors | None = field(default=None, repr=False)

    def require_labels(self) -> np.ndarray:
        """The rows' labels; raises "not computed: the probe has no labels" without them."""
        if self.labels is None:
            raise EstimatorInputError(NO_LABELS)
        return self.labels

    @property
    def width(self) -> int:
        return self.matrix.shape[1]

    def neighbors(self, k: int) -> Neighbors:
        if self._neighbors is None or self._neighbors.k < k:
            search_k = min(max(k, self.neighbors_k), self.matrix.shape[0] - 1)
            if search_k < k:
                raise EstimatorInputError(f"{self.matrix.shape[0]} points are too few for {k} neighbours")
            from ..estimators import nearest_neighbors  # the search brings torch: only when a metric runs

            self._neighbors = nearest_neighbors(self.matrix, k=search_k, seed=self.seed, device=self.device)
        return self._neighbors


def from_estimate(name: str, title: str, estimate: Estimate, *, unit: str = "dimensions", **details) -> MetricResult:
    """A MetricResult carrying an estimator result's value, interval and method."""
    notes = list(estimate.notes)
    if estimate.n_duplicates:
        notes.append(f"{estimate.n_duplicates} duplicate points left out")
    return MetricResult(
        name=name,
        title=title,
        value=float(estimate.value),
        method=estimate.method,
        ci_low=estimate.ci_low,
        ci_high=estimate.ci_high,
        ci_level=estimate.ci_level,
        ci_method=estimate.ci_method,
        n_used=estimate.n_used,
        unit=unit,
        message="; ".join(notes),
        details={key: _jsonable(value) for key, value in details.items()},
    )


def failed(name: str, title: str, error: Exception) -> MetricResult:
    """A metric that could not be computed on this layer, with the reason."""
    return MetricResult(name=name, title=title, value=None, method="", status="failed", message=str(error))


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value

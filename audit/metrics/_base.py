"""What a metric reads (one layer's activation matrix, with a shared neighbour search) and the
helpers that turn estimator results into :class:`~audit.results.MetricResult`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..estimators import EstimatorInputError
from ..estimators._distinct import DistinctRows, distinct_rows
from ..estimators._input import as_matrix
from ..estimators._knn_common import neighbors_for
from ..estimators.estimates import Estimate
from ..results import MetricResult

if TYPE_CHECKING:
    from ..estimators.knn import Neighbors

__all__ = ["LayerData", "MetricParams", "BootstrapParams", "from_estimate", "failed", "capped_at_width", "NO_LABELS"]

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
    _distinct: DistinctRows | None = field(default=None, repr=False)

    def require_labels(self) -> np.ndarray:
        """The rows' labels; raises "not computed: the probe has no labels" without them."""
        if self.labels is None:
            raise EstimatorInputError(NO_LABELS)
        return self.labels

    @property
    def width(self) -> int:
        return self.matrix.shape[1]

    @property
    def distinct(self) -> DistinctRows:
        """The layer's distinct rows (exact duplicates collapsed), found once."""
        if self._distinct is None:
            self._distinct = distinct_rows(as_matrix(self.matrix, keep_float32=True))
        return self._distinct

    @property
    def max_neighbors(self) -> int:
        """The most neighbours a point has among the distinct points."""
        return self.distinct.n_distinct - 1

    def neighbors(self, k: int) -> Neighbors:
        """At least ``k`` nearest neighbours of every distinct point, among the distinct points."""
        if self._neighbors is None or self._neighbors.k < k:
            search_k = min(max(k, self.neighbors_k), self.max_neighbors)
            if search_k < k:
                raise EstimatorInputError(f"{self.distinct.n_distinct} distinct points are too few for {k} neighbours")
            matrix = as_matrix(self.matrix, keep_float32=True)
            self._neighbors = neighbors_for(matrix, search_k, None, distinct=self.distinct, seed=self.seed,
                                            device=self.device)
        return self._neighbors


def from_estimate(name: str, title: str, estimate: Estimate, *, unit: str = "dimensions",
                  n_duplicates: int | None = None, **details) -> MetricResult:
    """A MetricResult carrying an estimator result's value, interval and method; kNN metrics pass
    the estimate's ``n_duplicates`` (others have none to report)."""
    notes = list(estimate.notes)
    if estimate.n_duplicates:
        notes.append(f"{estimate.n_duplicates} rows are exact duplicates: the estimate reads each distinct point once")
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
        n_duplicates=n_duplicates,
        unit=unit,
        message="; ".join(notes),
        details={key: _jsonable(value) for key, value in details.items()},
    )


def failed(name: str, title: str, error: Exception) -> MetricResult:
    """A metric that could not be computed on this layer, with the reason."""
    return MetricResult(name=name, title=title, value=None, method="", status="failed", message=str(error))


def capped_at_width(result: MetricResult, width: int) -> MetricResult:
    """An ID no larger than the layer's ``width``: a value (or interval end) above it is reported
    as the width, with the estimator's own figures kept in ``details`` (``raw_value``,
    ``raw_ci_low``, ``raw_ci_high``) and a note in the message. A layer cannot use more
    dimensions than it has, so the redundancy rate 1 - ID / width is never negative."""
    if not result.ok or result.value is None or max(result.value, result.ci_high or result.value) <= width:
        return result
    raw = {"raw_value": result.value, "raw_ci_low": result.ci_low, "raw_ci_high": result.ci_high}
    if result.value > width:
        note = f"estimate {result.value:.4g} above the width {width}; reported as {width}"
    else:
        note = f"interval's upper end {result.ci_high:.4g} above the width {width}; reported as {width}"
    return replace(
        result,
        value=min(result.value, float(width)),
        ci_low=None if result.ci_low is None else min(result.ci_low, float(width)),
        ci_high=None if result.ci_high is None else min(result.ci_high, float(width)),
        message="; ".join(part for part in (result.message, note) if part),
        details={**result.details, **raw},
    )


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value

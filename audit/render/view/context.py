"""What every section builder reads: the result and the readings of it that several sections share
(each layer's primary ID and redundancy, the layers named as candidates, PCA's component counts,
figure numbering, section numbers)."""

from __future__ import annotations

from collections.abc import Sequence

from ...results import AuditResult, LayerResult, MetricResult
from .._numbers import finite
from .figure_book import FigureBook, common_prefix
from .metric_info import metric_infos

__all__ = [
    "CANDIDATE_REDUNDANCY",
    "SETTLED_CHANGE",
    "ReportContext",
    "ok_metric",
    "pca_reach",
    "redundancy_bounds",
]

# a hidden layer whose redundancy rate is at least this (ID at most half the width) is named
# as a candidate for narrowing in the summary; at most _MAX_CANDIDATES of them, highest first
CANDIDATE_REDUNDANCY = 0.5
_MAX_CANDIDATES = 3
# relative change of TwoNN between the two largest subsets above which the summary says the
# estimate has not settled at this sample size
SETTLED_CHANGE = 0.05


class ReportContext:
    """``result`` with its metrics' metadata (``infos``), the anchor of each layer's row, the
    report's figures and the numbers of its sections (``section_keys`` in order)."""

    def __init__(self, result: AuditResult, section_keys: Sequence[str]):
        self.result = result
        self.infos = metric_infos(result)
        self.anchors = {layer.name: f"layer-{index}" for index, layer in enumerate(result.layers, 1)}
        self.figures = FigureBook(common_prefix([layer.name for layer in result.layers]))
        primary = result.primary_id
        self.primary_title = self.infos[primary].title if primary in self.infos else (primary or "")
        self._section_keys = tuple(section_keys)

    def section_number(self, key: str) -> int:
        """The number of section ``key`` (every section is always shown)."""
        return self._section_keys.index(key) + 1

    def names_of_kind(self, kind: str) -> list[str]:
        """The metrics of ``kind`` in the audit's order, the primary ID first."""
        names = [name for name, info in self.infos.items() if info.kind == kind]
        primary = self.result.primary_id
        if primary in names:
            names.remove(primary)
            names.insert(0, primary)
        return names

    def ok_metrics(self, name: str) -> list[MetricResult]:
        """Metric ``name`` on every layer where it succeeded, in layer order."""
        return [metric for metric in (ok_metric(layer, name) for layer in self.result.layers) if metric]

    def n_used(self, name: str) -> set[int]:
        """The numbers of points metric ``name`` used across the layers where it succeeded."""
        return {metric.n_used for metric in self.ok_metrics(name) if metric.n_used is not None}

    def primary_metric(self, layer: LayerResult) -> MetricResult | None:
        """The layer's result for the audit's primary ID metric, None when absent or failed."""
        metric = ok_metric(layer, self.result.primary_id or "")
        return metric if metric is not None and finite(metric.value) and layer.width > 0 else None

    def redundancy(self, layer: LayerResult) -> float | None:
        """1 - ID / width with the primary ID (as ``LayerResult.redundancy_rate``); None for a
        task-fixed layer, whose width is not a design choice."""
        metric = self.primary_metric(layer)
        return None if metric is None or layer.task_fixed else 1.0 - metric.value / layer.width

    def ranked_hidden(self) -> list[LayerResult]:
        """Hidden layers with a primary ID whose width the task does not fix, most redundant first."""
        hidden = [layer for layer in self.result.layers
                  if not layer.is_output and not layer.task_fixed and self.primary_metric(layer)]
        return sorted(hidden, key=lambda layer: -self.redundancy(layer))

    def candidates(self) -> list[LayerResult]:
        """The hidden layers the summary names as candidates for narrowing."""
        ranked = self.ranked_hidden()
        return [layer for layer in ranked if self.redundancy(layer) >= CANDIDATE_REDUNDANCY][:_MAX_CANDIDATES]

    def reach_levels(self) -> list[float]:
        """Every variance fraction any layer's PCA reports a component count for, smallest first."""
        return sorted({level for layer in self.result.layers for level, _ in pca_reach(layer)})


def ok_metric(layer: LayerResult, name: str) -> MetricResult | None:
    """The layer's result for metric ``name``, None when absent or failed."""
    metric = layer.metrics.get(name)
    return metric if metric is not None and metric.ok else None


def pca_reach(layer: LayerResult) -> list[tuple[float, int]]:
    """(variance fraction, components) pairs from the layer's PCA details, smallest fraction first."""
    metric = ok_metric(layer, "pca")
    if metric is None:
        return []
    found = []
    for level, k in (metric.details.get("components_to_reach") or {}).items():
        try:
            found.append((float(level), int(k)))
        except (TypeError, ValueError):
            continue
    return sorted(found)


def redundancy_bounds(metric: MetricResult, width: int) -> tuple[float | None, float | None]:
    """The redundancy rate's interval from the ID's (1 - high / width, 1 - low / width); Nones
    when the ID has no finite interval."""
    if not (finite(metric.ci_low) and finite(metric.ci_high)):
        return None, None
    return 1 - metric.ci_high / width, 1 - metric.ci_low / width

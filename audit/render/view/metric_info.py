"""Each metric's title, kind and description, read from ``AuditResult.metric_info``.

A metric's title is the one its results carry (it may name a parameter: "PCA-ID (0.9)"), else
``metric_info``'s. A metric a layer carries but ``metric_info`` does not describe (a result
assembled elsewhere, an older audit.json) still renders: of kind "diagnostic", with no
description.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...results import AuditResult

__all__ = ["MetricInfo", "metric_infos"]

FALLBACK_KIND = "diagnostic"


@dataclass(frozen=True)
class MetricInfo:
    name: str
    title: str
    kind: str  # "id", "rank" or "diagnostic"
    description: str


def metric_infos(result: AuditResult) -> dict[str, MetricInfo]:
    """Every metric the audit selected or any layer carries, in the audit's order."""
    return {name: _info(result, name) for name in _metric_names(result)}


def _metric_names(result: AuditResult) -> list[str]:
    names = list(result.metric_names)
    for layer in result.layers:
        names.extend(name for name in layer.metrics if name not in names)
    return names


def _info(result: AuditResult, name: str) -> MetricInfo:
    known = result.metric_info.get(name, {})
    return MetricInfo(
        name=name,
        title=_title_from_results(result, name) or known.get("title") or name,
        kind=known.get("kind") or FALLBACK_KIND,
        description=known.get("description", ""),
    )


def _title_from_results(result: AuditResult, name: str) -> str:
    """The title the layers' results give the metric, a successful one first ("PCA-ID (0.9)"
    names its parameter); "" when no layer has a result for it."""
    found = [layer.metrics[name] for layer in result.layers if name in layer.metrics]
    found.sort(key=lambda metric: not metric.ok)
    return found[0].title if found else ""

"""Audit metrics: one module per metric, found through the registry.

:func:`compute_layer` runs the selected metrics on one layer's activations; a metric whose
estimator rejects the data (a constant layer, too few points) becomes a ``failed`` result
with the reason, never NaN and never a crash of the whole audit. An intrinsic dimension
(``kind="id"``) above the layer's width is reported as the width, with a note (see
:func:`~audit.metrics._base.capped_at_width`): this is the one place that rule lives.
"""

from __future__ import annotations

from ..estimators import EstimatorInputError
from ..estimators._bootstrap import shared_draws
from ..results import MetricResult
from ._base import LayerData, capped_at_width, failed
from ._registry import MetricDef, registry

__all__ = ["LayerData", "MetricDef", "registry", "compute_layer", "neighbors_needed", "ID_PREFERENCE"]

# the metric whose value is "the layer's ID" (redundancy rate, accuracy per ID), first present wins
ID_PREFERENCE = ("twonn", "mle", "gride", "local_id", "fisher_s", "pca")


def neighbors_needed(selected: dict) -> int:
    """The largest neighbour count among the selected metrics (``{name: params}``)."""
    metrics = registry()
    return max((metrics[name].neighbors(params) for name, params in selected.items()), default=0)


def compute_layer(layer: LayerData, selected: dict) -> dict[str, MetricResult]:
    """Every selected metric (``{name: params}``) on ``layer``, in the given order."""
    metrics = registry()
    results = {}
    with shared_draws():  # bootstraps over the same points draw the same counts: once (the audit's scope spans layers)
        for name, params in selected.items():
            definition = metrics[name]
            try:
                result = definition.compute(layer, params)
                results[name] = capped_at_width(result, layer.width) if definition.kind == "id" else result
            except EstimatorInputError as error:
                results[name] = failed(name, definition.title, error)
    return results

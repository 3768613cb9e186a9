"""The model's accuracy on the probe's labels and accuracy per intrinsic dimension.

Accuracy per ID (the "accuracy per intrinsic dimension" of the design) is the accuracy divided
by the ID of the last hidden layer: the last audited layer, in forward order, that is not the
model's output and has an ID. Its bounds combine the ends of the accuracy's Wilson interval
with the ends of that layer's ID interval (accuracy low / ID high, accuracy high / ID low): a
conservative range, not an interval at a stated level. The stage has no spec section: it runs
whenever the model's output reads as class scores for the probe's labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ...policy.figure import Figure
from ...results import Meta
from .. import Stage, register_stage

__all__ = ["AccuracyResult", "AccuracyStage"]

_LEVEL = 0.95
Share = Annotated[float, Meta(minimum=0, maximum=1)]


@dataclass(frozen=True)
class AccuracyResult:
    """The model's accuracy on the probe's labels (with its interval), and accuracy per
    intrinsic dimension: ``accuracy / id`` of the last hidden layer (the last audited layer
    before the output), with conservative bounds from both intervals (see audit/stages/accuracy)."""

    accuracy: Share
    n_samples: Annotated[int, Meta(minimum=1)]
    ci_low: Share
    ci_high: Share
    ci_level: Annotated[float, Meta(exclusiveMinimum=0, exclusiveMaximum=1)]
    ci_method: str
    last_hidden_layer: str | None
    last_hidden_id: float | None
    accuracy_per_id: float | None
    accuracy_per_id_low: float | None = None
    accuracy_per_id_high: float | None = None


@register_stage
class AccuracyStage(Stage):
    key = "accuracy"
    result = AccuracyResult
    order = 0
    figures = {
        "accuracy": Figure("the model's accuracy on the probe labels", "accuracy.accuracy"),
        "accuracy_per_id": Figure("accuracy over the last hidden layer's ID", "accuracy.accuracy_per_id"),
    }

    def run(self, context) -> AccuracyResult | None:
        if not context.use_accuracy:
            return None
        return accuracy_result(context.captured.predictions, context.probe.labels, context.layers)


def accuracy_result(predictions, labels, layers) -> AccuracyResult:
    """Accuracy of ``predictions`` against ``labels`` and accuracy per ID over ``layers``."""
    import numpy as np

    from ...estimators.proportion import wilson_interval

    accuracy = float(np.mean(predictions == labels))
    low, high = wilson_interval(accuracy, int(labels.size), _LEVEL)
    hidden = [layer for layer in layers if not layer.is_output and layer.id_value is not None]
    last = hidden[-1] if hidden else None
    per_id, bounds = None, (None, None)
    if last is not None and last.id_value > 0:
        per_id = accuracy / last.id_value
        bounds = _per_id_bounds(low, high, last.metrics[last.primary_id])
    return AccuracyResult(accuracy=accuracy, n_samples=int(labels.size), ci_low=low, ci_high=high, ci_level=_LEVEL,
                          ci_method="Wilson score interval", last_hidden_layer=None if last is None else last.name,
                          last_hidden_id=None if last is None else last.id_value, accuracy_per_id=per_id,
                          accuracy_per_id_low=bounds[0], accuracy_per_id_high=bounds[1])


def _per_id_bounds(low: float, high: float, metric) -> tuple[float | None, float | None]:
    if metric.ci_low is None or metric.ci_high is None or not metric.ci_low > 0:
        return None, None
    return low / metric.ci_high, high / metric.ci_low

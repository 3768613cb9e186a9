"""The model's accuracy on the probe's labels and accuracy per intrinsic dimension.

Accuracy per ID (the "accuracy per intrinsic dimension" of the design) is the accuracy divided
by the ID of the last hidden layer: the last audited layer, in forward order, that is not the
model's output and has an ID. Its bounds combine the ends of the accuracy's Wilson interval
with the ends of that layer's ID interval (accuracy low / ID high, accuracy high / ID low): a
conservative range, not an interval at a stated level.
"""

from __future__ import annotations

import math

import numpy as np

from .estimators._bootstrap import normal_quantile
from .results import AccuracyResult

__all__ = ["accuracy_result", "outputs_class_scores", "wilson_interval"]

_LEVEL = 0.95


def wilson_interval(p: float, n: int, level: float = _LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` observed on ``n`` trials."""
    z = normal_quantile(level)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_result(predictions, labels, layers, output_width: int | None) -> AccuracyResult | None:
    """Accuracy of ``predictions`` against ``labels`` and accuracy per ID over ``layers``.

    Only when the model's output reads as class scores: 2-D, as wide as the number of classes
    (the largest label + 1). An embedding model's output is not a classifier's, so no accuracy.
    """
    if not outputs_class_scores(predictions, labels, output_width):
        return None
    accuracy = float(np.mean(predictions == labels))
    low, high = wilson_interval(accuracy, int(labels.size))
    hidden = [layer for layer in layers if not layer.is_output and layer.id_value is not None]
    last = hidden[-1] if hidden else None
    per_id, bounds = None, (None, None)
    if last is not None and last.id_value > 0:
        per_id = accuracy / last.id_value
        bounds = _per_id_bounds(low, high, last.metrics[last.primary_id])
    return AccuracyResult(
        accuracy=accuracy,
        n_samples=int(labels.size),
        ci_low=low,
        ci_high=high,
        ci_level=_LEVEL,
        ci_method="Wilson score interval",
        last_hidden_layer=None if last is None else last.name,
        last_hidden_id=None if last is None else last.id_value,
        accuracy_per_id=per_id,
        accuracy_per_id_low=bounds[0],
        accuracy_per_id_high=bounds[1],
    )


def outputs_class_scores(predictions, labels, output_width: int | None) -> bool:
    return predictions is not None and labels is not None and output_width == int(labels.max()) + 1


def _per_id_bounds(low: float, high: float, metric) -> tuple[float | None, float | None]:
    if metric.ci_low is None or metric.ci_high is None or not metric.ci_low > 0:
        return None, None
    return low / metric.ci_high, high / metric.ci_low

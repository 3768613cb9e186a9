"""Linear-probe accuracy: how well a linear classifier reads the probe's labels from a layer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..estimators import EstimatorInputError
from ..estimators.proportion import wilson_interval
from ..results import MetricResult
from ._base import LayerData, MetricParams
from ._registry import register


class LinearProbeParams(MetricParams):
    folds: int = Field(5, ge=2, le=20, description="cross-validation folds (a sample's points stay in one fold)")
    C: float = Field(1.0, gt=0, description="inverse L2 regularisation strength of the logistic regression")
    max_iter: int = Field(500, ge=10, description="iterations of the lbfgs solver")


@register(
    "linear_probe", title="Linear probe", params=LinearProbeParams, kind="diagnostic", default=False,
    description="cross-validated accuracy of a logistic regression reading the labels from the layer (needs labels)",
)
def compute(layer: LayerData, params: LinearProbeParams) -> MetricResult:
    from sklearn.linear_model import LogisticRegression  # scikit-learn only when the metric runs
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = layer.require_labels()
    samples = layer.samples if layer.samples is not None else np.arange(labels.size)
    folds = _folds(labels, samples, params.folds)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=params.C, max_iter=params.max_iter))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=layer.seed)
    predicted = cross_val_predict(model, layer.matrix, labels, groups=samples, cv=splitter)
    accuracy = float(np.mean(predicted == labels))
    low, high = wilson_interval(accuracy, int(labels.size))
    return MetricResult(
        name="linear_probe", title="Linear probe", value=accuracy, unit="fraction",
        method=f"logistic regression (L2, C={params.C:g}) on standardised activations, {folds}-fold "
               f"cross-validated out-of-fold accuracy; folds keep a sample's points together",
        ci_low=low, ci_high=high, ci_level=0.95, ci_method="Wilson score interval over points",
        n_used=int(labels.size), details={"folds": folds, "n_classes": int(np.unique(labels).size)},
    )


def _folds(labels: np.ndarray, samples: np.ndarray, wanted: int) -> int:
    """``wanted`` folds, fewer when the rarest class has fewer samples; at least 2."""
    first = np.unique(samples, return_index=True)[1]
    counts = np.unique(labels[first], return_counts=True)[1]
    if counts.size < 2:
        raise EstimatorInputError(f"a linear probe needs at least 2 classes, got {counts.size}")
    if counts.min() < 2:
        raise EstimatorInputError("a linear probe needs at least 2 samples of every class")
    return int(min(wanted, counts.min()))

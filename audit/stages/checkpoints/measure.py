"""One checkpoint measured: its weights swapped into a model built once, the probe run through the
same taps with the same capture settings (so every checkpoint reads the same probe points of the
same layers), then the main audit's metric registry on each layer and the accuracy of the class
scores on the probe labels.

What is measured per layer (:class:`Plan`): the audit's primary ID (the first of
:data:`audit.metrics.ID_PREFERENCE` the spec selects, TwoNN by default), PCA-ID and the effective
rank, each with the options the spec's ``metrics:`` gives it, else its defaults; their intervals are
the estimators' own (bootstrap or jackknife, :mod:`audit.estimators`). Accuracy needs nothing held
out: no checkpoint was fitted to the probe, which the audit requires of any probe with labels; its
interval is Wilson's, as in the accuracy stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...capture import capture_probe
from ...metrics import ID_PREFERENCE, LayerData, compute_layer, neighbors_needed, registry
from ...outputs import outputs_class_scores
from .result import CheckpointLayer, CheckpointStep
from .series import Checkpoint

__all__ = ["Plan", "plan_for", "measure_checkpoint", "ACCURACY_METHOD"]

_LEVEL = 0.95
ACCURACY_METHOD = "share of probe samples whose largest class score is their label; 95% Wilson score interval"


@dataclass(frozen=True)
class Plan:
    """What every checkpoint is measured on: the audited layer names, the metrics (``{name:
    params}``: the primary ID, ``pca``, ``effective_rank``) and the primary ID's name."""

    layer_names: tuple[str, ...]
    metrics: dict
    primary: str


def plan_for(spec, layer_names) -> Plan:
    """The plan for ``spec``: its selected metrics' options where it gives them, defaults otherwise."""
    selected, definitions = spec.selected_metrics(), registry()
    primary = next((name for name in ID_PREFERENCE if name in selected), ID_PREFERENCE[0])
    metrics = {name: selected.get(name) or definitions[name].params() for name in (primary, "pca", "effective_rank")}
    return Plan(tuple(layer_names), metrics, primary)


def measure_checkpoint(loaded, model, probe, plan: Plan, checkpoint: Checkpoint) -> CheckpointStep:
    """``checkpoint``'s weights loaded into ``model`` (a copy this caller owns), then measured."""
    from ...sources.adapters.torch import load_weights

    load_weights(model.module, checkpoint.path)
    captured = capture_probe(model, probe, list(plan.layer_names), loaded.spec)
    layers = tuple(_layer(captured.layers[name], loaded.spec, plan, probe.labels) for name in plan.layer_names)
    return CheckpointStep(checkpoint.step, checkpoint.label, layers, *_accuracy(captured, probe.labels))


def _layer(layer, spec, plan: Plan, labels) -> CheckpointLayer:
    data = LayerData(layer.name, layer.matrix, spec.seed, neighbors_needed(plan.metrics), spec.capture.knn_device,
                     samples=layer.samples, labels=None if labels is None else labels[layer.samples])
    found = compute_layer(data, plan.metrics)
    return CheckpointLayer(layer.name, found[plan.primary], found["pca"], found["effective_rank"])


def _accuracy(captured, labels) -> tuple[float | None, float | None, float | None]:
    if not outputs_class_scores(captured.predictions, labels, captured.output_width):
        return None, None, None
    import numpy as np

    from ...estimators.proportion import wilson_interval

    accuracy = float(np.mean(captured.predictions == labels))
    return (accuracy, *wilson_interval(accuracy, int(labels.size), _LEVEL))

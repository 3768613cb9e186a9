"""Orchestration only: spec -> model and probe -> capture -> metrics -> the registered stages
(:mod:`audit.stages`, in their order) -> policies -> AuditResult."""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import importlib.metadata
import platform
import time
import uuid

import torch

from . import __version__
from .audit_warnings import layer_warnings
from .capture import capture_probe
from .estimators._bootstrap import shared_draws
from .estimators.knn import resolve_device
from .layers import select_layers
from .metrics import ID_PREFERENCE, LayerData, compute_layer, neighbors_needed, registry
from .outputs import outputs_class_scores
from .policy import Gate, evaluate
from .progress import Progress
from .results import AuditResult, EnvironmentInfo, LayerResult
from .sources import load_model, load_probe
from .stages import StageContext, stages
from .task_fixed import TaskShape, task_fixed_reason

__all__ = ["run_audit", "resolve_layers"]

_REPORTED_PACKAGES = ("torch", "numpy", "scipy", "scikit-learn", "numba", "safetensors", "pydantic",
                      "jinja2", "matplotlib", "weasyprint", "transformers", "tokenizers", "onnx", "onnxruntime")


def run_audit(loaded, progress: Progress | None = None, *, gate: Gate | None = None) -> AuditResult:
    """Run the audit a validated :class:`~audit.spec.LoadedSpec` describes; with a ``gate``
    (:func:`audit.policy.gate_for`), its policies' verdict on the result comes with it."""
    progress = progress or Progress(quiet=True)
    spec, timings, started = loaded.spec, {}, time.perf_counter()
    progress.stage(f"loading model {spec.model.kind}")
    model = load_model(loaded)
    context = StageContext(loaded, model, progress, resolve_layers(loaded, model))
    enabled = [stage for stage in stages() if stage.enabled(spec)]
    requests = [request for stage in enabled if (request := stage.prepare(context)) is not None]
    progress.stage(f"loading probe {spec.probe.source}")
    context.probe = probe = load_probe(loaded)
    progress.stage(f"capturing {len(context.layer_names)} layers on {probe.info.n_samples} samples")
    tick = time.perf_counter()
    context.captured = captured = capture_probe(model, probe, context.layer_names, spec, progress, requests)
    timings["capture_s"] = time.perf_counter() - tick
    context.use_accuracy = outputs_class_scores(captured.predictions, probe.labels, captured.output_width)
    task = _task_shape(spec, probe, model, captured, context.use_accuracy)
    tick = time.perf_counter()
    selected = spec.selected_metrics()
    primary = next((name for name in ID_PREFERENCE if name in selected), None)
    with shared_draws():  # layers of equal point counts draw the same bootstrap counts: once for all of them
        context.layers = layers = tuple(_layer_result(captured.layers[name], spec, selected, primary, probe.labels,
                                                      task, progress) for name in context.layer_names)
    timings["metrics_s"] = time.perf_counter() - tick
    for stage in enabled:
        tick = time.perf_counter()
        context.results[stage.key] = stage.run(context)
        if stage.params is not None:
            timings[f"{stage.key}_s"] = time.perf_counter() - tick
    timings["total_s"] = time.perf_counter() - started
    result = AuditResult(
        title=spec.output.title or f"{model.info.module_type} ({model.info.source})",
        spec_path=str(loaded.path),
        model=model.info,
        probe=probe.info,
        environment=_environment(spec),
        layers=layers,
        metric_names=tuple(selected),
        primary_id=primary,
        metric_info=_metric_info(selected),
        stages={stage.key: context.results.get(stage.key) for stage in stages()},
        warnings=tuple(layer_warnings(layers)),
        timings={key: round(value, 3) for key, value in timings.items()},
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        run_id=uuid.uuid4().hex[:16],
    )
    if gate is None or not gate.packs:
        return result
    progress.stage(f"checking {sum(len(pack.rules) for pack in gate.packs)} policy rules")
    return dataclasses.replace(result, verdict=evaluate(gate, result.to_dict()))


def _task_shape(spec, probe, model, captured, use_accuracy: bool) -> TaskShape:
    """What the task fixes in this audit: classes, vocabulary, the width of class-score outputs."""
    score_width = captured.output_width if use_accuracy else captured.output_scores
    vocabulary = model.vocabulary or (len(model.tokenizer) if model.tokenizer else None)
    return TaskShape(n_classes=probe.info.n_classes, vocabulary=vocabulary, score_width=score_width,
                     patterns=tuple(spec.layers.task_fixed))


def resolve_layers(loaded, model) -> list[str]:
    """The layer names the spec selects on this :class:`~audit.sources.LoadedModel` (its errors
    name the spec's line)."""
    available, defaults = model.adapter.layers(loaded, model)
    include = loaded.spec.layers.include or defaults

    def fail(loc, message):
        raise loaded.error(loc, message)

    chosen = select_layers(available, include, loaded.spec.layers.exclude, fail)
    for index, pattern in enumerate(loaded.spec.layers.task_fixed):
        if not any(fnmatch.fnmatchcase(name, pattern) for name in chosen):
            fail(("layers", "task_fixed", index), f"pattern {pattern!r} matches no audited layer "
                                                  f"(audited: {', '.join(chosen)})")
    return chosen


def _layer_result(layer, spec, selected, primary, labels, task, progress) -> LayerResult:
    matrix, samples = layer.matrix, layer.samples
    progress.stage(f"metrics on {layer.name}: {matrix.shape[0]} points x {matrix.shape[1]} features")
    data = LayerData(layer.name, matrix, spec.seed, neighbors_needed(selected), spec.capture.knn_device,
                     samples=samples, labels=None if labels is None else labels[samples])
    return LayerResult(
        name=layer.name,
        module_type=layer.module_type,
        width=int(matrix.shape[1]),
        n_points=int(matrix.shape[0]),
        n_points_seen=int(layer.n_seen),
        reduction=layer.reduction,
        metrics=compute_layer(data, selected),
        primary_id=primary,
        is_output=layer.is_output,
        task_fixed=task_fixed_reason(layer.name, int(matrix.shape[1]), layer.is_output, task),
    )


def _metric_info(selected) -> dict[str, dict[str, str]]:
    metrics = registry()
    return {name: {"title": metrics[name].title, "kind": metrics[name].kind, "description": metrics[name].description}
            for name in selected}


def _environment(spec) -> EnvironmentInfo:
    packages = {}
    for name in _REPORTED_PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return EnvironmentInfo(
        model_audit=__version__,
        python=platform.python_version(),
        platform=platform.platform(),
        packages=packages,
        torch_threads=torch.get_num_threads(),
        device=f"model on cpu; neighbour search on {resolve_device(spec.capture.knn_device).type}",
    )

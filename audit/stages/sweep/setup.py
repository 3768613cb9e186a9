"""What every evaluation of a sweep shares, built the same way in the driver and in each worker:
the model, the probe subset as ready batches, the layer groups, each layer's SVD, and the
per-sample score of a student's outputs (correctness with labels, agreement or cosine with the
teacher's without).

With distillation (``sweep.distill.steps > 0``) the subset is split with the seed:
``sweep.distill.holdout`` of it is held out and scored (``inputs``), the rest is what students
are trained on (``train_inputs``), so no score is measured on a sample a student was fitted to.
Without distillation nothing is fitted and every sample of the subset is scored.

Workers on other processes or machines (Ray) rebuild this from the spec alone
(:func:`prepare_from_spec`), so nothing unpicklable travels and every worker holds the same
numbers: the same weights, the same samples, the same SVDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from ...batches import Batch, batches
from ...estimators.lowrank import LowRankFactors, factorize
from ...heldout import split_samples
from ...layers import largest_container, select_layers
from ...outputs import accuracy_values, agreement_values, fidelity_values, outputs_class_scores, outputs_of, probe_subset, subset

__all__ = ["SweepSetup", "prepare", "prepare_from_spec", "FACTORIZABLE", "FACTORIZABLE_KINDS"]

FACTORIZABLE = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
FACTORIZABLE_KINDS = "nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, and GPT-2's Conv1D in transformers models"
_MEASURES = {
    "accuracy": "accuracy on the probe's labels",
    "agreement": "agreement of the student's argmax prediction with the teacher's",
    "cosine": "mean cosine similarity of the student's output to the teacher's",
}


@dataclass
class SweepSetup:
    """``groups``: (name, layer names) in model order; ``score(outputs)`` gives one value per
    scored sample (``inputs``), comparing a student's outputs with the labels or the teacher's
    outputs (``teacher_outputs``). ``train_inputs`` and ``train_teacher`` are the samples
    students are distilled on (empty, None without distillation)."""

    module: torch.nn.Module
    inputs: list[Batch]
    groups: list[tuple[str, tuple[str, ...]]]
    factors: dict[str, LowRankFactors]
    measure: str
    teacher_outputs: torch.Tensor
    score: Callable[[torch.Tensor], torch.Tensor]
    n_samples: int
    train_inputs: list[Batch] = field(default_factory=list)
    train_teacher: torch.Tensor | None = None

    @property
    def n_train(self) -> int:
        return sum(batch.size for batch in self.train_inputs)

    @property
    def measure_description(self) -> str:
        return _MEASURES[self.measure]


def prepare(loaded, model, probe) -> SweepSetup:
    """The sweep's shared state for a loaded model and probe (the spec's ``sweep`` section)."""
    sweep, seed = loaded.spec.sweep, loaded.spec.seed
    names = sweep_layers(loaded, model)
    features, labels = probe_subset(probe, sweep.n_samples, seed)
    train = None
    if sweep.distill.steps > 0 and len(features) > 1:
        split = split_samples(len(features), sweep.distill.holdout, seed)
        train = subset(features, labels, split.fit)[0]
        features, labels = subset(features, labels, split.heldout)
    inputs, train_inputs = _batches(loaded, model, features), _batches(loaded, model, train)
    teacher = outputs_of(model.module, inputs)
    modules = dict(model.module.named_modules())
    measure, score = _scorer(teacher, labels, sweep.fidelity)
    return SweepSetup(module=model.module, inputs=inputs, groups=_groups(names, model.module, sweep.grouping),
                      factors={name: factorize(modules[name].weight) for name in names}, measure=measure,
                      teacher_outputs=teacher, score=score, n_samples=len(features), train_inputs=train_inputs,
                      train_teacher=outputs_of(model.module, train_inputs) if train_inputs else None)


def _batches(loaded, model, features) -> list[Batch]:
    if features is None:
        return []
    return list(batches(features, loaded.spec.probe.batch_size, dtype=model.input_dtype, tokenizer=model.tokenizer,
                        max_length=model.max_length))


def prepare_from_spec(spec_path: str) -> SweepSetup:
    """:func:`prepare` from the spec file alone (what a Ray worker runs)."""
    from ...sources import load_model, load_probe
    from ...spec import load_spec

    loaded = load_spec(spec_path)
    return prepare(loaded, load_model(loaded), load_probe(loaded))


def sweep_layers(loaded, model) -> list[str]:
    """The Linear and Conv modules the ``sweep`` section chooses among those the model's adapter
    offers, in model order."""
    sweep = loaded.spec.sweep
    available = model.adapter.factorizable(model)

    def fail(loc, message):
        key = {"include": "layers", "exclude": "exclude"}.get(loc[1] if len(loc) > 1 else "", "layers")
        message = message.replace("matches no layer", f"matches no layer the sweep can factorize ({FACTORIZABLE_KINDS})")
        raise loaded.error(("sweep", key, *loc[2:]), message.replace("no layer to audit", f"no layer to factorize ({FACTORIZABLE_KINDS})"))

    if not available:
        fail(("layers",), f"the model has no layer the sweep can factorize ({FACTORIZABLE_KINDS})")
    return select_layers(available, sweep.layers or ["*"], sweep.exclude, fail)


def _groups(names: list[str], module: torch.nn.Module, grouping: str) -> list[tuple[str, tuple[str, ...]]]:
    if grouping == "one_at_a_time":
        return [(name, (name,)) for name in names]
    if grouping == "all":
        return [(names[0] if len(names) == 1 else "all chosen layers", tuple(names))]
    container = largest_container(module)
    prefix = f"{container[0]}." if container else None
    grouped: dict[str, list[str]] = {}
    for name in names:
        inside = prefix is not None and name.startswith(prefix)
        block = prefix + name[len(prefix):].split(".")[0] if inside else name
        grouped.setdefault(block, []).append(name)
    return [(block, tuple(members)) for block, members in grouped.items()]


def _scorer(teacher: torch.Tensor, labels, fidelity: str):
    """The measure and its per-sample score, in double precision."""
    predictions = teacher.argmax(dim=1).numpy() if teacher.shape[1] > 1 else None
    if labels is not None and outputs_class_scores(predictions, labels, teacher.shape[1]):
        return "accuracy", accuracy_values(labels, dtype=torch.float64)
    if fidelity == "agreement" and teacher.shape[1] > 1:
        return "agreement", agreement_values(teacher, dtype=torch.float64)
    return "cosine", fidelity_values(teacher, dtype=torch.float64)

"""The reference model: read through its kind's adapter as if it were the spec's ``model:``
(errors name ``reference.`` keys), changed as the section asks (fresh weights, low rank), its
layers matched with the audited ones, and captured on the same probe points."""

from __future__ import annotations

from dataclasses import dataclass

from ...spec import LoadedSpec
from ...yaml_source import did_you_mean

__all__ = ["ReferenceLoaded", "reference_loaded", "load_reference", "matched_layers"]


@dataclass(frozen=True)
class ReferenceLoaded(LoadedSpec):
    """The spec as the reference's adapter reads it: ``model`` is ``reference.model``, and an
    error at ``model.path`` is reported at ``reference.model.path``."""

    def error(self, loc: tuple, what: str):
        return super().error(("reference", *loc), what)


def reference_loaded(loaded: LoadedSpec) -> ReferenceLoaded:
    return ReferenceLoaded(loaded.spec.model_copy(update={"model": loaded.spec.reference.model}), loaded.path,
                           loaded.root)


def load_reference(loaded: LoadedSpec):
    """``(ReferenceLoaded, LoadedModel, variant description)``: the reference, changed as
    ``reference.reinitialize`` and ``reference.rank`` say."""
    from ...sources import load_model

    ref = reference_loaded(loaded)
    model = load_model(ref)
    return ref, model, _apply_variant(model, loaded.spec.reference, loaded.spec.seed)


def _apply_variant(model, section, seed: int) -> str:
    import torch

    steps = []
    if section.reinitialize:
        with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
            torch.manual_seed(seed)
            reset = [child for child in model.module.modules() if hasattr(child, "reset_parameters")]
            for child in reset:
                child.reset_parameters()
        steps.append(f"fresh random weights (reset_parameters() of {len(reset)} modules, seed {seed})")
    if section.rank is not None:
        steps.append(_low_rank(model, section.rank))
    return "; ".join(steps) or "as loaded"


def _low_rank(model, rank: int) -> str:
    import torch

    from ...estimators.lowrank import factorize

    names = model.adapter.factorizable(model)
    with torch.no_grad():
        for name in names:
            layer = model.module.get_submodule(name)
            layer.weight = torch.nn.Parameter(factorize(layer.weight).weight(rank), requires_grad=False)
    return f"rank-{rank} truncated SVD of its {len(names)} factorizable layers' weights"


def matched_layers(loaded: LoadedSpec, ref: ReferenceLoaded, model, audited: list[str]) -> list[tuple[str, str]]:
    """``(audited layer, reference layer)`` pairs: ``reference.layers`` when given (each name
    checked on both sides), else every audited layer the reference has by the same name."""
    available, _ = model.adapter.layers(ref, model)
    mapping = loaded.spec.reference.layers
    if not mapping:
        pairs = [(name, name) for name in audited if name in available]
        if not pairs:
            raise loaded.error(("reference",), "no audited layer has a namesake in the reference model; "
                               "map them with reference.layers: {audited: reference}")
        return pairs
    for ours, theirs in mapping.items():
        if ours not in audited:
            raise loaded.error(("reference", "layers", ours), f"{ours!r} is not an audited layer"
                               f"{did_you_mean(ours, audited)}")
        if theirs not in available:
            raise loaded.error(("reference", "layers", ours), f"the reference has no layer {theirs!r}"
                               f"{did_you_mean(theirs, available)}")
    return list(mapping.items())

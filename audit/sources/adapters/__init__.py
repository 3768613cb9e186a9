"""Model adapters, one per model kind, registered by name (the way metrics are registered in
:mod:`audit.metrics._registry`).

An adapter (a :class:`ModelAdapter` subclass under :func:`register_adapter`) holds everything a
kind means to the rest of the tool: its spec section (``spec_model``, a pydantic class with a
``kind`` literal), the files the spec names, its cross-key rules, the loader, the taps capture
runs through, the layer listing and default layers, the dense layers the cost stage and the
sweep may change, and the bench that builds, exports and times variants. Adding a kind means
adding one module (or a package, as ONNX has) to this package: :func:`discover` imports each.

Reading a spec imports every adapter, so adapter modules import torch, transformers, onnx and
onnxruntime inside functions only.
"""

from __future__ import annotations

from ...plugins import import_plugins
from ._base import LoadedModel, ModelAdapter, SpecSection, model_file

__all__ = ["LoadedModel", "ModelAdapter", "SpecSection", "adapter_for", "adapters", "discover", "load_model",
           "model_file", "model_section", "register_adapter"]

_REGISTRY: dict[str, ModelAdapter] = {}


def register_adapter(cls: type[ModelAdapter]) -> type[ModelAdapter]:
    """Class decorator registering an adapter under its ``kind``."""
    if cls.kind in _REGISTRY:
        raise RuntimeError(f"model kind {cls.kind!r} registered twice")
    _REGISTRY[cls.kind] = cls()
    return cls


def discover() -> None:
    """Import every adapter module and package here so their decorators run."""
    import_plugins(__package__)


def adapters() -> list[ModelAdapter]:
    """Every registered adapter, in the order listings show the kinds (``order``)."""
    discover()
    return sorted(_REGISTRY.values(), key=lambda adapter: (adapter.order, adapter.kind))


def model_section():
    """The type of a ``model:`` section: a union of the registered kinds' sections, told apart by
    ``kind`` (the spec's ``model`` and ``reference.model`` both)."""
    from typing import Annotated, Union

    from pydantic import Field

    members = tuple(adapter.spec_model for adapter in adapters())
    return Annotated[Union[members], Field(discriminator="kind")]


def adapter_for(kind: str) -> ModelAdapter:
    """The adapter of a validated spec's ``model.kind``."""
    discover()
    return _REGISTRY[kind]


def load_model(loaded) -> LoadedModel:
    """The model a :class:`~audit.spec.LoadedSpec` names, in eval mode on the CPU."""
    return adapter_for(loaded.spec.model.kind).load(loaded)

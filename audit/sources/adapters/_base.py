"""The adapter contract every model kind fulfils, and the loaded-model handle it returns."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from ...results import ModelInfo

__all__ = ["LoadedModel", "ModelAdapter", "SpecSection", "call_target", "first_lines", "model_file"]


class SpecSection(BaseModel):
    """Base of an adapter's ``model:`` section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class LoadedModel:
    """The model in eval mode; text models also bring their tokenizer and token limit. ``module``
    is the torch module (None for a model that runs through ``graph``, such as ONNX). ``sequence``
    is how its (N, T, C) outputs become points when ``capture.sequence`` does not say (mean over
    a text's tokens; ``last`` for a causal LM, whose last real token is the one it predicts from);
    ``vocabulary`` the number of token scores its output holds where that is not the tokenizer's
    length (a causal LM's LM head rows, often padded past the tokenizer), 0 otherwise."""

    module: Any
    info: ModelInfo
    input_dtype: Any = None  # a torch.dtype
    tokenizer: object = None
    max_length: int = 0
    graph: Any = None
    sequence: str = "mean"
    vocabulary: int = 0

    @property
    def adapter(self) -> ModelAdapter:
        from . import adapter_for

        return adapter_for(self.info.kind)

    def taps(self):
        """How capture reads this model's layers (forward hooks, extra graph outputs, ...)."""
        return self.adapter.taps(self)


class ModelAdapter:
    """What a model kind provides. Capabilities are class attributes the spec's cross-key rules
    read; the methods are asked by the loader, runner, capture, the cost stage and the sweep."""

    kind: ClassVar[str]
    spec_model: ClassVar[type[BaseModel]]
    order: ClassVar[int] = 100  # place among the kinds in listings and messages
    reads_text: ClassVar[bool] = False  # text probes (.txt, .jsonl; .parquet as text), heads, token embeddings, cost.sequence_length
    text_with: ClassVar[str] = ""  # the key that makes this kind read text probes when it cannot always (onnx)
    replaceable_weights: ClassVar[bool] = False  # the sweep can swap its layers for factorized ones
    own_image_processor: ClassVar[bool] = False  # prepares a folder of images itself (no probe.image)

    def reads_text_in(self, model) -> bool:
        """Whether the model a ``model`` section names reads text probes and takes
        ``cost.sequence_length`` (a kind with ``text_with`` decides from the section)."""
        return self.reads_text

    def files(self, loaded) -> list[tuple[tuple, str]]:
        """``(spec key path, file)`` for each file the section names (checked to exist before
        anything loads); may raise a spec error itself, for a folder that is not a model."""
        return []

    def check(self, spec) -> None:
        """Cross-key rules between the model section and the rest of ``spec`` (an AuditSpec being
        validated); each broken rule a ``cross_key`` PydanticCustomError naming its key. What a
        stage needs of the model is the stage's rule (``Stage.check``)."""
        probe, reads_text = spec.probe, self.reads_text_in(spec.model)
        if probe.is_folder and self.own_image_processor and probe.image is not None:
            raise PydanticCustomError("cross_key", "model kind {kind} prepares images with the model's own image "
                                      "processor; probe.image is for the other kinds", {"key": "probe.image", "kind": self.kind})
        if probe.is_folder and reads_text and not self.own_image_processor:
            raise PydanticCustomError("cross_key", "model kind {kind} reads text, not a folder of images",
                                      {"key": "probe.source", "kind": self.kind})
        if not (probe.is_folder or probe.is_table) and probe.is_text != reads_text:
            raise PydanticCustomError("cross_key", "text probes (.txt, .jsonl) go with model kind {kinds}, and only they do",
                                      {"key": "probe.source", "kinds": _text_readers()})
        if probe.is_table and reads_text and probe.features is not None:
            raise PydanticCustomError("cross_key", "model kind {kind} reads the text column (probe.text_field), "
                                      "not feature columns", {"key": "probe.features", "kind": self.kind})

    @staticmethod
    def kinds_with(capability: str) -> str:
        """The kinds that have ``capability`` (a class attribute), for messages: ``transformers or onnx``."""
        return _kinds_with(capability)

    @staticmethod
    def text_readers() -> str:
        """The kinds that read text probes, for messages: ``transformers or onnx with model.tokenizer``."""
        return _text_readers()

    def reads_text_probe(self, spec, *, any_text_model: bool = False) -> bool:
        """Whether this kind reads ``spec``'s probe as text: a kind that always reads text (what heads
        and token embeddings need), or with ``any_text_model`` one whose section makes it read text
        (an ONNX text encoder: what cost.sequence_length needs)."""
        reads = self.reads_text_in(spec.model) if any_text_model else self.reads_text
        return reads and not spec.probe.is_folder

    def image_processor(self, loaded):
        """How this kind turns a list of decoded RGB images (PIL) into its input array, for a folder
        probe; None (the default): the spec's ``probe.image`` does."""
        return None

    def load(self, loaded) -> LoadedModel:
        """The model, every failure to read it a :class:`~audit.errors.SourceError` naming the file."""
        raise NotImplementedError

    def taps(self, model: LoadedModel):
        """The taps capture runs the model through (the interface of :class:`audit.sources.adapters._torch_taps.TorchTaps`)."""
        raise NotImplementedError

    def layers(self, loaded, model: LoadedModel) -> tuple[list[str], list[str]]:
        """(every layer name a spec may select, the default selection)."""
        raise NotImplementedError

    def parameter_count(self, model: LoadedModel, name: str) -> int | None:
        """The weights layer ``name`` holds (``model layers`` lists them); None where unknown."""
        return None

    def dense_layers(self, model: LoadedModel, audited: list[str]) -> list[str]:
        """The audited layers the cost stage may factorize, in ``audited`` order."""
        return []

    def factorizable(self, model: LoadedModel) -> list[str]:
        """The layers the sweep may factorize, in model order (empty: no sweep)."""
        return []

    def bench(self, loaded, model: LoadedModel, probe, progress):
        """The cost stage's bench: builds, exports and times this kind's variants."""
        raise NotImplementedError

    @property
    def exporter(self) -> str:
        """How the bench exports a variant to time it (audit.json's ``cost.settings.exporter``)."""
        raise NotImplementedError

    @property
    def flop_counter(self) -> str:
        """How the bench counts FLOPs (``cost.settings.flop_counter``)."""
        raise NotImplementedError


def _kinds_with(capability: str) -> str:
    from . import adapters

    return " or ".join(adapter.kind for adapter in adapters() if getattr(adapter, capability))


def _text_readers() -> str:
    """The kinds that read text probes: ``transformers or onnx with model.tokenizer``."""
    from . import adapters

    return " or ".join(adapter.kind if adapter.reads_text else f"{adapter.kind} with {adapter.text_with}"
                       for adapter in adapters() if adapter.reads_text or adapter.text_with)


def call_target(loaded, loc: tuple, target: str):
    """The result of calling ``target`` ('module:callable'), the spec key at ``loc`` naming it;
    any failure (an uninstalled package, a missing attribute, the call raising) a spec error."""
    module_name, _, attribute = target.rpartition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)()
    except Exception as error:  # an uninstalled package, a missing attribute: the spec's problem
        raise loaded.error(loc, f"cannot call {target!r}: {type(error).__name__}: {error}") from None


def model_file(loaded) -> Path:
    """A file model's path, from ``path`` or from ``package_file`` inside an installed package
    (found without importing the package)."""
    model = loaded.spec.model
    if getattr(model, "package_file", None) is None:
        return loaded.resolve(model.path)
    package, _, inside = model.package_file.partition("/")
    found = importlib.util.find_spec(package) if package.isidentifier() else None
    if found is None or not found.submodule_search_locations:
        raise loaded.error(("model", "package_file"), f"no installed package {package!r}")
    return Path(found.submodule_search_locations[0]) / inside


def first_lines(error: Exception, n: int = 3) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = " ".join(lines[:n])
    return text[:400] + ("..." if len(text) > 400 else "")

"""The ``torch`` kind: a PyTorch module built by a factory, with weights from a state dict
(safetensors, or ``torch.load`` with ``weights_only=True``). Its :class:`TorchModuleAdapter` is
what every kind holding a torch module shares (TorchScript, transformers): forward-hook taps,
layers from ``named_modules()``, ``nn.Linear`` dense layers, and the torch bench (variants
exported to ONNX to be timed)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import typing
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ...errors import SourceError
from . import register_adapter
from ._base import LoadedModel, ModelAdapter, SpecSection, first_lines

__all__ = ["TorchAdapter", "TorchModel", "TorchModuleAdapter", "load_weights", "module_info", "read_state_dict"]


class TorchModel(SpecSection):
    """A PyTorch module built by a factory, with weights from a state dict."""

    kind: Literal["torch"]
    factory: str = Field(description="'package.module:callable' or 'path/to/file.py:callable' returning an nn.Module")
    weights: str | None = Field(None, description=".safetensors, or a .pt/.pth state dict (loaded with weights_only=True)")
    kwargs: dict[str, typing.Any] = Field(default_factory=dict, description="keyword arguments for the factory")
    input_dtype: Literal["float32", "float64", "int64"] = Field("float32", description="dtype of the probe features fed to the model")

    @field_validator("factory")
    @classmethod
    def _factory_form(cls, value: str) -> str:
        target, _, attribute = value.rpartition(":")
        if not target or not attribute.isidentifier():
            raise ValueError(f"expected 'module:callable' or 'file.py:callable', got {value!r}")
        return value


class TorchModuleAdapter(ModelAdapter):
    """What kinds holding a ``torch.nn.Module`` share; ``hookable``: its submodules take forward
    hooks (a TorchScript archive's do not: only its ``output`` is a layer)."""

    hookable: typing.ClassVar[bool] = True

    def taps(self, model: LoadedModel):
        from ._torch_taps import TorchTaps

        return TorchTaps(model.module)

    def layers(self, loaded, model: LoadedModel) -> tuple[list[str], list[str]]:
        from ...layers import available_layers, default_layers

        return available_layers(model.module, self.hookable), default_layers(model.module, self.hookable)

    def parameter_count(self, model: LoadedModel, name: str) -> int | None:
        from ...layers import OUTPUT

        module = model.module if name == OUTPUT else dict(model.module.named_modules()).get(name)
        return None if module is None else sum(parameter.numel() for parameter in module.parameters())

    def dense_layers(self, model: LoadedModel, audited: list[str]) -> list[str]:
        import torch

        modules = dict(model.module.named_modules())
        return [name for name in audited if isinstance(modules.get(name), torch.nn.Linear)]

    def factorizable(self, model: LoadedModel) -> list[str]:
        from ...stages.sweep.setup import FACTORIZABLE

        return [name for name, child in model.module.named_modules() if name and isinstance(child, FACTORIZABLE)]

    def bench(self, loaded, model: LoadedModel, probe, progress):
        from ...stages.cost.bench import Bench

        return Bench(loaded, model, probe, progress)

    @property
    def exporter(self) -> str:
        from ...stages.cost.onnx_timing import EXPORTER

        return EXPORTER

    @property
    def flop_counter(self) -> str:
        from ...stages.cost.stage import FLOP_COUNTER

        return FLOP_COUNTER


def module_info(module, kind: str, source: str, files, module_type: str | None = None):
    from ...results import ModelInfo
    from ..digest import file_digest

    return ModelInfo(
        source=source,
        kind=kind,
        files=tuple(file_digest(path) for path in files),
        n_parameters=sum(p.numel() for p in module.parameters()),
        module_type=module_type or type(module).__name__,
    )


@register_adapter
class TorchAdapter(TorchModuleAdapter):
    kind = "torch"
    spec_model = TorchModel
    order = 10
    replaceable_weights = True

    def files(self, loaded) -> list[tuple[tuple, str]]:
        model, named = loaded.spec.model, []
        target = model.factory.rpartition(":")[0]
        if target.endswith(".py"):
            named.append((("model", "factory"), target))
        if model.weights:
            named.append((("model", "weights"), model.weights))
        return named

    def load(self, loaded) -> LoadedModel:
        import torch

        model_spec = loaded.spec.model
        module, files = _load_factory_model(loaded, model_spec)
        module.eval()
        return LoadedModel(module, module_info(module, self.kind, model_spec.factory, files),
                           getattr(torch, model_spec.input_dtype))


def _load_factory_model(loaded, model_spec):
    target, _, attribute = model_spec.factory.rpartition(":")
    files = []
    if target.endswith(".py"):
        path = loaded.resolve(target)
        factory = getattr(_import_file(path), attribute, None)
        files.append(path)
    else:
        with _on_path(loaded.base):
            factory = getattr(_import_module(target), attribute, None)
    if not callable(factory):
        raise SourceError(target, f"has no callable {attribute!r}")
    module = _call_factory(factory, model_spec)
    if model_spec.weights:
        weights = loaded.resolve(model_spec.weights)
        load_weights(module, weights)
        files.append(weights)
    return module, files


def _call_factory(factory, model_spec):
    import torch

    try:
        module = factory(**model_spec.kwargs)
    except Exception as error:  # the user's code: any failure is a bad model source
        raise SourceError(model_spec.factory, f"the factory raised {type(error).__name__}: {error}") from error
    if not isinstance(module, torch.nn.Module):
        raise SourceError(model_spec.factory, f"the factory returned {type(module).__name__}, not a torch.nn.Module")
    return module


@contextmanager
def _on_path(folder: Path):
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


def _import_file(path: Path):
    name = f"_audit_model_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        with _on_path(path.parent):  # let the file import its siblings
            spec.loader.exec_module(module)
    except Exception as error:
        raise SourceError(str(path), f"importing it raised {type(error).__name__}: {error}") from error
    return module


def _import_module(name: str):
    try:
        return importlib.import_module(name)
    except Exception as error:
        raise SourceError(name, f"cannot import the module: {type(error).__name__}: {error}") from error


def load_weights(module, path: Path) -> None:
    """Load the state dict at ``path`` into ``module`` (strict: every key, every shape); a
    SourceError naming the file when it cannot be read or does not fit."""
    state = read_state_dict(path)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise SourceError(str(path), f"weights do not fit the model: {first_lines(error)}") from None


def read_state_dict(path: Path) -> dict:
    """The tensors of a .safetensors file or a ``torch.load`` state dict (``weights_only=True``;
    a checkpoint's ``state_dict`` entry is taken); a SourceError naming the file otherwise."""
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt, truncated, pickled code: all mean "cannot use this file"
        raise SourceError(str(path), f"cannot read the weights: {first_lines(error)}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SourceError(str(path), "is not a state dict (a mapping of parameter names to tensors)")
    return state

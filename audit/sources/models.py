"""Model loaders: a factory plus a state dict (safetensors or torch.load with weights_only),
a TorchScript archive, a Hugging Face directory (:mod:`.text_encoder`) or an ONNX file
(:mod:`.onnx_model`). A new kind adds a loader here and a spec class."""

from __future__ import annotations

import importlib
import importlib.util
import pickle
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from ..capture import TorchTaps
from ..errors import SourceError
from ..results import ModelInfo
from .digest import file_digest
from .onnx_model import OnnxGraph, OnnxTaps, load_onnx

__all__ = ["LoadedModel", "load_model"]

_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "int64": torch.int64,
                 "int32": torch.int32, "uint8": torch.uint8}


@dataclass(frozen=True)
class LoadedModel:
    """The model in eval mode; text models also bring their tokenizer and token limit."""

    module: torch.nn.Module | None  # None for an ONNX model, which runs through ``graph``
    info: ModelInfo
    input_dtype: torch.dtype = torch.float32
    tokenizer: object = None
    max_length: int = 0
    graph: OnnxGraph | None = None

    def taps(self):
        """How capture reads this model's layers: forward hooks, or extra ONNX graph outputs."""
        return OnnxTaps(self.graph) if self.graph is not None else TorchTaps(self.module)


def load_model(loaded) -> LoadedModel:
    """The model a :class:`~audit.spec.LoadedSpec` names, in eval mode on the CPU."""
    model_spec = loaded.spec.model
    if model_spec.kind == "transformers":
        return _load_transformers(loaded, model_spec)
    if model_spec.kind == "onnx":
        return _load_onnx(loaded, model_spec)
    if model_spec.kind == "torch":
        module, files, source = _load_factory_model(loaded, model_spec)
    else:
        path = loaded.model_file()
        module, files, source = _load_torchscript(path), [path], str(model_spec.path)
    module.eval()
    return LoadedModel(module, _info(module, model_spec.kind, source, files), getattr(torch, model_spec.input_dtype))


def _info(module, kind: str, source: str, files, module_type: str | None = None) -> ModelInfo:
    return ModelInfo(
        source=source,
        kind=kind,
        files=tuple(file_digest(path) for path in files),
        n_parameters=sum(p.numel() for p in module.parameters()),
        module_type=module_type or type(module).__name__,
    )


def _load_transformers(loaded, model_spec) -> LoadedModel:
    from .text_encoder import load_text_encoder

    directory = loaded.model_directory()
    try:
        module, tokenizer, files = load_text_encoder(directory, model_spec.pooling)
    except pickle.UnpicklingError:
        raise SourceError(str(directory), "its weights are a pickle that torch refuses to load with weights_only=True "
                          "(it would run code): convert them to model.safetensors where the source is trusted") from None
    except Exception as error:  # transformers reading the user's folder: any failure means this folder cannot load
        raise SourceError(str(directory), f"cannot load as a Hugging Face model: {type(error).__name__}: "
                          f"{_first_lines(error)}") from None
    source = model_spec.path or model_spec.path_from
    info = _info(module, "transformers", source, files, module_type=type(module.transformer).__name__)
    return LoadedModel(module, info, tokenizer=tokenizer, max_length=model_spec.max_length)


def _load_onnx(loaded, model_spec) -> LoadedModel:
    path = loaded.model_file()
    graph = load_onnx(path, input_name=model_spec.input, threads=model_spec.threads)
    info = ModelInfo(source=model_spec.path or model_spec.package_file, kind="onnx", files=(file_digest(path),),
                     n_parameters=graph.n_parameters, module_type=f"ONNX graph ({graph.proto.graph.name or path.stem})")
    return LoadedModel(None, info, input_dtype=_TORCH_DTYPES.get(graph.input_dtype.name, torch.float32), graph=graph)


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
        _load_weights(module, weights)
        files.append(weights)
    return module, files, model_spec.factory


def _call_factory(factory, model_spec) -> torch.nn.Module:
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


def _load_weights(module: torch.nn.Module, path: Path) -> None:
    state = _read_state_dict(path)
    try:
        outcome = module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise SourceError(str(path), f"weights do not fit the model: {_first_lines(error)}") from None
    del outcome


def _read_state_dict(path: Path) -> dict:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt, truncated, pickled code: all mean "cannot use this file"
        raise SourceError(str(path), f"cannot read the weights: {_first_lines(error)}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SourceError(str(path), "is not a state dict (a mapping of parameter names to tensors)")
    return state


def _load_torchscript(path: Path) -> torch.nn.Module:
    try:
        with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; the format still loads
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except Exception as error:
        raise SourceError(str(path), f"cannot load as TorchScript: {_first_lines(error)}") from None


def _first_lines(error: Exception, n: int = 3) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = " ".join(lines[:n])
    return text[:400] + ("..." if len(text) > 400 else "")

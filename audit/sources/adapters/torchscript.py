"""The ``torchscript`` kind: a TorchScript archive (``torch.jit.save``), code and weights in one
file. Its submodules take no forward hooks, so its only layer is ``output``; its weights cannot
be swapped for factorized ones (no sweep)."""

from __future__ import annotations

import warnings
from typing import Literal

from pydantic import Field

from ...errors import SourceError
from . import register_adapter
from ._base import LoadedModel, SpecSection, first_lines, model_file
from .torch import TorchModuleAdapter, module_info

__all__ = ["TorchScriptAdapter", "TorchScriptModel"]


class TorchScriptModel(SpecSection):
    """A TorchScript archive (``torch.jit.save``): code and weights in one file."""

    kind: Literal["torchscript"]
    path: str = Field(description="the TorchScript file")
    input_dtype: Literal["float32", "float64", "int64"] = Field("float32", description="dtype of the probe features")


@register_adapter
class TorchScriptAdapter(TorchModuleAdapter):
    kind = "torchscript"
    spec_model = TorchScriptModel
    order = 20
    hookable = False

    def files(self, loaded) -> list[tuple[tuple, str]]:
        return [(("model", "path"), str(model_file(loaded)))]

    def load(self, loaded) -> LoadedModel:
        import torch

        path = model_file(loaded)
        module = _load_torchscript(path)
        module.eval()
        return LoadedModel(module, module_info(module, self.kind, str(loaded.spec.model.path), [path]),
                           getattr(torch, loaded.spec.model.input_dtype))


def _load_torchscript(path):
    import torch

    try:
        with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; the format still loads
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except Exception as error:
        raise SourceError(str(path), f"cannot load as TorchScript: {first_lines(error)}") from None

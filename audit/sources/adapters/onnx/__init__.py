"""The ``onnx`` kind: an ONNX file run by ONNX Runtime on the CPU; its intermediate tensors are
the layers. :mod:`.loader` reads and checks the file, :mod:`.taps` exposes the chosen tensors as
extra graph outputs, :mod:`.graph` is the graph tooling the cost stage edits and times variants
with. Its weights are not swapped in place (no sweep); the cost stage factorizes its
``Gemm``/``MatMul`` nodes with a stored weight by editing the graph."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .. import register_adapter
from .._base import LoadedModel, ModelAdapter, SpecSection, model_file

__all__ = ["OnnxAdapter", "OnnxModel"]

_TORCH_DTYPES = ("float32", "float64", "float16", "int64", "int32", "uint8")


class OnnxModel(SpecSection):
    """An ONNX file run by ONNX Runtime on the CPU; its intermediate tensors are the layers."""

    kind: Literal["onnx"]
    path: str | None = Field(None, description="the .onnx file (external data files beside it are read too)")
    package_file: str | None = Field(
        None, description="a file shipped inside an installed package, 'package/dir/model.onnx' (the package is not imported)")
    input: str | None = Field(None, description="the graph input the probe feeds (default: the only input that is not an initializer)")
    threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads (0: its default, one per core)")

    @model_validator(mode="after")
    def _one_location(self):
        if (self.path is None) == (self.package_file is None):
            raise ValueError("give exactly one of 'path' and 'package_file'")
        return self


@register_adapter
class OnnxAdapter(ModelAdapter):
    kind = "onnx"
    spec_model = OnnxModel
    order = 40

    def files(self, loaded) -> list[tuple[tuple, str]]:
        return [(("model", "path" if loaded.spec.model.path else "package_file"), str(model_file(loaded)))]

    def load(self, loaded) -> LoadedModel:
        import torch

        from ....results import ModelInfo
        from ...digest import file_digest
        from .loader import load_onnx

        model_spec, path = loaded.spec.model, model_file(loaded)
        graph = load_onnx(path, input_name=model_spec.input, threads=model_spec.threads)
        info = ModelInfo(source=model_spec.path or model_spec.package_file, kind=self.kind, files=(file_digest(path),),
                         n_parameters=graph.n_parameters, module_type=f"ONNX graph ({graph.proto.graph.name or path.stem})")
        dtype = graph.input_dtype.name
        return LoadedModel(None, info, getattr(torch, dtype) if dtype in _TORCH_DTYPES else torch.float32, graph=graph)

    def taps(self, model: LoadedModel):
        from .taps import OnnxTaps

        return OnnxTaps(model.graph)

    def layers(self, loaded, model: LoadedModel) -> tuple[list[str], list[str]]:
        from ....layers import OUTPUT

        available = list(dict.fromkeys(model.graph.layer_names + [OUTPUT]))  # a tensor may be named "output"
        return available, model.graph.default_layers()

    def dense_layers(self, model: LoadedModel, audited: list[str]) -> list[str]:
        from .graph import linear_nodes

        dense = {node.output for node in linear_nodes(model.graph.proto)}
        return [name for name in audited if name in dense]

    def bench(self, loaded, model: LoadedModel, probe, progress):
        from ....stages.cost.onnx_bench import OnnxBench

        return OnnxBench(loaded, model, probe, progress)

    @property
    def exporter(self) -> str:
        from ....stages.cost.onnx_bench import ONNX_EXPORTER

        return ONNX_EXPORTER

    @property
    def flop_counter(self) -> str:
        from ....stages.cost.onnx_bench import ONNX_FLOP_COUNTER

        return ONNX_FLOP_COUNTER

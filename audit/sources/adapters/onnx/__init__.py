"""The ``onnx`` kind: an ONNX file run by ONNX Runtime on the CPU; its intermediate tensors are
the layers. :mod:`.loader` reads and checks the file, :mod:`.feeds` plans how every graph input
is fed (the probe's array and constants), :mod:`.taps` exposes the chosen tensors as extra graph
outputs, :mod:`.graph` is the graph tooling the cost stage edits and times variants with. Its
weights are not swapped in place (no sweep); the cost stage factorizes its ``Gemm``/``MatMul``
nodes with a stored weight by editing the graph."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from ....yaml_source import did_you_mean
from .. import register_adapter
from .._base import LoadedModel, ModelAdapter, SpecSection, model_file

__all__ = ["BATCH", "ConstantInput", "OnnxAdapter", "OnnxModel"]

BATCH = "batch"  # in a constant's shape: the batch size of each run
_DTYPES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")  # of a constant
_TORCH_DTYPES = ("float32", "float64", "float16", "int64", "int32", "uint8")


def _shape_entry(value):
    if value == BATCH or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    hint = did_you_mean(value, [BATCH]) if isinstance(value, str) else ""
    raise ValueError(f"a size is a whole number (0 or more) or 'batch' (the batch size), not {value!r}{hint}")


def _number(value):
    if not isinstance(value, (bool, int, float)):
        raise ValueError(f"a constant's value is a number (or true/false), not {value!r}")
    return value


class ConstantInput(SpecSection):
    """A graph input fed the same value on every batch: recurrent state, a sample rate, a flag."""

    shape: list[Annotated[int | str, BeforeValidator(_shape_entry)]] | None = Field(
        None, description="sizes, 'batch' standing for the batch size (omitted: a scalar, shape [])")
    value: Annotated[bool | int | float, BeforeValidator(_number)] = Field(description="the value of every element")
    dtype: Literal[_DTYPES] | None = Field(None, description="the element type (default: the graph input's)")  # type: ignore[valid-type]


def _constant_shorthand(value):
    """``sr: 16000`` is short for ``sr: {value: 16000}``."""
    if isinstance(value, dict):
        return {name: ({"value": spec} if isinstance(spec, (bool, int, float)) else spec) for name, spec in value.items()}
    return value


class OnnxModel(SpecSection):
    """An ONNX file run by ONNX Runtime on the CPU; its intermediate tensors are the layers."""

    kind: Literal["onnx"]
    path: str | None = Field(None, description="the .onnx file (external data files beside it are read too)")
    package_file: str | None = Field(
        None, description="a file shipped inside an installed package, 'package/dir/model.onnx' (the package is not imported)")
    input: str | None = Field(None, description="the graph input an array probe feeds (default: the only input left "
                              "without a value: no initializer, not in constants)")
    threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads (0: its default, one per core)")
    constants: Annotated[dict[str, ConstantInput], BeforeValidator(_constant_shorthand)] = Field(
        default_factory=dict, description="graph inputs fed the same value on every batch, by name")

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
        from .loader import FeedError, load_onnx

        model_spec, path = loaded.spec.model, model_file(loaded)
        try:
            graph = load_onnx(path, input_name=model_spec.input, threads=model_spec.threads, constants=model_spec.constants)
        except FeedError as error:  # a spec value the graph contradicts: the error names its line
            raise loaded.error(error.loc, error.message) from None
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
        from ....cost.onnx_bench import OnnxBench

        return OnnxBench(loaded, model, probe, progress)

    @property
    def exporter(self) -> str:
        from ....cost.onnx_bench import ONNX_EXPORTER

        return ONNX_EXPORTER

    @property
    def flop_counter(self) -> str:
        from ....cost.onnx_bench import ONNX_FLOP_COUNTER

        return ONNX_FLOP_COUNTER

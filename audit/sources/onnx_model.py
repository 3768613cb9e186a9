"""ONNX models as audit subjects: read and check an ``.onnx`` file, list its intermediate tensors
(the layer names a spec selects), and run it through ONNX Runtime with the chosen tensors exposed
as extra graph outputs.

- The file is parsed, checked with ``onnx.checker`` and shape-inferred. Anything that fails
  (truncated, not ONNX, invalid graph, an operator ONNX Runtime lacks) is a
  :class:`~audit.errors.SourceError` naming the file: exit 2, never a traceback.
- Layers are the floating-point outputs of the top-level graph's nodes, named as in the file,
  plus ``output`` (the graph's first output). Tensors inside subgraphs (``If``, ``Loop``) are
  not offered: they are not values of the main graph.
- The probe feeds one graph input (``model.input``, or the only input that is not an
  initializer). A model exported with a fixed batch size runs the probe in pieces of that size.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..errors import CaptureError, SourceError
from ..layers import OUTPUT

if TYPE_CHECKING:
    import onnx

__all__ = ["LinearNode", "OnnxGraph", "OnnxTaps", "activations", "count_weights", "linear_nodes", "load_onnx", "onnx_session",
           "run_batched", "runtime_session", "stored_weights", "with_outputs"]

_FLOAT_TYPES = (1, 10, 11, 16)  # FLOAT, FLOAT16, DOUBLE, BFLOAT16 (onnx.TensorProto)
# Ops whose outputs make a good default profile: nonlinearities, pooling to a vector, dense maps.
_DEFAULT_OPS = {"Relu", "LeakyRelu", "PRelu", "Clip", "HardSwish", "Gelu", "Tanh", "Elu", "Selu", "Mish",
                "Softplus", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Gemm", "LayerNormalization"}
_DEFAULT_COUNT = 8


@dataclass(frozen=True)
class OnnxGraph:
    """A checked ONNX model: its proto, the input the probe feeds, and its float tensors in order."""

    path: Path
    proto: object  # onnx.ModelProto, shape-inferred
    input_name: str
    input_shape: tuple  # ints for fixed dims, strings or None for dynamic ones
    input_dtype: np.dtype
    output_name: str
    tensors: tuple[tuple[str, str], ...]  # (tensor name, op type of its producer), in node order
    n_parameters: int
    squeezed: frozenset = frozenset()  # (N, C, 1, 1) tensors: squeeze-excitation internals
    threads: int = 0

    @property
    def layer_names(self) -> list[str]:
        return [name for name, _ in self.tensors]

    def op_type(self, name: str) -> str:
        return "model output" if name == OUTPUT else dict(self.tensors).get(name, "?")

    def default_layers(self) -> list[str]:
        """Up to eight tensors spread evenly over the outputs of nonlinearities, pooling and dense
        ops (the last one always kept), then ``output``. Tensors of shape (N, C, 1, 1) before the
        last spatial one are squeeze-excitation internals and are left out."""
        candidates = [name for name, op in self.tensors if op in _DEFAULT_OPS and name != self.output_name]
        last_spatial = max((i for i, name in enumerate(candidates) if name not in self.squeezed), default=-1)
        candidates = [name for i, name in enumerate(candidates) if name not in self.squeezed or i > last_spatial]
        if len(candidates) > _DEFAULT_COUNT:
            picks = np.linspace(0, len(candidates) - 1, _DEFAULT_COUNT).round().astype(int)
            candidates = [candidates[i] for i in dict.fromkeys(picks)]
        return candidates + [OUTPUT]

    @property
    def fixed_batch(self) -> int | None:
        first = self.input_shape[0] if self.input_shape else None
        return first if isinstance(first, int) and first > 0 else None


def load_onnx(path: Path, *, input_name: str | None = None, threads: int = 0) -> OnnxGraph:
    """Read, check and shape-infer ``path``; every failure is a :class:`SourceError`."""
    import onnx

    proto = _read(path)
    try:
        onnx.checker.check_model(proto)
    except Exception as error:  # onnx raises ValidationError and others for invalid graphs
        raise SourceError(str(path), f"onnx.checker rejects the model: {_first_line(error)}") from None
    proto = infer_shapes(proto)
    feed = _feed_input(path, proto.graph, input_name)
    elem_type = feed.type.tensor_type.elem_type
    return OnnxGraph(
        path=path,
        proto=proto,
        input_name=feed.name,
        input_shape=tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                          for d in feed.type.tensor_type.shape.dim),
        input_dtype=np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)),
        output_name=proto.graph.output[0].name,
        tensors=activations(proto, feed.name),
        squeezed=frozenset(_squeezed(proto.graph)),
        n_parameters=count_weights(proto.graph),
        threads=threads,
    )


def _read(path: Path):
    import onnx

    try:
        return onnx.load(str(path))
    except Exception as error:  # DecodeError on truncated or foreign bytes, OSError, missing external data
        raise SourceError(str(path), f"cannot read as an ONNX model (truncated or not ONNX?): {_first_line(error)}") from None


def infer_shapes(proto):
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(proto)
    except Exception:  # custom domains can defeat inference; the declared types still serve
        return proto


def activations(proto, feed: str) -> tuple[tuple[str, str], ...]:
    """(tensor, producing op) for every floating-point node output that depends on the fed input,
    in node order (weights computed inside the graph, such as ``ConstantOfShape`` outputs, are
    not layers). ``proto`` should be shape-inferred, so that the types are known."""
    types, live, found = _tensor_types(proto.graph), {feed}, []
    for node in proto.graph.node:
        if any(name in live for name in node.input):
            live.update(name for name in node.output if name)
            found += [(name, node.op_type) for name in node.output if name and types.get(name) in _FLOAT_TYPES]
    return tuple(found)


def _squeezed(graph):
    for info in graph.value_info:
        dims = info.type.tensor_type.shape.dim
        if len(dims) == 4 and all(d.HasField("dim_value") and d.dim_value == 1 for d in dims[2:]):
            yield info.name


@dataclass(frozen=True)
class LinearNode:
    """A dense layer: node name, its output tensor, the weight as (in, out), and its op."""

    node: str
    output: str
    weight: str
    n_in: int
    n_out: int
    op_type: str


def linear_nodes(proto: onnx.ModelProto) -> list[LinearNode]:
    """``MatMul`` nodes whose second input is a stored 2-D weight, and plain ``Gemm`` nodes
    (alpha = beta = 1, A not transposed) with one. Weights are initializers or the values of
    ``Constant`` nodes (as some exporters, Paddle's among them, store them)."""
    from onnx import helper

    weights = {name: tensor for name, tensor in stored_weights(proto.graph).items() if len(tensor.dims) == 2}
    found = []
    for node in proto.graph.node:
        if node.op_type not in ("MatMul", "Gemm") or len(node.input) < 2 or node.input[1] not in weights:
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Gemm" and (attributes.get("alpha", 1.0) != 1.0 or attributes.get("beta", 1.0) != 1.0
                                       or attributes.get("transA", 0)):
            continue
        rows, cols = weights[node.input[1]].dims
        n_in, n_out = (cols, rows) if attributes.get("transB", 0) else (rows, cols)
        found.append(LinearNode(node.name or node.output[0], node.output[0], node.input[1], n_in, n_out, node.op_type))
    return found


def stored_weights(graph) -> dict:
    """Tensors stored in the graph by name: initializers and ``Constant`` node values."""
    stored = {init.name: init for init in graph.initializer}
    stored.update((node.output[0], attribute.t) for node in graph.node if node.op_type == "Constant"
                  for attribute in node.attribute if attribute.name == "value")
    return stored


def count_weights(graph) -> int:
    """Floating-point values stored in the graph: initializers and ``Constant`` nodes (some
    exporters, Paddle's among them, store weights as constants)."""
    return sum(int(np.prod(tensor.dims)) for tensor in stored_weights(graph).values() if tensor.data_type in _FLOAT_TYPES)


def _tensor_types(graph) -> dict[str, int]:
    return {info.name: info.type.tensor_type.elem_type
            for info in (*graph.input, *graph.value_info, *graph.output) if info.type.HasField("tensor_type")}


def _feed_input(path: Path, graph, input_name: str | None):
    initializers = {init.name for init in graph.initializer}
    inputs = [info for info in graph.input if info.name not in initializers]
    names = [info.name for info in inputs]
    if input_name is not None:
        if input_name not in names:
            raise SourceError(str(path), f"has no graph input {input_name!r}; its inputs are: {', '.join(names)}")
        unfed = [name for name in names if name != input_name]
        if unfed:
            raise SourceError(str(path), f"graph input{'s' if len(unfed) > 1 else ''} {', '.join(map(repr, unfed))} "
                              f"would not be fed: the probe feeds only {input_name!r} (model.input), and every "
                              "input without an initializer needs a value")
        return inputs[names.index(input_name)]
    if len(inputs) != 1:
        raise SourceError(str(path), f"has {len(inputs)} graph inputs ({', '.join(names)}); "
                                     "name the one the probe feeds with model.input")
    return inputs[0]


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text[:300] + ("..." if len(text) > 300 else "")


class OnnxTaps:
    """Taps on an ONNX model: the selected tensors become extra graph outputs of one ONNX Runtime
    session, so a single run per batch yields them all (the interface of
    :class:`audit.capture.TorchTaps`)."""

    def __init__(self, graph: OnnxGraph):
        self.graph = graph

    def type_name(self, name: str) -> str:
        return self.graph.op_type(name)

    def channel_first_1d(self, name: str) -> bool:
        return self.graph.op_type(name) in ("Conv", "BatchNormalization", "MaxPool", "AveragePool", "InstanceNormalization")

    @contextmanager
    def open(self, names: list[str]):
        """Yield ``run(batch) -> {name: tensor}`` with the named tensors and ``output``."""
        wanted = [self.graph.output_name] + [name for name in names if name not in (OUTPUT, self.graph.output_name)]
        session = onnx_session(self.graph, wanted[1:])

        def run(batch):
            arrays = self._run_pieces(session, wanted, batch)
            found = dict(zip(wanted, (torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)))
            found[OUTPUT] = found[self.graph.output_name]
            return found

        yield run

    def _run_pieces(self, session, wanted, batch):
        inputs = batch.inputs.numpy().astype(self.graph.input_dtype, copy=False)
        try:
            return run_batched(session, wanted, self.graph.input_name, inputs, self.graph.fixed_batch or len(inputs))
        except Exception as error:  # onnxruntime's own exception types: shape or type mismatch, kernel failure
            last = batch.first_sample + len(inputs) - 1
            raise CaptureError("model", f"ONNX Runtime failed on samples {batch.first_sample}..{last}: "
                                        f"{_first_line(error)}") from None


def run_batched(session, wanted: list[str], input_name: str, inputs: np.ndarray, step: int) -> list[np.ndarray]:
    """``wanted`` outputs of ``session`` on ``inputs`` run ``step`` rows at a time (a graph exported
    with a fixed batch size gets exactly that: the last piece is padded by repeating its last row,
    and the padding's outputs are dropped)."""
    pieces = []
    for start in range(0, len(inputs), step):
        piece = inputs[start:start + step]
        padded = np.concatenate([piece, np.repeat(piece[-1:], step - len(piece), axis=0)])
        pieces.append([output[:len(piece)] for output in session.run(wanted, {input_name: padded})])
    return [np.concatenate(parts) for parts in zip(*pieces)]


def with_outputs(proto, names):
    """A copy of the shape-inferred ``proto`` with the tensors ``names`` added as graph outputs."""
    import onnx

    extended = onnx.ModelProto()
    extended.CopyFrom(proto)
    types = _tensor_types(extended.graph)
    extended.graph.output.extend(onnx.helper.make_tensor_value_info(name, types[name], None) for name in names)
    return extended


def runtime_session(model: bytes, *, threads: int = 0):
    """The one way model-audit opens ONNX Runtime: a CPU session of the serialized ``model`` with
    ``threads`` intra-op threads (0: one per core), one inter-op thread, warnings silenced."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def onnx_session(graph: OnnxGraph, extra_outputs: list[str] = ()):
    """A session of ``graph`` with ``extra_outputs`` added as graph outputs; a graph the runtime
    cannot run is a :class:`SourceError` naming the file."""
    try:
        return runtime_session(with_outputs(graph.proto, extra_outputs).SerializeToString(), threads=graph.threads)
    except Exception as error:  # unsupported operator or opset, invalid graph for the runtime
        raise SourceError(str(graph.path), f"ONNX Runtime cannot run the model: {_first_line(error)}") from None

"""ONNX graph tooling the loader, the taps and the cost stage share: shape inference, the
graph's float activations, its dense layers (:func:`linear_nodes`) and stored weights, a copy
with extra outputs (:func:`with_outputs`), the one way an ONNX Runtime session is opened
(:func:`runtime_session`) and a batched run (:func:`run_batched`). onnx and onnxruntime are
imported inside the functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

__all__ = ["FLOAT_TYPES", "LinearNode", "activations", "channel_first", "count_weights", "first_line", "infer_shapes",
           "linear_nodes", "node_weights", "run_batched", "runtime_session", "stored_weights", "tensor_types",
           "with_outputs"]

FLOAT_TYPES = (1, 10, 11, 16)  # FLOAT, FLOAT16, DOUBLE, BFLOAT16 (onnx.TensorProto)


def infer_shapes(proto):
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(proto)
    except Exception:  # custom domains can defeat inference; the declared types still serve
        return proto


def activations(proto, feed) -> tuple[tuple[str, str], ...]:
    """(tensor, producing op) for every floating-point node output that depends on the fed input
    ``feed`` (a name, or several), in node order (weights computed inside the graph, such as
    ``ConstantOfShape`` outputs, are not layers). A node with subgraphs (``If``, ``Loop``)
    depends on what its bodies read from the main graph too. ``proto`` should be
    shape-inferred, so that the types are known."""
    types, found = tensor_types(proto.graph), []
    live = {feed} if isinstance(feed, str) else set(feed)
    for node in proto.graph.node:
        if any(name in live for name in node.input) or not live.isdisjoint(_read_by_subgraphs(node)):
            live.update(name for name in node.output if name)
            found += [(name, node.op_type) for name in node.output if name and types.get(name) in FLOAT_TYPES]
    return tuple(found)


def _read_by_subgraphs(node) -> set[str]:
    """Every tensor name the node's subgraph attributes read (their own tensors included:
    ONNX names are unique across scopes, so those never match a main-graph name)."""
    graphs = [a.g for a in node.attribute if a.HasField("g")] + [g for a in node.attribute for g in a.graphs]
    read = set()
    for graph in graphs:
        for inner in graph.node:
            read.update(inner.input)
            read |= _read_by_subgraphs(inner)
    return read


# Ops whose data input and output are channel-first (N, C, ...), and ops that keep their input's layout.
_CHANNEL_FIRST_OPS = {"Conv", "ConvTranspose", "BatchNormalization", "MaxPool", "AveragePool", "LpPool",
                      "InstanceNormalization"}
_LAYOUT_KEEPING_OPS = {"Relu", "LeakyRelu", "PRelu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "Elu",
                       "Selu", "Mish", "Softplus", "Gelu", "Erf", "Sqrt", "Pow", "Abs", "Neg", "Exp", "Log",
                       "Identity", "Dropout", "Cast", "Add", "Sub", "Mul", "Div", "Max", "Min", "Pad", "Slice"}


def channel_first(graph) -> frozenset[str]:
    """Tensors laid out channel-first (N, C, ...): the outputs and data inputs of conv, norm and
    pooling nodes, and what elementwise ops (activations, arithmetic, padding, slicing) make of
    them, so that a 1-d conv's (N, C, L) activation is not read as a (N, T, C) sequence."""
    found: set[str] = set()
    for node in graph.node:
        if node.op_type in _CHANNEL_FIRST_OPS:
            found.update(name for name in (*node.input[:1], *node.output[:1]) if name)
        elif node.op_type in _LAYOUT_KEEPING_OPS and any(name in found for name in node.input):
            found.update(name for name in node.output if name)
    return frozenset(found)


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
    return sum(int(np.prod(tensor.dims)) for tensor in stored_weights(graph).values() if tensor.data_type in FLOAT_TYPES)


def node_weights(graph, tensor: str) -> int | None:
    """Floating-point values stored in the graph that the node producing ``tensor`` reads; None
    when no node produces it (a graph input)."""
    node = next((node for node in graph.node if tensor in node.output), None)
    if node is None:
        return None
    stored = stored_weights(graph)
    return sum(int(np.prod(stored[name].dims)) for name in dict.fromkeys(node.input)
               if name in stored and stored[name].data_type in FLOAT_TYPES)


def tensor_types(graph) -> dict[str, int]:
    return {info.name: info.type.tensor_type.elem_type
            for info in (*graph.input, *graph.value_info, *graph.output) if info.type.HasField("tensor_type")}


def first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text[:300] + ("..." if len(text) > 300 else "")


def run_batched(session, wanted: list[str], inputs: dict[str, np.ndarray], step: int, constants=None) -> list[np.ndarray]:
    """``wanted`` outputs of ``session`` on ``inputs`` (graph input -> array, samples first) run
    ``step`` rows at a time; ``constants(n)`` (optional) gives the inputs fed alike to every run of
    ``n`` rows. A graph exported with a fixed batch size gets exactly that: the last piece is
    padded by repeating its last row, and the padding's outputs are dropped."""
    pieces, n = [], len(next(iter(inputs.values())))
    for start in range(0, n, step):
        size = min(step, n - start)
        feed = {name: _padded(array[start:start + step], step) for name, array in inputs.items()}
        feed.update(constants(step) if constants else {})
        pieces.append([output[:size] for output in session.run(wanted, feed)])
    return [np.concatenate(parts) for parts in zip(*pieces)]


def _padded(piece: np.ndarray, step: int) -> np.ndarray:
    return np.concatenate([piece, np.repeat(piece[-1:], step - len(piece), axis=0)]) if len(piece) < step else piece


def with_outputs(proto, names):
    """A copy of the shape-inferred ``proto`` with the tensors ``names`` added as graph outputs."""
    import onnx

    extended = onnx.ModelProto()
    extended.CopyFrom(proto)
    types = tensor_types(extended.graph)
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

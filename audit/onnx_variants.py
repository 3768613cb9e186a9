"""Smaller variants of an ONNX graph, built by editing the graph itself (no framework needed):

- :func:`project_output`: the output embedding projected to ``k`` PCA dimensions, as
  ``(output - mean) @ components.T`` appended to the graph;
- :func:`factorize_linear`: a dense layer (``Gemm`` or ``MatMul`` with a weight initializer)
  replaced by two thin ``MatMul`` of a truncated SVD at rank ``r``;
- :func:`linear_nodes`: the dense layers a graph offers for factorization.

Each returns a new ``onnx.ModelProto``; the input is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["LinearNode", "factorize_linear", "linear_nodes", "project_output"]


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
    """``MatMul`` nodes whose second input is a 2-D initializer, and plain ``Gemm`` nodes
    (alpha = beta = 1, A not transposed) with a 2-D weight initializer."""
    weights = {init.name: init for init in proto.graph.initializer if len(init.dims) == 2}
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


def project_output(proto: onnx.ModelProto, mean: np.ndarray, components: np.ndarray) -> onnx.ModelProto:
    """The graph with its first output replaced by ``(output - mean) @ components.T``: the PCA
    projection to ``len(components)`` dimensions (``components`` rows are unit directions)."""
    variant = _copy(proto)
    graph = variant.graph
    source = graph.output[0].name
    k = components.shape[0]
    names = _fresh_names(graph, f"{source}_pca{k}", ("mean", "basis", "centred", "out"))
    graph.initializer.extend([numpy_helper.from_array(mean.astype(np.float32), names["mean"]),
                              numpy_helper.from_array(np.ascontiguousarray(components.T, dtype=np.float32), names["basis"])])
    graph.node.extend([helper.make_node("Sub", [source, names["mean"]], [names["centred"]]),
                       helper.make_node("MatMul", [names["centred"], names["basis"]], [names["out"]])])
    del graph.output[0]
    graph.output.insert(0, helper.make_tensor_value_info(names["out"], onnx.TensorProto.FLOAT, [None, k]))
    return variant


def factorize_linear(proto: onnx.ModelProto, layer: LinearNode, rank: int) -> onnx.ModelProto:
    """The graph with ``layer`` replaced by ``x @ (U_r S_r) @ V_r^T (+ bias)``, the best rank-``rank``
    approximation of its weight (Eckart-Young)."""
    variant = _copy(proto)
    graph = variant.graph
    index, node = next((i, n) for i, n in enumerate(graph.node) if (n.name or n.output[0]) == layer.node)
    weight = _weight_in_out(graph, node, layer)
    left, right = _svd_factors(weight, rank)
    names = _fresh_names(graph, f"{layer.node}_rank{rank}", ("left", "right", "thin", "product"))
    graph.initializer.extend([numpy_helper.from_array(left, names["left"]), numpy_helper.from_array(right, names["right"])])
    product = layer.output if node.op_type == "MatMul" or len(node.input) < 3 else names["product"]
    replacement = [helper.make_node("MatMul", [node.input[0], names["left"]], [names["thin"]]),
                   helper.make_node("MatMul", [names["thin"], names["right"]], [product])]
    if product != layer.output:
        replacement.append(_bias_node(node, product, layer.output))
    del graph.node[index]
    for offset, new in enumerate(replacement):
        graph.node.insert(index + offset, new)
    _drop_unused_initializer(graph, layer.weight)
    return variant


def _weight_in_out(graph, node, layer: LinearNode) -> np.ndarray:
    init = next(i for i in graph.initializer if i.name == layer.weight)
    weight = numpy_helper.to_array(init).astype(np.float64)
    transposed = node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute)
    return weight.T if transposed else weight


def _svd_factors(weight: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    u, s, vt = np.linalg.svd(weight, full_matrices=False)
    rank = min(rank, s.size)
    return (u[:, :rank] * s[:rank]).astype(np.float32), vt[:rank].astype(np.float32)


def _bias_node(gemm, product: str, output: str):
    """``product + C`` for a Gemm's bias input ``C`` (``linear_nodes`` admits beta = 1 only)."""
    return helper.make_node("Add", [product, gemm.input[2]], [output])


def _drop_unused_initializer(graph, name: str) -> None:
    if not any(name in node.input for node in graph.node):
        kept = [init for init in graph.initializer if init.name != name]
        del graph.initializer[:]
        graph.initializer.extend(kept)


def _fresh_names(graph, stem: str, roles) -> dict[str, str]:
    taken = {name for node in graph.node for name in node.output} | {init.name for init in graph.initializer}
    taken |= {info.name for info in graph.input}
    names = {}
    for role in roles:
        name, n = f"{stem}/{role}", 1
        while name in taken:
            name, n = f"{stem}/{role}_{n}", n + 1
        names[role] = name
    return names


def _copy(proto: onnx.ModelProto) -> onnx.ModelProto:
    variant = onnx.ModelProto()
    variant.CopyFrom(proto)
    return variant

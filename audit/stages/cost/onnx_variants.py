"""Smaller variants of an ONNX graph, built by editing the graph itself (no framework needed):

- :func:`project_output`: the output embedding projected to ``k`` PCA dimensions, as
  ``output @ components.T`` (optionally centred) appended to the graph;
- :func:`factorize_linear`: a dense layer (a :class:`~audit.sources.adapters.onnx.graph.LinearNode`:
  ``Gemm`` or ``MatMul`` with a stored weight) replaced by two thin ``MatMul`` of a truncated
  SVD at rank ``r``.

Each returns a new ``onnx.ModelProto``; the input is never modified.
"""

from __future__ import annotations

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

from ...estimators.lowrank import LowRankFactors, factorize
from ...sources.adapters.onnx.graph import LinearNode, stored_weights

__all__ = ["factorize_linear", "linear_factors", "project_output"]


def project_output(proto: onnx.ModelProto, components: np.ndarray, *, mean: np.ndarray | None = None) -> onnx.ModelProto:
    """The graph with its first output replaced by ``(output - mean) @ components.T``: the PCA
    projection to ``len(components)`` dimensions (``components`` rows are unit directions;
    without ``mean``, uncentred, as a vector store compares the vectors)."""
    variant = _copy(proto)
    graph = variant.graph
    source = graph.output[0].name
    k = components.shape[0]
    names = _fresh_names(graph, f"{source}_pca{k}", ("mean", "basis", "centred", "out"))
    graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(components.T, dtype=np.float32), names["basis"]))
    if mean is not None:
        graph.initializer.append(numpy_helper.from_array(mean.astype(np.float32), names["mean"]))
        graph.node.append(helper.make_node("Sub", [source, names["mean"]], [names["centred"]]))
        source = names["centred"]
    graph.node.append(helper.make_node("MatMul", [source, names["basis"]], [names["out"]]))
    del graph.output[0]
    graph.output.insert(0, helper.make_tensor_value_info(names["out"], onnx.TensorProto.FLOAT, [None, k]))
    return variant


def linear_factors(proto: onnx.ModelProto, layer: LinearNode) -> LowRankFactors:
    """The SVD of ``layer``'s weight, read as torch's (out, in): compute once, factorize at any rank."""
    node = next(n for n in proto.graph.node if (n.name or n.output[0]) == layer.node)
    return factorize(torch.as_tensor(_weight_in_out(proto.graph, node, layer).T))


def factorize_linear(proto: onnx.ModelProto, layer: LinearNode, rank: int, *,
                     factors: LowRankFactors | None = None) -> onnx.ModelProto:
    """The graph with ``layer`` replaced by ``x @ B^T @ A^T (+ bias)``, where ``A @ B`` is the best
    rank-``rank`` approximation of its (out, in) weight (Eckart-Young; the balanced split of
    :meth:`~audit.estimators.lowrank.LowRankFactors.split`). ``factors``: :func:`linear_factors`, to
    reuse one SVD across ranks."""
    variant = _copy(proto)
    graph = variant.graph
    index, node = next((i, n) for i, n in enumerate(graph.node) if (n.name or n.output[0]) == layer.node)
    out_rank, rank_in = (factors or linear_factors(proto, layer)).split(rank)
    left = np.ascontiguousarray(rank_in.T.numpy(), dtype=np.float32)  # (in, r)
    right = np.ascontiguousarray(out_rank.T.numpy(), dtype=np.float32)  # (r, out)
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
    _drop_if_unused(graph, layer.weight)
    return variant


def _weight_in_out(graph, node, layer: LinearNode) -> np.ndarray:
    weight = numpy_helper.to_array(stored_weights(graph)[layer.weight]).astype(np.float64)
    transposed = node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute)
    return weight.T if transposed else weight


def _bias_node(gemm, product: str, output: str):
    """``product + C`` for a Gemm's bias input ``C`` (``linear_nodes`` admits beta = 1 only)."""
    return helper.make_node("Add", [product, gemm.input[2]], [output])


def _drop_if_unused(graph, name: str) -> None:
    """Remove the stored weight ``name`` (initializer or Constant node) once nothing reads it."""
    if any(name in node.input for node in graph.node) or any(output.name == name for output in graph.output):
        return
    kept = [init for init in graph.initializer if init.name != name]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    constant = next((i for i, node in enumerate(graph.node) if node.op_type == "Constant" and node.output[0] == name), None)
    if constant is not None:
        del graph.node[constant]


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

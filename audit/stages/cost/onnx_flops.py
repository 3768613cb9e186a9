"""FLOPs per sample of an ONNX graph, counted the way torch's ``FlopCounterMode`` counts a torch
model: every matrix product (``MatMul``, ``Gemm``, ``Conv``, ``ConvTranspose``) at 2 FLOPs per
multiply-add, elementwise work not counted.

Shapes come from one run of the graph on one sample with every activation exposed, so dynamic
dimensions (image sizes, sequence lengths) are the probe's own.
"""

from __future__ import annotations

import numpy as np

from ...sources.adapters.onnx.graph import activations, infer_shapes, runtime_session, with_outputs

__all__ = ["COUNTED_OPS", "flops_per_sample", "graph_flops", "tensor_shapes"]

COUNTED_OPS = ("MatMul", "Gemm", "Conv", "ConvTranspose")


def flops_per_sample(proto, feed: dict[str, np.ndarray]) -> int:
    """FLOPs of one forward pass of the ONNX model ``proto`` on ``feed`` (graph input -> array:
    a batch of one, of each input's dtype, and any constant inputs)."""
    return graph_flops(proto, tensor_shapes(proto, feed), unknown=0)


def tensor_shapes(proto, feed: dict[str, np.ndarray]) -> dict[str, tuple]:
    """The shape of every stored weight, fed input and activation of ``proto`` on ``feed``."""
    proto = infer_shapes(proto)
    names = [name for name, _ in activations(proto, feed)]
    extra = [name for name in names if name not in {output.name for output in proto.graph.output}]
    session = runtime_session(with_outputs(proto, extra).SerializeToString())
    wanted = [output.name for output in session.get_outputs()]
    shapes = _weight_shapes(proto.graph)
    shapes.update((name, value.shape) for name, value in feed.items())
    shapes.update((name, value.shape) for name, value in zip(wanted, session.run(wanted, feed)))
    return shapes


def graph_flops(proto, shapes: dict[str, tuple], *, unknown: int | None = None) -> int | None:
    """FLOPs of ``proto``'s matrix products from ``shapes`` (:func:`tensor_shapes` of this graph,
    or of the graph it was edited from: the shapes of what an edit adds, products with a 2-D
    weight and elementwise arithmetic, are derived). A product whose shapes stay unknown (inside a
    subgraph, or of tensors no input reaches) makes the count None, or counts ``unknown``."""
    shapes = {**_weight_shapes(proto.graph), **shapes}  # the weights an edit added, too
    for node in proto.graph.node:
        _derive_shape(node, shapes)
    counted = [node for node in proto.graph.node if node.op_type in COUNTED_OPS]
    known = [all(name in shapes for name in (*node.input[:2], node.output[0])) for node in counted]
    if unknown is None and not all(known):
        return None
    return sum(_node_flops(node, shapes) if found else unknown for node, found in zip(counted, known))


def _derive_shape(node, shapes: dict[str, tuple]) -> None:
    """The output shape of a node an edit added, where it follows from its inputs' shapes."""
    if not node.output or node.output[0] in shapes or any(name not in shapes for name in node.input[:2]):
        return
    if node.op_type == "MatMul" and len(shapes[node.input[1]]) == 2:
        shapes[node.output[0]] = (*shapes[node.input[0]][:-1], shapes[node.input[1]][-1])
    elif node.op_type in ("Add", "Sub", "Mul"):
        shapes[node.output[0]] = tuple(np.broadcast_shapes(shapes[node.input[0]], shapes[node.input[1]]))


def _weight_shapes(graph) -> dict[str, tuple]:
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    shapes[node.output[0]] = tuple(attribute.t.dims)
    return shapes


def _node_flops(node, shapes: dict[str, tuple]) -> int:
    first, second, out = shapes[node.input[0]], shapes[node.input[1]], shapes[node.output[0]]
    if node.op_type == "MatMul":
        return 2 * int(np.prod(out)) * int(first[-1])
    if node.op_type == "Gemm":
        trans_a = any(a.name == "transA" and a.i for a in node.attribute)
        return 2 * int(np.prod(out)) * int(first[0] if trans_a else first[1])
    if node.op_type == "Conv":  # weight (C_out, C_in / groups, *kernel)
        return 2 * int(np.prod(out)) * int(np.prod(second[1:]))
    # ConvTranspose: each input element meets a (C_out / groups, *kernel) slice of the weight
    return 2 * int(np.prod(first)) * int(np.prod(second[1:]))

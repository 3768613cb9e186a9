"""The part of an edited ONNX graph that its edit changed, to score a variant without rerunning
what every variant shares.

A factorized layer changes its own node and what lies downstream of it; every tensor upstream is
the original's. :func:`downstream_part` cuts the edited graph at the weights the edit added: the
nodes that read them, directly or through one another, become a graph of their own whose inputs
are the tensors those nodes read from upstream. The original graph computes those tensors once
per cut (:func:`upstream_outputs`), and every rank of the layer runs only its part on them.

Only plain graphs are cut: a part with a node holding subgraphs (``If``, ``Loop``), or whose
upstream tensors have no known type, is not built, and the variant runs whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import helper

from ...sources.adapters.onnx.graph import stored_weights, with_outputs

__all__ = ["GraphPart", "downstream_part", "upstream_outputs"]


@dataclass(frozen=True)
class GraphPart:
    """``proto``: the nodes downstream of an edit, fed ``inputs`` (computed upstream, or graph
    inputs) and returning the edited graph's first output."""

    proto: onnx.ModelProto
    inputs: tuple[str, ...]


def downstream_part(edited: onnx.ModelProto, new_weights: set[str], types: dict[str, int]) -> GraphPart | None:
    """The nodes of ``edited`` that depend on ``new_weights`` and the tensors they read from
    upstream (typed from ``types``, the original's shape-inferred tensor types), or None when the
    part cannot be cut (see the module docstring)."""
    graph = edited.graph
    output = graph.output[0]
    changed, kept = set(new_weights), []
    for node in graph.node:
        if node.op_type != "Constant" and not changed.isdisjoint(node.input):
            kept.append(node)
            changed.update(name for name in node.output if name)
    if output.name not in changed or any(_has_subgraph(node) for node in kept):
        return None
    produced = {name for node in kept for name in node.output}
    read = dict.fromkeys(name for node in kept for name in node.input if name and name not in produced)
    stored = stored_weights(graph)
    fed = tuple(name for name in read if name not in stored)
    if any(name not in types for name in fed):
        return None
    known = {info.name: info for info in (*graph.input, *graph.value_info)}
    constants = [node for node in graph.node if node.op_type == "Constant" and node.output[0] in read]
    part = helper.make_model(
        helper.make_graph(constants + kept, f"{graph.name}_downstream",
                          [known.get(name) or helper.make_tensor_value_info(name, types[name], None) for name in fed], [output],
                          initializer=[init for init in graph.initializer if init.name in read],
                          value_info=[info for info in graph.value_info if info.name in produced]),
        opset_imports=edited.opset_import, ir_version=edited.ir_version)
    part.functions.extend(edited.functions)
    return GraphPart(part, fed)


def upstream_outputs(original: onnx.ModelProto, part: GraphPart) -> onnx.ModelProto:
    """The shape-inferred ``original`` returning also the tensors ``part`` is fed that are not
    graph inputs (its first output stays first)."""
    inputs = {info.name for info in original.graph.input}
    return with_outputs(original, [name for name in part.inputs if name not in inputs])


def _has_subgraph(node) -> bool:
    return any(attribute.HasField("g") or len(attribute.graphs) for attribute in node.attribute)


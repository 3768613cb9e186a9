"""A text encoder's sentence embedding, added to its ONNX graph: the token states (the graph's
first output, samples x tokens x features) pooled over the real tokens and optionally L2
normalised, as the ``transformers`` kind's :class:`~audit.sources.text_encoder.MaskedPooling`
and :class:`~audit.sources.text_encoder.L2Normalize` do in torch, step for step:

- ``mean``: sum of the states times the attention mask over tokens, over the mask's sum
  (at least 1e-9); ``cls``: the first token's state; ``max``: the largest state over tokens,
  padding set to -inf first;
- normalised: divided by the L2 norm (at least 1e-12).

The pooled tensor is named ``sentence_embedding``, the normalised one ``normalize`` (the
transformers kind's module names; suffixed if the graph already has such a tensor), and the
last of them replaces the graph's first output. Nodes are written for the graph's own opset
(axes as attributes or inputs, as it asks).
"""

from __future__ import annotations

import numpy as np

__all__ = ["POOLING_LABELS", "pooled"]

POOLING_LABELS = {"mean": "mean pooling", "cls": "first (CLS) token", "max": "max pooling"}
NORMALIZE_LABEL = "L2 normalization"


class _Builder:
    """Appends nodes to a graph under fresh names, with axes written the way its opset wants."""

    def __init__(self, proto):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.graph = proto.graph
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.taken = ({name for node in self.graph.node for name in node.output}
                      | {init.name for init in self.graph.initializer} | {info.name for info in self.graph.input})

    def fresh(self, stem: str) -> str:
        name, n = stem, 1
        while name in self.taken:
            name, n = f"{stem}_{n}", n + 1
        self.taken.add(name)
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes) -> str:
        self.graph.node.append(self.helper.make_node(op, inputs, [output], **attributes))
        return output

    def constant(self, stem: str, value, dtype) -> str:
        name = self.fresh(stem)
        self.graph.initializer.append(self.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def with_axes(self, op: str, x: str, axes: list[int], output: str, since: int, **attributes) -> str:
        """``op`` over ``axes``: an input from opset ``since`` on, an attribute before."""
        if self.opset >= since:
            return self.node(op, [x, self.constant(f"{output}/axes", axes, np.int64)], output, **attributes)
        return self.node(op, [x], output, axes=axes, **attributes)


def pooled(proto, states: str, mask: str, mode: str, normalize: bool, elem_type: int) -> dict[str, str]:
    """Make ``proto``'s first output ``states`` pooled (``mode``: mean, cls or max) over the tokens
    the graph input ``mask`` marks, then normalised if asked, editing ``proto`` in place (a copy
    and a second shape inference would cost seconds on a large encoder: the pooled tensors are
    declared by hand, and the steps between them are left untyped, so they are no layers).
    Returns the labels of the tensors added (name -> what it is, shown where an op type would be)."""
    import onnx

    variant = proto
    build = _Builder(variant)
    dtype = onnx.helper.tensor_dtype_to_np_dtype(elem_type)
    embedding = build.fresh("sentence_embedding")
    if mode == "cls":
        build.node("Gather", [states, build.constant(f"{embedding}/first", 0, np.int64)], embedding, axis=1)
    else:
        weights = build.with_axes("Unsqueeze", build.node("Cast", [mask], build.fresh(f"{embedding}/mask"), to=elem_type),
                                  [2], build.fresh(f"{embedding}/weights"), since=13)
        if mode == "mean":
            total = build.with_axes("ReduceSum", build.node("Mul", [states, weights], build.fresh(f"{embedding}/masked")),
                                    [1], build.fresh(f"{embedding}/sum"), since=13, keepdims=0)
            count = build.with_axes("ReduceSum", weights, [1], build.fresh(f"{embedding}/count"), since=13, keepdims=0)
            floor = build.node("Max", [count, build.constant(f"{embedding}/eps", 1e-9, dtype)], build.fresh(f"{embedding}/tokens"))
            build.node("Div", [total, floor], embedding)
        else:
            padding = build.node("Equal", [weights, build.constant(f"{embedding}/zero", 0, dtype)], build.fresh(f"{embedding}/padding"))
            filled = build.node("Where", [padding, build.constant(f"{embedding}/-inf", -np.inf, dtype), states],
                                build.fresh(f"{embedding}/filled"))
            build.with_axes("ReduceMax", filled, [1], embedding, since=18, keepdims=0)
    labels, last = {embedding: POOLING_LABELS[mode]}, embedding
    if normalize:
        last = build.fresh("normalize")
        squares = build.node("Mul", [embedding, embedding], build.fresh(f"{last}/squares"))
        norm = build.node("Sqrt", [build.with_axes("ReduceSum", squares, [1], build.fresh(f"{last}/sum"), since=13, keepdims=1)],
                          build.fresh(f"{last}/norm"))
        floor = build.node("Max", [norm, build.constant(f"{last}/eps", 1e-12, dtype)], build.fresh(f"{last}/floor"))
        build.node("Div", [embedding, floor], last)
        labels[last] = NORMALIZE_LABEL
    variant.graph.value_info.extend(onnx.helper.make_tensor_value_info(name, elem_type, None) for name in labels)
    variant.graph.value_info.append(variant.graph.output[0])  # the token states keep their type: still a layer
    del variant.graph.output[0]
    variant.graph.output.insert(0, onnx.helper.make_tensor_value_info(last, elem_type, None))
    return labels

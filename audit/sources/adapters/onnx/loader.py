"""Reading an ONNX model as an audit subject: parse and check an ``.onnx`` file, list its
intermediate tensors (the layer names a spec selects) and choose the default ones.

- The file is parsed, checked with ``onnx.checker`` and shape-inferred. Anything that fails
  (truncated, not ONNX, invalid graph, an operator ONNX Runtime lacks) is a
  :class:`~audit.errors.SourceError` naming the file: exit 2, never a traceback.
- Layers are the floating-point outputs of the top-level graph's nodes, named as in the file,
  plus ``output`` (the graph's first output). Tensors inside subgraphs (``If``, ``Loop``) are
  not offered: they are not values of the main graph (the outputs of such a node are, when its
  bodies read the data).
- Every graph input is fed (:mod:`.feeds`): the probe's array feeds one (``model.input``, or
  the only input left without a value), or a tokenizer feeds a text encoder's token inputs;
  ``model.constants`` feed the rest. Layers are the tensors that depend on the data input (the
  array, or the token ids). A model exported with a fixed batch size runs the probe in pieces
  of that size.
- A text encoder may get its sentence embedding added to the graph (:mod:`.pooling`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ....errors import SourceError
from ....layers import OUTPUT
from .feeds import FeedError, Feeds, plan_feeds
from .graph import activations, channel_first, count_weights, first_line, infer_shapes, runtime_session, tensor_types, with_outputs

__all__ = ["FeedError", "OnnxGraph", "load_onnx", "onnx_session"]

# Ops whose outputs make a good default profile: nonlinearities, pooling to a vector, dense maps.
_DEFAULT_OPS = {"Relu", "LeakyRelu", "PRelu", "Clip", "HardSwish", "Gelu", "Tanh", "Elu", "Selu", "Mish",
                "Softplus", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Gemm", "LayerNormalization"}
_DEFAULT_COUNT = 8


@dataclass(frozen=True)
class OnnxGraph:
    """A checked ONNX model: its proto, how its inputs are fed, and its float tensors in order."""

    path: Path
    proto: object  # onnx.ModelProto, shape-inferred
    input_name: str  # the data input: the probe's array, or the token ids
    input_shape: tuple  # ints for fixed dims, strings or None for dynamic ones
    input_dtype: np.dtype
    output_name: str
    tensors: tuple[tuple[str, str], ...]  # (tensor name, op type of its producer), in node order
    n_parameters: int
    feeds: Feeds  # every graph input and how it is fed
    squeezed: frozenset = frozenset()  # (N, C, 1, 1) tensors: squeeze-excitation internals
    channel_first: frozenset = frozenset()  # tensors laid out (N, C, ...): a 3-d one is no sequence
    threads: int = 0
    pooling: str = ""  # what was added to a text encoder's graph ("" when nothing was)

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


def load_onnx(path: Path, *, input_name: str | None = None, threads: int = 0, text_inputs: dict | None = None,
              constants: dict | None = None, pooling: tuple[str, bool, bool] | None = None) -> OnnxGraph:
    """Read, check and shape-infer ``path`` and plan its feeds (:func:`.feeds.plan_feeds`:
    ``input_name`` for an array probe, ``text_inputs`` for a text encoder, ``constants``); with
    ``pooling`` (mode, normalize, asked: see :func:`_pool`), a text encoder's token states become
    a sentence embedding. A failure to read or run the file is a :class:`SourceError`, a spec
    value the graph contradicts a :class:`FeedError`."""
    import onnx

    proto = _read(path)
    try:
        onnx.checker.check_model(proto)
    except Exception as error:  # onnx raises ValidationError and others for invalid graphs
        raise SourceError(str(path), f"onnx.checker rejects the model: {first_line(error)}") from None
    proto = infer_shapes(proto)
    feeds = plan_feeds(path, proto.graph, input_name=input_name, text_inputs=text_inputs, constants=constants)
    proto, labels, added = _pool(path, proto, feeds, pooling) if pooling else (proto, {}, "")
    feed = next(info for info in proto.graph.input if info.name == feeds.data)
    elem_type = feed.type.tensor_type.elem_type
    return OnnxGraph(
        path=path,
        proto=proto,
        input_name=feed.name,
        input_shape=tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                          for d in feed.type.tensor_type.shape.dim),
        input_dtype=np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)),
        output_name=proto.graph.output[0].name,
        tensors=tuple((name, labels.get(name, op)) for name, op in activations(proto, feed.name)),
        squeezed=frozenset(_squeezed(proto.graph)),
        channel_first=channel_first(proto.graph),
        n_parameters=count_weights(proto.graph),
        threads=threads,
        feeds=feeds,
        pooling=added,
    )


def _pool(path: Path, proto, feeds: Feeds, pooling: tuple[str, bool, bool]):
    """(the graph with its sentence embedding, edited in place; labels of the tensors added; what
    was added).
    ``pooling``: (mode, normalize, asked): a first output that is not token states is an error
    when the spec ``asked`` for this pooling, and left as it is when it came from a
    sentence-transformers configuration (the graph may pool already)."""
    from .pooling import POOLING_LABELS, pooled

    mode, normalize, asked = pooling
    output = proto.graph.output[0]
    dims = output.type.tensor_type.shape.dim if output.type.tensor_type.HasField("shape") else None
    if dims is not None and len(dims) != 3:
        if not asked:
            return proto, {}, ""
        raise FeedError(("model", "pooling"), f"pools token states (samples x tokens x features), but the graph's "
                                              f"first output {output.name!r} has {len(dims)} axes")
    mask = dict(feeds.text).get("attention_mask")
    if mask is None and mode != "cls":
        raise FeedError(("model", "pooling"), f"{mode} pooling skips padding with the attention mask, and "
                                              f"{path.name} takes none (model.text_inputs.attention_mask)")
    labels = pooled(proto, output.name, mask, mode, normalize, tensor_types(proto.graph).get(output.name, 1))
    return proto, labels, POOLING_LABELS[mode] + (", L2 normalization" if normalize else "")


def _read(path: Path):
    import onnx

    try:
        return onnx.load(str(path))
    except Exception as error:  # DecodeError on truncated or foreign bytes, OSError, missing external data
        raise SourceError(str(path), f"cannot read as an ONNX model (truncated or not ONNX?): {first_line(error)}") from None


def _squeezed(graph):
    for info in graph.value_info:
        dims = info.type.tensor_type.shape.dim
        if len(dims) == 4 and all(d.HasField("dim_value") and d.dim_value == 1 for d in dims[2:]):
            yield info.name


def onnx_session(graph: OnnxGraph, extra_outputs: list[str] = ()):
    """A session of ``graph`` with ``extra_outputs`` added as graph outputs; a graph the runtime
    cannot run is a :class:`SourceError` naming the file."""
    try:
        return runtime_session(with_outputs(graph.proto, extra_outputs).SerializeToString(), threads=graph.threads)
    except Exception as error:  # unsupported operator or opset, invalid graph for the runtime
        raise SourceError(str(graph.path), f"ONNX Runtime cannot run the model: {first_line(error)}") from None

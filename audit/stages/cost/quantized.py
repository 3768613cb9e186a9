"""Quantized variants of the whole original model (``cost.quantize``), built from its ONNX graph
with ONNX Runtime's own tooling, and their outputs on probe samples.

- ``fp16``: ``onnxruntime.transformers.float16.convert_float_to_float16(model, keep_io_types=True)``:
  every float32 weight and activation in float16, the graph's inputs and outputs kept float32;
- ``int8_dynamic``: ``onnxruntime.quantization.quantize_dynamic`` (weights int8, activations
  quantized at run time from each batch's own range);
- ``int8_static``: ``onnxruntime.quantization.quantize_static`` (QDQ format, int8 weights and
  activations, MinMax calibration) with a :class:`CalibrationDataReader` fed by the FIT part of
  the cost stage's probe split (never the held-out samples), at most :data:`CALIBRATION_BATCHES`
  batches of the timed batch's shape.

Both int8 quantizers scale weights per output channel by default (``cost.quantize_per_channel``):
measured on all-MiniLM-L6-v2 (64 sentences, 32 tokens), ``quantize_dynamic``'s per-tensor default
kept a mean cosine of 0.964 to the float32 embeddings, per-channel 0.993.

Before either int8 quantizer, every ``Constant`` node holding a tensor becomes an initializer of
the same name (:func:`constants_as_initializers`, lossless): ONNX Runtime's quantizers only
quantize weights stored as initializers, and treat a weight held by a ``Constant`` node (as
PaddlePaddle's exporter writes them) as an activation, quantized at run time: a bigger, slower
graph. The builders take and return serialized ONNX bytes; the quantizers read and write files, so
they run in a temporary folder.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from ...outputs import pooled_rows

__all__ = ["CALIBRATION_BATCHES", "QUANTIZE_KINDS", "QUANTIZE_METHODS", "quantized_model", "sized_batches",
           "session_rows"]

QUANTIZE_KINDS = ("fp16", "int8_dynamic", "int8_static")
CALIBRATION_BATCHES = 32  # calibration batches at most (of the timed batch's shape)
QUANTIZE_METHODS = {
    "fp16": "onnxruntime.transformers.float16.convert_float_to_float16 (keep_io_types=True: float32 inputs and "
            "outputs, float16 inside)",
    "int8_dynamic": "onnxruntime.quantization.quantize_dynamic (int8 weights, activations quantized at run time)",
    "int8_static": f"onnxruntime.quantization.quantize_static (QDQ, int8 weights and activations, MinMax "
                   f"calibration on at most {CALIBRATION_BATCHES} batches of the probe's fit share, never the "
                   "held-out samples)",
}


def quantized_model(kind: str, model: bytes, calibration: Callable[[], Iterable[dict[str, np.ndarray]]], *,
                    per_channel: bool = True) -> bytes:
    """``model`` (serialized ONNX) quantized as ``kind`` (one of :data:`QUANTIZE_KINDS`);
    ``calibration`` yields the graph-input feeds of the static quantizer's calibration batches;
    ``per_channel``: int8 weights with one scale per output channel, else one per tensor."""
    with _quiet_root_logger():
        if kind == "fp16":
            return _fp16(model)
        model = constants_as_initializers(model)
        if kind == "int8_dynamic":
            return _through_files(model, lambda source, target: _dynamic(source, target, per_channel))
        if kind == "int8_static":
            return _through_files(model, lambda source, target: _static(source, target, _input_names(model),
                                                                         calibration(), per_channel))
    raise ValueError(f"unknown quantization {kind!r}")


@contextmanager
def _quiet_root_logger():
    """The quantizers log advice ("consider pre-processing") on the root logger at WARNING: kept
    out of the audit's output while they run."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def constants_as_initializers(model: bytes) -> bytes:
    """``model`` with each ``Constant`` node's tensor (its ``value`` attribute) moved into an
    initializer named as the node's output, the node removed (the graph computes the same)."""
    import onnx

    proto = onnx.load_from_string(model)
    graph = proto.graph
    moved = [node for node in graph.node if node.op_type == "Constant" and len(node.attribute) == 1
             and node.attribute[0].name == "value"]
    if not moved:
        return model
    for node in moved:
        tensor = onnx.TensorProto()
        tensor.CopyFrom(node.attribute[0].t)
        tensor.name = node.output[0]
        graph.initializer.append(tensor)
    kept = [node for node in graph.node if not any(node is m for m in moved)]
    del graph.node[:]
    graph.node.extend(kept)
    return proto.SerializeToString()


def _fp16(model: bytes) -> bytes:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    return convert_float_to_float16(onnx.load_from_string(model), keep_io_types=True).SerializeToString()


def _through_files(model: bytes, quantize: Callable[[str, str], None]) -> bytes:
    """Run a quantizer that reads ``model`` from a file and writes its result to another."""
    with tempfile.TemporaryDirectory(prefix="model-audit-quantize-") as folder:
        source, target = Path(folder, "original.onnx"), Path(folder, "quantized.onnx")
        source.write_bytes(model)
        quantize(str(source), str(target))
        return target.read_bytes()


def _dynamic(source: str, target: str, per_channel: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=per_channel)


def _static(source: str, target: str, names: list[str], feeds: Iterable[dict[str, np.ndarray]],
            per_channel: bool) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class _Reader(CalibrationDataReader):
        """The calibration feeds one by one, cut to the graph's inputs (``None`` when done)."""

        def __init__(self):
            self._feeds = iter(feeds)

        def get_next(self):
            feed = next(self._feeds, None)
            return None if feed is None else {name: feed[name] for name in names}

    quantize_static(source, target, _Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=per_channel)


def _input_names(model: bytes) -> list[str]:
    """The graph inputs a feed must hold: declared inputs that are not initializers."""
    import onnx

    graph = onnx.load_from_string(model).graph
    weights = {init.name for init in graph.initializer}
    return [item.name for item in graph.input if item.name not in weights]


def sized_batches(features, size: int, feed: Callable[[object], dict[str, np.ndarray]],
                  most: int | None = None) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """``features`` in consecutive chunks of ``size`` samples as graph feeds of exactly ``size``
    samples (``feed`` repeats a short last chunk's samples to fill it), with each chunk's count of
    real samples; at most ``most`` chunks."""
    starts = range(0, len(features), size)
    for start in list(starts)[:most]:
        chunk = features[start:start + size]
        yield len(chunk), feed(chunk)


def session_rows(session, batches: Iterable[tuple[int, dict[str, np.ndarray]]]) -> torch.Tensor:
    """The session's first output on ``batches`` (from :func:`sized_batches`), one float row per
    real sample: flattened after the sample axis, token states (with an ``attention_mask`` fed)
    averaged over each text's real tokens, as :func:`audit.outputs.batch_outputs` does in torch."""
    names = {item.name for item in session.get_inputs()}
    first = session.get_outputs()[0].name
    rows = []
    for real, feed in batches:
        output = session.run([first], {k: v for k, v in feed.items() if k in names})[0]
        rows.append(pooled_rows(output, feed.get("attention_mask"))[:real])
    return torch.cat(rows)

"""Export a torch module to ONNX and time it with ONNX Runtime; reusable on its own.

Export uses torch's TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``, opset
17), chosen deliberately: in torch 2.13 the default dynamo exporter needs the extra package
``onnxscript`` and a ``torch.export`` trace that user models (data-dependent Python in
``forward``) fail more often; the TorchScript exporter traces one concrete batch, which is what
is timed. It is deprecated upstream, so its deprecation warnings are silenced here and the
choice is recorded in every report (``EXPORTER``).

Timing: one :class:`onnxruntime.InferenceSession` on the CPU with ``intra_op_num_threads``
threads (and one inter-op thread), ``warmup`` untimed runs, then ``repeats`` timed runs of the
same batch with :func:`time.perf_counter`; p50 and p95 of those, throughput = batch size / p50.
"""

from __future__ import annotations

import io
import time
import warnings

import numpy as np
import torch

from ..results import Timing

__all__ = ["EXPORTER", "OPSET", "export_onnx", "onnx_session", "run_onnx", "time_onnx", "measure"]

OPSET = 17
EXPORTER = f"torch.onnx.export (TorchScript exporter, dynamo=False), opset {OPSET}"


def _as_kwargs(inputs) -> dict[str, torch.Tensor]:
    return dict(inputs) if isinstance(inputs, dict) else {"input": inputs}


def export_onnx(module: torch.nn.Module, inputs) -> bytes:
    """``module`` traced on ``inputs`` (a tensor, or a mapping of keyword tensors) as ONNX bytes."""
    named = _as_kwargs(inputs)
    args, kwargs = ((inputs,), None) if not isinstance(inputs, dict) else ((), named)
    buffer = io.BytesIO()
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # deprecation and tracer warnings of the legacy exporter
        torch.onnx.export(module, args, buffer, kwargs=kwargs, input_names=list(named), output_names=["output"],
                          opset_version=OPSET, dynamo=False, external_data=False)
    return buffer.getvalue()


def onnx_session(model: bytes, *, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _feed(session, inputs) -> dict[str, np.ndarray]:
    named = {name: tensor.numpy() for name, tensor in _as_kwargs(inputs).items()}
    return {item.name: named[item.name] for item in session.get_inputs()}  # unused inputs are pruned


def run_onnx(session, inputs) -> np.ndarray:
    return session.run(None, _feed(session, inputs))[0]


def time_onnx(session, inputs, *, warmup: int, repeats: int) -> np.ndarray:
    """Seconds of each of ``repeats`` timed runs after ``warmup`` untimed ones."""
    feed = _feed(session, inputs)
    for _ in range(warmup):
        session.run(None, feed)
    seconds = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        seconds[i] = time.perf_counter() - start
    return seconds


def measure(module: torch.nn.Module, inputs, *, warmup: int, repeats: int, threads: int,
            sequence_length: int | None = None) -> Timing:
    """Export ``module``, check ONNX Runtime's output against torch's on ``inputs``, and time it."""
    model = export_onnx(module, inputs)
    session = onnx_session(model, threads=threads)
    with torch.no_grad():
        expected = module(**inputs) if isinstance(inputs, dict) else module(inputs)
    difference = float(np.max(np.abs(run_onnx(session, inputs) - expected.numpy())))
    seconds = time_onnx(session, inputs, warmup=warmup, repeats=repeats)
    batch = next(iter(_as_kwargs(inputs).values())).shape[0]
    p50 = float(np.percentile(seconds, 50))
    return Timing(batch_size=int(batch), sequence_length=sequence_length, warmup=warmup, repeats=repeats,
                  threads=threads, p50_s=p50, p95_s=float(np.percentile(seconds, 95)), throughput=batch / p50,
                  onnx_bytes=len(model), max_abs_diff=difference)

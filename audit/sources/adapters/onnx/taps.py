"""Taps on an ONNX model: the selected tensors as extra graph outputs of one session."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from ....errors import CaptureError
from ....layers import OUTPUT
from .graph import first_line, run_batched
from .loader import OnnxGraph, onnx_session

__all__ = ["OnnxTaps", "run_batch"]


class OnnxTaps:
    """Taps on an ONNX model: the selected tensors become extra graph outputs of one ONNX Runtime
    session, so a single run per batch yields them all (the interface of
    :class:`audit.sources.adapters._torch_taps.TorchTaps`)."""

    def __init__(self, graph: OnnxGraph):
        self.graph = graph

    def type_name(self, name: str) -> str:
        return self.graph.op_type(name)

    def channel_first_1d(self, name: str) -> bool:
        return name in self.graph.channel_first

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
        return run_batch(session, wanted, self.graph, batch)


def run_batch(session, wanted: list[str], graph: OnnxGraph, batch) -> list[np.ndarray]:
    """``wanted`` outputs of ``session`` (a session of ``graph``) on one
    :class:`~audit.batches.Batch`: every graph input fed as ``graph.feeds`` says, in pieces of a
    fixed batch size where the graph has one; a runtime failure is a :class:`CaptureError`."""
    inputs = graph.feeds.per_sample(batch.inputs)
    n = len(next(iter(inputs.values())))
    try:
        return run_batched(session, wanted, inputs, graph.fixed_batch or n, graph.feeds.constant)
    except Exception as error:  # onnxruntime's own exception types: shape or type mismatch, kernel failure
        last = batch.first_sample + n - 1
        raise CaptureError("model", f"ONNX Runtime failed on samples {batch.first_sample}..{last}: "
                                    f"{first_line(error)}") from None

"""What every variant of an ONNX model is measured against (the interface of
:class:`.bench.Bench`): variants are edited graphs (:mod:`.onnx_variants`), timed as they are
(nothing is exported), FLOPs counted from the graph's own shapes (:mod:`.onnx_flops`), parameters
from its stored weights, and outputs on the probe from ONNX Runtime."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from ...sources.adapters.onnx.graph import count_weights, linear_nodes, run_batched, runtime_session
from .bench import BenchBase
from .onnx_flops import COUNTED_OPS, flops_per_sample
from .onnx_timing import timed
from .onnx_variants import factorize_linear, linear_factors, project_output
from .result import Timing

__all__ = ["ONNX_EXPORTER", "ONNX_FLOP_COUNTER", "OnnxBench"]

ONNX_EXPORTER = "none: the model is an ONNX file; variants are the graph edited (audit.stages.cost.onnx_variants)"
ONNX_FLOP_COUNTER = (f"matrix products ({', '.join(COUNTED_OPS)}) from the graph's tensor shapes on one probe sample "
                     "(a multiply-add is 2 FLOPs; elementwise work not counted), as FlopCounterMode counts torch models")


class OnnxBench(BenchBase):
    """The original graph, its timing and FLOPs, and the probe outputs variants are scored against."""

    linear_kind = "MatMul"  # what a factorized layer becomes: two of these

    def __init__(self, loaded, model, probe, progress):
        self.cost, self.model, self.probe, self.progress = loaded.spec.cost, model, probe, progress
        self.seed, self.batch_size, self.sequence_length = loaded.spec.seed, loaded.spec.probe.batch_size, None
        self.graph = model.graph
        self.original, self._factors = self.graph.proto, {}
        self.split_probe(loaded, probe)
        size = self.graph.fixed_batch or self.cost.batch_size
        chosen = [probe.features[i % len(probe.features)] for i in range(size)]
        self.inputs = {self.graph.input_name: torch.as_tensor(np.asarray(chosen, dtype=self.graph.input_dtype))}
        progress.stage("cost: the original model's FLOPs and ONNX latency")
        self.reference = None
        self.original_timing = self.timing(self.original)
        self.original_flops = self.flops(self.original)

    def flops(self, proto) -> int:
        sample = self.inputs[self.graph.input_name].numpy()
        per_batch = flops_per_sample(proto, self.graph.input_name, sample[: self.graph.fixed_batch or 1])
        return per_batch // (self.graph.fixed_batch or 1)

    def timing(self, proto) -> tuple[Timing | None, str]:
        """``proto``'s timing, in turns with the original once that has run, or why none."""
        if not self.cost.measure:
            return None, "not measured (cost.measure is false)"
        model = proto.SerializeToString()
        try:
            session = runtime_session(model, threads=self.cost.threads)
            found = timed(session, self.inputs, warmup=self.cost.warmup, repeats=self.cost.repeats,
                          threads=self.cost.threads, sequence_length=None, onnx_bytes=len(model), max_abs_diff=None,
                          reference=self.reference)
        except Exception as error:  # the runtime cannot take an edited graph: say so, keep going
            return None, f"ONNX timing failed: {type(error).__name__}: {str(error).strip()[:300]}"
        self.reference = self.reference or session
        return found, ""

    def parameters(self, proto) -> int:
        return count_weights(proto.graph)

    def outputs(self, proto) -> torch.Tensor:
        """``proto``'s first output on the held-out samples, one flattened row per sample."""
        session = runtime_session(proto.SerializeToString(), threads=self.cost.threads)
        features = np.asarray(self.heldout_features, dtype=self.graph.input_dtype)
        first = session.get_outputs()[0].name
        found = run_batched(session, [first], self.graph.input_name, features, self.graph.fixed_batch or self.batch_size)
        return torch.as_tensor(found[0]).float().flatten(1)

    def projected(self, axes: np.ndarray):
        """The graph followed by a MatMul onto ``axes`` (k x width)."""
        return project_output(self.original, axes)

    def linear_shape(self, name: str) -> tuple[int, int]:
        layer = self._linear(name)
        return layer.n_in, layer.n_out

    @contextmanager
    def factorized(self, name: str, rank: int):
        """The graph with the dense node producing ``name`` factorized at ``rank`` (one SVD per
        layer, reused for every rank)."""
        layer = self._linear(name)
        if name not in self._factors:
            self._factors[name] = linear_factors(self.original, layer)
        yield factorize_linear(self.original, layer, rank, factors=self._factors[name])

    def _linear(self, name: str):
        return next(layer for layer in linear_nodes(self.original) if layer.output == name)

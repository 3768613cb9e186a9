"""What every variant of an ONNX model is measured against (the interface of
:class:`.bench.Bench`): variants are edited graphs (:mod:`.onnx_variants`), timed as they are
(nothing is exported), FLOPs counted from the graph's own shapes (:mod:`.onnx_flops`), parameters
from its stored weights, and outputs on the probe from ONNX Runtime.

Every graph input is fed as the model's feeds say (:mod:`audit.sources.adapters.onnx.feeds`): the
timed batch is the probe's first ``cost.batch_size`` samples, a text encoder's texts padded to
``cost.sequence_length`` tokens (default ``model.max_length``) as for a transformers model, and
constant inputs at that batch size."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from ...batches import batches, masked_mean
from ...sources.adapters.onnx.graph import count_weights, linear_nodes, runtime_session
from ...sources.adapters.onnx.taps import run_batch
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
        self.seed, self.batch_size = loaded.spec.seed, loaded.spec.probe.batch_size
        self.graph = model.graph
        self.sequence_length = (self.cost.sequence_length or model.max_length) if model.tokenizer else None
        self.original, self._factors = self.graph.proto, {}
        self.split_probe(loaded, probe)
        size = self.graph.fixed_batch or self.cost.batch_size
        self.per_sample = self._timed_batch(probe.features, size)
        timed_feed = {**self.per_sample, **self.graph.feeds.constant(size)}  # samples first: the timing reads its batch there
        self.inputs = {name: torch.as_tensor(array) for name, array in timed_feed.items()}
        progress.stage("cost: the original model's FLOPs and ONNX latency")
        self.reference = None
        self.original_timing = self.timing(self.original)
        self.original_flops = self.flops(self.original)

    def _timed_batch(self, features, size: int) -> dict[str, np.ndarray]:
        """The per-sample graph inputs of the timed batch: the probe's first ``size`` samples
        (repeated if the probe is smaller), texts padded to ``sequence_length`` tokens."""
        chosen = [features[i % len(features)] for i in range(size)]
        if self.model.tokenizer is None:
            return self.graph.feeds.per_sample(np.asarray(chosen))
        encoded = self.model.tokenizer(chosen, padding="max_length", truncation=True, max_length=self.sequence_length,
                                       return_tensors="pt")
        return self.graph.feeds.per_sample(dict(encoded))

    def flops(self, proto) -> int:
        size = self.graph.fixed_batch or 1
        feed = {name: array[:size] for name, array in self.per_sample.items()} | self.graph.feeds.constant(size)
        return flops_per_sample(proto, feed) // size

    def timing(self, proto) -> tuple[Timing | None, str]:
        """``proto``'s timing, in turns with the original once that has run, or why none."""
        if not self.cost.measure:
            return None, "not measured (cost.measure is false)"
        model = proto.SerializeToString()
        try:
            session = runtime_session(model, threads=self.cost.threads)
            found = timed(session, self.inputs, warmup=self.cost.warmup, repeats=self.cost.repeats,
                          threads=self.cost.threads, sequence_length=self.sequence_length, onnx_bytes=len(model),
                          max_abs_diff=None, reference=self.reference)
        except Exception as error:  # the runtime cannot take an edited graph: say so, keep going
            return None, f"ONNX timing failed: {type(error).__name__}: {str(error).strip()[:300]}"
        self.reference = self.reference or session
        return found, ""

    def parameters(self, proto) -> int:
        return count_weights(proto.graph)

    def outputs(self, proto) -> torch.Tensor:
        """``proto``'s first output on the held-out samples, one flattened row per sample (token
        states averaged over each text's real tokens)."""
        session = runtime_session(proto.SerializeToString(), threads=self.cost.threads)
        first = session.get_outputs()[0].name
        rows = []
        for batch in batches(self.heldout_features, self.batch_size, dtype=self.model.input_dtype,
                             tokenizer=self.model.tokenizer, max_length=self.model.max_length):
            output = torch.as_tensor(run_batch(session, [first], self.graph, batch)[0]).float()
            rows.append((masked_mean(output, batch.mask) if output.ndim == 3 and batch.mask is not None else output).flatten(1))
        return torch.cat(rows)

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

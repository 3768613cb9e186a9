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

from ...outputs import model_batches, pooled_rows
from ...sources.adapters.onnx.graph import count_weights, linear_nodes, runtime_session, tensor_types
from ...sources.adapters.onnx.taps import run_batch
from .bench import BenchBase
from .onnx_cut import GraphPart, downstream_part, upstream_outputs
from .onnx_flops import COUNTED_OPS, flops_per_sample, graph_flops, tensor_shapes
from .onnx_timing import Exported
from .onnx_variants import factorize_linear, linear_factors, project_output

__all__ = ["ONNX_EXPORTER", "ONNX_FLOP_COUNTER", "OnnxBench"]

_CUT_BYTES = 1 << 30  # upstream tensors kept for one cut at most: past this, variants run whole

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
        self._sessions, self._shapes, self._shapes_feed = {}, None, None
        self._edits, self._cuts, self._checked = {}, {}, {}
        self._original_weights = {init.name for init in self.original.graph.initializer}
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
        """FLOPs per sample: the original's counted from one run with every activation exposed, a
        variant's from the original's shapes (an edit's own shapes derived; a run where they are not)."""
        size = self.graph.fixed_batch or 1
        if self._shapes is None:
            feed = {name: array[:size] for name, array in self.per_sample.items()} | self.graph.feeds.constant(size)
            self._shapes = tensor_shapes(proto, feed)
            self._shapes_feed = feed
        found = graph_flops(proto, self._shapes)
        return (found if found is not None else flops_per_sample(proto, self._shapes_feed)) // size

    def prepared(self, proto) -> Exported | str:
        """``proto`` serialized with its session, ready to time (the graph is timed as it is: no
        export, so no export check), or why it cannot be."""
        if not self.cost.measure:
            return "not measured (cost.measure is false)"
        try:
            model, session = self._compiled(proto)
        except Exception as error:  # the runtime cannot take an edited graph: say so, keep going
            return f"ONNX timing failed: {type(error).__name__}: {str(error).strip()[:300]}"
        return Exported(model, session, None)

    def _compiled(self, proto) -> tuple[bytes, object]:
        """``proto`` serialized and its session, kept for the original and the variant at hand: a
        variant's quality and timing run on one session."""
        if id(proto) not in self._sessions:
            self._sessions = {key: kept for key, kept in self._sessions.items() if kept[0] is self.original}
            model = proto.SerializeToString()
            self._sessions[id(proto)] = (proto, model, runtime_session(model, threads=self.cost.threads))
        return self._sessions[id(proto)][1:]

    def parameters(self, proto) -> int:
        return count_weights(proto.graph)

    @property
    def feed_size(self) -> int:
        """Samples per ONNX run: the graph's fixed batch, else the timed batch's."""
        return self.graph.fixed_batch or self.cost.batch_size

    def original_onnx(self) -> bytes:
        return self._compiled(self.original)[0]

    def variant_onnx(self, proto) -> bytes:
        """``proto`` (an edited graph) serialized."""
        return proto.SerializeToString()

    def sized_feed(self, features) -> dict[str, np.ndarray]:
        """Every graph input for ``features`` at ``feed_size`` samples (a short chunk repeated)."""
        return self._timed_batch(features, self.feed_size) | self.graph.feeds.constant(self.feed_size)

    def outputs(self, proto) -> torch.Tensor:
        """``proto``'s first output on the held-out samples, one flattened row per sample (token
        states averaged over each text's real tokens). A factorized layer's variant runs only the
        part downstream of the layer, on the original's upstream tensors (:mod:`.onnx_cut`), once
        that part has returned exactly the whole variant's outputs on the layer's first rank."""
        part = self._part(proto)
        if part is None:
            return self._whole_outputs(proto)
        session = runtime_session(part.proto.SerializeToString(), threads=self.cost.threads)
        first = session.get_outputs()[0].name
        found = torch.cat([pooled_rows(session.run([first], feed)[0], mask) for feed, mask in self._cuts[part.inputs]])
        if part.inputs not in self._checked:
            self._checked[part.inputs] = torch.equal(found, whole := self._whole_outputs(proto))
            if not self._checked[part.inputs]:
                self._cuts[part.inputs] = None
                return whole
        return found

    def _whole_outputs(self, proto) -> torch.Tensor:
        session = self._compiled(proto)[1]
        first = session.get_outputs()[0].name
        return torch.cat([pooled_rows(run_batch(session, [first], self.graph, batch)[0], batch.mask)
                          for batch in model_batches(self.model, self.heldout_features, self.batch_size)])

    def _part(self, proto) -> GraphPart | None:
        """The part of a factorized variant downstream of its layer, with the original's upstream
        tensors computed for it, or None (not a factorized variant, or a graph not cut)."""
        new_weights = self._edits.get(id(proto))
        if new_weights is None or self.graph.fixed_batch:
            return None
        part = downstream_part(proto, new_weights, tensor_types(self.original.graph))
        if part is not None and part.inputs not in self._cuts:
            self._cuts[part.inputs] = self._upstream(part)
        return part if part is not None and self._cuts[part.inputs] is not None else None

    def _upstream(self, part: GraphPart) -> list[tuple[dict, torch.Tensor | None]] | None:
        """Per held-out batch, the tensors ``part`` is fed (from the original) and the batch's
        mask; None past ``_CUT_BYTES`` of them (the part is then not used)."""
        session = runtime_session(upstream_outputs(self.original, part).SerializeToString(), threads=self.cost.threads)
        computed = [output.name for output in session.get_outputs()[1:]]
        feeds, held = [], 0
        for batch in model_batches(self.model, self.heldout_features, self.batch_size):
            inputs = self.graph.feeds.per_sample(batch.inputs)
            inputs |= self.graph.feeds.constant(len(next(iter(inputs.values()))))
            inputs |= dict(zip(computed, session.run(computed, inputs)))
            feeds.append(({name: inputs[name] for name in part.inputs}, batch.mask))
            held += sum(array.nbytes for array in feeds[-1][0].values())
            if held > _CUT_BYTES:
                return None
        return feeds

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
        variant = factorize_linear(self.original, layer, rank, factors=self._factors[name])
        self._edits = {id(variant): {init.name for init in variant.graph.initializer} - self._original_weights}
        try:
            yield variant
        finally:
            self._edits = {}

    def _linear(self, name: str):
        return next(layer for layer in linear_nodes(self.original) if layer.output == name)


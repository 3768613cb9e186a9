"""What every variant of one audit is measured against: the timed batch and one sample at the
spec's shape, the original model's FLOPs and ONNX timing (the reference variants are timed in
turns with), the seeded split of the probe (``cost.holdout``: a PCA is fitted on one part, every
variant is scored on the held-out part), the original's outputs on the held-out samples, and one
table row per variant."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from ...estimators.lowrank import factorize
from ...heldout import Split, split_samples
from ...outputs import model_outputs, subset
from ...sources.adapters.onnx.graph import runtime_session
from .estimate import flops_per_sample, model_bytes, parameter_count, search_flops, store_bytes
from .money import monthly_money
from .onnx_timing import Exported, _as_kwargs, checked, export_onnx, timed_together
from .onnx_variants import project_output
from .result import CostRow, Quality, Timing
from .variants import Projected, linear_map, svd_factorized, swapped

__all__ = ["Bench", "BenchBase", "PendingRow"]


@dataclass(frozen=True)
class PendingRow:
    """What a table row takes from its variant while the variant is in place; its timing comes
    later, in turns with the other variants of its target (:meth:`BenchBase.rows`)."""

    width: int
    sources: tuple[str, ...]
    vectors: bool
    quality: Quality
    parameters: int
    flops: int
    prepared: Exported | str  # the variant ready to time, or why it cannot be timed


class BenchBase:
    """The part of a bench every model kind shares: one table row per variant, the variants of a
    target timed together, compute seconds per sample from paired timings, and the original's
    probe outputs. A subclass sets ``cost``, ``original``, ``original_timing``, ``original_flops``,
    ``inputs``, ``sequence_length`` and ``reference`` (the original, prepared) and provides
    ``prepared``, ``parameters``, ``flops`` and ``outputs`` of a variant."""

    _baseline = None

    def original_row(self, width: int, *, vectors: bool, quality: Quality) -> CostRow:
        """The original model's row (its timing taken alone when the bench was set up)."""
        return self._row(PendingRow(width, ("original",), vectors, quality, self.parameters(self.original),
                                    self.original_flops, ""), self.original_timing)

    def pending(self, variant, width: int, sources, *, vectors: bool, quality: Quality) -> PendingRow:
        """A row for ``variant`` (the whole model with the change in place), its timing to come."""
        return PendingRow(width, tuple(sources), vectors, quality, self.parameters(variant), self.flops(variant),
                          self.prepared(variant))

    def rows(self, pending: list[PendingRow]) -> list[CostRow]:
        """The rows of one target's variants, timed in the same turns with the original."""
        return [self._row(row, timing) for row, timing in zip(pending, self.timings([row.prepared for row in pending]))]

    def timing(self, variant) -> tuple[Timing | None, str]:
        """``variant``'s timing on its own; the first variant timed (the original, when the bench
        is set up) becomes the reference the others are timed in turns with."""
        prepared = self.prepared(variant)
        found = self.timings([prepared])[0]
        if self.reference is None and found[0] is not None:
            self.reference = prepared
        return found

    def timings(self, prepared: list) -> list[tuple[Timing | None, str]]:
        """The timing, or why there is none, of each prepared variant: all that could be prepared
        run in the same turns, with the reference once per turn."""
        ready = [item for item in prepared if not isinstance(item, str)]
        found = iter(self._timed_together(ready) if ready else ())
        return [(None, item) if isinstance(item, str) else next(found) for item in prepared]

    def _timed_together(self, ready: list[Exported]) -> list[tuple[Timing | None, str]]:
        try:
            timings = timed_together([(item.session, len(item.model), item.max_abs_diff) for item in ready], self.inputs,
                                     warmup=self.cost.warmup, repeats=self.cost.repeats, threads=self.cost.threads,
                                     sequence_length=self.sequence_length,
                                     reference=self.reference.session if self.reference is not None else None)
        except Exception as error:  # the runtime failed on a variant's run: say so, keep going
            return [(None, f"ONNX timing failed: {type(error).__name__}: {str(error).strip()[:300]}")] * len(ready)
        return [(timing, "") for timing in timings]

    def _row(self, row: PendingRow, timing_and_error) -> CostRow:
        timing, error = timing_and_error
        stored = store_bytes(self.cost.stored_vectors, row.width, self.cost.store_dtype) \
            if row.vectors and self.cost.stored_vectors else None
        return CostRow(
            width=row.width, sources=row.sources, parameters=row.parameters, model_bytes=model_bytes(row.parameters),
            flops_per_sample=row.flops, store_bytes=stored,
            search_flops_per_query=search_flops(self.cost.stored_vectors, row.width) if stored is not None else None,
            timing=timing, timing_error=error, quality=row.quality,
            money=monthly_money(self.cost.prices, store_bytes=stored, seconds_per_sample=self._seconds_per_sample(timing),
                                queries_per_month=self.cost.queries_per_month),
        )

    def _seconds_per_sample(self, timing: Timing | None) -> float | None:
        """Encoding seconds per sample for compute money: a variant's is the original's p50 scaled
        by the ratio timed in turns with it, so its money changes exactly as its latency does."""
        if timing is None:
            return None
        original = self.original_timing[0]
        p50 = original.p50_s * (1 + timing.p50_change) if original and timing.p50_change is not None else timing.p50_s
        return p50 / timing.batch_size

    def split_probe(self, loaded, probe) -> None:
        """Set ``split`` (probe sample indices to fit on and held out, seeded) and the held-out
        samples' ``heldout_features`` and ``heldout_labels`` (None without labels)."""
        cost = loaded.spec.cost
        self.split: Split = split_samples(probe.info.n_samples, cost.holdout, loaded.spec.seed, most=cost.n_samples)
        self.heldout_features, self.heldout_labels = subset(probe.features, probe.labels, self.split.heldout)

    def baseline_outputs(self) -> torch.Tensor:
        """The original's outputs on the held-out samples (computed once)."""
        if self._baseline is None:
            self._baseline = self.outputs(self.original)
        return self._baseline

    def fit_features(self):
        """The probe features of the fit share of the split (never the held-out samples)."""
        return subset(self.probe.features, None, self.split.fit)[0]

    def prepared_onnx(self, model: bytes) -> Exported | str:
        """A serialized ONNX variant of the whole original (a quantized one) ready to time, with
        its output checked as :meth:`prepared` checks the kind's variants, or why it cannot be."""
        if not self.cost.measure:
            return "not measured (cost.measure is false)"
        try:
            return self._checked_onnx(model)
        except Exception as error:  # the runtime cannot take the variant: say so, keep going
            return f"ONNX timing failed: {type(error).__name__}: {str(error).strip()[:300]}"

    def _checked_onnx(self, model: bytes) -> Exported:
        return Exported(model, runtime_session(model, threads=self.cost.threads), None)


class Bench(BenchBase):
    """A torch model's bench: variants are torch modules, exported to ONNX to be timed."""

    linear_kind = "Linear"  # what a factorized layer becomes: two of these

    def __init__(self, loaded, model, probe, progress):
        self.cost, self.model, self.probe, self.progress = loaded.spec.cost, model, probe, progress
        self.original, self._factors = model.module, {}
        self.seed, self.batch_size = loaded.spec.seed, loaded.spec.probe.batch_size
        self.split_probe(loaded, probe)
        self.sequence_length = (self.cost.sequence_length or model.max_length) if model.tokenizer else None
        self.inputs = _example_inputs(model, probe.features, self.cost.batch_size, self.sequence_length)
        self.one_sample = _first_sample(self.inputs)
        progress.stage("cost: the original model's FLOPs and ONNX latency")
        self.reference = None
        self.original_timing = self.timing(model.module)
        self.original_flops = self.flops(model.module)

    def prepared(self, module) -> Exported | str:
        """``module`` exported and checked, ready to time, or why it cannot be."""
        if not self.cost.measure:
            return "not measured (cost.measure is false)"
        try:
            return self._exported(module)
        except Exception as error:  # a model the exporter or the runtime cannot take: say so, keep going
            return f"ONNX export or timing failed: {type(error).__name__}: {str(error).strip()[:300]}"

    def _exported(self, module) -> Exported:
        """``module`` in ONNX (:meth:`variant_onnx`: one export of the whole model per audit, not one
        per width), its output checked against torch's."""
        return checked(self.variant_onnx(module), module, self.inputs, threads=self.cost.threads)

    def parameters(self, module) -> int:
        return parameter_count(module)

    @property
    def feed_size(self) -> int:
        """Samples per ONNX run: the export traced the timed batch, so its graph takes that many."""
        return self.cost.batch_size

    def original_onnx(self) -> bytes:
        """The original's ONNX graph: the export timed as the reference (exported here when
        nothing was timed)."""
        return self.reference.model if self.reference is not None else export_onnx(self.original, self.inputs)

    def variant_onnx(self, module) -> bytes:
        """``module`` (a variant of the original) as serialized ONNX, as :meth:`prepared` would
        build it: a projection of the original's output appended to the original's graph, anything
        else exported."""
        if isinstance(module, Projected) and module.model is self.original:
            import onnx

            return project_output(onnx.load_from_string(self.original_onnx()),
                                  module.projection.weight.detach().numpy()).SerializeToString()
        return export_onnx(module, self.inputs)

    def sized_feed(self, features) -> dict[str, np.ndarray]:
        """The graph inputs for ``features`` at the timed batch's shape (a short chunk repeated to
        fill it, texts padded to ``sequence_length`` tokens)."""
        inputs = _example_inputs(self.model, features, self.feed_size, self.sequence_length)
        return {name: tensor.numpy() for name, tensor in _as_kwargs(inputs).items()}

    def _checked_onnx(self, model: bytes) -> Exported:
        """Its ONNX Runtime output against torch's on the timed batch (``max_abs_diff``)."""
        return checked(model, self.original, self.inputs, threads=self.cost.threads)

    def flops(self, module) -> int:
        return flops_per_sample(module, self.one_sample)

    def outputs(self, module, features=None) -> torch.Tensor:
        """``module``'s outputs on the held-out samples (or on ``features``), one flattened row per sample."""
        features = self.heldout_features if features is None else features
        return model_outputs(dataclasses.replace(self.model, module=module), features, self.batch_size)

    def projected(self, axes: np.ndarray):
        """The model followed by the bias-free map onto ``axes`` (k x width)."""
        return Projected(self.model.module, linear_map(axes))

    def linear_shape(self, name: str) -> tuple[int, int]:
        linear = self.model.module.get_submodule(name)
        return linear.in_features, linear.out_features

    @contextmanager
    def factorized(self, name: str, rank: int):
        """The model with Linear ``name`` factorized at ``rank`` while the block runs (one SVD per
        layer, reused for every rank)."""
        linear = self.model.module.get_submodule(name)
        if name not in self._factors:
            self._factors[name] = factorize(linear.weight)
        with swapped(self.model.module, name, svd_factorized(linear, rank, factors=self._factors[name])):
            yield self.model.module


def _example_inputs(model, features, batch_size: int, sequence_length: int | None):
    """The timed batch: the probe's first ``batch_size`` samples (repeated if the probe is smaller);
    texts padded to ``sequence_length`` tokens so the shape is the spec's."""
    chosen = [features[i % len(features)] for i in range(batch_size)]
    if model.tokenizer is None:
        return torch.as_tensor(np.asarray(chosen)).to(model.input_dtype)
    encoded = model.tokenizer(list(chosen), padding="max_length", truncation=True, max_length=sequence_length,
                              return_tensors="pt")
    return dict(encoded)


def _first_sample(inputs):
    return {name: tensor[:1] for name, tensor in inputs.items()} if isinstance(inputs, dict) else inputs[:1]

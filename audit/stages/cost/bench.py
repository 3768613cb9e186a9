"""What every variant of one audit is measured against: the timed batch and one sample at the
spec's shape, the original model's FLOPs and ONNX timing (the reference variants are timed in
turns with), the seeded split of the probe (``cost.holdout``: a PCA is fitted on one part, every
variant is scored on the held-out part), the original's outputs on the held-out samples, and one
table row per variant."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

import numpy as np
import torch

from ...estimators.lowrank import factorize
from ...heldout import Split, split_samples
from ...outputs import model_outputs, subset
from .estimate import flops_per_sample, model_bytes, parameter_count, search_flops, store_bytes
from .money import monthly_money
from .onnx_timing import Exported, checked, exported, timed
from .onnx_variants import project_output
from .result import CostRow, Quality, Timing
from .variants import Projected, linear_map, svd_factorized, swapped

__all__ = ["Bench", "BenchBase"]


class BenchBase:
    """The part of a bench every model kind shares: one table row per variant, compute seconds
    per sample from paired timings, and the original's probe outputs. A subclass sets
    ``cost``, ``original``, ``original_timing``, ``original_flops`` and provides ``timing``,
    ``parameters``, ``flops`` and ``outputs`` of a variant."""

    _baseline = None

    def row(self, module, width: int, sources, *, vectors: bool, quality: Quality, original: bool = False) -> CostRow:
        """One table row for ``module`` (the whole model with the variant in place)."""
        timing, error = self.original_timing if original else self.timing(module)
        parameters = self.parameters(module)
        stored = store_bytes(self.cost.stored_vectors, width, self.cost.store_dtype) \
            if vectors and self.cost.stored_vectors else None
        per_sample = self._seconds_per_sample(timing)
        return CostRow(
            width=width, sources=tuple(sources), parameters=parameters, model_bytes=model_bytes(parameters),
            flops_per_sample=self.original_flops if original else self.flops(module),
            store_bytes=stored,
            search_flops_per_query=search_flops(self.cost.stored_vectors, width) if stored is not None else None,
            timing=timing, timing_error=error, quality=quality,
            money=monthly_money(self.cost.prices, store_bytes=stored, seconds_per_sample=per_sample,
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

    def timing(self, module) -> tuple[Timing | None, str]:
        """``module``'s ONNX timing (in turns with the original once that is exported), or why none."""
        if not self.cost.measure:
            return None, "not measured (cost.measure is false)"
        try:
            found = self._exported(module)
            timing = timed(found.session, self.inputs, warmup=self.cost.warmup, repeats=self.cost.repeats,
                           threads=self.cost.threads, sequence_length=self.sequence_length,
                           onnx_bytes=len(found.model), max_abs_diff=found.max_abs_diff,
                           reference=self.reference.session if self.reference is not None else None)
        except Exception as error:  # a model the exporter or the runtime cannot take: say so, keep going
            return None, f"ONNX export or timing failed: {type(error).__name__}: {str(error).strip()[:300]}"
        self.reference = self.reference or found
        return timing, ""

    def _exported(self, module) -> Exported:
        """``module`` in ONNX: a projection of the original's output is the original's exported graph
        with the projection appended (one export of the whole model per audit, not one per width);
        anything else is exported. Either way its output is checked against torch's."""
        if isinstance(module, Projected) and module.model is self.original and self.reference is not None:
            import onnx

            edited = project_output(onnx.load_from_string(self.reference.model),
                                    module.projection.weight.detach().numpy())
            return checked(edited.SerializeToString(), module, self.inputs, threads=self.cost.threads)
        return exported(module, self.inputs, threads=self.cost.threads)

    def parameters(self, module) -> int:
        return parameter_count(module)

    def flops(self, module) -> int:
        return flops_per_sample(module, self.one_sample)

    def outputs(self, module) -> torch.Tensor:
        """``module``'s outputs on the held-out samples, one flattened row per sample."""
        return model_outputs(dataclasses.replace(self.model, module=module), self.heldout_features, self.batch_size)

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

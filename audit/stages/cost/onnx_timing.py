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
A variant is timed in turns with the original (run by run), so that on a shared machine a
passing load falls on both (the variants of one target share their turns: each turn runs the
original once, then every variant); the original's p50 from those same runs travels with the variant's
timing (``reference_p50_s``) and latency changes are taken against it. Their spread across turns
(``p50_change_low``, ``p50_change_high``) is a 95% percentile bootstrap interval of that same
change: the turns are resampled with replacement, each turn keeping its pair of runs, and the
ratio of the two p50s recomputed (200 replicates, a fixed seed). Unlike the range or the
quartiles of per-turn ratios, it is the spread of the very figure shown, and one preempted run
does not blow it up.
"""

from __future__ import annotations

import io
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ...sources.adapters.onnx.graph import runtime_session
from .result import Timing

__all__ = ["EXPORTER", "OPSET", "Exported", "checked", "export_onnx", "exported", "run_onnx", "time_onnx",
           "time_sessions", "timed", "timed_together", "turn_spread", "measure"]

OPSET = 17
EXPORTER = (f"torch.onnx.export (TorchScript exporter, dynamo=False), opset {OPSET}; a reduced output embedding is "
            "the original's export with its projection appended as a MatMul")


def _as_kwargs(inputs) -> dict[str, torch.Tensor]:
    return dict(inputs) if isinstance(inputs, dict) else {"input": inputs}


class _ByName(torch.nn.Module):
    """Positional graph inputs passed on to ``module`` by name: the TorchScript exporter maps
    keyword inputs onto ``forward``'s parameters by position, which goes wrong for a
    ``forward(input_ids, attention_mask, **extra)`` fed a tokenizer's mapping (its
    ``token_type_ids`` lands in ``attention_mask``) and fails for ``forward(*args, **kwargs)``."""

    def __init__(self, module: torch.nn.Module, names: list[str]):
        super().__init__()
        self.module, self.names = module, names

    def forward(self, *tensors):
        return self.module(**dict(zip(self.names, tensors)))


def export_onnx(module: torch.nn.Module, inputs) -> bytes:
    """``module`` traced on ``inputs`` (a tensor, or a mapping of keyword tensors) as ONNX bytes."""
    named = _as_kwargs(inputs)
    module.eval()
    # the exporter restores the traced module's mode recursively afterwards: a wrapper left in
    # its default training mode would switch the whole model into training mode (dropout on)
    traced = _ByName(module, list(named)).eval() if isinstance(inputs, dict) else module
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # deprecation and tracer warnings of the legacy exporter
        torch.onnx.export(traced, tuple(named.values()), buffer, input_names=list(named), output_names=["output"],
                          opset_version=OPSET, dynamo=False, external_data=False)
    return buffer.getvalue()


def _feed(session, inputs) -> dict[str, np.ndarray]:
    named = {name: tensor.numpy() for name, tensor in _as_kwargs(inputs).items()}
    return {item.name: named[item.name] for item in session.get_inputs()}  # unused inputs are pruned


def run_onnx(session, inputs) -> np.ndarray:
    return session.run(None, _feed(session, inputs))[0]


def time_sessions(sessions, inputs, *, warmup: int, repeats: int) -> list[np.ndarray]:
    """Seconds of each of ``repeats`` timed runs per session, after ``warmup`` untimed ones; the
    sessions take turns run by run, so a passing load on a shared machine falls on all alike."""
    feeds = [_feed(session, inputs) for session in sessions]
    for _ in range(warmup):
        for session, feed in zip(sessions, feeds):
            session.run(None, feed)
    seconds = np.empty((len(sessions), repeats))
    for i in range(repeats):
        for j, (session, feed) in enumerate(zip(sessions, feeds)):
            start = time.perf_counter()
            session.run(None, feed)
            seconds[j, i] = time.perf_counter() - start
    return list(seconds)


def time_onnx(session, inputs, *, warmup: int, repeats: int) -> np.ndarray:
    """Seconds of each of ``repeats`` timed runs after ``warmup`` untimed ones."""
    return time_sessions([session], inputs, warmup=warmup, repeats=repeats)[0]


@dataclass(frozen=True)
class Exported:
    """A module exported to ONNX, its session, and how far its output is from torch's."""

    model: bytes
    session: object
    max_abs_diff: float


def exported(module: torch.nn.Module, inputs, *, threads: int) -> Exported:
    """Export ``module`` and check ONNX Runtime's output against torch's on ``inputs``."""
    return checked(export_onnx(module, inputs), module, inputs, threads=threads)


def checked(model: bytes, module: torch.nn.Module, inputs, *, threads: int) -> Exported:
    """The ONNX ``model`` of ``module`` (exported, or an exported graph edited to be it), with
    how far ONNX Runtime's output is from torch's on ``inputs``."""
    session = runtime_session(model, threads=threads)
    with torch.no_grad():
        expected = module(**inputs) if isinstance(inputs, dict) else module(inputs)
    return Exported(model, session, float(np.max(np.abs(run_onnx(session, inputs) - expected.numpy()))))


def measure(module: torch.nn.Module, inputs, *, warmup: int, repeats: int, threads: int,
            sequence_length: int | None = None, reference: Exported | None = None) -> tuple[Timing, Exported]:
    """Export ``module``, check it, and time it; with ``reference`` (the original, exported),
    both are timed in turns and the reference's p50 from those runs is recorded alongside."""
    found = exported(module, inputs, threads=threads)
    reference_session = reference.session if reference is not None else None
    timing = timed(found.session, inputs, warmup=warmup, repeats=repeats, threads=threads,
                   sequence_length=sequence_length, onnx_bytes=len(found.model), max_abs_diff=found.max_abs_diff,
                   reference=reference_session)
    return timing, found


def timed(session, inputs, *, warmup: int, repeats: int, threads: int, sequence_length: int | None,
          onnx_bytes: int, max_abs_diff: float | None, reference=None) -> Timing:
    """Time ``session`` on ``inputs``, in turns with the ``reference`` session when given (its p50
    from those same runs is recorded alongside)."""
    return timed_together([(session, onnx_bytes, max_abs_diff)], inputs, warmup=warmup, repeats=repeats,
                          threads=threads, sequence_length=sequence_length, reference=reference)[0]


def timed_together(variants, inputs, *, warmup: int, repeats: int, threads: int, sequence_length: int | None,
                   reference=None) -> list[Timing]:
    """Time every ``(session, onnx_bytes, max_abs_diff)`` of ``variants`` on ``inputs`` in the same
    turns, the ``reference`` session (when given) once per turn with them: each variant's change is
    taken against the reference's runs of its own turns, and one set of reference runs serves all."""
    sessions = [session for session, _, _ in variants] + ([reference] if reference is not None else [])
    seconds = time_sessions(sessions, inputs, warmup=warmup, repeats=repeats)
    batch = int(next(iter(_as_kwargs(inputs).values())).shape[0])
    original = seconds[-1] if reference is not None else None
    return [_timing(runs, original, batch=batch, warmup=warmup, repeats=repeats, threads=threads,
                    sequence_length=sequence_length, onnx_bytes=onnx_bytes, max_abs_diff=max_abs_diff)
            for runs, (_, onnx_bytes, max_abs_diff) in zip(seconds, variants)]


def _timing(runs: np.ndarray, original: np.ndarray | None, *, batch: int, **recorded) -> Timing:
    p50 = float(np.percentile(runs, 50))
    low, high = turn_spread(runs, original) if original is not None else (None, None)
    return Timing(batch_size=batch, **recorded, p50_s=p50, p95_s=float(np.percentile(runs, 95)),
                  throughput=batch / p50, reference_p50_s=float(np.percentile(original, 50)) if original is not None else None,
                  p50_change_low=low, p50_change_high=high)


def turn_spread(variant: np.ndarray, original: np.ndarray, *, replicates: int = 200, level: float = 0.95,
                seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``median(variant) / median(original) - 1`` over turns:
    ``variant[i]`` and ``original[i]`` were timed in the same turn and are resampled together."""
    variant, original = np.asarray(variant), np.asarray(original)
    turns = np.random.default_rng(seed).integers(0, variant.size, size=(replicates, variant.size))
    ratios = np.median(variant[turns], axis=1) / np.median(original[turns], axis=1)
    low, high = np.percentile(ratios, [50 * (1 - level), 50 * (1 + level)])
    return float(low - 1), float(high - 1)

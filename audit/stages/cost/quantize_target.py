"""The quantized target of the cost stage (``cost.quantize``): the whole original model quantized
each listed way (:mod:`.quantized`), one row per kind beside the original's row. Each row: the
serialized variant's bytes on disk, its ONNX latency timed in the same turns with the original
(:meth:`.bench.BenchBase.rows`) and the quality it keeps on the held-out samples every variant of
the audit is scored on, from the quantized ONNX session against the original's ONNX graph run the
same way. With ``cost.quantize_combined``, each other target's recommended variant (the embedding
at its recommended width, a Linear layer at its recommended rank) is quantized each listed way too,
one row per pair, measured the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from ...sources.adapters.onnx.graph import runtime_session
from .bench import BenchBase, PendingRow
from .quantized import CALIBRATION_BATCHES, QUANTIZE_METHODS, quantized_model, session_rows, sized_batches
from .recommend import quantized_choice, quantized_sentence
from .result import CostRow, CostTarget
from .scores import INTERVAL, output_scorer

__all__ = ["QUANTIZED_NAME", "RecommendedVariant", "quantized_target", "recommended_variant"]

QUANTIZED_NAME = "model"  # the target's name: the whole model


@dataclass(frozen=True)
class RecommendedVariant:
    """A resized target's recommended variant, to be quantized: ``label`` says what it changes
    ("sentence_embedding at width 128"), ``width`` is the whole model's output width with it
    (None: the original's), ``row`` its measured row (parameters, FLOPs), ``onnx()`` its
    serialized graph."""

    label: str
    width: int | None
    row: CostRow
    onnx: Callable[[], bytes]


def recommended_variant(bench: BenchBase, target: CostTarget, pending: Sequence[PendingRow], label: str,
                        width: int | None, build: Callable[[], AbstractContextManager]) -> RecommendedVariant | None:
    """``target``'s recommended variant (None without one), its graph the export its row was timed
    on (``pending``, in the order of the target's candidates), or built again with ``build()``
    (a context manager yielding the variant) when there is none (not measured, or it failed)."""
    index = next((i for i, row in enumerate(target.candidates) if row.width == target.recommended), None)
    if index is None:
        return None
    prepared = pending[index].prepared

    def onnx() -> bytes:
        if not isinstance(prepared, str):
            return prepared.model
        with build() as variant:
            return bench.variant_onnx(variant)

    return RecommendedVariant(label, width, target.candidates[index], onnx)


def quantized_target(bench: BenchBase, kinds, *, embedding: bool, use_accuracy: bool,
                     combined: Sequence[RecommendedVariant] = ()) -> CostTarget:
    """One row per quantization in ``kinds`` beside the original's, then one per pair of a
    ``combined`` variant and a kind; quality is scored as the stage scores the model's output:
    recall@k of cosine neighbours for an ``embedding`` output, else accuracy relative to the
    original's (``use_accuracy``) or the mean output cosine."""
    cost, threads = bench.cost, bench.cost.threads
    source = bench.original_onnx()
    heldout = lambda: sized_batches(bench.heldout_features, bench.feed_size, bench.sized_feed)  # noqa: E731
    calibration = lambda: (feed for _, feed in sized_batches(  # noqa: E731
        bench.fit_features(), bench.feed_size, bench.sized_feed, most=CALIBRATION_BATCHES))
    baseline = session_rows(runtime_session(source, threads=threads), heldout())
    score, measure, first = output_scorer(bench, baseline, embedding=embedding, use_accuracy=use_accuracy)
    original = dataclasses.replace(bench.original_row(baseline.shape[1], vectors=False, quality=first),
                                   file_bytes=len(source))
    made = [_pending(bench, kind, kind, source, original, heldout, calibration, score) for kind in kinds]
    for variant in combined:
        shaped = dataclasses.replace(original, width=variant.width or original.width,
                                     parameters=variant.row.parameters, flops_per_sample=variant.row.flops_per_sample)
        resized = variant.onnx()
        made += [_pending(bench, f"{kind} + {variant.label}", kind, resized, shaped, heldout, calibration, score)
                 for kind in kinds]
    rows = [dataclasses.replace(row, variant=label, file_bytes=size)
            for row, (_, size, label) in zip(bench.rows([item[0] for item in made]), made)]
    chosen = quantized_choice(rows, cost.quality_floor)
    return CostTarget(
        name=QUANTIZED_NAME, kind="quantized", module_type="ONNX graph", width=original.width, original=original,
        candidates=tuple(rows), recommended=None,
        recommendation=quantized_sentence(original, chosen, rows, cost.quality_floor),
        method=_method(kinds, measure, baseline.shape[0], combined, cost.quantize_per_channel),
        recommended_variant=None if chosen is None else chosen.variant)


def _pending(bench, label: str, kind: str, source: bytes, shaped: CostRow, heldout, calibration,
             score) -> tuple[PendingRow, int | None, str]:
    """The row ``label`` of ``source`` (the original, or a resized variant shaped as ``shaped``
    says) quantized as ``kind``, its timing to come, with the quantized file's bytes; a quantizer
    or runtime failure is said in the row (no quality, the reason as its timing error)."""
    bench.progress.stage(f"cost: the model quantized ({label})")
    try:
        model = quantized_model(kind, source, calibration, per_channel=bench.cost.quantize_per_channel)
        quality = score(session_rows(runtime_session(model, threads=bench.cost.threads), heldout()))
    except Exception as error:  # a graph the quantizer or the runtime cannot take: say so, keep going
        reason = f"quantization ({label}) failed: {type(error).__name__}: {str(error).strip()[:300]}"
        return PendingRow(shaped.width, (kind,), False, None, shaped.parameters, shaped.flops_per_sample,
                          reason), None, label
    return PendingRow(shaped.width, (kind,), False, quality, shaped.parameters, shaped.flops_per_sample,
                      bench.prepared_onnx(model)), len(model), label


def _method(kinds, measure: str, n: int, combined: Sequence[RecommendedVariant], per_channel: bool) -> str:
    built = "; ".join(f"{kind}: {QUANTIZE_METHODS[kind]}" for kind in kinds)
    if any(kind.startswith("int8") for kind in kinds):
        built += (f" (int8 weights scaled {'per output channel' if per_channel else 'per tensor'}, "
                  f"cost.quantize_per_channel)")
    pairs = "" if not combined else (
        f" Then each recommended variant of the other targets ({', '.join(item.label for item in combined)}), "
        f"built as its own target measures it, quantized each way (cost.quantize_combined); its parameters and "
        f"FLOPs are the resized variant's.")
    return (f"The whole original model quantized from its ONNX graph (a torch model: the export the bench times), "
            f"one variant per kind: {built}.{pairs} Bytes: the serialized variant's size on disk. Latency: timed "
            f"in the same turns with the original. Parameters and FLOPs are the unquantized graph's (the same "
            f"arithmetic at a lower precision; a quantized graph's integer ops are not counted). Quality: {measure} "
            f"of the quantized ONNX session's outputs against the original ONNX graph's, run the same way on the "
            f"{n:,} held-out probe samples every variant of the audit is scored on (never the calibration "
            f"samples), with a {INTERVAL}. A variant slower than the original is a finding of its own.")

"""The quantized target of the cost stage (``cost.quantize``): the whole original model quantized
each listed way (:mod:`.quantized`), one row per kind beside the original's row. Each row: the
serialized variant's bytes on disk, its ONNX latency timed in the same turns with the original
(:meth:`.bench.BenchBase.rows`) and the quality it keeps on the held-out samples every variant of
the audit is scored on, from the quantized ONNX session against the original's ONNX graph run the
same way."""

from __future__ import annotations

import dataclasses

from ...sources.adapters.onnx.graph import runtime_session
from .bench import BenchBase, PendingRow
from .quantized import CALIBRATION_BATCHES, QUANTIZE_METHODS, quantized_model, session_rows, sized_batches
from .recommend import quantized_choice, quantized_sentence
from .result import CostRow, CostTarget
from .scores import INTERVAL, output_scorer

__all__ = ["QUANTIZED_NAME", "quantized_target"]

QUANTIZED_NAME = "model"  # the target's name: the whole model


def quantized_target(bench: BenchBase, kinds, *, embedding: bool, use_accuracy: bool) -> CostTarget:
    """One row per quantization in ``kinds`` beside the original's; quality is scored as the stage
    scores the model's output: recall@k of cosine neighbours for an ``embedding`` output, else
    accuracy relative to the original's (``use_accuracy``) or the mean output cosine."""
    cost, threads = bench.cost, bench.cost.threads
    source = bench.original_onnx()
    heldout = lambda: sized_batches(bench.heldout_features, bench.feed_size, bench.sized_feed)  # noqa: E731
    calibration = lambda: (feed for _, feed in sized_batches(  # noqa: E731
        bench.fit_features(), bench.feed_size, bench.sized_feed, most=CALIBRATION_BATCHES))
    baseline = session_rows(runtime_session(source, threads=threads), heldout())
    score, measure, first = output_scorer(bench, baseline, embedding=embedding, use_accuracy=use_accuracy)
    original = dataclasses.replace(bench.original_row(baseline.shape[1], vectors=False, quality=first),
                                   file_bytes=len(source))
    pending, sizes = [], []
    for kind in kinds:
        bench.progress.stage(f"cost: the model quantized ({kind})")
        row, size = _pending(bench, kind, source, original, heldout, calibration, score)
        pending.append(row)
        sizes.append(size)
    rows = [dataclasses.replace(row, variant=kind, file_bytes=size)
            for row, kind, size in zip(bench.rows(pending), kinds, sizes)]
    chosen = quantized_choice(rows, cost.quality_floor)
    return CostTarget(
        name=QUANTIZED_NAME, kind="quantized", module_type="ONNX graph", width=original.width, original=original,
        candidates=tuple(rows), recommended=None,
        recommendation=quantized_sentence(original, chosen, rows, cost.quality_floor),
        method=_method(kinds, measure, baseline.shape[0]), recommended_variant=None if chosen is None else chosen.variant)


def _pending(bench, kind, source: bytes, original: CostRow, heldout, calibration, score) -> tuple[PendingRow, int | None]:
    """The row of one quantization, its timing to come; a quantizer or runtime failure is said in
    the row (no quality, the reason as its timing error)."""
    try:
        model = quantized_model(kind, source, calibration)
        quality = score(session_rows(runtime_session(model, threads=bench.cost.threads), heldout()))
    except Exception as error:  # a graph the quantizer or the runtime cannot take: say so, keep going
        reason = f"quantization ({kind}) failed: {type(error).__name__}: {str(error).strip()[:300]}"
        return PendingRow(original.width, (kind,), False, None, original.parameters, original.flops_per_sample,
                          reason), None
    return PendingRow(original.width, (kind,), False, quality, original.parameters, original.flops_per_sample,
                      bench.prepared_onnx(model)), len(model)


def _method(kinds, measure: str, n: int) -> str:
    built = "; ".join(f"{kind}: {QUANTIZE_METHODS[kind]}" for kind in kinds)
    return (f"The whole original model quantized from its ONNX graph (a torch model: the export the bench times), "
            f"one variant per kind: {built}. Bytes: the serialized variant's size on disk. Latency: timed in the "
            f"same turns with the original. Parameters and FLOPs are the original's (the same arithmetic at a "
            f"lower precision; a quantized graph's integer ops are not counted). Quality: {measure} of the "
            f"quantized ONNX session's outputs against the original ONNX graph's, run the same way on the "
            f"{n:,} held-out probe samples every variant of the audit is scored on (never the calibration "
            f"samples), with a {INTERVAL}. A variant slower than the original is a finding of its own.")

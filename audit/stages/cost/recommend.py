"""The recommended width of a target and the sentence giving it with its evidence.

The recommendation is the smallest candidate whose quality retained reaches the floor; the
sentence compares it with the original on every measured axis (model bytes, FLOPs, p50 latency,
vector store, money) so a reviewer can check it against the savings table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .result import CostRow

__all__ = ["FINDING", "recommended_row", "recommendation_sentence", "variant_choice", "quantized_choice",
           "quantized_sentence", "dropped_sentence", "slower_finding"]

FINDING = "Finding: "  # how a finding within a recommendation begins


def recommended_row(candidates: Sequence[CostRow], floor: float) -> CostRow | None:
    kept = [row for row in candidates if row.quality is not None and row.quality.retained >= floor]
    return min(kept, key=lambda row: row.width) if kept else None


def recommendation_sentence(name: str, kind: str, original: CostRow, chosen: CostRow | None,
                            candidates: Sequence[CostRow], floor: float) -> str:
    what = "dimensions" if kind == "embedding" else "rank"
    if not candidates:
        return f"{name}: no candidate {what} below {original.width} was proposed; nothing to recommend."
    if chosen is None:
        best = max((row for row in candidates if row.quality), key=lambda row: row.quality.retained, default=None)
        reach = "" if best is None else (f"; the best, {best.width}, keeps {best.quality.retained:.1%} "
                                          f"({best.quality.measure})")
        return f"{name}: keep {original.width}: no candidate keeps {floor:.0%} of the quality{reach}."
    verb = f"reduce {name} from {original.width} to {chosen.width} dimensions" if kind == "embedding" else \
        f"factorize {name} at rank {chosen.width} (full rank {original.width})"
    evidence = [f"it keeps {chosen.quality.retained:.1%}{_interval(chosen.quality)} ({chosen.quality.measure}"
                f"{_held_out(chosen.quality)}; floor {floor:.0%})"]
    evidence += _changes(original, chosen)
    return f"Recommended: {verb}; " + ", ".join(evidence) + "."


def variant_choice(rows: Sequence[CostRow], floor: float, size: Callable[[CostRow], object]) -> CostRow | None:
    """The whole-model variant with the least ``size`` (None: not sized) among those keeping the floor."""
    kept = [row for row in rows if row.quality is not None and row.quality.retained >= floor and size(row) is not None]
    return min(kept, key=size) if kept else None


def quantized_choice(rows: Sequence[CostRow], floor: float) -> CostRow | None:
    """The quantized variant with the smallest file among those keeping the quality floor."""
    return variant_choice(rows, floor, lambda row: row.file_bytes)


def quantized_sentence(original: CostRow, chosen: CostRow | None, rows: Sequence[CostRow], floor: float) -> str:
    """The quantized target's recommendation: the smallest file keeping the floor, its bytes on
    disk, quality and paired latency change against the original, then each slower variant's
    finding (:func:`slower_finding`)."""
    if chosen is None:
        head = f"Keep the model unquantized: no quantized variant keeps {floor:.0%} of the quality{_best(rows)}."
    else:
        evidence = [f"{chosen.file_bytes:,} bytes on disk against {original.file_bytes:,} "
                    f"({_signed(chosen.file_bytes / original.file_bytes - 1)})", _kept(chosen, floor)]
        if chosen.timing and chosen.timing.p50_change is not None:
            evidence.append(f"ONNX p50 latency {_signed(chosen.timing.p50_change)}")
        head = f"Recommended: {_quantized_step(chosen)}; " + ", ".join(evidence) + "."
    return _with_findings(head, rows)


def dropped_sentence(stack: str, original: CostRow, chosen: CostRow | None, rows: Sequence[CostRow],
                     floor: float) -> str:
    """A layer-dropping target's recommendation: the variant dropping the most blocks that keeps
    the floor, with its quality and what it changes against the original (float32 bytes, FLOPs,
    paired latency), then each slower variant's finding (:func:`slower_finding`)."""
    if chosen is None:
        head = f"Keep every block of {stack}: no variant keeps {floor:.0%} of the quality{_best(rows)}."
    else:
        head = (f"Recommended: {chosen.variant} ({chosen.width} of {original.width} blocks kept); "
                + ", ".join([_kept(chosen, floor), *_changes(original, chosen)]) + ".")
    return _with_findings(head, rows)


def _best(rows: Sequence[CostRow]) -> str:
    """The clause naming the best of ``rows`` by quality (``; the best, fp16, keeps 99.1% ...``), or ""."""
    best = max((row for row in rows if row.quality), key=lambda row: row.quality.retained, default=None)
    return "" if best is None else f"; the best, {best.variant}, keeps {best.quality.retained:.1%} ({best.quality.measure})"


def _kept(chosen: CostRow, floor: float) -> str:
    return (f"it keeps {chosen.quality.retained:.1%}{_interval(chosen.quality)} ({chosen.quality.measure}"
            f"{_held_out(chosen.quality)}; floor {floor:.0%})")


def _with_findings(head: str, rows: Sequence[CostRow]) -> str:
    return " ".join([head, *filter(None, map(slower_finding, rows))])


def _quantized_step(row: CostRow) -> str:
    """What to do for a quantized row: "quantize the model as int8_dynamic", for a resized variant
    quantized ("int8_dynamic + x at rank 8") "quantize the model as int8_dynamic with x at rank 8"."""
    kind, _, resized = (row.variant or "").partition(" + ")
    return f"quantize the model as {kind}" + (f" with {resized}" if resized else "")


def slower_finding(row: CostRow) -> str:
    """A finding for a variant whose ONNX p50 is above the original's timed in the same turns
    (with both p50s, the change and its interval over the turns); "" when it is not slower."""
    timing = row.timing
    if timing is None or timing.p50_change is None or timing.p50_change <= 0:
        return ""
    label = row.variant or f"width {row.width}"
    spread = "" if timing.p50_change_low is None else \
        f" [{_signed(timing.p50_change_low)}, {_signed(timing.p50_change_high)}]"
    within = " (the interval includes no change)" if timing.p50_change_low is not None and \
        timing.p50_change_low <= 0 else ""
    return (f"{FINDING}{label} is slower than the original: ONNX p50 {_seconds(timing.p50_s)} against the "
            f"original's {_seconds(timing.reference_p50_s)} in the same {timing.repeats} turns "
            f"({_signed(timing.p50_change)}{spread}){within}.")


def _seconds(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} \u00b5s"


def _interval(quality) -> str:
    if quality.ci_low is None or quality.ci_high is None:
        return ""
    return f" [{quality.ci_low:.1%}, {quality.ci_high:.1%}]"


def _held_out(quality) -> str:
    return f" on {quality.n_samples:,} held-out samples" if quality.n_samples else ""


def _changes(original: CostRow, chosen: CostRow) -> list[str]:
    pairs = [("model float32 bytes", original.model_bytes["float32"], chosen.model_bytes["float32"]),
             ("FLOPs per sample", original.flops_per_sample, chosen.flops_per_sample)]
    if chosen.timing and chosen.timing.reference_p50_s:  # against the original timed in the same runs
        pairs.append(("ONNX p50 latency", chosen.timing.reference_p50_s, chosen.timing.p50_s))
    if original.store_bytes and chosen.store_bytes:
        pairs.append(("vector store", original.store_bytes, chosen.store_bytes))
    if original.money and chosen.money and original.money.total_per_month:
        pairs.append(("money per month", original.money.total_per_month, chosen.money.total_per_month))
    return [f"{label} {_signed(after / before - 1)}" for label, before, after in pairs if before]


def _signed(change: float) -> str:
    return f"{change:+.1%}".replace("-", "\u2212")

"""The Pareto front of the cost stage's variants: those no other variant beats on both axes, a
cost (latency or bytes, relative to the original; lower is better) and the quality kept (higher
is better). Variants are compared only with others scored by the same quality measure (recall@k
of an embedding is not the accuracy a classifier keeps), so a report gets one front per measure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .result import CostResult, CostRow, CostTarget

__all__ = ["VariantPoint", "by_measure", "front", "variant_points"]


@dataclass(frozen=True)
class VariantPoint:
    """One measured row of a cost target, placed for the front: ``latency`` and ``size`` are its
    ONNX p50 and its bytes as shares of the original's (None when not measured), ``quality`` what
    it keeps with its interval, ``measure`` how that was scored."""

    target: str
    kind: str
    label: str
    measure: str
    latency: float | None
    size: float | None
    quality: float
    low: float | None
    high: float | None
    original: bool = False


def variant_points(cost: CostResult) -> list[VariantPoint]:
    """Every row of every target with a quality, the original once per quality measure."""
    found, originals = [], set()
    for target in cost.targets:
        for row in (target.original, *target.candidates):
            if row.quality is None:
                continue
            is_original = row is target.original
            if is_original:
                if row.quality.measure in originals:
                    continue
                originals.add(row.quality.measure)
            found.append(_point(target, row, is_original))
    return found


def _point(target: CostTarget, row: CostRow, original: bool) -> VariantPoint:
    quality = row.quality
    return VariantPoint(target="original" if original else target.name, kind=target.kind, label=_label(target, row, original),
                        measure=quality.measure, latency=1.0 if original else _latency_share(row),
                        size=1.0 if original else _size_share(row, target.original),
                        quality=quality.retained, low=None if original else quality.ci_low,
                        high=None if original else quality.ci_high, original=original)


def _label(target: CostTarget, row: CostRow, original: bool) -> str:
    if original:
        return "original"
    if row.variant:
        return row.variant
    return f"{target.name} {'width' if target.kind == 'embedding' else 'rank'} {row.width}"


def _latency_share(row: CostRow) -> float | None:
    """p50 over the original's p50 timed in the same turns."""
    change = row.timing.p50_change if row.timing else None
    return None if change is None else 1 + change


def _size_share(row: CostRow, original: CostRow) -> float | None:
    """Bytes on disk over the original's where the target measures files (quantized), else
    float32 model bytes over the original's."""
    if original.file_bytes:
        return row.file_bytes / original.file_bytes if row.file_bytes else None
    before = original.model_bytes.get("float32")
    return row.model_bytes["float32"] / before if before else None


def front(points: Iterable[VariantPoint], axis: str) -> list[VariantPoint]:
    """The points no other point dominates on ``axis`` ("latency" or "size") and quality, in
    order of the cost: a dominating point costs no more, keeps no less, and is better on one."""
    placed = [point for point in points if getattr(point, axis) is not None]
    kept = [point for point in placed if not any(_dominates(other, point, axis) for other in placed)]
    return sorted(kept, key=lambda point: (getattr(point, axis), -point.quality))


def _dominates(a: VariantPoint, b: VariantPoint, axis: str) -> bool:
    cost_a, cost_b = getattr(a, axis), getattr(b, axis)
    return cost_a <= cost_b and a.quality >= b.quality and (cost_a < cost_b or a.quality > b.quality)


def by_measure(points: Sequence[VariantPoint]) -> dict[str, list[VariantPoint]]:
    """The points grouped by quality measure, in order of first appearance."""
    groups: dict[str, list[VariantPoint]] = {}
    for point in points:
        groups.setdefault(point.measure, []).append(point)
    return groups

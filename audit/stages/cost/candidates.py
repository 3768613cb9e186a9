"""Candidate widths of one target, drawn from its layer's measurements and the spec.

A layer's activations that occupy about ID dimensions suggest a width (for the output embedding)
or a rank (for a Linear layer, whose outputs span at most its rank plus the bias) near that
number. The candidates: ``ceil(ID * (1 + margin))`` with the audit's primary ID, the effective
rank (rounded up), PCA's components for 95% and 99% of the variance, and the spec's own widths.
Widths that coincide are merged (their sources listed together); widths at or above the limit
(the original width, or a Linear layer's full rank) are dropped: they save nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ...results import LayerResult

__all__ = ["Candidate", "candidate_widths"]

_PCA_LEVELS = ("0.95", "0.99")


@dataclass(frozen=True)
class Candidate:
    width: int
    sources: tuple[str, ...]


def candidate_widths(layer: LayerResult, *, margin: float, extra: Sequence[int], limit: int) -> list[Candidate]:
    """Candidates below ``limit`` for ``layer``, smallest first.

    Parameters
    ----------
    layer : the audited layer whose metrics propose widths.
    margin : safety margin on the ID (0.25: a quarter more than the ID).
    extra : widths the spec lists.
    limit : widths at or above this are left out.
    """
    proposals = _measured(layer, margin) + [(int(width), "spec") for width in extra]
    merged: dict[int, list[str]] = {}
    for width, source in proposals:
        if 1 <= width < limit and source not in merged.setdefault(width, []):
            merged[width].append(source)
    merged = {width: sources for width, sources in merged.items() if sources}
    return [Candidate(width, tuple(merged[width])) for width in sorted(merged)]


def _measured(layer: LayerResult, margin: float) -> list[tuple[int, str]]:
    found = []
    if layer.id_value is not None:
        found.append((math.ceil(layer.id_value * (1 + margin) - 1e-9), f"ID \u00d7 {1 + margin:g}"))
    rank = _ok_value(layer, "effective_rank")
    if rank is not None:
        found.append((math.ceil(rank - 1e-9), "effective rank"))
    pca = layer.metrics.get("pca")
    reach = (pca.details.get("components_to_reach") or {}) if pca is not None and pca.ok else {}
    found += [(int(reach[level]), f"PCA {float(level):.0%}") for level in _PCA_LEVELS if level in reach]
    return found


def _ok_value(layer: LayerResult, name: str) -> float | None:
    metric = layer.metrics.get(name)
    return metric.value if metric is not None and metric.ok and metric.value is not None else None

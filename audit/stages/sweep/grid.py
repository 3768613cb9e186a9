"""Which ranks a sweep measures: a geometric grid, then every rank near the knee."""

from __future__ import annotations

import numpy as np

__all__ = ["geometric_ranks", "refined_ranks"]


def geometric_ranks(max_rank: int, *, n_ranks: int, min_rank: int = 1) -> list[int]:
    """About ``n_ranks`` integer ranks spaced geometrically from ``min_rank`` to ``max_rank``
    (both included; fewer where small ranks coincide)."""
    if max_rank <= min_rank:
        return [max_rank]
    points = np.geomspace(min_rank, max_rank, num=max(n_ranks, 2))
    return sorted({int(round(value)) for value in points} | {min_rank, max_rank})


def refined_ranks(measured: list[int], knee: int, *, n_extra: int) -> list[int]:
    """Up to ``n_extra`` unmeasured ranks between the measured neighbours of ``knee``, nearest
    to it first, returned sorted."""
    measured = sorted(set(measured))
    below = max((rank for rank in measured if rank < knee), default=knee)
    above = min((rank for rank in measured if rank > knee), default=knee)
    gaps = [rank for rank in range(below + 1, above) if rank not in measured]
    nearest = sorted(gaps, key=lambda rank: (abs(rank - knee), rank))[:n_extra]
    return sorted(nearest)

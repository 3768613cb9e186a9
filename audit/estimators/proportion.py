"""Intervals of a proportion (an accuracy: successes over trials)."""

from __future__ import annotations

import math

from ._bootstrap import normal_quantile

__all__ = ["wilson_interval"]


def wilson_interval(p: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` observed on ``n`` trials."""
    z = normal_quantile(level)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)

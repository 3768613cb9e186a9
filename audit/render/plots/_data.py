"""The plain numbers the figures take: a metric across layers, a curve, a PCA spectrum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Series", "Curve", "Spectrum"]


@dataclass(frozen=True)
class Series:
    """One metric across the layers: values and interval ends (None where not available)."""

    label: str
    values: Sequence[float | None]
    lows: Sequence[float | None] = ()
    highs: Sequence[float | None] = ()
    emphasis: bool = False


@dataclass(frozen=True)
class Curve:
    """One layer's estimate as a function of something (scale, sample size)."""

    label: str
    x: Sequence[float]
    y: Sequence[float | None]
    lows: Sequence[float | None] = ()
    highs: Sequence[float | None] = ()


@dataclass(frozen=True)
class Spectrum:
    """One layer's PCA spectrum and the components needed to reach variance fractions."""

    label: str
    explained: Sequence[float]
    reach: dict[float, int] = field(default_factory=dict)

"""The plain numbers the figures take: a metric across layers, a curve, a PCA spectrum, a layer's
head similarity, the heads' ablation importance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Series", "Curve", "Spectrum", "SimilarityPanel", "HeadGrid", "SweepPanel", "TrajectoryPanel", "ParetoPanel"]


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


@dataclass(frozen=True)
class SimilarityPanel:
    """One attention layer's head-by-head similarity matrix, with a line of text under its label."""

    label: str
    similarity: Sequence[Sequence[float]]
    note: str = ""


@dataclass(frozen=True)
class HeadGrid:
    """A value per head per layer (rows: layers in forward order; columns: heads from 0), the
    text written in each cell, and the (row, column) cells to outline."""

    layer_labels: Sequence[str]
    values: Sequence[Sequence[float | None]]
    labels: Sequence[Sequence[str]]
    marked: Sequence[tuple[int, int]] = ()


@dataclass(frozen=True)
class SweepPanel:
    """One factorization sweep: measured scores at ranks, the fitted curve, the knee, the rank
    range between the lowest and highest retained level, and the teacher's score; ``lows`` and
    ``highs`` bound the measured scores (bootstrap intervals, drawn as error bars)."""

    label: str
    ranks: Sequence[int]
    scores: Sequence[float]
    fit_ranks: Sequence[int]
    fit_scores: Sequence[float]
    knee: int | None
    range_low: int | None
    range_high: int | None
    teacher: float
    range_label: str = "level range"
    lows: Sequence[float | None] = ()  # the measured scores' interval ends (None: none)
    highs: Sequence[float | None] = ()


@dataclass(frozen=True)
class TrajectoryPanel:
    """One layer across a checkpoint series: its primary ID and effective rank at each step, each
    with its interval ends (None: none), and the steps where an early warning was raised."""

    label: str
    steps: Sequence[int]
    ids: Sequence[float | None]
    id_lows: Sequence[float | None]
    id_highs: Sequence[float | None]
    ranks: Sequence[float | None]
    rank_lows: Sequence[float | None]
    rank_highs: Sequence[float | None]
    warnings: Sequence[int] = ()


@dataclass(frozen=True)
class ParetoPanel:
    """One panel of quality against a cost: ``series`` are groups of variants (x: the cost as a
    share of the original's, y: quality kept, with interval ends), ``fronts`` one line per
    quality measure through its non-dominated variants, ``xlabel`` names the cost."""

    xlabel: str
    series: Sequence[Curve]
    fronts: Sequence[Curve]

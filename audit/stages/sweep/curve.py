"""The accuracy-versus-rank curve: a monotone fit, its knee, and the ranks that keep a share of
the teacher's score.

- Fit: the measured scores are made non-decreasing in rank by isotonic regression (scikit-learn's
  pool-adjacent-violators), then interpolated with a PCHIP (scipy), which keeps monotone data
  monotone and never overshoots. The fit is evaluated at every integer rank of the grid's span.
- Knee ("effective knee"): the integer rank maximising the perpendicular distance between the
  fitted curve and the secant through its end points (the Kneedle construction). The argmax
  does not depend on the units of either axis.
- Rank range: for each level (0.85, 0.90, 0.95), the smallest rank from which the fitted
  retained share ``score / teacher`` stays at or above the level up to the largest rank
  (contiguous), None when the curve never gets there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator
from sklearn.isotonic import IsotonicRegression

__all__ = ["CurveFit", "fit_curve", "knee_rank", "rank_for_level"]


@dataclass(frozen=True)
class CurveFit:
    """The fitted curve at every integer rank from the smallest to the largest measured one."""

    ranks: np.ndarray
    scores: np.ndarray
    knee: int
    levels: dict[float, int | None]


def fit_curve(ranks, scores, *, teacher: float, levels=(0.85, 0.90, 0.95)) -> CurveFit:
    """Monotone PCHIP fit of ``scores`` measured at ``ranks``, its knee and the rank per level.

    Parameters
    ----------
    ranks, scores : sequences of equal length (at least two distinct ranks)
        The measurements; ranks need not be sorted.
    teacher : float
        The unfactorized model's score; levels are shares of it.
    levels : sequence of float
        Shares of ``teacher`` to find ranks for.
    """
    order = np.argsort(np.asarray(ranks, dtype=float))
    x = np.asarray(ranks, dtype=float)[order]
    y = np.asarray(scores, dtype=float)[order]
    if np.unique(x).size != x.size or x.size < 2:
        raise ValueError("the curve needs at least two distinct ranks, each measured once")
    monotone = IsotonicRegression(increasing=True).fit_transform(x, y)
    grid = np.arange(int(x[0]), int(x[-1]) + 1)
    fitted = PchipInterpolator(x, monotone)(grid)
    return CurveFit(ranks=grid, scores=fitted, knee=knee_rank(grid, fitted),
                    levels={level: rank_for_level(grid, fitted, teacher, level) for level in levels})


def knee_rank(ranks: np.ndarray, scores: np.ndarray) -> int:
    """The rank of the point farthest from the secant through the first and last points."""
    dx, dy = ranks[-1] - ranks[0], scores[-1] - scores[0]
    distance = np.abs(dy * (ranks - ranks[0]) - dx * (scores - scores[0]))
    return int(ranks[int(np.argmax(distance))])


def rank_for_level(ranks: np.ndarray, scores: np.ndarray, teacher: float, level: float) -> int | None:
    """The smallest rank from which ``scores / teacher`` stays at or above ``level``."""
    if teacher <= 0:
        return None
    above = scores / teacher >= level - 1e-12
    if not above[-1]:
        return None
    below = np.flatnonzero(~above)
    return int(ranks[0] if below.size == 0 else ranks[below[-1] + 1])

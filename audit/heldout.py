"""Quality on samples a variant was not fitted on: a seeded split of the probe, and percentile
bootstrap intervals of per-sample scores over the held-out samples.

Shared by the cost stage (PCA fitted on one split, every variant scored on the other) and the
sweep (students distilled on one split, scored on the other). The resampling reuses the
estimators' bootstrap (:mod:`audit.estimators._bootstrap`): each replicate draws the held-out
samples with replacement (multinomial counts) and recomputes the score from per-sample values:
per-query neighbour overlaps for recall@k, per-sample correctness for accuracy, per-sample
agreement or cosine for fidelity. A ratio (accuracy retained) is resampled paired: numerator and
denominator from the same draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .estimators._bootstrap import DEFAULT_LEVEL, DEFAULT_REPLICATES, percentile_interval, replicate

__all__ = ["Split", "split_samples", "Interval", "mean_interval", "ratio_interval"]


@dataclass(frozen=True)
class Split:
    """Sample indices (sorted) a variant may be fitted or trained on, and those it is scored on."""

    fit: np.ndarray
    heldout: np.ndarray


def split_samples(n: int, holdout: float, seed: int, *, most: int = 0) -> Split:
    """A seeded split of ``n`` samples: ``round(n * holdout)`` held out (at least one, and at
    least one left to fit on when ``n > 1``), the rest to fit on; both sorted. With ``most``
    (> 0), only the first ``most`` of the held-out samples in the seeded order are kept for
    scoring: a bounded subset, the fit part unchanged.

    Parameters
    ----------
    n : int
        Number of samples.
    holdout : float
        Share of samples held out, in (0, 1).
    seed : int
        Seed of the permutation.
    most : int
        Held-out samples kept at most (0: all of them).
    """
    if not 0 < holdout < 1:
        raise ValueError(f"holdout is a share in (0, 1), got {holdout}")
    held = min(max(int(round(n * holdout)), 1), max(n - 1, 1))
    order = np.random.default_rng(seed).permutation(n)
    kept = order[:held][:most] if most > 0 else order[:held]
    return Split(fit=np.sort(order[held:]), heldout=np.sort(kept))


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap interval of a score over ``n_samples`` held-out samples."""

    low: float | None
    high: float | None
    level: float
    method: str
    n_samples: int


def _interval(replicates, level: float, n: int, what: str) -> Interval:
    if replicates is None:
        return Interval(None, None, level, "no interval (0 replicates)", n)
    low, high = percentile_interval(replicates, level)
    return Interval(low, high, level, f"percentile bootstrap over {n:,} held-out {what}, {replicates.size} replicates", n)


def mean_interval(values, *, seed: int, what: str = "samples", n_bootstrap: int = DEFAULT_REPLICATES,
                  level: float = DEFAULT_LEVEL) -> Interval:
    """Interval of the mean of per-sample ``values`` (correctness, agreement, cosine, overlap)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    replicates = replicate(lambda counts: counts @ values / n, n, n_bootstrap, np.random.default_rng(seed))
    return _interval(replicates, level, n, what)


def ratio_interval(values, reference, *, seed: int, what: str = "samples", n_bootstrap: int = DEFAULT_REPLICATES,
                   level: float = DEFAULT_LEVEL) -> Interval:
    """Interval of ``mean(values) / mean(reference)`` with both resampled from the same draw of
    the samples (paired); a replicate whose reference mean is 0 is left out."""
    values, reference = np.asarray(values, dtype=np.float64), np.asarray(reference, dtype=np.float64)

    def statistic(counts):
        below = counts @ reference
        return np.where(below > 0, counts @ values / np.where(below > 0, below, 1.0), np.nan)

    replicates = replicate(statistic, values.size, n_bootstrap, np.random.default_rng(seed))
    return _interval(replicates, level, values.size, what)

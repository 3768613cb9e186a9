"""Sample-size sensitivity: the same estimate on nested random subsets of the points."""

from __future__ import annotations

import numpy as np

from ._input import EstimatorInputError, as_matrix, rng_from
from .estimates import SensitivityResult

__all__ = ["sample_size_sensitivity"]

DEFAULT_FRACTIONS = (1 / 8, 1 / 4, 1 / 2, 1.0)


def sample_size_sensitivity(X, estimator, *, fractions=DEFAULT_FRACTIONS, seed=0, **options) -> SensitivityResult:
    """Run ``estimator(subset, seed=seed, **options)`` on nested seeded subsets of X's rows.

    One random permutation orders the rows; the subset for fraction f is its first
    ``round(f n)`` rows, so each subset contains the smaller ones and the differences between
    sizes come from sample size alone. A fraction too small for the estimator raises its error
    naming the subset size.
    """
    matrix = as_matrix(X, min_points=2, keep_float32=True)
    fractions = sorted(float(f) for f in fractions)
    if not fractions or fractions[0] <= 0 or fractions[-1] > 1:
        raise EstimatorInputError(f"fractions must lie in (0, 1], got {fractions}")
    order = rng_from(seed).permutation(matrix.shape[0])
    sizes = tuple(max(1, round(f * matrix.shape[0])) for f in fractions)
    estimates = []
    for size in sizes:
        try:
            estimates.append(estimator(matrix[np.sort(order[:size])], seed=seed, **options))
        except EstimatorInputError as error:
            raise EstimatorInputError(f"subset of {size} points: {error}") from None
    name = getattr(estimator, "__name__", "estimate")
    return SensitivityResult(sizes=sizes, estimates=tuple(estimates), method=f"{name} on nested random subsets")

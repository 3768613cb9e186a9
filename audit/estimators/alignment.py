"""Representation alignment: how alike two representations of the same points are.

Two measures, each with its interval:

- :func:`cka_estimate`: debiased linear CKA (Kornblith et al. 2019, debiased through the unbiased
  HSIC of Song et al. 2012 as in Nguyen, Raghu & Kornblith 2021; :func:`debiased_linear_cka`),
  with a delete-a-group jackknife interval over groups of samples (the rows of one sample, the
  tokens of one text, are left out together). CKA compares the two Gram matrices globally: it
  is invariant to rotations and isotropic scaling of either side, 1 when one representation is
  such a transform of the other, about 0 for independent ones.
- :func:`neighbourhood_overlap`: the mutual k-NN overlap of DADApy's ``return_data_overlap``
  (Doimo et al. 2020, "Hierarchical nucleation in deep neural networks"): for every point i,
  the share of its k nearest neighbours (Euclidean, the point itself left out) in X that are
  also among its k nearest neighbours in Y, ``|N_k^X(i) & N_k^Y(i)| / k``, averaged over the
  points. It reads only the local neighbourhoods: 1 when they agree everywhere, about k / (n - 1)
  for unrelated representations. Neighbours come from the project's exact search
  (:func:`~audit.estimators.knn.nearest_neighbors`); the interval is a percentile bootstrap
  over points of the per-point shares, holding both neighbour graphs fixed (as the ID
  estimators' intervals do). Exact duplicate rows make the order among equal distances
  arbitrary, in DADApy as here.

:func:`rank_correlation` is the Spearman rank correlation of two per-layer series (Yu et al.
2025 relate each layer's local ID to its alignment), with the Fisher-z interval of a Spearman
coefficient, standard error sqrt(1.06 / (n - 3)) (Fieller, Hartley & Pearson 1957).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._bootstrap import (
    check_options,
    interval_fields,
    jackknife_fields,
    normal_quantile,
    replicate_seeded,
    sample_folds,
)
from ._input import EstimatorInputError, as_matrix, check_fraction, check_int
from .attention_heads import debiased_linear_cka
from .estimates import Estimate, _freeze

__all__ = ["OverlapResult", "cka_estimate", "neighbourhood_overlap", "overlap_shares", "rank_correlation"]

CKA_METHOD = "debiased linear CKA (Kornblith et al. 2019; unbiased HSIC of Song et al. 2012)"
MIN_LAYERS = 5  # a rank correlation over fewer layers says nothing: its interval spans most of [-1, 1]


@dataclass(frozen=True)
class OverlapResult(Estimate):
    """Mutual k-NN overlap: ``values[i]`` is point i's share of shared neighbours, ``k`` the
    neighbours per point; ``value`` their mean."""

    values: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    k: int = 0


def cka_estimate(X, Y, *, groups=None, n_groups: int = 20, ci_level: float = 0.95, seed: int = 0) -> Estimate:
    """Debiased linear CKA of X and Y (rows: the same points) with a delete-a-group jackknife
    interval: the points' samples (``groups``, default one per row) split into ``n_groups``
    seeded groups, CKA recomputed leaving each out, ``value +- z se`` (0 or 1 group: none)."""
    X, Y = as_matrix(X, min_points=4, name="X"), as_matrix(Y, min_points=4, name="Y")
    n_groups = check_int(n_groups, "n_groups", low=0)
    ci_level = check_fraction(ci_level, "ci_level", low_open=True)
    value = debiased_linear_cka(X, Y)
    samples = np.arange(X.shape[0]) if groups is None else np.asarray(groups)
    leave_one_out = np.empty(0)
    if n_groups >= 2 and X.shape[0] >= 8:
        fold = sample_folds(samples, n_groups, seed)
        leave_one_out = np.array([_cka_or_nan(X[fold != g], Y[fold != g]) for g in range(fold.max() + 1)])
    return Estimate(value=value, method=CKA_METHOD, n_used=X.shape[0],
                    **jackknife_fields(leave_one_out[np.isfinite(leave_one_out)], value, ci_level, "samples"))


def _cka_or_nan(X: np.ndarray, Y: np.ndarray) -> float:
    """A jackknife replicate; NaN (left out of the interval) where leaving a group out leaves a
    side without variation."""
    try:
        return debiased_linear_cka(X, Y)
    except EstimatorInputError:
        return float("nan")


def overlap_shares(indices_x: np.ndarray, indices_y: np.ndarray) -> np.ndarray:
    """Per point, the share of its neighbours in ``indices_x`` (n, k) also in ``indices_y`` (n, k)."""
    if indices_x.shape != indices_y.shape:
        raise EstimatorInputError(f"neighbour lists differ in shape: {indices_x.shape} and {indices_y.shape}")
    k = indices_x.shape[1]
    both = np.sort(np.concatenate([indices_x, indices_y], axis=1), axis=1)
    shared = np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)  # each list holds distinct indices
    return shared / k


def neighbourhood_overlap(X, Y, *, k: int = 10, n_bootstrap: int = 200, ci_level: float = 0.95, seed: int = 0,
                          device="auto") -> OverlapResult:
    """Mutual k-NN overlap of X and Y (rows: the same points), DADApy's neighbourhood overlap,
    with a percentile bootstrap interval over points (``n_bootstrap`` 0: none)."""
    from .knn import nearest_neighbors

    X, Y = as_matrix(X, min_points=3, name="X"), as_matrix(Y, min_points=3, name="Y")
    if X.shape[0] != Y.shape[0]:
        raise EstimatorInputError(f"X and Y must describe the same points, got {X.shape[0]} and {Y.shape[0]} rows")
    k = check_int(k, "k", low=1, high=X.shape[0] - 1)
    n_bootstrap, ci_level = check_options(n_bootstrap, ci_level)
    shares = overlap_shares(nearest_neighbors(X, k=k, device=device).indices,
                            nearest_neighbors(Y, k=k, device=device).indices)
    n = shares.size
    replicates = replicate_seeded(lambda counts: counts @ shares / n, n, n_bootstrap, seed)
    return OverlapResult(value=float(shares.mean()), method=f"mutual {k}-NN overlap (DADApy's neighbourhood overlap, "
                         "exact Euclidean neighbours)", n_used=n, values=shares, k=k,
                         **interval_fields(replicates, ci_level, "points"))


def rank_correlation(x, y, *, ci_level: float = 0.95, min_points: int = MIN_LAYERS) -> Estimate:
    """Spearman's rank correlation of the paired series ``x`` and ``y`` with the Fisher-z interval
    ``tanh(atanh(rho) +- z sqrt(1.06 / (n - 3)))``; fewer than ``min_points`` pairs raise."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise EstimatorInputError(f"x and y must be paired 1-D series, got shapes {x.shape} and {y.shape}")
    if x.size < max(min_points, 4):
        raise EstimatorInputError(f"{x.size} pairs are too few for a rank correlation to mean anything "
                                  f"(at least {max(min_points, 4)})")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise EstimatorInputError("a series without variation has no rank correlation")
    ci_level = check_fraction(ci_level, "ci_level", low_open=True)
    rho = float(spearmanr(x, y).statistic)
    centre = np.arctanh(np.clip(rho, -1 + 1e-12, 1 - 1e-12))
    spread = normal_quantile(ci_level) * np.sqrt(1.06 / (x.size - 3))
    return Estimate(value=rho, method="Spearman rank correlation", n_used=int(x.size),
                    ci_low=float(np.tanh(centre - spread)), ci_high=float(np.tanh(centre + spread)), ci_level=ci_level,
                    ci_method="Fisher z of a Spearman coefficient, se sqrt(1.06 / (n - 3)) (Fieller et al. 1957)")

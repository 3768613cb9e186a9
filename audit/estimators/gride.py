"""GRIDE: intrinsic dimension as a function of scale (Denti, Doimo, Laio & Mira 2022).

For each point mu = r_{n2} / r_{n1}, the ratio of its distances to its n2-th and n1-th
neighbours, has density d (mu^d - 1)^(n2 - n1 - 1) / (B(n2 - n1, n1) mu^((n2 - 1) d + 1)) on a
locally uniform d-dimensional manifold. The ID is the root of the likelihood's score (the
likelihood is concave in d); its standard error is 1 / sqrt(observed Fisher information).
Scales n1 = 1, 2, 4, ... with n2 = 2 n1 up to ``range_max`` show whether the estimate is
stable: short-scale noise inflates the first scales, curvature deflates the last ones.

Conventions follow DADApy and scikit-dimension's ``GRIDE``: (N - 1) log d in place of N log d
(unbiased at n1 = 1, where GRIDE equals TwoNN's maximum-likelihood estimate), and ratios above
q50 + 20 (q95 - q50) are dropped as likely overlapping points. Neighbours are searched among
distinct points (exact duplicate rows collapsed, counted as ``n_duplicates``); points with
r_{n1} = r_{n2} (ties) are left out and counted. At least 20 distinct points are needed: the
first scale is TwoNN's maximum-likelihood estimate, whose relative error is about 1 / sqrt(n).
"""

from __future__ import annotations

import numpy as np

from ._bootstrap import normal_quantile
from ._input import EstimatorInputError, check_fraction, check_int
from ._knn_common import prepare, require_enough, scope_note
from .estimates import GrideResult

__all__ = ["gride", "gride_from_neighbors"]


def gride(
    X,
    *,
    range_max: int = 64,
    ci_level: float = 0.95,
    seed=0,
    neighbors=None,
    query_points: int | None = None,
    device="auto",
) -> GrideResult:
    """GRIDE at scales n1 = 1, 2, 4, ... (n2 = 2 n1 <= ``range_max``).

    ``value`` is the estimate at the first scale (n1=1, n2=2); ``dims``, ``ci_lows``,
    ``ci_highs`` and ``radii`` describe every scale. Intervals are normal (Wald) intervals from
    the observed Fisher information at level ``ci_level``. ``neighbors`` reuses a search of X with
    at least ``range_max`` neighbours (capped at n - 1).
    """
    range_max = check_int(range_max, "range_max", low=2)
    search = {"query_points": query_points, "seed": seed, "device": device}
    _, found = prepare(X, range_max, neighbors, min_points=3, cap_k=True, estimator="GRIDE", **search)
    return gride_from_neighbors(found, range_max=min(range_max, found.k), ci_level=ci_level)


def gride_from_neighbors(neighbors, *, range_max=64, ci_level=0.95) -> GrideResult:
    range_max = check_int(range_max, "range_max", low=2, high=neighbors.k)
    ci_level = check_fraction(ci_level, "ci_level", low_open=True)
    require_enough(neighbors, "GRIDE")
    scales = 2 ** np.arange(int(np.log2(range_max)))
    fits = [_fit_scale(neighbors.distances, int(n1), 2 * int(n1)) for n1 in scales]
    dims = np.array([fit[0] for fit in fits])
    errors = np.array([fit[1] for fit in fits])
    z = normal_quantile(ci_level)
    excluded_first = neighbors.n_rows_queried - fits[0][2]
    return GrideResult(
        value=float(dims[0]),
        method=f"GRIDE (n2 = 2 n1, n1 = 1..{scales[-1]}); value at n1=1",
        ci_low=float(dims[0] - z * errors[0]),
        ci_high=float(dims[0] + z * errors[0]),
        ci_level=ci_level,
        ci_method="Wald interval from the observed Fisher information",
        n_used=int(fits[0][2]),
        n_duplicates=neighbors.n_duplicates,
        n_excluded=int(excluded_first),
        notes=scope_note(neighbors),
        scales=scales,
        dims=dims,
        ci_lows=dims - z * errors,
        ci_highs=dims + z * errors,
        radii=neighbors.distances[:, 2 * scales - 1].mean(axis=0),
    )


def _fit_scale(distances: np.ndarray, n1: int, n2: int) -> tuple[float, float, int]:
    """GRIDE maximum-likelihood ID at (n1, n2), its standard error and the points used."""
    near, far = distances[:, n1 - 1], distances[:, n2 - 1]
    usable = (near > 0) & (far > near)
    log_mu = np.log(far[usable] / near[usable])
    mu = np.exp(log_mu)
    q95, q50 = np.percentile(mu, [95, 50]) if mu.size else (0.0, 0.0)
    log_mu = log_mu[mu < 20 * (q95 - q50) + q50]
    n_used = log_mu.size
    if n_used < 2:
        raise EstimatorInputError(f"GRIDE at n1={n1}: only {n_used} points have distinct neighbour distances")
    total = log_mu.sum()

    def score(d):
        return (n_used - 1) / d + (n2 - n1 - 1) * np.sum(log_mu / -np.expm1(-d * log_mu)) - (n2 - 1) * total

    upper = 1.0
    while score(upper) > 0:
        upper *= 2
    from scipy.optimize import brentq

    dim = brentq(score, 1e-8, upper, xtol=1e-12, rtol=1e-12)
    information = (n_used - 1) / dim**2 + (n2 - n1 - 1) * np.sum((log_mu / (2 * np.sinh(dim * log_mu / 2))) ** 2)
    return float(dim), float(1 / np.sqrt(information)), int(n_used)

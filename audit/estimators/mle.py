"""Levina-Bickel maximum-likelihood ID (Levina & Bickel 2005) and the per-point local ID.

With T_j the distance from a point to its j-th nearest neighbour, the point's local estimate is
m(x) = (k - 1) / sum_{j<k} log(T_k / T_j) (``unbiased=True`` uses k - 2, Levina and Bickel's
unbiased form). Points are combined, by default, as MacKay and Ghahramani (2005) propose:
the inverse of the mean of the inverse local estimates, 1 / mean(1 / m(x)), which is the
maximum-likelihood combination; ``combine="mean"`` gives Levina and Bickel's plain average.
These match scikit-dimension's ``MLE`` with ``comb="mle"`` and ``comb="mean"``.
Neighbours are searched among distinct points (exact duplicate rows collapsed, their number
reported as ``n_duplicates``); a point whose k neighbours all lie at the same distance has no
estimate and is left out. At least 20 distinct points are needed (the 5 %..95 % quantiles and
the bootstrap over points mean little on fewer; see ``_knn_common.MIN_DISTINCT_POINTS``).
"""

from __future__ import annotations

import numpy as np

from . import _bootstrap
from ._input import EstimatorInputError, check_int
from ._knn_common import prepare, require_enough, scope_note
from .estimates import Estimate, LocalIDResult

__all__ = ["mle", "local_id", "mle_from_neighbors", "local_id_from_neighbors"]

_COMBINE = ("inverse", "mean")
_QUANTILE_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def mle(
    X,
    *,
    k: int = 20,
    combine: str = "inverse",
    unbiased: bool = False,
    n_bootstrap: int = _bootstrap.DEFAULT_REPLICATES,
    ci_level: float = _bootstrap.DEFAULT_LEVEL,
    seed=0,
    neighbors=None,
    query_points: int | None = None,
    device="auto",
) -> Estimate:
    """Levina-Bickel ID from ``k`` neighbours per point (k >= 3), combined as ``combine`` says.

    ``n_bootstrap``/``ci_level``: percentile bootstrap over points. ``neighbors`` reuses a search
    of X holding at least k neighbours; ``query_points``, ``device`` as in ``nearest_neighbors``.
    """
    k = check_int(k, "k", low=3)
    _, found = prepare(X, k, neighbors, query_points=query_points, seed=seed, device=device, min_points=k + 1,
                       estimator="MLE")
    return mle_from_neighbors(
        found, k=k, combine=combine, unbiased=unbiased, n_bootstrap=n_bootstrap, ci_level=ci_level, seed=seed
    )


def local_id(
    X,
    *,
    k: int = 20,
    unbiased: bool = False,
    n_bootstrap: int = _bootstrap.DEFAULT_REPLICATES,
    ci_level: float = _bootstrap.DEFAULT_LEVEL,
    seed=0,
    neighbors=None,
    query_points: int | None = None,
    device="auto",
) -> LocalIDResult:
    """Per-point Levina-Bickel ID from ``k`` neighbours, with its mean (``value``, bootstrap
    interval over points), median and quantiles."""
    k = check_int(k, "k", low=3)
    _, found = prepare(X, k, neighbors, query_points=query_points, seed=seed, device=device, min_points=k + 1,
                       estimator="local ID")
    return local_id_from_neighbors(found, k=k, unbiased=unbiased, n_bootstrap=n_bootstrap, ci_level=ci_level, seed=seed)


def pointwise_estimates(distances: np.ndarray, k: int, unbiased: bool) -> tuple[np.ndarray, np.ndarray]:
    """Local estimates m(x) from sorted neighbour distances, and the mask of points that have one."""
    nearest = distances[:, :k]
    valid = nearest[:, 0] > 0
    log_ratios = np.log(nearest[valid, k - 1 : k] / nearest[valid, : k - 1]).sum(axis=1)
    has_spread = log_ratios > 0
    valid[np.flatnonzero(valid)[~has_spread]] = False
    return ((k - 2 if unbiased else k - 1) / log_ratios[has_spread]), valid


def mle_from_neighbors(neighbors, *, k=20, combine="inverse", unbiased=False, n_bootstrap=200, ci_level=0.95, seed=0):
    if combine not in _COMBINE:
        raise EstimatorInputError(f"combine must be one of {_COMBINE}, got {combine!r}")
    n_bootstrap, ci_level = _bootstrap.check_options(n_bootstrap, ci_level)
    local, valid = _checked_pointwise(neighbors, k, unbiased, "MLE")
    terms = 1.0 / local if combine == "inverse" else local
    replicates = _mean_replicates(terms, n_bootstrap, seed)
    if combine == "inverse":
        replicates = None if replicates is None else 1.0 / replicates
    combined = 1.0 / terms.mean() if combine == "inverse" else terms.mean()
    return Estimate(
        value=float(combined),
        method=f"MLE Levina-Bickel (k={k}, combine={combine}{', unbiased' if unbiased else ''})",
        n_used=int(local.size),
        n_duplicates=neighbors.n_duplicates,
        n_excluded=neighbors.n_rows_queried - int(local.size),
        notes=scope_note(neighbors),
        **_bootstrap.interval_fields(replicates, ci_level, "points"),
    )


def local_id_from_neighbors(neighbors, *, k=20, unbiased=False, n_bootstrap=200, ci_level=0.95, seed=0):
    n_bootstrap, ci_level = _bootstrap.check_options(n_bootstrap, ci_level)
    local, valid = _checked_pointwise(neighbors, k, unbiased, "local ID")
    replicates = _mean_replicates(local, n_bootstrap, seed)
    quantiles = np.quantile(local, _QUANTILE_LEVELS)
    return LocalIDResult(
        value=float(local.mean()),
        method=f"local ID, Levina-Bickel per point (k={k}{', unbiased' if unbiased else ''}); value is the mean",
        n_used=int(local.size),
        n_duplicates=neighbors.n_duplicates,
        n_excluded=neighbors.n_rows_queried - int(local.size),
        notes=scope_note(neighbors),
        values=local,
        point_index=neighbors.query_index[valid],
        median=float(np.median(local)),
        quantiles=tuple(zip(_QUANTILE_LEVELS, map(float, quantiles))),
        **_bootstrap.interval_fields(replicates, ci_level, "points"),
    )


def _checked_pointwise(neighbors, k, unbiased, estimator):
    neighbors.require(k, (neighbors.n_points, neighbors.n_features))
    require_enough(neighbors, estimator)
    local, valid = pointwise_estimates(neighbors.distances, k, unbiased)
    if local.size < 2:
        raise EstimatorInputError(
            f"only {local.size} of {neighbors.n_queries} points have distinct neighbour distances "
            f"({neighbors.n_duplicates} rows are duplicates): no ML estimate"
        )
    return local, valid


def _mean_replicates(terms: np.ndarray, n_bootstrap: int, seed):
    return _bootstrap.replicate_seeded(lambda counts: counts @ terms / terms.size, terms.size, n_bootstrap, seed)

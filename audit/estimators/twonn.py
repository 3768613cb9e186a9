"""TwoNN intrinsic dimension (Facco, d'Errico, Rodriguez & Laio 2017).

For each point mu = r2 / r1, the ratio of its second to first nearest-neighbour distance,
follows a Pareto(1, d) law on a locally uniform d-dimensional manifold. Conventions follow
scikit-dimension and DADApy: the ``discard_fraction`` largest ratios are dropped, and
``-log(1 - F(mu))`` is regressed on ``log(mu)`` through the origin with F the empirical CDF i/N
over all N points. The point with F = 1 (only present when nothing is discarded) is left out of
the linear fit, where -log(0) is infinite. ``fit="mle"`` gives the unbiased maximum-likelihood
estimate with the discarded ratios treated as censored, (k - 1) / (sum_{i<=k} log mu_(i) +
(N - k) log mu_(k)); with ``discard_fraction=0`` that is (N - 1) / sum(log mu), DADApy's "ml".
The ratios are those of distinct points: exact duplicate rows are collapsed before the search
(a point whose two nearest neighbours are a duplicate pair would otherwise have mu = 1), and
``n_duplicates`` counts the rows that had a copy. At least 20 distinct points are needed
(:data:`~audit.estimators._knn_common.MIN_DISTINCT_POINTS`): the estimate's relative standard
error is about 1 / sqrt(n), and the fit drops the largest ratios.
"""

from __future__ import annotations

import numpy as np

from . import _bootstrap
from ._input import EstimatorInputError, check_fraction
from ._knn_common import prepare, require_enough, scope_note
from .estimates import Estimate

__all__ = ["twonn", "twonn_from_neighbors"]

_FITS = ("linear", "mle")


def twonn(
    X,
    *,
    discard_fraction: float = 0.1,
    fit: str = "linear",
    n_bootstrap: int = _bootstrap.DEFAULT_REPLICATES,
    ci_level: float = _bootstrap.DEFAULT_LEVEL,
    seed=0,
    neighbors=None,
    query_points: int | None = None,
    device="auto",
) -> Estimate:
    """TwoNN estimate of the intrinsic dimension of the rows of X.

    Parameters
    ----------
    X : (n, d) array or tensor.
    discard_fraction : fraction of the largest ratios mu dropped before fitting, in [0, 1).
    fit : ``"linear"`` (Facco et al.'s regression) or ``"mle"`` (censored maximum likelihood).
    n_bootstrap, ci_level : percentile bootstrap over points (0 replicates: no interval).
    seed : seeds the bootstrap and the query sample.
    neighbors : a :class:`~audit.estimators.knn.Neighbors` of X to reuse (k >= 2).
    query_points, device : search options, see :func:`~audit.estimators.knn.nearest_neighbors`.
    """
    _, found = prepare(X, 2, neighbors, query_points=query_points, seed=seed, device=device, min_points=3,
                       estimator="TwoNN")
    return twonn_from_neighbors(
        found, discard_fraction=discard_fraction, fit=fit, n_bootstrap=n_bootstrap, ci_level=ci_level, seed=seed
    )


def twonn_from_neighbors(neighbors, *, discard_fraction=0.1, fit="linear", n_bootstrap=200, ci_level=0.95, seed=0):
    """TwoNN from an existing neighbour search (the shared path of :func:`knn_estimates`)."""
    discard_fraction = check_fraction(discard_fraction, "discard_fraction")
    if fit not in _FITS:
        raise EstimatorInputError(f"fit must be one of {_FITS}, got {fit!r}")
    n_bootstrap, ci_level = _bootstrap.check_options(n_bootstrap, ci_level)
    require_enough(neighbors, "TwoNN")
    duplicate = neighbors.is_duplicate  # only a search of every row has any
    log_mu = np.sort(np.log(neighbors.distances[~duplicate, 1] / neighbors.distances[~duplicate, 0]))
    n_ratios = log_mu.size
    n_keep = _kept(n_ratios, discard_fraction, fit)
    estimator = _linear_slope if fit == "linear" else _censored_mle
    counts = np.ones((1, n_ratios), dtype=np.int64)
    value = float(estimator(log_mu, counts, n_keep)[0])
    replicates = _bootstrap.replicate_seeded(lambda counts: estimator(log_mu, counts, n_keep), n_ratios, n_bootstrap, seed)
    return Estimate(
        value=value,
        method=f"TwoNN ({fit} fit, discard_fraction={discard_fraction:g})",
        n_used=n_keep,
        n_duplicates=neighbors.n_duplicates,
        n_excluded=neighbors.n_rows_queried - n_keep,
        notes=scope_note(neighbors),
        **_bootstrap.interval_fields(replicates, ci_level, "points"),
    )


def _kept(n_ratios: int, discard_fraction: float, fit: str) -> int:
    n_keep = int(n_ratios * (1 - discard_fraction))
    if fit == "linear":
        n_keep = min(n_keep, n_ratios - 1)  # F = 1 has -log(1 - F) = inf
    if n_keep < 2:
        raise EstimatorInputError(
            f"TwoNN needs at least 2 ratios after discarding; {n_ratios} non-duplicate points keep {n_keep}"
        )
    return n_keep


def _positions(counts: np.ndarray, n_keep: int) -> tuple[np.ndarray, np.ndarray]:
    """For replicates given as counts over the sorted ratios: each ratio's first and one-past-last
    position among the kept (sorted) positions 0 .. n_keep - 1."""
    ends = np.cumsum(counts, axis=1)
    starts = ends - counts
    return np.minimum(starts, n_keep), np.minimum(ends, n_keep)


def _linear_slope(log_mu, counts, n_keep):
    """Least-squares slope through the origin of -log(1 - i/N) on sorted log mu, per replicate."""
    n_ratios = log_mu.size
    ranks = np.arange(1, n_keep + 1)
    cumulative_y = np.concatenate([[0.0], np.cumsum(-np.log1p(-ranks / n_ratios))])
    starts, ends = _positions(counts, n_keep)
    sum_xy = (log_mu * (cumulative_y[ends] - cumulative_y[starts])).sum(axis=1)
    sum_xx = (log_mu**2 * (ends - starts)).sum(axis=1)
    return sum_xy / sum_xx


def _censored_mle(log_mu, counts, n_keep):
    """(k - 1) / (sum of the k smallest log mu + (N - k) times the k-th), per replicate."""
    starts, ends = _positions(counts, n_keep)
    kept_sum = (log_mu * (ends - starts)).sum(axis=1)
    kth = log_mu[np.argmax(np.cumsum(counts, axis=1) >= n_keep, axis=1)]
    return (n_keep - 1) / (kept_sum + (log_mu.size - n_keep) * kth)

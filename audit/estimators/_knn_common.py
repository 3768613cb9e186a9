"""What the kNN-based estimators share: the search of distinct points and its minimum size.

The estimators see distances to distinct points only: exact duplicate rows are collapsed
before the search (as DADApy removes identical points), each distinct point standing for its
copies, whose number is reported as ``n_duplicates``.

Minimum size: every kNN estimate needs at least :data:`MIN_DISTINCT_POINTS` (20) distinct
points. TwoNN's and GRIDE's maximum-likelihood estimates have a relative standard error of
about 1 / sqrt(n), above 20 % below 25 points, and TwoNN's fit drops the largest 10 % of the
ratios; MLE and local ID average per-point estimates whose 5 %..95 % quantiles and bootstrap
interval over points mean little on fewer than 20. Below it an estimate is not computed.

The search module (:mod:`.knn`) is imported on first use: it brings torch and numba, which
reading a spec or an audit.json never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._distinct import distinct_rows
from ._input import EstimatorInputError, as_matrix, check_int

MIN_DISTINCT_POINTS = 20

if TYPE_CHECKING:
    from .knn import Neighbors


def neighbors_for(*args, **kwargs) -> Neighbors:
    """:func:`audit.estimators.knn.neighbors_for`, imported when first called."""
    from .knn import neighbors_for as search

    return search(*args, **kwargs)


def prepare(X, k: int, neighbors: Neighbors | None, *, query_points, seed, device, min_points: int,
            cap_k: bool = False, estimator: str = "this estimate"):
    """Validate X (float32 kept) and return it with its checked or freshly searched neighbours
    among distinct points, of which there must be ``min_points`` and :data:`MIN_DISTINCT_POINTS`;
    ``cap_k`` lowers ``k`` to the distinct points less one."""
    matrix = as_matrix(X, keep_float32=True)
    if neighbors is not None:
        return matrix, neighbors.require(min(k, matrix.shape[0] - 1) if cap_k else k, matrix.shape)
    rows = distinct_rows(matrix)
    check_enough(rows.n_distinct, rows.n_rows, estimator, max(min_points, MIN_DISTINCT_POINTS))
    k = min(k, rows.n_distinct - 1) if cap_k else check_int(k, "k", low=1, high=rows.n_distinct - 1)
    search = {"query_points": query_points, "seed": seed, "device": device}
    return matrix, neighbors_for(matrix, k, None, distinct=rows, **search)


def require_enough(neighbors: Neighbors, estimator: str) -> None:
    """Raise unless the queries hold :data:`MIN_DISTINCT_POINTS` distinct points."""
    duplicates = int(neighbors.is_duplicate.sum())  # only a search of every row has any
    check_enough(neighbors.n_queries - duplicates, neighbors.n_rows_queried, estimator)


def check_enough(n_distinct: int, n_rows: int, estimator: str, minimum: int = MIN_DISTINCT_POINTS) -> None:
    """Raise unless ``n_distinct`` (of ``n_rows`` rows) reaches ``minimum``."""
    if n_distinct < minimum:
        of_rows = "" if n_distinct == n_rows else f" among {n_rows} rows"
        raise EstimatorInputError(f"{estimator} needs at least {minimum} distinct points; there are {n_distinct}{of_rows}")


def scope_note(neighbors: Neighbors) -> tuple[str, ...]:
    if neighbors.n_queries == neighbors.n_searched:
        return ()
    among = f"{neighbors.n_searched} points" if neighbors.n_searched == neighbors.n_points else (
        f"{neighbors.n_searched} distinct points of {neighbors.n_points} rows")
    return (
        f"per-point statistics of {neighbors.n_queries} random query points; their neighbours "
        f"were searched exactly among all {among}",
    )

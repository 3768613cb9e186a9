"""All kNN-based estimates of one matrix from a single neighbour search.

A layer audit asks for TwoNN, MLE, local ID and GRIDE together; the search is the cost, so it
runs once with the largest neighbour count any of them needs and each estimate reads its part.
"""

from __future__ import annotations

from ._bootstrap import shared_draws
from ._input import check_int
from ._knn_common import prepare
from .gride import gride_from_neighbors
from .mle import local_id_from_neighbors, mle_from_neighbors
from .twonn import twonn_from_neighbors

__all__ = ["knn_estimates"]


def knn_estimates(
    X,
    *,
    k: int = 20,
    discard_fraction: float = 0.1,
    gride_range_max: int = 64,
    n_bootstrap: int = 200,
    ci_level: float = 0.95,
    seed=0,
    query_points: int | None = None,
    device="auto",
) -> dict:
    """TwoNN, MLE (k), local ID (k) and GRIDE (scales up to ``gride_range_max``) of X.

    Returns ``{"neighbors", "twonn", "mle", "local_id", "gride"}``; each estimate is what the
    function of the same name returns with these options. The search runs once, among the
    distinct points (exact duplicate rows collapsed), as each estimator's own search would.
    """
    k = check_int(k, "k", low=3)
    gride_range_max = check_int(gride_range_max, "gride_range_max", low=2)
    search = {"query_points": query_points, "seed": seed, "device": device}
    _, neighbors = prepare(X, max(k, gride_range_max), None, min_points=4, cap_k=True, estimator="kNN estimates",
                           **search)
    neighbors.require(k, (neighbors.n_points, neighbors.n_features))
    gride_range_max = min(gride_range_max, neighbors.k)
    shared = {"n_bootstrap": n_bootstrap, "ci_level": ci_level, "seed": seed}
    with shared_draws():  # the three bootstraps draw the same counts: once
        return {
            "neighbors": neighbors,
            "twonn": twonn_from_neighbors(neighbors, discard_fraction=discard_fraction, **shared),
            "mle": mle_from_neighbors(neighbors, k=k, **shared),
            "local_id": local_id_from_neighbors(neighbors, k=k, **shared),
            "gride": gride_from_neighbors(neighbors, range_max=gride_range_max, ci_level=ci_level),
        }

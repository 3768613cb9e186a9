"""What the kNN-based estimators share: their search options and the neighbour lookup.

The search module (:mod:`.knn`) is imported on first use: it brings torch and numba, which
reading a spec or an audit.json never needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._input import as_matrix

if TYPE_CHECKING:
    from .knn import Neighbors


def neighbors_for(*args, **kwargs) -> Neighbors:
    """:func:`audit.estimators.knn.neighbors_for`, imported when first called."""
    from .knn import neighbors_for as search

    return search(*args, **kwargs)


def prepare(X, k: int, neighbors: Neighbors | None, *, query_points, seed, device, min_points: int):
    """Validate X (float32 kept) and return it with its checked or freshly searched neighbours."""
    matrix = as_matrix(X, min_points=min_points, keep_float32=True)
    found = neighbors_for(matrix, k, neighbors, query_points=query_points, seed=seed, device=device)
    return matrix, found


def scope_note(neighbors: Neighbors) -> tuple[str, ...]:
    if neighbors.n_queries == neighbors.n_points:
        return ()
    return (
        f"per-point statistics of {neighbors.n_queries} random query points; their neighbours "
        f"were searched exactly among all {neighbors.n_points} points",
    )

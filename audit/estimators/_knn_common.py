"""What the kNN-based estimators share: their search options and the neighbour lookup."""

from __future__ import annotations

from .knn import Neighbors, neighbors_for
from ._input import as_matrix


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

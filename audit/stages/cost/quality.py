"""Quality a variant keeps: neighbour-retrieval overlap and cosine preservation for embeddings,
(a factorized layer's accuracy and fidelity come from :mod:`audit.outputs`). Pure functions of arrays."""

from __future__ import annotations

import numpy as np

from ...estimators import nearest_neighbors

__all__ = ["recall_at_k", "recall_per_query", "cosine_preservation", "unit_rows"]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def recall_per_query(full: np.ndarray, reduced: np.ndarray, *, k: int) -> np.ndarray:
    """Each point's share of its ``k`` cosine-nearest neighbours under ``full`` that are also
    among its ``k`` nearest under ``reduced`` (the per-query overlaps a bootstrap resamples)."""
    k = min(k, full.shape[0] - 1)
    truth = nearest_neighbors(unit_rows(full), k=k, device="cpu").indices
    found = nearest_neighbors(unit_rows(reduced), k=k, device="cpu").indices
    return np.array([np.intersect1d(a, b, assume_unique=True).size for a, b in zip(truth, found)], dtype=np.float64) / k


def recall_at_k(full: np.ndarray, reduced: np.ndarray, *, k: int) -> float:
    """Mean share of each point's ``k`` cosine-nearest neighbours under ``full`` that are also
    among its ``k`` nearest under ``reduced`` (recall@k of the reduced search against the full one)."""
    return float(np.mean(recall_per_query(full, reduced, k=k)))


def cosine_preservation(full: np.ndarray, reduced: np.ndarray, *, max_points: int = 1000, seed: int = 0) -> dict[str, float]:
    """How well pairwise cosine similarities survive: their Pearson correlation and mean absolute
    difference over all pairs of at most ``max_points`` seeded points."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(full.shape[0], size=min(max_points, full.shape[0]), replace=False))
    a, b = unit_rows(full[chosen]), unit_rows(reduced[chosen])
    upper = np.triu_indices(len(chosen), k=1)
    before, after = (a @ a.T)[upper], (b @ b.T)[upper]
    spread = before.std() * after.std()
    correlation = float(np.mean((before - before.mean()) * (after - after.mean())) / spread) if spread > 0 else 1.0
    return {"cosine_correlation": correlation, "cosine_mean_abs_diff": float(np.mean(np.abs(before - after)))}

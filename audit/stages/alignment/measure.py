"""From captured layers to the alignment results: the same seeded subset of points on both
sides, CKA and overlap per matched layer, the layer x layer CKA, and the local-ID relation."""

from __future__ import annotations

import numpy as np

from ...estimators import EstimatorInputError
from ...estimators.alignment import MIN_LAYERS, cka_estimate, neighbourhood_overlap, rank_correlation
from ...estimators.attention_heads import debiased_linear_cka
from ...metrics._base import failed, from_estimate
from .result import LayerPair, MatchedLayer, SelfSimilarity

__all__ = ["matched_layer", "relations", "self_similarity"]

_CKA, _OVERLAP = "Debiased linear CKA", "Mutual k-NN overlap"


def _subset(n_points: int, cap: int, seed: int) -> np.ndarray:
    """At most ``cap`` of ``n_points`` rows, seeded and in order: the same rows for every capture
    of the same points."""
    if n_points <= cap:
        return np.arange(n_points)
    return np.sort(np.random.default_rng(seed).choice(n_points, cap, replace=False))


def _same_points(a, b) -> bool:
    return np.array_equal(a.point_keys, b.point_keys)


def matched_layer(ours, theirs, local_id: float | None, section, seed: int, device) -> MatchedLayer:
    """CKA and overlap of captured layer ``ours`` with the reference's ``theirs``."""
    if not _same_points(ours, theirs):
        reason = EstimatorInputError(f"the two models' captures hold different points ({ours.matrix.shape[0]} and "
                                     f"{theirs.matrix.shape[0]}): their tokenizers or reductions differ")
        return MatchedLayer(ours.name, theirs.name, max(1, ours.matrix.shape[0]), failed("cka", _CKA, reason),
                            failed("overlap", _OVERLAP, reason), local_id)
    rows = _subset(ours.matrix.shape[0], section.max_points, seed)
    X, Y, groups = ours.matrix[rows], theirs.matrix[rows], ours.samples[rows]
    return MatchedLayer(ours.name, theirs.name, int(rows.size), _cka(X, Y, groups, section, seed),
                        _overlap(X, Y, section, seed, device), local_id)


def _cka(X, Y, groups, section, seed: int):
    try:
        estimate = cka_estimate(X, Y, groups=groups, n_groups=section.n_groups, ci_level=section.ci_level, seed=seed)
    except EstimatorInputError as error:
        return failed("cka", _CKA, error)
    return from_estimate("cka", _CKA, estimate, unit="")


def _overlap(X, Y, section, seed: int, device):
    try:
        estimate = neighbourhood_overlap(X, Y, k=section.k, n_bootstrap=section.n_bootstrap,
                                         ci_level=section.ci_level, seed=seed, device=device)
    except EstimatorInputError as error:
        return failed("overlap", _OVERLAP, error)
    return from_estimate("overlap", _OVERLAP, estimate, unit="", k=section.k,
                         chance=section.k / max(1, estimate.n_used - 1))


def self_similarity(captures: list, section, seed: int) -> SelfSimilarity:
    """Debiased linear CKA between every pair of ``captures`` (audit order) on the same points,
    and the consecutive pairs with their jackknife intervals and layer-drop candidates."""
    n = len(captures)
    rows = {capture.name: _subset(capture.matrix.shape[0], section.max_points, seed) for capture in captures}
    matrix = [[None] * n for _ in range(n)]
    for a in range(n):
        for b in range(a, n):
            matrix[a][b] = matrix[b][a] = _pair_cka(captures[a], captures[b], rows)
    consecutive = tuple(_consecutive(before, after, rows, section, seed)
                        for before, after in zip(captures, captures[1:]) if _same_points(before, after))
    return SelfSimilarity(layers=tuple(capture.name for capture in captures), cka=tuple(map(tuple, matrix)),
                          n_points=int(max((r.size for r in rows.values()), default=0)),
                          method=f"{_CKA.lower()} (Kornblith et al. 2019) between the layers' outputs on the same "
                          "points", threshold=section.drop_threshold, consecutive=consecutive)


def _pair_cka(a, b, rows) -> float | None:
    if not _same_points(a, b):
        return None
    try:
        return debiased_linear_cka(a.matrix[rows[a.name]], b.matrix[rows[b.name]])
    except EstimatorInputError:
        return None


def _consecutive(before, after, rows, section, seed: int) -> LayerPair:
    picked = rows[after.name]
    cka = _cka(before.matrix[picked], after.matrix[picked], after.samples[picked], section, seed)
    return LayerPair(name=after.name, previous=before.name, cka=cka,
                     drop_candidate=cka.value is not None and cka.value >= section.drop_threshold)


def relations(layers: list[MatchedLayer], ci_level: float) -> tuple:
    """Spearman's correlation of local ID with CKA, and with overlap, over the matched layers
    (Yu et al. 2025: lower local ID, stronger alignment, so a negative correlation)."""
    return tuple(_relation(layers, measure, ci_level) for measure in ("cka", "overlap"))


def _relation(layers: list[MatchedLayer], measure: str, ci_level: float):
    name, title = f"local_id_vs_{measure}", f"Local ID against {measure.upper() if measure == 'cka' else measure}"
    pairs = [(layer.local_id, getattr(layer, measure).value) for layer in layers
             if layer.local_id is not None and getattr(layer, measure).value is not None]
    if not any(layer.local_id is not None for layer in layers):
        return failed(name, title, EstimatorInputError("the audit did not compute local ID (metric local_id)"))
    try:
        estimate = rank_correlation([p[0] for p in pairs], [p[1] for p in pairs], ci_level=ci_level,
                                    min_points=MIN_LAYERS)
    except EstimatorInputError as error:
        return failed(name, title, error)
    return from_estimate(name, title, estimate, unit="")

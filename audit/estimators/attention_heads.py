"""Attention-head redundancy: how far the heads of one layer duplicate each other.

Input: the per-head context vectors of one attention layer for the same n points (tokens),
an array of shape (n_points, n_heads, d_head) -- each head's output *before* the output
projection W_O. Head ``a`` is the (n, d_head) matrix ``heads[:, a, :]``.

Similarity of two heads X, Y (n x d each), two measures:

- ``"cka"``: debiased linear CKA (Kornblith et al. 2019; debiased as in Nguyen, Raghu &
  Kornblith 2021) through the unbiased HSIC estimator of Song et al. (2012). With the linear
  Gram matrices K = X X^T, L = Y Y^T and their diagonals set to zero (K~, L~)::

      HSIC_1(K, L) = [tr(K~ L~) + (1^T K~ 1)(1^T L~ 1) / ((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1] / (n(n-3))
      CKA(X, Y)    = HSIC_1(K, L) / sqrt(HSIC_1(K, K) HSIC_1(L, L))

  It is invariant to orthogonal transforms and isotropic scaling of either head (W_O can
  absorb both, so such heads are functionally interchangeable) and reads ~0 on independent
  heads at any n, where the biased estimator tr(K H L H) / (n-1)^2 reads ~0.2 at n = 32.
  It can be slightly negative (estimation noise around 0) and lies in [-1, 1].
- ``"correlation"``: the absolute cosine of the flattened, column-centred head outputs,
  |<X_c, Y_c>_F| / (||X_c||_F ||Y_c||_F), X_c = X - 1 mean(X). It is the Pearson correlation
  of vec(X) and vec(Y) with every coordinate centred on its own mean (the RV-like cosine
  without the Gram step): 1 when Y = c X for any c != 0, but *not* invariant to rotations of a
  head, so it finds heads that duplicate each other coordinate by coordinate.

Feature-space evaluation (no n x n matrix is formed). With a_i = |x_i|^2, b_i = |y_i|^2 (the
Gram diagonals), s_x = X^T 1, s_y = Y^T 1::

    tr(K~ L~)   = ||X^T Y||_F^2 - sum_i a_i b_i
    1^T K~ 1    = |s_x|^2 - sum_i a_i
    K~ 1        = X s_x - a            (likewise L~ 1 = Y s_y - b)
    1^T K~ L~ 1 = (K~ 1) . (L~ 1)

so a pair costs O(n d^2), and all h^2 pairs come from one (h d) x (h d) product Z^T Z of the
concatenated heads Z = [X_1, ..., X_h]. HSIC_1 is exactly invariant to centring the columns
(it equals the inner product of U-centred Gram matrices, Szekely & Rizzo 2014), so the heads
are centred first, which keeps the subtractions above well conditioned.

A constant head (all n outputs equal, or with no variation HSIC_1 can see) has no defined CKA
or correlation. It is not turned into NaN: its similarity to every other head is 0, its
diagonal entry stays 1, and :func:`head_redundancy` lists it in ``constant_heads``.

References: Song, Smola, Gretton, Bedo & Borgwardt, "Feature selection via dependence
maximization", JMLR 13 (2012); Kornblith, Norouzi, Lee & Hinton, "Similarity of neural network
representations revisited", ICML 2019; Nguyen, Raghu & Kornblith, "Do wide and deep networks
learn the same things?", ICLR 2021; Szekely & Rizzo, "Partial distance correlation with methods
for dissimilarities", Ann. Statist. 42 (2014); Roy & Vetterli, "The effective rank", EUSIPCO 2007.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._input import EstimatorInputError, _check_finite, _to_numpy, as_matrix, check_fraction
from .estimates import _freeze

__all__ = [
    "HeadRedundancy",
    "debiased_linear_cka",
    "head_redundancy",
    "head_similarity",
    "redundant_groups",
]

MEASURES = ("cka", "correlation")
_METHODS = {
    "cka": "debiased linear CKA (unbiased HSIC of Song et al. 2012)",
    "correlation": "absolute cosine of the column-centred, flattened head outputs",
}
# A head whose self-similarity term is below this fraction of its squared total variance is
# treated as constant: what is left is rounding, not signal.
_DEGENERATE = 1e-10


@dataclass(frozen=True)
class HeadRedundancy:
    """Pairwise similarity of the heads of one layer and the groups of near-duplicates.

    ``similarity`` is the (h, h) read-only matrix of ``measure`` (diagonal 1); ``groups`` the
    connected components of {similarity >= threshold} with two or more heads, each sorted,
    ordered by first head; ``constant_heads`` the heads without variation (similarity 0 to
    every other head); ``n_points`` the number of points (tokens) behind every entry.
    """

    similarity: np.ndarray
    measure: str
    groups: tuple[tuple[int, ...], ...]
    threshold: float
    n_points: int
    method: str
    constant_heads: tuple[int, ...] = ()

    def __post_init__(self):
        if self.similarity.flags.writeable:
            object.__setattr__(self, "similarity", _freeze(self.similarity))

    @property
    def n_heads(self) -> int:
        return int(self.similarity.shape[0])

    @property
    def n_redundant(self) -> int:
        """Heads that could go if one head per group were kept: sum of (group size - 1)."""
        return sum(len(group) - 1 for group in self.groups)

    def to_dict(self) -> dict:
        return {
            "similarity": self.similarity.tolist(),
            "measure": self.measure,
            "groups": [list(group) for group in self.groups],
            "threshold": self.threshold,
            "n_points": self.n_points,
            "method": self.method,
            "constant_heads": list(self.constant_heads),
            "n_heads": self.n_heads,
            "n_redundant": self.n_redundant,
        }


def debiased_linear_cka(X, Y) -> float:
    """Debiased linear CKA between two representations of the same n points.

    Parameters
    ----------
    X, Y : array-like or torch.Tensor of shape (n, d_x) and (n, d_y)
        Row i of both describes the same point; the widths may differ. n >= 4.

    Returns
    -------
    float
        HSIC_1(K, L) / sqrt(HSIC_1(K, K) HSIC_1(L, L)) with K = X X^T, L = Y Y^T and the
        unbiased estimator HSIC_1 of Song et al. (2012) (formula in the module docstring),
        evaluated in feature space in O(n (d_x + d_y)^2). In [-1, 1]; ~0 for independent data.

    Raises
    ------
    EstimatorInputError
        Non-2-D or non-finite input, fewer than 4 points, different numbers of points, or a
        constant representation (its CKA is undefined).
    """
    X = as_matrix(X, min_points=4, name="X")
    Y = as_matrix(Y, min_points=4, name="Y")
    if X.shape[0] != Y.shape[0]:
        raise EstimatorInputError(f"X and Y must describe the same points, got {X.shape[0]} and {Y.shape[0]} rows")
    stacked = np.concatenate([X - X.mean(axis=0), Y - Y.mean(axis=0)], axis=1)
    hsic = _unbiased_hsic(stacked, [X.shape[1], Y.shape[1]])
    for name, index, block in (("X", 0, stacked[:, : X.shape[1]]), ("Y", 1, stacked[:, X.shape[1] :])):
        if hsic[index, index] <= _DEGENERATE * _variance_scale(block):
            raise EstimatorInputError(f"{name} has no variation the unbiased HSIC can see; its CKA is undefined")
    return float(np.clip(hsic[0, 1] / np.sqrt(hsic[0, 0] * hsic[1, 1]), -1.0, 1.0))


def head_similarity(heads, *, measure: str = "cka") -> np.ndarray:
    """Pairwise similarity of the heads of one layer.

    Parameters
    ----------
    heads : array-like or torch.Tensor of shape (n_points, n_heads, d_head)
        Per-head context vectors (before the output projection) for the same n >= 4 points.
    measure : {"cka", "correlation"}
        ``"cka"``: debiased linear CKA; ``"correlation"``: |cos(vec X_c, vec Y_c)| of the
        column-centred outputs. Definitions in the module docstring.

    Returns
    -------
    numpy.ndarray of shape (n_heads, n_heads)
        Symmetric, diagonal 1. A constant head has similarity 0 to every other head (see
        :func:`head_redundancy`, whose ``constant_heads`` names them).

    Raises
    ------
    EstimatorInputError
        Non-3-D or non-finite input, fewer than 4 points, or an unknown ``measure``.
    """
    return _similarity(_as_heads(heads), _check_measure(measure))[0]


def redundant_groups(similarity, *, threshold: float = 0.9) -> tuple[tuple[int, ...], ...]:
    """Groups of near-duplicate heads from a similarity matrix.

    The heads are the vertices of a graph with an edge wherever similarity >= ``threshold``
    (off the diagonal); a group is a connected component with two or more heads (single
    linkage: heads chained through a third belong together even when their own similarity is
    below the threshold). Singletons are not groups.

    Parameters
    ----------
    similarity : array-like of shape (h, h)
        Symmetric and finite, e.g. from :func:`head_similarity`.
    threshold : float in (0, 1]
        The similarity at which two heads count as duplicates.

    Returns
    -------
    tuple of tuple of int
        Each group sorted ascending; groups ordered by their first head.
    """
    threshold = check_fraction(threshold, "threshold", low_open=True, high_open=False)
    matrix = _as_similarity(similarity)
    edges = (matrix >= threshold) & ~np.eye(matrix.shape[0], dtype=bool)
    from scipy.sparse.csgraph import connected_components  # scipy on first use

    _, labels = connected_components(edges, directed=False)
    groups = [tuple(int(i) for i in np.flatnonzero(labels == label)) for label in np.unique(labels)]
    return tuple(sorted(group for group in groups if len(group) > 1))


def head_redundancy(heads, *, measure: str = "cka", threshold: float = 0.9) -> HeadRedundancy:
    """Similarity matrix, near-duplicate groups and constant heads of one attention layer.

    Parameters
    ----------
    heads : array-like or torch.Tensor of shape (n_points, n_heads, d_head)
        Per-head context vectors (before the output projection) for the same n >= 4 points.
    measure : {"cka", "correlation"}
        See :func:`head_similarity`.
    threshold : float in (0, 1]
        See :func:`redundant_groups`.

    Returns
    -------
    HeadRedundancy
    """
    measure = _check_measure(measure)
    threshold = check_fraction(threshold, "threshold", low_open=True, high_open=False)
    array = _as_heads(heads)
    similarity, constant = _similarity(array, measure)
    return HeadRedundancy(
        similarity=similarity,
        measure=measure,
        groups=redundant_groups(similarity, threshold=threshold),
        threshold=threshold,
        n_points=array.shape[0],
        method=f"{_METHODS[measure]}; groups: connected components of similarity >= {threshold:g}",
        constant_heads=tuple(int(i) for i in np.flatnonzero(constant)),
    )


def _as_heads(heads) -> np.ndarray:
    """Validate and copy ``heads`` into a float64 (n, h, d) array with n >= 4."""
    array = _to_numpy(heads, "heads")
    if array.ndim != 3:
        raise EstimatorInputError(
            f"heads must be a 3-D array (points x heads x head width), got shape {array.shape}"
        )
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise EstimatorInputError(f"heads must hold real numbers, got dtype {array.dtype}")
    n_points, n_heads, d_head = array.shape
    if n_heads < 1 or d_head < 1:
        raise EstimatorInputError(f"heads has no heads or no head width (shape {array.shape})")
    if n_points < 4:
        raise EstimatorInputError(f"heads has {n_points} points; the unbiased HSIC needs at least 4")
    matrix = np.array(array, dtype=np.float64, order="C", copy=True)
    _check_finite(matrix.reshape(n_points, n_heads * d_head), "heads")
    return matrix


def _check_measure(measure) -> str:
    if measure not in MEASURES:
        raise EstimatorInputError(f"measure must be one of {', '.join(map(repr, MEASURES))}, got {measure!r}")
    return measure


def _as_similarity(similarity) -> np.ndarray:
    matrix = np.asarray(_to_numpy(similarity, "similarity"), dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise EstimatorInputError(f"similarity must be a square matrix, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise EstimatorInputError("similarity contains NaN or inf")
    if not np.allclose(matrix, matrix.T, rtol=1e-9, atol=1e-12):
        raise EstimatorInputError("similarity must be symmetric")
    return matrix


def _similarity(heads: np.ndarray, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """(h, h) similarity of the heads and a boolean mask of the constant heads."""
    n_points, n_heads, d_head = heads.shape
    centred = (heads - heads.mean(axis=0)).reshape(n_points, n_heads * d_head)
    if measure == "cka":
        raw = _unbiased_hsic(centred, [d_head] * n_heads)
    else:
        gram = (centred.T @ centred).reshape(n_heads, d_head, n_heads, d_head)
        raw = np.abs(np.einsum("akbk->ab", gram))
    constant = _constant_heads(heads, centred, np.diag(raw), measure)
    norms = np.sqrt(np.where(constant, 1.0, np.diag(raw)))
    similarity = np.clip(raw / np.outer(norms, norms), -1.0, 1.0)
    similarity[constant, :] = 0.0
    similarity[:, constant] = 0.0
    np.fill_diagonal(similarity, 1.0)
    return similarity, constant


def _constant_heads(heads, centred, self_terms, measure) -> np.ndarray:
    """Heads whose outputs are all equal or whose self-term (HSIC_1(K, K) for CKA, ||X_c||_F^2
    for correlation) is zero, or for CKA below _DEGENERATE (tr Cov)^2: rounding, not signal."""
    constant = np.all(heads == heads[:1], axis=(0, 2)) | (self_terms <= 0.0)
    if measure == "cka":
        scale = np.array([_variance_scale(block) for block in np.split(centred, heads.shape[1], axis=1)])
        constant |= self_terms <= _DEGENERATE * scale
    return constant


def _variance_scale(centred_block: np.ndarray) -> float:
    """(tr Cov)^2 = (||X_c||_F^2 / n)^2 of a centred block: the yardstick for HSIC_1(K, K),
    whose expectation ||Cov||_F^2 is at least (tr Cov)^2 / d for any head with variation."""
    return float((np.einsum("ij,ij->", centred_block, centred_block) / centred_block.shape[0]) ** 2)


def _unbiased_hsic(Z: np.ndarray, widths: list[int]) -> np.ndarray:
    """HSIC_1 between every pair of column blocks of ``Z`` (n, sum(widths)), in feature space.

    Block a is X_a = Z[:, offsets[a]:offsets[a] + widths[a]] with linear kernel K_a = X_a X_a^T.
    Returns the (k, k) matrix of HSIC_1(K_a, K_b) (formula and identities in the module
    docstring); works on uncentred blocks too.
    """
    n_points = Z.shape[0]
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]])
    gram = Z.T @ Z
    cross = np.add.reduceat(np.add.reduceat(gram**2, offsets, axis=0), offsets, axis=1)  # ||X_a^T X_b||_F^2
    blocks = np.split(Z, offsets[1:], axis=1)
    diagonals = np.stack([np.einsum("ij,ij->i", block, block) for block in blocks], axis=1)  # a_i per block
    sums = [block.sum(axis=0) for block in blocks]
    totals = np.array([s @ s for s in sums]) - diagonals.sum(axis=0)  # 1^T K~ 1
    row_sums = np.stack([block @ s for block, s in zip(blocks, sums)], axis=1) - diagonals  # K~ 1
    trace = cross - diagonals.T @ diagonals  # tr(K~ L~)
    mixed = row_sums.T @ row_sums  # 1^T K~ L~ 1
    n = float(n_points)
    return (trace + np.outer(totals, totals) / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * mixed) / (n * (n - 3))

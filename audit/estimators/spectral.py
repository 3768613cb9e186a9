"""Spectral estimates: PCA-ID, participation ratio, effective rank, stable rank.

``pca_id`` and ``participation_ratio`` read the eigenvalues of the covariance (rows centred);
``effective_rank`` and ``stable_rank`` read the singular values of X as given (``center=False``
by default, since they describe a matrix; pass ``center=True`` for activations' covariance).

- PCA-ID: the number of principal components whose variance reaches ``variance`` of the total.
- Participation ratio: (sum lambda)^2 / sum lambda^2 over covariance eigenvalues lambda.
- Effective rank (Roy & Vetterli 2007): exp(H(p)), p_i = sigma_i / sum sigma, H the Shannon entropy.
- Stable rank: ||X||_F^2 / ||X||_2^2 = sum sigma^2 / max sigma^2.

Intervals: a delete-a-group jackknife. The rows are split into ``n_groups`` (20) seeded random
groups whose second-moment matrices are computed once; leaving one group out costs one
eigen-decomposition of a d x d (or, when n < d, an n x n Gram) matrix. The interval is
value +- z se with the jackknife standard error (a percentile bootstrap over so few groups is
visibly biased for these non-linear statistics; the jackknife interval is centred on the value).

The four estimates read the same spectra: the full one and the ``n_groups`` leave-one-out ones of
a matrix, for given ``center``, ``n_groups`` and seed. Those are computed once and kept for the
next estimate on the same matrix (a few matrices, found by a digest of their bytes), so an audit
running all four metrics on a layer, or the heads stage's effective rank and participation
ratio, does the eigen-decompositions once instead of four times; every value is unchanged.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from ._bootstrap import jackknife_fields
from ._input import as_matrix, check_fraction, check_int, rng_from
from .estimates import SpectrumEstimate

__all__ = ["pca_id", "participation_ratio", "effective_rank", "stable_rank"]

_DEFAULT_GROUPS = 20


def pca_id(X, *, variance: float = 0.9, center: bool = True, **options) -> SpectrumEstimate:
    """Components needed to reach ``variance`` (in (0, 1]) of the total; ``spectrum`` holds the
    covariance eigenvalues. ``options``: n_groups (20; 0 for no interval), ci_level, seed.

    The count is a step function of the spectrum, so a jackknife of the count itself mostly sees
    the same integer and collapses to a point even when the threshold sits at a component's
    edge. The interval is therefore computed on the crossing interpolated within the component
    that reaches the threshold (``k - 1 + (variance - C_{k-1}) / share_k``, in (k - 1, k] for a
    count of k) and its ends are rounded up to whole components: exactly rank-k data whose
    threshold lies well inside the k-th component keeps [k, k].
    """
    variance = check_fraction(variance, "variance", low_open=True, high_open=False)

    def crossing(eigenvalues):
        cumulative = np.cumsum(eigenvalues) / eigenvalues.sum()
        index = int(np.searchsorted(cumulative, variance - 1e-12))
        before = cumulative[index - 1] if index else 0.0
        return index + min(1.0, (variance - before) / (cumulative[index] - before))

    return _spectral(X, crossing, f"PCA-ID ({variance:g} of variance)", center, "eigenvalues", options,
                     whole=True)


def participation_ratio(X, *, center: bool = True, **options) -> SpectrumEstimate:
    """(sum lambda)^2 / sum lambda^2 of the covariance eigenvalues."""

    def ratio(eigenvalues):
        return float(eigenvalues.sum() ** 2 / np.sum(eigenvalues**2))

    return _spectral(X, ratio, "participation ratio", center, "eigenvalues", options)


def effective_rank(X, *, center: bool = False, **options) -> SpectrumEstimate:
    """Roy & Vetterli's effective rank exp(H(sigma / sum sigma)) of the singular values."""

    def entropy_rank(eigenvalues):
        singular = np.sqrt(eigenvalues)
        p = singular[singular > 0] / singular.sum()
        return float(np.exp(-np.sum(p * np.log(p))))

    return _spectral(X, entropy_rank, "effective rank (Roy-Vetterli)", center, "singular values", options)


def stable_rank(X, *, center: bool = False, **options) -> SpectrumEstimate:
    """sum sigma^2 / max sigma^2 of the singular values."""

    def frobenius_over_spectral(eigenvalues):
        return float(eigenvalues.sum() / eigenvalues.max())

    return _spectral(X, frobenius_over_spectral, "stable rank", center, "singular values", options)


def _spectral(X, statistic, name, center, reported, options, whole=False) -> SpectrumEstimate:
    """``statistic`` of the spectrum with its jackknife interval; ``whole``: the statistic is a
    continuous version of a count, reported (value and interval ends) rounded up."""
    n_groups, ci_level, seed = _jackknife_options(**options)
    matrix = as_matrix(X, min_points=3)
    eigenvalues, leave_one_out = _spectra(matrix, n_groups, center, seed)
    value = statistic(eigenvalues)
    spectrum = np.sqrt(eigenvalues) if reported == "singular values" else eigenvalues / (matrix.shape[0] - center)
    interval = _jackknife_interval(leave_one_out, statistic, value, ci_level)
    return SpectrumEstimate(
        value=_whole(value) if whole else value,
        method=f"{name}, {'centred' if center else 'uncentred'} {reported}",
        n_used=matrix.shape[0],
        spectrum=spectrum,
        **(_rounded_up(interval, eigenvalues.size) if whole else interval),
    )


def _rounded_up(interval: dict, most: int) -> dict:
    """A count's interval from its continuous version's: ends rounded up, within [1, most]."""
    if not interval:
        return interval
    low, high = (min(float(most), max(1.0, _whole(interval[end]))) for end in ("ci_low", "ci_high"))
    method = f"{interval['ci_method']} on the crossing interpolated within a component, ends rounded up"
    return {**interval, "ci_low": low, "ci_high": high, "ci_method": method}


def _whole(value: float) -> float:
    """``value`` rounded up to a whole number, rounding error just above one ignored."""
    return float(np.ceil(value - 1e-9))


def _jackknife_options(n_groups=_DEFAULT_GROUPS, ci_level=0.95, seed=0):
    ci_level = check_fraction(ci_level, "ci_level", low_open=True)
    return check_int(n_groups, "n_groups", low=0), ci_level, seed


def _jackknife_interval(leave_one_out, statistic, value, ci_level) -> dict:
    if len(leave_one_out) < 2:
        return {}
    return jackknife_fields(np.array([statistic(spectrum) for spectrum in leave_one_out]), value, ci_level, "rows")


_SPECTRA: OrderedDict = OrderedDict()  # recent (matrix digest, options) -> spectra
_KEPT = 8


def _spectra(matrix: np.ndarray, n_groups: int, center: bool, seed) -> tuple[np.ndarray, list[np.ndarray]]:
    """The full spectrum of ``matrix`` and its leave-one-group-out spectra (none without groups),
    computed once per matrix and options; a Generator seed is never cached (its state moves)."""
    key = None
    if seed is None or isinstance(seed, (int, np.integer)):
        digest = hashlib.blake2b(np.ascontiguousarray(matrix).data, digest_size=16).digest()
        key = (digest, matrix.shape, n_groups, bool(center), int(seed or 0))
        if key in _SPECTRA:
            _SPECTRA.move_to_end(key)
            return _SPECTRA[key]
    groups = _GroupMoments(matrix, n_groups, center, rng_from(seed))
    identity = np.eye(groups.n_groups)
    found = (groups.eigenvalues(np.ones(groups.n_groups)),
             [groups.eigenvalues(1.0 - identity[g]) for g in range(groups.n_groups)] if groups.n_groups >= 2 else [])
    if key is not None:
        _SPECTRA[key] = found
        while len(_SPECTRA) > _KEPT:
            _SPECTRA.popitem(last=False)
    return found


class _GroupMoments:
    """Per-group sums and second moments of the rows, so weighted resamples are cheap."""

    def __init__(self, matrix: np.ndarray, n_groups: int, center: bool, rng: np.random.Generator):
        n_points, n_features = matrix.shape
        self.center = center
        self.use_gram = n_points < n_features
        self.n_groups = min(n_groups, n_points // 2) if n_groups >= 2 else 1  # >= 2 rows a group
        self.labels = rng.permutation(n_points) % self.n_groups
        labels = self.labels
        self.sizes = np.bincount(labels, minlength=self.n_groups).astype(np.float64)
        if self.use_gram:
            self.gram = matrix @ matrix.T
        else:
            self.sums = np.stack([matrix[labels == g].sum(axis=0) for g in range(self.n_groups)])
            self.moments = np.stack([matrix[labels == g].T @ matrix[labels == g] for g in range(self.n_groups)])

    def eigenvalues(self, weights: np.ndarray) -> np.ndarray:
        """Eigenvalues (descending, >= 0) of the scatter matrix of the rows resampled with
        ``weights`` per group (uncentred unless ``center``)."""
        weights = np.asarray(weights, dtype=np.float64)
        if self.use_gram:
            scatter = self._weighted_gram(weights[self.labels])
        else:
            scatter = np.tensordot(weights, self.moments, axes=1)
            if self.center:
                total = weights @ self.sizes
                mean = weights @ self.sums / total
                scatter = scatter - total * np.outer(mean, mean)
        values = np.linalg.eigvalsh(scatter)[::-1]
        # eigenvalues within rounding of zero are zero (else their square roots feed the entropy)
        return np.where(values > values[0] * values.size * np.finfo(float).eps, values, 0.0)

    def _weighted_gram(self, weights):
        root = np.sqrt(weights)
        gram = self.gram
        if self.center:
            total = weights.sum()
            projection = np.eye(weights.size) - np.outer(np.ones(weights.size), weights) / total
            gram = projection @ gram @ projection.T
        return root[:, None] * gram * root[None, :]

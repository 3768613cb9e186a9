"""Class geometry of a layer's activations: neural collapse NC1 and dead units.

NC1 (Papyan, Han and Donoho 2020, "Prevalence of neural collapse during the terminal phase of
deep learning training", eq. in section 3): with class means ``mu_c``, global mean ``mu_G``
(the mean of the class means), ``C`` classes and ``N`` points,

    Sigma_W = 1/N  sum_c sum_{i in c} (h_i - mu_c)(h_i - mu_c)^T
    Sigma_B = 1/C  sum_c (mu_c - mu_G)(mu_c - mu_G)^T
    NC1     = tr(Sigma_W Sigma_B^+) / C

with ``^+`` the Moore-Penrose pseudo-inverse. Computed without forming either d x d matrix:
``Sigma_B = M^T M`` with ``M`` the C x d matrix of centred means over sqrt(C); its nonzero
eigenpairs ``(lambda_k, v_k)`` come from the SVD of ``M`` and
``tr(Sigma_W Sigma_B^+) = sum_k v_k^T Sigma_W v_k / lambda_k``.
It is 0 when every point sits on its class mean (collapse) and grows with the within-class
spread relative to the separation of the means.

Dead units: a feature that never takes a positive value on the probe ("never active", a
ReLU that always outputs 0) or takes a single value ("zero variance").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._bootstrap import jackknife_fields, sample_folds
from ._input import EstimatorInputError, as_matrix, check_fraction, check_int
from .estimates import Estimate

__all__ = ["nc1", "dead_units", "DeadUnits"]


def nc1(X, labels, *, groups=None, n_groups: int = 20, ci_level: float = 0.95, seed: int = 0) -> Estimate:
    """NC1 = tr(Sigma_W Sigma_B^+) / C of the rows of ``X`` labelled ``labels``.

    ``groups``: the sample each row belongs to (rows of one sample are left out together by
    the delete-a-group jackknife interval over ``n_groups`` groups of samples; 0: none).
    """
    matrix = as_matrix(X, min_points=3)
    labels = np.asarray(labels)
    if labels.shape != (matrix.shape[0],):
        raise EstimatorInputError(f"labels must hold one label per row ({matrix.shape[0]}), got shape {labels.shape}")
    classes, codes = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        raise EstimatorInputError(f"NC1 needs at least 2 classes, got {classes.size}")
    value = _nc1(matrix, codes, classes.size)
    n_groups = check_int(n_groups, "n_groups", low=0)
    ci_level = check_fraction(ci_level, "ci_level", low_open=True)
    samples = np.arange(matrix.shape[0]) if groups is None else np.asarray(groups)
    fold = sample_folds(samples, n_groups, seed)
    leave_one_out = np.array([_nc1(matrix[fold != g], codes[fold != g], classes.size) for g in range(fold.max() + 1)]) \
        if n_groups >= 2 else np.empty(0)
    return Estimate(value=value, method=f"NC1 = tr(Sigma_W Sigma_B^+) / C over {classes.size} classes (Papyan et al. 2020)",
                    n_used=matrix.shape[0], **jackknife_fields(leave_one_out[np.isfinite(leave_one_out)], value, ci_level,
                                                                "samples"))


def _nc1(matrix: np.ndarray, codes: np.ndarray, n_classes: int) -> float:
    present = np.unique(codes)
    if present.size < 2:
        return float("nan")
    means = np.stack([matrix[codes == c].mean(axis=0) for c in present])
    within = matrix - means[np.searchsorted(present, codes)]
    centred = (means - means.mean(axis=0)) / np.sqrt(present.size)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    keep = singular > singular[0] * max(centred.shape) * np.finfo(float).eps
    projected = within @ vt[keep].T  # (N, k): coordinates along the between-class directions
    trace = np.sum(np.mean(projected ** 2, axis=0) / singular[keep] ** 2)
    return float(trace / present.size)


@dataclass(frozen=True)
class DeadUnits:
    """``never_active``: features never positive; ``constant``: features with one value
    (zero variance); ``dead``: features in either list (indices, ascending)."""

    never_active: tuple[int, ...]
    constant: tuple[int, ...]
    width: int
    n_used: int

    @property
    def dead(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.never_active) | set(self.constant)))


def dead_units(X) -> DeadUnits:
    """The features of ``X`` that are never positive or never change over its rows."""
    matrix = np.asarray(X)
    if matrix.ndim != 2 or matrix.shape[0] < 2 or not np.issubdtype(matrix.dtype, np.number):
        raise EstimatorInputError(f"dead units need a 2-D numeric array of at least 2 points, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise EstimatorInputError("X contains NaN or inf")
    never = np.flatnonzero(matrix.max(axis=0) <= 0)
    constant = np.flatnonzero(np.all(matrix == matrix[0], axis=0))
    return DeadUnits(tuple(int(i) for i in never), tuple(int(i) for i in constant), int(matrix.shape[1]),
                     int(matrix.shape[0]))


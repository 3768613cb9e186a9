"""Checking and converting the matrices the estimators receive.

Every public estimator calls :func:`as_matrix` first, so bad input fails the same way
everywhere: an :class:`EstimatorInputError` whose message names the problem.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["EstimatorInputError", "as_matrix", "check_int", "check_fraction", "rng_from"]


class EstimatorInputError(ValueError):
    """The input matrix or an option cannot give a meaningful estimate."""


def as_matrix(X, *, min_points: int = 3, name: str = "X", keep_float32: bool = False) -> np.ndarray:
    """Return ``X`` as a C-contiguous float64 (n, d) array, never a view of the caller's data.

    With ``keep_float32`` a float32 input stays float32 (its values are exact either way; the
    copy is half the size). Accepts numpy arrays, anything ``np.asarray`` understands, and torch tensors (moved to the
    CPU and detached). Raises :class:`EstimatorInputError` for a non-2-D or non-numeric input,
    fewer than ``min_points`` rows, NaN or inf entries, or a matrix whose rows are all equal.
    """
    array = _to_numpy(X, name)
    if array.ndim != 2:
        raise EstimatorInputError(f"{name} must be a 2-D array (points x features), got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise EstimatorInputError(f"{name} must hold real numbers, got dtype {array.dtype}")
    n_points, n_features = array.shape
    if n_features < 1:
        raise EstimatorInputError(f"{name} has no features (shape {array.shape})")
    if n_points < min_points:
        raise EstimatorInputError(f"{name} has {n_points} points; this estimate needs at least {min_points}")
    dtype = np.float32 if keep_float32 and array.dtype == np.float32 else np.float64
    matrix = np.array(array, dtype=dtype, order="C", copy=True)
    _check_finite(matrix, name)
    if _is_constant(matrix):
        raise EstimatorInputError(f"{name} is constant: all {n_points} points are identical")
    return matrix


def _is_constant(matrix: np.ndarray) -> bool:
    """All rows equal; two differing leading rows settle it without a pass over the matrix."""
    if len(matrix) > 1 and not np.array_equal(matrix[1], matrix[0]):
        return False
    return bool(np.all(matrix == matrix[0]))


def _to_numpy(X, name: str) -> np.ndarray:
    if hasattr(X, "detach") and hasattr(X, "cpu"):  # a torch tensor, without importing torch
        X = X.detach().cpu()
        if getattr(X, "is_complex", lambda: False)():
            raise EstimatorInputError(f"{name} must hold real numbers, got a complex tensor")
        X = X.double().numpy() if X.dtype.is_floating_point else X.numpy()
    try:
        return np.asarray(X)
    except (TypeError, ValueError) as error:
        raise EstimatorInputError(f"{name} cannot be read as a numeric array: {error}") from None


def _check_finite(matrix: np.ndarray, name: str) -> None:
    if np.isfinite(matrix.sum(axis=0)).all():  # a NaN or inf makes its column's sum non-finite
        return
    bad = ~np.isfinite(matrix)  # the sum may just have overflowed: look element by element
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        kinds = "NaN" if np.isnan(matrix).any() else "inf"
        if np.isnan(matrix).any() and np.isinf(matrix).any():
            kinds = "NaN and inf"
        raise EstimatorInputError(
            f"{name} contains {kinds} in {rows.size} of {matrix.shape[0]} points (first at row {rows[0]})"
        )


def check_int(value, name: str, *, low: int, high: int | None = None) -> int:
    """Validate an integer option within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise EstimatorInputError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise EstimatorInputError(f"{name} must be {bounds}, got {value}")
    return int(value)


def check_fraction(value, name: str, *, low_open: bool = False, high_open: bool = True) -> float:
    """Validate a float option in [0, 1) by default; the bounds' openness is adjustable."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EstimatorInputError(f"{name} must be a number, got {value!r}")
    value = float(value)
    too_low = value <= 0 if low_open else value < 0
    too_high = value >= 1 if high_open else value > 1
    if too_low or too_high or not np.isfinite(value):
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise EstimatorInputError(f"{name} must lie in {left}0, 1{right}, got {value}")
    return value


def rng_from(seed) -> np.random.Generator:
    """A numpy Generator from an int seed, None (fixed default 0) or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(0 if seed is None else seed)

"""Fisher separability intrinsic dimension (Albergante, Bac & Zinovyev 2019).

In high dimension almost every point of a sample can be cut off from all the others by a
linear (Fisher) discriminant. After centring, whitening on the leading principal components
and projecting onto the unit sphere, point x is *alpha-inseparable* from y when
<x, y> >= alpha <x, x>. For points uniform on the sphere S^(n-1) the mean probability of
inseparability at margin alpha is p(alpha, n) = (1 - alpha^2)^((n - 1) / 2) / (alpha sqrt(2 pi n));
inverting it at the observed mean fraction p gives n(alpha) = W(-w / (2 pi p^2 alpha^2
(1 - alpha^2))) / -w, with w = log(1 - alpha^2) and W the Lambert function's principal branch.

Conventions follow scikit-dimension's ``FisherS`` (itself the authors' MATLAB code):
principal components with variance above ``1 / condition_number`` of the largest are kept and
each scaled to unit variance; the fraction for point x counts the other n - 1 points; alphas
where every point is separable from all others give no n(alpha); the reported estimate is
n(alpha) at the alpha closest to 0.9 times the largest alpha that still has one (the largest
n(alpha) on a tie). When no alpha has one, the sample is too small for its dimension
(scikit-dimension returns NaN there, its issue #10): this raises :class:`EstimatorInputError`.
The interval is a percentile bootstrap over points of the per-point fractions, the pairs held
fixed (as the kNN estimators hold their neighbour graph fixed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _bootstrap
from ._input import EstimatorInputError, as_matrix
from .estimates import Estimate, _freeze

__all__ = ["DEFAULT_ALPHAS", "FisherSResult", "fisher_s", "MIN_POINTS"]

DEFAULT_ALPHAS = tuple(float(alpha) for alpha in np.arange(0.6, 1, 0.02))  # scikit-dimension's
MIN_POINTS = 20  # the smallest non-zero fraction is 1 / (n - 1): fewer points see no separability profile
_BLOCK_ROWS = 2048


@dataclass(frozen=True)
class FisherSResult(Estimate):
    """``value`` is n(alpha) at ``alpha``; ``alphas`` and ``dims`` give the whole profile (NaN
    where every point is separable), ``separable_fraction`` the share of points separable from
    all others at each alpha, and ``n_components`` the principal components kept."""

    alpha: float = float("nan")
    alphas: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    dims: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    separable_fraction: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    n_components: int = 0


def fisher_s(
    X,
    *,
    alphas=DEFAULT_ALPHAS,
    condition_number: float = 10.0,
    n_bootstrap: int = _bootstrap.DEFAULT_REPLICATES,
    ci_level: float = _bootstrap.DEFAULT_LEVEL,
    seed=0,
) -> FisherSResult:
    """Fisher separability ID of the rows of X, equal to ``skdim.id.FisherS`` where it is defined.

    Parameters
    ----------
    X : (n, d) array or tensor, n >= :data:`MIN_POINTS`, d >= 2.
    alphas : increasing margins in (0, 1) (scikit-dimension's 0.60, 0.62, ..., 0.98 by default).
    condition_number : principal components with variance above the largest over this are kept.
    n_bootstrap, ci_level : percentile bootstrap over points (0 replicates: no interval).
    seed : seeds the bootstrap.
    """
    alphas = _checked_alphas(alphas)
    if not condition_number > 1:
        raise EstimatorInputError(f"condition_number must exceed 1, got {condition_number}")
    n_bootstrap, ci_level = _bootstrap.check_options(n_bootstrap, ci_level)
    matrix = as_matrix(X, min_points=MIN_POINTS)
    if matrix.shape[1] < 2:
        raise EstimatorInputError("FisherS needs at least 2 features")
    sphere, n_components = _whitened_on_sphere(matrix, condition_number)
    fractions = _inseparable_fractions(sphere, alphas)  # (points, alphas)
    dims = profile(fractions.mean(axis=0), alphas)
    alpha_index = select(dims, alphas)
    if alpha_index is None:
        raise EstimatorInputError(
            f"FisherS: each of the {matrix.shape[0]} points is separable from all others at every alpha "
            f"({alphas[0]:g}..{alphas[-1]:g}); too few points for the dimension (scikit-dimension gives NaN)"
        )
    replicates = _bootstrap.replicate_seeded(
        lambda counts: _replicate_estimates(counts, fractions, alphas), fractions.shape[0], n_bootstrap, seed
    )
    return FisherSResult(
        value=float(dims[alpha_index]),
        method=f"FisherS (Albergante et al. 2019; {n_components} whitened PCs, condition number {condition_number:g})",
        n_used=int(matrix.shape[0]),
        **_bootstrap.interval_fields(replicates, ci_level, "points"),
        alpha=float(alphas[alpha_index]),
        alphas=alphas,
        dims=dims,
        separable_fraction=(fractions == 0).mean(axis=0),
        n_components=n_components,
    )


def _checked_alphas(alphas) -> np.ndarray:
    values = np.asarray(alphas, dtype=np.float64).ravel()
    if values.size == 0 or np.any((values <= 0) | (values >= 1)) or np.any(np.diff(values) <= 0):
        raise EstimatorInputError(f"alphas must increase strictly within (0, 1), got {list(values)}")
    return values


def _whitened_on_sphere(matrix: np.ndarray, condition_number: float) -> tuple[np.ndarray, int]:
    """Centred rows on the principal components whose variance exceeds the largest over
    ``condition_number``, each scaled to unit variance, then each row scaled to unit length."""
    centred = matrix - matrix.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    kept = singular**2 / singular[0] ** 2 > 1.0 / condition_number
    projected = centred @ axes[kept].T
    whitened = projected / projected.std(axis=0, ddof=1)
    norms = np.linalg.norm(whitened, axis=1)
    if np.any(norms == 0):
        raise EstimatorInputError(
            f"{int((norms == 0).sum())} points lie at the centre of the whitened data: no direction on the sphere"
        )
    return whitened / norms[:, None], int(kept.sum())


def _inseparable_fractions(sphere: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """For each point x and alpha: the fraction of the other points y with <x, y> >= alpha <x, x>."""
    n_points = sphere.shape[0]
    lengths = np.einsum("ij,ij->i", sphere, sphere)
    counts = np.empty((n_points, alphas.size))
    for start in range(0, n_points, _BLOCK_ROWS):
        rows = slice(start, min(start + _BLOCK_ROWS, n_points))
        ratios = sphere[rows] @ sphere.T / lengths[rows, None]
        ratios[np.arange(ratios.shape[0]), np.arange(rows.start, rows.stop)] = -np.inf  # not itself
        counts[rows] = _at_or_above(ratios, alphas)
    return counts / (n_points - 1)


def _at_or_above(ratios: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """(rows, alphas) counts of each row's ratios at or above each alpha."""
    n_rows, width = ratios.shape[0], alphas.size + 1
    bins = np.searchsorted(alphas, ratios, side="right")  # how many alphas lie at or below each ratio
    offsets = np.arange(n_rows)[:, None] * width
    per_row = np.bincount((bins + offsets).ravel(), minlength=n_rows * width).reshape(n_rows, width)
    return np.cumsum(per_row[:, :0:-1], axis=1)[:, ::-1]  # column a: ratios with more than a alphas below


def profile(mean_fractions: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """n(alpha) for mean inseparable fractions (..., alphas): the inverse of the uniform
    sphere's p(alpha, n); NaN where the fraction is 0 (every point separable) or n is infinite."""
    squared = alphas**2
    w = np.log(1 - squared)
    with np.errstate(divide="ignore"):
        argument = -w / (2 * np.pi * mean_fractions**2 * squared * (1 - squared))
    from scipy.special import lambertw  # scipy on first use

    dims = np.real(lambertw(argument)) / -w
    return np.where((mean_fractions > 0) & np.isfinite(dims), dims, np.nan)


def select(dims: np.ndarray, alphas: np.ndarray) -> int | None:
    """The index of the alpha whose n(alpha) is the estimate: among alphas with one, the closest
    to 0.9 times the largest such alpha (the largest n(alpha) on a tie); None when none has one."""
    defined = np.flatnonzero(~np.isnan(dims))
    if defined.size == 0:
        return None
    reference = 0.9 * alphas[defined].max()
    distance = np.abs(alphas - reference)
    closest = defined[np.abs(alphas[defined] - reference) == distance.min()]
    if closest.size == 0:  # the closest alpha overall has no n(alpha): take the closest that has
        closest = defined[distance[defined] == distance[defined].min()]
    return int(closest[np.argmax(dims[closest])])


def _replicate_estimates(counts: np.ndarray, fractions: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """The estimate for bootstrap replicates given as (r, points) counts; NaN where undefined."""
    dims = profile(counts @ fractions / fractions.shape[0], alphas)
    chosen = [select(row, alphas) for row in dims]
    return np.array([np.nan if index is None else row[index] for row, index in zip(dims, chosen)])

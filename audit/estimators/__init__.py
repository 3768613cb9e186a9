"""Intrinsic-dimension and rank estimators: pure functions of an (n points x d features) matrix.

Every estimator takes a 2-D float array (numpy, or a torch tensor), keyword-only options, and
returns a frozen result with ``value``, ``method``, ``n_used`` and, where it applies, a
bootstrap interval ``ci_low``/``ci_high`` at level ``ci_level`` (0.95 by default). Bad input
raises :class:`EstimatorInputError` (a ``ValueError``) naming the problem.

kNN-based: :func:`twonn`, :func:`mle`, :func:`local_id`, :func:`gride`; they accept
``neighbors=`` from :func:`nearest_neighbors` so one exact search serves all of them, and
:func:`knn_estimates` does exactly that. Spectral: :func:`pca_id`, :func:`participation_ratio`,
:func:`effective_rank`, :func:`stable_rank`. Convergence: :func:`sample_size_sensitivity`.
"""

from ._input import EstimatorInputError
from .gride import gride
from .knn import Neighbors, nearest_neighbors
from .mle import local_id, mle
from .results import Estimate, GrideResult, LocalIDResult, SensitivityResult, SpectrumEstimate
from .sensitivity import sample_size_sensitivity
from .spectral import effective_rank, participation_ratio, pca_id, stable_rank
from .suite import knn_estimates
from .twonn import twonn

__all__ = [
    "EstimatorInputError",
    "Estimate",
    "GrideResult",
    "LocalIDResult",
    "Neighbors",
    "SensitivityResult",
    "SpectrumEstimate",
    "effective_rank",
    "gride",
    "knn_estimates",
    "local_id",
    "mle",
    "nearest_neighbors",
    "participation_ratio",
    "pca_id",
    "sample_size_sensitivity",
    "stable_rank",
    "twonn",
]

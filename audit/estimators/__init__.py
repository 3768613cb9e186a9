"""Intrinsic-dimension and rank estimators: pure functions of an (n points x d features) matrix.

Every estimator takes a 2-D float array (numpy, or a torch tensor), keyword-only options, and
returns a frozen result with ``value``, ``method``, ``n_used`` and, where it applies, a
bootstrap interval ``ci_low``/``ci_high`` at level ``ci_level`` (0.95 by default). Bad input
raises :class:`EstimatorInputError` (a ``ValueError``) naming the problem.

kNN-based: :func:`twonn`, :func:`mle`, :func:`local_id`, :func:`gride`; they accept
``neighbors=`` from :func:`nearest_neighbors` so one exact search serves all of them, and
:func:`knn_estimates` does exactly that. Spectral: :func:`pca_id`, :func:`participation_ratio`,
:func:`effective_rank`, :func:`stable_rank`. Attention heads: :func:`head_redundancy` (debiased linear CKA
between heads, groups of near-duplicates), :func:`effective_heads`. Class geometry: :func:`nc1` (neural collapse), :func:`dead_units`.
Separability: :func:`fisher_s` (Fisher separability ID). Convergence: :func:`sample_size_sensitivity`.
"""

from ._input import EstimatorInputError
from .attention_heads import HeadRedundancy, debiased_linear_cka, head_redundancy, head_similarity, redundant_groups
from .class_geometry import DeadUnits, dead_units, nc1
from .estimates import Estimate, GrideResult, LocalIDResult, SensitivityResult, SpectrumEstimate
from .fisher import FisherSResult, fisher_s
from .gride import gride
from .head_rank import EffectiveHeads, effective_heads
from .mle import local_id, mle
from .nested_subsets import sample_size_sensitivity
from .spectral import effective_rank, participation_ratio, pca_id, stable_rank
from .suite import knn_estimates
from .twonn import twonn

_LAZY = {"Neighbors", "nearest_neighbors"}  # the exact kNN search: torch and numba, imported on first use


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import knn

    return getattr(knn, name)


__all__ = [
    "DeadUnits",
    "dead_units",
    "nc1",
    "EffectiveHeads",
    "EstimatorInputError",
    "Estimate",
    "FisherSResult",
    "GrideResult",
    "HeadRedundancy",
    "LocalIDResult",
    "Neighbors",
    "SensitivityResult",
    "SpectrumEstimate",
    "debiased_linear_cka",
    "effective_heads",
    "effective_rank",
    "fisher_s",
    "gride",
    "head_redundancy",
    "head_similarity",
    "knn_estimates",
    "local_id",
    "mle",
    "nearest_neighbors",
    "participation_ratio",
    "pca_id",
    "redundant_groups",
    "sample_size_sensitivity",
    "stable_rank",
    "twonn",
]

"""The resized variants, built for real: the output embedding projected by PCA to k dimensions,
and a Linear layer factorized by truncated SVD at rank r.

PCA: ``z = e V_k^T`` with the top-k principal axes ``V_k`` of the probe's embeddings, appended to
the model as one bias-free ``nn.Linear`` (as sentence-transformers' dimensionality-reduction
example does). The axes are fitted on centred embeddings, but the projection keeps the mean's
component along them: cosine and inner-product search compare uncentred vectors, and
subtracting the mean would change every similarity even at full width (for all-MiniLM-L6-v2,
recall@10 against the original search stays near 83% with 99% of the variance kept).
SVD: ``W ~ U_r S_r V_r^T`` (the best rank-r approximation in Frobenius and spectral norm,
Eckart-Young) as two Linear layers, ``in -> r`` (``S_r^1/2 V_r^T``, no bias) then ``r -> out``
(``U_r S_r^1/2`` with the original bias).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from ...estimators.lowrank import LowRankFactors, factorize

__all__ = ["EmbeddingProjector", "Projected", "linear_map", "svd_factorized", "swapped"]


class EmbeddingProjector:
    """PCA fitted once on the probe's embeddings; ``axes(k)`` gives the k-dim projection."""

    def __init__(self, embeddings: np.ndarray, max_width: int, *, seed: int = 0):
        n_components = min(max_width, *embeddings.shape)
        self.pca_ = PCA(n_components=n_components, svd_solver="full", random_state=seed).fit(
            np.asarray(embeddings, dtype=np.float64))

    def transform(self, embeddings: np.ndarray, k: int) -> np.ndarray:
        """What the variant returns for ``embeddings``: their projection on the top-k axes."""
        return np.asarray(embeddings, dtype=np.float64) @ self.pca_.components_[:k].T

    def axes(self, k: int) -> np.ndarray:
        """The top-k principal axes (k x width): the projection the variant applies."""
        return self.pca_.components_[:k]


def linear_map(axes: np.ndarray) -> nn.Linear:
    """A bias-free Linear layer computing ``e @ axes.T``."""
    layer = nn.Linear(axes.shape[1], axes.shape[0], bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(axes, dtype=torch.float32))
    return layer


class Projected(nn.Module):
    """``model`` followed by ``projection`` on its output (the reduced embedding)."""

    def __init__(self, model: nn.Module, projection: nn.Module):
        super().__init__()
        self.model = model
        self.projection = projection
        self.train(model.training)  # a fresh module trains; taking the model's mode keeps eval models in eval

    def forward(self, *args, **kwargs):
        return self.projection(self.model(*args, **kwargs))


def svd_factorized(linear: nn.Linear, rank: int, *, factors: LowRankFactors | None = None) -> nn.Sequential:
    """``linear`` as two Linear layers through ``rank`` dimensions (truncated SVD of its weight):
    the balanced split of :meth:`~audit.estimators.lowrank.LowRankFactors.split`. ``factors``: the
    weight's :func:`~audit.estimators.lowrank.factorize`, to reuse one SVD across ranks."""
    factors = factorize(linear.weight) if factors is None else factors
    second_weight, first_weight = factors.split(rank)
    first = nn.Linear(linear.in_features, first_weight.shape[0], bias=False)
    second = nn.Linear(first_weight.shape[0], linear.out_features, bias=linear.bias is not None)
    with torch.no_grad():
        first.weight.copy_(first_weight)
        second.weight.copy_(second_weight)
        if linear.bias is not None:
            second.bias.copy_(linear.bias.detach())
    return nn.Sequential(first, second)


@contextmanager
def swapped(model: nn.Module, name: str, replacement: nn.Module):
    """``model`` with submodule ``name`` replaced by ``replacement`` inside the block; restored after."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    original = getattr(parent, child)
    setattr(parent, child, replacement)
    try:
        yield model
    finally:
        setattr(parent, child, original)

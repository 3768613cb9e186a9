"""How many dimensions an attention layer's heads use together: the effective rank and the
participation ratio of the concatenated head outputs, against the h * d_head the layer has
(Roy & Vetterli, "The effective rank", EUSIPCO 2007). The heads' similarity to each other is in
:mod:`.attention_heads`."""

from __future__ import annotations

from dataclasses import dataclass

from .attention_heads import _as_heads
from .estimates import SpectrumEstimate
from .spectral import effective_rank, participation_ratio

__all__ = ["EffectiveHeads", "effective_heads"]


@dataclass(frozen=True)
class EffectiveHeads:
    """Effective rank and participation ratio of a layer's concatenated head outputs.

    Both are computed on the centred (n, h * d_head) matrix and compare with ``width`` =
    h * d_head, the rank the layer could use; ``equivalent_heads`` = effective rank / d_head
    reads that rank as a number of full-width heads.
    """

    effective_rank: SpectrumEstimate
    participation_ratio: SpectrumEstimate
    n_heads: int
    d_head: int
    n_points: int
    method: str

    @property
    def width(self) -> int:
        return self.n_heads * self.d_head

    @property
    def rank_fraction(self) -> float:
        return self.effective_rank.value / self.width

    @property
    def equivalent_heads(self) -> float:
        return self.effective_rank.value / self.d_head

    def to_dict(self) -> dict:
        return {
            "effective_rank": self.effective_rank.to_dict(),
            "participation_ratio": self.participation_ratio.to_dict(),
            "n_heads": self.n_heads,
            "d_head": self.d_head,
            "n_points": self.n_points,
            "method": self.method,
            "width": self.width,
            "rank_fraction": self.rank_fraction,
            "equivalent_heads": self.equivalent_heads,
        }


def effective_heads(heads, **options) -> EffectiveHeads:
    """Effective rank and participation ratio of the concatenated head outputs.

    The (n, h, d_head) array is reshaped to (n, h * d_head) and centred; the effective rank is
    Roy & Vetterli's exp(H(p)), p_i = sigma_i / sum sigma of its singular values, and the
    participation ratio (sum lambda)^2 / sum lambda^2 of its covariance eigenvalues. Heads that
    copy (or rotate) each other's subspaces add no rank, so both fall well below h * d_head.

    Parameters
    ----------
    heads : array-like or torch.Tensor of shape (n_points, n_heads, d_head)
    **options
        Passed to :func:`~audit.estimators.effective_rank` and
        :func:`~audit.estimators.participation_ratio`: ``n_groups`` (jackknife groups, 20;
        0 for no interval), ``ci_level``, ``seed``.

    Returns
    -------
    EffectiveHeads
    """
    array = _as_heads(heads)
    n_points, n_heads, d_head = array.shape
    flat = array.reshape(n_points, n_heads * d_head)
    rank = effective_rank(flat, center=True, **options)
    ratio = participation_ratio(flat, center=True, **options)
    method = f"centred concatenation of {n_heads} heads x {d_head} dims: {rank.method}; {ratio.method}"
    return EffectiveHeads(rank, ratio, n_heads, d_head, n_points, method)

"""What the heads stage measured: each attention layer's head redundancy, and the heads ranked
by how much switching each one off costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from ...results import Meta, MetricResult

__all__ = ["HeadLayerResult", "HeadRef", "HeadsResult"]

Positive = Annotated[int, Meta(minimum=1)]
Index = Annotated[int, Meta(minimum=0)]
Similarity = Annotated[float, Meta(minimum=-1, maximum=1)]


@dataclass(frozen=True)
class HeadLayerResult:
    """Head redundancy of one attention layer.

    ``similarity[a][b]`` compares heads a and b (``measure``); ``groups`` are the near-duplicate
    groups at ``threshold``; ``effective_rank`` / ``participation_ratio`` describe the
    concatenated head outputs against ``n_heads * d_head``; ``importance[a]`` is the loss from
    ablating head a (see HeadsResult.importance_measure), None without ablation.
    """

    name: str
    n_heads: Positive
    d_head: Positive
    n_points: Positive
    measure: Literal["cka", "correlation"]
    method: str
    threshold: float
    similarity: Annotated[tuple[tuple[Similarity, ...], ...], Meta(description="n_heads x n_heads, symmetric, unit diagonal")]
    groups: tuple[Annotated[tuple[Index, ...], Meta(minItems=2)], ...]
    constant_heads: tuple[Index, ...]
    effective_rank: MetricResult
    participation_ratio: MetricResult
    importance: Annotated[tuple[float, ...] | None, Meta(description="ablation loss per head")] = None


@dataclass(frozen=True)
class HeadRef:
    """One head of one attention layer, with its ablation importance."""

    layer: str
    head: Index
    importance: float


@dataclass(frozen=True)
class HeadsResult:
    """Every attention layer's head redundancy, and heads ranked by ablation importance.

    ``importance_measure`` says what ablating a head costs: ``"accuracy drop"`` (with labels)
    or ``"1 - mean cosine to the unablated output"`` (fidelity); ``ranking`` lists every head from
    least to most important and ``prune_candidates`` the least important ``prune_fraction``.
    """

    DERIVED: ClassVar[tuple[str, ...]] = ("n_redundant_groups",)

    layers: tuple[HeadLayerResult, ...]
    importance_measure: str | None
    ablation_samples: Index
    ranking: Annotated[tuple[HeadRef, ...], Meta(description="every head, least important first")]
    prune_candidates: tuple[HeadRef, ...]
    prune_fraction: Annotated[float, Meta(minimum=0, maximum=1)]

    @property
    def n_redundant_groups(self) -> Index:
        return sum(len(layer.groups) for layer in self.layers)

"""What the alignment stage measured: each matched layer's CKA and mutual k-NN overlap with the
reference, the layer x layer CKA of the audited model, and Yu et al.'s relation of local ID to
alignment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from ...results import Meta, MetricResult, ModelInfo

__all__ = ["AlignmentResult", "LayerPair", "MatchedLayer", "SelfSimilarity"]

Positive = Annotated[int, Meta(minimum=1)]
Similarity = Annotated[float | None, Meta(minimum=-1, maximum=1)]


@dataclass(frozen=True)
class MatchedLayer:
    """An audited layer (``name``) and the reference layer it is matched with, on the same
    ``n_points`` points: their debiased linear CKA and mutual k-NN overlap, each with its
    interval, and the audited layer's local ID (None when the audit did not compute it)."""

    name: str
    reference: str
    n_points: Positive
    cka: MetricResult
    overlap: MetricResult
    local_id: Annotated[float | None, Meta(description="the audited layer's mean local ID (metric local_id)")] = None


@dataclass(frozen=True)
class LayerPair:
    """Two consecutive audited layers (``previous``, then ``name``) and their CKA; the later one
    is a layer-drop candidate when the CKA's value reaches the threshold."""

    name: str
    previous: str
    cka: MetricResult
    drop_candidate: bool


@dataclass(frozen=True)
class SelfSimilarity:
    """Debiased linear CKA between every pair of audited layers, in audit order; ``cka[a][b]`` is
    None where the two layers do not hold the same points (a pooled layer beside token layers)
    or a layer has no variation."""

    layers: tuple[str, ...]
    cka: Annotated[tuple[tuple[Similarity, ...], ...], Meta(description="layers x layers, symmetric")]
    n_points: Annotated[int, Meta(minimum=0, description="points per layer behind each entry (at most max_points)")]
    method: str
    threshold: Annotated[float, Meta(exclusiveMinimum=0, maximum=1)]
    consecutive: tuple[LayerPair, ...]


@dataclass(frozen=True)
class AlignmentResult:
    """The reference (None when only the audited model's own layers were compared), how it was
    changed (``variant``), the matched layers, the layer x layer CKA, and the rank correlations
    of local ID with each alignment measure over the matched layers (``relations``)."""

    DERIVED: ClassVar[tuple[str, ...]] = ("min_cka", "drop_candidates")

    reference: ModelInfo | None
    variant: str
    k: Annotated[int, Meta(minimum=1, description="neighbours per point of the overlap")]
    max_points: Annotated[int, Meta(minimum=1, description="points per layer, at most")]
    n_groups: Annotated[int, Meta(minimum=0, description="jackknife groups of CKA's intervals")]
    n_bootstrap: Annotated[int, Meta(minimum=0, description="bootstrap replicates of the overlap's intervals")]
    ci_level: Annotated[float, Meta(exclusiveMinimum=0, exclusiveMaximum=1)]
    layers: tuple[MatchedLayer, ...]
    self_similarity: SelfSimilarity | None
    relations: tuple[MetricResult, ...]

    @property
    def min_cka(self) -> Annotated[float | None, Meta(description="the lowest CKA over matched layers")]:
        values = [layer.cka.value for layer in self.layers if layer.cka.value is not None]
        return min(values) if values else None

    @property
    def drop_candidates(self) -> Annotated[tuple[str, ...], Meta(description="layers whose CKA with the layer "
                                                                 "before reaches the threshold")]:
        pairs = self.self_similarity.consecutive if self.self_similarity else ()
        return tuple(pair.name for pair in pairs if pair.drop_candidate)

"""ID of the input token-embedding matrix and the LoRA rank it suggests (:mod:`.embedding_id`);
its report section in :mod:`.view`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import Field

from ...policy.figure import Figure
from ...results import Meta, MetricResult
from .. import ReportSection, Stage, StageParams, register_stage

__all__ = ["TokenEmbeddingResult", "TokenEmbeddingsSpec", "TokenEmbeddingsStage"]

Positive = Annotated[int, Meta(minimum=1)]


class TokenEmbeddingsSpec(StageParams):
    """ID of the input token-embedding matrix (rows = vocabulary entries)."""

    max_rows: int = Field(0, ge=0, description="rows sampled with the seed (0: every row)")


@dataclass(frozen=True)
class TokenEmbeddingResult:
    """ID of the input token-embedding matrix (rows = vocabulary entries).

    ``suggested_lora_rank``: the smallest power of two at or above the upper end of the ID
    interval (``lora_rank_rule`` says so in words).
    """

    DERIVED: ClassVar[tuple[str, ...]] = ("redundancy_rate",)

    module: str
    vocab_size: Positive
    width: Positive
    n_rows: Positive
    id: MetricResult
    suggested_lora_rank: Positive | None
    lora_rank_rule: str

    @property
    def redundancy_rate(self) -> Annotated[float | None, Meta(description="1 - id / width")]:
        return None if self.id.value is None else 1.0 - self.id.value / self.width


@register_stage
class TokenEmbeddingsStage(Stage):
    key = "token_embeddings"
    params = TokenEmbeddingsSpec
    result = TokenEmbeddingResult
    order = 20
    figures = {
        "token_id": Figure("the token-embedding matrix's TwoNN ID", "token_embeddings.id.value"),
        "token_redundancy_rate": Figure("the token embeddings' 1 - ID / width", "token_embeddings.redundancy_rate"),
        "suggested_lora_rank": Figure("the LoRA rank the token embeddings suggest", "token_embeddings.suggested_lora_rank"),
    }
    section = ReportSection("tokens", "Token embeddings", 70, "audit.stages.token_embeddings.view:build",
                            finding="audit.stages.token_embeddings.view:finding")

    def check(self, spec, adapter) -> None:
        self.require_text_probe(spec, adapter)

    def run(self, context) -> TokenEmbeddingResult:
        from .embedding_id import token_embedding_result

        context.progress.stage("ID of the token-embedding matrix")
        return token_embedding_result(context.model.module, context.spec.token_embeddings, context.seed)

"""What the cost stage measured: for each target (the output embedding, a factorized linear
layer) the original and each candidate width, estimated, timed and scored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal, TypedDict

from ...results import Meta

__all__ = ["CostResult", "CostRow", "CostSettings", "CostTarget", "ModelBytes", "Money", "Prices", "Quality", "Timing",
           "WHOLE_MODEL_KINDS"]

# target kinds whose rows are labelled variants of the whole model (``variant``, ``recommended_variant``),
# not widths of one layer
WHOLE_MODEL_KINDS = ("quantized", "drop_layers")

Count = Annotated[int, Meta(minimum=0)]
Positive = Annotated[int, Meta(minimum=1)]
Seconds = Annotated[float, Meta(minimum=0)]
Level = Annotated[float | None, Meta(exclusiveMinimum=0, maximum=1)]


@dataclass(frozen=True)
class Timing:
    """ONNX Runtime latency of one exported model at a fixed batch shape.

    ``p50_s``/``p95_s`` are percentiles of ``repeats`` timed runs after ``warmup`` untimed ones;
    ``throughput`` is samples per second at the median; ``max_abs_diff`` compares the ONNX output
    with torch's on the same batch (the export's own check). A variant's ``reference_p50_s`` is
    the original's p50 timed in turns with it, run by run; ``p50_change`` is taken against it,
    and ``p50_change_low``/``p50_change_high`` is its 95% percentile bootstrap interval over those
    turns (each turn's pair of runs resampled together).
    """

    DERIVED: ClassVar[tuple[str, ...]] = ("p50_change",)

    batch_size: Positive
    sequence_length: Annotated[int | None, Meta(minimum=1)]
    warmup: Count
    repeats: Positive
    threads: Positive
    p50_s: Seconds
    p95_s: Seconds
    throughput: Annotated[float, Meta(minimum=0, description="samples per second at the median latency")]
    onnx_bytes: Count
    max_abs_diff: Annotated[float | None, Meta(minimum=0, description="largest |ONNX Runtime output - torch output| "
                                               "on the timed batch; null for an ONNX model (nothing exported)")]
    reference_p50_s: Annotated[float | None, Meta(minimum=0, description="the original's p50 timed in turns with "
                                                  "this variant (variants only)")] = None
    p50_change_low: Annotated[float | None, Meta(description="95% percentile bootstrap interval of p50_change over "
                                                 "the turns (each turn's pair of runs resampled together); variants only")] = None
    p50_change_high: Annotated[float | None, Meta(description="its upper end")] = None

    @property
    def p50_change(self) -> Annotated[float | None, Meta(description="p50_s / reference_p50_s - 1")]:
        """Relative change of p50 against the original timed in the same runs (variants only)."""
        return None if not self.reference_p50_s else self.p50_s / self.reference_p50_s - 1


@dataclass(frozen=True)
class Quality:
    """Quality a variant keeps. ``retained`` (0..1, higher is better) is the headline: recall@k
    for an embedding, accuracy relative to the original with labels, else the mean cosine of the
    variant's outputs to the original's; ``measure`` says which. ``details`` holds the rest
    (cosine preservation, absolute accuracies). Every figure is measured on the ``n_samples``
    held-out probe samples (not those a PCA was fitted on); ``ci_low``/``ci_high`` is the
    percentile bootstrap interval of ``retained`` over them (None for the original, which keeps
    1 by definition)."""

    measure: str
    retained: Annotated[float, Meta(description="quality kept, 1 = the original's")]
    details: dict[str, float] = field(default_factory=dict)
    ci_low: Annotated[float | None, Meta(description="percentile bootstrap interval of retained over the held-out "
                                         "samples (null for the original embedding: 1 by definition)")] = None
    ci_high: float | None = None
    ci_level: Level = None
    ci_method: str = ""
    n_samples: Annotated[int | None, Meta(minimum=1, description="held-out probe samples the quality is measured on")] = None


@dataclass(frozen=True)
class Money:
    """Money per month from the spec's prices; a part without its price is None."""

    DERIVED: ClassVar[tuple[str, ...]] = ("total_per_month",)

    currency: str
    storage_per_month: float | None
    compute_per_month: float | None

    @property
    def total_per_month(self) -> float | None:
        parts = [part for part in (self.storage_per_month, self.compute_per_month) if part is not None]
        return sum(parts) if parts else None


ModelBytes = TypedDict("ModelBytes", {"float32": Count, "float16": Count, "int8": Count})


@dataclass(frozen=True)
class CostRow:
    """One width of one target: the original (``sources`` = ("original",)) or a candidate.

    ``parameters``/``model_bytes`` are of the whole model with this variant (bytes per dtype:
    float32, float16, int8); ``flops_per_sample`` is counted at the dispatcher on one sample
    (None for a variant whose forward failed: ``timing_error`` says why);
    ``store_bytes`` is the vector store for the spec's N vectors (embeddings, when N is given)
    and ``search_flops_per_query`` a brute-force search of them.
    """

    width: Positive
    sources: tuple[str, ...]
    parameters: Count
    model_bytes: ModelBytes
    flops_per_sample: Annotated[int | None, Meta(minimum=0, description="FLOPs per sample; null for a variant "
                                                 "whose forward failed (timing_error says why)")]
    store_bytes: Count | None = None
    search_flops_per_query: Count | None = None
    timing: Timing | None = None
    timing_error: str = ""
    money: Money | None = None
    quality: Quality | None = None
    variant: Annotated[str | None, Meta(description="the quantization of a whole-model quantized variant "
                                        "(cost.quantize: fp16, int8_dynamic, int8_static), or the blocks a "
                                        "layer-dropping variant drops (cost.drop_layers: 'drop "
                                        "transformer.encoder.layer.3', 'drop transformer.encoder.layer.{3,4}'); "
                                        "null otherwise")] = None
    file_bytes: Annotated[int | None, Meta(minimum=0, description="bytes of the serialized ONNX model on disk "
                                           "(rows of a quantized target); null otherwise")] = None


@dataclass(frozen=True)
class CostTarget:
    """The output embedding (``kind`` "embedding", reduced by PCA), one linear layer (``kind``
    "linear", factorized by truncated SVD), the whole model quantized (``kind`` "quantized", one
    row per ``cost.quantize`` kind, all at the original's width) or a layer stack with blocks
    dropped (``kind`` "drop_layers", named by the stack, one row per ``cost.drop_layers`` variant in
    the order built, the width its blocks kept): its original row, its candidates (smallest first,
    for a resized target), and the recommended width (the smallest keeping ``quality_floor``; for a
    quantized target ``recommended_variant``, the smallest file keeping it; for a drop_layers target
    ``recommended_variant``, the variant dropping the most blocks that keeps it, ties to the fewest
    parameters) with the sentence saying so, a slower-than-original variant said there with its
    figures."""

    name: str
    kind: Literal["embedding", "linear", "quantized", "drop_layers"]
    module_type: str
    width: Positive
    original: CostRow
    candidates: tuple[CostRow, ...]
    recommended: Positive | None
    recommendation: str
    method: str
    recommended_variant: Annotated[str | None, Meta(description="quantized target: the recommended quantization; "
                                                    "drop_layers target: the recommended variant's label (null "
                                                    "otherwise, or when none keeps the floor)")] = None


class Prices(TypedDict):
    storage_per_gb_month: float | None
    compute_per_hour: float | None
    currency: str


@dataclass(frozen=True)
class CostSettings:
    """The spec's cost settings the numbers depend on, and the tools that measured them."""

    stored_vectors: Positive | None
    store_dtype: Literal["float32", "float16", "int8"]
    queries_per_month: Count | None
    prices: Prices
    id_margin: float
    recall_k: Positive
    holdout: float
    n_samples: Annotated[int, Meta(minimum=0, description="held-out samples scored at most (0: all)")]
    measured: bool
    batch_size: Positive
    sequence_length: Positive | None
    warmup: Count
    repeats: Positive
    threads: Positive
    onnxruntime: str | None
    exporter: str
    flop_counter: str


@dataclass(frozen=True)
class CostResult:
    """The cost of resizing. ``status`` is "ok" or "not_computed" (``reason`` says why: a model
    that is not a torch module, nothing to resize). ``settings`` echoes the spec's cost block
    that the numbers depend on (N, prices, batch shape...)."""

    status: Literal["ok", "not_computed"]
    reason: str
    targets: tuple[CostTarget, ...]
    settings: CostSettings
    quality_floor: Annotated[float, Meta(exclusiveMinimum=0, maximum=1)]

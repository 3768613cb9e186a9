"""The ``cost:`` section of the spec."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .._base import StageParams

__all__ = ["CostSpec", "PricesSpec"]


class PricesSpec(StageParams):
    """Prices for money per month; nothing is priced without them (no built-in prices)."""

    storage_per_gb_month: float | None = Field(None, ge=0, description="price of storing 1 GB (10^9 bytes) for a month")
    compute_per_hour: float | None = Field(None, ge=0, description="price of one hour of the machine that encodes queries")
    currency: str = Field("USD", min_length=1, max_length=8, description="currency label shown with the amounts")


def _drop_form(value) -> str:
    return "~auto" if isinstance(value, str) else "~list"


# auto or a list of module names, told apart by the value's type (tags with "~": the spec's error
# lines leave them out, so a bad name reads cost.drop_layers[1])
DropLayers = Annotated[Union[Annotated[Literal["auto"], Tag("~auto")], Annotated[list[str], Tag("~list")]],
                       Discriminator(_drop_form)]


class CostSpec(StageParams):
    """The cost of resizing: candidate widths, their estimated and measured cost, quality retained."""

    stored_vectors: int | None = Field(None, ge=1, description="embeddings kept in the vector store (N)")
    store_dtype: Literal["float32", "float16", "int8"] = Field("float32", description="dtype of the stored vectors")
    queries_per_month: int | None = Field(None, ge=0, description="texts/samples encoded (and searched) per month")
    prices: PricesSpec = Field(default_factory=PricesSpec)
    id_margin: float = Field(0.25, ge=0, le=4, description="safety margin on ID: candidate ceil(ID * (1 + margin))")
    widths: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, description="extra output-embedding widths to cost")
    ranks: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, description="extra ranks for factorized linear layers")
    embedding: Literal["auto", "yes", "no"] = Field(
        "auto", description="cost the output embedding: auto (when the output is not class scores), yes, no")
    factorize: list[str] | None = Field(None, description="globs of audited nn.Linear layers to factorize (default: all of them)")
    quality_floor: float = Field(0.95, gt=0, le=1, description="quality retained a recommended width must reach")
    recall_k: int = Field(10, ge=1, description="neighbours in the retrieval-overlap measure (recall@k)")
    holdout: float = Field(0.5, gt=0, lt=1, description="share of probe samples held out: the PCA is fitted on "
                           "the rest, every variant's quality is scored on these")
    n_samples: int = Field(512, ge=0, description="held-out samples every variant's quality is scored on, at most: a "
                           "seeded subset of the held-out share, the PCA fit unchanged (0: all of them)")
    batch_size: int = Field(8, ge=1, description="ONNX timing: samples per batch")
    sequence_length: int | None = Field(None, ge=2, description="ONNX timing, text models: tokens per sample (default model.max_length)")
    warmup: int = Field(3, ge=0, description="ONNX timing: runs before timing")
    repeats: int = Field(20, ge=1, description="ONNX timing: timed runs")
    threads: int = Field(1, ge=1, description="ONNX Runtime intra-op threads")
    measure: bool = Field(True, description="export to ONNX and time; false: estimates and quality only")
    quantize: list[Literal["fp16", "int8_dynamic", "int8_static"]] = Field(
        default_factory=list, description="whole-model quantized variants of the original's ONNX graph to build, "
        "time and score: fp16, int8_dynamic, int8_static (calibrated on the probe's fit share); empty: none")
    quantize_per_channel: bool = Field(True, description="int8 quantizations: one weight scale per output channel "
                                       "(false: one per tensor, onnxruntime's default)")
    quantize_combined: bool = Field(True, description="with cost.quantize: also quantize each target's recommended "
                                    "variant (the embedding at its recommended width, a Linear layer at its "
                                    "recommended rank) each listed way, one row per pair")
    drop_layers: DropLayers | None = Field(
        None, description="blocks of a layer stack (elements of an nn.ModuleList, by module name) to drop, each "
        "alone and all together; auto: the blocks the reference stage's self-CKA or their removal ranks first; "
        "omitted: none")

    @field_validator("drop_layers", mode="before")
    @classmethod
    def _drop_layers_form(cls, value):
        """``auto``, a list of names or nothing: anything else is one clear line, not a union's two."""
        if value is None or value == "auto" or isinstance(value, list):
            return value
        raise ValueError(f"expected auto or a list of module names (blocks of an nn.ModuleList), not {value!r}")

    @model_validator(mode="after")
    def _drop_layers_once_each(self):
        """A block named twice would be dropped twice over: a mistake worth one line naming it."""
        names = self.drop_layers if isinstance(self.drop_layers, list) else []
        for index, name in enumerate(names):
            if name in names[:index]:
                raise PydanticCustomError("cross_key", "'{name}' is named twice (first at cost.drop_layers[{first}])",
                                          {"key": f"cost.drop_layers[{index}]", "name": name,
                                           "first": names.index(name)})
        return self

    @model_validator(mode="after")
    def _quantize_once_each(self):
        """A quantization listed twice would be built and timed twice: a mistake worth one line."""
        twice = sorted({kind for kind in self.quantize if self.quantize.count(kind) > 1})
        if twice:
            raise PydanticCustomError("cross_key", "{key} lists {kinds} more than once",
                                      {"key": "cost.quantize", "kinds": ", ".join(twice)})
        return self

    @model_validator(mode="after")
    def _prices_have_quantities(self):
        """A price with nothing to price is a mistake worth one line, not a silent blank."""
        needs = (("storage_per_gb_month", "stored_vectors"), ("compute_per_hour", "queries_per_month"))
        for price, quantity in needs:
            if getattr(self.prices, price) is not None and getattr(self, quantity) is None:
                raise PydanticCustomError("cross_key", "{key} needs cost.{quantity}",
                                          {"key": f"cost.prices.{price}", "quantity": quantity})
        if self.prices.compute_per_hour is not None and not self.measure:
            raise PydanticCustomError("cross_key", "{key} needs measured latency (cost.measure: true)",
                                      {"key": "cost.prices.compute_per_hour"})
        return self

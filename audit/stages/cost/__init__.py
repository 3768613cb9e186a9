"""The cost of resizing: candidate widths from ID and rank, their estimated cost (parameters,
bytes, FLOPs, vector store, money), variants built for real and timed through ONNX Runtime, the
quality they keep, and one recommendation per target.

One responsibility per module: :mod:`.candidates` (widths from measurements), :mod:`.estimate`
(parameters, bytes, FLOPs, store), :mod:`.variants` (PCA projection, SVD factorization),
:mod:`.onnx_timing` (export and timing, reusable alone), :mod:`.quality` (retrieval overlap,
cosine preservation), :mod:`.money` (prices from the spec), :mod:`.recommend` (the sentence),
:mod:`.bench` (the original every variant is measured against), :mod:`.stage` (orchestration),
:mod:`.savings_figures` (what policies may name), :mod:`.view` and :mod:`.pareto_view` (the report
section), :mod:`.pareto` (the front of every variant); whole-model variants: :mod:`.quantize_target`
(``cost.quantize``: the whole model and each recommended variant quantized, built by
:mod:`.quantized`) and :mod:`.drop_target` (``cost.drop_layers``, the model without blocks of a
layer stack: :mod:`.layer_stacks`).
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from .. import ReportSection, Stage, register_stage
from .params import CostSpec, PricesSpec
from .result import CostResult, CostRow, CostSettings, CostTarget, Money, Quality, Timing
from .savings_figures import COST_FIGURES

__all__ = ["CostResult", "CostRow", "CostSettings", "CostSpec", "CostStage", "CostTarget", "Money", "PricesSpec",
           "Quality", "Timing"]


@register_stage
class CostStage(Stage):
    key = "cost"
    params = CostSpec
    result = CostResult
    order = 40
    figures = COST_FIGURES
    section = ReportSection("cost", "Cost of resizing", 100, "audit.stages.cost.view:build",
                            finding="audit.stages.cost.view:finding", decision="audit.stages.cost.view:decision")

    def check(self, spec, adapter) -> None:
        if spec.cost is not None and spec.cost.sequence_length is not None and \
                not adapter.reads_text_probe(spec, any_text_model=True):
            raise PydanticCustomError("cross_key", "{key} applies to text models (model kind {kinds}) on text only",
                                      {"key": "cost.sequence_length", "kinds": adapter.text_readers()})
        if spec.cost is not None and spec.cost.drop_layers and not adapter.replaceable_weights:
            raise PydanticCustomError("cross_key", "{key} drops blocks of a torch module's layer stack: model kind "
                                      "{kinds}, not {kind}", {"key": "cost.drop_layers", "kind": adapter.kind,
                                                              "kinds": adapter.kinds_with("replaceable_weights")})

    def prepare(self, context) -> None:
        from .stage import plan_cost

        context.plans[self.key] = plan_cost(context.loaded, context.model, context.layer_names)

    def run(self, context) -> CostResult | None:
        from .stage import cost_result

        return cost_result(context.loaded, context.model, context.probe, context.captured, context.layers,
                           context.plans[self.key], context.use_accuracy, context.progress,
                           alignment=context.results.get("reference"))

"""Attention heads: how similar the heads of each layer are, and how much each one matters when
it is switched off (:mod:`.attention`); its report section in :mod:`.view`."""

from __future__ import annotations

from ...policy.figure import Figure
from .. import CaptureRequest, ReportSection, Stage, register_stage
from .params import HeadsSpec
from .result import HeadLayerResult, HeadRef, HeadsResult

__all__ = ["HeadLayerResult", "HeadRef", "HeadsResult", "HeadsSpec", "HeadsStage"]


@register_stage
class HeadsStage(Stage):
    key = "heads"
    params = HeadsSpec
    result = HeadsResult
    order = 10
    figures = {
        "redundant_head_groups": Figure("near-duplicate head groups over all attention layers", "heads.n_redundant_groups"),
        "head_groups": Figure("each attention layer's near-duplicate head groups", "heads.layers.*.groups"),
        "head_effective_rank": Figure("each attention layer's effective rank of its concatenated heads",
                                      "heads.layers.*.effective_rank.value"),
    }
    section = ReportSection("heads", "Attention heads", 60, "audit.stages.heads.view:build",
                            finding="audit.stages.heads.view:finding")

    def check(self, spec, adapter) -> None:
        self.require_text_probe(spec, adapter)

    def prepare(self, context) -> CaptureRequest:
        from .attention import attention_layers

        attention = attention_layers(context.model.module)
        context.plans[self.key] = attention
        return CaptureRequest(tuple(layer.contexts for layer in attention), "tokens", context.spec.heads.max_points)

    def run(self, context) -> HeadsResult:
        from .attention import head_layer_result, heads_result

        spec, attention = context.spec, context.plans[self.key]
        results = []
        for layer in attention:
            context.progress.stage(f"head similarity on {layer.name}: {layer.n_heads} heads x {layer.d_head}")
            results.append(head_layer_result(layer, context.captured.layers[layer.contexts].matrix, spec.heads, spec.seed))
        return heads_result(context.model, context.probe, attention, results, spec.heads, spec.seed,
                            context.use_accuracy, context.progress)

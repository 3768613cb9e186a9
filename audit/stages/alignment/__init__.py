"""Alignment: the audited model's layers against a reference model's on the same probe points
(debiased linear CKA, Kornblith et al. 2019; mutual k-NN overlap, DADApy's neighbourhood
overlap), the layer x layer CKA of the audited model (consecutive layers that barely change the
representation are layer-drop candidates), and Yu et al. 2025's relation of local ID to alignment.
The maths is :mod:`audit.estimators.alignment`; the reference is read in :mod:`.reference_model`,
measured in :mod:`.measure`, shown by :mod:`.view`."""

from __future__ import annotations

from ...policy.figure import Figure
from .. import ReportSection, Stage, register_stage
from .params import ReferenceSpec
from .result import AlignmentResult, LayerPair, MatchedLayer, SelfSimilarity

__all__ = ["AlignmentResult", "AlignmentStage", "LayerPair", "MatchedLayer", "ReferenceSpec", "SelfSimilarity"]


@register_stage
class AlignmentStage(Stage):
    key = "reference"
    params = ReferenceSpec
    result = AlignmentResult
    order = 35
    figures = {
        "reference_cka": Figure("each matched layer's debiased linear CKA with the reference", "reference.layers.*.cka.value"),
        "reference_min_cka": Figure("the lowest CKA over matched layers", "reference.min_cka"),
        "reference_overlap": Figure("each matched layer's mutual k-NN overlap with the reference",
                                    "reference.layers.*.overlap.value"),
        "layer_drop_candidates": Figure("audited layers whose CKA with the layer before reaches the drop threshold",
                                        "reference.drop_candidates"),
        "id_alignment_correlation": Figure("Spearman correlation of local ID with CKA (local_id_vs_cka) and with "
                                           "overlap (local_id_vs_overlap) over matched layers",
                                           "reference.relations.*.value"),
    }
    section = ReportSection("alignment", "Representation alignment", 85, "audit.stages.alignment.view:build",
                            finding="audit.stages.alignment.view:finding")

    def check(self, spec, adapter) -> None:
        from .checks import check_reference

        check_reference(spec)

    def files(self, loaded) -> list[tuple[tuple, str]]:
        from ...sources.adapters import adapter_for
        from .reference_model import reference_loaded

        if loaded.spec.reference.model is None:
            return []
        ref = reference_loaded(loaded)
        return [(("reference", *loc), path) for loc, path in adapter_for(ref.spec.model.kind).files(ref)]

    def prepare(self, context) -> None:
        from .reference_model import load_reference, matched_layers

        if context.spec.reference.model is None:
            return None
        context.progress.stage(f"loading reference model {context.spec.reference.model.kind}")
        ref, model, variant = load_reference(context.loaded)
        context.plans[self.key] = (model, variant, matched_layers(context.loaded, ref, model, context.layer_names))
        return None

    def run(self, context) -> AlignmentResult:
        from .run import alignment_result

        return alignment_result(context, context.plans.get(self.key))

"""The ``reference:`` section of the spec: a second model to align with, and the layer x layer
CKA of the audited model itself."""

from __future__ import annotations

from pydantic import Field, model_validator

from ...sources.adapters import model_section
from .._base import StageParams

__all__ = ["ReferenceSpec"]


class ReferenceSpec(StageParams):
    """Alignment of the audited model's layers with a reference model's, on the same probe points
    (debiased linear CKA, mutual k-NN overlap), and the CKA of every pair of audited layers."""

    model: model_section() | None = Field(  # type: ignore[valid-type]
        None, description="the reference model, in the form of the spec's `model:` (omitted: self_cka only)")
    reinitialize: bool = Field(False, description="the reference with fresh random weights: every submodule's "
                               "reset_parameters() under the seed (the same architecture, untrained)")
    rank: int | None = Field(None, ge=1, description="every factorizable layer of the reference (Linear, Conv) "
                             "replaced by its rank-r truncated SVD")
    layers: dict[str, str] = Field(default_factory=dict, description="audited layer -> reference layer; "
                                   "default: every audited layer the reference has by the same name")
    k: int = Field(10, ge=1, description="neighbours per point of the mutual k-NN overlap")
    max_points: int = Field(2000, ge=10, description="points per layer (the first of the captured ones, the same "
                            "for both models)")
    n_groups: int = Field(20, ge=0, description="groups of samples of CKA's delete-a-group jackknife interval (0: none)")
    n_bootstrap: int = Field(200, ge=0, description="bootstrap replicates of the overlap's interval (0: none)")
    ci_level: float = Field(0.95, gt=0, lt=1, description="confidence level of every interval")
    self_cka: bool = Field(True, description="the layer x layer CKA of the audited layers, and layer-drop candidates")
    drop_threshold: float = Field(0.95, gt=0, le=1, description="CKA between consecutive audited layers at or "
                                  "above which the later one is a layer-drop candidate")

    @model_validator(mode="after")
    def _something_to_do(self):
        if self.model is None and not self.self_cka:
            raise ValueError("nothing to measure: name a reference `model` or keep `self_cka: true`")
        if self.model is None and (self.reinitialize or self.rank is not None or self.layers):
            raise ValueError("reinitialize, rank and layers apply to a reference `model`, and none is named")
        return self

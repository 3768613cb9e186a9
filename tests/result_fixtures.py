"""Small result objects that several test files build by hand."""

from __future__ import annotations

import dataclasses

from audit.stages.cost import CostSettings

_COST_SETTINGS = CostSettings(
    stored_vectors=None, store_dtype="float32", queries_per_month=None,
    prices={"storage_per_gb_month": None, "compute_per_hour": None, "currency": "USD"}, id_margin=0.25, recall_k=10,
    holdout=0.5, n_samples=512, measured=True, batch_size=8, sequence_length=None, warmup=3, repeats=20, threads=1,
    onnxruntime="1.0", exporter="torch.onnx.export", flop_counter="FlopCounterMode")


def cost_settings(**overrides) -> CostSettings:
    """The cost stage's settings at the spec's defaults, with ``overrides``."""
    return dataclasses.replace(_COST_SETTINGS, **overrides)

"""What ``model-audit layers`` lists: every layer a spec may select, with its type, its output
shape and width on one probe batch, its parameters, and whether the default selection takes it.

The batch runs through the same taps and the same reductions as an audit (the spec's ``capture``
section), so the width shown is the width the audit would measure; a layer that produces no
tensor on the batch (a module never called) has no shape.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LayerListing", "LayerRow", "list_layers"]

LISTING_BATCH = 8  # samples in the one batch the shapes are read on


@dataclass(frozen=True)
class LayerRow:
    name: str
    type: str
    shape: tuple[int, ...] | None  # the output tensor's shape on the batch, batch first
    width: int | None  # features per point after the capture reduction
    reduction: str
    parameters: int | None  # weights the layer holds (its submodules included); None where unknown
    default: bool  # taken when layers.include is not given


@dataclass(frozen=True)
class LayerListing:
    spec: str
    kind: str
    module_type: str
    n_parameters: int
    batch_size: int
    rows: tuple[LayerRow, ...]


def list_layers(loaded) -> LayerListing:
    """The layers of the model ``loaded`` names, read on the probe's first :data:`LISTING_BATCH` samples."""
    from .batches import batches
    from .capture import CaptureSettings, capture
    from .sources import load_model, load_probe

    spec = loaded.spec
    model = load_model(loaded)
    available, defaults = model.adapter.layers(loaded, model)
    probe = load_probe(loaded)
    batch = next(batches(probe.features[:LISTING_BATCH], LISTING_BATCH, dtype=model.input_dtype,
                         tokenizer=model.tokenizer, max_length=model.max_length))
    taps = model.taps()
    with taps.open(available) as run:
        shapes = {name: tuple(tensor.shape) for name, tensor in run(batch).items() if tensor is not None}
    settings = CaptureSettings(max_points=10**9, conv=spec.capture.conv, sequence=spec.capture.sequence or model.sequence,
                               overrides=tuple(spec.capture.overrides.items()), seed=spec.seed)
    produced = [name for name in available if name in shapes]
    captured = capture(taps, iter([batch]), produced, settings, None, 1)
    rows = tuple(_row(name, taps, shapes, captured.layers.get(name), model, name in defaults) for name in available)
    return LayerListing(str(loaded.path), spec.model.kind, model.info.module_type, model.info.n_parameters,
                        batch.size, rows)


def _row(name, taps, shapes, layer, model, default: bool) -> LayerRow:
    seen = layer is not None and layer.n_seen > 0
    return LayerRow(name=name, type=taps.type_name(name), shape=shapes.get(name),
                    width=int(layer.matrix.shape[1]) if seen else None, reduction=layer.reduction if seen else "",
                    parameters=model.adapter.parameter_count(model, name), default=default)

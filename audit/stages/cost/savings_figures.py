"""The policy figures of the cost stage: one value per cost target, read from its recommended row
against its original; one value per quantization of the quantized target (``cost.quantize``),
labelled by its kind (``fp16``, ``int8_dynamic``, ``int8_static``); and one value per variant of a
layer-dropping target (``cost.drop_layers``), labelled by its variant (``drop transformer.encoder.layer.3``)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ...policy.figure import Figure
from ...policy.paths import at as _at
from ...policy.paths import walk
from .result import WHOLE_MODEL_KINDS

__all__ = ["COST_FIGURES"]


def _recommended_row(target) -> dict | None:
    """A cost target's recommended candidate row; None when no candidate kept the quality floor."""
    width = _at(target, "recommended")
    return next((row for row in _at(target, "candidates") or () if row.get("width") == width), None) \
        if width is not None else None


def _of_recommended(path: str) -> Callable[[object], object]:
    """Reads ``path`` of a cost target's recommended row (None without a recommendation)."""
    def read(target):
        row = _recommended_row(target)
        return None if row is None else _at(row, path)
    return read


def _saved(path: str, *, share: bool) -> Callable[[object], float | None]:
    """Reads what the recommended row saves on ``path`` against the original: the amount
    (original - recommended) or its ``share`` of the original (1 - recommended / original)."""
    def read(target):
        row = _recommended_row(target)
        new, old = (None, None) if row is None else (_at(row, path), _at(target, f"original.{path}"))
        if new is None or old is None or (share and old == 0):
            return None
        return 1 - new / old if share else old - new
    return read


@dataclass(frozen=True)
class _Resized(Figure):
    """A figure of each resized cost target (an embedding or a linear layer): the quantized and the
    layer-dropping targets, whose rows are labelled variants, have figures of their own (:class:`_PerVariant`)."""

    def values(self, document: dict, *, layers: tuple[str, ...] = ("*",),
               role: str = "any") -> Iterator[tuple[str, object]]:
        for target, item in walk(document, self.path, layers=layers, role=role):
            if not (isinstance(item, dict) and item.get("kind") in WHOLE_MODEL_KINDS):
                yield target, item if self.read is None else self.read(item)


@dataclass(frozen=True)
class _PerVariant(Figure):
    """A figure of each row of every cost target of ``kind`` (quantized, drop_layers), labelled by
    its variant: ``of_row`` reads a value from ``(row, original row)``. A ``layers`` glob selects a
    variant by its label (``int8_dynamic``, ``drop transformer.encoder.layer.*``) or by its
    target's name (``model``, ``transformer.encoder.layer``)."""

    kind: str = ""
    of_row: Callable[[dict, dict], object] | None = None

    def values(self, document: dict, *, layers: tuple[str, ...] = ("*",),
               role: str = "any") -> Iterator[tuple[str, object]]:
        for name, target in walk(document, "cost.targets.*"):
            if isinstance(target, dict) and target.get("kind") == self.kind:
                for row in target.get("candidates") or ():
                    label = str(row.get("variant"))
                    if any(fnmatch.fnmatchcase(label, glob) or fnmatch.fnmatchcase(name, glob) for glob in layers):
                        yield label, self.of_row(row, target.get("original") or {})


def _row_change(path: str) -> Callable[[dict, dict], float | None]:
    """A row's ``path`` against the original's: row / original - 1 (None when either is missing)."""
    def read(row, original):
        new, old = _at(row, path), _at(original, path)
        return None if new is None or not old else new / old - 1
    return read


def _per_variant(prefix: str, kind: str, each: str, size: str, size_path: str) -> dict[str, Figure]:
    """The four figures of each variant of a ``kind`` target: quality kept, its interval's lower end,
    the paired latency change and the change of ``size`` (read at ``size_path``)."""
    path = "cost.targets.*.candidates.*"
    return {
        f"{prefix}_quality": _PerVariant(f"{each}: quality kept on the held-out samples (1 = the original's)", path,
                                         kind=kind, of_row=lambda row, _: _at(row, "quality.retained")),
        f"{prefix}_quality_low": _PerVariant(f"{each}: lower end of the bootstrap interval of its quality kept", path,
                                             kind=kind, of_row=lambda row, _: _at(row, "quality.ci_low")),
        f"{prefix}_latency_change": _PerVariant(f"{each}: ONNX p50 latency / the original's in the same turns - 1 "
                                                "(above 0: slower)", path, kind=kind,
                                                of_row=lambda row, _: _at(row, "timing.p50_change")),
        f"{prefix}_bytes_change": _PerVariant(f"{each}: {size} / the original's - 1", path, kind=kind,
                                              of_row=_row_change(size_path)),
    }


QUANTIZED_FIGURES: dict[str, Figure] = _per_variant(
    "quantized", "quantized", "each cost.quantize variant (labelled by its kind)", "ONNX file bytes", "file_bytes")
DROPPED_FIGURES: dict[str, Figure] = _per_variant(
    "dropped", "drop_layers", "each cost.drop_layers variant (labelled 'drop <blocks>')", "float32 model bytes",
    "model_bytes.float32")

COST_FIGURES: dict[str, Figure] = {
    "resize_recommended": _Resized("each cost target: 1 when a candidate width keeps the quality floor, else 0",
                                   "cost.targets.*", read=lambda target: _at(target, "recommended") is not None),
    "recommended_width": _Resized("each cost target's recommended width (rank, for a Linear layer)",
                                  "cost.targets.*", read=lambda target: _at(target, "recommended")),
    "quality_retained": _Resized("each cost target's recommended variant: quality kept (1 = the original's)",
                                 "cost.targets.*", read=_of_recommended("quality.retained")),
    "quality_retained_low": _Resized("each cost target's recommended variant: lower end of the bootstrap interval of "
                                     "its quality kept over the held-out samples", "cost.targets.*",
                                     read=_of_recommended("quality.ci_low")),
    "model_bytes_reduction": _Resized("each cost target's recommended variant: share of the model's bytes saved",
                                      "cost.targets.*", read=_saved("model_bytes.float32", share=True)),
    "flops_reduction": _Resized("each cost target's recommended variant: share of FLOPs per sample saved",
                                "cost.targets.*", read=_saved("flops_per_sample", share=True)),
    "store_bytes_reduction": _Resized("each cost target's recommended variant: share of vector-store bytes saved",
                                      "cost.targets.*", read=_saved("store_bytes", share=True)),
    "latency_change": _Resized("each cost target's recommended variant: ONNX p50 latency / the original's - 1",
                               "cost.targets.*", read=_of_recommended("timing.p50_change")),
    "money_saved_per_month": _Resized("each cost target's recommended variant: money per month saved",
                                      "cost.targets.*", read=_saved("money.total_per_month", share=False)),
    **QUANTIZED_FIGURES,
    **DROPPED_FIGURES,
}

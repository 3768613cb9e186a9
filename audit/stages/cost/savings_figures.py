"""The policy figures of the cost stage: one value per cost target, read from its recommended row
against its original; and one value per quantization of the quantized target (``cost.quantize``),
labelled by its kind (``fp16``, ``int8_dynamic``, ``int8_static``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ...policy.figure import Figure
from ...policy.paths import at as _at
from ...policy.paths import walk

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
    """A figure of each resized cost target (an embedding or a linear layer): the quantized target,
    all of whose rows keep the original's width, has figures of its own (:class:`_PerQuantization`)."""

    def values(self, document: dict, *, layers: tuple[str, ...] = ("*",),
               role: str = "any") -> Iterator[tuple[str, object]]:
        for target, item in walk(document, self.path, layers=layers, role=role):
            if not (isinstance(item, dict) and item.get("kind") == "quantized"):
                yield target, item if self.read is None else self.read(item)


@dataclass(frozen=True)
class _PerQuantization(Figure):
    """A figure of each row of the quantized target, labelled by its quantization: ``of_row`` reads
    a value from ``(row, original row)``."""

    of_row: Callable[[dict, dict], object] | None = None

    def values(self, document: dict, *, layers: tuple[str, ...] = ("*",),
               role: str = "any") -> Iterator[tuple[str, object]]:
        for _, target in walk(document, "cost.targets.*", layers=layers, role=role):
            if isinstance(target, dict) and target.get("kind") == "quantized":
                for row in target.get("candidates") or ():
                    yield str(row.get("variant")), self.of_row(row, target.get("original") or {})


def _row_change(path: str) -> Callable[[dict, dict], float | None]:
    """A row's ``path`` against the original's: row / original - 1 (None when either is missing)."""
    def read(row, original):
        new, old = _at(row, path), _at(original, path)
        return None if new is None or not old else new / old - 1
    return read


_QUANTIZED = "cost.targets.*.candidates.*"

QUANTIZED_FIGURES: dict[str, Figure] = {
    "quantized_quality": _PerQuantization("each cost.quantize variant (labelled by its kind): quality kept on the "
                                          "held-out samples (1 = the original's)", _QUANTIZED,
                                          of_row=lambda row, _: _at(row, "quality.retained")),
    "quantized_quality_low": _PerQuantization("each cost.quantize variant: lower end of the bootstrap interval of "
                                              "its quality kept", _QUANTIZED,
                                              of_row=lambda row, _: _at(row, "quality.ci_low")),
    "quantized_latency_change": _PerQuantization("each cost.quantize variant: ONNX p50 latency / the original's in "
                                                 "the same turns - 1 (above 0: slower)", _QUANTIZED,
                                                 of_row=lambda row, _: _at(row, "timing.p50_change")),
    "quantized_bytes_change": _PerQuantization("each cost.quantize variant: ONNX file bytes / the original's - 1",
                                               _QUANTIZED, of_row=_row_change("file_bytes")),
}

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
}

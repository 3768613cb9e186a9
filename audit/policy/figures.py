"""What a rule can name: the audit's metrics, derived figures, and any value in audit.json.

A figure is found by a *path* into the audit.json document: dot-separated keys, ``*`` for every
item of a list or every value of a mapping. Items of a list that carry a ``name`` (layers, head
layers) are labelled by it, so a glob selects them; others by their index or key. A path ending
at a list yields its length (``warnings`` is the number of warnings). A derived figure may also
``read`` a value out of each item its path reaches (the savings of a cost target's recommended
row, the compression of a sweep group at a level). Everything here reads the document only: the
same rules run on a fresh audit and on an audit.json read back (``compare``).
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..metrics import registry

__all__ = ["DERIVED", "Figure", "known_names", "metric_path", "top_level_keys", "walk", "as_number"]


@dataclass(frozen=True)
class Figure:
    """A derived figure: where it lives in audit.json (``path``, and what to ``read`` from each item
    the path reaches) or how it is counted over the whole document (``count``)."""

    description: str
    path: str = ""
    count: Callable[[dict], float] | None = None
    read: Callable[[object], object] | None = None

    def values(self, document: dict, *, layers: tuple[str, ...] = ("*",),
               role: str = "any") -> Iterator[tuple[str, object]]:
        """``(target, value)`` of this figure in ``document``, as :func:`walk` labels them."""
        if self.count is not None:
            yield "model", self.count(document)
            return
        for target, item in walk(document, self.path, layers=layers, role=role):
            yield target, item if self.read is None else self.read(item)


def _failed_metrics(document: dict) -> float:
    return float(sum(metric.get("status") == "failed"
                     for layer in document.get("layers") or () for metric in (layer.get("metrics") or {}).values()))


def _at(node, path: str):
    """The value at a star-free ``path`` under ``node``; None when a key is absent."""
    return next(walk(node, path))[1]


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


def _compression_at(level: float) -> Callable[[object], float | None]:
    """Reads a sweep group's compression at the smallest rank keeping ``level`` of the teacher's score."""
    def read(group):
        point = next((entry.get("point") for entry in _at(group, "levels") or ()
                      if math.isclose(entry.get("level", -1), level)), None)
        return None if point is None else point.get("compression")
    return read


DERIVED: dict[str, Figure] = {
    "id": Figure("each layer's intrinsic dimension (the primary ID metric)", "layers.*.id"),
    "redundancy_rate": Figure("each layer's 1 - ID / width", "layers.*.redundancy_rate"),
    "width": Figure("each layer's number of features", "layers.*.width"),
    "accuracy": Figure("the model's accuracy on the probe labels", "accuracy.accuracy"),
    "accuracy_per_id": Figure("accuracy over the last hidden layer's ID", "accuracy.accuracy_per_id"),
    "parameters": Figure("the model's number of parameters", "model.n_parameters"),
    "redundant_head_groups": Figure("near-duplicate head groups over all attention layers",
                                    "heads.n_redundant_groups"),
    "head_groups": Figure("each attention layer's near-duplicate head groups", "heads.layers.*.groups"),
    "head_effective_rank": Figure("each attention layer's effective rank of its concatenated heads",
                                  "heads.layers.*.effective_rank.value"),
    "token_id": Figure("the token-embedding matrix's TwoNN ID", "token_embeddings.id.value"),
    "token_redundancy_rate": Figure("the token embeddings' 1 - ID / width", "token_embeddings.redundancy_rate"),
    "suggested_lora_rank": Figure("the LoRA rank the token embeddings suggest",
                                  "token_embeddings.suggested_lora_rank"),
    "warnings": Figure("the number of warnings of the audit", "warnings"),
    "failed_metrics": Figure("metrics that could not be computed, over all layers", count=_failed_metrics),
    # cost stage: one value per cost target (the output embedding, factorized Linear layers)
    "resize_recommended": Figure("each cost target: 1 when a candidate width keeps the quality floor, else 0",
                                 "cost.targets.*.recommended", read=lambda width: width is not None),
    "recommended_width": Figure("each cost target's recommended width (rank, for a Linear layer)",
                                "cost.targets.*.recommended"),
    "quality_retained": Figure("each cost target's recommended variant: quality kept (1 = the original's)",
                               "cost.targets.*", read=_of_recommended("quality.retained")),
    "quality_retained_low": Figure("each cost target's recommended variant: lower end of the bootstrap interval of "
                                   "its quality kept over the held-out samples", "cost.targets.*",
                                   read=_of_recommended("quality.ci_low")),
    "model_bytes_reduction": Figure("each cost target's recommended variant: share of the model's bytes saved",
                                    "cost.targets.*", read=_saved("model_bytes.float32", share=True)),
    "flops_reduction": Figure("each cost target's recommended variant: share of FLOPs per sample saved",
                              "cost.targets.*", read=_saved("flops_per_sample", share=True)),
    "store_bytes_reduction": Figure("each cost target's recommended variant: share of vector-store bytes saved",
                                    "cost.targets.*", read=_saved("store_bytes", share=True)),
    "latency_change": Figure("each cost target's recommended variant: ONNX p50 latency / the original's - 1",
                             "cost.targets.*", read=_of_recommended("timing.p50_change")),
    "money_saved_per_month": Figure("each cost target's recommended variant: money per month saved",
                                    "cost.targets.*", read=_saved("money.total_per_month", share=False)),
    # factorization sweep: one value per sweep group
    "compression_at_95": Figure("each sweep group: full parameters / parameters at the rank keeping 95% of "
                                "the teacher's score", "sweep.groups.*", read=_compression_at(0.95)),
    "knee_compression": Figure("each sweep group: full parameters / parameters at the knee",
                               "sweep.groups.*.knee.compression"),
    "knee_retained": Figure("each sweep group: share of the teacher's score kept at the knee",
                            "sweep.groups.*.knee.retained"),
}


def known_names() -> list[str]:
    """Every name a rule's ``metric`` may take: registered metrics, then derived figures."""
    return [*registry(), *DERIVED]


def metric_path(name: str, field: str) -> str:
    """The path of a registered metric's ``field`` (value, ci_low, ci_high) on every layer."""
    return f"layers.*.metrics.{name}.{field}"


@lru_cache(maxsize=1)
def top_level_keys() -> tuple[str, ...]:
    """The keys of audit.json, from the shipped schema (a path must start with one of them)."""
    text = resources.files("audit").joinpath("schema/audit.schema.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["properties"])


def walk(document, path: str, *, layers: tuple[str, ...] = ("*",), role: str = "any") -> Iterator[tuple[str, object]]:
    """``(target, value)`` for every value ``path`` reaches in ``document``.

    ``layers`` globs select named items (layers, head layers) and ``role`` keeps hidden or
    output layers only; the target is the labels of the expanded items joined by ``/``
    (``model`` when the path expands nothing). A key absent along the path yields None.
    """
    yield from _walk(document, path.split("."), (), layers, role)


def _walk(node, parts, labels, layers, role):
    if not parts:
        yield "/".join(labels) or "model", node
        return
    head, rest = parts[0], parts[1:]
    if head != "*":
        child = node.get(head) if isinstance(node, dict) else _index(node, head)
        yield from _walk(child, rest, labels, layers, role)
        return
    for label, item in _items(node):
        if isinstance(item, dict) and "name" in item and not _selected(item, layers, role):
            continue
        yield from _walk(item, rest, (*labels, label), layers, role)


def _index(node, key: str):
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    return None


def _items(node) -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [(str(key), value) for key, value in node.items()]
    if isinstance(node, list):
        return [(str(item["name"]) if isinstance(item, dict) and "name" in item else str(index), item)
                for index, item in enumerate(node)]
    return []


def _selected(item: dict, layers: tuple[str, ...], role: str) -> bool:
    if not any(fnmatch.fnmatchcase(str(item["name"]), pattern) for pattern in layers):
        return False
    if role == "any" or "is_output" not in item:
        return True
    if role == "output":
        return bool(item["is_output"])
    return not item["is_output"] and not item.get("task_fixed")  # hidden: a width the task fixes is not the designer's


def as_number(value) -> float | None:
    """A value from audit.json as a number: numbers and booleans as they are, a list as its
    length, None as None; anything else (text, a mapping) raises TypeError."""
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, list):
        return float(len(value))
    raise TypeError(f"not a number: a {type(value).__name__} ({json.dumps(value)[:60]})")

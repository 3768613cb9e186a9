"""Paths into the audit.json document: dot-separated keys, ``*`` for every item of a list or
every value of a mapping. Items of a list that carry a ``name`` (layers, head layers) are
labelled by it, so a glob selects them; others by their index or key. A path ending at a list
yields its length (``warnings`` is the number of warnings)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator

__all__ = ["as_number", "at", "walk"]


def at(node, path: str):
    """The value at a star-free ``path`` under ``node``; None when a key is absent."""
    return next(walk(node, path))[1]


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

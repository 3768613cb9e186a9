"""A derived figure a policy rule may name: where it lives in audit.json, or how it is counted.
Stages declare theirs (``Stage.figures``); :mod:`.figures` gathers them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .paths import walk

__all__ = ["Figure"]


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
        """``(target, value)`` of this figure in ``document``, as :func:`~.paths.walk` labels them."""
        if self.count is not None:
            yield "model", self.count(document)
            return
        for target, item in walk(document, self.path, layers=layers, role=role):
            yield target, item if self.read is None else self.read(item)

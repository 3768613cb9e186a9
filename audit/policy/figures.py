"""What a rule can name: the audit's metrics, derived figures, and any value in audit.json.

A figure is found by a *path* into the audit.json document (:mod:`.paths`). A derived figure
(:class:`~.figure.Figure`) may also ``read`` a value out of each item its path reaches (the
savings of a cost target's recommended row, the compression of a sweep group at a level). The
figures of the layers and the model are declared here; each stage declares its own
(``Stage.figures``, :mod:`audit.stages`). Everything here reads the document only: the same
rules run on a fresh audit and on an audit.json read back (``compare``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from ..metrics import registry
from .figure import Figure
from .paths import as_number, walk

__all__ = ["CORE_FIGURES", "Figure", "as_number", "derived_figures", "known_names", "metric_path", "top_level_keys",
           "walk"]


def _failed_metrics(document: dict) -> float:
    return float(sum(metric.get("status") == "failed"
                     for layer in document.get("layers") or () for metric in (layer.get("metrics") or {}).values()))


CORE_FIGURES: dict[str, Figure] = {
    "id": Figure("each layer's intrinsic dimension (the primary ID metric)", "layers.*.id"),
    "redundancy_rate": Figure("each layer's 1 - ID / width", "layers.*.redundancy_rate"),
    "width": Figure("each layer's number of features", "layers.*.width"),
    "parameters": Figure("the model's number of parameters", "model.n_parameters"),
    "warnings": Figure("the number of warnings of the audit", "warnings"),
    "failed_metrics": Figure("metrics that could not be computed, over all layers", count=_failed_metrics),
}


@lru_cache(maxsize=1)
def derived_figures() -> dict[str, Figure]:
    """Every derived figure by name: the layers' and the model's, then each stage's in run order."""
    from ..stages import stages

    found = dict(CORE_FIGURES)
    for stage in stages():
        for name, figure in stage.figures.items():
            if name in found:
                raise RuntimeError(f"stage {stage.key!r} declares figure {name!r}, which is already declared")
            found[name] = figure
    return found


def known_names() -> list[str]:
    """Every name a rule's ``metric`` may take: registered metrics, then derived figures."""
    return [*registry(), *derived_figures()]


def metric_path(name: str, field: str) -> str:
    """The path of a registered metric's ``field`` (value, ci_low, ci_high) on every layer."""
    return f"layers.*.metrics.{name}.{field}"


@lru_cache(maxsize=1)
def top_level_keys() -> tuple[str, ...]:
    """The keys of audit.json, from the shipped schema (a path must start with one of them)."""
    text = resources.files("audit").joinpath("schema/audit.schema.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["properties"])

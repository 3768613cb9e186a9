"""Two audits side by side: per-layer and model-level deltas between a base and a new
audit.json, read as documents (the same figures policies name, :mod:`audit.policy.figures`).

Pure: documents in, a :class:`Comparison` out; rendering is :mod:`audit.render.compare_report`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .policy.figures import as_number, derived_figures, metric_path, walk
from .results import Verdict

__all__ = ["Delta", "Comparison", "compare", "LAYER_FIGURES", "MODEL_FIGURES", "STAGE_TABLES"]

LAYER_FIGURES = ("id", "redundancy_rate", "width")
MODEL_FIGURES = ("accuracy", "accuracy_per_id", "parameters", "redundant_head_groups", "token_id",
                 "token_redundancy_rate", "reference_min_cka", "layer_drop_candidates", "warnings", "failed_metrics")
# Stage figures with one value per layer (or per variant), shown side by side where either audit carries them:
# (title, figures); a table with no value in either audit is left out.
STAGE_TABLES = (
    ("Alignment with each audit's reference", ("reference_cka", "reference_overlap")),
    ("Checkpoint trajectories: change from the first step to the last", ("checkpoint_id_change", "checkpoint_rank_change")),
    ("Whole-model variants (cost.quantize, cost.drop_layers): quality kept and latency change",
     ("quantized_quality", "quantized_latency_change", "dropped_quality", "dropped_latency_change")),
)


@dataclass(frozen=True)
class Delta:
    """One figure in both audits: ``target`` is a layer name or ``model``; None where absent."""

    target: str
    figure: str
    base: float | None
    new: float | None

    @property
    def change(self) -> float | None:
        return None if self.base is None or self.new is None else self.new - self.base

    @property
    def relative(self) -> float | None:
        change = self.change
        if change is None or self.base == 0 or not math.isfinite(self.base):
            return None
        return change / abs(self.base)

    def to_dict(self) -> dict:
        return {"target": self.target, "figure": self.figure, "base": self.base, "new": self.new,
                "change": self.change, "relative": self.relative}


@dataclass(frozen=True)
class Comparison:
    base_title: str
    new_title: str
    base_path: str
    new_path: str
    layers: tuple[Delta, ...]
    model: tuple[Delta, ...]
    verdict: Verdict | None = None
    stage_tables: tuple[tuple[str, tuple[Delta, ...]], ...] = ()  # (title, deltas) of STAGE_TABLES either audit has


def compare(base: dict, new: dict, *, base_path: str = "", new_path: str = "",
            verdict: Verdict | None = None) -> Comparison:
    """The deltas from ``base`` to ``new`` (audit.json documents), with the policies' verdict."""
    return Comparison(base_title=str(base.get("title", "")), new_title=str(new.get("title", "")),
                      base_path=base_path, new_path=new_path, layers=tuple(_layer_deltas(base, new)),
                      model=tuple(_model_deltas(base, new)), verdict=verdict,
                      stage_tables=tuple((title, deltas) for title, figures in STAGE_TABLES
                                         if (deltas := tuple(_per_layer_deltas(base, new, figures)))))


def _layer_deltas(base: dict, new: dict) -> list[Delta]:
    names = list(dict.fromkeys(_layer_names(new) + _layer_names(base)))
    metrics = [name for name in new.get("metric_names") or () if name in (base.get("metric_names") or ())]
    paths = [(figure, derived_figures()[figure].path) for figure in LAYER_FIGURES] + \
            [(name, metric_path(name, "value")) for name in metrics]
    old_values = {figure: _by_target(base, path) for figure, path in paths}
    new_values = {figure: _by_target(new, path) for figure, path in paths}
    return [Delta(name, figure, old_values[figure].get(name), new_values[figure].get(name))
            for name in names for figure, _ in paths]


def _per_layer_deltas(base: dict, new: dict, names: tuple[str, ...]) -> list[Delta]:
    """The stage figures ``names`` (one value per layer or variant) of each target either audit
    has one of them for; a figure neither audit has for a target is left out of its rows."""
    figures = derived_figures()
    old_values = {name: dict(figures[name].values(base)) for name in names}
    new_values = {name: dict(figures[name].values(new)) for name in names}
    targets = list(dict.fromkeys(target for name in names for target in [*new_values[name], *old_values[name]]))
    return [Delta(target, figure, _number(old_values[figure].get(target)), _number(new_values[figure].get(target)))
            for target in targets if target != "model" for figure in names
            if target in old_values[figure] or target in new_values[figure]]


def _model_deltas(base: dict, new: dict) -> list[Delta]:
    return [Delta("model", figure, _model_value(base, figure), _model_value(new, figure)) for figure in MODEL_FIGURES]


def _layer_names(document: dict) -> list[str]:
    return [str(layer.get("name")) for layer in document.get("layers") or ()]


def _by_target(document: dict, path: str) -> dict[str, float | None]:
    return {target: _number(value) for target, value in walk(document, path)}


def _model_value(document: dict, figure: str) -> float | None:
    found = derived_figures()[figure]
    if found.count is not None:
        return found.count(document)
    return next((_number(value) for _, value in walk(document, found.path)), None)


def _number(value) -> float | None:
    try:
        return as_number(value)
    except TypeError:
        return None

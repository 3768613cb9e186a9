"""Section 4's local-ID table: the quantiles of the per-point local ID on each layer."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...results import MetricResult
from .._numbers import finite
from .context import ReportContext, ok_metric
from .format import NONE, breakable, fmt_dim

__all__ = ["QuantileRow", "local_id_rows"]

_QUANTILES = (("q05", "5%"), ("q25", "25%"), ("q50", "median"), ("q75", "75%"), ("q95", "95%"))


@dataclass(frozen=True)
class QuantileRow:
    name: Markup
    values: tuple[str, ...]


def local_id_rows(ctx: ReportContext) -> tuple[tuple[str, ...], tuple[QuantileRow, ...]]:
    """The table's column headings and its rows, one per layer where local ID succeeded."""
    rows = tuple(QuantileRow(name=breakable(layer.name), values=_values(metric)) for layer in ctx.result.layers
                 if (metric := ok_metric(layer, "local_id")))
    columns = ("mean",) + tuple(label for _, label in _QUANTILES) if rows else ()
    return columns, rows


def _values(metric: MetricResult) -> tuple[str, ...]:
    quantiles = dict(metric.details.get("quantiles") or {})
    if "q50" not in quantiles and finite(metric.details.get("median")):
        quantiles["q50"] = metric.details["median"]
    return (fmt_dim(metric.value),) + tuple(
        fmt_dim(quantiles[key]) if finite(quantiles.get(key)) else NONE for key, _ in _QUANTILES)

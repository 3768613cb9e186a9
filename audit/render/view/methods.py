"""Section 4's methods table: how each metric was computed, its interval, the points it used."""

from __future__ import annotations

from dataclasses import dataclass

from .context import ReportContext
from .format import NONE, fmt_int, fmt_level, plural

__all__ = ["MethodRow", "method_rows"]


@dataclass(frozen=True)
class MethodRow:
    title: str
    description: str
    method: str
    interval: str
    n_used: str
    status: str


def method_rows(ctx: ReportContext) -> tuple[MethodRow, ...]:
    return tuple(_method_row(ctx, name) for name in ctx.infos)


def _method_row(ctx: ReportContext, name: str) -> MethodRow:
    info, ok = ctx.infos[name], ctx.ok_metrics(name)
    failures, layers = len(ctx.result.layers) - len(ok), len(ctx.result.layers)
    return MethodRow(
        title=info.title,
        description=info.description,
        method=" / ".join(dict.fromkeys(metric.method for metric in ok)) or NONE,
        interval=_interval_text(ok),
        n_used=_n_used_text(ctx.n_used(name)),
        status=f"not computed on {failures} of {plural(layers, 'layer')}" if failures else "",
    )


def _interval_text(ok: list) -> str:
    """The intervals' levels and methods ("95% bootstrap"), "no interval" when none has one."""
    intervals = dict.fromkeys((metric.ci_level, metric.ci_method) for metric in ok if metric.ci_method)
    if intervals:
        return "; ".join(f"{fmt_level(level)} {method}".strip() for level, method in intervals)
    return "no interval" if ok else ""


def _n_used_text(n_values: set[int]) -> str:
    if len(n_values) == 1:
        return fmt_int(next(iter(n_values)))
    return "per layer" if n_values else ""

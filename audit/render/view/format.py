"""How every number and name in the report is written: rounding, units, intervals, dates.

Each ``fmt_*`` function takes a value (None where there is none) and returns the text the
reader sees; a missing value is an em dash, never "nan" or "None".
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterable

from markupsafe import Markup

from ...results import MetricResult
from .._numbers import finite

__all__ = [
    "NONE",
    "DASH",
    "breakable",
    "fmt_bounds",
    "fmt_bytes",
    "fmt_common_level",
    "fmt_created",
    "fmt_dim",
    "fmt_flops",
    "fmt_int",
    "fmt_latency",
    "fmt_money",
    "fmt_interval",
    "fmt_level",
    "fmt_number",
    "fmt_pct",
    "fmt_range",
    "fmt_seconds",
    "fmt_value",
    "formatter",
    "plural",
]

DASH = "\u2013"
NONE = "\u2014"

Formatter = Callable[[float | None], str]


def _infinity(value: float) -> str:
    return "\u221e" if value > 0 else "\u2212\u221e"


def fmt_dim(value: float | None) -> str:
    """A dimension: one decimal; whole counts (PCA components) without one."""
    if value is None:
        return NONE
    if not math.isfinite(value):
        return _infinity(value)
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value):,}"
    return f"{value:,.1f}"


def fmt_int(value: int | None) -> str:
    return NONE if value is None else f"{int(value):,}"


def fmt_pct(value: float | None, decimals: int | None = None) -> str:
    """A fraction as a percentage: whole percent, one decimal below 10% (or ``decimals``)."""
    if value is None or not math.isfinite(value):
        return NONE
    if decimals is None:
        decimals = 1 if abs(value) < 0.1 else 0
    return f"{value * 100:.{decimals}f}%"


def fmt_number(value: float | None) -> str:
    """A number of no particular kind: three significant digits."""
    if value is None:
        return NONE
    if not math.isfinite(value):
        return _infinity(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.3g}" if abs(value) >= 1 else f"{value:.3g}"


def fmt_interval(low: float | None, high: float | None, fmt: Formatter = fmt_dim) -> str:
    """An interval in a table cell: ``[7.8, 8.7]``; "" when it has neither end."""
    if low is None and high is None:
        return ""
    return f"[{fmt(low)}, {fmt(high)}]"


def fmt_bounds(low: float | None, high: float | None, fmt: Formatter = fmt_dim) -> str:
    """:func:`fmt_interval` of an interval with two finite ends; "" otherwise."""
    return fmt_interval(low, high, fmt) if finite(low) and finite(high) else ""


def fmt_range(low: float | None, high: float | None, fmt: Formatter = fmt_dim) -> str:
    """An interval in prose: ``7.8–8.7``."""
    return f"{fmt(low)}{DASH}{fmt(high)}"


def fmt_level(level: float | None) -> str:
    """A confidence level: ``95%``; "" when none."""
    return "" if level is None else f"{level * 100:g}%"


def fmt_common_level(metrics: Iterable[MetricResult | None]) -> str:
    """"95%" when every interval shown has that level; the levels joined otherwise."""
    levels = sorted({metric.ci_level for metric in metrics if metric is not None and metric.ok
                     and metric.ci_level is not None})
    return " / ".join(fmt_level(level) for level in levels)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return NONE
    if seconds < 1:
        return f"{seconds * 1000:,.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def fmt_latency(seconds: float | None) -> str:
    """A latency with three significant digits in the unit that suits it: 34.5 µs, 1.23 ms, 152 ms."""
    if seconds is None or not math.isfinite(seconds):
        return NONE
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("\u00b5s", 1e-6)):
        if seconds >= scale or unit == "\u00b5s":
            return f"{_three_digits(seconds / scale)} {unit}"
    return NONE


def fmt_flops(flops: int | None) -> str:
    """A FLOP count with an SI prefix: 37.5 kFLOP, 1.36 GFLOP."""
    if flops is None:
        return NONE
    value = float(flops)
    for prefix in ("", "k", "M", "G", "T"):
        if abs(value) < 1000 or prefix == "T":
            return f"{_three_digits(value)} {prefix}FLOP"
        value /= 1000
    return NONE


def fmt_money(amount: float | None, currency: str) -> str:
    """An amount: two decimals from 1 up, three significant digits below (0.00412)."""
    if amount is None or not math.isfinite(amount):
        return NONE
    text = f"{amount:,.2f}" if abs(amount) >= 1 or amount == 0 else f"{amount:.3g}"
    return f"{text} {currency}"


def _three_digits(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def fmt_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value):,} B" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size:,} B"


def fmt_value(metric: MetricResult) -> str:
    """A metric's value in its unit: dimensions to one decimal, fractions as percentages."""
    return formatter(metric.unit)(metric.value)


def formatter(unit: str) -> Formatter:
    """The formatter of values in ``unit``."""
    if unit == "dimensions":
        return fmt_dim
    if unit == "fraction":
        return fmt_pct
    return fmt_number


def fmt_created(created: str) -> str:
    """An ISO timestamp as "5 March 2025, 14:02 UTC"; the text as it is when it is not one."""
    try:
        moment = datetime.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return created or NONE
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
        return moment.strftime("%d %B %Y, %H:%M UTC").lstrip("0")
    return moment.strftime("%d %B %Y, %H:%M").lstrip("0")


def breakable(name: str) -> Markup:
    """``name`` escaped, with line-break opportunities (``<wbr>``) after its dots, underscores and
    slashes and inside CamelCase, so long layer and op names (``GlobalAveragePool``) wrap in
    narrow table cells without breaking mid-word."""
    return Markup("<wbr>").join(re.split(r"(?<=[._/])(?=.)|(?<=[a-z])(?=[A-Z])", name))


def plural(count: int, word: str) -> str:
    """``3 layers``, ``1 layer``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")

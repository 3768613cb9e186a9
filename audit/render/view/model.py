"""The top of the model the templates read: the report, its sections, and a labelled fact.

Each section's own data (``SummaryView``, ``MetricsView``...) is defined next to its builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

__all__ = ["KEEP_ROWS", "Fact", "PageDecision", "ReportView", "Section"]

# tables of at most this many rows are kept on one page
KEEP_ROWS = 14


@dataclass(frozen=True)
class Fact:
    label: str
    value: str | Markup
    detail: str = ""
    mono: bool = False


@dataclass(frozen=True)
class PageDecision:
    """What page 1 leads with when a stage measured a decision: its ``steps`` and where they were measured."""

    steps: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Section:
    key: str  # the anchor
    number: int
    title: str
    data: Any
    template: str  # templates/_<key>.html.j2, or <stage key>/<file> in a stage's package


@dataclass(frozen=True)
class ReportView:
    title: str
    subtitle: str
    created: str
    facts: tuple[Fact, ...]
    verdict: Any  # verdict.VerdictBanner, None when no policy ran
    sections: tuple[Section, ...]
    footer: str

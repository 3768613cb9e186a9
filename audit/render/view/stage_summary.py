"""What the stages add to the executive summary: a decision page 1 leads with, and one finding
each (declared by each stage's :class:`~audit.stages.ReportSection`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

from markupsafe import Markup

from ...stages import stages
from .context import ReportContext
from .model import PageDecision

__all__ = ["page_decision", "resolve", "stage_findings"]


def resolve(reference: str) -> Callable:
    """The function a lazy ``"module:function"`` reference names."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def page_decision(ctx: ReportContext) -> tuple[str, PageDecision] | None:
    """(stage key, decision) of the first stage, in run order, with a decision for page 1 to lead with."""
    for stage in stages():
        if stage.section is not None and stage.section.decision:
            found = resolve(stage.section.decision)(ctx)
            if found is not None:
                return stage.key, found
    return None


def stage_findings(ctx: ReportContext) -> Iterator[Markup]:
    """Each stage's sentence for the summary, in run order; none from the stage whose decision leads page 1."""
    decided = page_decision(ctx)
    for stage in stages():
        section = stage.section
        if section is None or not section.finding or (decided and decided[0] == stage.key):
            continue
        sentence = resolve(section.finding)(ctx)
        if sentence:
            yield sentence

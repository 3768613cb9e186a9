"""The report's sections in order: the core ones declared here, each stage's from its
:class:`~audit.stages.ReportSection` (its place, title, builder, template)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ...stages import stages
from . import environment, geometry, metrics, profile, sensitivity, spectra, summary, verdict
from .context import ReportContext
from .stage_summary import resolve

__all__ = ["SectionPart", "section_parts"]


@dataclass(frozen=True)
class SectionPart:
    """One section of the report: its anchor, title, builder and template."""

    key: str
    title: str
    position: int
    build: Callable[[ReportContext], Any]
    template: str


_CORE = (
    SectionPart("summary", "Executive summary", 10, summary.build, "_summary.html.j2"),
    SectionPart("profile", "Intrinsic dimension across layers", 20, profile.build, "_profile.html.j2"),
    SectionPart("spectra", "PCA spectra", 30, spectra.build, "_spectra.html.j2"),
    SectionPart("metrics", "Every metric, layer by layer", 40, metrics.build, "_metrics.html.j2"),
    SectionPart("sensitivity", "Sample-size sensitivity", 50, sensitivity.build, "_sensitivity.html.j2"),
    SectionPart("geometry", "Linear probes and class geometry", 80, geometry.build, "_geometry.html.j2"),
    SectionPart("verdict", "Policy verdict", 110, verdict.build, "_verdict.html.j2"),
    SectionPart("environment", "Environment and provenance", 120, environment.build, "_environment.html.j2"),
)


@lru_cache(maxsize=1)
def section_parts() -> tuple[SectionPart, ...]:
    """Every section in report order (every section is always shown, so numbers are fixed)."""
    parts = list(_CORE)
    for stage in stages():
        section = stage.section
        if section is not None:
            parts.append(SectionPart(section.key, section.title, section.position, resolve(section.build),
                                     f"{stage.key}/{section.template}"))
    return tuple(sorted(parts, key=lambda part: part.position))

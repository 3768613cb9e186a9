"""The report's presentation model: an :class:`~audit.results.AuditResult` turned into what
the HTML/PDF templates show.

Everything the reader sees is decided here: the order of sections and rows, the rounding of
every number (:mod:`.format`), the sentences of the executive summary, figure numbers and
captions (:mod:`.figures`), and the figures themselves (SVG text from :mod:`audit.render.plots`).
The templates only place these values; they never compute. Metric titles, kinds and
descriptions come from ``AuditResult.metric_info`` (:mod:`.metric_info`), so the report is
rendered from the result alone.

Rich sentences are :class:`markupsafe.Markup` built with ``Markup(...).format(...)``, which
escapes every argument: layer names and other text from the model or the spec always arrive
escaped, whether they go through a sentence here or straight through Jinja's autoescape.

Sections are a list of :class:`Section` (title, template partial, data), one module each
(:mod:`.sections`): the core ones here with their partials ``templates/_<key>.html.j2``, and each
stage's from its declaration (:class:`audit.stages.ReportSection`: a builder and a partial in
the stage's package); numbering and the table of contents follow. Every section is always
shown (one with nothing to show says "not computed" and why: a model without attention heads
still has its "Attention heads" section, saying the spec asked for none), so section numbers are
fixed and the text can refer to them (``ReportContext.section_number``).
"""

from __future__ import annotations

from ...results import AuditResult
from . import verdict
from .context import ReportContext
from .figure_book import FigureView
from .format import breakable, fmt_created, fmt_dim, fmt_int, fmt_interval, fmt_pct
from .header import header_facts
from .model import Fact, ReportView, Section
from .sections import section_parts

__all__ = [
    "ReportView",
    "Section",
    "FigureView",
    "Fact",
    "build",
    "fmt_dim",
    "fmt_int",
    "fmt_pct",
    "fmt_interval",
    "breakable",
    "section_titles",
]


def section_titles() -> tuple[str, ...]:
    """The sections' titles in report order: section n is ``section_titles()[n - 1]``."""
    return tuple(part.title for part in section_parts())


def build(result: AuditResult) -> ReportView:
    """The presentation model of ``result``."""
    parts = section_parts()
    context = ReportContext(result, [part.key for part in parts])
    sections = tuple(Section(key=part.key, number=number, title=part.title, data=part.build(context),
                             template=part.template) for number, part in enumerate(parts, 1))
    return ReportView(
        title=result.title,
        subtitle="Efficiency audit: intrinsic dimension and rank of each layer's activations",
        created=fmt_created(result.created),
        facts=header_facts(context),
        verdict=verdict.banner(context),
        sections=sections,
        footer=f"model-audit {result.environment.model_audit}",
    )

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

Sections are a list of :class:`Section` (title, template partial, data), one module each. A new
report section (head redundancy, cost, policy verdicts) is a module with a ``build(context)``
appended to ``_SECTIONS`` and a partial ``templates/_<key>.html.j2``; numbering and the table of
contents follow. Every section is always shown (one with nothing to show says "not computed"
and why: a model without attention heads still has its "Attention heads" section, saying the
spec asked for none), so section numbers are fixed and the text can refer to them
(``ReportContext.section_number``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...results import AuditResult
from . import cost, environment, geometry, heads, metrics, profile, sensitivity, spectra, summary, sweep, tokens, verdict
from .context import ReportContext
from .figures import FigureView
from .format import breakable, fmt_created, fmt_dim, fmt_int, fmt_interval, fmt_pct
from .header import header_facts
from .model import Fact, ReportView, Section

__all__ = [
    "SECTION_TITLES",
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
]

_SECTIONS: tuple[tuple[str, str, Callable[[ReportContext], Any]], ...] = (
    ("summary", "Executive summary", summary.build),
    ("profile", "Intrinsic dimension across layers", profile.build),
    ("spectra", "PCA spectra", spectra.build),
    ("metrics", "Every metric, layer by layer", metrics.build),
    ("sensitivity", "Sample-size sensitivity", sensitivity.build),
    ("heads", "Attention heads", heads.build),
    ("tokens", "Token embeddings", tokens.build),
    ("geometry", "Linear probes and class geometry", geometry.build),
    ("sweep", "Low-rank factorization sweep", sweep.build),
    ("cost", "Cost of resizing", cost.build),
    ("verdict", "Policy verdict", verdict.build),
    ("environment", "Environment and provenance", environment.build),
)


SECTION_TITLES = tuple(title for _, title, _ in _SECTIONS)  # in report order: section n is SECTION_TITLES[n - 1]


def build(result: AuditResult) -> ReportView:
    """The presentation model of ``result``."""
    context = ReportContext(result, [key for key, _, _ in _SECTIONS])
    sections = tuple(Section(key=key, number=number, title=title, data=make(context))
                     for number, (key, title, make) in enumerate(_SECTIONS, 1))
    return ReportView(
        title=result.title,
        subtitle="Efficiency audit: intrinsic dimension and rank of each layer's activations",
        created=fmt_created(result.created),
        facts=header_facts(context),
        verdict=verdict.banner(context),
        sections=sections,
        footer=f"model-audit {result.environment.model_audit}",
    )

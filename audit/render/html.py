"""report.html: the audit as one self-contained HTML document.

:func:`render` builds the presentation model (:mod:`audit.render.view`) and fills the Jinja2
templates shipped as the package ``audit.templates``. Autoescaping is on for every template:
layer names come from untrusted models. The page carries its CSS and its SVG figures inline and
refers to nothing outside itself (no fonts, scripts, images or links to fetch).
"""

from __future__ import annotations

import functools

import jinja2

from . import view

__all__ = ["render", "environment"]


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates (autoescape on, undefined names are errors)."""
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader("audit.templates", "."), _stage_templates()]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _stage_templates() -> jinja2.BaseLoader:
    """Each stage's partials, named ``<stage key>/<file>``, from the stage's own package."""
    from ..stages import stages

    return jinja2.PrefixLoader({stage.key: jinja2.PackageLoader(type(stage).__module__, ".") for stage in stages()
                                if stage.section is not None})


def render(result) -> str:
    """The HTML report of an :class:`~audit.results.AuditResult`."""
    return environment().get_template("report.html.j2").render(view=view.build(result))

"""Cross-key rules of ``reference:``: the reference's kind reads the spec's probe (its own
kind's rules, reported at ``reference.model...``), and changing its weights needs a kind whose
weights can be replaced."""

from __future__ import annotations

from pydantic_core import PydanticCustomError

from ...sources.adapters import adapter_for

__all__ = ["check_reference"]


def check_reference(spec) -> None:
    section = spec.reference
    if section is None or section.model is None:
        return
    adapter = adapter_for(section.model.kind)
    try:
        adapter.check(spec.model_copy(update={"model": section.model}))
    except PydanticCustomError as error:
        if error.type != "cross_key":
            raise
        context = {**(error.context or {}), "key": f"reference.{error.context['key']}"}
        raise PydanticCustomError("cross_key", error.message_template, context) from None
    for key, asked in (("reinitialize", section.reinitialize), ("rank", section.rank is not None)):
        if asked and not adapter.replaceable_weights:
            raise PydanticCustomError("cross_key", "{key} needs a reference of kind {kinds}",
                                      {"key": f"reference.{key}", "kinds": adapter.kinds_with("replaceable_weights")})

"""The audit's stages, one package each, registered by key (the way metrics and model kinds are).

A stage (a :class:`Stage` subclass under :func:`register_stage`, in a package of its own here)
declares its spec section, the type of its result, the policy figures it offers and its report
section; the spec, the runner, audit.json and its schema, the policies and the report read the
registry. Adding a stage means adding one package: :func:`discover` imports each.
"""

from __future__ import annotations

from ..plugins import import_plugins
from ._base import CaptureRequest, ReportSection, Stage, StageContext, StageParams

__all__ = ["CaptureRequest", "ReportSection", "Stage", "StageContext", "StageParams", "discover", "register_stage",
           "stage_keys", "stages"]

_REGISTRY: dict[str, Stage] = {}


def register_stage(cls: type[Stage]) -> type[Stage]:
    """Class decorator registering a stage under its ``key``."""
    if cls.key in _REGISTRY:
        raise RuntimeError(f"stage {cls.key!r} registered twice")
    _REGISTRY[cls.key] = cls()
    return cls


def discover() -> None:
    """Import every stage package here so their decorators run."""
    import_plugins(__package__)


def stages() -> list[Stage]:
    """Every registered stage in the order they run (``order``)."""
    discover()
    return sorted(_REGISTRY.values(), key=lambda stage: (stage.order, stage.key))


def stage_keys() -> tuple[str, ...]:
    """The keys of every stage, in run order (and audit.json's order)."""
    return tuple(stage.key for stage in stages())

"""The metric registry: metric modules register themselves by decorator; the spec and the
runner find them by name.

A metric is one function ``compute(layer: LayerData, params) -> MetricResult`` plus a pydantic
params model (``extra="forbid"``, so the spec validates its options) and metadata the report
reads (title, unit, what kind of number it is). Adding a metric means adding one module to
``audit/metrics/``: :func:`discover` imports every module of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel

from ..plugins import import_plugins

__all__ = ["MetricDef", "register", "registry", "discover"]

_REGISTRY: dict[str, "MetricDef"] = {}


@dataclass(frozen=True)
class MetricDef:
    """What the registry knows of a metric.

    ``kind`` groups metrics in the report: ``"id"`` (intrinsic dimension estimates, comparable
    to the layer width), ``"rank"`` (spectral summaries) or ``"diagnostic"``. ``neighbors``
    says how many nearest neighbours the metric reads for given params (0: none), so one
    search per layer serves every kNN metric. ``default``: runs when the spec names no metrics.
    """

    name: str
    title: str
    params: type[BaseModel]
    compute: Callable
    kind: str
    description: str
    default: bool = True
    neighbors: Callable[[BaseModel], int] = lambda params: 0


def register(name: str, *, title: str, params: type[BaseModel], kind: str, description: str,
             default: bool = True, neighbors: Callable[[BaseModel], int] | None = None):
    """Decorator registering ``compute`` under ``name``."""

    def decorate(compute):
        if name in _REGISTRY:
            raise RuntimeError(f"metric {name!r} registered twice")
        _REGISTRY[name] = MetricDef(
            name=name, title=title, params=params, compute=compute, kind=kind, description=description,
            default=default, neighbors=neighbors or (lambda p: 0),
        )
        return compute

    return decorate


def discover() -> None:
    """Import every metric module in this package so their decorators run."""
    import_plugins(__package__)


def registry() -> dict[str, MetricDef]:
    """Every registered metric by name, in registration (module name) order."""
    discover()
    return dict(_REGISTRY)

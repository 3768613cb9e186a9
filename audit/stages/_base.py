"""The stage contract: what a stage declares (its spec section, result type, policy figures,
report section) and the context every stage's ``run`` reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["CaptureRequest", "ReportSection", "Stage", "StageContext", "StageParams"]


class StageParams(BaseModel):
    """Base of a stage's spec section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class CaptureRequest:
    """Layers a stage needs captured beside the audited ones (the attention contexts heads read),
    with the reduction and the point cap of each. A name is a module (its output is captured) or
    :func:`audit.layers.input_tap` of one (what the module is called with: the per-head contexts
    entering an output projection)."""

    layers: tuple[str, ...] = ()
    reduction: str = "tokens"
    max_points: int | None = None


@dataclass(frozen=True)
class ReportSection:
    """A stage's section of the HTML/PDF report: ``key`` is its anchor, ``position`` its place
    among the report's sections (the core ones are 10, 20, ... 120: see
    :mod:`audit.render.view`), ``build`` a lazy ``"module:function"`` turning a
    :class:`~audit.render.view.context.ReportContext` into the data the template shows,
    ``template`` the partial's file name in the stage's package; ``finding`` and ``decision``
    name what the stage adds to the executive summary."""

    key: str
    title: str
    position: int
    build: str
    template: str = "section.html.j2"
    finding: str = ""  # "module:function": the stage's sentence on page 1 (Markup or None)
    decision: str = ""  # "module:function": what page 1 leads with (a PageDecision or None)


@dataclass
class StageContext:
    """What a stage reads: the spec, the loaded model and probe, the captured layers, the layer
    results, and what earlier stages planned (``plans``, from ``prepare``) and found (``results``)."""

    loaded: Any
    model: Any
    progress: Any
    layer_names: list[str]
    probe: Any = None
    captured: Any = None
    layers: tuple = ()
    use_accuracy: bool = False
    plans: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self):
        return self.loaded.spec

    @property
    def seed(self) -> int:
        return self.loaded.spec.seed


class Stage:
    """One stage of the audit, registered with :func:`audit.stages.register_stage`.

    ``key`` names its spec section and its audit.json key; ``params`` is the section's model (None:
    the stage always runs and has no section); ``result`` the type its ``run`` returns; ``order``
    its place in the run (stages run after the metrics, lowest first); ``figures`` the derived
    figures policies may name (:class:`audit.policy.figures.Figure` by name); ``section`` its
    report section. Stage packages import torch and the like inside ``run`` only: the spec and the
    policies read every stage's declaration.
    """

    key: ClassVar[str]
    params: ClassVar[type[BaseModel] | None] = None
    result: ClassVar[type]
    order: ClassVar[int] = 100
    figures: ClassVar[dict[str, Any]] = {}
    section: ClassVar[ReportSection | None] = None
    description: ClassVar[str] = ""

    def enabled(self, spec) -> bool:
        """Whether the stage runs for ``spec``: when its section is present (always, without one)."""
        return self.params is None or getattr(spec, self.key) is not None

    def check(self, spec, adapter) -> None:
        """Cross-key rules of the stage's section against the rest of ``spec`` and the model's
        ``adapter``; each broken rule a ``cross_key`` PydanticCustomError naming its key."""

    def files(self, loaded) -> list[tuple[tuple, str]]:
        """``(spec key path, relative path)`` of the files the stage's section names (a reference
        model's), checked to exist with the model's before anything loads."""
        return []

    def require_text_probe(self, spec, adapter) -> None:
        """The rule of a stage that reads a text model's modules (heads, token embeddings): its
        section needs a kind that reads text, on a text probe."""
        from pydantic_core import PydanticCustomError

        if getattr(spec, self.key) is not None and not adapter.reads_text_probe(spec):
            raise PydanticCustomError("cross_key", "{key} needs model kind {kinds} on a text probe",
                                      {"key": self.key, "kinds": adapter.kinds_with("reads_text")})

    def prepare(self, context: StageContext) -> CaptureRequest | None:
        """Before the probe runs: check what needs the loaded model (a pattern naming no layer is
        a spec error), keep a plan in ``context.plans[key]``, ask for extra layers to capture."""
        return None

    def run(self, context: StageContext):
        """The stage's result (an instance of ``result``), or None when there is nothing to report."""
        raise NotImplementedError

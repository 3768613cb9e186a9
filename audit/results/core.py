"""The whole audit: what was audited (model, probe, environment), each layer, each stage's result
and the verdict. ``AuditResult.to_dict()`` is the audit.json layout (:mod:`.layout`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, ClassVar

from .layer import LayerResult
from .layout import Meta, as_json
from .outcomes import Verdict

__all__ = ["SCHEMA_VERSION", "AuditResult", "EnvironmentInfo", "FileDigest", "ModelInfo", "ProbeInfo"]

SCHEMA_VERSION = "1.5"

Count = Annotated[int, Meta(minimum=0)]


@dataclass(frozen=True)
class FileDigest:
    """A file the model was read from, with its sha256 and size."""

    path: str
    sha256: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
    bytes: Count


@dataclass(frozen=True)
class ModelInfo:
    """The audited model: where it came from (``kind`` is the spec's ``model.kind``), its files and size."""

    source: str
    kind: str
    files: tuple[FileDigest, ...]
    n_parameters: Count
    module_type: str


@dataclass(frozen=True)
class ProbeInfo:
    """The probe the model ran on, after sampling."""

    source: str
    n_samples: Annotated[int, Meta(minimum=1)]
    n_features: Annotated[int | None, Meta(minimum=1)]
    has_labels: bool
    n_classes: Annotated[int | None, Meta(minimum=1)]
    seed: int


@dataclass(frozen=True)
class EnvironmentInfo:
    """Where the audit ran: versions, threads and devices."""

    model_audit: str
    python: str
    platform: str
    packages: dict[str, str]
    torch_threads: int
    device: str


@dataclass(frozen=True)
class AuditResult:
    """The whole audit.

    ``metric_info`` maps each metric name to its ``title``, ``kind`` (id, rank, diagnostic) and
    ``description``, so a report can be rendered from the data alone. ``stages`` holds each
    registered stage's result by its key (:mod:`audit.stages`; None for a stage that did not
    run); they are read as attributes (``result.heads``, ``result.cost``) and written to
    audit.json under their keys, between ``layers`` and ``verdict``.
    """

    BEFORE_STAGES: ClassVar[tuple[str, ...]] = ("created", "run_id", "title", "spec_path", "model", "probe",
                                                 "environment", "primary_id", "metric_names", "metric_info", "layers")

    title: str
    spec_path: str
    model: ModelInfo
    probe: ProbeInfo
    environment: EnvironmentInfo
    layers: tuple[LayerResult, ...]
    metric_names: tuple[str, ...]
    primary_id: str | None
    metric_info: dict[str, dict[str, str]] = field(default_factory=dict)
    stages: Mapping[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    created: Annotated[str, Meta(description="UTC time the audit finished, ISO 8601")] = ""
    run_id: Annotated[str, Meta(description="this run's id, also in manifest.json beside the reports and on the "
                                "HTML and PDF")] = ""

    def __getattr__(self, name: str):
        """A stage's result by its key: ``result.heads`` (None when that stage did not run)."""
        from ..stages import stage_keys

        stages = self.__dict__.get("stages", {})
        if name in stages:
            return stages[name]
        if name in stage_keys():
            return None
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def with_stages(self, **results) -> AuditResult:
        """This result with the given stages' results replaced (``with_stages(cost=None)``)."""
        return replace(self, stages={**self.stages, **results})

    def layer(self, name: str) -> LayerResult:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def to_dict(self) -> dict:
        """The audit.json document: ``schema_version``, the fields, each stage's result under its key."""
        from ..stages import stage_keys

        fields = as_json(replace(self, stages={}))
        fields.pop("stages")
        before = {key: fields.pop(key) for key in self.BEFORE_STAGES}
        stages = {key: as_json(self.stages.get(key)) for key in stage_keys()}
        return {"schema_version": SCHEMA_VERSION, **before, **stages, **fields}


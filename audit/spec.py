"""The audit spec: YAML -> validated :class:`AuditSpec`, before any model is loaded.

Every key is declared here (``extra="forbid"``: an unknown key is an error with a "did you
mean"); the ``model`` section is built from the registered model adapters
(:mod:`audit.sources.adapters`: each kind declares its keys, files and cross-key rules) and the
``metrics`` section from the metric registry, so each metric validates its own options.
Errors become :class:`~audit.errors.SpecError` naming ``file:line`` and the key
path, e.g. ``audit.yaml:7: probe.n_samples: Input should be greater than or equal to 1``.
Relative paths in the spec are relative to the spec file's folder.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from .errors import SourceError, SpecError
from .metrics import registry
from .probe_spec import BUILTIN_PROBES, PROBE_SUFFIXES, ProbeSpec, Strict
from .sources.adapters import adapter_for, adapters, model_section
from .sources.images import scan_folder
from .stages import stages
from .yaml_source import did_you_mean as _did_you_mean
from .yaml_source import key_path as _key_path
from .yaml_source import line_of as _line_of
from .yaml_source import read_yaml

__all__ = ["AuditSpec", "LoadedSpec", "load_spec", "BUILTIN_PROBES", "MODEL_SUFFIXES", "PROBE_SUFFIXES"]

MODEL_KINDS = tuple(adapter.kind for adapter in adapters())
REDUCTIONS = ("mean", "tokens", "last", "cls", "positions", "flatten")
MODEL_SUFFIXES = {"weights": (".safetensors", ".pt", ".pth", ".bin"), "torchscript": (".pt", ".pth", ".ts", ".torchscript")}
METRIC_ORDER = ("twonn", "mle", "local_id", "gride", "fisher_s", "pca", "participation_ratio", "effective_rank",
                "stable_rank", "sample_size", "linear_probe", "nc1", "dead_units")


_Strict = Strict


ModelSpec = model_section()


class LayersSpec(_Strict):
    """Which modules' outputs are audited (glob patterns over module names)."""

    include: list[str] | None = Field(None, description="patterns to audit; default: the main blocks and the output")
    exclude: list[str] = Field(default_factory=list, description="patterns removed from the selection")
    task_fixed: list[str] = Field(default_factory=list, description="patterns of audited layers whose width the task "
                                  "fixes (besides those found: class scores, vocabulary-wide layers); never proposed for narrowing")


class CaptureSpec(_Strict):
    """How module outputs become (points x features) matrices."""

    max_points: int = Field(5000, ge=10, description="per-layer cap on points, sampled with the audit's seed")
    conv: Literal["mean", "positions", "flatten"] = Field(
        "mean", description="(N, C, H, W) outputs: mean over positions, every position a point, or flattened")
    sequence: Literal["mean", "tokens", "last"] | None = Field(
        None, description="(N, T, C) outputs: mean over positions, every position a point, or the last position "
                          "(default: mean; last for a causal LM)")
    overrides: dict[str, Literal[REDUCTIONS]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="per-layer reduction by glob: mean, tokens, last, cls, positions, flatten")
    knn_device: str = Field("auto", description="device of the neighbour search: auto (GPU when torch sees one), cpu, cuda")


class OutputSpec(_Strict):
    dir: str = Field("audit-report", description="folder for audit.json, report.html, report.pdf (--out overrides)")
    formats: list[Literal["json", "html", "pdf", "junit", "markdown"]] = Field(
        ["json", "html", "pdf", "junit", "markdown"], min_length=1,
        description="which files to write; junit.xml and summary.md only when policies ran")
    title: str | None = Field(None, description="report title (default: from the model source)")


def _metrics_model() -> type[BaseModel]:
    """A model with one optional field per registered metric, holding its params."""
    fields = {name: (definition.params | None, None) for name, definition in registry().items()}
    model = create_model("MetricsSpec", __config__=ConfigDict(extra="forbid", frozen=True), **fields)
    model.__doc__ = "Metrics to run and their options; omitted: every default metric with its defaults."
    return model


MetricsSpec = _metrics_model()


class _AuditSpecRules(_Strict):
    """The rules of the whole spec; its fields come from :func:`_audit_spec` (the core sections,
    then one per registered stage)."""

    @field_validator("metrics", mode="before", check_fields=False)
    @classmethod
    def _listed_means_defaults(cls, value):
        """``twonn:`` (null) or a list of names means "run it with default options"."""
        if isinstance(value, list):
            if not all(isinstance(name, str) for name in value):
                raise ValueError("a list of metrics holds their names (strings); options go in a mapping")
            value = {name: {} for name in value}
        if isinstance(value, dict):
            value = {name: ({} if options is None else options) for name, options in value.items()}
        return value

    @model_validator(mode="before")
    @classmethod
    def _null_stage_means_defaults(cls, data):
        """``heads:`` with nothing under it runs the stage with its defaults."""
        if isinstance(data, dict):
            keys = {stage.key for stage in stages() if stage.params is not None}
            data = {key: ({} if key in keys and value is None else value) for key, value in data.items()}
        return data

    @model_validator(mode="after")
    def _probe_fits_model(self):
        adapter = adapter_for(self.model.kind)
        adapter.check(self)  # the kind's cross-key rules (text probes)
        for stage in stages():
            stage.check(self, adapter)  # what each stage needs of the model (text, replaceable weights)
        return self

    def selected_metrics(self) -> dict[str, BaseModel]:
        """``{name: params}`` of the metrics to run, in the report's order."""
        metrics = registry()
        if self.metrics is None:
            chosen = {name: definition.params() for name, definition in metrics.items() if definition.default}
        else:
            chosen = {name: params for name, params in self.metrics if params is not None}
        rank = {name: i for i, name in enumerate(METRIC_ORDER)}
        return dict(sorted(chosen.items(), key=lambda item: rank.get(item[0], len(rank))))


def _audit_spec() -> type[BaseModel]:
    """The whole spec: the core sections, one optional section per registered stage (its params
    model, None when absent) in run order, then the output, the policies and the seed."""
    fields = {
        "model": (ModelSpec, ...),
        "probe": (ProbeSpec, ...),
        "layers": (LayersSpec, Field(default_factory=LayersSpec)),
        "capture": (CaptureSpec, Field(default_factory=CaptureSpec)),
        "metrics": (MetricsSpec | None, None),
        **{stage.key: (stage.params | None, None) for stage in stages() if stage.params is not None},
        "output": (OutputSpec, Field(default_factory=OutputSpec)),
        "policies": (list[str], Field(default_factory=list, description="policy packs: stock names (default, "
                                      "embedding, strict) or YAML files; the audit's verdict")),
        "seed": (int, Field(0, description="seed of point sampling and bootstrap intervals")),
    }
    return create_model("AuditSpec", __base__=_AuditSpecRules, __module__=__name__, **fields)


AuditSpec = _audit_spec()


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from, so later errors can name a line."""

    spec: AuditSpec
    path: Path
    root: yaml.Node

    @property
    def base(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base / path

    def error(self, loc: tuple, what: str) -> SpecError:
        return SpecError(f"{self.path}:{_line_of(self.root, loc)}: {_key_path(loc)}", what)


def load_spec(path) -> LoadedSpec:
    """Read, parse and validate the spec at ``path``; raise SpecError on any problem."""
    path = Path(path)
    root, data = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1", "the spec must be a mapping with keys model, probe, ...")
    try:
        spec = AuditSpec.model_validate(data, context={"base": path.parent})  # folders are relative to the spec
    except ValidationError as error:
        first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a typo explains "missing"
        raise _spec_error(path, root, first, error.error_count()) from None
    loaded = LoadedSpec(spec, path, root)
    _check_files(loaded)
    return loaded


def _spec_error(path: Path, root: yaml.Node, error: dict, count: int) -> SpecError:
    loc = _yaml_loc(error["loc"])
    if error["type"] == "cross_key":
        loc = _key_loc(error["ctx"]["key"])
    if error["type"] == "extra_forbidden":
        what = f"unknown key {loc[-1]!r}{_did_you_mean(str(loc[-1]), _allowed_keys(error['loc'][:-1]))}"
    elif error["type"] == "missing":
        what = "required key is missing"
    elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "kind")
        tag = error.get("ctx", {}).get("tag")
        what = f"unknown kind {tag!r}; expected one of: {', '.join(MODEL_KINDS)}" if tag else "a 'kind' is required"
    else:
        what = error["msg"].removeprefix("Value error, ")
    if count > 1:
        what += f" (and {count - 1} more problem{'s' if count > 2 else ''})"
    return SpecError(f"{path}:{_line_of(root, loc)}: {_key_path(loc)}", what)


def _key_loc(key: str) -> tuple:
    """A cross-key rule's key as a location: ``cost.drop_layers[1]`` -> ``('cost', 'drop_layers', 1)``."""
    return tuple(int(part[1:-1]) if part.startswith("[") else part for part in re.findall(r"\[\d+\]|[^.\[\]]+", key))


def _yaml_loc(loc: tuple) -> tuple:
    """Pydantic's error location without its union tags (``model.torch.factory`` -> ``model.factory``,
    ``reference.model.torch.factory`` -> ``reference.model.factory``; a stage's own union tags
    begin with ``~`` and sit between keys: a user's key of that form, first or last, stays)."""
    tags = set(MODEL_KINDS)
    return tuple(part for i, part in enumerate(loc) if not (i >= 1 and loc[i - 1] == "model" and part in tags)
                 and not (0 < i < len(loc) - 1 and isinstance(part, str) and part.startswith("~")))


def _check_files(loaded: LoadedSpec) -> None:
    """Files the spec names must exist (checked before anything is loaded)."""
    spec = loaded.spec
    if spec.probe.is_folder:  # its layout (images, or class folders of images), from the names alone
        try:
            scan_folder(loaded.resolve(spec.probe.source))
        except SourceError as error:
            raise loaded.error(("probe", "source"), f"{error.where}: {error.what}") from None
    probe_file = not (spec.probe.source.startswith("sklearn:") or spec.probe.is_folder)
    named = [(("probe", "source"), spec.probe.source)] if probe_file else []
    named += adapter_for(spec.model.kind).files(loaded)
    named += [item for stage in stages() if stage.enabled(spec) for item in stage.files(loaded)]
    for loc, relative in named:
        try:
            found = loaded.resolve(relative).is_file()
        except (OSError, ValueError) as error:  # a name too long for the file system: not a file it can hold
            raise loaded.error(loc, f"cannot look for {relative!r}: {getattr(error, 'strerror', None) or error}") from None
        if not found:
            raise loaded.error(loc, f"file not found: {loaded.resolve(relative)}")


def _allowed_keys(raw_loc: tuple) -> list[str]:
    """Field names of the model reached by walking pydantic's ``raw_loc`` (union tags included)
    from AuditSpec, for "did you mean"."""
    current: typing.Any = AuditSpec
    mapping = False
    for part in raw_loc:
        if mapping:  # this part is a key of a mapping of sections (model.constants.NAME)
            mapping = False
            continue
        if isinstance(current, list):  # a discriminated union: this part is the tag
            current = next((m for m in current if m.model_fields["kind"].annotation == Literal[part]), None)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return []
        annotation = current.model_fields[part].annotation
        mapping = any(typing.get_origin(a) is dict for a in (annotation, *typing.get_args(annotation)))
        members = [a for a in _flatten(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        current = members if len(members) > 1 else (members[0] if members else None)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _flatten(annotation) -> list:
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    return [leaf for arg in args for leaf in _flatten(arg)]

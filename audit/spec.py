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

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .errors import SpecError
from .metrics import registry
from .sources.adapters import adapter_for, adapters
from .yaml_source import did_you_mean as _did_you_mean
from .yaml_source import key_path as _key_path
from .yaml_source import line_of as _line_of
from .yaml_source import read_yaml

__all__ = ["AuditSpec", "LoadedSpec", "load_spec", "BUILTIN_PROBES", "MODEL_SUFFIXES", "PROBE_SUFFIXES"]

BUILTIN_PROBES = ("sklearn:digits", "sklearn:iris", "sklearn:breast_cancer", "sklearn:wine")
PROBE_SUFFIXES = (".npz", ".npy", ".csv", ".txt", ".jsonl")
TEXT_SUFFIXES = (".txt", ".jsonl")
MODEL_KINDS = tuple(adapter.kind for adapter in adapters())
REDUCTIONS = ("mean", "tokens", "last", "cls", "positions", "flatten")
MODEL_SUFFIXES = {"weights": (".safetensors", ".pt", ".pth", ".bin"), "torchscript": (".pt", ".pth", ".ts", ".torchscript")}
METRIC_ORDER = ("twonn", "mle", "local_id", "gride", "fisher_s", "pca", "participation_ratio", "effective_rank",
                "stable_rank", "sample_size", "linear_probe", "nc1", "dead_units")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _model_spec():
    """The ``model`` section: a union of the registered adapters' sections, told apart by ``kind``."""
    members = tuple(adapter.spec_model for adapter in adapters())
    return Annotated[Union[members], Field(discriminator="kind")]


ModelSpec = _model_spec()


class ProbeSpec(_Strict):
    """The data the model runs on."""

    source: str = Field(description="a .npz/.npy/.csv file, or a built-in: " + ", ".join(BUILTIN_PROBES))
    features: str | None = Field(None, description=".npz: the array of features (default 'X', or the only array)")
    text_field: str = Field("text", description=".jsonl: the field holding the text")
    labels: str | None = Field(
        None, description=".npz: the array of labels (default 'y' if present); .csv: the label column; .jsonl: the label field")
    n_samples: int | None = Field(None, ge=1, description="use this many samples, chosen at random with `seed` (default: all)")
    seed: int = Field(0, description="seed of the sample choice")
    batch_size: int = Field(256, ge=1, description="samples per forward pass")

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value.startswith("sklearn:"):
            if value not in BUILTIN_PROBES:
                raise ValueError(f"unknown built-in probe {value!r}{_did_you_mean(value, BUILTIN_PROBES)}")
        elif Path(value).suffix.lower() not in PROBE_SUFFIXES:
            raise ValueError(f"probe files must be {', '.join(PROBE_SUFFIXES)}, got {value!r}")
        return value


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
    sequence: Literal["mean", "tokens", "last"] = Field(
        "mean", description="(N, T, C) outputs: mean over positions, every position a point, or the last position")
    overrides: dict[str, Literal[REDUCTIONS]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="per-layer reduction by glob: mean, tokens, last, cls, positions, flatten")
    knn_device: str = Field("auto", description="device of the neighbour search: auto (GPU when torch sees one), cpu, cuda")


class HeadsSpec(_Strict):
    """Attention-head redundancy (transformers models)."""

    measure: Literal["cka", "correlation"] = Field("cka", description="head similarity: debiased linear CKA or correlation")
    threshold: float = Field(0.9, gt=0, le=1, description="similarity at or above which heads are near-duplicates")
    max_points: int = Field(2000, ge=10, description="tokens per layer used for head similarity")
    ablation_samples: int = Field(128, ge=0, description="texts used to rank heads by ablation (0: no ablation)")
    prune_fraction: float = Field(0.1, ge=0, lt=1, description="share of least important heads named as prune candidates")


class TokenEmbeddingsSpec(_Strict):
    """ID of the input token-embedding matrix (rows = vocabulary entries)."""

    max_rows: int = Field(0, ge=0, description="rows sampled with the seed (0: every row)")


class DistillSpec(_Strict):
    """Knowledge distillation of each factorized student before it is scored (off: steps 0)."""

    steps: int = Field(0, ge=0, le=10000, description="optimizer steps per student (0: no distillation)")
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of the low-rank factors")
    temperature: float = Field(2.0, gt=0, description="softmax temperature of the distillation loss")
    holdout: float = Field(0.5, gt=0, lt=1, description="share of the sweep's samples held out: students are "
                           "distilled on the rest and every score is measured on these")


class SweepSpec(_Strict):
    """Low-rank factorization sweep: truncated SVD of chosen layers at a grid of ranks, scored."""

    layers: list[str] | None = Field(None, description="glob patterns over Linear/Conv module names (default: every one)")
    exclude: list[str] = Field(default_factory=list, description="patterns removed from that selection")
    grouping: Literal["one_at_a_time", "per_block", "all"] = Field(
        "all", description="one curve per layer, per main block, or one for every chosen layer together")
    n_ranks: int = Field(8, ge=2, le=64, description="ranks of the geometric grid from 1 to the full rank")
    refine: int = Field(4, ge=0, le=64, description="extra ranks measured next to the knee of the first pass")
    n_samples: int = Field(512, ge=0, description="probe samples each evaluation runs on, drawn with the seed (0: all)")
    fidelity: Literal["agreement", "cosine"] = Field(
        "agreement", description="score without labels: agreement of argmax predictions, or mean cosine of outputs")
    levels: list[float] = Field([0.85, 0.9, 0.95], min_length=1, description="shares of the teacher's score to find ranks for")
    distill: DistillSpec = Field(default_factory=DistillSpec)
    executor: Literal["local", "ray"] = Field("local", description="local threads, or tasks on a Ray cluster")
    workers: int = Field(2, ge=1, description="parallel evaluations (local threads or Ray tasks)")
    ray_address: str | None = Field(None, description="ray.init address ('auto', 'ray://host:10001'); none: a local Ray")

    @field_validator("levels")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        if not all(0 < level <= 1 for level in value):
            raise ValueError("levels are shares of the teacher's score, each in (0, 1]")
        return sorted(set(value))

    @field_validator("distill", mode="before")
    @classmethod
    def _null_means_defaults(cls, value):
        return {} if value is None else value


class PricesSpec(_Strict):
    """Prices for money per month; nothing is priced without them (no built-in prices)."""

    storage_per_gb_month: float | None = Field(None, ge=0, description="price of storing 1 GB (10^9 bytes) for a month")
    compute_per_hour: float | None = Field(None, ge=0, description="price of one hour of the machine that encodes queries")
    currency: str = Field("USD", min_length=1, max_length=8, description="currency label shown with the amounts")


class CostSpec(_Strict):
    """The cost of resizing: candidate widths, their estimated and measured cost, quality retained."""

    stored_vectors: int | None = Field(None, ge=1, description="embeddings kept in the vector store (N)")
    store_dtype: Literal["float32", "float16", "int8"] = Field("float32", description="dtype of the stored vectors")
    queries_per_month: int | None = Field(None, ge=0, description="texts/samples encoded (and searched) per month")
    prices: PricesSpec = Field(default_factory=PricesSpec)
    id_margin: float = Field(0.25, ge=0, le=4, description="safety margin on ID: candidate ceil(ID * (1 + margin))")
    widths: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, description="extra output-embedding widths to cost")
    ranks: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, description="extra ranks for factorized linear layers")
    embedding: Literal["auto", "yes", "no"] = Field(
        "auto", description="cost the output embedding: auto (when the output is not class scores), yes, no")
    factorize: list[str] | None = Field(None, description="globs of audited nn.Linear layers to factorize (default: all of them)")
    quality_floor: float = Field(0.95, gt=0, le=1, description="quality retained a recommended width must reach")
    recall_k: int = Field(10, ge=1, description="neighbours in the retrieval-overlap measure (recall@k)")
    holdout: float = Field(0.5, gt=0, lt=1, description="share of probe samples held out: the PCA is fitted on "
                           "the rest, every variant's quality is scored on these")
    batch_size: int = Field(8, ge=1, description="ONNX timing: samples per batch")
    sequence_length: int | None = Field(None, ge=2, description="ONNX timing, text models: tokens per sample (default model.max_length)")
    warmup: int = Field(3, ge=0, description="ONNX timing: runs before timing")
    repeats: int = Field(20, ge=1, description="ONNX timing: timed runs")
    threads: int = Field(1, ge=1, description="ONNX Runtime intra-op threads")
    measure: bool = Field(True, description="export to ONNX and time; false: estimates and quality only")

    @model_validator(mode="after")
    def _prices_have_quantities(self):
        """A price with nothing to price is a mistake worth one line, not a silent blank."""
        needs = (("storage_per_gb_month", "stored_vectors"), ("compute_per_hour", "queries_per_month"))
        for price, quantity in needs:
            if getattr(self.prices, price) is not None and getattr(self, quantity) is None:
                raise PydanticCustomError("cross_key", "{key} needs cost.{quantity}",
                                          {"key": f"cost.prices.{price}", "quantity": quantity})
        if self.prices.compute_per_hour is not None and not self.measure:
            raise PydanticCustomError("cross_key", "{key} needs measured latency (cost.measure: true)",
                                      {"key": "cost.prices.compute_per_hour"})
        return self


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


class AuditSpec(_Strict):
    model: ModelSpec
    probe: ProbeSpec
    layers: LayersSpec = Field(default_factory=LayersSpec)
    capture: CaptureSpec = Field(default_factory=CaptureSpec)
    metrics: MetricsSpec | None = None  # type: ignore[valid-type]
    heads: HeadsSpec | None = None
    token_embeddings: TokenEmbeddingsSpec | None = None
    sweep: SweepSpec | None = None
    cost: CostSpec | None = None
    output: OutputSpec = Field(default_factory=OutputSpec)
    policies: list[str] = Field(default_factory=list, description="policy packs: stock names (default, embedding, "
                                "strict) or YAML files; the audit's verdict")
    seed: int = Field(0, description="seed of point sampling and bootstrap intervals")

    @field_validator("metrics", mode="before")
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

    @field_validator("heads", "token_embeddings", "sweep", "cost", mode="before")
    @classmethod
    def _null_means_defaults(cls, value):
        return {} if value is None else value

    @model_validator(mode="after")
    def _probe_fits_model(self):
        adapter_for(self.model.kind).check(self)  # the kind's cross-key rules (text probes, stages it supports)
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
        spec = AuditSpec.model_validate(data)
    except ValidationError as error:
        first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a typo explains "missing"
        raise _spec_error(path, root, first, error.error_count()) from None
    loaded = LoadedSpec(spec, path, root)
    _check_files(loaded)
    return loaded


def _spec_error(path: Path, root: yaml.Node, error: dict, count: int) -> SpecError:
    loc = _yaml_loc(error["loc"])
    if error["type"] == "cross_key":
        loc = tuple(error["ctx"]["key"].split("."))
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


def _yaml_loc(loc: tuple) -> tuple:
    """Pydantic's error location without its union tags (``model.torch.factory`` -> ``model.factory``)."""
    tags = set(MODEL_KINDS)
    return tuple(part for i, part in enumerate(loc) if not (i == 1 and loc[0] == "model" and part in tags))


def _check_files(loaded: LoadedSpec) -> None:
    """Files the spec names must exist (checked before anything is loaded)."""
    spec = loaded.spec
    named = [(("probe", "source"), spec.probe.source)] if not spec.probe.source.startswith("sklearn:") else []
    named += adapter_for(spec.model.kind).files(loaded)
    for loc, relative in named:
        if not loaded.resolve(relative).is_file():
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

"""Everything an audit measured, as frozen dataclasses; ``to_dict()`` is the audit.json layout.

Renderers read an :class:`AuditResult` and nothing else. The JSON Schema in
``audit/schema/audit.schema.json`` describes exactly what ``AuditResult.to_dict()`` returns;
``SCHEMA_VERSION`` changes whenever that layout does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1.1"

__all__ = [
    "SCHEMA_VERSION",
    "AccuracyResult",
    "AuditResult",
    "EnvironmentInfo",
    "FileDigest",
    "HeadLayerResult",
    "HeadRef",
    "HeadsResult",
    "TokenEmbeddingResult",
    "CostResult",
    "CostTarget",
    "CostRow",
    "Timing",
    "Quality",
    "Money",
    "LayerResult",
    "MetricResult",
    "ModelInfo",
    "ProbeInfo",
    "Observation",
    "RuleOutcome",
    "Verdict",
    "RankLevel",
    "SweepGroup",
    "SweepPoint",
    "SweepResult",
]


@dataclass(frozen=True)
class MetricResult:
    """One metric on one layer.

    ``status`` is ``"ok"`` or ``"failed"``; a failed metric has ``value`` None and says why in
    ``message`` (a constant layer, too few points...): nothing silently becomes NaN.
    ``details`` holds what the metric measured beyond its headline value (a spectrum, GRIDE's
    scales, quantiles of local ID, estimates on nested subsets) as JSON-ready lists and numbers.
    ``n_duplicates`` counts the rows that are exact copies of another row (kNN metrics collapse
    them and read the distinct points); None where the metric does not look at it.
    """

    name: str
    title: str
    value: float | None
    method: str
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    ci_method: str | None = None
    n_used: int | None = None
    n_duplicates: int | None = None
    unit: str = ""
    status: str = "ok"
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LayerResult:
    """One audited layer: its activation matrix's shape and every metric computed on it.

    ``width`` is the number of features per point; ``n_points`` how many points entered the
    metrics (after pooling and the per-layer cap); ``n_points_seen`` how many the probe produced.
    ``redundancy_rate`` is ``1 - id / width`` with ``id`` the audit's primary ID metric
    (``primary_id``), None when that metric failed; ``probe_accuracy_per_id`` is the
    ``linear_probe`` accuracy over that ID.
    """

    name: str
    module_type: str
    width: int
    n_points: int
    n_points_seen: int
    reduction: str
    metrics: dict[str, MetricResult]
    primary_id: str | None = None
    is_output: bool = False
    task_fixed: str = ""  # why the task fixes the width (audit.task_fixed), "" when it does not

    @property
    def id_value(self) -> float | None:
        metric = self.metrics.get(self.primary_id or "")
        return metric.value if metric is not None and metric.ok else None

    @property
    def redundancy_rate(self) -> float | None:
        """1 - ID / width; None without an ID, or when the task fixes the width (no redundancy)."""
        value = self.id_value
        return None if value is None or self.task_fixed else 1.0 - value / self.width

    @property
    def probe_accuracy_per_id(self) -> float | None:
        """Linear-probe accuracy over the layer's ID, None without either."""
        probe, value = self.metrics.get("linear_probe"), self.id_value
        return probe.value / value if probe is not None and probe.ok and value else None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "module_type": self.module_type,
            "width": self.width,
            "n_points": self.n_points,
            "n_points_seen": self.n_points_seen,
            "reduction": self.reduction,
            "is_output": self.is_output,
            "task_fixed": self.task_fixed or None,
            "primary_id": self.primary_id,
            "id": self.id_value,
            "redundancy_rate": self.redundancy_rate,
            "probe_accuracy_per_id": self.probe_accuracy_per_id,
            "metrics": {name: metric.to_dict() for name, metric in self.metrics.items()},
        }


@dataclass(frozen=True)
class HeadLayerResult:
    """Head redundancy of one attention layer.

    ``similarity[a][b]`` compares heads a and b (``measure``); ``groups`` are the near-duplicate
    groups at ``threshold``; ``effective_rank`` / ``participation_ratio`` describe the
    concatenated head outputs against ``n_heads * d_head``; ``importance[a]`` is the loss from
    ablating head a (see HeadsResult.importance_measure), None without ablation.
    """

    name: str
    n_heads: int
    d_head: int
    n_points: int
    measure: str
    method: str
    threshold: float
    similarity: tuple[tuple[float, ...], ...]
    groups: tuple[tuple[int, ...], ...]
    constant_heads: tuple[int, ...]
    effective_rank: MetricResult
    participation_ratio: MetricResult
    importance: tuple[float, ...] | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["similarity"] = [list(row) for row in self.similarity]
        out["groups"] = [list(group) for group in self.groups]
        out["constant_heads"] = list(self.constant_heads)
        out["importance"] = None if self.importance is None else list(self.importance)
        out["effective_rank"] = self.effective_rank.to_dict()
        out["participation_ratio"] = self.participation_ratio.to_dict()
        return out


@dataclass(frozen=True)
class HeadRef:
    layer: str
    head: int
    importance: float


@dataclass(frozen=True)
class HeadsResult:
    """Every attention layer's head redundancy, and heads ranked by ablation importance.

    ``importance_measure`` says what ablating a head costs: ``"accuracy drop"`` (with labels)
    or ``"1 - mean cosine to the unablated output"`` (fidelity); ``ranking`` lists every head from
    least to most important and ``prune_candidates`` the least important ``prune_fraction``.
    """

    layers: tuple[HeadLayerResult, ...]
    importance_measure: str | None
    ablation_samples: int
    ranking: tuple[HeadRef, ...]
    prune_candidates: tuple[HeadRef, ...]
    prune_fraction: float

    @property
    def n_redundant_groups(self) -> int:
        return sum(len(layer.groups) for layer in self.layers)

    def to_dict(self) -> dict:
        return {
            "layers": [layer.to_dict() for layer in self.layers],
            "importance_measure": self.importance_measure,
            "ablation_samples": self.ablation_samples,
            "ranking": [asdict(ref) for ref in self.ranking],
            "prune_candidates": [asdict(ref) for ref in self.prune_candidates],
            "prune_fraction": self.prune_fraction,
            "n_redundant_groups": self.n_redundant_groups,
        }


@dataclass(frozen=True)
class TokenEmbeddingResult:
    """ID of the input token-embedding matrix (rows = vocabulary entries).

    ``suggested_lora_rank``: the smallest power of two at or above the upper end of the ID
    interval (``lora_rank_rule`` says so in words).
    """

    module: str
    vocab_size: int
    width: int
    n_rows: int
    id: MetricResult
    suggested_lora_rank: int | None
    lora_rank_rule: str

    @property
    def redundancy_rate(self) -> float | None:
        return None if self.id.value is None else 1.0 - self.id.value / self.width

    def to_dict(self) -> dict:
        out = asdict(self)
        out["id"] = self.id.to_dict()
        out["redundancy_rate"] = self.redundancy_rate
        return out


@dataclass(frozen=True)
class Timing:
    """ONNX Runtime latency of one exported model at a fixed batch shape.

    ``p50_s``/``p95_s`` are percentiles of ``repeats`` timed runs after ``warmup`` untimed ones;
    ``throughput`` is samples per second at the median; ``max_abs_diff`` compares the ONNX output
    with torch's on the same batch (the export's own check). A variant's ``reference_p50_s`` is
    the original's p50 timed in turns with it, run by run; ``p50_change`` is taken against it,
    and ``p50_change_low``/``p50_change_high`` is its 95% percentile bootstrap interval over those
    turns (each turn's pair of runs resampled together).
    """

    batch_size: int
    sequence_length: int | None
    warmup: int
    repeats: int
    threads: int
    p50_s: float
    p95_s: float
    throughput: float
    onnx_bytes: int
    max_abs_diff: float | None  # None for a model that is ONNX already: nothing was exported
    reference_p50_s: float | None = None
    p50_change_low: float | None = None
    p50_change_high: float | None = None

    @property
    def p50_change(self) -> float | None:
        """Relative change of p50 against the original timed in the same runs (variants only)."""
        return None if not self.reference_p50_s else self.p50_s / self.reference_p50_s - 1

    def to_dict(self) -> dict:
        return {**asdict(self), "p50_change": self.p50_change}


@dataclass(frozen=True)
class Quality:
    """Quality a variant keeps. ``retained`` (0..1, higher is better) is the headline: recall@k
    for an embedding, accuracy relative to the original with labels, else the mean cosine of the
    variant's outputs to the original's; ``measure`` says which. ``details`` holds the rest
    (cosine preservation, absolute accuracies). Every figure is measured on the ``n_samples``
    held-out probe samples (not those a PCA was fitted on); ``ci_low``/``ci_high`` is the
    percentile bootstrap interval of ``retained`` over them (None for the original, which keeps
    1 by definition)."""

    measure: str
    retained: float
    details: dict[str, float] = field(default_factory=dict)
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    ci_method: str = ""
    n_samples: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Money:
    """Money per month from the spec's prices; a part without its price is None."""

    currency: str
    storage_per_month: float | None
    compute_per_month: float | None

    @property
    def total_per_month(self) -> float | None:
        parts = [part for part in (self.storage_per_month, self.compute_per_month) if part is not None]
        return sum(parts) if parts else None

    def to_dict(self) -> dict:
        return {**asdict(self), "total_per_month": self.total_per_month}


@dataclass(frozen=True)
class CostRow:
    """One width of one target: the original (``sources`` = ("original",)) or a candidate.

    ``parameters``/``model_bytes`` are of the whole model with this variant (bytes per dtype:
    float32, float16, int8); ``flops_per_sample`` is counted at the dispatcher on one sample;
    ``store_bytes`` is the vector store for the spec's N vectors (embeddings, when N is given)
    and ``search_flops_per_query`` a brute-force search of them.
    """

    width: int
    sources: tuple[str, ...]
    parameters: int
    model_bytes: dict[str, int]
    flops_per_sample: int
    store_bytes: int | None = None
    search_flops_per_query: int | None = None
    timing: Timing | None = None
    timing_error: str = ""
    money: Money | None = None
    quality: Quality | None = None

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "sources": list(self.sources),
            "parameters": self.parameters,
            "model_bytes": dict(self.model_bytes),
            "flops_per_sample": self.flops_per_sample,
            "store_bytes": self.store_bytes,
            "search_flops_per_query": self.search_flops_per_query,
            "timing": None if self.timing is None else self.timing.to_dict(),
            "timing_error": self.timing_error,
            "money": None if self.money is None else self.money.to_dict(),
            "quality": None if self.quality is None else self.quality.to_dict(),
        }


@dataclass(frozen=True)
class CostTarget:
    """The output embedding (``kind`` "embedding", reduced by PCA) or one linear layer (``kind``
    "linear", factorized by truncated SVD): its original row, its candidates (smallest first), and
    the recommended width (the smallest keeping ``quality_floor``) with the sentence saying so."""

    name: str
    kind: str
    module_type: str
    width: int
    original: CostRow
    candidates: tuple[CostRow, ...]
    recommended: int | None
    recommendation: str
    method: str

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "module_type": self.module_type,
            "width": self.width,
            "original": self.original.to_dict(),
            "candidates": [row.to_dict() for row in self.candidates],
            "recommended": self.recommended,
            "recommendation": self.recommendation,
            "method": self.method,
        }


@dataclass(frozen=True)
class CostResult:
    """The cost of resizing. ``status`` is "ok" or "not_computed" (``reason`` says why: a model
    that is not a torch module, nothing to resize). ``settings`` echoes the spec's cost block
    that the numbers depend on (N, prices, batch shape...)."""

    status: str
    reason: str
    targets: tuple[CostTarget, ...]
    settings: dict[str, Any]
    quality_floor: float

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "reason": self.reason,
            "targets": [target.to_dict() for target in self.targets],
            "settings": dict(self.settings),
            "quality_floor": self.quality_floor,
        }


@dataclass(frozen=True)
class FileDigest:
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class ModelInfo:
    source: str
    kind: str
    files: tuple[FileDigest, ...]
    n_parameters: int
    module_type: str

    def to_dict(self) -> dict:
        out = asdict(self)
        out["files"] = [asdict(digest) for digest in self.files]
        return out


@dataclass(frozen=True)
class ProbeInfo:
    source: str
    n_samples: int
    n_features: int | None
    has_labels: bool
    n_classes: int | None
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EnvironmentInfo:
    model_audit: str
    python: str
    platform: str
    packages: dict[str, str]
    torch_threads: int
    device: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AccuracyResult:
    """The model's accuracy on the probe's labels (with its interval), and accuracy per
    intrinsic dimension: ``accuracy / id`` of the last hidden layer (the last audited layer
    before the output), with conservative bounds from both intervals (see audit/accuracy.py)."""

    accuracy: float
    n_samples: int
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    last_hidden_layer: str | None
    last_hidden_id: float | None
    accuracy_per_id: float | None
    accuracy_per_id_low: float | None = None
    accuracy_per_id_high: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Observation:
    """One value a policy rule checked: ``target`` names where it came from (a layer, ``model``);
    with a baseline, ``baseline`` is the old value and ``value`` the change that was compared."""

    target: str
    value: float | None
    status: str
    baseline: float | None = None


@dataclass(frozen=True)
class RuleOutcome:
    """One policy rule's outcome: ``status`` is PASS, WARN, FAIL or ERROR.

    ``subject`` and ``condition`` say in words what was checked (``redundancy_rate of layers
    blocks.*``, ``<= 0.9``); ``detail`` what was found (the worst observation, or the error's
    message for ERROR); ``observations`` every value checked.
    """

    rule: str
    policy: str
    status: str
    severity: str
    subject: str
    condition: str
    message: str
    detail: str
    rationale: str = ""
    observations: tuple[Observation, ...] = ()

    def to_dict(self) -> dict:
        out = asdict(self)
        out["observations"] = [asdict(item) for item in self.observations]
        return out


@dataclass(frozen=True)
class Verdict:
    """The policies' verdict: ``status`` is the worst outcome (PASS < WARN < FAIL < ERROR);
    ``passed`` is False when a rule failed or errored, or warned with ``fail_on`` "warn"."""

    status: str
    passed: bool
    fail_on: str
    policies: tuple[str, ...]
    baseline: str | None
    outcomes: tuple[RuleOutcome, ...]

    def counts(self) -> dict[str, int]:
        """How many rules ended in each status (every status present, zero or not)."""
        return {status: sum(outcome.status == status for outcome in self.outcomes)
                for status in ("PASS", "WARN", "FAIL", "ERROR")}

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "passed": self.passed,
            "fail_on": self.fail_on,
            "policies": list(self.policies),
            "baseline": self.baseline,
            "counts": self.counts(),
            "outcomes": [outcome.to_dict() for outcome in self.outcomes],
        }


@dataclass(frozen=True)
class SweepPoint:
    """A group's layers at one rank: the score, its share of the teacher's (``retained``), the
    weight entries the factorized layers store (``parameters``), ``reduction = 1 - parameters /
    full`` and ``compression = full / parameters``. ``ci_low``/``ci_high`` (of ``score``) and
    ``retained_ci_low``/``retained_ci_high`` are percentile bootstrap intervals over the scored
    (held-out) samples of the measurement at this rank; None for a rank only the fit reached."""

    rank: int
    score: float
    retained: float | None
    parameters: int
    reduction: float
    compression: float
    ci_low: float | None = None
    ci_high: float | None = None
    retained_ci_low: float | None = None
    retained_ci_high: float | None = None


@dataclass(frozen=True)
class RankLevel:
    """The smallest rank from which the fitted curve keeps ``level`` of the teacher's score
    (``point`` on the fitted curve), None when it never does."""

    level: float
    point: SweepPoint | None


@dataclass(frozen=True)
class SweepGroup:
    """One factorization sweep: ``layers`` truncated together at each measured rank
    (``points``), the monotone PCHIP fit at every integer rank (``fit_ranks``, ``fit_scores``),
    its knee and the rank per retained level (both read from the fit)."""

    name: str
    layers: tuple[str, ...]
    full_rank: int
    full_parameters: int
    points: tuple[SweepPoint, ...]
    fit_ranks: tuple[int, ...]
    fit_scores: tuple[float, ...]
    knee: SweepPoint | None
    levels: tuple[RankLevel, ...]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "layers": list(self.layers),
            "full_rank": self.full_rank,
            "full_parameters": self.full_parameters,
            "points": [asdict(point) for point in self.points],
            "fit_ranks": list(self.fit_ranks),
            "fit_scores": list(self.fit_scores),
            "knee": None if self.knee is None else asdict(self.knee),
            "levels": [{"level": level.level, "point": None if level.point is None else asdict(level.point)}
                       for level in self.levels],
        }


@dataclass(frozen=True)
class SweepResult:
    """Low-rank factorization sweeps. ``measure`` is ``accuracy`` (with labels), ``agreement``
    or ``cosine`` (fidelity to the unfactorized teacher), described in ``measure_description``;
    ``teacher_score`` is the unfactorized model's score on the same ``n_samples`` (with its
    bootstrap interval ``teacher_ci_low``/``teacher_ci_high`` at ``ci_level``, ``ci_method``).
    With distillation, students are trained on ``distill_samples`` other samples of the subset:
    ``n_samples`` are held out from it and every score is measured on them."""

    measure: str
    measure_description: str
    teacher_score: float
    n_samples: int
    grouping: str
    executor: str
    workers: int
    distill_steps: int
    distill_lr: float | None
    levels: tuple[float, ...]
    groups: tuple[SweepGroup, ...]
    teacher_ci_low: float | None = None
    teacher_ci_high: float | None = None
    ci_level: float | None = None
    ci_method: str = ""
    distill_samples: int = 0

    def to_dict(self) -> dict:
        out = {key: value for key, value in asdict(self).items() if key != "groups"}
        out["levels"] = list(self.levels)
        out["groups"] = [group.to_dict() for group in self.groups]
        return out


@dataclass(frozen=True)
class AuditResult:
    """The whole audit. ``metric_info`` maps each metric name to its ``title``, ``kind`` (id,
    rank, diagnostic) and ``description``, so a report can be rendered from the data alone."""

    title: str
    spec_path: str
    model: ModelInfo
    probe: ProbeInfo
    environment: EnvironmentInfo
    layers: tuple[LayerResult, ...]
    metric_names: tuple[str, ...]
    primary_id: str | None
    metric_info: dict[str, dict[str, str]] = field(default_factory=dict)
    accuracy: AccuracyResult | None = None
    heads: HeadsResult | None = None
    token_embeddings: TokenEmbeddingResult | None = None
    verdict: Verdict | None = None
    sweep: SweepResult | None = None
    cost: CostResult | None = None
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    created: str = ""
    run_id: str = ""

    def layer(self, name: str) -> LayerResult:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "created": self.created,
            "run_id": self.run_id,
            "title": self.title,
            "spec_path": self.spec_path,
            "model": self.model.to_dict(),
            "probe": self.probe.to_dict(),
            "environment": self.environment.to_dict(),
            "primary_id": self.primary_id,
            "metric_names": list(self.metric_names),
            "metric_info": {name: dict(info) for name, info in self.metric_info.items()},
            "layers": [layer.to_dict() for layer in self.layers],
            "accuracy": None if self.accuracy is None else self.accuracy.to_dict(),
            "heads": None if self.heads is None else self.heads.to_dict(),
            "token_embeddings": None if self.token_embeddings is None else self.token_embeddings.to_dict(),
            "verdict": None if self.verdict is None else self.verdict.to_dict(),
            "sweep": None if self.sweep is None else self.sweep.to_dict(),
            "cost": None if self.cost is None else self.cost.to_dict(),
            "warnings": list(self.warnings),
            "timings": dict(self.timings),
        }

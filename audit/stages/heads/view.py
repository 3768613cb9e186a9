"""Section: attention heads (near-duplicate groups, effective number of heads, similarity
figures, heads ranked by ablation), and its sentence in the executive summary."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...render._numbers import finite
from ...render.view.context import ReportContext
from ...render.view.figure_book import FigureView
from ...render.view.format import NONE, breakable, fmt_bounds, fmt_common_level, fmt_dim, fmt_int, fmt_pct, fmt_range, plural
from ...render.view.model import KEEP_ROWS
from ...results import MetricResult
from .result import HeadLayerResult, HeadsResult
from .view_importance import ImportanceView, importance_view
from .view_similarity import MEASURES, measure_name, similarity_figures

__all__ = ["HeadLayerRow", "HeadsView", "build", "finding"]

_MISSING = Markup("Not computed: the spec has no <code>heads</code> section (head analysis applies to "
                  "transformers models with BERT-, GPT-2-, Llama- or Qwen-style attention).")


@dataclass(frozen=True)
class HeadLayerRow:
    name: Markup
    shape: str
    groups: tuple[str, ...]  # one "3, 7" per group; empty: none
    constant: str
    rank: str
    rank_interval: str
    share: str
    heads: str
    heads_interval: str
    participation: str
    participation_interval: str


@dataclass(frozen=True)
class HeadsView:
    intro: Markup
    group_header: str
    interval_level: str
    rows: tuple[HeadLayerRow, ...]
    keep_table: bool
    groups_note: str
    similarity: tuple[FigureView, ...]
    importance: ImportanceView | None
    method: tuple[Markup, ...]
    missing: Markup | str


def build(ctx: ReportContext) -> HeadsView:
    heads = ctx.result.heads
    if heads is None or not heads.layers:
        return HeadsView(intro=Markup(), group_header="", interval_level="", rows=(), keep_table=True,
                         groups_note="", similarity=(), importance=None, method=(),
                         missing=_MISSING if heads is None else "Not computed: no attention layer was found.")
    layers = heads.layers
    rows = tuple(_row(layer) for layer in layers)
    return HeadsView(
        intro=_intro(heads), group_header=_group_header(layers),
        interval_level=fmt_common_level(metric for layer in layers
                                        for metric in (layer.effective_rank, layer.participation_ratio)),
        rows=rows, keep_table=len(rows) <= KEEP_ROWS, groups_note=_groups_note(heads),
        similarity=similarity_figures(ctx, layers), importance=importance_view(ctx, heads),
        method=_method(layers), missing="",
    )


def _intro(heads: HeadsResult) -> Markup:
    layers, total = heads.layers, sum(layer.n_heads for layer in heads.layers)
    points = sorted({layer.n_points for layer in layers})
    on = (f"the same {fmt_int(points[0])} tokens" if len(points) == 1
          else f"{fmt_range(points[0], points[-1], fmt_int)} tokens per layer")
    return Markup(
        "The {heads} of the {layers} compared output to output within each layer, every head's output (its "
        "context vectors before the output projection) taken on {on} of the probe. Heads whose "
        "outputs are near-duplicates carry the same information and are candidates for merging or pruning; "
        "the effective rank of the concatenated head outputs says how many of their dimensions the layer "
        "really uses, and reads as a number of heads when divided by the head width."
    ).format(layers=plural(len(layers), "attention layer"), heads=plural(total, "head"), on=on)


def _group_header(layers: tuple[HeadLayerResult, ...]) -> str:
    settings = sorted({(measure_name(layer.measure), layer.threshold) for layer in layers})
    return "Groups at " + " / ".join(f"{name} \u2265 {threshold:g}" for name, threshold in settings)


def _row(layer: HeadLayerResult) -> HeadLayerRow:
    rank, ratio = layer.effective_rank, layer.participation_ratio
    width = layer.n_heads * layer.d_head
    rank_ok = rank.ok and finite(rank.value)
    return HeadLayerRow(
        name=breakable(layer.name), shape=f"{layer.n_heads:,} \u00d7 {layer.d_head:,}",
        groups=tuple(", ".join(str(head) for head in group) for group in layer.groups),
        constant=(("constant: " + ", ".join(str(head) for head in layer.constant_heads))
                  if layer.constant_heads else ""),
        rank=_value(rank), rank_interval=_interval(rank),
        share=fmt_pct(rank.value / width) if rank_ok and width else NONE,
        heads=f"{fmt_dim(rank.value / layer.d_head)} of {layer.n_heads:,}" if rank_ok and layer.d_head else NONE,
        heads_interval=_interval(rank, layer.d_head),
        participation=_value(ratio), participation_interval=_interval(ratio),
    )


def _value(metric: MetricResult) -> str:
    return fmt_dim(metric.value) if metric.ok and finite(metric.value) else "not computed"


def _interval(metric: MetricResult, divisor: int = 1) -> str:
    """The metric's interval (divided by ``divisor``); why it failed when it did."""
    if not metric.ok:
        return metric.message
    if not (finite(metric.ci_low) and finite(metric.ci_high)) or not divisor:
        return ""
    return fmt_bounds(metric.ci_low / divisor, metric.ci_high / divisor)


def _groups_note(heads: HeadsResult) -> str:
    if heads.n_redundant_groups:
        return ""
    thresholds = sorted({layer.threshold for layer in heads.layers})
    names = sorted({measure_name(layer.measure) for layer in heads.layers})
    return (f"No near-duplicate heads at threshold {' / '.join(f'{t:g}' for t in thresholds)} in any layer: "
            f"no two heads of a layer reach that {' / '.join(names)}.")


def _method(layers: tuple[HeadLayerResult, ...]) -> tuple[Markup, ...]:
    """How similarity and effective rank were computed: the measure explained, then the methods
    the results record."""
    explained = tuple(MEASURES[measure] for measure in dict.fromkeys(layer.measure for layer in layers)
                      if measure in MEASURES)
    recorded = dict.fromkeys(layer.method for layer in layers)
    spectral = dict.fromkeys(_spectral_method(metric) for layer in layers
                             for metric in (layer.effective_rank, layer.participation_ratio) if metric.ok)
    return explained + (
        Markup("Groups are the connected components of the pairs at or above the threshold, so heads chained "
               "through a third head form one group. The effective rank is Roy and Vetterli\u2019s "
               "exp(entropy) of the singular values of the centred, concatenated head outputs; the "
               "participation ratio (\u03a3\u03bb)\u00b2 / \u03a3\u03bb\u00b2 of their covariance eigenvalues "
               "is a stricter count of the directions that carry variance. Effective heads = effective rank / "
               "head width."),
        Markup("Recorded methods: {similarity}; {spectral}.").format(
            similarity="; ".join(recorded), spectral="; ".join(spectral) or NONE),
    )


def _spectral_method(metric: MetricResult) -> str:
    interval = f", {fmt_common_level([metric])} {metric.ci_method}" if metric.ci_method else ""
    return f"{metric.title}: {metric.method}{interval}"


def finding(ctx: ReportContext) -> Markup | None:
    """The executive summary's sentences on the heads, None without a head analysis."""
    heads = ctx.result.heads
    if heads is None or not heads.layers:
        return None
    return (_groups_clause(heads) + _effective_clause(heads) + Markup(". ")
            + _ablation_clause(heads) + Markup(
                "Similar or unimportant heads on this probe are evidence for pruning, not proof: evaluate the "
                "pruned model before relying on it (Section {section}).").format(section=ctx.section_number("heads")))


def _groups_clause(heads: HeadsResult) -> Markup:
    layers = heads.layers
    setting = " / ".join(dict.fromkeys(f"{measure_name(layer.measure)} \u2265 {layer.threshold:g}" for layer in layers))
    if not heads.n_redundant_groups:
        return Markup("Attention heads: no two heads in any of the {count} reach {setting} (no near-duplicates)"
                      ).format(count=plural(len(layers), "attention layer"), setting=setting)
    grouped = sum(len(group) for layer in layers for group in layer.groups)
    with_groups = sum(1 for layer in layers if layer.groups)
    return Markup("Attention heads: <strong>{groups}</strong> of near-duplicate heads ({heads}) in {where} of "
                  "{count} at {setting}").format(
        groups=plural(heads.n_redundant_groups, "group"), heads=plural(grouped, "head"),
        where=fmt_int(with_groups), count=plural(len(layers), "attention layer"), setting=setting)


def _effective_clause(heads: HeadsResult) -> Markup:
    shares = [layer.effective_rank.value / layer.d_head for layer in heads.layers
              if layer.effective_rank.ok and finite(layer.effective_rank.value) and layer.d_head]
    if not shares:
        return Markup()
    low, high = min(shares), max(shares)
    amount = fmt_dim(low) if fmt_dim(low) == fmt_dim(high) else fmt_range(low, high)
    sizes = "/".join(fmt_int(size) for size in sorted({layer.n_heads for layer in heads.layers}))
    return Markup("; the concatenated head outputs have an effective rank worth about {amount} of the {sizes} "
                  "heads per layer").format(amount=amount, sizes=sizes)


def _ablation_clause(heads: HeadsResult) -> Markup:
    if not heads.importance_measure or not heads.prune_candidates:
        return Markup()
    return Markup("Ablation on {n} texts names the {k} least important of {total} as prune candidates. ").format(
        n=fmt_int(heads.ablation_samples), k=fmt_int(len(heads.prune_candidates)),
        total=plural(len(heads.ranking), "head"))

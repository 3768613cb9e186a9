"""Section: the input token embeddings (TwoNN ID of the vocabulary rows, redundancy rate, the
LoRA rank it suggests), and its sentence in the executive summary."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...render._numbers import finite
from ...render.view.context import ReportContext, redundancy_bounds
from ...render.view.format import fmt_bounds, fmt_dim, fmt_int, fmt_level, fmt_pct, fmt_range
from ...render.view.model import Fact
from . import TokenEmbeddingResult

__all__ = ["TokensView", "build", "finding"]

_MISSING = Markup("Not computed: the spec has no <code>token_embeddings</code> section (it applies to "
                  "transformers models with an input token embedding).")


@dataclass(frozen=True)
class TokensView:
    facts: tuple[Fact, ...]
    reading: Markup
    method: str
    missing: Markup | str


def build(ctx: ReportContext) -> TokensView:
    tokens = ctx.result.token_embeddings
    if tokens is None:
        return TokensView(facts=(), reading=Markup(), method="", missing=_MISSING)
    return TokensView(facts=_facts(tokens), reading=_reading(tokens), method=_method(tokens),
                      missing="" if _measured(tokens) else f"TwoNN could not be computed on the token embeddings: "
                                                           f"{tokens.id.message or 'no reason given'}")


def _measured(tokens: TokenEmbeddingResult) -> bool:
    return tokens.id.ok and finite(tokens.id.value) and tokens.width > 0


def _facts(tokens: TokenEmbeddingResult) -> tuple[Fact, ...]:
    metric = tokens.id
    sampled = tokens.n_rows < tokens.vocab_size
    used = ([f"TwoNN used {fmt_int(metric.n_used)}"] if metric.n_used is not None and metric.n_used != tokens.n_rows
            else [])
    facts = [
        Fact("Module", tokens.module, mono=True),
        Fact("Matrix", f"{fmt_int(tokens.vocab_size)} \u00d7 {fmt_int(tokens.width)}",
             detail="vocabulary entries \u00d7 width"),
        Fact("Rows used", f"{fmt_int(tokens.n_rows)} of {fmt_int(tokens.vocab_size)}" if sampled else "all",
             detail="; ".join((["sampled with the audit's seed"] if sampled else []) + used)),
    ]
    if _measured(tokens):
        level = fmt_level(metric.ci_level) or "confidence"
        facts += [
            Fact("TwoNN ID", fmt_dim(metric.value), detail=_interval(level, fmt_bounds(metric.ci_low, metric.ci_high))),
            Fact("Share of width", fmt_pct(metric.value / tokens.width)),
            Fact("Redundancy rate", fmt_pct(tokens.redundancy_rate),
                 detail=_interval(level, fmt_bounds(*redundancy_bounds(metric, tokens.width), fmt_pct))),
        ]
    facts.append(Fact("Suggested LoRA rank", fmt_int(tokens.suggested_lora_rank), detail=tokens.lora_rank_rule))
    return tuple(facts)


def _interval(level: str, bounds: str) -> str:
    return f"{level} interval {bounds}" if bounds else "no interval"


def _reading(tokens: TokenEmbeddingResult) -> Markup:
    text = Markup(
        "Each row of the input embedding matrix is one vocabulary entry. The intrinsic dimension of the rows is "
        "the number of coordinates they need locally; the redundancy rate 1 \u2212 ID / width is the share of "
        "the width they leave unused. ")
    if tokens.suggested_lora_rank is None:
        return text + Markup("No LoRA rank is suggested: the ID has no usable value.")
    return text + Markup(
        "A low-rank (LoRA) update of the embeddings with rank <strong>{rank}</strong> can span as many "
        "directions as the rows occupy ({rule}). That rank is a guide, not a guarantee: what a fine-tuning "
        "task needs depends on the task, and the ID describes the pretrained rows, not the change a task asks "
        "of them.").format(rank=fmt_int(tokens.suggested_lora_rank), rule=tokens.lora_rank_rule)


def _method(tokens: TokenEmbeddingResult) -> str:
    metric = tokens.id
    interval = f"; {fmt_level(metric.ci_level)} {metric.ci_method}".rstrip() if metric.ci_method else ""
    return f"{metric.method}{interval}" if metric.method else ""


def finding(ctx: ReportContext) -> Markup | None:
    """The executive summary's sentence on the token embeddings, None when not measured."""
    tokens = ctx.result.token_embeddings
    if tokens is None:
        return None
    section = ctx.section_number("tokens")
    if not _measured(tokens):
        return Markup("The token embeddings' ID could not be computed (Section {section}).").format(section=section)
    metric = tokens.id
    interval = (Markup(", {level} interval {range}").format(level=fmt_level(metric.ci_level) or "confidence",
                                                           range=fmt_range(metric.ci_low, metric.ci_high))
                if finite(metric.ci_low) and finite(metric.ci_high) else Markup())
    sentence = Markup(
        "The token embeddings ({vocab} \u00d7 {width}) use about <strong>{id}</strong> of their {width} "
        "dimensions (TwoNN{interval}; redundancy {rate})").format(
        vocab=fmt_int(tokens.vocab_size), width=fmt_int(tokens.width), id=fmt_dim(metric.value),
        interval=interval, rate=fmt_pct(tokens.redundancy_rate))
    if tokens.suggested_lora_rank is None:
        return sentence + Markup(" (Section {section}).").format(section=section)
    return sentence + Markup(
        ": a LoRA rank of <strong>{rank}</strong> for them is suggested, a guide, not a guarantee "
        "(Section {section}).").format(rank=fmt_int(tokens.suggested_lora_rank), section=section)

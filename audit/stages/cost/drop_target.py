"""The layer-dropping target of the cost stage (``cost.drop_layers``): per layer stack, the model
without some of its blocks (:mod:`.layer_stacks`), one row per variant beside the original's.

Variants: for a list of names, each named block dropped alone and, when more than one is named,
all of them together. For ``auto``, the stack's blocks are ranked, by the reference stage's
layer x layer CKA (its drop candidates: blocks whose output barely differs from the audited
layer's before them, highest CKA first) when it ran with ``self_cka`` and named one, else by how
little removing each block alone changes the model's outputs on the FIT share of the cost split
(never the held-out samples); the variants drop the top 1, top 2, ... top m blocks together.
Each row: parameters and float32 bytes of the model without the blocks, FLOPs, ONNX latency timed
in the same turns with the original (:meth:`.bench.BenchBase.rows`) and the quality kept on the
held-out samples, scored as the stage scores the model's output (:func:`.scores.output_scorer`).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from ...outputs import fidelity_values
from .bench import Bench, PendingRow
from .layer_stacks import DropPlan, block_label, without_blocks
from .recommend import dropped_sentence, variant_choice
from .result import CostTarget
from .scores import INTERVAL, OutputScorer, output_scorer

__all__ = ["MAX_AUTO_DROPPED", "dropped_targets"]

MAX_AUTO_DROPPED = 4  # auto: the variants drop the top 1 .. top m ranked blocks, m at most this and half the stack


class _Ranking(NamedTuple):
    """A stack's blocks in the order ``auto`` drops them, what proposed them (a row's source) and
    how, with the figures behind the order (for the method)."""

    order: tuple[int, ...]
    source: str
    how: str


def dropped_targets(bench: Bench, plan: DropPlan, alignment, *, embedding: bool, use_accuracy: bool) -> list[CostTarget]:
    """One target per stack of ``plan``; ``alignment`` is the reference stage's result (None when
    it did not run), whose layer x layer CKA ranks the blocks for ``auto``."""
    scorer = output_scorer(bench, bench.baseline_outputs(), embedding=embedding, use_accuracy=use_accuracy)
    return [_stack_target(bench, plan, stack, alignment, scorer) for stack in plan.stacks]


def _stack_target(bench: Bench, plan: DropPlan, stack: str, alignment, scorer: OutputScorer) -> CostTarget:
    blocks = bench.original.get_submodule(stack)
    n = len(blocks)
    if plan.auto:
        ranking = _ranked(bench, stack, n, alignment)
        most = min(MAX_AUTO_DROPPED, n // 2, len(ranking.order))
        variants = [tuple(sorted(ranking.order[:k])) for k in range(1, most + 1)]
        counts = [str(k) for k in range(1, most + 1)]
        tops = "the top block of a ranking dropped" if most == 1 else \
            f"the top {', '.join(counts[:-1])} and {counts[-1]} blocks of a ranking, each set dropped together"
        built = (f"Variants (cost.drop_layers: auto): {tops} (at most {MAX_AUTO_DROPPED} blocks, and at most half of "
                 f"the stack's {n}); {ranking.how}.")
        source = ranking.source
    else:
        named = plan.named[stack]
        variants = [(index,) for index in named] + ([tuple(sorted(named))] if len(named) > 1 else [])
        built = "Variants: each block cost.drop_layers names, dropped alone" + \
            (f", and all {len(named)} dropped together." if len(named) > 1 else ".")
        source = "cost.drop_layers"
    original = bench.original_row(n, vectors=False, quality=scorer.original)
    labels = [block_label(stack, dropped) for dropped in variants]
    pending = []
    for dropped, label in zip(variants, labels):
        bench.progress.stage(f"cost: {label}")
        pending.append(_pending(bench, stack, dropped, n - len(dropped), source, scorer))
    rows = [dataclasses.replace(row, variant=label) for row, label in zip(bench.rows(pending), labels)]
    floor = bench.cost.quality_floor
    chosen = variant_choice(rows, floor, lambda row: (row.width, row.parameters))
    return CostTarget(
        name=stack, kind="drop_layers", module_type=f"ModuleList of {type(blocks[0]).__name__}", width=n,
        original=original, candidates=tuple(rows), recommended=None,
        recommendation=dropped_sentence(stack, original, chosen, rows, floor),
        method=_method(stack, n, type(blocks[0]).__name__, built, scorer.measure, len(bench.split.heldout)),
        recommended_variant=None if chosen is None else chosen.variant)


def _pending(bench: Bench, stack: str, dropped: tuple[int, ...], kept: int, source: str,
             scorer: OutputScorer) -> PendingRow:
    """The row of the model without ``dropped``, its timing to come; a forward that fails without
    them is said in the row (no quality or FLOPs, the reason as its timing error)."""
    with without_blocks(bench.original, stack, dropped) as variant:
        try:
            quality = scorer.score(bench.outputs(variant))
        except Exception as error:  # a stack whose blocks do not chain without these: say so, keep going
            reason = f"{block_label(stack, dropped)}: the forward failed: {type(error).__name__}: " \
                     f"{str(error).strip()[:300]}"
            return PendingRow(kept, (source,), False, None, bench.parameters(variant), None, reason)
        return bench.pending(variant, kept, (source,), vectors=False, quality=quality)


def _ranked(bench: Bench, stack: str, n: int, alignment) -> _Ranking:
    """The CKA ranking when the reference stage's self-CKA named a block of ``stack``, else the
    removal ranking, saying why."""
    similarity = None if alignment is None else alignment.self_similarity
    if similarity is None:
        why = "no reference stage with self_cka ran"
    else:
        blocks = {f"{stack}.{index}": index for index in range(n)}
        pairs = sorted((pair for pair in similarity.consecutive if pair.drop_candidate and pair.name in blocks),
                       key=lambda pair: -pair.cka.value)
        if pairs:
            return _Ranking(tuple(blocks[pair.name] for pair in pairs), "self-CKA",
                            f"the ranking: the reference stage's drop candidates among the blocks, highest CKA first "
                            f"(debiased linear CKA of the block's output with the audited layer's before it, at least "
                            f"reference.drop_threshold {similarity.threshold:g}): " +
                            ", ".join(f"{pair.name} ({pair.cka.value:.3f} with {pair.previous})" for pair in pairs))
        why = (f"the reference stage's self-CKA named no block of {stack} a drop candidate (CKA with the audited "
               f"layer before at least {similarity.threshold:g})")
    return _removal_ranking(bench, stack, n, why)


def _removal_ranking(bench: Bench, stack: str, n: int, why: str) -> _Ranking:
    """The blocks by how little removing each alone changes the model's outputs (mean cosine to
    the original's, highest first) on at most as many FIT samples as are held out; a block whose
    removal fails the forward is left out of the ranking."""
    features = bench.fit_features()
    features = features[:len(bench.split.heldout)]
    cosine = fidelity_values(bench.outputs(bench.original, features))
    scores, failed = {}, []
    for index in range(n):
        bench.progress.stage(f"cost: ranking {stack}.{index} by its removal")
        try:
            with without_blocks(bench.original, stack, (index,)) as variant:
                scores[index] = float(cosine(bench.outputs(variant, features)).mean())
        except Exception as error:  # the others chain without it: keep ranking them
            failed.append(f"{stack}.{index} ({type(error).__name__})")
    order = tuple(sorted(scores, key=lambda index: -scores[index]))
    left_out = f"; left out, the forward failing without them: {', '.join(failed)}" if failed else ""
    return _Ranking(order, "removal ranking",
                    f"the ranking ({why}): by how little removing each block alone changes the model's outputs, "
                    f"the mean cosine of its outputs without the block to the original's on {len(features):,} probe "
                    f"samples of the fit share (never the held-out samples), highest first: " +
                    ", ".join(f"{stack}.{index} {scores[index]:.4f}" for index in order) + left_out +
                    "; the top k are dropped together as ranked alone, not re-ranked after each drop")


def _scored(measure: str) -> str:
    """What ``measure`` compares, for the method."""
    if measure == "accuracy retained":
        return "the variant's accuracy on the probe's labels relative to the original's (accuracy retained)"
    if measure == "mean output cosine":
        return "the mean cosine of the variant's outputs to the original's"
    return f"{measure} of cosine neighbours of the variant's output embeddings against the original's"


def _method(stack: str, n: int, block_type: str, built: str, measure: str, heldout: int) -> str:
    return (f"Blocks of the layer stack {stack} (an nn.ModuleList of {n} {block_type}) dropped: the model runs with "
            f"the stack holding the blocks it keeps, in order, nothing refitted or retrained. {built} Parameters and "
            f"float32 bytes are those of the model without the blocks; FLOPs are counted on it; its ONNX export is "
            f"timed in the same turns with the original. Quality: {_scored(measure)}, on the {heldout:,} held-out "
            f"probe samples every variant of the audit is scored on, with a {INTERVAL}. The recommendation is the "
            f"variant dropping the most blocks that keeps the quality floor (ties: the fewest parameters); a variant "
            f"slower than the original is a finding of its own.")

"""A variant's :class:`~audit.results.Quality` on the held-out probe samples, with its bootstrap
interval (:mod:`audit.heldout`): recall@k and cosine preservation for a reduced embedding,
accuracy relative to the original's (labels) or the mean output cosine (no labels) for a
factorized layer; a whole-model variant's outputs as the stage scores the model's output
(:func:`output_scorer`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from ...estimators._bootstrap import DEFAULT_LEVEL, DEFAULT_REPLICATES
from ...heldout import Interval, mean_interval, ratio_interval
from ...outputs import accuracy_values, fidelity_values
from .quality import cosine_preservation, recall_per_query
from .result import Quality

__all__ = ["COSINE_POINTS", "INTERVAL", "OutputScorer", "embedding_quality", "original_embedding_quality", "linear_scorer",
           "output_scorer"]

COSINE_POINTS = 1000  # points whose pairwise cosines are compared
INTERVAL = (f"{DEFAULT_LEVEL:.0%} percentile bootstrap interval over the held-out samples ({DEFAULT_REPLICATES} "
            "replicates, seeded)")


def _quality(measure: str, retained: float, details: dict, interval: Interval | None, n: int) -> Quality:
    if interval is None:
        return Quality(measure, retained, details, n_samples=n)
    return Quality(measure, retained, details, ci_low=interval.low, ci_high=interval.high, ci_level=interval.level,
                   ci_method=interval.method, n_samples=n)


def original_embedding_quality(measure: str, n: int) -> Quality:
    """The original embedding's row: every neighbour and cosine kept, by definition."""
    return _quality(measure, 1.0, {"cosine_correlation": 1.0, "cosine_mean_abs_diff": 0.0}, None, n)


def embedding_quality(measure: str, full: np.ndarray, reduced: np.ndarray, *, k: int, seed: int) -> Quality:
    """recall@k of ``reduced`` against ``full`` (held-out embeddings, row by row), its interval
    over the per-query overlaps, and pairwise cosine preservation."""
    overlaps = recall_per_query(full, reduced, k=k)
    details = {"recall_at_k": float(overlaps.mean()),
               **cosine_preservation(full, reduced, max_points=COSINE_POINTS, seed=seed)}
    interval = mean_interval(overlaps, seed=seed, what="queries (per-query neighbour overlap)")
    return _quality(measure, details["recall_at_k"], details, interval, overlaps.size)


def linear_scorer(baseline: torch.Tensor, labels, *, seed: int):
    """Outputs on the held-out samples -> Quality: accuracy relative to the original's with class
    ``labels`` (paired ratio interval over per-sample correctness), else the mean cosine to the
    original's ``baseline`` outputs (interval over per-sample cosines)."""
    cosine = fidelity_values(baseline)
    n = baseline.shape[0]
    if labels is None:
        def fidelity(outputs) -> Quality:
            values = cosine(outputs).numpy()
            interval = mean_interval(values, seed=seed, what="samples (per-sample output cosine)")
            return _quality("mean output cosine", float(values.mean()), {"output_cosine": float(values.mean())},
                            interval, n)
        return fidelity
    correct = accuracy_values(labels)
    reference = correct(baseline).numpy()

    def accuracy(outputs) -> Quality:
        found = correct(outputs).numpy()
        spread = mean_interval(found, seed=seed, what="samples (per-sample correctness)")
        details = {"accuracy": float(found.mean()), "accuracy_ci_low": spread.low, "accuracy_ci_high": spread.high,
                   "original_accuracy": float(reference.mean()), "output_cosine": float(cosine(outputs).mean())}
        retained = details["accuracy"] / details["original_accuracy"] if reference.mean() > 0 else 0.0
        interval = ratio_interval(found, reference, seed=seed, what="samples (per-sample correctness, paired)")
        return _quality("accuracy retained", retained, details, interval, n)
    return accuracy


class OutputScorer(NamedTuple):
    """How a whole-model variant's outputs are scored against the original's: ``score`` (rows ->
    Quality), the ``measure``'s name and the ``original`` row's own quality."""

    score: Callable[[torch.Tensor], Quality]
    measure: str
    original: Quality


def output_scorer(bench, baseline: torch.Tensor, *, embedding: bool, use_accuracy: bool) -> OutputScorer:
    """A whole-model variant (quantized, layers dropped) scored on the held-out samples as the
    stage scores the model's output, against the original's rows ``baseline`` there: recall@k of
    cosine neighbours for an ``embedding`` output, else accuracy relative to the original's
    (``use_accuracy``: the probe's labels) or the mean output cosine."""
    if embedding:
        measure = f"recall@{min(bench.cost.recall_k, baseline.shape[0] - 1)}"
        full = baseline.numpy()
        return OutputScorer(lambda rows: embedding_quality(measure, full, rows.numpy(), k=bench.cost.recall_k,
                                                           seed=bench.seed),
                            measure, original_embedding_quality(measure, baseline.shape[0]))
    labels = bench.heldout_labels if use_accuracy else None
    score = linear_scorer(baseline, labels, seed=bench.seed)
    return OutputScorer(score, "accuracy retained" if labels is not None else "mean output cosine", score(baseline))

"""Layers whose width the task fixes: class scores, a vocabulary-wide pre-softmax layer, a
probability map. Their width is not a design choice, so an ID far below it is not redundancy:
the report shows them as task-fixed and never proposes narrowing them.

A layer is task-fixed when one of these holds (the first that does is its reason):

- the spec names it in ``layers.task_fixed`` (glob patterns);
- it is the model's output and that output holds class scores: the probe's labels index its
  columns, or each row is a probability distribution (non-negative, summing to 1, a softmax);
- its width equals the number of classes in the probe's labels;
- its width equals the vocabulary (text models: the tokenizer's, or a causal LM's LM head rows);
- its width equals that of a class-score output (the logits feeding a softmax over
  characters or tokens, say), counted along the output's last axis.

An embedding output (a sentence encoder's) is not task-fixed: its width is what the cost stage
measures narrowing.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

__all__ = ["TaskShape", "task_fixed_reason"]


@dataclass(frozen=True)
class TaskShape:
    """What the task fixes: the number of classes, the vocabulary, the class-score width."""

    n_classes: int | None = None
    vocabulary: int | None = None
    score_width: int | None = None  # the output's width when it holds class scores, else None
    patterns: tuple[str, ...] = ()


def task_fixed_reason(name: str, width: int, is_output: bool, task: TaskShape) -> str | None:
    """Why the task fixes this layer's width, or None when it does not."""
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in task.patterns):
        return "named in layers.task_fixed"
    if is_output and task.score_width is not None:
        return "the model's output: one score per class"
    if task.n_classes is not None and width == task.n_classes:
        return f"its width equals the probe's {width:,} classes"
    if task.vocabulary is not None and width == task.vocabulary:
        return f"its width equals the {width:,}-entry vocabulary"
    if task.score_width is not None and width == task.score_width:
        return f"its width equals the output's {width:,} class scores"
    return None

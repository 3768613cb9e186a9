"""The verdict as rows shared by the Markdown summary and the comparison's text: rules worst
first, each with its status, names, requirement and what was found; and the headline counts."""

from __future__ import annotations

from ..results import RuleOutcome, Status, Verdict

__all__ = ["ordered_outcomes", "tally", "gate_sentence"]


def ordered_outcomes(verdict: Verdict) -> list[RuleOutcome]:
    """The outcomes, ERROR and FAIL first, then WARN, then PASS (the files' order within each)."""
    return sorted(verdict.outcomes, key=lambda outcome: -Status(outcome.status).rank)


def tally(verdict: Verdict) -> str:
    """``12 rules: 9 pass, 1 warn, 2 fail, 0 error``."""
    counts = verdict.counts
    parts = ", ".join(f"{counts[status]} {status.lower()}" for status in Status)
    return f"{len(verdict.outcomes)} rule{'s' if len(verdict.outcomes) != 1 else ''}: {parts}"


def gate_sentence(verdict: Verdict) -> str:
    """Whether the gate passed and why, in one sentence."""
    if verdict.passed:
        return "The gate passed" + (" (warnings do not fail it)." if verdict.status == "WARN" else ".")
    reason = {Status.ERROR: "a rule could not be evaluated (ERROR fails the gate)", Status.FAIL: "a rule failed",
              Status.WARN: "a rule warned and warnings fail this gate (--fail-on warn)"}[Status(verdict.status)]
    return f"The gate failed: {reason}."

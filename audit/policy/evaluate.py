"""Rules -> outcomes, pure: a document (audit.json as a dict), optionally a baseline document,
in; a :class:`~audit.results.Verdict` out. An exception inside a rule becomes that rule's ERROR
with its message; it never stops the other rules or the audit.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass

from ..results import Observation, RuleOutcome, Status, Verdict
from .figures import as_number, derived_figures, walk
from .rules import PolicyPack, Rule

__all__ = ["Gate", "evaluate", "evaluate_rule"]

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
            "!=": operator.ne}


@dataclass(frozen=True)
class Gate:
    """What a run or a comparison is gated on: policy packs, when warnings fail, the baseline."""

    packs: tuple[PolicyPack, ...] = ()
    fail_on: str = "fail"
    baseline: dict | None = None
    baseline_path: str | None = None


def evaluate(gate: Gate, document: dict) -> Verdict | None:
    """Every rule of ``gate``'s packs on ``document``; None when there are no packs."""
    if not gate.packs:
        return None
    outcomes = tuple(evaluate_rule(rule, document, policy=pack.name, baseline=gate.baseline)
                     for pack in gate.packs for rule in pack.rules)
    status = Status.worst(outcome.status for outcome in outcomes)
    failing = (Status.FAIL, Status.ERROR, Status.WARN) if gate.fail_on == "warn" else (Status.FAIL, Status.ERROR)
    return Verdict(status=status, passed=status not in failing, fail_on=gate.fail_on,
                   policies=tuple(pack.name for pack in gate.packs), baseline=gate.baseline_path,
                   outcomes=outcomes)


def evaluate_rule(rule: Rule, document: dict, *, policy: str = "", baseline: dict | None = None) -> RuleOutcome:
    """One rule on ``document``: PASS, WARN, FAIL, or ERROR when the rule itself could not run."""
    try:
        observations = _observe(rule, document, baseline)
        status, detail = _judge(rule, observations)
    except Exception as error:  # noqa: BLE001 - a broken rule is an ERROR outcome, never a crash
        observations, status, detail = (), Status.ERROR, f"{type(error).__name__}: {error}"
    return RuleOutcome(rule=rule.id, policy=policy, status=status, severity=rule.severity, subject=rule.subject(),
                       condition=rule.condition(), message=rule.message, detail=detail, rationale=rule.rationale,
                       observations=tuple(observations))


def _values(rule: Rule, document: dict) -> dict[str, float | None]:
    """``{target: number}`` the rule reads from ``document``."""
    if rule.metric in derived_figures():
        found = derived_figures()[rule.metric].values(document, layers=rule.layers, role=rule.role)
    else:
        found = walk(document, rule.resolved_path(), layers=rule.layers, role=rule.role)
    return {target: as_number(value) for target, value in found}


def _observe(rule: Rule, document: dict, baseline: dict | None) -> list[Observation]:
    new = _values(rule, document)
    if rule.change == "none":
        return [Observation(target, value, _check(rule, value)) for target, value in new.items()]
    if baseline is None:
        raise ValueError(f"a {rule.change} change needs a baseline audit (run --baseline, or compare)")
    old = _values(rule, baseline)
    observations = []
    for target, value in new.items():
        delta = _change(value, old.get(target), rule.change)
        observations.append(Observation(target, delta, _check(rule, delta), baseline=old.get(target)))
    return observations


def _change(new: float | None, old: float | None, kind: str) -> float | None:
    if new is None or old is None:
        return None
    if kind == "absolute":
        return new - old
    if old == 0:
        return 0.0 if new == 0 else float("inf") if new > 0 else float("-inf")
    return (new - old) / abs(old)


def _check(rule: Rule, value: float | None) -> Status:
    if value is None:
        return _missing_status(rule)
    if _COMPARE[rule.must_be](value, rule.threshold):
        return Status.PASS
    return Status.FAIL if rule.severity == "fail" else Status.WARN


def _missing_status(rule: Rule) -> Status:
    return Status(rule.missing.upper())


def _judge(rule: Rule, observations: Sequence[Observation]) -> tuple[Status, str]:
    """The rule's status (its worst observation) and a sentence on what decided it."""
    if not observations:
        return _missing_status(rule), f"nothing selected (missing: {rule.missing})"
    worst = max(observations, key=lambda item: item.status.rank)
    measured = [item for item in observations if item.value is not None]
    if len(observations) > 1 and (not measured or (worst.status == Status.PASS and len(measured) > 1)):
        return worst.status, _all_alike(rule, len(measured), len(observations))
    if worst.status == Status.PASS and measured:
        worst = measured[0]  # the one value measured, rather than one that was not
    where = "" if worst.target == "model" else f"{worst.target}: "
    if worst.value is None:
        found = f"not measured (missing: {rule.missing})"
    elif worst.status == Status.PASS:
        found = f"{worst.value:.4g}, {rule.condition()}"
    else:
        found = f"{worst.value:.4g}, required {rule.condition()}"
    same = sum(item.status == worst.status for item in observations)
    tally = f" ({same} of {len(observations)} {worst.status})" if len(observations) > 1 else ""
    return worst.status, f"{where}{found}{tally}"


def _all_alike(rule: Rule, measured: int, total: int) -> str:
    """The detail of several values that end alike: every measured one passes, or none was measured."""
    if not measured:
        return f"{total} values, all not measured (missing: {rule.missing})"
    rest = f" ({total - measured} not measured, missing: {rule.missing})" if measured < total else ""
    return f"all {measured} values {rule.condition()}{rest}"


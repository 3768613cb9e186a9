"""The policies' verdict on an audit: one outcome per rule, the values each rule checked, and
the one :class:`Status` scale every part of the tool (policy, render) reads."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, TypedDict

from .layout import Meta

__all__ = ["Status", "StatusCounts", "Observation", "RuleOutcome", "Verdict"]


class Status(str, enum.Enum):
    """A rule's outcome, from best to worst: PASS < WARN < FAIL < ERROR (a rule that could not
    be evaluated). A member equals its name as a string (``Status.FAIL == "FAIL"``) and prints as it."""

    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"

    __str__ = str.__str__
    __format__ = str.__format__

    @property
    def rank(self) -> int:
        return list(Status).index(self)

    @classmethod
    def worst(cls, statuses: Iterable[str]) -> Status:
        """The worst of ``statuses`` (PASS when there are none)."""
        return max((cls(status) for status in statuses), key=lambda status: status.rank, default=cls.PASS)


Count = Annotated[int, Meta(minimum=0)]
StatusCounts = TypedDict("StatusCounts", {status.value: Count for status in Status})


@dataclass(frozen=True)
class Observation:
    """One value a policy rule checked: ``target`` names where it came from (a layer, ``model``);
    with a baseline, ``baseline`` is the old value and ``value`` the change that was compared."""

    target: str
    value: float | None
    status: Status
    baseline: Annotated[float | None, Meta(description="the baseline's value when the rule compares a change")] = None


@dataclass(frozen=True)
class RuleOutcome:
    """One policy rule's outcome: ``status`` is PASS, WARN, FAIL or ERROR.

    ``subject`` and ``condition`` say in words what was checked (``redundancy_rate of layers
    blocks.*``, ``<= 0.9``); ``detail`` what was found (the worst observation, or the error's
    message for ERROR); ``observations`` every value checked.
    """

    rule: str
    policy: str
    status: Status
    severity: Literal["fail", "warn"]
    subject: str
    condition: str
    message: str
    detail: str
    rationale: str = ""
    observations: tuple[Observation, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The policies' verdict: ``status`` is the worst outcome (PASS < WARN < FAIL < ERROR);
    ``passed`` is False when a rule failed or errored, or warned with ``fail_on`` "warn"."""

    DERIVED: ClassVar[tuple[str, ...]] = ("counts",)

    status: Status
    passed: bool
    fail_on: Literal["fail", "warn"]
    policies: tuple[str, ...]
    baseline: str | None
    outcomes: tuple[RuleOutcome, ...]

    @property
    def counts(self) -> StatusCounts:
        """How many rules ended in each status (every status present, zero or not)."""
        return {status.value: sum(outcome.status == status for outcome in self.outcomes) for status in Status}

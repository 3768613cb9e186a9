"""A policy file's rules, validated with pydantic (``extra="forbid"``), before any model loads.

A rule names what it checks (``metric``: a registered metric or a derived figure; or ``path``:
any value in audit.json), which layers (``layers`` globs, ``role``), the requirement
(``must_be`` and ``threshold``, on the value or on its ``change`` from a baseline audit), and
what breaking it means (``severity``, ``message``, ``rationale``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..metrics import registry
from ..yaml_source import did_you_mean
from .figures import derived_figures, known_names, metric_path, top_level_keys

__all__ = ["Rule", "PolicyPack", "OPERATORS"]

OPERATORS = ("<", "<=", ">", ">=", "==", "!=")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One requirement on the audit: ``value must_be threshold``, else ``severity``."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="the rule's name (a JUnit test case)")
    metric: str | None = Field(None, description="a registered metric or a derived figure (see figures.derived_figures)")
    path: str | None = Field(None, description="dotted path into audit.json; '*' expands lists and mappings")
    field: Literal["value", "ci_low", "ci_high"] = Field("value", description="which number of a registered metric")
    layers: tuple[str, ...] = Field(("*",), min_length=1,
                                    description="globs over names of layers, head layers, cost targets, sweep groups")
    role: Literal["any", "hidden", "output"] = Field(
        "any", description="keep hidden layers (not the output, not task-fixed), the output, or any")
    must_be: Literal[OPERATORS] = Field(description="the comparison the value must satisfy")  # type: ignore[valid-type]
    threshold: float = Field(description="what the value is compared with")
    change: Literal["none", "absolute", "relative"] = Field(
        "none", description="compare the value itself, or its change from a baseline audit (new - old, or / |old|)")
    severity: Literal["fail", "warn"] = Field("fail", description="what breaking the rule means")
    missing: Literal["error", "pass", "warn", "fail"] = Field(
        "error", description="outcome when the value was not measured (null, absent, nothing selected)")
    message: str = Field(min_length=1, description="what to tell the reader when the rule is broken")
    rationale: str = Field("", description="why the rule exists")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in known_names():
            raise ValueError(f"unknown metric {value!r}{did_you_mean(value, known_names())}")
        return value

    @field_validator("path")
    @classmethod
    def _known_root(cls, value: str | None) -> str | None:
        if value is None:
            return value
        root = value.split(".", 1)[0]
        if root not in top_level_keys():
            raise ValueError(f"audit.json has no key {root!r}{did_you_mean(root, top_level_keys())}")
        if "" in value.split("."):
            raise ValueError(f"empty segment in path {value!r}")
        return value

    @model_validator(mode="after")
    def _one_subject(self):
        if (self.metric is None) == (self.path is None):
            raise ValueError("give exactly one of 'metric' and 'path'")
        if self.field != "value" and self.metric not in registry():
            raise ValueError("'field' applies to registered metrics only (twonn, mle, ...)")
        return self

    def resolved_path(self) -> str:
        """The audit.json path this rule reads ('' for a counted figure)."""
        if self.path is not None:
            return self.path
        if self.metric in registry():
            return metric_path(self.metric, self.field)
        return derived_figures()[self.metric].path

    def subject(self) -> str:
        """What the rule checks, in words: ``redundancy_rate of hidden layers blocks.*``."""
        name = self.path or (self.metric if self.field == "value" else f"{self.metric}.{self.field}")
        if self.resolved_path().count("*") == 0:
            return name
        where = "" if self.layers == ("*",) else " " + ", ".join(self.layers)
        if self.role == "output":
            return f"{name} of the output layer{where}"
        role = "hidden " if self.role == "hidden" else ""
        return f"{name} of {role}layers{where}" if (role or where) else name

    def condition(self) -> str:
        """The requirement in words: ``<= 0.9`` or ``relative change <= 0.05``."""
        prefix = "" if self.change == "none" else f"{self.change} change "
        return f"{prefix}{self.must_be} {self.threshold:g}"


class PolicyPack(_Strict):
    """A policy file: a name, a description, and its rules (unique ids)."""

    name: str = Field("", description="the pack's name (default: the file's stem)")
    description: str = Field("", description="what the pack is for")
    rules: tuple[Rule, ...] = Field(description="the rules, checked in order")

    @field_validator("rules")
    @classmethod
    def _some_rules_unique_ids(cls, rules):
        if not rules:
            raise ValueError("a policy needs at least one rule")
        seen = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return rules

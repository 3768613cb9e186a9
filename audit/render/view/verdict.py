"""Section and banner: the policies' verdict. The banner heads the report (status, whether the
gate passed, the counts); the section lists every rule, worst first, with what it checks, what
was found and why the rule exists."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ...results import Verdict
from ..verdict_rows import gate_sentence, ordered_outcomes, tally
from .context import ReportContext

__all__ = ["VerdictBanner", "VerdictView", "RuleRow", "banner", "build"]

_MISSING = Markup("Not evaluated: no policy was given (a spec's <code>policies:</code> or "
                  "<code>model-audit run --policy NAME</code>), so this audit gates nothing.")


@dataclass(frozen=True)
class VerdictBanner:
    status: str  # PASS, WARN, FAIL, ERROR: also the banner's CSS class
    headline: str
    detail: str
    section: int


@dataclass(frozen=True)
class RuleRow:
    status: str
    rule: str
    policy: str
    requirement: str
    found: str
    message: str
    rationale: str


@dataclass(frozen=True)
class VerdictView:
    rows: tuple[RuleRow, ...]
    policies: str
    missing: Markup | str


def banner(ctx: ReportContext) -> VerdictBanner | None:
    """The verdict under the report's title, None when no policy ran."""
    verdict = ctx.result.verdict
    if verdict is None:
        return None
    return VerdictBanner(status=verdict.status, headline=f"Policy verdict: {verdict.status}",
                         detail=f"{gate_sentence(verdict)} {tally(verdict)}.",
                         section=ctx.section_number("verdict"))


def build(ctx: ReportContext) -> VerdictView:
    verdict = ctx.result.verdict
    if verdict is None:
        return VerdictView(rows=(), policies="", missing=_MISSING)
    return VerdictView(rows=_rows(verdict), policies=_policies(verdict), missing="")


def _rows(verdict: Verdict) -> tuple[RuleRow, ...]:
    return tuple(RuleRow(status=outcome.status, rule=outcome.rule, policy=outcome.policy,
                         requirement=f"{outcome.subject} {outcome.condition}",
                         found=outcome.detail, message=outcome.message if outcome.status != "PASS" else "",
                         rationale=outcome.rationale)
                 for outcome in ordered_outcomes(verdict))


def _policies(verdict: Verdict) -> str:
    text = f"Policies: {', '.join(verdict.policies)}; warnings {'fail' if verdict.fail_on == 'warn' else 'do not fail'} the gate"
    return text + (f"; changes measured against {verdict.baseline}." if verdict.baseline else ".")

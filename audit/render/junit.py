"""junit.xml: the verdict as JUnit XML, one test case per rule, one test suite per policy pack.

The layout follows the Windy Road JUnit schema (Ant's JUnitReport format), which GitHub
reporters, GitLab and Jenkins read. FAIL becomes ``<failure>``, ERROR ``<error>``; WARN passes
(it is listed in the suite's ``system-out``) unless warnings fail the gate (``fail_on: warn``),
when it is a ``<failure>`` too.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..results import AuditResult, RuleOutcome, Verdict

__all__ = ["render"]

_PACKAGE = "model-audit"
# characters XML 1.0 cannot carry, whatever the escaping (layer names come from untrusted models)
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(result: AuditResult) -> bytes:
    """The JUnit XML of ``result.verdict`` (which must exist)."""
    verdict = result.verdict
    root = ET.Element("testsuites")
    for index, policy in enumerate(dict.fromkeys(verdict.policies)):
        outcomes = [outcome for outcome in verdict.outcomes if outcome.policy == policy]
        root.append(_suite(index, policy, outcomes, verdict, result))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _suite(index: int, policy: str, outcomes: list[RuleOutcome], verdict: Verdict, result: AuditResult) -> ET.Element:
    failing = [o for o in outcomes if _failed(o, verdict)]
    suite = ET.Element("testsuite", {
        "name": _clean(f"{_PACKAGE}.{policy}"), "package": _PACKAGE, "id": str(index),
        "timestamp": _timestamp(result.created), "hostname": "localhost", "tests": str(len(outcomes)),
        "failures": str(sum(o.status != "ERROR" for o in failing)), "errors": str(sum(o.status == "ERROR" for o in failing)),
        "time": "0"})
    properties = ET.SubElement(suite, "properties")
    for name, value in (("audit", result.title), ("model", result.model.source), ("verdict", verdict.status),
                        ("fail_on", verdict.fail_on)):
        ET.SubElement(properties, "property", {"name": name, "value": _clean(value)})
    for outcome in outcomes:
        suite.append(_case(outcome, verdict, policy))
    warned = [f"WARN {o.rule}: {o.message} ({o.detail})" for o in outcomes if o.status == "WARN"]
    ET.SubElement(suite, "system-out").text = _clean("\n".join(warned))
    ET.SubElement(suite, "system-err").text = ""
    return suite


def _case(outcome: RuleOutcome, verdict: Verdict, policy: str) -> ET.Element:
    case = ET.Element("testcase", {"name": _clean(outcome.rule), "classname": _clean(f"{_PACKAGE}.{policy}"),
                                   "time": "0"})
    if _failed(outcome, verdict):
        tag = "error" if outcome.status == "ERROR" else "failure"
        element = ET.SubElement(case, tag, {"message": _clean(outcome.message), "type": outcome.status})
        element.text = _clean(f"{outcome.subject} must be {outcome.condition}: {outcome.detail}")
    return case


def _failed(outcome: RuleOutcome, verdict: Verdict) -> bool:
    return outcome.status in ("FAIL", "ERROR") or (outcome.status == "WARN" and verdict.fail_on == "warn")


def _timestamp(created: str) -> str:
    """ISO 8601 without a time zone (the schema's pattern): ``2026-01-31T12:00:00``."""
    return created[:19] if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", created or "") else "1970-01-01T00:00:00"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", str(text))

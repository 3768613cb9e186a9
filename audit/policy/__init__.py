"""Policies: YAML rules over an audit -> PASS / WARN / FAIL / ERROR, and the gate's verdict.

A package rather than one ``policy.py`` (DESIGN.md): the rule model (:mod:`.rules`), what a rule
can name (:mod:`.figures`), reading files (:mod:`.load`) and the pure evaluation
(:mod:`.evaluate`) are four responsibilities.
"""

from __future__ import annotations

from .evaluate import Gate, evaluate, evaluate_rule
from .figures import derived_figures, known_names
from .load import gate_for, load_pack, read_audit, resolve_reference, stock_packs
from .rules import OPERATORS, PolicyPack, Rule

__all__ = ["derived_figures", "OPERATORS", "Gate", "PolicyPack", "Rule", "evaluate", "evaluate_rule",
           "gate_for", "known_names", "read_audit", "load_pack", "resolve_reference", "stock_packs"]

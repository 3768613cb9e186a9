"""The JSON Schema of audit.json, generated from the result types (:mod:`.layout`) and the
registered stages; ``audit/schema/audit.schema.json`` is this function's output, committed so
that the installed package, CI jobs and other tools read it without importing model-audit.

Regenerate it after changing a result type: ``python -m audit.results.schema``
(``tests/test_schema.py`` fails while the committed file differs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .core import SCHEMA_VERSION, AuditResult
from .layout import schema_of, type_schema

__all__ = ["SCHEMA_FILE", "audit_schema", "schema_text"]

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "audit.schema.json"


def audit_schema() -> dict:
    """The schema of ``AuditResult.to_dict()``: the fields, each stage's result (or null) under its key."""
    from ..stages import stages

    definitions: dict[str, dict] = {}
    document = schema_of(AuditResult, definitions)
    audit = definitions.pop(document["$ref"].rsplit("/", 1)[1])
    properties = dict(audit["properties"])
    properties.pop("stages")
    results = {stage.key: type_schema(stage.result | None, definitions) for stage in stages()}
    before = {key: properties.pop(key) for key in AuditResult.BEFORE_STAGES}
    ordered = {"schema_version": {"const": SCHEMA_VERSION}, **before, **results, **properties}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://model-audit.invalid/schema/audit-{SCHEMA_VERSION}.json",
        "title": "model-audit audit.json",
        "description": "What one audit measured. Written by `model-audit run`; generated from the result types "
                       "(audit/results/, audit/stages/*/) by audit/results/schema.py.",
        "type": "object",
        "required": list(ordered),
        "additionalProperties": False,
        "properties": ordered,
        "$defs": dict(sorted(definitions.items())),
    }


def schema_text() -> str:
    return json.dumps(audit_schema(), indent=2) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)

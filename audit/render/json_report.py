"""audit.json: ``AuditResult.to_dict()``, validated by the schema shipped with the package."""

from __future__ import annotations

import json
import math
from importlib import resources

__all__ = ["render", "schema"]


def render(result) -> str:
    return json.dumps(_finite(result.to_dict()), indent=2, allow_nan=False) + "\n"


def schema() -> dict:
    """The JSON Schema of audit.json."""
    return json.loads(resources.files("audit").joinpath("schema/audit.schema.json").read_text(encoding="utf-8"))


def _finite(value):
    """Non-finite floats (an unbounded interval end) become null: JSON has no NaN or inf."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value

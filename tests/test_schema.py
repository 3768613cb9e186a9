"""audit.json's layout and its JSON Schema come from the result types: the committed schema is
the generated one, every stage's result is in it, and a document built from the types is
valid against it while one with a stray key or a wrong type is not."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import jsonschema
import pytest

from audit.results import Meta, as_json
from audit.results.layout import schema_of
from audit.results.schema import SCHEMA_FILE, audit_schema, schema_text
from audit.stages import stage_keys


def test_the_committed_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), \
        "audit/schema/audit.schema.json is stale: run python -m audit.results.schema"


def test_every_stage_has_its_key_and_the_schema_is_valid_draft_2020_12():
    schema = audit_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(stage_keys()) <= set(schema["required"])


@dataclasses.dataclass(frozen=True)
class _Inner:
    """An inner record. More text."""

    count: int


@dataclasses.dataclass(frozen=True)
class _Outer:
    DERIVED = ("double=twice",)

    name: str
    inner: _Inner | None
    values: tuple[float, ...]
    share: Annotated[float, Meta(minimum=0, maximum=1)] = 0.5

    @property
    def twice(self) -> float:
        return 2 * self.share


def test_layout_and_schema_agree_on_a_small_type():
    definitions = {}
    schema = {**schema_of(_Outer, definitions), "$defs": definitions}
    document = as_json(_Outer("a", _Inner(3), (1.0, 2.0), 0.25))
    assert document == {"name": "a", "inner": {"count": 3}, "values": [1.0, 2.0], "share": 0.25, "double": 0.5}
    jsonschema.validate(document, schema)
    assert definitions["__inner"]["description"] == "An inner record"
    for broken in ({**document, "stray": 1}, {**document, "share": 2.0}, {**document, "values": ["x"]},
                   {key: value for key, value in document.items() if key != "double"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(json.loads(json.dumps(broken)), schema)

"""audit.json from the result types: one walk over a frozen dataclass gives its JSON layout
(:func:`as_json`), another its JSON Schema (:func:`schema_of`), so the two cannot drift apart.

A result type says everything about its JSON through its annotations:

- each field is a key, in declaration order; ``tuple``/``list`` become arrays, ``dict`` objects,
  an :class:`enum.Enum` its value, a nested dataclass its own layout;
- ``Annotated[int, Meta(minimum=0, description="...")]`` adds JSON Schema keywords to a field;
- ``DERIVED: ClassVar[tuple[str, ...]]`` names properties written after the fields (their
  return annotation is their schema); ``"key=attribute"`` writes ``attribute`` under ``key``;
- ``SCHEMA_EXTRA: ClassVar[dict]`` adds keywords to the type's own schema (an ``if``/``then``);
- a ``TypedDict`` is an object with exactly its keys; ``Literal`` an ``enum``.

The type's description in the schema is the first sentence of its docstring.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

__all__ = ["Meta", "as_json", "schema_of", "definition_name"]


@dataclass(frozen=True)
class Meta:
    """JSON Schema keywords of one field: ``Annotated[int, Meta(minimum=1)]``."""

    description: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusiveMinimum: float | None = None  # noqa: N815 (the JSON Schema keyword)
    exclusiveMaximum: float | None = None  # noqa: N815
    minItems: int | None = None  # noqa: N815
    pattern: str | None = None

    def keywords(self) -> dict:
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


def as_json(value) -> Any:
    """``value`` as JSON-ready data: dataclasses by their fields and ``DERIVED`` properties."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key: as_json(item) for key, item in _items(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [as_json(item) for item in value]
    return value


def _items(obj):
    for item in dataclasses.fields(obj):
        yield item.name, getattr(obj, item.name)
    for key, attribute in _derived(type(obj)):
        yield key, getattr(obj, attribute)


def _derived(cls) -> list[tuple[str, str]]:
    return [tuple(entry.split("=", 1)) if "=" in entry else (entry, entry) for entry in getattr(cls, "DERIVED", ())]


def definition_name(cls) -> str:
    """The ``$defs`` name of a result type: its class name in snake case (``CostRow`` -> ``cost_row``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def schema_of(cls, definitions: dict[str, dict]) -> dict:
    """The schema of dataclass ``cls`` (a ``$ref``), adding its definition and those of the
    types it holds to ``definitions``."""
    name = definition_name(cls)
    if name not in definitions:
        definitions[name] = {}  # reserved first: a type may hold itself
        definitions[name] = _object_schema(cls, definitions)
    return {"$ref": f"#/$defs/{name}"}


def _object_schema(cls, definitions: dict) -> dict:
    hints = typing.get_type_hints(cls, include_extras=True)
    properties = {item.name: type_schema(hints[item.name], definitions) for item in dataclasses.fields(cls)}
    for key, attribute in _derived(cls):
        getter = getattr(cls, attribute).fget
        properties[key] = type_schema(typing.get_type_hints(getter, include_extras=True)["return"], definitions)
    out = {"type": "object"}
    description = _first_sentence(cls.__doc__)
    if description:
        out["description"] = description
    out.update(required=list(properties), additionalProperties=False, properties=properties)
    out.update(getattr(cls, "SCHEMA_EXTRA", {}))
    return out


def _first_sentence(doc: str | None) -> str:
    text = " ".join((doc or "").split())
    return re.split(r"(?<=[a-z)\]`])\. ", text, maxsplit=1)[0].rstrip(".").replace("``", "`")


def type_schema(annotation, definitions: dict) -> dict:
    """The schema of one annotation (see the module's docstring for what each form becomes)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        schema = type_schema(args[0], definitions)
        for meta in args[1:]:
            if isinstance(meta, Meta):
                schema = {**schema, **meta.keywords()}
        return schema
    if origin in (Union, types.UnionType):
        return _union_schema(args, definitions)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (tuple, list):
        return {"type": "array", "items": type_schema(args[0], definitions)}
    if origin in (dict, collections.abc.Mapping):
        value = args[1] if args else Any
        return {"type": "object"} if value is Any else {"type": "object", "additionalProperties": type_schema(value, definitions)}
    return _plain_schema(annotation, definitions)


_PRIMITIVES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def _plain_schema(annotation, definitions: dict) -> dict:
    if annotation is Any:
        return {}
    if annotation in _PRIMITIVES:
        return {"type": _PRIMITIVES[annotation]}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"enum": [member.value for member in annotation]}
    if dataclasses.is_dataclass(annotation):
        return schema_of(annotation, definitions)
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation, include_extras=True)
        return {"type": "object", "required": list(hints), "additionalProperties": False,
                "properties": {key: type_schema(hint, definitions) for key, hint in hints.items()}}
    raise TypeError(f"no JSON Schema for the annotation {annotation!r}")


def _union_schema(args, definitions: dict) -> dict:
    """``X | None``: a nullable type (``["integer", "null"]``), or ``oneOf`` for objects and enums."""
    members = [type_schema(arg, definitions) for arg in args]
    if all(isinstance(member.get("type"), str) for member in members):
        merged = {key: value for member in members for key, value in member.items() if key != "type"}
        return {"type": [member["type"] for member in members], **merged}
    return {"oneOf": members}

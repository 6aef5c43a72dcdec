"""The house rules for a model's parameter schema, stricter than JSON Schema itself.

JSON Schema ignores keywords it does not know, so a YAML slip such as an unquoted comma in a flow
mapping (`{description: Same prompt and seed, same image.}`) still yields a valid schema, with a
stray keyword named "same image." that `GET /models` then publishes. These rules close that gap:
the schema is a JSON Schema (Draft 2020-12) AND every (sub)schema uses only the keywords listed
here, states its `type`, and names its properties in snake_case. The rules are themselves a JSON
Schema, so jsonschema reports each fault with its path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

PROPERTY_NAME = r"^[a-z][a-z0-9_]{0,63}$"
FILE_KINDS = ("image", "audio", "video")

_SCHEMA = {"$ref": "#/$defs/schema"}
_SCHEMAS = {"type": "array", "minItems": 1, "items": _SCHEMA}
_ANY: dict[str, Any] = {}  # the Draft 2020-12 meta-schema checks the value
_NUMBER = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}

RULES: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "allOf": [_SCHEMA],
    # The top level describes the `input` object itself.
    "required": ["type", "properties"],
    "properties": {"type": {"const": "object"}},
    "$defs": {
        "schema": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {
                "type": _ANY,
                "title": {"type": "string"},
                "description": {"type": "string"},
                "default": _ANY,
                "examples": {"type": "array"},
                "deprecated": {"type": "boolean"},
                "enum": _ANY,
                "const": _ANY,
                "format": {"type": "string"},
                "minimum": _NUMBER,
                "maximum": _NUMBER,
                "exclusiveMinimum": _NUMBER,
                "exclusiveMaximum": _NUMBER,
                "multipleOf": _NUMBER,
                "minLength": _COUNT,
                "maxLength": _COUNT,
                "pattern": {"type": "string"},
                "minItems": _COUNT,
                "maxItems": _COUNT,
                "uniqueItems": {"type": "boolean"},
                "items": _SCHEMA,
                "required": {"type": "array", "items": {"pattern": PROPERTY_NAME}},
                "properties": {
                    "type": "object",
                    "propertyNames": {"pattern": PROPERTY_NAME},
                    "additionalProperties": _SCHEMA,
                },
                "additionalProperties": {"type": "boolean"},
                "anyOf": _SCHEMAS,
                "oneOf": _SCHEMAS,
                "x-rivya-file": {"enum": list(FILE_KINDS)},
            },
        }
    },
}
"""What a parameter schema may be: a JSON Schema of an object, built from these keywords only."""

_RULES = Draft202012Validator(RULES)


def faults(schema: Any) -> list[str]:
    """Every way in which `schema` breaks the rules, each as "<path>: <problem>" with a path
    such as `parameters.properties.seed`; empty for a good schema."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"{_where(exc.absolute_path)}: not a valid JSON Schema: {exc.message}"]
    found = [f"{_where(e.absolute_path)}: {e.message}" for e in _leaves(_RULES.iter_errors(schema))]
    if not found:
        found = list(_bad_defaults(schema))
    return sorted(set(found))


def _leaves(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    # An `allOf` or `$ref` failure only wraps the errors that say what is wrong; report those.
    for error in errors:
        if error.context:
            yield from _leaves(iter(error.context))
        else:
            yield error


def _bad_defaults(schema: dict[str, Any]) -> Iterator[str]:
    """Defaults that their own property's schema refuses (the API fills them in unchecked)."""
    for name, prop in schema["properties"].items():
        if "default" in prop:
            for error in Draft202012Validator(prop).iter_errors(prop["default"]):
                where = _where(["properties", name, "default"])
                yield f"{where}: the default {prop['default']!r} is invalid: {error.message}"


def _where(path: Any) -> str:
    return "".join(["parameters", *(f".{part}" for part in path)])

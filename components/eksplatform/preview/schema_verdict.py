"""Verdict-only JSON Schema checks compiled to Python closures, once per definition.

:class:`~eksplatform.preview.kube_schema.KubeSchemaValidator` asks this first: a manifest the
compiled check accepts is valid, and only one it rejects goes through ``jsonschema`` (which finds
every error with its path and message). Nearly every object of a preview is valid, so the full
validator runs for the few that are not, and both give the same verdict, the same errors and the
same paths as before.

Design decision: compile the schema's vocabulary ourselves instead of a code generator such as
``fastjsonschema`` (which supports drafts up to 7, stops at the first error and generates source
per root schema, so every kind would compile the shared Pod types again: seconds per process).
Closures are built on first use per definition and shared through ``$ref`` by every kind that
refers to it, so a preview pays for what it checks, in microseconds. The cost: this module
re-states the semantics of the keywords the Kubernetes schemas use (``type``, ``properties``,
``additionalProperties``, ``required``, ``items``, ``enum``, ``oneOf``, ``$ref``) as
``jsonschema``'s Draft 2020-12 validator applies them (no ``format`` assertion, booleans are not
integers but ``2.0`` is one, only ``list`` is an array and only ``dict`` an object, ``enum`` compares without
``True == 1``), plus the ``oneOf`` that accepts ``null`` (see ``kube_schema``). A schema using any
other keyword is refused (:class:`UnsupportedSchemaError`) and its kind is left to ``jsonschema``
alone. ``tests/preview/test_schema_verdict.py`` runs both on a corpus of valid and broken objects
and compares verdicts and error paths.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any, Final

from jsonschema._utils import equal

Check = Callable[[Any], bool]
"""Whether one value is valid against one (sub)schema."""

_ANNOTATIONS: Final = frozenset({"description", "format", "title", "default", "$schema", "$id"})
_KEYWORDS: Final = frozenset(
    {"type", "properties", "additionalProperties", "required", "items", "enum", "oneOf", "$ref"}
)
_EXACT_TYPES: Final[dict[type, str]] = {
    str: "string",
    int: "integer",
    bool: "boolean",
    float: "number",
    type(None): "null",
    dict: "object",
    list: "array",
}


class UnsupportedSchemaError(ValueError):
    """The schema uses something this compiler does not implement (left to ``jsonschema``)."""


def _json_types(value: Any) -> tuple[str, ...]:
    """The JSON types ``jsonschema``'s Draft 2020-12 type checker gives a Python value."""
    exact = _EXACT_TYPES.get(type(value))
    if exact == "integer":
        return ("integer", "number")
    if exact == "number":  # Draft 6 on: a float with no fractional part is an integer
        return ("integer", "number") if value.is_integer() else ("number",)
    if exact is not None:
        return (exact,)
    if isinstance(value, bool):
        return ("boolean",)
    found: list[str] = []
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        found.append("integer")
    if isinstance(value, numbers.Number):
        found.append("number")
    if isinstance(value, str):
        found.append("string")
    if isinstance(value, list):
        found.append("array")
    if isinstance(value, dict):
        found.append("object")
    return tuple(found)


def _always(_value: Any) -> bool:
    return True


def _never(_value: Any) -> bool:
    return False


class CompiledDefinitions:
    """Checks for the definitions of one schema document (``{"$defs": {...}}``), addressed as
    ``#/$defs/<name>`` or ``<base uri>#/$defs/<name>``; each compiled on first use."""

    def __init__(self, base_uri: str, definitions: Mapping[str, Any]) -> None:
        self._prefixes = (f"{base_uri}#/$defs/", "#/$defs/")
        self._definitions = definitions
        self._cells: dict[str, list[Check]] = {}

    def check_for(self, name: str) -> Check:
        """The check of one definition; :class:`UnsupportedSchemaError` when it (or anything it
        refers to) cannot be compiled."""
        return self._definition(name)

    # ---------------------------------------------------------------------------------- compiling

    def _definition(self, name: str) -> Check:
        cell = self._cells.get(name)
        if cell is None:
            if name not in self._definitions:
                raise UnsupportedSchemaError(f"no definition {name!r}")
            cell = [_never]  # replaced below; a recursive reference reads it at check time
            self._cells[name] = cell
            try:
                cell[0] = self._compile(self._definitions[name])
            except UnsupportedSchemaError:
                del self._cells[name]
                raise
            return cell[0]

        def via_cell(value: Any) -> bool:
            return cell[0](value)

        return via_cell

    def _ref(self, ref: Any) -> Check:
        if isinstance(ref, str):
            for prefix in self._prefixes:
                if ref.startswith(prefix) and "/" not in ref[len(prefix) :]:
                    return self._definition(ref[len(prefix) :])
        raise UnsupportedSchemaError(f"$ref {ref!r}")

    def _compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise UnsupportedSchemaError(f"schema {schema!r}")
        unknown = [
            k
            for k in schema
            if k not in _KEYWORDS and k not in _ANNOTATIONS and not k.startswith("x-kubernetes-")
        ]
        if unknown:
            raise UnsupportedSchemaError(f"keywords {sorted(unknown)}")
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self._ref(schema["$ref"]))
        if "type" in schema:
            checks.append(_type_check(schema["type"]))
        if "enum" in schema:
            checks.append(_enum_check(schema["enum"]))
        if {"properties", "additionalProperties", "required"} & schema.keys():
            checks.append(self._object_check(schema))
        if "items" in schema:
            checks.append(self._items_check(schema["items"]))
        if "oneOf" in schema:
            checks.append(self._one_of_check(schema["oneOf"]))
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks

            def both(value: Any) -> bool:
                return first(value) and second(value)

            return both
        frozen = tuple(checks)

        def every(value: Any) -> bool:
            return all(check(value) for check in frozen)

        return every

    def _object_check(self, schema: dict[str, Any]) -> Check:
        properties_schema = schema.get("properties", {})
        if not isinstance(properties_schema, dict):
            raise UnsupportedSchemaError(f"properties {properties_schema!r}")
        properties = {k: self._compile(v) for k, v in properties_schema.items()}
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise UnsupportedSchemaError(f"required {required!r}")
        required_keys = tuple(required)
        additional_schema = schema.get("additionalProperties", True)
        closed = additional_schema is False
        additional = None if additional_schema is True else self._compile(additional_schema)

        def check_object(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key in required_keys:
                if key not in value:
                    return False
            for key, item in value.items():
                check = properties.get(key)
                if check is not None:
                    if not check(item):
                        return False
                elif closed or (additional is not None and not additional(item)):
                    return False
            return True

        return check_object

    def _items_check(self, items_schema: Any) -> Check:
        item = self._compile(items_schema)

        def check_items(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            return all(item(element) for element in value)

        return check_items

    def _one_of_check(self, alternatives: Any) -> Check:
        if not isinstance(alternatives, list):
            raise UnsupportedSchemaError(f"oneOf {alternatives!r}")
        checks = tuple(self._compile(alt) for alt in alternatives)

        def check_one_of(value: Any) -> bool:
            matched = 0
            for check in checks:
                if check(value):
                    matched += 1
            if matched == 1:
                return True
            # kube_schema's oneOf: null is accepted when every alternative accepts it.
            return value is None and matched == len(checks)

        return check_one_of


def _type_check(type_keyword: Any) -> Check:
    wanted = frozenset([type_keyword] if isinstance(type_keyword, str) else type_keyword)
    if not all(isinstance(t, str) for t in wanted):
        raise UnsupportedSchemaError(f"type {type_keyword!r}")
    exact_ok = {py for py, name in _EXACT_TYPES.items() if name in wanted}
    if "number" in wanted:
        exact_ok.update((int, float))
    elif "integer" in wanted:
        exact_ok.discard(float)  # an integral float is one, decided below

    def check_type(value: Any) -> bool:
        if type(value) in exact_ok:
            return True
        if type(value) in _EXACT_TYPES and type(value) is not float:
            return False
        return any(t in wanted for t in _json_types(value))

    return check_type


def _enum_check(values: Any) -> Check:
    if not isinstance(values, list):
        raise UnsupportedSchemaError(f"enum {values!r}")
    strings = frozenset(v for v in values if isinstance(v, str))
    others = tuple(v for v in values if not isinstance(v, str))

    def check_enum(value: Any) -> bool:
        if isinstance(value, str):
            return value in strings
        return any(equal(each, value) for each in others)

    return check_enum

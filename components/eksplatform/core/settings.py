"""The base every typed settings model of the library builds on, and how its errors read.

Stack configuration sections (``platform:nodePools``, ``platform:descheduler``...) are pydantic
models derived from :class:`SettingsModel`: unknown keys are refused, values are frozen, and keys
are camelCase in YAML (``minSize``) while Python uses snake_case (``min_size``). Each section
model lives beside the component that consumes it (``node_pools.py`` holds ``NodePoolConfig``),
and :mod:`eksplatform.cluster.config` composes them into the whole stack configuration.

Design decision: scalars are read the way ``pulumi up`` reads them, not the way pydantic's lax
mode would. The Pulumi CLI hands a top-level scalar to the program as its text and the Python
SDK's ``Config.get_bool`` accepts only ``true``/``false`` (and ``True``/``False``); pydantic alone
would turn ``"yes"``, ``"on"`` or ``1`` into ``True``. So a boolean field takes a boolean or one
of those four words, a number field refuses booleans, and a text field refuses numbers and
booleans (quote them) instead of failing later in a less clear place. The cost: a stack file that
relied on ``enabled: yes`` must write ``true``, which is what the CLI needs anyway.

A check that spans several fields raises :func:`field_error` from a ``model_validator`` so the
message still points at one field (``platform:nodePools[0].minSize``) and quotes its value;
:func:`pydantic_problems` turns a pydantic error into :class:`~eksplatform.core.errors.Problem`
lines naming each key as the user wrote it.

Quantities: :data:`CpuRequest` and :data:`MemoryRequest` are Kubernetes quantities that parse
*and* mean something for one pod: more than 0 CPU (1m at least: Kubernetes cannot schedule less),
at most :data:`MAX_POD_CPU_MILLIS`; memory at least :data:`MIN_POD_MEMORY` and never in the
``m`` (milli-byte) unit, which parses but is a fraction of a byte. Whether a pod fits a node of
the cluster is checked across sections (:mod:`eksplatform.cluster.plan`).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeGuard, Union

import pydantic
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from .errors import MISSING, Problem
from .kube import parse_cpu, parse_memory
from .pulumi_yaml import is_yaml11_bool, yaml11_bool_note

FIELD_MARK = "\x1f"
"""Separates the field path from the message in :func:`field_error` (never in user text)."""

RETENTION_DAYS: tuple[int, ...] = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)
"""The only retention periods CloudWatch Logs accepts."""

DNS_LABEL = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?\Z")
"""An RFC 1123 label starting with a letter: Kubernetes namespace/Service names (``\\Z``: a
trailing newline never passes, with ``match`` or ``fullmatch``)."""

MAX_POD_CPU_MILLIS = 192_000
"""The most CPU one pod can ask for: 192 vCPU, the largest EC2 sizes node pools could ever use."""
MIN_POD_MEMORY = 2**20
"""1Mi: below it no container starts (a smaller value is a unit mistake, like 100m for 100Mi)."""

_BOOL_WORDS = {"true": True, "True": True, "false": False, "False": False}
EMPTY = "is empty; remove the key to keep its default, or give it a value"
"""The message for a key written with no value (``key:`` or ``key: ~`` in YAML)."""
EMPTY_REQUIRED = "is empty; give it a value"


def field_error(path: str, message: str) -> ValueError:
    """A model-level check's error, pointed at one of the model's fields (dotted alias path,
    relative to the model raising it, e.g. ``"minSize"`` or ``"quota.cpu"``)."""
    return ValueError(f"{FIELD_MARK}{path}{FIELD_MARK}{message}")


def check_retention(days: int) -> int:
    """Field validator body for CloudWatch retention periods."""
    if days not in RETENTION_DAYS:
        raise ValueError(f"CloudWatch accepts only {', '.join(map(str, RETENTION_DAYS))}")
    return days


# --- quantities ---------------------------------------------------------------------------------


def cpu_request_problem(value: str) -> str | None:
    """Why ``value`` cannot be one pod's CPU request (or limit), or None."""
    try:
        millis = parse_cpu(value)
    except ValueError as exc:
        return str(exc)
    if value != value.strip():
        return "remove the spaces around the quantity"
    if millis <= 0:
        return "must be more than 0 (a pod asks for at least 1m)"
    if millis < 1:
        return "is below 1m, the smallest CPU amount Kubernetes schedules; write at least 1m"
    if millis > MAX_POD_CPU_MILLIS:
        hint = "" if value.endswith("m") else f"; did you mean millicores, like {value}m?"
        return (
            f"is {millis / 1000:g} cores, more than any node offers (at most "
            f"{MAX_POD_CPU_MILLIS // 1000}){hint}"
        )
    return None


def memory_request_problem(value: str) -> str | None:
    """Why ``value`` cannot be one pod's memory request (or limit), or None."""
    try:
        size = parse_memory(value)
    except ValueError as exc:
        return str(exc)
    if value != value.strip():
        return "remove the spaces around the quantity"
    if value.endswith("m"):
        return (
            f"the m suffix means thousandths of a byte; write Mi (mebibytes), like {value[:-1]}Mi"
        )
    if size < MIN_POD_MEMORY:
        return f"is {size} bytes; no container starts with less than 1Mi: write it like 256Mi"
    return None


def _cpu_request(value: str) -> str:
    problem = cpu_request_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _memory_request(value: str) -> str:
    problem = memory_request_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _quantity_text(value: Any) -> Any:
    """A quantity written as a bare number (``cpu: 2``, ``cpu: 0.5``) means that many units, as
    in a Kubernetes manifest: take its text (derive rather than fail)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, "g") if isinstance(value, float) else str(value)
    return value


NUMBERS_AS_TEXT = BeforeValidator(_quantity_text)
"""Metadata of a text field that takes a bare number as its text (quantities)."""

CpuRequest = Annotated[str, NUMBERS_AS_TEXT, AfterValidator(_cpu_request)]
"""One pod's CPU (``"250m"``, ``"0.5"``, or a bare number of cores): more than 0, at most 192
cores."""
MemoryRequest = Annotated[str, NUMBERS_AS_TEXT, AfterValidator(_memory_request)]
"""One pod's memory (``"256Mi"``, ``"1Gi"``): at least 1Mi, never in milli-bytes."""


# --- scalars as the Pulumi CLI hands them -------------------------------------------------------


def _kinds(annotation: Any) -> set[type]:
    """The scalar types a field annotation admits (``bool | None`` -> ``{bool, NoneType}``)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        found: set[type] = set()
        for arg in typing.get_args(annotation):
            found |= _kinds(arg)
        return found
    if annotation is type(None):
        return {type(None)}
    if isinstance(annotation, type) and annotation in (bool, int, float, str):
        return {annotation}
    return {object}


def _yaml_note(text: str) -> str:
    return f"; {yaml11_bool_note(text)}" if is_yaml11_bool(text) else ""


def read_as_pulumi(value: Any, annotation: Any, *, required: bool = False) -> Any:
    """``value`` for a field of type ``annotation`` as ``pulumi up`` would accept it; raises
    ``ValueError`` with the fix when it would not (see the module docstring)."""
    kinds = _kinds(annotation)
    if value is None and type(None) not in kinds:
        raise ValueError(EMPTY_REQUIRED if required else EMPTY)
    if value is None or object in kinds:
        return value
    if kinds <= {bool, type(None)}:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in _BOOL_WORDS:
            return _BOOL_WORDS[value]
        note = _yaml_note(value) if isinstance(value, str) else ""
        raise ValueError(f"not a boolean: write true or false{note}")
    if isinstance(value, bool) and bool not in kinds:
        if kinds & {int, float}:
            raise ValueError("a number is expected, not a boolean")
        raise ValueError("text is expected, not a boolean; quote it if you mean the word")
    if kinds <= {str, type(None)} and isinstance(value, (int, float)):
        raise ValueError("text is expected, not a number; quote it in the stack file")
    return value


class SettingsModel(BaseModel):
    """Base of every stack configuration section: strict, frozen, camelCase keys."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _as_pulumi_reads(cls, value: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None  # always set for a field validator
        field = cls.model_fields[info.field_name]
        if any(m is NUMBERS_AS_TEXT for m in field.metadata):
            return value  # the field's own validator takes numbers
        return read_as_pulumi(value, field.annotation, required=field.is_required())

    def derived(self, **changes: Any) -> Any:
        """A copy with defaults filled in (for values derived from other sections)."""
        return self.model_copy(update=changes)


# --- rendering pydantic errors ------------------------------------------------------------------

KeyOf = Callable[[tuple[int | str, ...]], str]
"""Turns a pydantic location into the key the user wrote (``platform:nodePools[0].minSize``)."""


def _is_model(value: Any) -> TypeGuard[type[BaseModel]]:
    """``value`` is a model class (not ``str``, ``X | None`` or ``dict[str, str]``)."""
    return isinstance(value, type) and issubclass(value, BaseModel)


def model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class a location points into (to list its allowed keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not _is_model(current):
            return None
        field = next(
            (
                f
                for name, f in current.model_fields.items()
                if (f.alias or name) == part or name == part
            ),
            None,
        )
        if field is None:
            return None
        current = _model_in(field.annotation)
    return current if _is_model(current) else None


def _model_in(annotation: Any) -> Any:
    """The BaseModel inside ``X | None``, ``tuple[X, ...]``, ``Annotated[...]``, or the type."""
    if _is_model(annotation):
        return annotation
    for arg in typing.get_args(annotation) or ():
        found = _model_in(arg)
        if _is_model(found):
            return found
    return annotation


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted((f.alias or name) for name, f in model.model_fields.items())


_PLAIN = {
    "tuple_type": "must be a list, like [a, b] or one `- item` line each",
    "string_type": "must be text; quote it if it looks like a number or a boolean",
    "int_type": "must be a whole number, like 3",
    "int_parsing": "must be a whole number, like 3",
    "int_from_float": "must be a whole number, like 3 (no fraction)",
    "float_type": "must be a number, like 1.5",
    "float_parsing": "must be a number, like 1.5",
}
"""pydantic's error types whose own text speaks Python (``a valid tuple``, ``unable to parse
string as an integer``), in the stack file's words with the fix. (Booleans never get here:
:func:`read_as_pulumi` answers them first, as the CLI reads them.)"""
_MAPPING_TYPES = ("model_type", "model_attributes_type", "dict_type")
"""Errors of a value that must be a mapping (a section or a list item with keys)."""


def _plain_message(
    kind: str, model: type[BaseModel], loc: tuple[int | str, ...], message: str
) -> str:
    """The message for a pydantic error of type ``kind`` at ``loc``: plain words for the types
    above, else pydantic's own (its literal and bound messages already name what is allowed)."""
    if kind in _MAPPING_TYPES:
        inner = model_at(model, loc)
        keys = f" with the keys {', '.join(allowed_keys(inner))}" if inner is not None else ""
        return f"must be a mapping{keys} (one `key: value` line each)"
    return _PLAIN.get(kind, message)


def _strip_prefix(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def pydantic_problems(
    exc: pydantic.ValidationError,
    model: type[BaseModel],
    key_of: KeyOf,
    *,
    top_level_keys: Callable[[list[str]], list[str]] | None = None,
) -> list[tuple[tuple[int | str, ...], Problem]]:
    """Every error of ``exc`` (raised validating ``model``) as ``(location, Problem)``, the
    location being where the problem points (a model-level check's field included).

    ``top_level_keys`` turns the model's own field aliases into the keys the user writes at the
    top level (``network`` -> ``platform:network``), for "allowed keys" lists and suggestions."""
    out: list[tuple[tuple[int | str, ...], Problem]] = []
    for err in exc.errors():
        loc: tuple[int | str, ...] = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input", MISSING)
        if kind == "extra_forbidden":
            parent = model_at(model, loc[:-1])
            allowed = allowed_keys(parent) if parent else []
            typed = str(loc[-1])
            if not loc[:-1] and top_level_keys is not None:
                allowed = top_level_keys(allowed)
                typed = key_of(loc)
            message = f"unknown key; allowed keys here: {', '.join(sorted(allowed))}"
            close = difflib.get_close_matches(typed, allowed, n=1, cutoff=0.8)
            if close:
                message += f"; did you mean {close[0]}?"
            out.append((loc, Problem(key_of(loc), value, message)))
            continue
        if kind == "missing":
            out.append((loc, Problem(key_of(loc), MISSING, "required; add it to the stack file")))
            continue
        message = _plain_message(kind, model, loc, _strip_prefix(str(err["msg"])))
        if message.startswith(FIELD_MARK):
            # A model-level check that names its field: point at that field and quote its value.
            _, _, rest = message.partition(FIELD_MARK)
            path, _, message = rest.partition(FIELD_MARK)
            for part in path.split("."):
                value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
                loc = (*loc, part)
        out.append((loc, Problem(key_of(loc), value, message)))
    return out

"""The shape of ServiceStack's arguments: unknown, missing and mistyped arguments, all at once.

Design decision: **the argument classes never raise.** A dataclass ``__init__`` raises a bare
``TypeError`` (with a traceback) at the first unknown or missing keyword, so a misspelt
``min_replica=3`` inside ``Autoscaling(...)`` inside ``ServiceStackArgs(...)`` hid every other
mistake and named no field path. :func:`keyword_arguments` wraps each argument class's
``__init__`` so that it records what was wrong (unknown keywords, missing required ones,
positional arguments) on the instance and fills missing fields with :data:`MISSING_ARG`;
:func:`shape_problems` then walks the whole argument tree once, before any other check, and
reports each one under its path (``autoscaling.min_replica``) with the closest valid name, plus
every value whose type does not match its annotation. The cost: an argument object built with a
typo exists for a moment with defaults in place of what the user meant; it is only ever read by
:func:`eksplatform.service.validate.plan_service`, which refuses it before anything is
registered. Type checkers (mypy, pyright) still flag the same mistakes in the editor.

:func:`sanitized` returns a copy of the arguments where every mistyped value is replaced by its
default, so the value checks that follow never trip over a wrong type; their problems on those
fields are dropped (the type problem already names the field).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import pulumi

from ..core.errors import MISSING, Problem

T = TypeVar("T")


class _MissingArg:
    """Placeholder for a required argument that was not given."""

    _instance: _MissingArg | None = None

    def __new__(cls) -> _MissingArg:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"


MISSING_ARG: Any = _MissingArg()
"""What a required argument holds when it was not given (reported by :func:`shape_problems`)."""

_PROBLEMS_ATTR = "_eksplatform_arg_problems"


@dataclasses.dataclass(frozen=True)
class _ArgMistake:
    kind: str  # "unknown" | "missing" | "positional"
    name: str
    value: Any


def keyword_arguments(cls: type[T]) -> type[T]:
    """Class decorator (below ``@dataclass``): mistakes in the keyword arguments are recorded
    for :func:`shape_problems` instead of raised."""
    original: Callable[..., None] = cls.__init__
    params = [f for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    names = {f.name for f in params}
    required = [
        f.name
        for f in params
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - replaces it
        mistakes = [_ArgMistake("positional", str(i), a) for i, a in enumerate(args)]
        for key in [k for k in kwargs if k not in names]:
            mistakes.append(_ArgMistake("unknown", key, kwargs.pop(key)))
        for key in required:
            if key not in kwargs or kwargs[key] is MISSING_ARG:
                mistakes.append(_ArgMistake("missing", key, MISSING_ARG))
                kwargs[key] = MISSING_ARG
        original(self, **kwargs)
        object.__setattr__(self, _PROBLEMS_ATTR, tuple(mistakes))

    cls.__init__ = __init__  # type: ignore[method-assign]
    return cls


def _suggest(name: str, cls: type, params: Sequence[str]) -> str:
    """``did you mean ...? `` for a misspelt argument of ``cls``: the closest of its own
    arguments, or of the arguments of the classes it nests (``min_replica`` given to
    ServiceStackArgs means ``autoscaling=Autoscaling(min_replicas=...)``); empty when nothing is
    close."""
    candidates: dict[str, str] = {p: repr(p) for p in params}
    hints = _hints(cls)
    for p in params:
        for nested in _dataclasses_in(hints.get(p, Any)):
            if _is_argument_class(nested):
                for f in dataclasses.fields(nested):
                    if f.init and f.name not in candidates:
                        candidates[f.name] = f"{p}={nested.__name__}({f.name}=...)"
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not close:  # a case or underscore slip ("minReplicas", "MinReplicas")
        folded = {c.replace("_", "").lower(): c for c in candidates}
        hit = folded.get(name.replace("_", "").replace("-", "").lower())
        close = [hit] if hit else []
    return f"did you mean {candidates[close[0]]}? " if close else ""


_SINGULAR = {str: "a string", int: "an integer", float: "a number", bool: "True or False"}
_PLURAL = {str: "strings", int: "integers", float: "numbers", bool: "booleans"}


def _describe(tp: Any, plural: bool = False) -> str:
    """A type annotation in words, for messages (``plural`` for the items of a collection)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return "None"
    if tp is Any:
        return "values" if plural else "any value"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        if _is_input(tp):
            inner = _describe(_input_inner(tp), plural)
            return (
                f"{inner} or pulumi Outputs of them"
                if plural
                else (f"{inner} or a pulumi Output of one")
            )
        return " or ".join(_describe(a, plural) for a in args if not _is_awaitable_type(a))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"a tuple of {_describe(args[0], True)}"
    if origin in (list, tuple) or origin is typing.get_origin(Sequence[int]):
        return f"a list of {_describe(args[0], True)}" if args else "a list"
    if origin is dict or origin is typing.get_origin(Mapping[str, int]):
        return f"a mapping of {_describe(args[0], True)} to {_describe(args[1], True)}"
    if origin is pulumi.Output:
        return "pulumi Outputs" if plural else "a pulumi Output"
    if isinstance(tp, type):
        if plural:
            return _PLURAL.get(tp, f"{tp.__name__} objects")
        article = "an" if tp.__name__[:1].lower() in "aeiou" else "a"
        return _SINGULAR.get(tp, f"{article} {tp.__name__}")
    return str(tp)


@functools.cache
def _is_awaitable_type(tp: Any) -> bool:
    return typing.get_origin(tp) in (Awaitable, typing.get_origin(Awaitable[int]))


@functools.cache
def _is_input(tp: Any) -> bool:
    """``pulumi.Input[X]`` (``X | Awaitable[X] | Output[X]``)."""
    args = typing.get_args(tp)
    return any(_is_awaitable_type(a) for a in args) and any(
        typing.get_origin(a) is pulumi.Output for a in args
    )


@functools.cache
def _input_inner(tp: Any) -> Any:
    """``X`` of ``pulumi.Input[X]`` (its plain member: the Output member is a forward
    reference that keeps its type variable)."""
    for a in typing.get_args(tp):
        if not _is_awaitable_type(a) and typing.get_origin(a) is not pulumi.Output:
            return a
    return Any


@functools.cache
def _shape(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(tp), typing.get_args(tp)


def _matches(value: Any, tp: Any) -> bool:
    """Whether ``value`` fits the annotation ``tp`` (shallow for nested dataclasses, which
    :func:`shape_problems` walks itself)."""
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    origin, args = _shape(tp)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        if _is_input(tp):
            return isinstance(value, pulumi.Output) or _matches(value, _input_inner(tp))
        return any(_matches(value, a) for a in args if not _is_awaitable_type(a))
    if origin is pulumi.Output:
        return isinstance(value, pulumi.Output)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return isinstance(value, (tuple, list)) and all(_matches(v, args[0]) for v in value)
    if origin in (list, tuple) or origin is typing.get_origin(Sequence[int]):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            return False
        return not args or all(_matches(v, args[0]) for v in value)
    if origin in (dict,) or origin is typing.get_origin(Mapping[str, int]):
        if not isinstance(value, Mapping):
            return False
        return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
    if isinstance(tp, type):
        if tp is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if tp is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, tp)
    return True


def _hints(cls: type) -> dict[str, Any]:
    return _cached_hints(cls)


@functools.cache
def _cached_hints(cls: type) -> dict[str, Any]:
    # ``pulumi.Input[T]`` holds the forward reference 'Output': resolve it to pulumi.Output.
    return typing.get_type_hints(cls, localns={"Output": pulumi.Output, "T": Any})


@functools.cache
def _dataclasses_in(tp: Any) -> tuple[type, ...]:
    """Argument classes a field may hold (``Autoscaling | None`` -> (Autoscaling,))."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return (tp,)
    return tuple(c for a in typing.get_args(tp) for c in _dataclasses_in(a))


def shape_problems(obj: Any, path: str = "") -> list[Problem]:
    """Unknown, missing, positional and mistyped arguments in the argument tree ``obj``."""
    problems: list[Problem] = []
    _walk(obj, path, problems)
    return problems


def _field_path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _walk(obj: Any, path: str, problems: list[Problem]) -> None:
    cls = type(obj)
    params = [f.name for f in dataclasses.fields(obj) if f.init]
    title = cls.__name__
    for mistake in getattr(obj, _PROBLEMS_ATTR, ()):
        where = _field_path(path, mistake.name)
        if mistake.kind == "unknown":
            problems.append(
                Problem(
                    where,
                    mistake.value,
                    f"{title} has no argument {mistake.name!r}: "
                    f"{_suggest(mistake.name, cls, params)}(arguments: {', '.join(params)})",
                )
            )
        elif mistake.kind == "missing":
            problems.append(
                Problem(where, MISSING, f"{title} requires it: give {mistake.name}=...")
            )
        else:
            problems.append(
                Problem(
                    f"{path or title}[{mistake.name}]",
                    mistake.value,
                    f"{title} takes keyword arguments only: write name=value",
                )
            )
    hints = _hints(cls)
    for name in params:
        value = getattr(obj, name)
        if value is MISSING_ARG:
            continue
        tp = hints.get(name, Any)
        where = _field_path(path, name)
        if not _matches(value, tp):
            problems.append(Problem(where, value, f"must be {_describe(tp)}"))
            continue
        _walk_nested(value, tp, where, problems)


def _walk_nested(value: Any, tp: Any, where: str, problems: list[Problem]) -> None:
    nested = _dataclasses_in(tp)
    if not nested:
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value) in nested and _is_argument_class(type(value)):
            _walk(value, where, problems)
        return
    if isinstance(value, Sequence) and not isinstance(value, str):
        for i, item in enumerate(value):
            if dataclasses.is_dataclass(item) and _is_argument_class(type(item)):
                _walk(item, f"{where}[{i}]", problems)


def _is_argument_class(cls: type) -> bool:
    """Classes of this package's argument tree (the cluster contract is not walked)."""
    return cls.__module__.startswith("eksplatform.service") or cls.__module__ == "eksplatform.envoy"


def _placeholder(tp: Any) -> Any:
    """A neutral value of type ``tp`` for a required field that is unusable (its problem is
    already reported; the checks that follow must not trip over it)."""
    origin = typing.get_origin(tp)
    if tp is str:
        return ""
    if tp is int:
        return 0
    if tp is float:
        return 0.0
    if tp is bool:
        return False
    if origin in (list, tuple) or origin is typing.get_origin(Sequence[int]):
        return ()
    if origin is dict or origin is typing.get_origin(Mapping[str, int]):
        return {}
    return None


def bad_fields(problems: Sequence[Problem]) -> set[str]:
    """Field paths whose value is unusable (wrong type, missing, unknown)."""
    return {p.field for p in problems}


def sanitized(obj: T, bad: set[str], path: str = "") -> T:
    """``obj`` with the value of every field path in ``bad`` replaced by its default (or left as
    is when it has none), recursively; objects without bad fields are returned unchanged."""
    under = any(b == path or b.startswith((f"{path}.", f"{path}[")) for b in bad)
    if path and not under:
        return obj
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if not f.init:
            continue
        where = _field_path(path, f.name)
        value = getattr(obj, f.name)
        if where in bad or value is MISSING_ARG:
            if f.default is not dataclasses.MISSING:
                changes[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                changes[f.name] = f.default_factory()
            else:
                changes[f.name] = _placeholder(_hints(type(obj)).get(f.name, Any))
            continue
        if dataclasses.is_dataclass(value) and _is_argument_class(type(value)):
            fixed = sanitized(value, bad, where)
            if fixed is not value:
                changes[f.name] = fixed
        elif isinstance(value, (list, tuple)) and any(b.startswith(f"{where}[") for b in bad):
            items = []
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item) and _is_argument_class(type(item)):
                    items.append(sanitized(item, bad, f"{where}[{i}]"))
                else:
                    items.append(item)
            changes[f.name] = type(value)(items)
    if not changes:
        return obj
    fresh = dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    object.__setattr__(fresh, _PROBLEMS_ATTR, ())
    return fresh

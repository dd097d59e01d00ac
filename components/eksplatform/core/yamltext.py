"""YAML text as ``yaml.dump`` writes it, with the representer's work done directly.

The offline preview writes one YAML file per Kubernetes object and renders one Envoy bootstrap
per service; PyYAML's C emitter (libyaml) is fast, but its representer, which turns Python values
into nodes one dispatch at a time, is pure Python and was most of that time. :func:`dump` builds
the same nodes for plain data (dicts, lists, strings, integers, floats, booleans, None) in one
small recursive function and hands them to the same emitter, so the text is the same bytes.

Design decision: rebuild only what ``SafeRepresenter`` does for those types with
``default_flow_style=False`` (block style everywhere, its float spelling, ``sort_keys`` as it
sorts) and nothing else: a value of any other type, or a dict or list that contains itself,
sends the whole document to ``yaml.dump`` itself. A dict or list met again (an Envoy bootstrap
shares its socket and TLS blocks) gets the node built the first time, as the representer does
(``represented_objects``), so the serializer writes the same anchor and alias. The cost: a
second statement of those rules, held to PyYAML's output by tests
(``tests/preview/test_manifest_yaml.py``, ``tests/preview/test_runtime_workarounds.py``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any, Final

import yaml

_STR: Final = "tag:yaml.org,2002:str"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"
_BOOL: Final = "tag:yaml.org,2002:bool"
_NULL: Final = "tag:yaml.org,2002:null"
_MAP: Final = "tag:yaml.org,2002:map"
_SEQ: Final = "tag:yaml.org,2002:seq"

StrStyle = Callable[[str], str | None]
"""The scalar style the dumper's string representer gives a string (None: plain or quoted, the
emitter decides)."""


class _NotPlainError(Exception):
    """A value left to PyYAML's representer."""


def _plain_style(_text: str) -> str | None:
    return None


def float_text(value: float) -> str:
    """``SafeRepresenter.represent_float``'s text."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


def _builder(sort_keys: bool, str_style: StrStyle) -> Callable[[Any, set[int]], yaml.Node]:
    built: dict[int, yaml.Node] = {}
    """Node per dict or list already represented (by id; the document keeps them alive)."""

    def node(value: Any, open_: set[int]) -> yaml.Node:
        kind = type(value)
        if kind is str:
            return yaml.ScalarNode(_STR, value, style=str_style(value))
        if kind is dict or kind is list:
            key = id(value)
            if key in built:
                return built[key]
            if key in open_:  # contains itself
                raise _NotPlainError
            open_.add(key)
            made: yaml.Node
            if kind is dict:
                items = list(value.items())
                if sort_keys:
                    with contextlib.suppress(TypeError):  # as the representer: then unsorted
                        items = sorted(items)
                made = yaml.MappingNode(
                    _MAP, [(node(k, open_), node(v, open_)) for k, v in items], flow_style=False
                )
            else:
                made = yaml.SequenceNode(_SEQ, [node(v, open_) for v in value], flow_style=False)
            open_.discard(key)
            built[key] = made
            return made
        if kind is bool:
            return yaml.ScalarNode(_BOOL, "true" if value else "false")
        if kind is int:
            return yaml.ScalarNode(_INT, str(value))
        if kind is float:
            return yaml.ScalarNode(_FLOAT, float_text(value))
        if value is None:
            return yaml.ScalarNode(_NULL, "null")
        raise _NotPlainError

    return node


def dump(
    data: Any,
    dumper: type[Any],
    *,
    sort_keys: bool,
    width: int,
    str_style: StrStyle = _plain_style,
) -> str:
    """``yaml.dump(data, Dumper=dumper, sort_keys=sort_keys, default_flow_style=False,
    width=width)``, the same text. ``dumper`` must be a ``SafeDumper`` or ``CSafeDumper``
    (subclass) whose only change to the representer is how strings are styled, as
    ``str_style`` says."""
    try:
        root = _builder(sort_keys, str_style)(data, set())
    except _NotPlainError:
        return reference_dump(data, dumper, sort_keys=sort_keys, width=width)
    stream = io.StringIO()
    emitter = _remembering(dumper)(
        stream, default_flow_style=False, width=width, sort_keys=sort_keys
    )
    try:
        emitter.open()
        emitter.serialize(root)
        emitter.close()
    finally:
        emitter.dispose()
    return stream.getvalue()


_REMEMBERING: dict[type[Any], type[Any]] = {}
_REMEMBERED_MAX = 50_000
"""Resolved tags kept per dumper class before the memo starts over."""


def _remembering(dumper: type[Any]) -> type[Any]:
    """``dumper`` whose ``resolve`` remembers its answers. The emitter asks it twice per scalar
    (plain and quoted implicit tags); with no path resolvers (none are registered by the safe
    dumpers) the answer depends only on the node kind, the text and the implicit flags, so the
    regular expressions run once per distinct scalar instead of twice per scalar written."""
    if getattr(dumper, "yaml_path_resolvers", None):
        return dumper
    made = _REMEMBERING.get(dumper)
    if made is None:
        memo: dict[tuple[Any, str, tuple[bool, bool]], str] = {}
        resolve_uncached = dumper.resolve

        def resolve(self: Any, kind: Any, value: Any, implicit: Any) -> Any:
            key = (kind, value, implicit)
            try:
                return memo[key]
            except KeyError:
                if len(memo) >= _REMEMBERED_MAX:
                    memo.clear()
                tag = memo[key] = resolve_uncached(self, kind, value, implicit)
                return tag
            except TypeError:  # an unhashable value: as PyYAML
                return resolve_uncached(self, kind, value, implicit)

        made = _REMEMBERING[dumper] = type(dumper.__name__, (dumper,), {"resolve": resolve})
    return made


def reference_dump(data: Any, dumper: type[Any], *, sort_keys: bool, width: int) -> str:
    """PyYAML's own path (what :func:`dump` must equal)."""
    text: str = yaml.dump(
        data, Dumper=dumper, sort_keys=sort_keys, default_flow_style=False, width=width
    )
    return text

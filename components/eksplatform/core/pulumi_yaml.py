"""Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI reads them.

Design decision: what a program checks must be what ``pulumi up`` hands it. The CLI reads its
files with Go's ``gopkg.in/yaml.v3`` (YAML 1.2) and passes config to the program as strings
(``sdk/go/common/resource/config/value.go``):

* a **top-level scalar** (``platform:kubernetesVersion: 1.30``) is first decoded *as a string*,
  which in yaml.v3 is the scalar's own text: the program gets ``"1.30"``, ``"yes"``,
  ``"012345670123"``, never a number or a boolean (a null or empty value gives ``""``);
* a **mapping or sequence** is decoded into Go values (YAML 1.2 resolution: only
  ``true``/``false`` are booleans, ``yes``/``on`` stay text; a timestamp stays text) and
  JSON-encoded with sorted keys; a ``{secure: <ciphertext>}`` leaf marks the whole key secret;
* yaml.v3 resolves plain numbers with Go's ``strconv.ParseInt(text, 0, 64)`` after dropping
  ``_``: a leading zero means **octal** (``012345670123`` is 1402433619), ``0x``/``0o``/``0b``
  prefixes work, and a leading-zero number with an 8 or 9 in it becomes a float;
* duplicate mapping keys are an error;
* project-level config (``Pulumi.yaml`` ``config:``) gives defaults: a string, integer or boolean
  becomes its text, anything else (a float, a list, a mapping) JSON; the stack file wins.

ruamel.yaml parses (it implements YAML 1.2 and gives each scalar's text, style and line, which a
loader that only returns Python values cannot); the resolution above is done here on its nodes,
because it is yaml.v3's behaviour, not the YAML 1.2 core schema's, that decides what the program
sees (the core schema reads ``0123`` as decimal 123; the CLI reads it as octal 83).

Every plain scalar inside a structured value is also kept with its text (:class:`Scalar`), so a
message can quote the value as the user wrote it (``012345670123``, not ``1402433619``) and say
how YAML read it. The cost: each file is parsed by a pure-Python parser (about a millisecond for
a stack file of this repo), and the cluster program reads its own stack file once more under
``pulumi up`` to recover that text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

SECURE_KEY = "secure"
"""A config leaf ``{secure: <ciphertext>}`` is an encrypted value."""

_TAG = "tag:yaml.org,2002:"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_SPECIAL_FLOATS = frozenset(
    {
        *(".nan", ".NaN", ".NAN"),
        *(".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"),
        *("-.inf", "-.Inf", "-.INF"),
    }
)
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
"""yaml.v3's ``yamlStyleFloat`` (matched whole)."""
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]*[0-9][0-9_]*")
"""A number written with a leading zero (``0123``): octal to the CLI, decimal to YAML 1.2."""
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")
"""``1:30``: text to YAML 1.2 and the CLI, the number 90 to YAML 1.1 tools (PyYAML)."""
_YAML11_BOOLS = frozenset(
    w for word in ("y", "yes", "n", "no", "on", "off") for w in (word, word.title(), word.upper())
)
"""Words YAML 1.1 tools read as booleans and YAML 1.2 (the CLI) reads as text."""

_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1


def yaml11_bool_note(text: str) -> str:
    """What to say about ``yes``/``on``/``off``... given where a boolean is expected."""
    return (
        f"YAML 1.2 (what the Pulumi CLI reads) keeps {text} as text; only true and false are "
        "booleans"
    )


def is_yaml11_bool(text: str) -> bool:
    """``yes``, ``On``, ``N``...: a boolean to YAML 1.1 tools, text to the Pulumi CLI."""
    return text in _YAML11_BOOLS


class YamlFileError(Exception):
    """A Pulumi YAML file cannot be read (syntax, duplicate keys, values JSON cannot hold)."""


@dataclass(frozen=True)
class Scalar:
    """A plain (unquoted) scalar inside a structured config value, with its source text."""

    path: tuple[str | int, ...]
    """Config key then the path inside its value: ``("aws:allowedAccountIds", 0)``."""
    text: str
    """The scalar as written."""
    value: Any
    """What the program receives for it (after the CLI's resolution and JSON)."""
    line: int
    """1-based line in the file."""

    @property
    def leading_zero(self) -> bool:
        """Written as a number with a leading zero: the CLI reads octal, YAML 1.2 decimal,
        and an id or a name loses its zero either way."""
        return _LEADING_ZERO.fullmatch(self.text) is not None

    def note(self) -> str | None:
        """How YAML read this scalar when that is likely not what was meant, with the fix;
        None when the text means what it says."""
        text = self.text
        if self.leading_zero:
            return (
                f"written {text} without quotes, which the Pulumi CLI reads as the number "
                f"{_number_text(self.value)} (a leading zero means octal to it; YAML 1.2 reads "
                f"{_decimal_text(text)}): quote it ('{text}') if it is an id or a name, or drop "
                "the leading zero if it is a number"
            )
        if isinstance(self.value, float) and text != _number_text(self.value):
            return (
                f"written {text} without quotes, which YAML reads as the number "
                f'{_number_text(self.value)}; quote it ("{text}") to keep the text'
            )
        if (
            isinstance(self.value, int)
            and not isinstance(self.value, bool)
            and text != str(self.value)
        ):
            return (
                f"written {text} without quotes, which YAML reads as the number "
                f'{self.value}; quote it ("{text}") to keep the text'
            )
        if text in _YAML11_BOOLS:
            return yaml11_bool_note(text)
        if _SEXAGESIMAL.fullmatch(text):
            return (
                f"the Pulumi CLI reads {text} as text (YAML 1.1 tools read it as a base-60 number)"
            )
        return None


@dataclass
class ConfigFile:
    """Config of one stack as the CLI hands it to the program."""

    config: dict[str, str] = field(default_factory=dict)
    """``namespace:key`` -> string (structured values JSON-encoded, sorted keys)."""
    secret_keys: set[str] = field(default_factory=set)
    """Keys whose value is (or holds) a ``secure:`` value."""
    scalars: dict[tuple[str | int, ...], Scalar] = field(default_factory=dict)
    """Every plain scalar inside a structured value, by path (see :class:`Scalar`)."""

    def ambiguous(self) -> list[Scalar]:
        """Scalars YAML readers disagree on in a way that changes the value (leading zeros)."""
        return [s for s in self.scalars.values() if s.leading_zero]


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _decimal_text(text: str) -> str:
    digits = text.replace("_", "")
    sign = "-" if digits.startswith("-") else ""
    return sign + (digits.lstrip("+-").lstrip("0") or "0")


# --- yaml.v3's resolution -------------------------------------------------------------------------


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, falling back to ``ParseUint`` as yaml.v3 does."""
    sign = 1
    body = text
    if body[:1] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body:
        return None
    base, digits = 10, body
    if len(body) > 1 and body[0] == "0":
        prefix = body[1].lower()
        base, digits = {"x": (16, body[2:]), "b": (2, body[2:]), "o": (8, body[2:])}.get(
            prefix, (8, body[1:])
        )
    allowed = "0123456789abcdef"[:base]
    if not digits or any(c not in allowed for c in digits.lower()):
        return None
    value = sign * int(digits, base)
    if _INT64[0] <= value <= _INT64[1]:
        return value
    if sign > 0 and text[:1] != "+" and value <= _UINT64_MAX:
        return value
    return None


def resolve_plain(text: str) -> Any:
    """The Go value yaml.v3 gives a plain scalar decoded into ``interface{}``."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _SPECIAL_FLOATS:
        return float(text.replace(".", ""))
    if text[:1] in "+-.0123456789":
        plain = text.replace("_", "")
        number = _go_parse_int(plain) if plain else None
        if number is not None:
            return number
        if _YAML_FLOAT.fullmatch(plain):
            try:
                return float(plain)
            except ValueError:
                pass
    return text


# --- reading ----------------------------------------------------------------------------------


def _parse(path: Path) -> Node | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise YamlFileError(f"{path.name}: not found in {path.parent.name or '.'}/") from None
    except UnicodeDecodeError as exc:
        raise YamlFileError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    try:
        node: Node | None = YAML(typ="safe", pure=True).compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlFileError(f"{path.name}: not valid YAML{where}: {exc.problem}") from None
    except YAMLError as exc:
        raise YamlFileError(f"{path.name}: not valid YAML: {exc}") from None
    return node


class _Reader:
    """Turns composed nodes into the values yaml.v3 would decode, recording plain scalars."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.resolver = YAML(typ="safe", pure=True).resolver
        self.scalars: dict[tuple[str | int, ...], Scalar] = {}

    def _explicit_tag(self, node: ScalarNode) -> str | None:
        """The node's tag when it was written (``!!str 0123``), else None."""
        if node.style is not None:
            implicit = f"{_TAG}str"
            return None if node.tag == implicit else str(node.tag)
        implicit = self.resolver.resolve(ScalarNode, node.value, (True, False))
        return None if node.tag == implicit else str(node.tag)

    def value(self, node: Node, path: tuple[str | int, ...]) -> Any:
        if isinstance(node, MappingNode):
            return {key: self.value(item, (*path, key)) for key, item in _entries(self, node)}
        if isinstance(node, SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self.scalar(node, path)

    def key(self, node: Node) -> str:
        """``fmt.Sprintf("%v", key)`` of a mapping key (Pulumi's interfaceMapToStringMap)."""
        if not isinstance(node, ScalarNode):
            raise YamlFileError(
                f"{self.file}: line {node.start_mark.line + 1}: a mapping key must be a scalar"
            )
        value = self.scalar(node, None)
        if value is None:
            return "<nil>"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return _number_text(value)
        return str(value)

    def scalar(self, node: ScalarNode, path: tuple[str | int, ...] | None) -> Any:
        text = str(node.value)
        tag = self._explicit_tag(node)
        if tag is None and node.style is None:
            value = resolve_plain(text)
            if path is not None:
                self.scalars[path] = Scalar(path, text, value, node.start_mark.line + 1)
        elif tag is None or tag == f"{_TAG}str":
            value = text
        else:
            value = self._tagged(tag, text, node)
        if isinstance(value, float) and not math.isfinite(value):
            raise YamlFileError(
                f"{self.file}: line {node.start_mark.line + 1}: {text} is not a number JSON can "
                "hold; Pulumi cannot store it as config"
            )
        return value

    def _tagged(self, tag: str, text: str, node: ScalarNode) -> Any:
        """A scalar with an explicit tag (``!!int 12``): the value, or an error when the text
        is not of that type (yaml.v3 refuses it). A timestamp stays text, as yaml.v3 gives it
        to ``interface{}``; a float that is a whole number prints as one in JSON either way."""
        kind = tag.removeprefix(_TAG)
        if kind == "timestamp":
            return text
        resolved = resolve_plain(text)
        number = not isinstance(resolved, bool) and isinstance(resolved, (int, float))
        matches = {
            "int": number and isinstance(resolved, int),
            "float": number,
            "bool": isinstance(resolved, bool),
            "null": resolved is None,
        }
        if not matches.get(kind, False):
            raise YamlFileError(
                f"{self.file}: line {node.start_mark.line + 1}: cannot read {text!r} as {tag}"
            )
        return resolved

    def top_level_text(self, node: Node) -> str | None:
        """yaml.v3 decoding a scalar into a Go string: its text (``""`` for a null); None for a
        mapping or sequence."""
        if not isinstance(node, ScalarNode):
            return None
        tag = self._explicit_tag(node)
        if tag is not None and tag != f"{_TAG}str":
            self._tagged(tag, str(node.value), node)  # yaml.v3 refuses a tag the text breaks
        if node.style is None and tag is None and node.value in _NULLS:
            return ""
        return str(node.value)


def _document(path: Path) -> tuple[_Reader, MappingNode | None]:
    node = _parse(path)
    reader = _Reader(path.name)
    if node is None:
        return reader, None
    if not isinstance(node, MappingNode):
        raise YamlFileError(f"{path.name}: expected a mapping at the top level")
    return reader, node


def load_yaml(path: Path) -> dict[str, Any]:
    """A Pulumi YAML file as yaml.v3 decodes it into ``map[string]interface{}``."""
    reader, node = _document(path)
    if node is None:
        return {}
    value = reader.value(node, ())
    assert isinstance(value, dict)
    return value


def _entries(reader: _Reader, node: MappingNode) -> Iterator[tuple[str, Node]]:
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = reader.key(key_node)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise YamlFileError(
                f"{reader.file}: line {line}: mapping key {key!r} already defined at line "
                f"{seen[key]}"
            )
        seen[key] = line
        yield key, value_node


def qualify(key: str, project: str) -> str:
    """``key`` with the project's namespace when it has none (as the CLI does)."""
    return key if ":" in key else f"{project}:{key}"


def is_secure(value: Any) -> bool:
    """``{secure: <string>}``: an encrypted config value."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SECURE_KEY), str)


def _has_secure(value: Any) -> bool:
    if is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def to_json(value: Any) -> str:
    """Go's ``json.Marshal`` of a decoded value: sorted keys, integral floats without ``.0``."""
    return json.dumps(_go_numbers(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _go_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value


def read_stack_config(
    path: Path, project: str, *, reveal: Any = None
) -> tuple[dict[str, Any], ConfigFile]:
    """The stack file's top level (other than ``config``) and its config as the CLI passes it.

    ``reveal(key, ciphertext) -> str`` gives a secure value's plaintext (offline: a marked
    placeholder); without it the ciphertext is passed on."""
    reader, node = _document(path)
    out = ConfigFile()
    top: dict[str, Any] = {}
    if node is None:
        return top, out
    for key, value_node in _entries(reader, node):
        if key != "config":
            top[key] = reader.value(value_node, (key,))
            continue
        if isinstance(value_node, ScalarNode) and reader.top_level_text(value_node) == "":
            continue
        if not isinstance(value_node, MappingNode):
            raise YamlFileError(f"{path.name}: 'config' must be a mapping of keys to values")
        for config_key, config_node in _entries(reader, value_node):
            qualified = qualify(config_key, project)
            text = reader.top_level_text(config_node)
            if text is not None:
                out.config[qualified] = text
                continue
            value = reader.value(config_node, (qualified,))
            if is_secure(value):
                out.secret_keys.add(qualified)
                out.config[qualified] = (
                    reveal(qualified, value[SECURE_KEY]) if reveal else value[SECURE_KEY]
                )
                continue
            if _has_secure(value):
                out.secret_keys.add(qualified)
                value = _reveal_nested(value, qualified, reveal)
            out.config[qualified] = to_json(value)
    out.scalars = reader.scalars
    return top, out


def _reveal_nested(value: Any, key: str, reveal: Any) -> Any:
    if is_secure(value):
        return reveal(key, value[SECURE_KEY]) if reveal else value[SECURE_KEY]
    if isinstance(value, dict):
        return {k: _reveal_nested(v, key, reveal) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal_nested(v, key, reveal) for v in value]
    return value


def project_config_value(value: Any) -> str:
    """``createConfigValue`` of the CLI: a string, integer or boolean as its text, anything else
    as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    return to_json(value)


def lookup(data: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` inside decoded config (``KeyError``/``IndexError`` when absent)."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list):
                raise KeyError(part)
            data = data[part]
        else:
            if not isinstance(data, Mapping):
                raise KeyError(part)
            data = data[part]
    return data


class _AsWritten(str):
    """Text whose ``repr`` is itself: a value quoted in a message exactly as the file has it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def shown_as_written(text: str) -> str:
    """``text`` to put in a :class:`~eksplatform.core.errors.Problem` so the message shows it as
    written (``012345670123``, not ``'012345670123'`` or ``1402433619``)."""
    return _AsWritten(text)


def find_stack_file(stack: str, start: Path) -> Path | None:
    """``Pulumi.<stack>.yaml`` of the project ``start`` is in (the nearest ``Pulumi.yaml`` at or
    above it, honouring ``stackConfigDir``), or None."""
    for directory in (start, *start.parents):
        project = directory / "Pulumi.yaml"
        if not project.is_file():
            continue
        try:
            configured = load_yaml(project).get("stackConfigDir")
        except YamlFileError:
            return None
        base = directory / configured if isinstance(configured, str) else directory
        candidate = base / f"Pulumi.{stack}.yaml"
        return candidate if candidate.is_file() else None
    return None

"""Reading engine-shaped properties: mappings and sequences that may be the policy SDK's
unknown-checking proxies (``Mapping``/``Sequence``, not ``dict``/``list``), numbers that arrive as
floats, booleans that arrive as strings (``"true"`` in launch template block devices)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .model import Resource


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> Sequence[Any]:
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return value
    return ()


def dig(value: Any, *path: str) -> Any:
    """``value[p0][p1]...``, None when a step is missing or not a mapping."""
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def is_true(value: Any) -> bool:
    """A boolean property as the provider reads it (``True`` or ``"true"``)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def tags_of(props: Mapping[str, Any]) -> dict[str, str]:
    """``tags`` as a dict: a map, or the Auto Scaling group's list of ``{key, value}``."""
    raw = props.get("tags")
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items() if v is not None}
    out: dict[str, str] = {}
    for item in as_list(raw):
        item = as_map(item)
        if "key" in item and item.get("value") is not None:
            out[str(item["key"])] = str(item["value"])
    return out


def environment_of(resource: Resource) -> str:
    """The ``environment`` tag, else the stack name (this repo names stacks after them)."""
    tag = tags_of(resource.props).get("environment") if "tags" in resource.props else None
    return tag or resource.stack


def short(urn: str) -> str:
    """``type::name`` tail of a URN, for messages."""
    return urn.rsplit("::", 1)[-1]

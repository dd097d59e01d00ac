"""The base every typed settings model of the library builds on.

Stack configuration sections (``platform:nodePools``, ``platform:descheduler``...) are pydantic
models derived from :class:`SettingsModel`: unknown keys are refused, values are frozen, and keys
are camelCase in YAML (``minSize``) while Python uses snake_case (``min_size``). Each section
model lives beside the component that consumes it (``node_pools.py`` holds ``NodePoolConfig``),
and :mod:`eksplatform.cluster.config` composes them into the whole stack configuration.

A check that spans several fields raises :func:`field_error` from a ``model_validator`` so the
message still points at one field (``platform:nodePools[0].minSize``) and quotes its value.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

FIELD_MARK = "\x1f"
"""Separates the field path from the message in :func:`field_error` (never in user text)."""

RETENTION_DAYS: tuple[int, ...] = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)
"""The only retention periods CloudWatch Logs accepts."""

DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
"""An RFC 1123 label starting with a letter: Kubernetes namespace/Service names."""


def field_error(path: str, message: str) -> ValueError:
    """A model-level check's error, pointed at one of the model's fields (dotted alias path,
    relative to the model raising it, e.g. ``"minSize"`` or ``"quota.cpu"``)."""
    return ValueError(f"{FIELD_MARK}{path}{FIELD_MARK}{message}")


def check_retention(days: int) -> int:
    """Field validator body for CloudWatch retention periods."""
    if days not in RETENTION_DAYS:
        raise ValueError(f"CloudWatch accepts only {', '.join(map(str, RETENTION_DAYS))}")
    return days


class SettingsModel(BaseModel):
    """Base of every stack configuration section: strict, frozen, camelCase keys."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )

    def derived(self, **changes: Any) -> Any:
        """A copy with defaults filled in (for values derived from other sections)."""
        return self.model_copy(update=changes)

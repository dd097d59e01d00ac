"""One error type for every validation in the library.

Every component and config parser validates *before* registering any resource, collects every
problem it finds, and raises one :class:`ValidationError` that lists them all. Each problem names
the field (a dotted path such as ``nodePools[1].minSize``), quotes the value received and says how
to fix it, so a user fixes everything in one round trip instead of one error per preview.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi

_MISSING = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field."""

    field: str
    """Dotted path of the offending field, e.g. ``envoy.dependencies[0].port``."""
    value: Any
    """The value received (``MISSING`` when the field was absent)."""
    message: str
    """What is wrong and what is allowed / how to fix it."""

    def __str__(self) -> str:
        if self.value is _MISSING:
            return f"{self.field}: missing: {self.message}"
        return f"{self.field}: got {_show(self.value)}: {self.message}"


MISSING: Any = _MISSING
"""Sentinel for :attr:`Problem.value` when a required field was not given."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


class ValidationError(pulumi.RunError, ValueError):
    """Raised with every problem found in one input (config file, component args).

    A :class:`pulumi.RunError`, so ``pulumi preview/up`` prints the message alone (no traceback
    into Pulumi internals) and the offline preview exits with code 2.
    """

    def __init__(self, subject: str, problems: Iterable[Problem]) -> None:
        self.subject = subject
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.subject}: {count} {noun}:"]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


class Problems:
    """Collects problems; ``raise_if_any`` raises them together.

    Usage::

        problems = Problems()
        if port < 1:
            problems.add("port", port, "must be 1-65535")
        problems.raise_if_any("ServiceStack 'feed'")
    """

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def add(self, field: str, value: Any, message: str) -> None:
        self._items.append(Problem(field, value, message))

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self, subject: str) -> None:
        if self._items:
            raise ValidationError(subject, self._items)

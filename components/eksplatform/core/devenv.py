"""Developer environments: the names, labels and rules the cluster, ServiceStack, the janitor and
the ``eksplatform dev`` command share.

A developer runs their build of a service in a namespace of their own on the staging cluster,
``dev-<developer>``, next to the shared staging services. The namespace is the whole
environment: it carries its owner, team, services and expiry as labels, and nothing outside
Kubernetes is created for it (no role, no association, no repository, no load balancer): the
pods use the staging service role (IRSA trust for ``dev-*`` namespaces, see
:func:`staging_role_name`), and images go to a mutable developer repository that ECR creates on
the first push (:func:`developer_repository`, from the cluster's repository creation template).

Design decision: **the expiry is a label in ISO 8601 basic format** (``20261224T180000Z``), not
an RFC 3339 annotation: label values cannot hold ``:``, and a label lets the janitor select
developer namespaces server-side and lets admission policies see it on the Namespace. Cost: a
format people read less easily; ``eksplatform dev`` prints it in RFC 3339.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEV_PREFIX = "dev-"
"""Developer stacks are named ``dev-<developer>``; their namespace has the same name."""
DEVELOPER_LABEL = "eksplatform.io/developer"
"""Namespace label: the developer who owns it (the janitor selects on it)."""
TEAM_LABEL = "eksplatform.io/team"
"""Namespace label: the team whose services run there (same key as on team namespaces)."""
EXPIRES_LABEL = "eksplatform.io/expires-at"
"""Namespace label: when the janitor deletes it, UTC, :data:`EXPIRY_FORMAT`."""
SERVICE_LABEL_PREFIX = "services.eksplatform.io/"
"""Namespace label per service a developer runs there: ``services.eksplatform.io/<name>:
"true"`` (one key per service, so two services' stacks never fight over one label)."""
EXPIRY_FORMAT = "%Y%m%dT%H%M%SZ"
"""ISO 8601 basic format, UTC: label-safe (no ``:``)."""
QUOTA_NAME = "dev-quota"
"""Name of a developer namespace's ResourceQuota."""
LIMITS_NAME = "dev-limits"
"""Name of a developer namespace's LimitRange."""
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
"""ServiceAccount annotation the EKS pod identity webhook reads (IRSA)."""
STS_REGIONAL_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
DEVELOPER_REPOSITORY_PREFIX = "dev"
"""ECR repositories ``dev/<team>/<service>``: mutable, created on push, images expire."""
DEV_TAG_PREFIX = "dev-"
"""Developer image tags start with it (``dev-<developer>-<digest>``)."""
MAX_DEVELOPER_LENGTH = 63 - len(DEV_PREFIX)
"""The namespace ``dev-<developer>`` is a DNS label: at most 63 characters."""

_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_DURATION = re.compile(r"([1-9][0-9]{0,4})([hd])")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_BASIC = re.compile(r"[0-9]{8}T[0-9]{6}Z")


def utc_now() -> datetime:
    """The current time, UTC (one place, so tests can fix it)."""
    return datetime.now(UTC)


def is_dns_label(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 63 and bool(_DNS_LABEL.fullmatch(value))


def developer_of_stack(stack: str) -> str | None:
    """``alice`` for the stack ``dev-alice``; None for a stack that is not a developer stack."""
    if stack.startswith(DEV_PREFIX) and len(stack) > len(DEV_PREFIX):
        return stack[len(DEV_PREFIX) :]
    return None


def developer_namespace(developer: str) -> str:
    return f"{DEV_PREFIX}{developer}"


def developer_problem(developer: str) -> str | None:
    """Why ``developer`` cannot name a developer namespace (None: it can)."""
    if len(developer) > MAX_DEVELOPER_LENGTH:
        return (
            f"is {len(developer)} characters: the namespace 'dev-<developer>' is a DNS label "
            f"of at most 63 characters, so the developer name has at most "
            f"{MAX_DEVELOPER_LENGTH}"
        )
    if not _DNS_LABEL.fullmatch(developer):
        return (
            "is not a DNS label (lowercase letters, digits and '-', starting and ending with a "
            "letter or digit): the namespace 'dev-<developer>' must be one"
        )
    return None


def format_expiry(when: datetime) -> str:
    return when.astimezone(UTC).strftime(EXPIRY_FORMAT)


def parse_expiry(text: Any) -> datetime | None:
    """The datetime of an expiry label value; None when it is not :data:`EXPIRY_FORMAT`."""
    if not isinstance(text, str) or not _BASIC.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, EXPIRY_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def round_up_to_hour(when: datetime) -> datetime:
    """The next whole hour (or ``when`` itself on the hour): an expiry computed from "now"
    stays the same for an hour, so repeated renders and previews agree."""
    floor = when.replace(minute=0, second=0, microsecond=0)
    return floor if floor == when else floor + timedelta(hours=1)


def parse_expires(text: str, now: datetime) -> tuple[datetime | None, str | None]:
    """A developer's ``devExpires``/``--expires`` value: an RFC 3339 timestamp
    (``2026-12-24T18:00:00Z``) or a duration from now in hours or days (``36h``, ``3d``;
    rounded up to the next whole hour). Returns ``(when, None)`` or ``(None, why)``."""
    m = _DURATION.fullmatch(text)
    if m:
        hours = int(m[1]) * (24 if m[2] == "d" else 1)
        return round_up_to_hour(now + timedelta(hours=hours)), None
    if _RFC3339.fullmatch(text):
        try:
            when = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        except ValueError:
            return None, "is not a valid date and time"
        return when.astimezone(UTC).replace(microsecond=0), None
    return None, (
        "must be a duration from now such as '36h' or '3d', or an RFC 3339 time such as "
        "'2026-12-24T18:00:00Z'"
    )


def expiry_problem(when: datetime, now: datetime, max_ttl_hours: int | None) -> str | None:
    """Why ``when`` is not an acceptable expiry (None: it is)."""
    if when <= now:
        return (
            f"is in the past ({when.strftime('%Y-%m-%dT%H:%M:%SZ')}, now "
            f"{now.strftime('%Y-%m-%dT%H:%M:%SZ')}): give a time ahead, or a duration such as "
            "'24h'"
        )
    # The rounding to the next whole hour may add up to an hour to a duration at the maximum.
    if max_ttl_hours is not None and when > round_up_to_hour(now + timedelta(hours=max_ttl_hours)):
        return (
            f"is beyond the cluster's maximum of {max_ttl_hours} hours from now "
            f"(platform:devEnvironments.maxTtlHours): give at most '{max_ttl_hours}h', and "
            "extend it later with 'eksplatform dev extend'"
        )
    return None


def developer_service_account(team: str, service: str) -> str:
    """A service's ServiceAccount in a developer namespace: ``<team>.<service>``.

    The team is part of the name because the staging role's IRSA trust can only name the
    namespace pattern (``dev-*``) and the service account: an admission policy lets a team's
    identity create service accounts in developer namespaces only under its own team prefix, so
    no other team can borrow this service's role."""
    return f"{team}.{service}"


def staging_role_name(team: str, service: str, environment: str) -> str:
    """The physical name of a service's role in an environment that offers developer
    environments, ``<team>-<service>-<environment>`` (IAM's 64 characters at most: longer names
    keep a 54-character head and a hash of the whole). Fixed, so a developer stack can name the
    role in its ServiceAccount without reading the service's staging stack."""
    full = f"{team}-{service}-{environment}"
    if len(full) <= 64:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:9]
    return f"{full[:54]}-{digest}"


def developer_repository(team: str, service: str) -> str:
    """The ECR repository developer builds of a service go to: ``dev/<team>/<service>``.

    Release repositories have immutable tags (a tag names one build forever) and keep their
    most recent images; a developer pushes many builds a day under reused tags. A separate
    repository, created on the first push from the cluster's template (mutable, images expire
    after days), keeps both policies intact: developer builds never push a release out of its
    repository's retention."""
    return f"{DEVELOPER_REPOSITORY_PREFIX}/{team}/{service}"


def service_label(service: str) -> str:
    return f"{SERVICE_LABEL_PREFIX}{service}"


# --- what the cluster offers (the contract's ``devEnvironments``) -------------------------------

QUOTA_KEYS = {
    "requestsCpu": "requests.cpu",
    "requestsMemory": "requests.memory",
    "limitsMemory": "limits.memory",
    "pods": "pods",
    "services": "services",
    "servicesNodePorts": "services.nodeports",
    "servicesLoadBalancers": "services.loadbalancers",
}
"""Contract key -> ResourceQuota ``spec.hard`` key."""


@dataclass(frozen=True)
class DevOffer:
    """The cluster's developer environments as the contract states them."""

    enabled: bool
    max_ttl_hours: int = 168
    default_ttl_hours: int = 24
    quota: Mapping[str, str] = field(default_factory=dict)
    """ResourceQuota ``spec.hard`` of every developer namespace."""
    limit_range: Mapping[str, str] = field(default_factory=dict)
    """``defaultRequestCpu``, ``defaultRequestMemory``, ``defaultLimitMemory``, ``maxMemory``."""
    admission: bool = True
    """Whether the cluster enforces the developer namespace boundary at admission."""

    def to_contract(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "namespacePrefix": DEV_PREFIX,
            "maxTtlHours": self.max_ttl_hours,
            "defaultTtlHours": self.default_ttl_hours,
            "quota": dict(self.quota),
            "limitRange": dict(self.limit_range),
            "admission": self.admission,
        }

    @classmethod
    def from_contract(cls, value: Any) -> DevOffer | None:
        """None when ``value`` is not a well-formed ``devEnvironments`` output (a cluster stack
        from before developer environments exports none)."""
        if not isinstance(value, Mapping) or not isinstance(value.get("enabled"), bool):
            return None

        def hours(key: str) -> int | None:
            v = value.get(key)
            if isinstance(v, float) and v.is_integer():
                v = int(v)  # numbers cross a StackReference as floats
            return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None

        max_ttl, default_ttl = hours("maxTtlHours"), hours("defaultTtlHours")
        quota, limits = value.get("quota"), value.get("limitRange")
        if max_ttl is None or default_ttl is None:
            return None
        if not isinstance(quota, Mapping) or not isinstance(limits, Mapping):
            return None
        return cls(
            enabled=bool(value["enabled"]),
            max_ttl_hours=max_ttl,
            default_ttl_hours=default_ttl,
            quota={str(k): str(v) for k, v in quota.items()},
            limit_range={str(k): str(v) for k, v in limits.items()},
            admission=bool(value.get("admission", True)),
        )

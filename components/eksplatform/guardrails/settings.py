"""What a guardrail deployment may configure: tag keys, name patterns, registries, thresholds.

One settings object feeds every place a rule runs: the CrossGuard pack (each policy's config,
``pulumi preview --policy-pack policy --policy-pack-config <file>``), the offline preview
(``policy/config.json`` of the workspace when present) and the admission policies the cluster
stack generates. Keys are camelCase, as in a policy pack config file; :data:`SCHEMA` is the JSON
schema of each key, given to CrossGuard as the policies' config schema, and
:func:`settings_from_config` refuses unknown keys and wrong types with every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..core.tags import COMPANY_TAG_KEYS

PLATFORM_NAMESPACES = (
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "logging",
    "vpa-system",
    "overprovisioning",
    "datadog",
)
"""Namespaces of the platform's own workloads (not application pods)."""


@dataclass(frozen=True, kw_only=True)
class GuardrailSettings:
    """Every knob of the rules. Each field's docstring gives its default."""

    required_tag_keys: tuple[str, ...] = COMPANY_TAG_KEYS
    """Tags every taggable AWS resource carries. Default: team, environment, cost-centre,
    managed-by."""
    name_prefixes: Mapping[str, str] = field(
        default_factory=lambda: {
            "aws:ecr/repository:Repository": "{team}/",
            "aws:secretsmanager/secret:Secret": "{team}/",
            "aws:ssm/parameter:Parameter": "/{team}/",
            "aws:s3/bucket:Bucket": "{environment}-{team}-",
        }
    )
    """Naming convention per resource type: the prefix a team resource's explicit name starts
    with, ``{team}`` and ``{environment}`` filled from its tags. Default: ECR repositories and
    secrets ``<team>/``, SSM parameters ``/<team>/``, buckets ``<env>-<team>-``."""
    platform_teams: tuple[str, ...] = ("platform",)
    """``team`` tag values of the platform's own resources (named by the cluster, not by the
    team conventions; their roles need no service boundary), honoured only in the platform's
    projects. Default: platform."""
    platform_projects: tuple[str, ...] = ("eks-platform",)
    """Pulumi projects of the platform (the cluster stack): a resource elsewhere tagged with a
    platform team is still a team resource, so a service program cannot tag its way out of the
    boundary or the naming convention. Default: eks-platform."""
    allowed_registries: tuple[str, ...] = (
        "*.dkr.ecr.*.amazonaws.com/",
        "public.ecr.aws/",
        "registry.k8s.io/",
        "docker.io/envoyproxy/",
        "docker.io/fluent/",
    )
    """Image prefixes allowed (``*`` matches within one host label or path part; Docker Hub
    short names count as ``docker.io/...``). Default: any account's ECR, ECR Public,
    registry.k8s.io, the Envoy and fluentd organisations on Docker Hub."""
    platform_namespaces: tuple[str, ...] = PLATFORM_NAMESPACES
    """Namespaces of platform workloads: the probe and team-label rules are for application
    pods only. Default: the system namespaces plus logging, vpa-system, overprovisioning,
    datadog."""
    pod_security_exempt_namespaces: tuple[str, ...] = ("kube-system", "logging", "datadog")
    """Namespaces whose pods may break Pod Security "restricted": EKS's own DaemonSets
    (kube-system), the log shipper that reads node files as root (logging) and the Datadog node
    agent that reads /proc, cgroups and the runtime socket and binds DogStatsD's host port
    (datadog). Default: those three."""
    admission_exempt_namespaces: tuple[str, ...] = ("kube-system",)
    """Namespaces no admission guardrail applies to: EKS-managed add-ons live there and are
    not ours to change. Default: kube-system."""
    min_replicas_by_environment: Mapping[str, int] = field(
        default_factory=lambda: {"prod": 2, "production": 2}
    )
    """Lowest HPA ``minReplicas`` per environment (absent: 1). Default: prod 2."""
    spot_share_band_by_environment: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: {"prod": (50, 90), "production": (50, 90), "*": (0, 100)}
    )
    """Allowed spot percentage above the on-demand base, per environment (``*``: any other).
    Default: prod 50-90 (some on-demand above the base), elsewhere 0-100."""
    min_instance_types: int = 3
    """Instance types per node pool (spot capacity pools to fall back on). Default: 3."""
    required_log_types: tuple[str, ...] = ("api", "audit", "authenticator")
    """EKS control plane log types that must be on. Default: api, audit, authenticator."""
    boundary_policy_pattern: str = (
        r"arn:aws[a-z-]*:iam::\d{12}:policy/eksplatform/.+-service-boundary"
    )
    """Regular expression (full match) of the permissions boundary every service role carries.
    Default: the cluster's ``eksplatform/<cluster>-service-boundary``."""
    world_open_ports: tuple[int, ...] = (80, 443)
    """Ports a load balancer's security group may open to 0.0.0.0/0 and ::/0. Default: 80, 443."""

    def is_platform(self, team: str, project: str) -> bool:
        """Whether a resource tagged ``team`` in ``project`` is the platform's."""
        return team in self.platform_teams and project in self.platform_projects

    def min_replicas(self, environment: str) -> int:
        return int(self.min_replicas_by_environment.get(environment, 1))

    def spot_band(self, environment: str) -> tuple[int, int]:
        band = self.spot_share_band_by_environment.get(
            environment, self.spot_share_band_by_environment.get("*", (0, 100))
        )
        return int(band[0]), int(band[1])


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


_STRINGS = {"type": "array", "items": {"type": "string"}}
SCHEMA: dict[str, dict[str, Any]] = {
    "requiredTagKeys": {**_STRINGS, "description": "tag keys every taggable resource carries"},
    "namePrefixes": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "type token -> name prefix template ({team}, {environment})",
    },
    "platformTeams": {**_STRINGS, "description": "team tag values of platform resources"},
    "platformProjects": {**_STRINGS, "description": "Pulumi projects of the platform"},
    "allowedRegistries": {**_STRINGS, "description": "allowed image prefixes"},
    "platformNamespaces": {**_STRINGS, "description": "namespaces of platform workloads"},
    "podSecurityExemptNamespaces": {**_STRINGS, "description": "namespaces exempt from restricted"},
    "admissionExemptNamespaces": {**_STRINGS, "description": "namespaces admission skips"},
    "minReplicasByEnvironment": {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1},
        "description": "lowest HPA minReplicas per environment",
    },
    "spotShareBandByEnvironment": {
        "type": "object",
        "additionalProperties": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 100},
            "minItems": 2,
            "maxItems": 2,
        },
        "description": "[min, max] spot percentage above the base, per environment ('*': other)",
    },
    "minInstanceTypes": {"type": "integer", "minimum": 1, "description": "types per node pool"},
    "requiredLogTypes": {**_STRINGS, "description": "EKS control plane log types that must be on"},
    "boundaryPolicyPattern": {"type": "string", "description": "regex of the boundary ARN"},
    "worldOpenPorts": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 65535},
        "description": "ports a load balancer may open to the world",
    },
}
"""JSON schema of each settings key (camelCase, as in a policy pack config)."""

_FIELDS = {_camel(f.name): f.name for f in fields(GuardrailSettings)}
assert set(_FIELDS) == set(SCHEMA), "every settings field has a schema entry"


class SettingsError(ValueError):
    """Invalid guardrail settings; ``problems`` lists every one as ``key: what is wrong``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid guardrail settings: " + "; ".join(problems))


def _typed(key: str, value: Any, schema: Mapping[str, Any], problems: list[str]) -> bool:
    kind = schema["type"]
    ok = {
        "array": isinstance(value, (list, tuple)),
        "object": isinstance(value, Mapping),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
    }[kind]
    if not ok:
        problems.append(f"{key}: got {value!r}: must be {'an' if kind[0] in 'aoi' else 'a'} {kind}")
        return False
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            problems.append(f"{key}: got {value!r}: must be {low} to {high}")
            return False
    if kind == "array":
        items = schema["items"]
        if "minItems" in schema and not schema["minItems"] <= len(value) <= schema["maxItems"]:
            problems.append(f"{key}: got {value!r}: must have {schema['minItems']} items")
            return False
        return all(_typed(f"{key}[{i}]", v, items, problems) for i, v in enumerate(value))
    if kind == "object":
        inner = schema["additionalProperties"]
        return all(_typed(f"{key}.{k}", v, inner, problems) for k, v in value.items())
    return True


def _whole_numbers(value: Any) -> Any:
    """JSON numbers as the policy engine hands them (protobuf: always floats) back to ints
    where whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_whole_numbers(v) for v in value]
    return value


def settings_from_config(
    config: Mapping[str, Any], base: GuardrailSettings | None = None
) -> GuardrailSettings:
    """Settings with the keys of ``config`` (camelCase) over ``base`` (default: the defaults).
    ``enforcementLevel`` (a CrossGuard key of every policy) is ignored here."""
    problems: list[str] = []
    changes: dict[str, Any] = {}
    for key, value in config.items():
        value = _whole_numbers(value)
        if key == "enforcementLevel":
            continue
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            problems.append(f"{key}: unknown guardrail setting; known: {known}")
            continue
        if not _typed(key, value, SCHEMA[key], problems):
            continue
        if key == "boundaryPolicyPattern":
            try:
                re.compile(value)
            except re.error as exc:
                problems.append(f"{key}: got {value!r}: not a regular expression: {exc}")
                continue
        if SCHEMA[key]["type"] == "array":
            value = tuple(value)
        if key == "spotShareBandByEnvironment":
            value = {k: (int(v[0]), int(v[1])) for k, v in value.items()}
            bad = [k for k, (low, high) in value.items() if low > high]
            if bad:
                problems.append(f"{key}: min above max for {', '.join(bad)}")
                continue
        changes[_FIELDS[key]] = dict(value) if isinstance(value, Mapping) else value
    if problems:
        raise SettingsError(problems)
    return replace(base or GuardrailSettings(), **changes)


def settings_as_config(settings: GuardrailSettings) -> dict[str, Any]:
    """The settings as a JSON-able config mapping (camelCase keys)."""
    out: dict[str, Any] = {}
    for camel, name in _FIELDS.items():
        value = getattr(settings, name)
        if isinstance(value, Mapping):
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        out[camel] = value
    return out

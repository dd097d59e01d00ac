"""Typed stack configuration of the cluster program.

A stack file (``Pulumi.<stack>.yaml``) holds only what differs between stacks; everything else has
a documented default here, in one place per field: a section's model default *is* the documented
default, so a section that sets one key never changes another (the section is never replaced by
a differently-configured instance). The whole configuration is parsed and validated once, at the
start of the program, before any resource is registered: every problem is reported in one
:class:`~eksplatform.core.errors.ValidationError` naming the key (``platform:network.cidr``), the
value as written and the fix.

Keys live in the ``platform`` namespace, plus two of the AWS provider's own keys:

========================================  =====================================================
``aws:region``                             required; the region of every resource
``aws:allowedAccountIds``                  the one account the stack may touch (AWS provider
                                           guard; ARNs are derived from it). Default offline:
                                           123456789012
``platform:environment``                   Default: the stack name
``platform:clusterName``                   Default: ``eks-<environment>``
``platform:kubernetesVersion``             Default: ``1.31`` (1.29 or newer: native sidecars)
``platform:costCentre``                    Default: ``platform``
``platform:ownerTeam``                     Default: ``platform``
``platform:tags``                          extra tags (never a company tag); Default: none
``platform:network``                       :class:`NetworkConfig`
``platform:controlPlane``                  :class:`ControlPlaneConfig`
``platform:nodePools``                     :class:`~eksplatform.cluster.node_pools.NodePoolConfig` list
``platform:eksAddons``                     :class:`~eksplatform.cluster.eks_addons.EksAddonsConfig`
``platform:interruptionHandler``           :class:`~eksplatform.cluster.interruption.InterruptionHandlerConfig`
``platform:autoscaler``                    :class:`~eksplatform.cluster.autoscaler.AutoscalerConfig`
``platform:servicePlatform``               :class:`~eksplatform.cluster.service_platform.ServicePlatformConfig`
``platform:vpa``                           :class:`~eksplatform.cluster.vpa.VpaConfig`
``platform:headroom``                      :class:`~eksplatform.cluster.headroom.HeadroomConfig`
``platform:teams``                         :class:`~eksplatform.cluster.teams.TeamConfig` list
``platform:descheduler``                   :class:`~eksplatform.cluster.descheduler.DeschedulerConfig`
``platform:logging``                       :class:`~eksplatform.cluster.fluentd.LoggingConfig`
``platform:papertrailToken``               secure; required when logging.output is papertrail
========================================  =====================================================

Order of work (:func:`parse_cluster_config`): decode what the program received (as ``pulumi up``
hands it: :mod:`eksplatform.core.pulumi_yaml`); refuse numbers the stack file wrote with a leading
zero (the CLI reads them as octal) and read them as the text written; validate every section
(pydantic: typed schemas, unknown keys refused, every error collected with its location); then
run the rules across sections (:mod:`.plan`) on every section that parsed, so one round trip shows
every problem. Each section's model lives beside the component that consumes it; this module
composes them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from ..core import naming
from ..core.environments import is_production
from ..core.errors import MISSING, Problem, ValidationError
from ..core.pod_identity import is_region
from ..core.pulumi_yaml import (
    ConfigFile,
    Scalar,
    YamlFileError,
    find_stack_file,
    lookup,
    read_stack_config,
    shown_as_written,
)
from ..core.settings import (
    EMPTY,
    SettingsModel,
    check_retention,
    field_error,
    pydantic_problems,
)
from .autoscaler import AutoscalerConfig
from .descheduler import DeschedulerConfig
from .eks_addons import EksAddonsConfig
from .fluentd import LoggingConfig
from .headroom import HeadroomConfig
from .interruption import InterruptionHandlerConfig
from .node_pools import DEFAULT_NODE_POOLS, NodePoolList
from .service_platform import ServicePlatformConfig
from .teams import Teams
from .vpa import VpaConfig

NAMESPACE = "platform"
"""Config namespace of the cluster program's own keys."""

MIN_KUBERNETES_MINOR = 29
"""Native sidecars (initContainers with restartPolicy Always) are on by default from 1.29."""

DEFAULT_ACCOUNT_ID = "123456789012"
"""Account used offline when ``aws:allowedAccountIds`` is not set (AWS's documentation example)."""

MAX_PUBLIC_ACCESS_CIDRS = 40
"""EKS accepts at most 40 CIDR blocks for the public endpoint."""
MIN_PUBLIC_PREFIX = 8
"""The widest CIDR block the public endpoint may admit (a /8); wider is the internet."""
NOT_PUBLIC_SOURCES = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
"""Ranges no request to the public endpoint comes from (private, shared, loopback, link-local,
multicast, reserved): the private endpoint serves them."""

_K8S_VERSION = re.compile(r"1\.(\d{2})")
_NAME = re.compile(r"[a-z]([a-z0-9-]{0,30}[a-z0-9])?")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_ACCOUNT = re.compile(r"\d{12}")
_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
MAX_EXTRA_TAGS = 37
"""``platform:tags`` at most: AWS allows 50 tags per resource and a node pool's Auto Scaling
groups carry 13 of the platform's own (company tags, ``Name``, pool and cluster tags, the Cluster
Autoscaler's discovery and node-template tags); a pool's labels and taints take more of them."""
COMPANY_TAG_SOURCES = {
    "team": "platform:ownerTeam",
    "environment": "platform:environment",
    "cost-centre": "platform:costCentre",
    "managed-by": "nothing: the platform sets it",
    "name": "nothing: each resource gets its own Name tag",
}
"""Tags ``platform:tags`` cannot set (compared case-insensitively), and where each comes from."""


class FlowLogsConfig(SettingsModel):
    """VPC flow logs to CloudWatch Logs."""

    enabled: bool = True
    """Default: true."""
    retention_days: int = 30
    """Days CloudWatch keeps the flow logs. Default: 30."""
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    """Default: ALL."""

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        return check_retention(v)


class NetworkConfig(SettingsModel):
    """``platform:network``: the VPC."""

    cidr: str = "10.0.0.0/16"
    """IPv4 CIDR of the VPC, a /16 to /20. Default: 10.0.0.0/16."""
    az_count: int = 3
    """How many availability zones to span (1-6). Default: 3."""
    availability_zones: tuple[str, ...] | None = None
    """Explicit zone names. Default: the first ``azCount`` available zones of the region."""
    nat_gateways: Literal["perAz", "single"] = "perAz"
    """``perAz`` (one NAT gateway per zone: a zone outage cuts no other zone's egress) or
    ``single`` (one shared gateway: cheaper, for non-production). Default: perAz."""
    interface_endpoints: bool = True
    """Interface endpoints for ECR (api, dkr) and STS, so image pulls and IRSA/Pod Identity token
    exchanges stay off the NAT gateways. The S3 gateway endpoint is always created (free).
    Default: true."""
    flow_logs: FlowLogsConfig = FlowLogsConfig()
    """Default: enabled, 30 days, ALL traffic."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            net = ipaddress.IPv4Network(v, strict=True)
        except ValueError as exc:
            raise ValueError(
                f"not a valid IPv4 CIDR block ({exc}); write it like 10.20.0.0/16"
            ) from None
        if not 16 <= net.prefixlen <= 20:
            raise ValueError(
                "the VPC must be a /16 to /20 (AWS allows /16 at most; pods need room)"
            )
        if not net.is_private:
            raise ValueError("use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
        return v

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, v: int) -> int:
        if not 1 <= v <= 6:
            raise ValueError("must be 1 to 6 (3 is the production norm)")
        return v

    @model_validator(mode="after")
    def _zones_match_count(self) -> NetworkConfig:
        zones = self.availability_zones
        if zones is not None:
            if len(zones) != self.az_count:
                raise field_error(
                    "availabilityZones",
                    f"lists {len(zones)} zones but azCount is {self.az_count}; "
                    "make them agree (or drop availabilityZones to derive the zones)",
                )
            if len(set(zones)) != len(zones):
                raise field_error("availabilityZones", "repeats a zone")
        return self


def _public_cidr_problem(cidr: str) -> str | None:
    """Why ``cidr`` cannot admit clients to the public API endpoint, or None."""
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        return f"{cidr!r} is not a valid CIDR block ({exc}); write each like 203.0.113.0/24"
    if net.prefixlen == 0:
        return (
            f"{cidr} opens the API server to the whole internet; list the CIDRs of your "
            "offices and CI runners, or set endpointPublicAccess: false"
        )
    if net.version == 6:
        return f"{cidr} is IPv6; EKS takes IPv4 CIDR blocks for the public endpoint"
    if net.prefixlen < MIN_PUBLIC_PREFIX:
        return (
            f"{cidr} admits {net.num_addresses:,} addresses (wider than a /{MIN_PUBLIC_PREFIX}); "
            "list the CIDRs of your offices and CI runners"
        )
    for private in NOT_PUBLIC_SOURCES:
        if net.overlaps(private):
            verb = "is" if net.subnet_of(private) else "overlaps"
            return (
                f"{cidr} {verb} a range that never reaches the public endpoint ({private}: the "
                "private endpoint serves it); list public CIDRs only"
            )
    return None


class ControlPlaneConfig(SettingsModel):
    """``platform:controlPlane``: the EKS control plane."""

    endpoint_public_access: bool = False
    """Expose the API server publicly (limited to ``publicAccessCidrs``); the private endpoint is
    always on. Default: false (private only)."""
    public_access_cidrs: tuple[str, ...] = ()
    """IPv4 CIDRs allowed to reach the public endpoint (public ranges, each /8 or narrower, at
    most 40); required when it is on. Default: none."""
    admin_role_arns: tuple[str, ...] = ()
    """IAM roles (of the stack's account) given cluster-admin through EKS access entries (API
    authentication mode, no aws-auth ConfigMap to lock anyone out). Default: none (only the
    creator)."""
    log_types: tuple[str, ...] = _LOG_TYPES
    """Control plane log types sent to CloudWatch. Default: all five."""
    log_retention_days: int = 90
    """Retention of the control plane log group. Default: 90."""
    deletion_protection: bool | None = None
    """Refuse to delete the cluster. Default: true for production environments, false
    otherwise."""

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        problems = [p for p in map(_public_cidr_problem, v) if p]
        repeated = sorted({c for c in v if v.count(c) > 1})
        if repeated:
            problems.append(f"{', '.join(repeated)} listed twice")
        if len(v) > MAX_PUBLIC_ACCESS_CIDRS:
            problems.append(f"{len(v)} blocks; EKS accepts at most {MAX_PUBLIC_ACCESS_CIDRS}")
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [arn for arn in v if not _ROLE_ARN.fullmatch(arn)]
        if bad:
            raise ValueError(
                f"not IAM role ARNs: {', '.join(map(repr, bad))}; "
                "write each like arn:aws:iam::123456789012:role/platform-admin"
            )
        repeated = sorted({a for a in v if v.count(a) > 1})
        if repeated:
            raise ValueError(
                f"lists {', '.join(repeated)} twice; EKS allows one access entry per role"
            )
        return v

    @field_validator("log_types")
    @classmethod
    def _log_types(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in v if t not in _LOG_TYPES]
        if bad:
            raise ValueError(
                f"unknown log types {', '.join(map(repr, bad))}; allowed: {', '.join(_LOG_TYPES)}"
            )
        if len(set(v)) != len(v):
            raise ValueError("lists a log type twice")
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        return check_retention(v)

    @model_validator(mode="after")
    def _public_needs_cidrs(self) -> ControlPlaneConfig:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise field_error(
                "publicAccessCidrs",
                "endpointPublicAccess is true but no CIDRs are listed; list the CIDRs "
                "allowed to reach the API server, or set endpointPublicAccess: false",
            )
        return self


class ClusterConfig(SettingsModel):
    """The whole cluster stack configuration (``platform:*`` keys plus the AWS region/account)."""

    region: str
    """From ``aws:region``. Required."""
    account_id: str = DEFAULT_ACCOUNT_ID
    """From ``aws:allowedAccountIds`` (a list of exactly one id). Default (offline only):
    123456789012."""
    environment: str
    """Default: the stack name."""
    cluster_name: str = ""
    """Default: ``eks-<environment>``."""
    kubernetes_version: str = "1.31"
    """EKS Kubernetes version, ``1.MINOR`` with MINOR >= 29. Default: 1.31."""
    cost_centre: str = "platform"
    """Company ``cost-centre`` tag. Default: platform."""
    owner_team: str = "platform"
    """Company ``team`` tag of cluster resources. Default: platform."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Extra tags on every resource; a company tag (team, environment, cost-centre, managed-by)
    or Name is refused, not dropped. Default: none."""
    network: NetworkConfig = NetworkConfig()
    """``platform:network``: the VPC. Default: 10.0.0.0/16 over 3 zones, a NAT gateway per
    zone, interface endpoints, flow logs."""
    control_plane: ControlPlaneConfig = ControlPlaneConfig()
    """``platform:controlPlane``. Default: private endpoint only, all five log types kept 90
    days, deletion protection in production."""
    vpa: VpaConfig = VpaConfig()
    """``platform:vpa``: the Vertical Pod Autoscaler chart (:mod:`.vpa`). Default: enabled."""
    headroom: HeadroomConfig = HeadroomConfig()
    """``platform:headroom``: overprovisioning pause pods (:mod:`.headroom`). Default: 2 x
    500m/1Gi."""
    teams: Teams = ()
    """``platform:teams``: service team namespaces (:mod:`.teams`). Default: none."""
    service_platform: ServicePlatformConfig = ServicePlatformConfig()
    """``platform:servicePlatform``: permissions boundary, ALB logs (:mod:`.service_platform`)."""
    node_pools: NodePoolList = DEFAULT_NODE_POOLS
    """``platform:nodePools``: node pools (:mod:`.node_pools`). Default: one pool ``general``."""
    eks_addons: EksAddonsConfig = EksAddonsConfig()
    """``platform:eksAddons``: EKS add-on versions (:mod:`.eks_addons`). Default: for 1.31."""
    interruption_handler: InterruptionHandlerConfig = InterruptionHandlerConfig()
    """``platform:interruptionHandler``: aws-node-termination-handler, queue-processor mode
    (:mod:`.interruption`). Default: enabled, 2 replicas."""
    autoscaler: AutoscalerConfig = AutoscalerConfig()
    """``platform:autoscaler``: the Cluster Autoscaler (:mod:`.autoscaler`). Default: image for the
    cluster's minor version, 10s scan, scale down after 10m unneeded."""
    descheduler: DeschedulerConfig = DeschedulerConfig()
    """``platform:descheduler``: the descheduler CronJob (:mod:`.descheduler`). Default: enabled,
    ``15 3,15 * * *`` Etc/UTC."""
    logging: LoggingConfig = LoggingConfig()
    """``platform:logging``: fluentd log shipping (:mod:`.fluentd`). Default: CloudWatch Logs."""
    papertrail_token: SecretStr | None = None
    """``platform:papertrailToken``, a secure value (``pulumi config set --secret``); required when
    ``logging.output`` is papertrail. The program passes it on as a secret Output. Default: none."""

    _zones: tuple[str, ...] | None = PrivateAttr(default=None)

    @field_validator("papertrail_token", mode="before")
    @classmethod
    def _token(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, str):
            raise ValueError(
                "a secure value is written `secure: <ciphertext>`, as `pulumi config set "
                "--secret platform:papertrailToken <token>` writes it"
            )
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not is_region(v):
            raise ValueError("not an AWS region name; write it like eu-west-1")
        return v

    @field_validator("account_id", mode="before")
    @classmethod
    def _account_text(cls, v: Any) -> Any:
        # An unquoted id without a leading zero is an integer to YAML; its digits are the id.
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("account_id")
    @classmethod
    def _account(cls, v: str) -> str:
        if not _ACCOUNT.fullmatch(v):
            raise ValueError("an AWS account id is 12 digits")
        return v

    @field_validator("environment", "cost_centre", "owner_team")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.fullmatch(v):
            raise ValueError(
                "use lowercase letters, digits and '-', starting with a letter "
                "(at most 32 characters)"
            )
        return v

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, v: str) -> str:
        # EKS also takes a leading digit; the platform's components (autoscaler discovery,
        # termination handler) start it with a letter, so the config does too.
        if v and (
            naming.name_problem(naming.EKS_CLUSTER, v) or not v[0].isascii() or not v[0].isalpha()
        ):
            raise ValueError(
                "EKS cluster names are 1-100 letters, digits, '-' and '_', starting with a letter"
            )
        return v

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version_type(cls, v: Any) -> Any:
        if isinstance(v, float):
            raise ValueError(
                'write the version as a quoted string like "1.31" (YAML reads '
                "1.30 as the number 1.3)"
            )
        return v

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, v: str) -> str:
        m = _K8S_VERSION.fullmatch(v)
        if not m:
            raise ValueError('write it as "1.MINOR", like "1.31"')
        if int(m.group(1)) < MIN_KUBERNETES_MINOR:
            raise ValueError(
                f"must be 1.{MIN_KUBERNETES_MINOR} or newer: the Envoy sidecar runs "
                "as a native sidecar, on by default only from 1.29"
            )
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        problems = []
        for key, value in v.items():
            source = COMPANY_TAG_SOURCES.get(key.lower())
            if source is not None:
                problems.append(
                    f"{key!r} is a company tag the platform sets (from {source}); remove it "
                    "here" + ("" if source.startswith("nothing") else f" and set {source}")
                )
                continue
            reason = naming.name_problem(naming.TAG_KEY, key)
            if reason:
                problems.append(f"the key {key!r} {reason}")
            reason = naming.name_problem(naming.TAG_VALUE, value)
            if reason:
                problems.append(f"the value of {key!r} {reason}")
        if len(v) > MAX_EXTRA_TAGS:
            problems.append(
                f"{len(v)} tags; at most {MAX_EXTRA_TAGS} fit beside the platform's own (AWS "
                "allows 50 per resource)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @model_validator(mode="after")
    def _derive(self) -> ClusterConfig:
        # Derive rather than fail: frozen model, so set through object.__setattr__ once here.
        if not self.cluster_name:
            object.__setattr__(self, "cluster_name", f"eks-{self.environment}")
        if self.control_plane.deletion_protection is None:
            cp = self.control_plane.model_copy(
                update={"deletion_protection": is_production(self.environment)}
            )
            object.__setattr__(self, "control_plane", cp)
        return self

    @property
    def is_production(self) -> bool:
        return is_production(self.environment)

    @property
    def kubernetes_minor(self) -> int:
        return int(self.kubernetes_version.split(".")[1])

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones the cluster spans: ``network.availabilityZones``, else the first
        ``azCount`` available zones of the region (resolved by :func:`load_cluster_config`)."""
        if self.network.availability_zones:
            return tuple(self.network.availability_zones)
        if self._zones is None:
            raise RuntimeError("zones are resolved by load_cluster_config() (an AWS read)")
        return self._zones


# --- what the program received ------------------------------------------------------------------

SENSITIVE_KEYS = frozenset({"platform:papertrailToken"})
"""Keys whose value no message ever quotes, even when it was not stored as a secret."""

AWS_KEYS = {"aws:region": "region", "aws:allowedAccountIds": "accountId"}
"""The AWS provider's keys the cluster config reads, and their field names."""
_FIELD_KEYS = {v: k for k, v in AWS_KEYS.items()}
_TEXT_FIELDS = frozenset(
    {"environment", "clusterName", "kubernetesVersion", "costCentre", "ownerTeam"}
)
"""Top-level fields that are text: never JSON-decoded (``"[x]"`` stays text, as in Pulumi)."""


def display_key(loc: tuple[int | str, ...]) -> str:
    """The key as written in the stack file for a location in :class:`ClusterConfig`."""
    if not loc:
        return f"{NAMESPACE}:<config>"
    head, rest = str(loc[0]), loc[1:]
    key = _FIELD_KEYS.get(head, f"{NAMESPACE}:{head}")
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _top_level_keys(aliases: list[str]) -> list[str]:
    keys = [f"{NAMESPACE}:{k}" for k in aliases if k not in _FIELD_KEYS]
    return sorted(keys + list(AWS_KEYS))


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists are JSON-encoded (as Pulumi sends them)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _path_key(path: tuple[str | int, ...]) -> str:
    key = str(path[0])
    for part in path[1:]:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _substitute(data: Any, path: tuple[str | int, ...], expected: Any, text: str) -> bool:
    """Put ``text`` where ``data`` holds ``expected`` at ``path`` (a leading-zero number read as
    the text written); False when the value there is not the one the file gave."""
    try:
        parent = lookup(data, path[:-1])
        if lookup(parent, path[-1:]) != expected:
            return False
    except (KeyError, IndexError, TypeError):
        return False
    parent[path[-1]] = text
    return True


def _received(
    raw: Mapping[str, Any],
    *,
    stack: str,
    project: str | None,
    secret_keys: Collection[str],
    source: ConfigFile | None,
) -> tuple[dict[str, Any], list[Problem]]:
    """The model's input from the program's config, and the problems of the input itself."""
    problems: list[Problem] = []
    decoded = {
        key: value
        if key.removeprefix(f"{NAMESPACE}:") in _TEXT_FIELDS or key in secret_keys
        else _decode(value)
        for key, value in raw.items()
        if key.startswith(f"{NAMESPACE}:") or key in AWS_KEYS
    }
    for scalar in source.ambiguous() if source else ():
        key = str(scalar.path[0])
        if key in decoded and key not in secret_keys:
            holder = {key: decoded[key]}
            if _substitute(holder, scalar.path, scalar.value, scalar.text):
                decoded[key] = holder[key]
                problems.append(
                    Problem(
                        _path_key(scalar.path), shown_as_written(scalar.text), scalar.note() or ""
                    )
                )
    data: dict[str, Any] = {}
    for key, value in decoded.items():
        if value == "" and key not in {*secret_keys, *SENSITIVE_KEYS, "aws:region"}:
            # ``key:`` with nothing after it: the CLI hands over "" (never a default).
            problems.append(Problem(key, value, EMPTY))
            continue
        if key == "aws:allowedAccountIds":
            if not isinstance(value, list):
                problems.append(
                    Problem(
                        key,
                        value,
                        'write it as a list of one account id, like ["111111111111"]',
                    )
                )
            elif len(value) != 1:
                problems.append(
                    Problem(
                        key,
                        value,
                        "list exactly one account id: the program derives every ARN and "
                        "policy of the stack from it (use one stack per account)",
                    )
                )
            else:
                data["accountId"] = value[0]
            continue
        data[AWS_KEYS.get(key) or key[len(NAMESPACE) + 1 :]] = value
    if project:
        for key in sorted(raw):
            if key.startswith(f"{project}:"):
                name = key[len(project) + 1 :]
                problems.append(
                    Problem(
                        key,
                        "[secret]" if key in secret_keys else _decode(raw[key]),
                        f"a key without a namespace belongs to the project ({project}); the "
                        f"cluster program reads the {NAMESPACE} namespace: write "
                        f"{NAMESPACE}:{name}",
                    )
                )
    data.setdefault("environment", stack)
    return data, problems


# --- parsing ------------------------------------------------------------------------------------


def _sections(located: Iterable[tuple[tuple[int | str, ...], Problem]]) -> set[str]:
    return {str(loc[0]) for loc, _ in located if loc}


_PLACEHOLDERS = {"region": "us-east-1", "environment": "placeholder"}
"""Stand-ins for a required field that failed, so the other sections can still be checked
(every rule reading a failed field is skipped)."""


def _partial(data: dict[str, Any], failed: set[str]) -> ClusterConfig | None:
    """The config with every failed section left at its default (None if even that fails)."""
    kept = {k: v for k, v in data.items() if k not in failed}
    for key, placeholder in _PLACEHOLDERS.items():
        if key in failed:
            kept[key] = placeholder
    try:
        return ClusterConfig.model_validate(kept)
    except pydantic.ValidationError:
        return None


def parse_cluster_config(
    raw: Mapping[str, Any],
    *,
    stack: str,
    source: str,
    project: str | None = None,
    secret_keys: Collection[str] = (),
    stack_file: ConfigFile | None = None,
    available_zones: Callable[[str], Iterable[str]] | None = None,
) -> ClusterConfig:
    """Parse raw Pulumi config (``{"platform:network": ..., "aws:region": ...}``) into a
    :class:`ClusterConfig`, or raise one :class:`ValidationError` listing every problem.

    ``source`` names the input in the message (e.g. ``Pulumi.prod.yaml``); ``project`` is the
    Pulumi project (keys written without a namespace land in it); ``secret_keys`` are never
    quoted; ``stack_file`` is the stack file as read (values are then shown as written);
    ``available_zones(region)`` lists the region's zones (an AWS read; without it the zones are
    not checked against the region's and stay unresolved)."""
    from .plan import PlanContext, plan_problems

    data, problems = _received(
        raw, stack=stack, project=project, secret_keys=secret_keys, source=stack_file
    )
    failed: set[str] = set()
    cfg: ClusterConfig | None
    try:
        cfg = ClusterConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        located = pydantic_problems(exc, ClusterConfig, display_key, top_level_keys=_top_level_keys)
        problems += [p for _, p in located]
        failed = _sections(located)
        cfg = _partial(data, failed)
    if cfg is not None:
        context = PlanContext.build(
            cfg,
            failed=frozenset(failed),
            given=frozenset(data),
            secret_keys=frozenset(secret_keys),
            available_zones=available_zones,
        )
        problems += plan_problems(cfg, context)
        if context.zones_resolved:
            cfg._zones = context.zones
    problems = _as_written(problems, stack_file, secret_keys)
    if problems:
        raise ValidationError(f"{source}: invalid stack configuration", problems)
    assert cfg is not None
    return cfg


def _as_written(
    problems: list[Problem], stack_file: ConfigFile | None, secret_keys: Collection[str]
) -> list[Problem]:
    """Problems with secrets hidden and each value shown as the stack file wrote it, with how
    YAML read it when that is likely not what was meant."""
    scalars: dict[str, Scalar] = {}
    if stack_file is not None:
        scalars = {_path_key(s.path): s for s in stack_file.scalars.values()}
    out = []
    for p in problems:
        key = p.field.split(".", 1)[0].split("[", 1)[0]
        if (key in secret_keys or key in SENSITIVE_KEYS) and p.value is not MISSING:
            hidden = "[secret]" if key in secret_keys else "[not shown]"
            out.append(Problem(p.field, shown_as_written(hidden), p.message))
            continue
        scalar = scalars.get(p.field)
        if scalar is not None and scalar.value is None and p.value is None:
            out.append(Problem(p.field, shown_as_written(scalar.text or "(nothing)"), p.message))
            continue
        note = scalar.note() if scalar and not scalar.leading_zero else None
        if scalar is None or note is None:
            out.append(p)
            continue
        message = p.message
        if note not in message:
            message = f"{message.removesuffix('; quote it in the stack file')}; {note}"
        out.append(Problem(p.field, shown_as_written(scalar.text), message))
    return out


def release_problems(cfg: ClusterConfig) -> list[Problem]:
    """Checks that pin a release to the Kubernetes minor version (kube-proxy, Cluster
    Autoscaler and descheduler images); see :func:`eksplatform.cluster.plan.release_problems`."""
    from .plan import release_problems as plan_release_problems

    return plan_release_problems(cfg)


# --- the running program ------------------------------------------------------------------------


def read_program_config() -> dict[str, Any]:
    """Every config key of the running Pulumi program (CLI or offline preview).

    Used by programs only (components take values, never read config)."""
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def _secret_keys(keys: Iterable[str]) -> set[str]:
    from pulumi.runtime import config as runtime_config

    env = set(runtime_config.get_config_secret_keys_env())
    return {k for k in keys if k in env or runtime_config.is_config_secret(k)}


def _stack_file(stack: str, project: str) -> ConfigFile | None:
    """The running stack's file as read (Pulumi runs a program from its project directory, or
    below it), or None when it is not there (config from elsewhere, e.g. an ESC environment)."""
    path = find_stack_file(stack, Path.cwd())
    if path is None:
        return None
    try:
        return read_stack_config(path, project)[1]
    except YamlFileError:
        return None  # the CLI reports a broken stack file itself


def _available_zones(region: str) -> list[str]:
    import pulumi_aws as aws

    return list(aws.get_availability_zones(state="available").names)


def load_cluster_config() -> ClusterConfig:
    """Read and validate the running cluster program's stack configuration, and resolve its
    zones (an AWS read, not a registration): the program's first step, before it registers
    anything."""
    import pulumi

    stack, project = pulumi.get_stack(), pulumi.get_project()
    raw = read_program_config()
    return parse_cluster_config(
        raw,
        stack=stack,
        source=f"Pulumi.{stack}.yaml",
        project=project,
        secret_keys=_secret_keys(raw),
        stack_file=_stack_file(stack, project),
        available_zones=_available_zones,
    )

"""Typed stack configuration of the cluster program.

A stack file (``Pulumi.<stack>.yaml``) holds only what differs between stacks; everything else has
a documented default here. The whole configuration is parsed and validated once, at the start of
the program, before any resource is registered: every problem is reported in one
:class:`~eksplatform.core.errors.ValidationError` naming the key (``platform:network.cidr``), the value
received and what is allowed.

Keys live in the ``platform`` namespace, plus two of the AWS provider's own keys:

========================================  =====================================================
``aws:region``                             required; the region of every resource
``aws:allowedAccountIds``                  the account the stack may touch (AWS provider guard;
                                           the offline preview derives ARNs from the first one)
``platform:environment``                   Default: the stack name
``platform:clusterName``                   Default: ``eks-<environment>``
``platform:kubernetesVersion``             Default: ``1.35`` (:mod:`.versions`; 1.29 or newer)
``platform:costCentre``                    Default: ``platform``
``platform:ownerTeam``                     Default: ``platform``
``platform:tags``                          extra company tags; Default: none
``platform:network``                       :class:`NetworkConfig`
``platform:controlPlane``                  :class:`ControlPlaneConfig`
``platform:nodePools``                     :class:`~eksplatform.cluster.node_pools.NodePoolConfig` list
``platform:nodeAccess``                    :class:`~eksplatform.cluster.node_pools.NodeAccessConfig`
``platform:eksAddons``                     :class:`~eksplatform.cluster.eks_addons.EksAddonsConfig`
``platform:interruptionHandler``           :class:`~eksplatform.cluster.interruption.InterruptionHandlerConfig`
``platform:autoscaler``                    :class:`~eksplatform.cluster.autoscaler.AutoscalerConfig`
``platform:servicePlatform``               :class:`~eksplatform.cluster.service_platform.ServicePlatformConfig`
``platform:vpa``                           :class:`~eksplatform.cluster.vpa.VpaConfig`
``platform:headroom``                      :class:`~eksplatform.cluster.headroom.HeadroomConfig`
``platform:preScaler``                     :class:`~eksplatform.cluster.prescaler_config.PreScalerConfig`
``platform:teams``                         :class:`~eksplatform.cluster.teams.TeamConfig` list
``platform:descheduler``                   :class:`~eksplatform.cluster.descheduler.DeschedulerConfig`
``platform:logging``                       :class:`~eksplatform.cluster.fluentd.LoggingConfig`
``platform:papertrailToken``               secure; required when logging.output is papertrail
========================================  =====================================================

Each section's model lives beside the component that consumes it; this module composes them.
Checks that span sections and pin a release to the Kubernetes minor version (kube-proxy, Cluster
Autoscaler, descheduler) run right after parsing (:func:`release_problems`).

pydantic does the parsing (it is made for exactly this: typed schemas, unknown keys refused, every
error collected with its location); this module only turns its errors into our messages.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

import pulumi
import pydantic
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from ..core.environments import is_production
from ..core.errors import MISSING, Problem, ValidationError
from ..core.settings import FIELD_MARK, SettingsModel, check_retention, field_error
from ..guardrails.inputs import cluster_findings
from .autoscaler import AutoscalerConfig
from .descheduler import DeschedulerConfig
from .eks_addons import EksAddonsConfig
from .fluentd import LoggingConfig
from .headroom import HeadroomConfig
from .interruption import InterruptionHandlerConfig
from .node_pools import DEFAULT_NODE_POOLS, NodeAccessConfig, NodePoolList
from .prescaler_config import PreScalerConfig
from .service_platform import ServicePlatformConfig
from .teams import Teams
from .versions import DEFAULT_KUBERNETES_VERSION
from .vpa import VpaConfig

NAMESPACE = "platform"
"""Config namespace of the cluster program's own keys."""

MIN_KUBERNETES_MINOR = 29
"""Native sidecars (initContainers with restartPolicy Always) are on by default from 1.29."""

DEFAULT_ACCOUNT_ID = "123456789012"
"""Account used offline when ``aws:allowedAccountIds`` is not set (AWS's documentation example)."""

_K8S_VERSION = re.compile(r"^1\.(\d{2})$")
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")


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


class ControlPlaneConfig(SettingsModel):
    """``platform:controlPlane``: the EKS control plane."""

    endpoint_public_access: bool = True
    """Expose the API server publicly (limited to ``publicAccessCidrs``); the private endpoint is
    always on. Default: true. Production may turn it off (private only)."""
    public_access_cidrs: tuple[str, ...] = ()
    """CIDRs allowed to reach the public endpoint; required when it is on. Default: none."""
    admin_role_arns: tuple[str, ...] = ()
    """IAM roles given cluster-admin through EKS access entries (API authentication mode, no
    aws-auth ConfigMap to lock anyone out), the only cluster-admins: pulumi-eks's creator bootstrap
    entry is turned off. Default: none."""
    log_types: tuple[str, ...] = _LOG_TYPES
    """Control plane log types sent to CloudWatch. Default: all five."""
    log_retention_days: int = 90
    """Retention of the control plane log group. Default: 90."""
    deletion_protection: bool | None = None
    """Refuse to delete the cluster. Default: true for prod, false otherwise."""
    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """The cluster's upgrade policy at the end of standard support: ``STANDARD`` lets EKS upgrade
    the control plane then (no extended-support charge, $0.60 instead of $0.10 per cluster-hour);
    ``EXTENDED`` keeps the version up to 12 more months at the extended price. Default: STANDARD
    (EKS's own default is EXTENDED: a forgotten upgrade costs six times as much)."""

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = []
        for cidr in v:
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError:
                bad.append(cidr)
        if bad:
            raise ValueError(
                f"not valid IPv4 CIDR blocks: {', '.join(map(repr, bad))}; "
                "write each like 203.0.113.0/24"
            )
        return v

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [arn for arn in v if not _ROLE_ARN.match(arn)]
        if bad:
            raise ValueError(
                f"not IAM role ARNs: {', '.join(map(repr, bad))}; "
                "write each like arn:aws:iam::123456789012:role/platform-admin"
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
    """From the first of ``aws:allowedAccountIds``. Default (offline only): 123456789012."""
    environment: str
    """Default: the stack name."""
    cluster_name: str = ""
    """Default: ``eks-<environment>``."""
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    """EKS Kubernetes version, ``1.MINOR`` with MINOR >= 29 and offered by EKS
    (:data:`.versions.EKS_CALENDAR`). Default: 1.35 (:data:`.versions.DEFAULT_KUBERNETES_VERSION`)."""
    cost_centre: str = "platform"
    """Company ``cost-centre`` tag. Default: platform."""
    owner_team: str = "platform"
    """Company ``team`` tag of cluster resources. Default: platform."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Extra tags on every resource (they cannot override the company tags). Default: none."""
    network: NetworkConfig = NetworkConfig()
    control_plane: ControlPlaneConfig = Field(
        default_factory=lambda: ControlPlaneConfig(endpoint_public_access=False)
    )
    """Default: private endpoint only."""
    vpa: VpaConfig = VpaConfig()
    """``platform:vpa``: the Vertical Pod Autoscaler chart (:mod:`.vpa`). Default: enabled."""
    headroom: HeadroomConfig = HeadroomConfig()
    """``platform:headroom``: overprovisioning pause pods (:mod:`.headroom`). Default: 2 x
    500m/1Gi."""
    pre_scaler: PreScalerConfig = PreScalerConfig()
    """``platform:preScaler``: the push pre-scaler (:mod:`.prescaler`). Default: enabled, no
    publishers but the cluster admins."""
    teams: Teams = ()
    """``platform:teams``: service team namespaces (:mod:`.teams`). Default: none."""
    service_platform: ServicePlatformConfig = ServicePlatformConfig()
    """``platform:servicePlatform``: permissions boundary, ALB logs (:mod:`.service_platform`)."""
    node_pools: NodePoolList = DEFAULT_NODE_POOLS
    """``platform:nodePools``: node pools (:mod:`.node_pools`). Default: one pool ``general``."""
    node_access: NodeAccessConfig = NodeAccessConfig()
    """``platform:nodeAccess``: SSM on the nodes (:mod:`.node_pools`). Default: none."""
    eks_addons: EksAddonsConfig = EksAddonsConfig()
    """``platform:eksAddons``: EKS add-on versions (:mod:`.eks_addons`). Default: the builds pinned
    for the cluster's minor (:data:`.versions.RELEASES`)."""
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

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", v):
            raise ValueError("not an AWS region name; write it like eu-west-1")
        return v

    @field_validator("account_id")
    @classmethod
    def _account(cls, v: str) -> str:
        if not re.match(r"^\d{12}$", v):
            raise ValueError("an AWS account id is 12 digits")
        return v

    @field_validator("environment", "cost_centre", "owner_team")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                "use lowercase letters, digits and '-', starting with a letter "
                "(at most 32 characters)"
            )
        return v

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, v: str) -> str:
        if v and not re.match(r"^[a-zA-Z][a-zA-Z0-9_-]{0,99}$", v):
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
        m = _K8S_VERSION.match(v)
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
        bad = [k for k in v if not _TAG_KEY.match(k) or k.lower().startswith("aws:")]
        if bad:
            raise ValueError(
                f"invalid tag keys {', '.join(map(repr, bad))}: 1-128 characters, "
                "not starting with 'aws:'"
            )
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
        zones = self.network.availability_zones
        if zones is not None:
            bad = [z for z in zones if not z.startswith(self.region)]
            if bad:
                raise field_error(
                    "network.availabilityZones",
                    f"{', '.join(map(repr, bad))} are not zones of {self.region}",
                )
        return self

    @model_validator(mode="after")
    def _papertrail_token(self) -> ClusterConfig:
        if (
            self.logging.enabled
            and self.logging.output == "papertrail"
            and not self.papertrail_token
        ):
            raise field_error(
                "papertrailToken",
                "logging.output is papertrail: set the token as a secret with "
                "`pulumi config set --secret platform:papertrailToken <token>`",
            )
        return self

    @property
    def is_production(self) -> bool:
        return is_production(self.environment)

    @property
    def kubernetes_minor(self) -> int:
        return int(self.kubernetes_version.split(".")[1])


# --- reading and error rendering ----------------------------------------------------------------

_TOP_LEVEL_AWS = {"aws:region": "region", "aws:allowedAccountIds": "accountId"}


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists are JSON-encoded (as Pulumi sends them)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _display_key(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return f"{NAMESPACE}:<config>"
    head, rest = loc[0], loc[1:]
    inverse = {v: k for k, v in _TOP_LEVEL_AWS.items()}
    key = inverse.get(str(head), f"{NAMESPACE}:{head}")
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class a location points into (to list its allowed keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next(
            (
                f
                for name, f in current.model_fields.items()
                if (f.alias or name) == part or name == part
            ),
            None,
        )
        if field is None:
            return None
        current = field.annotation
        # unwrap Optional[...] / tuple[...]
        for arg in getattr(current, "__args__", ()) or ():
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted((f.alias or name) for name, f in model.model_fields.items())


def _problem(err: Any) -> Problem:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input", MISSING)
    if kind == "extra_forbidden":
        parent = _model_at(ClusterConfig, loc[:-1])
        allowed = _allowed_keys(parent) if parent else []
        if not loc[:-1]:
            allowed = [f"{NAMESPACE}:{k}" for k in allowed if k not in ("region", "accountId")]
            allowed += list(_TOP_LEVEL_AWS)
        message = f"unknown key; allowed keys here: {', '.join(sorted(allowed))}"
        typed = _display_key(loc) if not loc[:-1] else str(loc[-1])
        close = difflib.get_close_matches(typed, allowed, n=1, cutoff=0.8)
        if close:
            message += f"; did you mean {close[0]}?"
        return Problem(_display_key(loc), value, message)
    if kind == "missing":
        return Problem(_display_key(loc), MISSING, "required; add it to the stack file")
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif message.startswith("Assertion failed, "):
        message = message[len("Assertion failed, ") :]
    if message.startswith(FIELD_MARK):
        # A model-level check that names its field: point at that field and quote its value.
        _, path, message = message.split(FIELD_MARK, 2)
        for part in path.split("."):
            value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
            loc = (*loc, part)
    return Problem(_display_key(loc), value, message)


def parse_cluster_config(raw: Mapping[str, Any], *, stack: str, source: str) -> ClusterConfig:
    """Parse raw Pulumi config (``{"platform:network": ..., "aws:region": ...}``) into a
    :class:`ClusterConfig`, or raise one :class:`ValidationError` listing every problem.

    ``source`` names the input in the message (e.g. ``Pulumi.prod.yaml``).
    """
    data: dict[str, Any] = {}
    prefix = NAMESPACE + ":"
    for key, value in raw.items():
        if key.startswith(prefix):
            data[key[len(prefix) :]] = _decode(value)
        elif key in _TOP_LEVEL_AWS:
            decoded = _decode(value)
            if key == "aws:allowedAccountIds":
                if isinstance(decoded, list) and decoded:
                    decoded = decoded[0]
                elif isinstance(decoded, list):
                    continue
            data[_TOP_LEVEL_AWS[key]] = decoded
    data.setdefault("environment", stack)
    try:
        cfg = ClusterConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = [_problem(e) for e in exc.errors(include_url=False)]
        raise ValidationError(f"{source}: invalid stack configuration", problems) from None
    problems = release_problems(cfg)
    # The guardrail rules on this config (eksplatform.guardrails): errors and advisories.
    found = cluster_findings(cfg)
    problems += found.problems
    for warning in found.warnings:
        pulumi.log.warn(f"{source}: {warning}")
    if problems:
        raise ValidationError(f"{source}: invalid stack configuration", problems)
    return cfg


def release_problems(cfg: ClusterConfig) -> list[Problem]:
    """Checks across sections that pin a release to the Kubernetes minor version (kube-proxy,
    Cluster Autoscaler and descheduler images): all reported together, once every section is
    valid on its own, and before the program registers anything."""
    from .autoscaler import autoscaler_image_tag
    from .descheduler import IMAGE_TAGS as DESCHEDULER_TAGS
    from .eks_addons import ADDON_FIELDS, addon_versions, kube_proxy_problem
    from .versions import EKS_CALENDAR

    problems: list[Problem] = []
    version = cfg.kubernetes_version
    if cfg.kubernetes_minor not in EKS_CALENDAR:
        minors = ", ".join(f"1.{m}" for m in sorted(EKS_CALENDAR))
        problems.append(
            Problem(
                "platform:kubernetesVersion",
                version,
                f"EKS does not offer Kubernetes {version} (EKS release calendar: {minors}); "
                "pick one of those",
            )
        )
    offered = cfg.kubernetes_minor in EKS_CALENDAR
    resolved = addon_versions(cfg.eks_addons, version)
    for addon, attr in ADDON_FIELDS.items() if offered else ():
        key = "platform:eksAddons." + "".join(
            w.capitalize() if i else w for i, w in enumerate(attr.split("_"))
        )
        if resolved[addon] is None:
            problems.append(
                Problem(
                    key,
                    None,
                    f"no {addon} build is pinned for Kubernetes {version} "
                    "(eksplatform.cluster.versions.RELEASES): set it from aws eks "
                    f"describe-addon-versions --addon-name {addon} --kubernetes-version {version}",
                )
            )
    kube_proxy_version = resolved["kube-proxy"]
    kube_proxy = kube_proxy_problem(version, kube_proxy_version) if kube_proxy_version else None
    if kube_proxy:
        problems.append(Problem("platform:eksAddons.kubeProxy", kube_proxy_version, kube_proxy))
    if not offered and cfg.autoscaler.image_tag is None:
        return problems  # one cause: the tables below have no row for a minor EKS lacks
    try:
        autoscaler_image_tag(version, cfg.autoscaler.image_tag)
    except ValueError as exc:
        tag = cfg.autoscaler.image_tag
        key, value = (
            ("platform:autoscaler.imageTag", tag)
            if tag is not None
            else ("platform:kubernetesVersion", version)
        )
        problems.append(Problem(key, value, str(exc)))
    if offered and cfg.descheduler.enabled and cfg.kubernetes_minor not in DESCHEDULER_TAGS:
        known = ", ".join(f"1.{m}" for m in sorted(DESCHEDULER_TAGS))
        problems.append(
            Problem(
                "platform:kubernetesVersion",
                version,
                f"no descheduler release is pinned for it (known: {known}); add its tag to "
                "eksplatform.cluster.descheduler.IMAGE_TAGS or set platform:descheduler.enabled: false",
            )
        )
    return problems


def read_program_config() -> dict[str, Any]:
    """Every config key of the running Pulumi program (CLI or offline preview).

    Used by programs only (components take values, never read config)."""
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def load_cluster_config() -> ClusterConfig:
    """Read and validate the running cluster program's stack configuration."""
    import pulumi

    stack = pulumi.get_stack()
    return parse_cluster_config(read_program_config(), stack=stack, source=f"Pulumi.{stack}.yaml")

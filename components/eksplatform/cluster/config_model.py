"""The cluster stack configuration's models: the sections of ``platform:*`` and the whole.

Design decision: one default per field, in one place. A section's model default *is* the
documented default (each field's docstring states it; a test compares the two), and a section
the stack file does not name is the model's own default instance, so a section that sets one key
never changes another. (Issue 10 found a ``platform:controlPlane`` whose model default turned the
public endpoint on while the documented default was off.) Values derived from another key
(``clusterName`` from the environment, deletion protection from the environment's
classification) are filled in once, by :class:`ClusterConfig` itself.

Each section checks its own keys here or beside the component that consumes it (``NodePoolConfig``
in :mod:`.node_pool_config`...); what spans sections is checked by :mod:`.plan`, and
:mod:`.config` reads the program's config into these models.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from ..core import naming
from ..core.environments import is_production
from ..core.pod_identity import is_region
from ..core.settings import SettingsModel, check_retention, field_error
from ..guardrails.network import WORLD_PREFIX_V4
from .autoscaler import AutoscalerConfig
from .datadog_config import DatadogConfig, is_enabled, serves_external_metrics
from .descheduler import DeschedulerConfig
from .dev_environments import DevEnvironmentsConfig
from .eks_addons import EksAddonsConfig
from .fluentd import LoggingConfig
from .headroom import HeadroomConfig
from .interruption import InterruptionHandlerConfig
from .node_pool_config import DEFAULT_NODE_POOLS, NodeAccessConfig, NodePoolList
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

MAX_PUBLIC_ACCESS_CIDRS = 40
"""EKS accepts at most 40 CIDR blocks for the public endpoint."""
MIN_PUBLIC_PREFIX = WORLD_PREFIX_V4 + 1
"""The widest CIDR block the public endpoint may admit (a /9); a public /8 or wider counts as the
internet, as in the guardrail rule ``aws-eks-endpoint`` (one threshold for both)."""
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
    "eksplatform-owner": "nothing: it marks the platform's own resources, which service roles "
    "may never touch",
}
"""Tags ``platform:tags`` cannot set (compared case-insensitively), and where each comes from."""
RESERVED_TAG_PREFIXES = {
    "kubernetes.io/cluster/": "EKS and the load balancer controller find the cluster's subnets "
    "and nodes by it",
    "k8s.io/cluster-autoscaler/": "the Cluster Autoscaler finds and sizes the node groups by it",
}
"""Tag key prefixes the platform sets on its own resources, with what reads them."""


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
    # A block inside a range that never reaches the endpoint says so first; a wide block that
    # only overlaps one is, above all, too wide.
    inside = [p for p in NOT_PUBLIC_SOURCES if net.subnet_of(p)]
    overlapped = [p for p in NOT_PUBLIC_SOURCES if net.overlaps(p)]
    if inside:
        return (
            f"{cidr} is a range that never reaches the public endpoint ({inside[0]}: the "
            "private endpoint serves it); list public CIDRs only"
        )
    if net.prefixlen < MIN_PUBLIC_PREFIX:
        return (
            f"{cidr} admits {net.num_addresses:,} addresses (a public /{WORLD_PREFIX_V4} or wider "
            "counts as the internet); list the CIDRs of your offices and CI runners"
        )
    if overlapped:
        return (
            f"{cidr} overlaps a range that never reaches the public endpoint ({overlapped[0]}: "
            "the private endpoint serves it); list public CIDRs only"
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
    authentication mode, no aws-auth ConfigMap to lock anyone out), the only cluster-admins:
    pulumi-eks's creator bootstrap entry is turned off. Default: none."""
    log_types: tuple[str, ...] = _LOG_TYPES
    """Control plane log types sent to CloudWatch. Default: all five."""
    log_retention_days: int = 90
    """Retention of the control plane log group. Default: 90."""
    deletion_protection: bool | None = None
    """Refuse to delete the cluster. Default: true for production environments, false
    otherwise."""
    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """The cluster's upgrade policy at the end of standard support: ``STANDARD`` lets EKS upgrade
    the control plane then (no extended-support charge: $0.10 instead of $0.60 per cluster-hour);
    ``EXTENDED`` keeps the version up to 12 more months at the extended price. EKS's own default
    is EXTENDED, where a forgotten upgrade costs six times as much. Default: STANDARD."""

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
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    """EKS Kubernetes version, ``1.MINOR`` with MINOR >= 29 and offered by EKS
    (:data:`.versions.EKS_CALENDAR`). Default: 1.35 (:data:`.versions.DEFAULT_KUBERNETES_VERSION`)."""
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
    dev_environments: DevEnvironmentsConfig = DevEnvironmentsConfig()
    """``platform:devEnvironments``: developer namespaces (:mod:`.dev_environments`). Default:
    on outside production (Kubernetes 1.30+), off in production."""
    papertrail_token: SecretStr | None = None
    """``platform:papertrailToken``, a secure value (``pulumi config set --secret``); required when
    ``logging.output`` is papertrail. The program passes it on as a secret Output. Default: none."""
    datadog: DatadogConfig = DatadogConfig()
    """``platform:datadog``: the Datadog agents (:mod:`.datadog`). Default: on when
    ``platform:datadogApiKey`` is set."""
    datadog_api_key: SecretStr | None = None
    """``platform:datadogApiKey``, a secure value: the agents' API key. Default: none (no agents)."""
    datadog_app_key: SecretStr | None = None
    """``platform:datadogAppKey``, a secure value: the Cluster Agent reads metrics for HPAs with
    it. Default: none (no external metrics)."""

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

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, v: str) -> str:
        m = _K8S_VERSION.fullmatch(v)
        if re.fullmatch(r"1\.[1-9]", v):
            # What a number became: Pulumi.yaml's `value: 1.30` reaches the program as "1.3".
            raise ValueError(
                f'write it as "1.MINOR" in quotes, like "{v}0": unquoted, YAML reads 1.{v[2]}0 '
                f"as the number {v}"
            )
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
            prefix = next((p for p in RESERVED_TAG_PREFIXES if key.lower().startswith(p)), None)
            if prefix is not None:
                problems.append(
                    f"{key!r}: {prefix}* tags are the platform's own "
                    f"({RESERVED_TAG_PREFIXES[prefix]}); remove it here"
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
        dev = self.dev_environments
        if dev.enabled is None:
            # On outside production when the cluster can enforce them (checked in .plan).
            on = not is_production(self.environment) and self.kubernetes_minor >= 30
            object.__setattr__(self, "dev_environments", dev.derived(enabled=on))
        return self

    @property
    def datadog_enabled(self) -> bool:
        """The Datadog agents run (:func:`~.datadog_config.is_enabled`)."""
        return is_enabled(self.datadog, api_key_set=self.datadog_api_key is not None)

    @property
    def datadog_external_metrics(self) -> bool:
        """The Cluster Agent serves ``external.metrics.k8s.io``."""
        return serves_external_metrics(
            self.datadog,
            api_key_set=self.datadog_api_key is not None,
            app_key_set=self.datadog_app_key is not None,
        )

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

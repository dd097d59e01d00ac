"""TeamNamespaces: one namespace per service team, with freedom inside limits.

Per team (``platform:teams``):

* a Namespace with Pod Security "restricted" enforced (and warned and audited), labelled with the
  team;
* a ResourceQuota (CPU and memory requests, memory limits, pods, Services, NodePorts, no
  LoadBalancer Services: ALBs come from ServiceStack) and a LimitRange giving containers that
  set nothing the default request and memory limit, and capping a container's memory. There is
  deliberately no CPU limit or CPU max: a LimitRange ``max.cpu`` would inject a CPU limit into
  every container, and CPU limits throttle latency-sensitive pods even on idle nodes;
* NetworkPolicies: deny all ingress and egress by default, then allow
  - traffic between the namespace's own pods;
  - DNS to CoreDNS (``k8s-app: kube-dns`` in ``kube-system``, UDP and TCP 53);
  - ingress from the VPC CIDR to the Envoy ingress port (15001): the ALB reaches pods through
    node ports, so that traffic arrives from node and ALB addresses inside the VPC;
  - egress HTTPS (TCP 443) anywhere: AWS APIs (STS for IRSA, DynamoDB, SQS, S3...) have no fixed
    addresses a policy could list; the VPC endpoints keep most of it inside the VPC, and IAM (with
    the permissions boundary) is the real control;
  - egress to the EKS Pod Identity agent (169.254.170.23, TCP 80), which hands out credentials;
  - egress to the node's Datadog agent (VPC CIDR, UDP 8125 DogStatsD, TCP 8126 traces);
  - ingress from the namespaces the team lists in ``allowIngressFrom``, and the matching egress
    from those namespaces' own policies (a team that is allowed in can also get out to it);
* with developer environments on (:mod:`.dev_environments`): ingress on the Envoy port from the
  team's own developer namespaces (``eksplatform.io/developer`` set, ``eksplatform.io/team`` =
  the team: the admission policies keep that label honest), and the edit association's scope
  also covers ``dev-*`` (EKS matches the wildcard; the namespace boundary narrows writes to the
  team's own developer namespaces);
* EKS access: per IAM role an access entry (type STANDARD, Kubernetes group
  ``eksplatform:team:<namespace>`` per namespace it serves, which the admission boundary of
  :mod:`.admission` keys on) and an ``AmazonEKSEditPolicy`` association scoped to the team's
  namespace(s) only. A role shared by several teams gets one
  entry whose association lists all their namespaces (EKS allows one entry per principal).

The teams' ``alertEmails`` are validated here and used elsewhere (the service platform creates
each team's SNS topic from them).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import (
    LimitRangeItemArgs,
    LimitRangeSpecArgs,
    ResourceQuotaSpecArgs,
)
from pulumi_kubernetes.meta.v1 import (
    LabelSelectorArgs,
    LabelSelectorRequirementArgs,
    ObjectMetaArgs,
)
from pulumi_kubernetes.meta.v1.outputs import ObjectMeta
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)
from pydantic import ValidatorFunctionWrapHandler, WrapValidator, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from ..core import kube
from ..core.devenv import DEV_PREFIX, DEVELOPER_LABEL
from ..core.errors import Problems
from ..core.kube import CpuQuantity
from ..core.settings import (
    DNS_LABEL,
    NUMBERS_AS_TEXT,
    CpuRequest,
    MemoryRequest,
    SettingsModel,
    field_error,
)
from ..core.tags import Tags
from ..envoy import EnvoySettings
from ..guardrails.admission import team_group

_TOKEN = "eksplatform:addons:TeamNamespaces"

EDIT_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
TEAM_LABEL = "eksplatform.io/team"
"""Label on each team namespace naming its team."""
ENVOY_INGRESS_PORT: int = EnvoySettings(service_name="default").ingress_port
"""The Envoy sidecar's ingress port (the Service targetPort the ALB's node port leads to)."""
POD_IDENTITY_AGENT = "169.254.170.23/32"
"""Link-local address of the EKS Pod Identity agent on every node."""
DATADOG_PORTS = (("UDP", 8125), ("TCP", 8126))
"""DogStatsD and APM ports of the node's Datadog agent."""
RESERVED_NAMESPACES = frozenset(
    {
        *("default", "kube-system", "kube-public", "kube-node-lease"),
        *("logging", "overprovisioning", "vpa-system"),
    }
)
"""Namespaces a team can never take (system and platform namespaces); every ``kube-`` name is
Kubernetes' own as well."""


def reserved_namespace(namespace: str) -> bool:
    """A namespace no team may take."""
    return namespace in RESERVED_NAMESPACES or namespace.startswith("kube-")


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}\Z")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}\Z")


class QuotaConfig(SettingsModel):
    """A team namespace's ResourceQuota."""

    requests_cpu: Annotated[CpuQuantity, NUMBERS_AS_TEXT] = "8"
    """Sum of CPU requests. Default: 8."""
    requests_memory: MemoryRequest = "16Gi"
    """Sum of memory requests. Default: 16Gi."""
    limits_memory: MemoryRequest = "16Gi"
    """Sum of memory limits. Default: 16Gi."""
    pods: int = 100
    """Default: 100."""
    services: int = 20
    """Default: 20."""
    services_node_ports: int = 20
    """Services of type NodePort (each ALB-fronted service has one). Default: 20."""

    @field_validator("requests_cpu")
    @classmethod
    def _cpu(cls, v: str) -> str:
        if kube.parse_cpu(v) < 1:
            raise ValueError("must be at least 1m: a quota of 0 CPU admits no pod")
        return v

    @field_validator("pods", "services", "services_node_ports")
    @classmethod
    def _count(cls, v: int) -> int:
        if v < 0:
            raise ValueError("must be 0 or more")
        return v


class LimitRangeConfig(SettingsModel):
    """A team namespace's LimitRange (per container)."""

    default_request_cpu: CpuRequest = "100m"
    """CPU request of a container that sets none. Default: 100m."""
    default_request_memory: MemoryRequest = "256Mi"
    """Memory request of a container that sets none. Default: 256Mi."""
    default_limit_memory: MemoryRequest = "256Mi"
    """Memory limit of a container that sets none (equal to the request: no overcommit).
    Default: 256Mi."""
    max_memory: MemoryRequest = "8Gi"
    """Largest memory limit a container may have. Default: 8Gi."""

    @model_validator(mode="after")
    def _consistent(self) -> LimitRangeConfig:
        request = kube.parse_memory(self.default_request_memory)
        limit = kube.parse_memory(self.default_limit_memory)
        if request > limit:
            raise field_error(
                "defaultRequestMemory",
                f"is above defaultLimitMemory ({self.default_limit_memory}): Kubernetes refuses "
                "a request above its limit; lower it or raise defaultLimitMemory",
            )
        if limit > kube.parse_memory(self.max_memory):
            raise field_error(
                "defaultLimitMemory",
                f"is above maxMemory ({self.max_memory}): every pod left to the defaults would "
                "be refused; lower it or raise maxMemory",
            )
        return self


class TeamConfig(SettingsModel):
    """One entry of ``platform:teams``: a service team and its namespace."""

    name: str
    """Team name: a DNS label, unique. Required."""
    namespace: str = ""
    """Default: the team name."""
    role_arns: tuple[str, ...] = ()
    """IAM roles of the team's members: edit rights in the namespace. Default: none."""
    alert_emails: tuple[str, ...] = ()
    """Addresses subscribed to the team's alert topic. Default: none."""
    quota: QuotaConfig = QuotaConfig()
    """Default: :class:`QuotaConfig` defaults (8 CPU, 16Gi, 100 pods)."""
    limit_range: LimitRangeConfig = LimitRangeConfig()
    """Default: 100m/256Mi requests, 256Mi memory limit, 8Gi max."""
    allow_ingress_from: tuple[str, ...] = ()
    """Other namespaces whose pods may call this namespace's pods. Default: none."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not DNS_LABEL.match(v) or len(v) > 40:
            raise ValueError(
                "use lowercase letters, digits and '-', starting with a letter "
                "(at most 40 characters)"
            )
        return v

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if v and not DNS_LABEL.match(v):
            raise ValueError("a namespace is a DNS label: lowercase letters, digits and '-'")
        if reserved_namespace(v):
            raise ValueError(
                "is a system or platform namespace; reserved: "
                f"{', '.join(sorted(RESERVED_NAMESPACES))} and every kube-* name"
            )
        return v

    @field_validator("role_arns")
    @classmethod
    def _arns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in v if not _ROLE_ARN.match(a)]
        if bad:
            raise ValueError(
                f"not IAM role ARNs: {', '.join(map(repr, bad))}; "
                "write each like arn:aws:iam::123456789012:role/news-developers"
            )
        repeated = sorted({a for a in v if v.count(a) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} twice")
        return v

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [e for e in v if not _EMAIL.match(e)]
        if bad:
            raise ValueError(
                f"not email addresses: {', '.join(map(repr, bad))}; write each like "
                "news-oncall@example.com"
            )
        return v

    @field_validator("allow_ingress_from")
    @classmethod
    def _peers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [n for n in v if not DNS_LABEL.match(n)]
        if bad:
            raise ValueError(f"not namespace names: {', '.join(map(repr, bad))}")
        return v

    @model_validator(mode="after")
    def _fits(self) -> TeamConfig:
        if not self.namespace:
            if reserved_namespace(self.name):
                raise field_error(
                    "name",
                    "is a system or platform namespace and the namespace defaults to the "
                    "name; rename the team or set namespace",
                )
            object.__setattr__(self, "namespace", self.name)
        q, lr = self.quota, self.limit_range
        if q.pods < 1:
            raise field_error(
                "quota.pods", "the namespace could run no pod at all; allow at least 1"
            )
        checks = (
            (
                "requestsCpu",
                q.requests_cpu,
                kube.parse_cpu,
                "defaultRequestCpu",
                lr.default_request_cpu,
            ),
            (
                "requestsMemory",
                q.requests_memory,
                kube.parse_memory,
                "defaultRequestMemory",
                lr.default_request_memory,
            ),
            (
                "limitsMemory",
                q.limits_memory,
                kube.parse_memory,
                "defaultLimitMemory",
                lr.default_limit_memory,
            ),
        )
        for key, total, parse, lr_key, per_pod in checks:
            if parse(total) < parse(per_pod):
                raise field_error(
                    f"quota.{key}",
                    f"is below limitRange.{lr_key} ({per_pod}): not even one pod at the "
                    f"defaults fits; raise quota.{key} or lower limitRange.{lr_key}",
                )
        return self


def _duplicates(value: Any) -> list[InitErrorDetails]:
    """Repeated team names and namespaces, each pointed at the later team's field."""
    if not isinstance(value, (list, tuple)):
        return []
    found: list[InitErrorDetails] = []
    for key in ("name", "namespace"):
        first: dict[str, int] = {}
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            got = item.get(key) or (item.get("name") if key == "namespace" else None)
            if not isinstance(got, str):
                continue
            if got in first:
                message = (
                    f"Value error, teams[{first[got]}] already has this {key}; "
                    f"give each team its own {key}"
                )
                found.append(
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", message),
                        loc=(i, key),
                        input=got,
                    )
                )
            else:
                first[got] = i
    return found


def _validate_teams(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate every team, then check names and namespaces are unique; report all at once."""
    errors: list[InitErrorDetails] = []
    result = None
    try:
        result = handler(value)
    except ValidationError as exc:
        for e in exc.errors():
            errors.append(
                InitErrorDetails(
                    # Same type and text, kept as a custom error so nothing is re-rendered.
                    type=PydanticCustomError(e["type"], e["msg"]),
                    loc=tuple(e["loc"]),
                    input=e.get("input"),
                )
            )
    errors.extend(_duplicates(value))
    if errors:
        raise ValidationError.from_exception_data("teams", errors)
    return result


Teams = Annotated[tuple[TeamConfig, ...], WrapValidator(_validate_teams)]
"""``platform:teams``: the list of teams (unique names and namespaces)."""


@dataclass(frozen=True, kw_only=True)
class TeamNamespacesArgs:
    """Inputs of :class:`TeamNamespaces`."""

    provider: k8s.Provider
    """Kubernetes provider of the cluster. Required."""
    teams: Sequence[TeamConfig]
    """The teams (validated config). Required (may be empty)."""
    cluster_name: pulumi.Input[str]
    """EKS cluster name (pass the control plane's output, so access entries wait for it)."""
    vpc_cidr: str
    """CIDR of the VPC: ALB and node traffic to the Envoy port comes from it."""
    tags: Tags
    """Company tags (the access entries are the platform's; ``access-teams`` names the teams)."""
    admin_role_arns: Sequence[str] = ()
    """Roles that already have a cluster-admin access entry. A team role among them gets no team
    entry: EKS allows one entry per principal, and cluster-admin already covers edit rights
    (derived, and logged). Default: none."""
    envoy_ingress_port: int = ENVOY_INGRESS_PORT
    """Default: 15001 (the Envoy sidecar's ingress port)."""
    developer_namespaces: bool = False
    """The cluster offers developer namespaces (``dev-*``): team roles may edit there, and the
    team's developer namespaces reach its services. Default: False."""


def validate_team_namespaces_args(args: TeamNamespacesArgs) -> None:
    problems = Problems()
    try:
        ipaddress.IPv4Network(args.vpc_cidr)
    except ValueError:
        problems.add(
            "vpc_cidr", args.vpc_cidr, "not an IPv4 CIDR; pass the VPC's, like 10.0.0.0/16"
        )
    names: set[str] = set()
    namespaces: set[str] = set()
    for i, team in enumerate(args.teams):
        if team.name in names:
            problems.add(f"teams[{i}].name", team.name, "repeats another team's name")
        if team.namespace in namespaces:
            problems.add(
                f"teams[{i}].namespace", team.namespace, "repeats another team's namespace"
            )
        names.add(team.name)
        namespaces.add(team.namespace)
    if not 1 <= args.envoy_ingress_port <= 65535:
        problems.add("envoy_ingress_port", args.envoy_ingress_port, "must be 1-65535")
    problems.raise_if_any("TeamNamespaces")


def _role_label(arn: str) -> str:
    """Logical-name-safe form of a role ARN: its name, lowercased."""
    return re.sub(r"[^a-z0-9-]+", "-", arn.rsplit("/", 1)[-1].lower()).strip("-")


def _name_or(default: str) -> Callable[[ObjectMeta], str]:
    """``metadata -> metadata.name`` (the default while the name is unknown)."""
    return lambda meta: meta.name or default


def _tcp(port: int) -> NetworkPolicyPortArgs:
    return NetworkPolicyPortArgs(protocol="TCP", port=port)


def _peer_namespace(ns: str) -> NetworkPolicyPeerArgs:
    return NetworkPolicyPeerArgs(
        namespace_selector=LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": ns})
    )


class TeamNamespaces(pulumi.ComponentResource):
    """A namespace per team with quota, limits, network policies and namespace-scoped access."""

    namespaces: pulumi.Output[dict[str, str]]
    """Team name -> its namespace."""

    def __init__(
        self, name: str, args: TeamNamespacesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_team_namespaces_args(args)
        super().__init__(_TOKEN, name, None, opts)
        teams = list(args.teams)
        # Each value resolves from its Namespace object, so a consumer waits for it to exist.
        namespaces: dict[str, pulumi.Output[str]] = {}
        for team in teams:
            ns = self._team(name, team, teams, args)
            namespaces[team.name] = ns.metadata.apply(_name_or(team.namespace))

        # One access entry per role; its edit association covers every namespace of its teams.
        roles: dict[str, list[TeamConfig]] = {}
        admins = set(args.admin_role_arns)
        for team in teams:
            for arn in team.role_arns:
                if arn in admins:
                    pulumi.log.info(
                        f"team {team.name!r}: {arn} is a cluster admin already; "
                        "no namespace access entry for it"
                    )
                    continue
                roles.setdefault(arn, []).append(team)
        labels_used: dict[str, int] = {}
        for arn, owners in roles.items():
            label = _role_label(arn)
            n = labels_used.get(label, 0)
            labels_used[label] = n + 1
            if n:
                label = f"{label}-{n + 1}"
            entry = aws.eks.AccessEntry(
                f"{name}-{label}",
                cluster_name=args.cluster_name,
                principal_arn=arn,
                type="STANDARD",
                # Who this identity deploys for: the admission boundary (cluster.admission)
                # keeps it inside these namespaces, even with kubectl.
                kubernetes_groups=sorted({team_group(t.namespace) for t in owners}),
                # Owned by the platform (the cluster stack manages it); the teams it serves are
                # named in their own tag.
                tags=args.tags.merged(
                    {
                        "access": "team-edit",
                        "access-teams": " ".join(sorted(t.name for t in owners)),
                    }
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-{label}-edit",
                cluster_name=args.cluster_name,
                principal_arn=arn,
                policy_arn=EDIT_POLICY_ARN,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type="namespace",
                    namespaces=sorted({t.namespace for t in owners})
                    + ([f"{DEV_PREFIX}*"] if args.developer_namespaces else []),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
            )

        self.namespaces = (
            pulumi.Output.all(**namespaces) if namespaces else pulumi.Output.from_input({})
        )
        self.register_outputs({"namespaces": self.namespaces})

    def _team(
        self, name: str, team: TeamConfig, teams: list[TeamConfig], args: TeamNamespacesArgs
    ) -> k8s.core.v1.Namespace:
        ns_name = team.namespace
        prefix = f"{name}-{team.name}"
        labels = {
            "app.kubernetes.io/managed-by": kube.MANAGED_BY_LABEL,
            TEAM_LABEL: team.name,
        }
        ns = kube.restricted_namespace(
            f"{prefix}-ns",
            name=ns_name,
            labels={TEAM_LABEL: team.name},
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns])

        def meta(obj: str) -> ObjectMetaArgs:
            return ObjectMetaArgs(name=obj, namespace=ns_name, labels=labels)

        q, lr = team.quota, team.limit_range
        k8s.core.v1.ResourceQuota(
            f"{prefix}-quota",
            metadata=meta("team-quota"),
            spec=ResourceQuotaSpecArgs(
                hard={
                    "requests.cpu": q.requests_cpu,
                    "requests.memory": q.requests_memory,
                    "limits.memory": q.limits_memory,
                    "pods": str(q.pods),
                    "services": str(q.services),
                    "services.nodeports": str(q.services_node_ports),
                    "services.loadbalancers": "0",
                }
            ),
            opts=child,
        )
        k8s.core.v1.LimitRange(
            f"{prefix}-limits",
            metadata=meta("team-limits"),
            spec=LimitRangeSpecArgs(
                limits=[
                    LimitRangeItemArgs(
                        type="Container",
                        default_request={
                            "cpu": lr.default_request_cpu,
                            "memory": lr.default_request_memory,
                        },
                        default={"memory": lr.default_limit_memory},
                        max={"memory": lr.max_memory},
                    )
                ]
            ),
            opts=child,
        )

        every_pod = LabelSelectorArgs()
        policies: dict[str, NetworkPolicySpecArgs] = {
            "default-deny": NetworkPolicySpecArgs(
                pod_selector=every_pod, policy_types=["Ingress", "Egress"]
            ),
            "allow-same-namespace": NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Ingress", "Egress"],
                ingress=[
                    NetworkPolicyIngressRuleArgs(
                        from_=[NetworkPolicyPeerArgs(pod_selector=every_pod)]
                    )
                ],
                egress=[
                    NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(pod_selector=every_pod)])
                ],
            ),
            "allow-dns": NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Egress"],
                egress=[
                    NetworkPolicyEgressRuleArgs(
                        to=[
                            NetworkPolicyPeerArgs(
                                namespace_selector=LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                ),
                                pod_selector=LabelSelectorArgs(
                                    match_labels={"k8s-app": "kube-dns"}
                                ),
                            )
                        ],
                        ports=[
                            NetworkPolicyPortArgs(protocol="UDP", port=53),
                            NetworkPolicyPortArgs(protocol="TCP", port=53),
                        ],
                    )
                ],
            ),
            "allow-alb-ingress": NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Ingress"],
                ingress=[
                    NetworkPolicyIngressRuleArgs(
                        from_=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=args.vpc_cidr))],
                        ports=[_tcp(args.envoy_ingress_port)],
                    )
                ],
            ),
            "allow-aws-egress": NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Egress"],
                egress=[
                    NetworkPolicyEgressRuleArgs(
                        to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr="0.0.0.0/0"))],
                        ports=[_tcp(443)],
                    ),
                    NetworkPolicyEgressRuleArgs(
                        to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=POD_IDENTITY_AGENT))],
                        ports=[_tcp(80)],
                    ),
                    NetworkPolicyEgressRuleArgs(
                        to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=args.vpc_cidr))],
                        ports=[
                            NetworkPolicyPortArgs(protocol=proto, port=port)
                            for proto, port in DATADOG_PORTS
                        ],
                    ),
                ],
            ),
        }
        if args.developer_namespaces:
            policies["allow-from-developer-namespaces"] = NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Ingress"],
                ingress=[
                    NetworkPolicyIngressRuleArgs(
                        from_=[
                            NetworkPolicyPeerArgs(
                                namespace_selector=LabelSelectorArgs(
                                    match_labels={TEAM_LABEL: team.name},
                                    match_expressions=[
                                        LabelSelectorRequirementArgs(
                                            key=DEVELOPER_LABEL, operator="Exists"
                                        )
                                    ],
                                )
                            )
                        ],
                        ports=[_tcp(args.envoy_ingress_port)],
                    )
                ],
            )
        if team.allow_ingress_from:
            policies["allow-from-namespaces"] = NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Ingress"],
                ingress=[
                    NetworkPolicyIngressRuleArgs(
                        from_=[_peer_namespace(n) for n in sorted(set(team.allow_ingress_from))]
                    )
                ],
            )
        # Egress to the team namespaces that accept this one's traffic.
        targets = sorted(
            other.namespace
            for other in teams
            if other.name != team.name and ns_name in other.allow_ingress_from
        )
        if targets:
            policies["allow-to-namespaces"] = NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Egress"],
                egress=[NetworkPolicyEgressRuleArgs(to=[_peer_namespace(n) for n in targets])],
            )
        for policy_name, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(
                f"{prefix}-{policy_name}", metadata=meta(policy_name), spec=spec, opts=child
            )
        return ns

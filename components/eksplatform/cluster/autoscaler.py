"""ClusterAutoscaler: the Kubernetes Cluster Autoscaler for the node pools, as typed resources.

The autoscaler owns every node pool's desired capacity (the node pools set it once and never
again). It discovers the pools' Auto Scaling groups by their tags
(``k8s.io/cluster-autoscaler/enabled`` and ``k8s.io/cluster-autoscaler/<cluster>``), balances
similar groups across zones, and picks among pools with the priority expander, which prefers the
pools with the smallest on-demand share (most spot), then least waste.

Created: an IAM role through EKS Pod Identity (:mod:`.pod_identity`; chosen over IRSA because
the trust names a service principal plus session-tag conditions instead of the cluster's OIDC
issuer, and the binding lives in the EKS API rather than in a ServiceAccount annotation). Its
policy allows the read-only describe calls on ``*`` (they have no resource-level permissions)
and the two mutating calls, ``SetDesiredCapacity`` and ``TerminateInstanceInAutoScalingGroup``,
only on groups tagged ``k8s.io/cluster-autoscaler/<cluster>=owned`` and
``k8s.io/cluster-autoscaler/enabled=true``. In ``kube-system``: a ServiceAccount, a ClusterRole
with the reads the scheduling simulation needs plus node updates, evictions and events, a Role for
its leader-election Lease and its two ConfigMaps (status, priorities), their bindings, the
priority expander ConfigMap ``cluster-autoscaler-priority-expander``, a Deployment (image matched
to the cluster's minor version, ``system-cluster-critical``, Pod Security "restricted", liveness
probe on ``/health-check`` port 8085, metrics on the same port) and a PodDisruptionBudget.

The image version must match the control plane's minor version (the autoscaler embeds that
version's scheduler): :data:`AUTOSCALER_RELEASES` maps each supported minor to a released tag; an
unknown minor is refused with a message naming the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgs
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    ContainerPortArgs,
    EnvVarArgs,
    HTTPGetActionArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs, SubjectArgs
from pydantic import field_validator, model_validator

from ..core import kube
from ..core.errors import Problems
from ..core.pod_identity import is_region, partition_of, pod_identity_role
from ..core.settings import DNS_LABEL, CpuRequest, MemoryRequest, SettingsModel, field_error
from ..core.tags import Tags
from .priority import EXPENDABLE_PODS_PRIORITY_CUTOFF, SYSTEM_CLUSTER_CRITICAL
from .versions import RELEASES

_TOKEN = "eksplatform:compute:ClusterAutoscaler"

AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
AUTOSCALER_RELEASES: Mapping[int, str] = {
    minor: pin.version for minor, pin in RELEASES["cluster-autoscaler"].items()
}
"""Kubernetes minor -> Cluster Autoscaler release (tags published on registry.k8s.io), from
:data:`.versions.RELEASES` where each carries its release note and date. Add the line there when
EKS offers a new minor; ``platform:autoscaler.imageTag`` overrides it meanwhile."""

NAMESPACE = "kube-system"
APP_NAME = "cluster-autoscaler"
SERVICE_ACCOUNT = APP_NAME
PRIORITY_CONFIGMAP = "cluster-autoscaler-priority-expander"
"""The name the priority expander reads (fixed by the autoscaler)."""
STATUS_CONFIGMAP = "cluster-autoscaler-status"
"""The status ConfigMap the autoscaler writes (fixed by the autoscaler)."""
LEASE_NAME = "cluster-autoscaler"
"""Leader-election Lease (the autoscaler's default resource name)."""
PORT = 8085
"""Metrics and ``/health-check`` (the autoscaler's default ``--address``)."""
DEFAULT_BALANCING_IGNORE_LABELS = ("topology.ebs.csi.aws.com/zone", "k8s.amazonaws.com/eniConfig")
"""Per-zone labels AWS nodes carry: ignored when comparing groups, or zones never balance."""

_DURATION = re.compile(r"^(?=\d)(\d+h)?(\d+m)?(\d+s)?\Z")
_IMAGE_TAG = re.compile(r"^v1\.(\d+)\.(\d+)\Z")


def parse_duration(text: str) -> int:
    """Seconds in a Go-style duration of hours, minutes and seconds (``10s``, ``10m``,
    ``1h30m``); ``ValueError`` otherwise."""
    m = _DURATION.match(text)
    if not m or not text:
        raise ValueError("not a duration; write it like 10s, 10m or 1h30m")
    hours, minutes, seconds = (int(g[:-1]) if g else 0 for g in m.groups())
    return hours * 3600 + minutes * 60 + seconds


def _duration(text: str, *, minimum: int = 1) -> str:
    if parse_duration(text) < minimum:
        raise ValueError(f"must be at least {minimum} seconds")
    return text


class AutoscalerConfig(SettingsModel):
    """``platform:autoscaler``: the Cluster Autoscaler."""

    image_tag: str | None = None
    """Autoscaler release, ``v1.<minor>.<patch>`` with the cluster's minor. Default: the release
    pinned for the cluster's minor in :data:`AUTOSCALER_RELEASES`."""
    replicas: int = 2
    """Pods (one leads, the other takes over in seconds). 1-3. Default: 2."""
    scan_interval: str = "10s"
    """How often pending pods and unneeded nodes are evaluated. Default: 10s."""
    scale_down_enabled: bool = True
    """Remove unneeded nodes. Default: true."""
    scale_down_unneeded_time: str = "10m"
    """How long a node must be unneeded before it is removed. Default: 10m."""
    scale_down_delay_after_add: str = "10m"
    """Pause in scale-down evaluation after a scale-up. Default: 10m."""
    scale_down_utilization_threshold: float = 0.5
    """A node whose requested CPU and memory are both below this fraction of its allocatable is
    a scale-down candidate (0-1). Default: 0.5."""
    max_node_provision_time: str = "15m"
    """How long a new instance may take to become a Ready node before the autoscaler gives up on
    it and tries another group (spot capacity can be short). Default: 15m."""
    max_graceful_termination_seconds: int = 600
    """Longest pod termination grace period honoured when draining for scale-down. Default: 600."""
    skip_nodes_with_local_storage: bool = False
    """Never remove nodes running pods with emptyDir/hostPath volumes. Default: false (pods are
    disposable; set true if a workload keeps state on local disk)."""
    skip_nodes_with_system_pods: bool = False
    """Never remove nodes running kube-system pods (other than DaemonSets). Default: false: the
    platform's system pods have PodDisruptionBudgets, so their nodes can be consolidated."""
    cpu: CpuRequest = "100m"
    """CPU request. Default: 100m."""
    memory: MemoryRequest = "600Mi"
    """Memory request and limit (the autoscaler caches every pod and node). Default: 600Mi."""

    @field_validator("image_tag")
    @classmethod
    def _tag(cls, v: str | None) -> str | None:
        if v is not None and not _IMAGE_TAG.match(v):
            raise ValueError("write a release tag like v1.31.3 (v1.<minor>.<patch>)")
        return v

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        if not 1 <= v <= 3:
            raise ValueError("must be 1 to 3 (one leader; the others are warm standbys)")
        return v

    @field_validator("scan_interval")
    @classmethod
    def _scan(cls, v: str) -> str:
        return _duration(v)

    @field_validator("scale_down_unneeded_time", "scale_down_delay_after_add")
    @classmethod
    def _scale_down_times(cls, v: str) -> str:
        return _duration(v, minimum=0)

    @field_validator("max_node_provision_time")
    @classmethod
    def _provision(cls, v: str) -> str:
        return _duration(v, minimum=60)

    @field_validator("scale_down_utilization_threshold")
    @classmethod
    def _threshold(cls, v: float) -> float:
        if not 0 < v <= 1:
            raise ValueError(
                "must be above 0 and at most 1 (a fraction of the node's allocatable; 0.5 is "
                "usual; to stop scale-down set scaleDownEnabled: false)"
            )
        return v

    @field_validator("max_graceful_termination_seconds")
    @classmethod
    def _grace(cls, v: int) -> int:
        if not 0 <= v <= 3600:
            raise ValueError("must be 0 to 3600 seconds")
        return v

    @model_validator(mode="after")
    def _unneeded_after_scan(self) -> AutoscalerConfig:
        unneeded = parse_duration(self.scale_down_unneeded_time)
        if self.scale_down_enabled and unneeded < parse_duration(self.scan_interval):
            raise field_error(
                "scaleDownUnneededTime",
                f"is shorter than scanInterval ({self.scan_interval}): a node would be removed "
                "the first time it is seen idle; make it at least the scan interval",
            )
        return self


class NodePoolShape(Protocol):
    """What the autoscaler needs to know of a node pool (``NodePoolConfig`` satisfies it)."""

    @property
    def name(self) -> str: ...

    @property
    def on_demand_percentage_above_base(self) -> int: ...


@dataclass(frozen=True, kw_only=True)
class ClusterAutoscalerArgs:
    """Inputs of :class:`ClusterAutoscaler`."""

    cluster_name: str
    """Physical EKS cluster name (discovery tags, IAM condition, priority regexes)."""
    kubernetes_version: str
    """``1.MINOR`` of the control plane: picks the image."""
    region: str
    account_id: str
    pools: Sequence[NodePoolShape]
    """The node pools, for the priority expander. At least one."""
    k8s_provider: k8s.Provider
    """Provider of the cluster (``ControlPlane.provider``)."""
    tags: Tags
    config: AutoscalerConfig = field(default_factory=AutoscalerConfig)
    """Default: :class:`AutoscalerConfig` defaults."""
    eks_cluster_name: pulumi.Input[str] | None = None
    """The control plane's cluster name output: orders the Pod Identity association after the
    cluster exists. Default: ``cluster_name``."""
    balancing_ignore_labels: Sequence[str] = ()
    """Extra node labels to ignore when deciding that two groups are similar; pass the node
    pools' per-instance capacity-type label (a mixed group has spot and on-demand nodes).
    :data:`DEFAULT_BALANCING_IGNORE_LABELS` always apply. Default: none."""
    preferred_node_labels: Mapping[str, str] = field(default_factory=dict)
    """Node labels the pods prefer (e.g. the on-demand capacity label): an autoscaler on a spot
    node is interrupted with it. Default: none."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources the Deployment waits for (the eks-pod-identity-agent add-on, the node pools).
    Default: none."""


def kubernetes_minor(version: str) -> int | None:
    m = re.match(r"^1\.(\d+)\Z", version)
    return int(m.group(1)) if m else None


def autoscaler_image_tag(kubernetes_version: str, image_tag: str | None = None) -> str:
    """The autoscaler tag for a control plane version (``ValueError`` with the fix if none)."""
    minor = kubernetes_minor(kubernetes_version)
    if minor is None:
        raise ValueError('write the Kubernetes version as "1.MINOR", like "1.31"')
    if image_tag is not None:
        m = _IMAGE_TAG.match(image_tag)
        if not m or int(m.group(1)) != minor:
            raise ValueError(
                f"imageTag {image_tag!r} does not match Kubernetes {kubernetes_version}: the "
                f"autoscaler's minor version must equal the cluster's (v1.{minor}.x)"
            )
        return image_tag
    if minor not in AUTOSCALER_RELEASES:
        known = ", ".join(f"1.{m}" for m in sorted(AUTOSCALER_RELEASES))
        raise ValueError(
            f"no Cluster Autoscaler release is pinned for Kubernetes {kubernetes_version} "
            f"(pinned: {known}); set platform:autoscaler.imageTag to a v1.{minor}.x release "
            "or add it to AUTOSCALER_RELEASES"
        )
    return AUTOSCALER_RELEASES[minor]


def validate_cluster_autoscaler_args(args: ClusterAutoscalerArgs) -> None:
    """Every problem with the args at once, before anything is registered."""
    problems = Problems()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9_-]{0,99}\Z", args.cluster_name):
        problems.add(
            "cluster_name",
            args.cluster_name,
            "EKS cluster names are 1-100 letters, digits, '-' and '_', starting with a letter",
        )
    try:
        autoscaler_image_tag(args.kubernetes_version, args.config.image_tag)
    except ValueError as exc:
        problems.add("kubernetes_version", args.kubernetes_version, str(exc))
    if not is_region(args.region):
        problems.add("region", args.region, "not an AWS region name; write it like eu-west-1")
    if not re.match(r"^\d{12}\Z", args.account_id):
        problems.add("account_id", args.account_id, "an AWS account id is 12 digits")
    if not args.pools:
        problems.add("pools", [], "give at least one node pool for the priority expander")
    names = [p.name for p in args.pools]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.add("pools", duplicates, "pool names must be unique")
    for i, pool in enumerate(args.pools):
        if not DNS_LABEL.match(pool.name):
            problems.add(
                f"pools[{i}].name",
                pool.name,
                "pool names are lowercase letters, digits and '-', starting with a letter",
            )
        if not 0 <= pool.on_demand_percentage_above_base <= 100:
            problems.add(
                f"pools[{i}].on_demand_percentage_above_base",
                pool.on_demand_percentage_above_base,
                "must be 0-100",
            )
    problems.raise_if_any(f"ClusterAutoscaler '{args.cluster_name}'")


def priority_expander_config(cluster_name: str, region: str, pools: Sequence[NodePoolShape]) -> str:
    """The ``priorities`` document: each pool's priority is its spot share above the base
    (``100 - onDemandPercentageAboveBaseCapacity``), so the most spot-heavy pool wins and an
    all-on-demand pool (priority 0) is the last resort. Each pool matches its groups by
    ``^<cluster>-<pool>-<region><zone letter>``: anchoring on the zone keeps pool ``general``
    from also matching pool ``general-arm``'s groups."""
    levels: dict[int, list[str]] = {}
    for pool in pools:
        priority = 100 - pool.on_demand_percentage_above_base
        # Names are letters, digits, '-' and '_' (validated): nothing to escape.
        regex = f"^{cluster_name}-{pool.name}-{region}[a-z]"
        levels.setdefault(priority, []).append(regex)
    lines = []
    for priority in sorted(levels, reverse=True):
        lines.append(f"{priority}:")
        lines.extend(f"  - '{regex}'" for regex in sorted(levels[priority]))
    return "\n".join(lines) + "\n"


def autoscaler_command(
    *, cluster_name: str, config: AutoscalerConfig, balancing_ignore_labels: Sequence[str]
) -> list[str]:
    """The autoscaler's command line."""
    ignore = list(dict.fromkeys([*DEFAULT_BALANCING_IGNORE_LABELS, *balancing_ignore_labels]))
    return [
        "/cluster-autoscaler",
        "--cloud-provider=aws",
        f"--namespace={NAMESPACE}",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        f"k8s.io/cluster-autoscaler/{cluster_name}",
        "--balance-similar-node-groups=true",
        *(f"--balancing-ignore-label={label}" for label in ignore),
        "--expander=priority,least-waste",
        f"--expendable-pods-priority-cutoff={EXPENDABLE_PODS_PRIORITY_CUTOFF}",
        f"--scan-interval={config.scan_interval}",
        f"--scale-down-enabled={str(config.scale_down_enabled).lower()}",
        f"--scale-down-unneeded-time={config.scale_down_unneeded_time}",
        f"--scale-down-delay-after-add={config.scale_down_delay_after_add}",
        f"--scale-down-utilization-threshold={config.scale_down_utilization_threshold}",
        f"--max-node-provision-time={config.max_node_provision_time}",
        f"--max-graceful-termination-sec={config.max_graceful_termination_seconds}",
        f"--skip-nodes-with-local-storage={str(config.skip_nodes_with_local_storage).lower()}",
        f"--skip-nodes-with-system-pods={str(config.skip_nodes_with_system_pods).lower()}",
        f"--address=:{PORT}",
        "--leader-elect=true",
        "--v=2",
    ]


def cluster_rbac_rules(minor: int) -> list[PolicyRuleArgs]:
    """Cluster-wide permissions: the reads its scheduler simulation and drain logic need, node
    updates (taints marking a node for deletion), evictions, pod status (the "pod will be
    scheduled" condition) and events. ``volumeattachments`` from 1.32 on, the
    ``resource.k8s.io`` (DRA) objects from 1.35 on, where the autoscaler always watches them."""
    read = ["get", "list", "watch"]
    storage = ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities"]
    if minor >= 32:
        storage.append("volumeattachments")
    rules = [
        PolicyRuleArgs(api_groups=[""], resources=["events"], verbs=["create", "patch"]),
        PolicyRuleArgs(api_groups=[""], resources=["pods/eviction"], verbs=["create"]),
        PolicyRuleArgs(api_groups=[""], resources=["pods/status"], verbs=["update"]),
        PolicyRuleArgs(api_groups=[""], resources=["nodes"], verbs=[*read, "update"]),
        PolicyRuleArgs(
            api_groups=[""],
            resources=[
                "namespaces",
                "pods",
                "services",
                "replicationcontrollers",
                "persistentvolumeclaims",
                "persistentvolumes",
            ],
            verbs=read,
        ),
        PolicyRuleArgs(
            api_groups=["apps"], resources=["daemonsets", "replicasets", "statefulsets"], verbs=read
        ),
        PolicyRuleArgs(api_groups=["batch"], resources=["jobs", "cronjobs"], verbs=read),
        PolicyRuleArgs(
            api_groups=["policy"], resources=["poddisruptionbudgets"], verbs=["list", "watch"]
        ),
        PolicyRuleArgs(api_groups=["storage.k8s.io"], resources=storage, verbs=read),
    ]
    if minor >= 35:
        rules.append(
            PolicyRuleArgs(
                api_groups=["resource.k8s.io"],
                resources=["deviceclasses", "resourceclaims", "resourceslices"],
                verbs=read,
            )
        )
    return rules


def namespace_rbac_rules() -> list[PolicyRuleArgs]:
    """kube-system only: its leader-election Lease and its two ConfigMaps (``create`` and
    ``list``/``watch`` cannot be limited to names; everything else is)."""
    return [
        PolicyRuleArgs(api_groups=["coordination.k8s.io"], resources=["leases"], verbs=["create"]),
        PolicyRuleArgs(
            api_groups=["coordination.k8s.io"],
            resources=["leases"],
            resource_names=[LEASE_NAME],
            verbs=["get", "update"],
        ),
        PolicyRuleArgs(
            api_groups=[""], resources=["configmaps"], verbs=["create", "list", "watch"]
        ),
        PolicyRuleArgs(
            api_groups=[""],
            resources=["configmaps"],
            resource_names=[STATUS_CONFIGMAP, PRIORITY_CONFIGMAP],
            verbs=["get", "update", "delete"],
        ),
    ]


def iam_statements(*, cluster_name: str, region: str, account_id: str) -> list[dict[str, object]]:
    """The role's policy: describes on ``*``; mutations only on this cluster's tagged groups."""
    partition = partition_of(region)
    return [
        {
            # Describe calls support no resource-level permissions: "*" is the only form.
            "Sid": "DescribeGroupsAndInstanceTypes",
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
            ],
            "Resource": "*",
        },
        {
            "Sid": "ScaleOnlyThisClustersGroups",
            "Effect": "Allow",
            "Action": [
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            "Resource": f"arn:{partition}:autoscaling:{region}:{account_id}"
            ":autoScalingGroup:*:autoScalingGroupName/*",
            "Condition": {
                "StringEquals": {
                    f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                    "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                }
            },
        },
    ]


class ClusterAutoscaler(pulumi.ComponentResource):
    """The Cluster Autoscaler (see the module docstring)."""

    role_arn: pulumi.Output[str]
    """IAM role the autoscaler runs as."""
    image: str
    """The autoscaler image (registry, repository and tag)."""
    priorities: str
    """The priority expander document."""

    def __init__(
        self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_cluster_autoscaler_args(args)
        super().__init__(_TOKEN, name, None, opts)
        cfg = args.config
        minor = kubernetes_minor(args.kubernetes_version) or 0
        tag = autoscaler_image_tag(args.kubernetes_version, cfg.image_tag)
        self.image = f"{AUTOSCALER_IMAGE}:{tag}"
        aws_tags = args.tags.merged({"component": "cluster-autoscaler"})

        identity = pod_identity_role(
            name,
            cluster_name=args.cluster_name,
            eks_cluster_name=args.eks_cluster_name or args.cluster_name,
            account_id=args.account_id,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            description=f"Cluster Autoscaler of EKS cluster {args.cluster_name}",
            statements=iam_statements(
                cluster_name=args.cluster_name, region=args.region, account_id=args.account_id
            ),
            tags=aws_tags,
            parent=self,
        )

        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        labels = kube.recommended_labels(
            APP_NAME, component="autoscaler", part_of="eksplatform", version=tag
        )
        selector = kube.selector_labels(labels)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=ObjectMetaArgs(name=SERVICE_ACCOUNT, namespace=NAMESPACE, labels=labels),
            opts=k8s_opts,
        )
        subject = SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=NAMESPACE)
        cluster_binding = kube.bound_role(
            f"{name}-clusterrole",
            f"{name}-clusterrolebinding",
            name=APP_NAME,
            labels=labels,
            rules=cluster_rbac_rules(minor),
            subjects=[subject],
            opts=k8s_opts,
            depends_on=[account],
        )
        binding = kube.bound_role(
            f"{name}-role",
            f"{name}-rolebinding",
            name=APP_NAME,
            namespace=NAMESPACE,
            labels=labels,
            rules=namespace_rbac_rules(),
            subjects=[subject],
            opts=k8s_opts,
            depends_on=[account],
        )
        self.priorities = priority_expander_config(args.cluster_name, args.region, args.pools)
        priorities = k8s.core.v1.ConfigMap(
            f"{name}-priorities",
            metadata=ObjectMetaArgs(name=PRIORITY_CONFIGMAP, namespace=NAMESPACE, labels=labels),
            data={"priorities": self.priorities},
            opts=k8s_opts,
        )

        container = ContainerArgs(
            name=APP_NAME,
            image=self.image,
            image_pull_policy="IfNotPresent",
            command=autoscaler_command(
                cluster_name=args.cluster_name,
                config=cfg,
                balancing_ignore_labels=args.balancing_ignore_labels,
            ),
            env=[EnvVarArgs(name="AWS_REGION", value=args.region)],
            ports=[ContainerPortArgs(name="http", container_port=PORT, protocol="TCP")],
            # Liveness only: a standby replica is healthy but not the leader, and a readiness
            # gate would count it unavailable in the PodDisruptionBudget.
            liveness_probe=ProbeArgs(
                http_get=HTTPGetActionArgs(path="/health-check", port="http"),
                initial_delay_seconds=30,
                period_seconds=10,
                timeout_seconds=5,
                failure_threshold=3,
            ),
            resources=kube.resources(cfg.cpu, cfg.memory),
            security_context=kube.container_security_context(),
        )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=ObjectMetaArgs(name=APP_NAME, namespace=NAMESPACE, labels=labels),
            spec=DeploymentSpecArgs(
                replicas=cfg.replicas,
                selector=LabelSelectorArgs(match_labels=selector),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(
                        labels=labels,
                        annotations={
                            # Never scale down the node the autoscaler itself runs on.
                            "cluster-autoscaler.kubernetes.io/safe-to-evict": "false",
                            "prometheus.io/scrape": "true",
                            "prometheus.io/port": str(PORT),
                        },
                    ),
                    spec=PodSpecArgs(
                        service_account_name=SERVICE_ACCOUNT,
                        priority_class_name=SYSTEM_CLUSTER_CRITICAL,
                        security_context=kube.pod_security_context(),
                        topology_spread_constraints=kube.zone_spread(selector),
                        affinity=kube.preferred_affinity(args.preferred_node_labels),
                        tolerations=[kube.CRITICAL_ADDONS_TOLERATION],
                        node_selector={"kubernetes.io/os": "linux"},
                        containers=[container],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.k8s_provider,
                # Credentials are injected at pod creation only if the association exists.
                depends_on=[
                    identity.association,
                    cluster_binding,
                    binding,
                    priorities,
                    *args.depends_on,
                ],
            ),
        )
        kube.disruption_budget(
            f"{name}-pdb",
            metadata=ObjectMetaArgs(name=APP_NAME, namespace=NAMESPACE, labels=labels),
            selector=selector,
            opts=k8s_opts,
        )

        self.role_arn = identity.role.arn
        self.register_outputs({"roleArn": self.role_arn, "image": self.image})

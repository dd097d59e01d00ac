"""InterruptionHandler: aws-node-termination-handler (NTH) in queue-processor mode.

Spot capacity is only cheap if losing an instance is a non-event. AWS announces every way a node
is about to go away; this component routes those announcements to one queue and runs NTH, which
cordons and drains the node (evicting pods through their PodDisruptionBudgets) before it dies:

=====================================  =========================================================
EventBridge rule (``<name>-<key>``)     what it catches
=====================================  =========================================================
``spot-interruption``                   EC2 Spot Instance Interruption Warning (2 minutes' notice)
``rebalance``                           EC2 Instance Rebalance Recommendation (elevated risk)
``state-change``                        EC2 Instance State-change Notification (stopping,
                                        stopped, shutting-down, terminated only)
``scheduled-change``                    AWS Health scheduled changes for EC2 (maintenance)
``asg-terminate``                       EC2 Instance-terminate Lifecycle Action, only for this
                                        cluster's Auto Scaling groups (names in the pattern)
=====================================  =========================================================

Created: an SQS queue encrypted with SQS-managed keys (SSE-SQS: works with EventBridge without a
KMS key policy; AWS-managed KMS keys do not), a queue policy that lets only EventBridge (for these
rules) and SQS itself send to it and refuses non-TLS access; one ``autoscaling:EC2_INSTANCE_
TERMINATING`` lifecycle hook per Auto Scaling group (scale-in, rebalancing and instance refresh
wait for the drain; ``CONTINUE`` after the heartbeat so a stuck handler never blocks a scale-in);
an IAM role through EKS Pod Identity (:mod:`.pod_identity`) allowed to read and delete messages of
this queue only and to complete lifecycle actions only on groups tagged for this cluster; and in
``kube-system``: ServiceAccount, ClusterRole/Binding (nodes, pods, evictions, events: nothing
else), a Deployment (2 replicas spread over zones, ``system-cluster-critical``, Pod Security
"restricted", probes on the health port) and a PodDisruptionBudget.

EC2 and AWS Health events cannot be filtered by tag in an event pattern, so events about the
account's other instances (another cluster's, say) reach the queue too. NTH looks each instance up
as a node of this cluster (by provider id) and deletes the message when there is none
(``DELETE_SQS_MSG_IF_NODE_NOT_FOUND``); given ``managed_tag``, it also skips instances without that
tag before any lookup.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgs
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    ContainerPortArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    HTTPGetActionArgs,
    ObjectFieldSelectorArgs,
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
from .priority import SYSTEM_CLUSTER_CRITICAL

_TOKEN = "eksplatform:compute:InterruptionHandler"

NTH_IMAGE = "public.ecr.aws/aws-ec2/aws-node-termination-handler"
NTH_VERSION = "v1.25.2"
"""Release of aws-node-termination-handler run by default (July 2025; aws-sdk-go 1.55, so it
reads EKS Pod Identity credentials)."""

NAMESPACE = "kube-system"
APP_NAME = "aws-node-termination-handler"
SERVICE_ACCOUNT = APP_NAME
PROBE_PORT = 8080
PROBE_PATH = "/healthz"
METRICS_PORT = 9092
UID = 1000
"""The image's non-root user."""

LIFECYCLE_HOOK_NAME = "aws-node-termination-handler"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
INSTANCE_STATES_TO_DRAIN = ("stopping", "stopped", "shutting-down", "terminated")
"""The only EC2 states NTH acts on; the rule filters the rest out at the source."""

_VERSION_TAG = re.compile(r"^v\d+\.\d+\.\d+\Z")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}\Z")


class InterruptionHandlerConfig(SettingsModel):
    """``platform:interruptionHandler``: aws-node-termination-handler in queue-processor mode."""

    enabled: bool = True
    """Run the handler (and create its queue, rules and hooks). Default: true."""
    image_tag: str = NTH_VERSION
    """Release of ``public.ecr.aws/aws-ec2/aws-node-termination-handler``. Default: v1.25.2."""
    replicas: int = 2
    """Handler pods (they share the queue; one per zone survives a zone loss). 1-5. Default: 2."""
    queue_message_retention_seconds: int = 300
    """How long an unprocessed event stays in the queue (60-1209600). An interruption notice is
    worthless after its 2 minutes, so old messages are dropped. Default: 300."""
    lifecycle_heartbeat_timeout_seconds: int = 300
    """How long an Auto Scaling group waits for the drain before terminating anyway (30-7200).
    Default: 300."""
    node_termination_grace_period_seconds: int = 120
    """Time NTH gives a whole node to drain. Default: 120 (a spot notice gives 2 minutes)."""
    pod_termination_grace_period_seconds: int = -1
    """Grace period given to each evicted pod; -1 keeps each pod's own. Default: -1."""
    taint_node: bool = True
    """Taint the node as well as cordoning it, so nothing schedules there. Default: true."""
    log_level: Literal["debug", "info", "warn", "error"] = "info"
    """Default: info."""
    cpu: CpuRequest = "50m"
    """CPU request. Default: 50m."""
    memory: MemoryRequest = "64Mi"
    """Memory request and limit. Default: 64Mi."""

    @field_validator("image_tag")
    @classmethod
    def _tag(cls, v: str) -> str:
        if not _VERSION_TAG.match(v):
            raise ValueError(f"write a release tag like {NTH_VERSION}")
        return v

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        if not 1 <= v <= 5:
            raise ValueError("must be 1 to 5 (2 keeps one handler through a zone loss)")
        return v

    @field_validator("queue_message_retention_seconds")
    @classmethod
    def _retention(cls, v: int) -> int:
        if not 60 <= v <= 1_209_600:
            raise ValueError("SQS keeps messages 60 to 1209600 seconds (14 days)")
        return v

    @field_validator("lifecycle_heartbeat_timeout_seconds")
    @classmethod
    def _heartbeat(cls, v: int) -> int:
        if not 30 <= v <= 7200:
            raise ValueError("Auto Scaling accepts a heartbeat timeout of 30 to 7200 seconds")
        return v

    @field_validator("node_termination_grace_period_seconds")
    @classmethod
    def _node_grace(cls, v: int) -> int:
        if not 1 <= v <= 7200:
            raise ValueError("must be 1 to 7200 seconds")
        return v

    @field_validator("pod_termination_grace_period_seconds")
    @classmethod
    def _pod_grace(cls, v: int) -> int:
        if v < -1 or v > 7200:
            raise ValueError("must be -1 (each pod's own) or 0 to 7200 seconds")
        return v

    @model_validator(mode="after")
    def _timings(self) -> InterruptionHandlerConfig:
        node = self.node_termination_grace_period_seconds
        if self.lifecycle_heartbeat_timeout_seconds < node:
            raise field_error(
                "lifecycleHeartbeatTimeoutSeconds",
                f"is shorter than nodeTerminationGracePeriodSeconds ({node}): the Auto Scaling "
                "group would terminate the instance while the handler still drains it; make it "
                "at least the drain budget",
            )
        if self.pod_termination_grace_period_seconds > node:
            raise field_error(
                "podTerminationGracePeriodSeconds",
                f"is longer than nodeTerminationGracePeriodSeconds ({node}): a pod would still "
                "be stopping when the node's drain budget runs out; lower it or raise the "
                "node's",
            )
        return self


@dataclass(frozen=True, kw_only=True)
class InterruptionHandlerArgs:
    """Inputs of :class:`InterruptionHandler`."""

    cluster_name: str
    """Physical EKS cluster name (trust policy, IAM condition, default managed tag)."""
    region: str
    """Region of the cluster (the handler's ``AWS_REGION``, ARNs)."""
    account_id: str
    """Account of the cluster (ARNs, queue policy)."""
    asg_names: Mapping[str, pulumi.Input[str]]
    """Every node pool Auto Scaling group, keyed by a stable logical id (``<pool>-<zone>``): one
    lifecycle hook each, and the names scope the lifecycle rule. At least one."""
    k8s_provider: k8s.Provider
    """Provider of the cluster (``ControlPlane.provider``)."""
    tags: Tags
    config: InterruptionHandlerConfig = field(default_factory=InterruptionHandlerConfig)
    """Default: :class:`InterruptionHandlerConfig` defaults."""
    eks_cluster_name: pulumi.Input[str] | None = None
    """The control plane's cluster name output: orders the Pod Identity association after the
    cluster exists. Default: ``cluster_name``."""
    managed_tag: str | None = None
    """Instance tag key NTH requires before acting on an instance (it must be propagated to the
    instances). Default: none: every instance is looked up as a node of this cluster instead."""
    preferred_node_labels: Mapping[str, str] = field(default_factory=dict)
    """Node labels the pods prefer (e.g. the on-demand capacity label), so a handler is rarely on
    the node it must drain. Default: none."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources the Deployment waits for (the eks-pod-identity-agent add-on). Default: none."""


def validate_interruption_handler_args(args: InterruptionHandlerArgs) -> None:
    """Every problem with the args at once, before anything is registered."""
    problems = Problems()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9_-]{0,99}\Z", args.cluster_name):
        problems.add(
            "cluster_name",
            args.cluster_name,
            "EKS cluster names are 1-100 letters, digits, '-' and '_', starting with a letter",
        )
    if not is_region(args.region):
        problems.add("region", args.region, "not an AWS region name; write it like eu-west-1")
    if not re.match(r"^\d{12}\Z", args.account_id):
        problems.add("account_id", args.account_id, "an AWS account id is 12 digits")
    if not args.asg_names:
        problems.add(
            "asg_names",
            {},
            "give at least one Auto Scaling group: the handler needs a lifecycle hook to act on",
        )
    bad_keys = [k for k in args.asg_names if not DNS_LABEL.match(k)]
    if bad_keys:
        problems.add(
            "asg_names",
            bad_keys,
            "keys name the lifecycle hooks: lowercase letters, digits and '-' "
            "(like 'general-eu-west-1a')",
        )
    if args.managed_tag is not None and not _TAG_KEY.match(args.managed_tag):
        problems.add("managed_tag", args.managed_tag, "not a valid tag key (1-128 characters)")
    problems.raise_if_any(f"InterruptionHandler '{args.cluster_name}'")


def event_patterns(asg_names: Sequence[pulumi.Input[str]]) -> dict[str, dict[str, Any]]:
    """EventBridge patterns per rule key (see the module docstring)."""
    return {
        "spot-interruption": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Spot Instance Interruption Warning"],
        },
        "rebalance": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance Rebalance Recommendation"],
        },
        "state-change": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance State-change Notification"],
            "detail": {"state": list(INSTANCE_STATES_TO_DRAIN)},
        },
        "scheduled-change": {
            "source": ["aws.health"],
            "detail-type": ["AWS Health Event"],
            "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]},
        },
        "asg-terminate": {
            "source": ["aws.autoscaling"],
            "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
            "detail": {"AutoScalingGroupName": list(asg_names)},
        },
    }


EVENT_PATTERN_LIMIT = 2048
"""EventBridge's default event pattern size (4096 after a quota increase)."""


def _checked_pattern(owner: pulumi.Resource, key: str, text: str) -> str:
    """The pattern, with a warning when it exceeds EventBridge's default size (many groups)."""
    if len(text) > EVENT_PATTERN_LIMIT:
        pulumi.log.warn(
            f"the {key} rule's event pattern is {len(text)} characters; EventBridge accepts "
            f"{EVENT_PATTERN_LIMIT} unless the account's 'Event pattern size' quota is raised "
            "to 4096: raise it or use fewer, larger node pools",
            owner,
        )
    return text


_RULE_DESCRIPTIONS = {
    "spot-interruption": "Spot interruption warnings -> node termination handler",
    "rebalance": "EC2 rebalance recommendations -> node termination handler",
    "state-change": "EC2 instances stopping or terminating -> node termination handler",
    "scheduled-change": "AWS Health scheduled EC2 changes -> node termination handler",
    "asg-terminate": "Cluster Auto Scaling group terminations -> node termination handler",
}


def cluster_rbac_rules() -> list[PolicyRuleArgs]:
    """What NTH does in the cluster: find the node (by provider id), cordon/taint it, list its
    pods, evict them (skipping DaemonSet pods, hence the DaemonSet read), and record events."""
    return [
        PolicyRuleArgs(
            api_groups=[""], resources=["nodes"], verbs=["get", "list", "patch", "update"]
        ),
        PolicyRuleArgs(api_groups=[""], resources=["pods"], verbs=["get", "list"]),
        PolicyRuleArgs(api_groups=[""], resources=["pods/eviction"], verbs=["create"]),
        PolicyRuleArgs(api_groups=["apps"], resources=["daemonsets"], verbs=["get"]),
        PolicyRuleArgs(api_groups=[""], resources=["events"], verbs=["create", "patch"]),
    ]


class InterruptionHandler(pulumi.ComponentResource):
    """Spot interruption and termination handling for the node pools (see the module docstring)."""

    queue_url: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    """IAM role the handler runs as."""
    rule_arns: dict[str, pulumi.Output[str]]
    """EventBridge rule ARN per rule key."""
    image: str
    """The handler image (registry, repository and tag)."""

    def __init__(
        self, name: str, args: InterruptionHandlerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_interruption_handler_args(args)
        super().__init__(_TOKEN, name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        partition = partition_of(args.region)
        aws_tags = args.tags.merged({"component": "interruption-handler"})

        # --- queue, rules, hooks ---------------------------------------------------------------
        queue = aws.sqs.Queue(
            f"{name}-queue",
            message_retention_seconds=cfg.queue_message_retention_seconds,
            sqs_managed_sse_enabled=True,
            # NTH long-polls 20 s and hides a message for 20 s while it works on it.
            receive_wait_time_seconds=20,
            tags=aws_tags,
            opts=child,
        )
        rules: dict[str, aws.cloudwatch.EventRule] = {}
        for key, pattern in event_patterns(list(args.asg_names.values())).items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}",
                description=f"{_RULE_DESCRIPTIONS[key]} ({args.cluster_name})",
                event_pattern=pulumi.Output.json_dumps(pattern, sort_keys=True).apply(
                    functools.partial(_checked_pattern, self, key)
                ),
                tags=aws_tags,
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{key}",
                rule=rule.name,
                target_id="node-termination-handler",
                arn=queue.arn,
                opts=child,
            )
            rules[key] = rule
        rule_arns = [rules[k].arn for k in sorted(rules)]
        aws.sqs.QueuePolicy(
            f"{name}-queue-policy",
            queue_url=queue.url,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "EventBridgeRulesOfThisHandler",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue.arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}},
                        },
                        {
                            # AWS documents this principal for NTH (ASG notifications sent
                            # straight to SQS); it cannot name a source ARN, so pin the account.
                            "Sid": "SqsFromThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "sqs.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue.arn,
                            "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                        },
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sqs:*",
                            "Resource": queue.arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                },
                sort_keys=True,
            ),
            opts=child,
        )
        for key, asg_name in args.asg_names.items():
            aws.autoscaling.LifecycleHook(
                f"{name}-hook-{key}",
                name=LIFECYCLE_HOOK_NAME,
                autoscaling_group_name=asg_name,
                lifecycle_transition=TERMINATING,
                heartbeat_timeout=cfg.lifecycle_heartbeat_timeout_seconds,
                default_result="CONTINUE",
                opts=child,
            )

        # --- IAM -------------------------------------------------------------------------------
        identity = pod_identity_role(
            name,
            cluster_name=args.cluster_name,
            eks_cluster_name=args.eks_cluster_name or args.cluster_name,
            account_id=args.account_id,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            description=f"aws-node-termination-handler of EKS cluster {args.cluster_name}",
            statements=[
                {
                    "Sid": "ConsumeTheQueue",
                    "Effect": "Allow",
                    "Action": ["sqs:DeleteMessage", "sqs:ReceiveMessage"],
                    "Resource": queue.arn,
                },
                {
                    "Sid": "CompleteLifecycleActionsOfThisCluster",
                    "Effect": "Allow",
                    "Action": "autoscaling:CompleteLifecycleAction",
                    "Resource": f"arn:{partition}:autoscaling:{args.region}:{args.account_id}"
                    ":autoScalingGroup:*:autoScalingGroupName/*",
                    "Condition": {
                        "StringEquals": {
                            f"aws:ResourceTag/k8s.io/cluster-autoscaler/{args.cluster_name}": (
                                "owned"
                            )
                        }
                    },
                },
                {
                    # Describe calls support no resource-level permissions: "*" is the only form.
                    "Sid": "DescribeInstancesAndGroups",
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeInstances",
                    ],
                    "Resource": "*",
                },
            ],
            tags=aws_tags,
            parent=self,
        )

        # --- Kubernetes ------------------------------------------------------------------------
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        self.image = f"{NTH_IMAGE}:{cfg.image_tag}"
        labels = kube.recommended_labels(
            APP_NAME,
            component="interruption-handler",
            part_of="eksplatform",
            version=cfg.image_tag,
        )
        selector = kube.selector_labels(labels)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=ObjectMetaArgs(name=SERVICE_ACCOUNT, namespace=NAMESPACE, labels=labels),
            opts=k8s_opts,
        )
        kube.bound_role(
            f"{name}-clusterrole",
            f"{name}-clusterrolebinding",
            name=APP_NAME,
            labels=labels,
            rules=cluster_rbac_rules(),
            subjects=[
                SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=NAMESPACE)
            ],
            opts=k8s_opts,
            depends_on=[account],
        )

        def field_env(name: str, path: str) -> EnvVarArgs:
            return EnvVarArgs(
                name=name,
                value_from=EnvVarSourceArgs(field_ref=ObjectFieldSelectorArgs(field_path=path)),
            )

        def env(name: str, value: pulumi.Input[str]) -> EnvVarArgs:
            return EnvVarArgs(name=name, value=value)

        environment = [
            field_env("NODE_NAME", "spec.nodeName"),
            field_env("POD_NAME", "metadata.name"),
            field_env("NAMESPACE", "metadata.namespace"),
            # Queue-processor mode: events come from the queue, not from each node's IMDS.
            env("ENABLE_SQS_TERMINATION_DRAINING", "true"),
            env("QUEUE_URL", queue.url),
            env("AWS_REGION", args.region),
            env("WORKERS", "10"),
            # Events about instances that are not nodes of this cluster are deleted, not retried.
            env("DELETE_SQS_MSG_IF_NODE_NOT_FOUND", "true"),
            *(
                [env("CHECK_TAG_BEFORE_DRAINING", "true"), env("MANAGED_TAG", args.managed_tag)]
                if args.managed_tag
                else [env("CHECK_TAG_BEFORE_DRAINING", "false")]
            ),
            env("USE_PROVIDER_ID", "true"),
            env("CORDON_ONLY", "false"),
            env("TAINT_NODE", str(cfg.taint_node).lower()),
            env("IGNORE_DAEMON_SETS", "true"),
            env("DELETE_LOCAL_DATA", "true"),
            env("POD_TERMINATION_GRACE_PERIOD", str(cfg.pod_termination_grace_period_seconds)),
            env("NODE_TERMINATION_GRACE_PERIOD", str(cfg.node_termination_grace_period_seconds)),
            env("EMIT_KUBERNETES_EVENTS", "true"),
            env("ENABLE_PROBES_SERVER", "true"),
            env("PROBES_SERVER_PORT", str(PROBE_PORT)),
            env("PROBES_SERVER_ENDPOINT", PROBE_PATH),
            env("ENABLE_PROMETHEUS_SERVER", "true"),
            env("PROMETHEUS_SERVER_PORT", str(METRICS_PORT)),
            env("LOG_LEVEL", cfg.log_level),
            env("JSON_LOGGING", "true"),
        ]
        probe = HTTPGetActionArgs(path=PROBE_PATH, port="probes")
        container = ContainerArgs(
            name=APP_NAME,
            image=self.image,
            image_pull_policy="IfNotPresent",
            env=environment,
            ports=[
                ContainerPortArgs(name="probes", container_port=PROBE_PORT, protocol="TCP"),
                ContainerPortArgs(name="metrics", container_port=METRICS_PORT, protocol="TCP"),
            ],
            liveness_probe=ProbeArgs(
                http_get=probe, initial_delay_seconds=5, period_seconds=10, failure_threshold=3
            ),
            readiness_probe=ProbeArgs(http_get=probe, period_seconds=10, failure_threshold=3),
            resources=kube.resources(cfg.cpu, cfg.memory),
            security_context=kube.container_security_context(uid=UID),
        )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=ObjectMetaArgs(name=APP_NAME, namespace=NAMESPACE, labels=labels),
            spec=DeploymentSpecArgs(
                replicas=cfg.replicas,
                selector=LabelSelectorArgs(match_labels=selector),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=labels),
                    spec=PodSpecArgs(
                        service_account_name=SERVICE_ACCOUNT,
                        priority_class_name=SYSTEM_CLUSTER_CRITICAL,
                        security_context=kube.pod_security_context(uid=UID, fs_group=UID),
                        topology_spread_constraints=kube.zone_spread(selector, hard=True),
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
                depends_on=[account, identity.association, *args.depends_on],
            ),
        )
        kube.disruption_budget(
            f"{name}-pdb",
            metadata=ObjectMetaArgs(name=APP_NAME, namespace=NAMESPACE, labels=labels),
            selector=selector,
            opts=k8s_opts,
        )

        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.role_arn = identity.role.arn
        self.rule_arns = {k: r.arn for k, r in rules.items()}
        self.register_outputs(
            {"queueUrl": self.queue_url, "queueArn": self.queue_arn, "roleArn": self.role_arn}
        )

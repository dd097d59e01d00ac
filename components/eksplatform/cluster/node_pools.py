"""NodePools: spot-heavy, self-managed node pools (one Auto Scaling group per pool per zone).

Why self-managed groups: EKS managed node groups cannot mix an on-demand base with a spot
percentage; an Auto Scaling group with a MixedInstancesPolicy can. Per pool and zone this creates
one ``aws.autoscaling.Group`` named ``{cluster}-{pool}-{zone}-<suffix>`` (the Cluster Autoscaler's
priority expander matches ``^{cluster}-{pool}-``), with:

- a MixedInstancesPolicy: ``onDemandBaseCapacity`` on-demand instances first, then
  ``onDemandPercentageAboveBase`` percent on-demand (default 30, so 70% spot), spot allocation
  ``price-capacity-optimized`` over every listed instance type (all of one vCPU/memory shape:
  the autoscaler simulates a scale-up with the first type, so a mixed pool would mislead it);
- capacity rebalance on (a spot instance at elevated risk is replaced proactively);
- desired capacity set once at creation and then ignored (``ignore_changes``): the Cluster
  Autoscaler owns it, so ``pulumi up`` never fights it;
- an instance refresh (rolling, 90% healthy, skipping instances that already match): a new AMI or
  new user data is a new launch template version, which rolls the nodes in place instead of
  replacing the group;
- Cluster Autoscaler auto-discovery tags and node-template label/taint/resource tags, so a pool
  can scale up from zero nodes.

Per pool, one launch template: the EKS-optimized Amazon Linux 2023 AMI for the cluster version,
read from the public SSM parameter **at deploy time** (``aws.ssm.get_parameter``), not with the
launch template's ``resolve:ssm:`` form. With ``resolve:ssm:`` EC2 resolves the parameter at
every launch, so a pool silently runs a mix of AMIs as AWS publishes new ones and no rollout is
ever planned; resolving it here pins the AMI in a launch template version, shows a new AMI in the
preview diff, and rolls it out with the instance refresh. IMDSv2 is required with a hop limit of 1
(pods cannot reach the node's credentials; they use IRSA or Pod Identity), the root volume is
encrypted gp3, detailed monitoring is on, and the user data joins the cluster with nodeadm.

The spot/on-demand node label. One launch template serves both purchase options of a mixed
group, so the value cannot be written into the user data: the instance finds it at boot. The
user data is a MIME multipart document with two parts:

1. an ``application/node.eks.aws`` NodeConfig (``node.eks.aws/v1alpha1``): cluster name,
   endpoint, CA and service CIDR, plus kubelet flags with the pool label, the pool's labels and
   ``--register-with-taints``;
2. a ``text/x-shellscript`` part. On AL2023, ``nodeadm-config.service`` runs before cloud-init
   and ``nodeadm-run.service`` (which starts the kubelet) after ``cloud-final``, i.e. after user
   data scripts. The script asks IMDSv2 for ``meta-data/instance-life-cycle`` (``spot`` or
   ``on-demand``) and writes a NodeConfig drop-in to ``/etc/eks/nodeadm.d/`` carrying
   ``--node-labels=eksplatform.io/capacity-type=<value>``. nodeadm reads that drop-in directory
   after the user data (its default config source chain, amazon-eks-ami PR 2427, in every AMI
   since late 2025; the ``recommended`` SSM parameter always points at a current release),
   merges it, re-runs its config phase when the result changed, and starts the kubelet. The
   kubelet's ``--node-labels`` flag may be given several times; the maps are merged, so the pool
   labels and the capacity label all land on the node. If IMDS does not answer, the script leaves
   the label unset (a pod that selects ``spot`` or ``on-demand`` never lands on a node whose
   purchase option is unknown) and the node still joins.

Node IAM: one role for every pool with only AmazonEKSWorkerNodePolicy and
AmazonEC2ContainerRegistryPullOnly (the CNI permissions belong to the aws-node service account, see
:mod:`eksplatform.cluster.eks_addons`), its instance profile, and an EKS access entry of type
``EC2_LINUX`` (API authentication mode: no aws-auth ConfigMap). No SSM by default: a node runs
every team's pods, so Run Command or a session on one is root over all of them, and
AmazonSSMManagedInstanceCore would also let the node read every SSM parameter of the account.
``platform:nodeAccess.ssmSessions: true`` (:class:`NodeAccessConfig`) adds only what the SSM
agent needs for Session Manager (:data:`SSM_SESSION_ACTIONS`: register the instance, open the
session channels) as an inline policy: no Run Command, documents, associations, inventory or
parameters. Who may start a session is then decided by the human's own IAM policy, and every
session is logged by Session Manager.

Node security group: pulumi-eks creates it with the cluster (``ControlPlane.node_security_group_id``)
even with ``skip_default_node_group``; its rules are the ones AWS's node group template defines,
and nothing wider: node to node all traffic (pod networking), control plane to nodes TCP
1025-65535 (kubelet 10250 and webhook/aggregated API ports such as metrics-server's 10251) and
443 (extension API servers), nodes to the API server 443 (a rule on the cluster security group),
and node egress (image pulls, AWS APIs). Nothing is missing, so this component adds no rule.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from ..core.errors import Problems
from ..core.tags import Tags
from .node_pool_config import (
    CAPACITY_ON_DEMAND,
    CAPACITY_SPOT,
    CAPACITY_TYPE_LABEL,
    DEFAULT_NODE_POOLS,
    EVICTION_RESERVE,
    INSTANCE_SHAPES,
    KUBE_RESERVED_MEMORY_BASE,
    MIN_ROOT_VOLUME_GIB,
    NODE_POOL_LABEL,
    SYSTEM_DAEMONSET_CPU_MILLIS,
    NodeAccessConfig,
    NodePoolConfig,
    NodePoolList,
    TaintConfig,
    allocatable,
    kube_reserved_cpu_millis,
)

__all__ = [
    "CAPACITY_ON_DEMAND",
    "CAPACITY_SPOT",
    "CAPACITY_TYPE_LABEL",
    "DEFAULT_NODE_POOLS",
    "EVICTION_RESERVE",
    "INSTANCE_SHAPES",
    "KUBE_RESERVED_MEMORY_BASE",
    "MAX_GROUP_TAGS",
    "MIN_ROOT_VOLUME_GIB",
    "NODE_POOL_LABEL",
    "SYSTEM_DAEMONSET_CPU_MILLIS",
    "NodeAccessConfig",
    "NodePoolConfig",
    "NodePoolList",
    "NodePools",
    "NodePoolsArgs",
    "TaintConfig",
    "allocatable",
    "ami_parameter",
    "autoscaler_tags",
    "group_name_prefix",
    "group_tags",
    "kube_reserved_cpu_millis",
    "kubelet_flags",
    "launch_template_prefix",
    "node_config",
    "render_user_data",
]

_TOKEN = "eksplatform:compute:NodePools"

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
)
"""AWS managed policies of the node role; the CNI and SSM policies are deliberately not among
them."""

SSM_SESSION_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""What the SSM agent needs for Session Manager sessions, and nothing else (none of these
actions supports resource-level permissions: ``Resource: "*"``)."""


AUTOSCALER_TAG_PREFIX = "k8s.io/cluster-autoscaler"
NODE_TEMPLATE_PREFIX = f"{AUTOSCALER_TAG_PREFIX}/node-template"
NODEADM_DROP_IN = "/etc/eks/nodeadm.d/50-eksplatform-capacity-type.json"
"""Where the boot script writes the capacity-type NodeConfig drop-in."""
USER_DATA_BOUNDARY = "==EKSPLATFORM-NODE=="
ROOT_DEVICE = "/dev/xvda"
"""Root device name of the EKS-optimized AL2023 AMIs."""
# --- pure builders ------------------------------------------------------------------------------


def kubelet_flags(pool: NodePoolConfig) -> list[str]:
    """The kubelet flags of the pool's NodeConfig (labels and taints)."""
    labels = ",".join(f"{k}={v}" for k, v in pool.node_labels().items())
    flags = [f"--node-labels={labels}"]
    if pool.taints:
        taints = ",".join(f"{t.key}={t.value}:{t.effect}" for t in pool.taints)
        flags.append(f"--register-with-taints={taints}")
    return flags


def node_config(
    *,
    cluster_name: str,
    endpoint: str,
    certificate_authority: str,
    service_cidr: str,
    pool: NodePoolConfig,
) -> dict[str, Any]:
    """The nodeadm NodeConfig joining a node of ``pool`` to the cluster."""
    return {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {
            "cluster": {
                "name": cluster_name,
                "apiServerEndpoint": endpoint,
                "certificateAuthority": certificate_authority,
                "cidr": service_cidr,
            },
            "kubelet": {"flags": kubelet_flags(pool)},
        },
    }


def capacity_type_script() -> str:
    """Boot script: label the node spot or on-demand from IMDSv2 (see the module docstring)."""
    drop_in = {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"kubelet": {"flags": [f"--node-labels={CAPACITY_TYPE_LABEL}=CAPACITY"]}},
    }
    body = json.dumps(drop_in, separators=(",", ":")).replace("CAPACITY", "${capacity}")
    return f"""#!/usr/bin/env bash
# The launch template serves both purchase options of a mixed-instances group: ask this instance.
set -o errexit -o nounset -o pipefail
imds=http://169.254.169.254/latest
curl_imds() {{ curl --silent --show-error --fail --retry 5 --retry-connrefused --max-time 5 "$@"; }}
if ! token=$(curl_imds -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$imds/api/token") ||
   ! lifecycle=$(curl_imds -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/instance-life-cycle"); then
  echo "eksplatform: IMDS did not answer; {CAPACITY_TYPE_LABEL} left unset" >&2
  exit 0
fi
case "$lifecycle" in
  {CAPACITY_SPOT}) capacity={CAPACITY_SPOT} ;;
  {CAPACITY_ON_DEMAND}) capacity={CAPACITY_ON_DEMAND} ;;
  *) echo "eksplatform: instance-life-cycle '$lifecycle'; {CAPACITY_TYPE_LABEL} left unset" >&2; exit 0 ;;
esac
install -d -m 0755 "$(dirname {NODEADM_DROP_IN})"
# nodeadm merges this drop-in into the user data's NodeConfig before it starts the kubelet.
cat > {NODEADM_DROP_IN} <<EOF
{body}
EOF
"""


def render_user_data(
    *,
    cluster_name: str,
    endpoint: str,
    certificate_authority: str,
    service_cidr: str,
    pool: NodePoolConfig,
) -> str:
    """The MIME multipart user data of a pool's launch template (not yet base64-encoded)."""
    config = yaml.safe_dump(
        node_config(
            cluster_name=cluster_name,
            endpoint=endpoint,
            certificate_authority=certificate_authority,
            service_cidr=service_cidr,
            pool=pool,
        ),
        sort_keys=False,
        width=10_000,
    )
    b = USER_DATA_BOUNDARY
    return (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{b}"\n\n'
        f"--{b}\n"
        "Content-Type: application/node.eks.aws\n\n"
        f"---\n{config}\n"
        f"--{b}\n"
        'Content-Type: text/x-shellscript; charset="us-ascii"\n\n'
        f"{capacity_type_script()}\n"
        f"--{b}--\n"
    )


def autoscaler_tags(cluster_name: str, pool: NodePoolConfig) -> dict[str, str]:
    """Cluster Autoscaler auto-discovery and node-template tags of every group of ``pool``.

    The capacity-type label is templated only when the pool is all spot or all on-demand: a
    mixed pool's next node may be either, so promising one would mislead the autoscaler."""
    cpu, mem = INSTANCE_SHAPES[pool.instance_types[0]]
    tags = {
        f"{AUTOSCALER_TAG_PREFIX}/enabled": "true",
        f"{AUTOSCALER_TAG_PREFIX}/{cluster_name}": "owned",
        f"{NODE_TEMPLATE_PREFIX}/resources/cpu": str(cpu),
        f"{NODE_TEMPLATE_PREFIX}/resources/memory": f"{mem}Gi",
        f"{NODE_TEMPLATE_PREFIX}/resources/ephemeral-storage": f"{pool.root_volume_size_gib}Gi",
    }
    for key, value in pool.node_labels().items():
        tags[f"{NODE_TEMPLATE_PREFIX}/label/{key}"] = value
    if pool.pure_capacity_type:
        tags[f"{NODE_TEMPLATE_PREFIX}/label/{CAPACITY_TYPE_LABEL}"] = pool.pure_capacity_type
    for taint in pool.taints:
        tags[f"{NODE_TEMPLATE_PREFIX}/taint/{taint.key}"] = f"{taint.value}:{taint.effect}"
    return tags


def launch_template_prefix(cluster_name: str, pool: str) -> str:
    """``name_prefix`` of a pool's launch template (the provider appends a unique suffix)."""
    return f"{cluster_name}-{pool}-"


def group_name_prefix(cluster_name: str, pool: str, zone: str) -> str:
    """``name_prefix`` of a pool's group in ``zone`` (the priority expander matches it)."""
    return f"{cluster_name}-{pool}-{zone}-"


def group_tags(cluster_name: str, pool: NodePoolConfig, tags: Tags) -> dict[str, str]:
    """Tags every group of ``pool`` propagates to its instances."""
    return tags.with_name(
        f"{cluster_name}-{pool.name}",
        **{NODE_POOL_LABEL: pool.name},
        **{f"kubernetes.io/cluster/{cluster_name}": "owned"},
    )


MAX_GROUP_TAGS = 50
"""Tags an Auto Scaling group may carry (propagated and node-template tags together)."""


def ami_parameter(kubernetes_version: str) -> str:
    """Public SSM parameter holding the recommended EKS-optimized AL2023 x86_64 AMI id."""
    return (
        f"/aws/service/eks/optimized-ami/{kubernetes_version}/amazon-linux-2023/x86_64/"
        "standard/recommended/image_id"
    )


# --- component ----------------------------------------------------------------------------------

_GROUP_METRICS = (
    aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
    aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
    aws.autoscaling.Metric.GROUP_PENDING_INSTANCES,
    aws.autoscaling.Metric.GROUP_TERMINATING_INSTANCES,
    aws.autoscaling.Metric.GROUP_TOTAL_INSTANCES,
)
"""Group metrics published to CloudWatch (free at 1-minute granularity)."""


@dataclass(frozen=True, kw_only=True)
class NodePoolsArgs:
    """Inputs of :class:`NodePools`."""

    cluster_name: str
    """Physical EKS cluster name (group names, autoscaler tags, NodeConfig)."""
    kubernetes_version: str
    """``1.MINOR``: picks the AMI."""
    cluster_endpoint: pulumi.Input[str]
    """API server URL (``ControlPlane.endpoint``)."""
    certificate_authority: pulumi.Input[str]
    """Base64 PEM of the cluster CA (``ControlPlane.certificate_authority``)."""
    service_cidr: str
    """Kubernetes service CIDR of the cluster (``ControlPlane.service_cidr``); nodeadm needs it."""
    availability_zones: tuple[str, ...]
    """Zones, one group per pool per zone."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """One private subnet per zone, in zone order."""
    node_security_group_id: pulumi.Input[str]
    """``ControlPlane.node_security_group_id``."""
    tags: Tags
    pools: tuple[NodePoolConfig, ...] = DEFAULT_NODE_POOLS
    """Default: one general-purpose pool named ``general``."""
    ssm_sessions: bool = False
    """Session Manager on the nodes (:class:`NodeAccessConfig`). Default: false."""


def _constant(value: str) -> Callable[[Any], str]:
    def get(_: Any) -> str:
        return value

    return get


def _user_data_output(args: NodePoolsArgs, pool: NodePoolConfig) -> pulumi.Output[str]:
    def encode(values: list[Any]) -> str:
        text = render_user_data(
            cluster_name=args.cluster_name,
            endpoint=str(values[0]),
            certificate_authority=str(values[1]),
            service_cidr=args.service_cidr,
            pool=pool,
        )
        return base64.b64encode(text.encode()).decode()

    return pulumi.Output.all(args.cluster_endpoint, args.certificate_authority).apply(encode)


def validate_node_pools_args(args: NodePoolsArgs) -> None:
    problems = Problems()
    if not args.pools:
        problems.add("pools", [], "give at least one node pool")
    names = [p.name for p in args.pools]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.add("pools", names, f"pool names must be unique: {', '.join(repeated)} repeat")
    if not args.availability_zones:
        problems.add("availability_zones", [], "give at least one zone")
    if len(args.private_subnet_ids) != len(args.availability_zones):
        problems.add(
            "private_subnet_ids",
            f"{len(args.private_subnet_ids)} subnets",
            f"give one private subnet per zone ({len(args.availability_zones)})",
        )
    if not re.match(r"^1\.\d{2}\Z", args.kubernetes_version):
        problems.add("kubernetes_version", args.kubernetes_version, 'write it like "1.31"')
    try:
        ipaddress.IPv4Network(args.service_cidr)
    except ValueError:
        problems.add(
            "service_cidr", args.service_cidr, "not an IPv4 CIDR; write it like 172.20.0.0/16"
        )
    problems.raise_if_any(f"NodePools '{args.cluster_name}'")


class NodePools(pulumi.ComponentResource):
    """Node IAM role and access entry, and per pool a launch template and one Auto Scaling group
    per zone."""

    asg_names: list[pulumi.Output[str]]
    """Every group's name (one per pool per zone, pools in config order, zones in order); the
    length is known when the component is constructed."""
    asg_arns: list[pulumi.Output[str]]
    """Every group's ARN, in the order of :attr:`asg_names`."""
    asgs_by_pool: dict[str, list[pulumi.Output[str]]]
    """Pool name -> its groups' names, in zone order."""
    groups: list[aws.autoscaling.Group]
    """The groups themselves (CoreDNS and other node-dependent resources depend on them)."""
    launch_templates: dict[str, aws.ec2.LaunchTemplate]
    """Pool name -> its launch template."""
    node_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    pools: tuple[NodePoolConfig, ...]
    """The pool configs (the autoscaler's priority expander ranks them)."""
    capacity_type_label: str = CAPACITY_TYPE_LABEL
    """Node label key whose value is ``spot`` or ``on-demand``."""
    node_pool_label: str = NODE_POOL_LABEL
    """Node label key whose value is the pool name."""

    def __init__(
        self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_node_pools_args(args)
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags
        self.pools = args.pools
        for pool in args.pools:
            if pool.uses_spot and len(pool.instance_types) < 3:
                pulumi.log.warn(
                    f"node pool {pool.name!r} runs spot on {len(pool.instance_types)} instance "
                    "type(s): list 3 or more of the same shape so a spot shortage of one type "
                    "does not stop scale-ups",
                    self,
                )

        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        role = aws.iam.Role(
            f"{name}-node",
            description=f"EKS nodes of {args.cluster_name}",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=tags.merged(),
            opts=child,
        )
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=role.name,
                policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        if args.ssm_sessions:
            attachments.append(
                aws.iam.RolePolicy(
                    f"{name}-node-ssm-sessions",
                    role=role.id,
                    policy=json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "SessionManagerOnly",
                                    "Effect": "Allow",
                                    "Action": list(SSM_SESSION_ACTIONS),
                                    "Resource": "*",
                                }
                            ],
                        }
                    ),
                    opts=child,
                )
            )
        profile = aws.iam.InstanceProfile(
            f"{name}-node", role=role.name, tags=tags.merged(), opts=child
        )
        # The endpoint exists only once the cluster does: deriving the name from it makes the
        # access entry wait for the cluster.
        cluster_name = pulumi.Output.from_input(args.cluster_endpoint).apply(
            _constant(args.cluster_name)
        )
        access = aws.eks.AccessEntry(
            f"{name}-node",
            cluster_name=cluster_name,
            principal_arn=role.arn,
            type="EC2_LINUX",
            tags=tags.merged(),
            opts=child,
        )
        self.node_role_arn = role.arn
        self.node_role_name = role.name

        ami = aws.ssm.get_parameter_output(
            name=ami_parameter(args.kubernetes_version),
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).insecure_value  # a public AMI id: kept out of secrets so the diff shows a new AMI

        self.asg_names, self.asg_arns, self.groups = [], [], []
        self.asgs_by_pool, self.launch_templates = {}, {}
        for pool in args.pools:
            user_data = _user_data_output(args, pool)
            pool_tags = {"eksplatform.io/node-pool": pool.name}
            lt = aws.ec2.LaunchTemplate(
                f"{name}-{pool.name}",
                name_prefix=launch_template_prefix(args.cluster_name, pool.name),
                description=f"{args.cluster_name} node pool {pool.name}",
                image_id=ami,
                iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
                vpc_security_group_ids=[args.node_security_group_id],
                user_data=user_data,
                update_default_version=True,
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=1,
                    instance_metadata_tags="disabled",
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name=ROOT_DEVICE,
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=pool.root_volume_size_gib,
                            volume_type="gp3",
                            iops=3000,
                            throughput=125,
                            encrypted="true",
                            delete_on_termination="true",
                        ),
                    )
                ],
                monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type=kind,
                        tags=tags.with_name(f"{args.cluster_name}-{pool.name}", **pool_tags),
                    )
                    for kind in ("volume", "network-interface")
                ],
                tags=tags.merged(pool_tags),
                opts=child,
            )
            self.launch_templates[pool.name] = lt
            # Instances inherit these (AWS's node group template tags nodes with the cluster).
            propagated = group_tags(args.cluster_name, pool, tags)
            ca_tags = autoscaler_tags(args.cluster_name, pool)
            self.asgs_by_pool[pool.name] = []
            for zone, subnet in zip(args.availability_zones, args.private_subnet_ids, strict=True):
                group = aws.autoscaling.Group(
                    f"{name}-{pool.name}-{zone}",
                    name_prefix=group_name_prefix(args.cluster_name, pool.name, zone),
                    vpc_zone_identifiers=[subnet],
                    min_size=pool.min_size,
                    max_size=pool.max_size,
                    desired_capacity=pool.initial_size,
                    capacity_rebalance=True,
                    health_check_type="EC2",
                    health_check_grace_period=300,
                    default_instance_warmup=120,
                    enabled_metrics=list(_GROUP_METRICS),
                    mixed_instances_policy=aws.autoscaling.GroupMixedInstancesPolicyArgs(
                        instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
                            on_demand_base_capacity=pool.on_demand_base_capacity,
                            on_demand_percentage_above_base_capacity=pool.on_demand_percentage_above_base,
                            on_demand_allocation_strategy="prioritized",
                            spot_allocation_strategy="price-capacity-optimized",
                        ),
                        launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                            launch_template_specification=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                                launch_template_id=lt.id,
                                version=lt.latest_version.apply(str),
                            ),
                            overrides=[
                                aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(
                                    instance_type=t
                                )
                                for t in pool.instance_types
                            ],
                        ),
                    ),
                    # A new launch template version (AMI, user data) changes the policy above,
                    # which starts this refresh: nodes roll, the group stays.
                    instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                        strategy="Rolling",
                        preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                            min_healthy_percentage=90,
                            skip_matching=True,
                            instance_warmup="120",
                        ),
                    ),
                    tags=[
                        aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True)
                        for k, v in propagated.items()
                    ]
                    + [
                        aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=False)
                        for k, v in ca_tags.items()
                    ],
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        # The Cluster Autoscaler owns the desired size once the group exists.
                        ignore_changes=["desiredCapacity"],
                        depends_on=[access, *attachments],
                    ),
                )
                self.groups.append(group)
                self.asg_names.append(group.name)
                self.asg_arns.append(group.arn)
                self.asgs_by_pool[pool.name].append(group.name)

        self.register_outputs(
            {
                "asgNames": pulumi.Output.all(*self.asg_names),
                "nodeRoleArn": self.node_role_arn,
            }
        )

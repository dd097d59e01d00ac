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

Node IAM: one role for every pool with only AmazonEKSWorkerNodePolicy,
AmazonEC2ContainerRegistryPullOnly and AmazonSSMManagedInstanceCore (the CNI permissions belong to
the aws-node service account, see :mod:`eksplatform.cluster.eks_addons`), its instance profile, and an EKS
access entry of type ``EC2_LINUX`` (API authentication mode: no aws-auth ConfigMap).

Node security group: pulumi-eks creates it with the cluster (``ControlPlane.node_security_group_id``)
even with ``skip_default_node_group``; its rules are the ones AWS's node group template defines,
and nothing wider: node to node all traffic (pod networking), control plane to nodes TCP
1025-65535 (kubelet 10250 and webhook/aggregated API ports such as metrics-server's 10251) and
443 (extension API servers), nodes to the API server 443 (a rule on the cluster security group),
and node egress (image pulls, AWS APIs). Nothing is missing, so this component adds no rule.
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pulumi
import pulumi_aws as aws
import pydantic_core
import yaml
from pydantic import Field, WrapValidator, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..core.errors import Problems
from ..core.settings import SettingsModel
from ..core.tags import Tags

_TOKEN = "eksplatform:compute:NodePools"

CAPACITY_TYPE_LABEL = "eksplatform.io/capacity-type"
"""Node label whose value is ``spot`` or ``on-demand`` (found by each instance at boot)."""
NODE_POOL_LABEL = "eksplatform.io/node-pool"
"""Node label whose value is the node's pool name."""
CAPACITY_SPOT = "spot"
CAPACITY_ON_DEMAND = "on-demand"

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
"""AWS managed policies of the node role; the CNI policy is deliberately not among them."""

AUTOSCALER_TAG_PREFIX = "k8s.io/cluster-autoscaler"
NODE_TEMPLATE_PREFIX = f"{AUTOSCALER_TAG_PREFIX}/node-template"
NODEADM_DROP_IN = "/etc/eks/nodeadm.d/50-eksplatform-capacity-type.json"
"""Where the boot script writes the capacity-type NodeConfig drop-in."""
USER_DATA_BOUNDARY = "==EKSPLATFORM-NODE=="
ROOT_DEVICE = "/dev/xvda"
"""Root device name of the EKS-optimized AL2023 AMIs."""
MIN_ROOT_VOLUME_GIB = 20
"""The AL2023 EKS AMI's snapshot is 20 GiB; a smaller root volume cannot be launched."""

# --- instance shapes ----------------------------------------------------------------------------

_SIZE_FACTOR = {"large": 1, "xlarge": 2, "2xlarge": 4, "4xlarge": 8, "8xlarge": 16}
"""vCPU and memory of a size relative to the family's ``large`` (``medium``: half the memory)."""
_FAMILIES: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    # family: ((vCPU, GiB) of .large, sizes offered)
    **{
        f: ((2, 8), ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"))
        for f in ("m5", "m5a", "m6i", "m6a", "m7i", "m7a")
    },
    **{
        f: ((2, 4), ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"))
        for f in ("c5a", "c6i", "c6a", "c7i", "c7a")
    },
    "c5": ((2, 4), ("large", "xlarge", "2xlarge", "4xlarge")),  # c5 jumps from 4xlarge to 9xlarge
    **{
        f: ((2, 16), ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"))
        for f in ("r5", "r5a", "r6i", "r6a", "r7i", "r7a")
    },
    # burstable: medium is 2 vCPU/4 GiB, large 2/8, then doubling; no 4xlarge/8xlarge
    **{f: ((2, 8), ("medium", "large", "xlarge", "2xlarge")) for f in ("t3", "t3a")},
}


def _build_shapes() -> dict[str, tuple[int, int]]:
    shapes: dict[str, tuple[int, int]] = {}
    for family, ((cpu, mem), sizes) in _FAMILIES.items():
        for size in sizes:
            if size == "medium":
                shapes[f"{family}.medium"] = (cpu, mem // 2)
                continue
            factor = _SIZE_FACTOR[size]
            shapes[f"{family}.{size}"] = (cpu * factor, mem * factor)
    return shapes


INSTANCE_SHAPES: Mapping[str, tuple[int, int]] = _build_shapes()
"""Instance type -> (vCPU, memory GiB) for the x86_64 families node pools may use (the AMI is
the x86_64 AL2023 image). The source of truth for the same-shape check and the autoscaler's
node-template resources."""


# --- config -------------------------------------------------------------------------------------

_POOL_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,22}[a-z0-9])?\Z")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)\Z")
_LABEL_PREFIX = re.compile(
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\Z"
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?\Z")
_RESERVED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")
_KUBELET_LABEL_DOMAINS = ("node.kubernetes.io", "kubelet.kubernetes.io")
_PLATFORM_LABELS = (CAPACITY_TYPE_LABEL, NODE_POOL_LABEL)


def _key_syntax_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if not _LABEL_NAME.match(name) or (
        prefix and (len(prefix) > 253 or not _LABEL_PREFIX.match(prefix))
    ):
        return "not a Kubernetes label key (optional DNS prefix, '/', then 1-63 of [A-Za-z0-9-_.])"
    return None


def _reserved(key: str, allowed: tuple[str, ...] = ()) -> bool:
    prefix = key.rpartition("/")[0]
    if not prefix or prefix in allowed:
        return False
    return any(prefix == d or prefix.endswith("." + d) for d in _RESERVED_LABEL_DOMAINS)


def _label_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a node label the kubelet sets itself, or None."""
    syntax = _key_syntax_problem(key)
    if syntax:
        return syntax
    if _reserved(key, allowed=_KUBELET_LABEL_DOMAINS):
        return (
            "the kubelet refuses kubernetes.io and k8s.io labels other than node.kubernetes.io/ "
            "and kubelet.kubernetes.io/ ones; use your own prefix"
        )
    return None


class TaintConfig(SettingsModel):
    """One node taint (``platform:nodePools[i].taints[j]``)."""

    key: str
    """Taint key. Required."""
    value: str = ""
    """Default: empty."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    """Default: NoSchedule."""

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        problem = _key_syntax_problem(v)
        if problem:
            raise ValueError(problem)
        if _reserved(v):
            raise ValueError(
                "kubernetes.io and k8s.io taints belong to Kubernetes itself (not-ready, "
                "unschedulable...); use your own prefix"
            )
        return v

    @field_validator("value")
    @classmethod
    def _value(cls, v: str) -> str:
        if not _LABEL_VALUE.match(v):
            raise ValueError("at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric")
        return v


def _field_errors(title: str, items: Sequence[tuple[tuple[str | int, ...], Any, str]]) -> Exception:
    """Several problems of one model at once, each at its own location (pydantic keeps them
    apart, so each becomes its own line naming ``platform:nodePools[i].<key>``)."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError("value_error", "{message}", {"message": message}),
            loc=loc,
            input=value,
        )
        for loc, value, message in items
    ]
    return pydantic_core.ValidationError.from_exception_data(title, details)


_SIZE_FIELDS = {
    "min_size": ("minSize", 1),
    "max_size": ("maxSize", 10),
    "desired_size": ("desiredSize", None),
    "on_demand_base_capacity": ("onDemandBaseCapacity", 1),
}


def _raw_sizes(data: Any, *, skip: set[Any]) -> dict[str, int | None] | None:
    """The size fields of a raw pool whose own validation failed elsewhere, or None when one of
    them is itself invalid (its own error says so)."""
    if not isinstance(data, dict):
        return None
    out: dict[str, int | None] = {}
    for attr, (alias, default) in _SIZE_FIELDS.items():
        if alias in skip or attr in skip:
            return None
        raw = data.get(alias, data.get(attr, default))
        if raw is None:
            out[attr] = None
            continue
        try:
            out[attr] = int(str(raw))
        except ValueError:
            return None
    return out


def _size_problems(
    *,
    min_size: int | None,
    max_size: int | None,
    desired_size: int | None,
    on_demand_base_capacity: int | None,
) -> list[tuple[tuple[str | int, ...], Any, str]]:
    problems: list[tuple[tuple[str | int, ...], Any, str]] = []
    if min_size is None or max_size is None:
        return problems
    if min_size > max_size:
        problems.append(
            (("minSize",), min_size, f"is above maxSize ({max_size}); make minSize <= maxSize")
        )
    elif desired_size is not None and not min_size <= desired_size <= max_size:
        problems.append(
            (
                ("desiredSize",),
                desired_size,
                f"must be between minSize ({min_size}) and maxSize ({max_size})",
            )
        )
    if on_demand_base_capacity is not None and on_demand_base_capacity > max_size:
        problems.append(
            (
                ("onDemandBaseCapacity",),
                on_demand_base_capacity,
                f"is above maxSize ({max_size}), so the group could never run spot; lower it "
                "or raise maxSize",
            )
        )
    return problems


def _merge_errors(
    title: str,
    exc: pydantic_core.ValidationError,
    more: Sequence[tuple[tuple[str | int, ...], Any, str]],
) -> pydantic_core.ValidationError:
    """``exc``'s errors plus ``more``, as one error (types and messages kept)."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError(e["type"], "{message}", {"message": e["msg"]}),
            loc=e["loc"],
            input=e["input"],
        )
        for e in exc.errors()
    ]
    details += [
        InitErrorDetails(
            type=PydanticCustomError("value_error", "{message}", {"message": message}),
            loc=loc,
            input=value,
        )
        for loc, value, message in more
    ]
    return pydantic_core.ValidationError.from_exception_data(title, details)


class NodePoolConfig(SettingsModel):
    """One node pool (an item of ``platform:nodePools``)."""

    name: str
    """Pool name: lowercase letters, digits and '-', at most 24 characters (it is part of the
    group names and the ``eksplatform.io/node-pool`` label). Required."""
    instance_types: tuple[str, ...] = ("m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m5a.xlarge")
    """Instance types, all of the same vCPU and memory shape; the first is the one the Cluster
    Autoscaler plans with. List at least 3 so spot can be diversified. Default: m6i/m6a/m5/m5a
    .xlarge (4 vCPU, 16 GiB)."""
    on_demand_base_capacity: int = 1
    """On-demand instances each zone's group keeps before any spot (per group, so 3 zones give 3).
    Default: 1: every zone keeps one node a spot reclaim cannot take, so system pods always have
    somewhere to run. Set 0 for a pool that may be all spot."""
    on_demand_percentage_above_base: int = 30
    """Percent of the capacity above the base that is on-demand (0-100). Default: 30 (70% spot)."""
    min_size: int = 1
    """Minimum nodes per zone group. Default: 1."""
    max_size: int = 10
    """Maximum nodes per zone group. Default: 10."""
    desired_size: int | None = None
    """Initial nodes per zone group, used only when the group is created (the Cluster Autoscaler
    owns it afterwards). Default: ``minSize``."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Extra node labels. Default: none (every node carries ``eksplatform.io/node-pool`` and
    ``eksplatform.io/capacity-type`` anyway)."""
    taints: tuple[TaintConfig, ...] = ()
    """Node taints (``key``, ``value``, ``effect``). Default: none."""
    root_volume_size_gib: int = 50
    """Root volume (encrypted gp3) in GiB, 20-16384; images and emptyDir volumes live there.
    Default: 50."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _POOL_NAME.match(v):
            raise ValueError(
                "use lowercase letters, digits and '-', starting with a letter (at most 24 "
                "characters)"
            )
        return v

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("list at least one instance type (3 or more to diversify spot)")
        unknown = [t for t in v if t not in INSTANCE_SHAPES]
        if unknown:
            hints = []
            for t in unknown:
                close = difflib.get_close_matches(t, list(INSTANCE_SHAPES), n=3, cutoff=0.6)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                hints.append(f"{t!r}{hint}")
            families = ", ".join(sorted(_FAMILIES))
            raise ValueError(
                f"unknown instance type {'; '.join(hints)}: use a large to 8xlarge size of "
                f"{families}"
            )
        repeated = sorted({t for t in v if v.count(t) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once")
        first = v[0]
        cpu, mem = INSTANCE_SHAPES[first]
        odd = [t for t in v[1:] if INSTANCE_SHAPES[t] != (cpu, mem)]
        if odd:
            others = ", ".join(
                f"{t} is {INSTANCE_SHAPES[t][0]} vCPU/{INSTANCE_SHAPES[t][1]} GiB" for t in odd
            )
            raise ValueError(
                f"all types must have the shape of the first ({first}: {cpu} vCPU/{mem} GiB) "
                f"because the Cluster Autoscaler plans with it; but {others}: move them to a "
                "pool of their own"
            )
        return v

    @field_validator("on_demand_base_capacity", "min_size", "max_size", "desired_size")
    @classmethod
    def _non_negative(cls, v: int | None) -> int | None:
        if v is not None and not 0 <= v <= 1000:
            raise ValueError("must be 0 to 1000")
        return v

    @field_validator("max_size")
    @classmethod
    def _max_size(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be 1 or more: a pool of at most 0 nodes never runs anything")
        return v

    @field_validator("taints")
    @classmethod
    def _taints(cls, v: tuple[TaintConfig, ...]) -> tuple[TaintConfig, ...]:
        seen: set[tuple[str, str]] = set()
        repeated = []
        for taint in v:
            if (taint.key, taint.effect) in seen:
                repeated.append(f"{taint.key}:{taint.effect}")
            seen.add((taint.key, taint.effect))
        if repeated:
            raise ValueError(
                f"repeats {', '.join(repeated)}: Kubernetes keeps one taint per key and effect; "
                "remove the duplicate"
            )
        return v

    @field_validator("on_demand_percentage_above_base")
    @classmethod
    def _percentage(cls, v: int) -> int:
        if not 0 <= v <= 100:
            raise ValueError(
                "must be 0 to 100 (30 keeps 70% of the capacity above the base on spot)"
            )
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        problems = []
        for key, value in v.items():
            if key in _PLATFORM_LABELS:
                problems.append(f"{key!r} is set by the platform")
                continue
            why = _label_key_problem(key)
            if why:
                problems.append(f"{key!r} is {why}" if why.startswith("not") else f"{key!r}: {why}")
            elif not _LABEL_VALUE.match(value):
                problems.append(
                    f"the value {value!r} of {key!r} is not a label value (at most 63 of "
                    "[A-Za-z0-9-_.], starting and ending alphanumeric)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @field_validator("root_volume_size_gib")
    @classmethod
    def _root_volume(cls, v: int) -> int:
        if not MIN_ROOT_VOLUME_GIB <= v <= 16384:
            raise ValueError(
                f"must be {MIN_ROOT_VOLUME_GIB} to 16384 (the AMI's own snapshot is "
                f"{MIN_ROOT_VOLUME_GIB} GiB)"
            )
        return v

    @model_validator(mode="wrap")
    @classmethod
    def _sizes_agree(cls, data: Any, handler: Any) -> NodePoolConfig:
        """Cross-field checks, run even when other fields of the pool are invalid (so every
        problem is reported in one round)."""
        try:
            pool = handler(data)
        except pydantic_core.ValidationError as exc:
            failed = {e["loc"][0] for e in exc.errors() if e["loc"]}
            sizes = _raw_sizes(data, skip=failed)
            cross = _size_problems(**sizes) if sizes is not None else []
            if not cross:
                raise
            raise _merge_errors("NodePoolConfig", exc, cross) from None
        assert isinstance(pool, NodePoolConfig)
        cross = _size_problems(
            min_size=pool.min_size,
            max_size=pool.max_size,
            desired_size=pool.desired_size,
            on_demand_base_capacity=pool.on_demand_base_capacity,
        )
        if cross:
            raise _field_errors("NodePoolConfig", cross)
        if pool.desired_size is None:
            object.__setattr__(pool, "desired_size", pool.min_size)
        return pool

    # --- derived -------------------------------------------------------------------------------

    @property
    def initial_size(self) -> int:
        return self.min_size if self.desired_size is None else self.desired_size

    @property
    def pure_capacity_type(self) -> str | None:
        """``spot`` / ``on-demand`` when every instance of the pool is of that kind, else None."""
        if self.on_demand_percentage_above_base == 100:
            return CAPACITY_ON_DEMAND
        if self.on_demand_percentage_above_base == 0 and self.on_demand_base_capacity == 0:
            return CAPACITY_SPOT
        return None

    @property
    def uses_spot(self) -> bool:
        return self.on_demand_percentage_above_base < 100

    @property
    def blocking_taints(self) -> tuple[TaintConfig, ...]:
        """Taints that keep pods without a matching toleration off the pool's nodes."""
        return tuple(t for t in self.taints if t.effect in ("NoSchedule", "NoExecute"))

    def node_labels(self) -> dict[str, str]:
        """Labels every node of the pool gets from its user data (the capacity type is added at
        boot)."""
        return {NODE_POOL_LABEL: self.name, **dict(sorted(self.labels.items()))}


DEFAULT_NODE_POOLS: tuple[NodePoolConfig, ...] = (NodePoolConfig(name="general"),)


def _check_pool_list(value: Any, handler: Any) -> Any:
    """``platform:nodePools`` as a whole: not empty, names unique (each duplicate is reported at
    ``platform:nodePools[i].name``), every item's own problems reported alongside."""
    duplicates: list[tuple[tuple[str | int, ...], Any, str]] = []
    if isinstance(value, (list, tuple)):
        first: dict[str, int] = {}
        for i, item in enumerate(value):
            name = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
            if not isinstance(name, str):
                continue
            if name in first:
                duplicates.append(
                    (
                        (i, "name"),
                        name,
                        f"pool names must be unique; nodePools[{first[name]}] is already "
                        f"{name!r}: rename one",
                    )
                )
            else:
                first[name] = i
    try:
        pools = handler(value)
    except pydantic_core.ValidationError as exc:
        if not duplicates:
            raise
        raise _merge_errors("nodePools", exc, duplicates) from None
    if duplicates:
        raise _field_errors("nodePools", duplicates)
    if not pools:
        raise ValueError("list at least one node pool (the cluster has no other nodes)")
    return pools


NodePoolList = Annotated[tuple[NodePoolConfig, ...], WrapValidator(_check_pool_list)]
"""Type of ``ClusterConfig.node_pools`` (``platform:nodePools``)."""


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


# --- how much of a node pods get ----------------------------------------------------------------

EVICTION_RESERVE = 100 * 2**20
"""The kubelet's hard eviction threshold for memory on the EKS AMIs (``memory.available<100Mi``)."""
KUBE_RESERVED_MEMORY_BASE = 255 * 2**20
"""The EKS AMIs reserve 255Mi plus 11Mi per possible pod for the kubelet and the runtime; only
the fixed part is counted here, so the estimate is an upper bound on what pods get."""
SYSTEM_DAEMONSET_CPU_MILLIS = 125
"""CPU requested on every node by the EKS add-on DaemonSets: aws-node (vpc-cni) 25m and
kube-proxy 100m."""


def kube_reserved_cpu_millis(vcpu: int) -> float:
    """CPU the EKS AMIs reserve for the kubelet: 6% of the first core, 1% of the second, 0.5% of
    the next two and 0.25% of every further core."""
    rates = [60.0, 10.0, 5.0, 5.0]
    return sum(rates[:vcpu]) + 2.5 * max(0, vcpu - 4)


def allocatable(
    instance_type: str, *, daemonset_cpu_millis: float = 0, daemonset_memory: int = 0
) -> tuple[float, int]:
    """At most how much CPU (millicores) and memory (bytes) pods of a Deployment get on one
    node of ``instance_type``: capacity less the kubelet's reservation (its fixed part), the
    eviction reserve, the EKS add-on DaemonSets and the given platform DaemonSet requests.

    An upper bound: a pod larger than this never schedules on that node type."""
    vcpu, gib = INSTANCE_SHAPES[instance_type]
    cpu = vcpu * 1000 - kube_reserved_cpu_millis(vcpu) - SYSTEM_DAEMONSET_CPU_MILLIS
    memory = gib * 2**30 - KUBE_RESERVED_MEMORY_BASE - EVICTION_RESERVE
    return cpu - daemonset_cpu_millis, memory - daemonset_memory


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
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=role.name,
                policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
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

"""Node pool settings (``platform:nodePools``): the model, its checks, and what a node offers.

Each pool is one :class:`NodePoolConfig`; the list is checked as a whole (at least one pool,
unique names, every item's problems reported together, each duplicate pointed at the later
pool). A pool's instance types must all have the shape of the first (the Cluster Autoscaler
plans a scale-up with it), so :data:`INSTANCE_SHAPES` lists the x86_64 families pools may use and
their vCPU and memory; :func:`allocatable` turns a shape into an upper bound of what pods get on
such a node, which the cluster's scheduling rules (:mod:`.plan_capacity`) compare pods with.

Design decision: the settings live apart from the :class:`~.node_pools.NodePools` component
(which re-exports them), so what a user may write and how it is checked reads in one place; the
cost is one more module to find, named for what it holds.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import Field, WrapValidator, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..core.settings import SettingsModel

CAPACITY_TYPE_LABEL = "eksplatform.io/capacity-type"
"""Node label whose value is ``spot`` or ``on-demand`` (found by each instance at boot)."""
NODE_POOL_LABEL = "eksplatform.io/node-pool"
"""Node label whose value is the node's pool name."""
CAPACITY_SPOT = "spot"
CAPACITY_ON_DEMAND = "on-demand"

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
    prefix, slash, name = key.rpartition("/")
    if not _LABEL_NAME.match(name) or (
        slash and (len(prefix) > 253 or not _LABEL_PREFIX.match(prefix))
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


class NodeAccessConfig(SettingsModel):
    """``platform:nodeAccess``: how people (never services) reach a node's shell."""

    ssm_sessions: bool = False
    """Let the nodes' SSM agent accept Session Manager sessions (a narrow inline policy, not
    AmazonSSMManagedInstanceCore). Default: false (no SSM on nodes)."""


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

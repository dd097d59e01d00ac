"""Rules of :mod:`.plan` about room: can the platform's pods ever be scheduled?

Each estimate is an upper bound of what pods get on a node (:func:`~.node_pools.allocatable`:
capacity less the kubelet's fixed reservation, the eviction reserve and the DaemonSets), so a pod
these rules refuse can never schedule on that node type; one they accept may still be tight.
The cost of bounds over exact figures: a pod a few percent too large for real nodes passes here
and stays pending in the cluster. The exact figures depend on the VPC CNI's pod limit per
instance type, which changes with its prefix-delegation setting and is not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import Problem
from ..core.kube import parse_cpu, parse_memory
from . import fluentd
from .node_pool_config import MIN_ROOT_VOLUME_GIB, NodePoolConfig, allocatable
from .plan import PlanContext, rule

if TYPE_CHECKING:
    from .config import ClusterConfig

CRITICAL_ADDONS_ONLY = "CriticalAddonsOnly"
"""Taint key the Cluster Autoscaler and the termination handler tolerate (any value/effect)."""
NODEFS_EVICTION_FRACTION = 0.10
"""The kubelet evicts pods when less than 10% of the node's root filesystem is free."""


def _gib(size: float) -> str:
    return f"{size / 2**30:.1f}Gi"


def _cores(millis: float) -> str:
    return f"{millis / 1000:.2f}".rstrip("0").rstrip(".") + " CPU"


def _fluentd_load(cfg: ClusterConfig) -> tuple[float, int]:
    """CPU (millicores) and memory fluentd requests on every node (0 when it does not run);
    for rules that read ``logging``."""
    if not cfg.logging.enabled:
        return 0, 0
    return parse_cpu(cfg.logging.resources.cpu), parse_memory(cfg.logging.resources.memory)


def _room(pool: NodePoolConfig, load: tuple[float, int]) -> tuple[float, int]:
    return allocatable(
        pool.instance_types[0], daemonset_cpu_millis=load[0], daemonset_memory=load[1]
    )


def _admits(pool: NodePoolConfig, tolerates_critical: bool) -> bool:
    """Whether pods without tolerations (or with only the CriticalAddonsOnly one) land there."""
    blocking = pool.blocking_taints
    if tolerates_critical:
        return all(t.key == CRITICAL_ADDONS_ONLY for t in blocking)
    return not blocking


@dataclass(frozen=True)
class _Pod:
    """A platform pod: where its size is configured and which pools admit it."""

    what: str
    section: str
    cpu_key: str
    cpu: str
    memory_key: str
    memory: str
    tolerates_critical: bool = False


def _platform_pods(cfg: ClusterConfig) -> Iterator[_Pod]:
    """The platform's Deployment pods whose requests come from the stack config (for a rule
    that reads every section they come from)."""
    a = cfg.autoscaler
    yield _Pod("the Cluster Autoscaler pod", "autoscaler", "cpu", a.cpu, "memory", a.memory, True)
    nth = cfg.interruption_handler
    if nth.enabled:
        yield _Pod(
            "the termination handler pod",
            "interruptionHandler",
            "cpu",
            nth.cpu,
            "memory",
            nth.memory,
            True,
        )
    if cfg.vpa.enabled:
        for key, part in (
            ("recommender", cfg.vpa.recommender),
            ("updater", cfg.vpa.updater),
            ("admissionController", cfg.vpa.admission_controller),
        ):
            if part.enabled:
                yield _Pod(
                    f"the VPA {key} pod",
                    "vpa",
                    f"{key}.cpu",
                    part.cpu,
                    f"{key}.memory",
                    part.memory,
                )
    h = cfg.headroom
    if h.enabled and h.replicas > 0:
        yield _Pod("a headroom pause pod", "headroom", "cpu", h.cpu, "memory", h.memory)


@rule("nodePools")
def _system_pods_schedulable(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    if any(not p.blocking_taints and p.min_size >= 1 for p in cfg.node_pools):
        return
    reasons = []
    for pool in cfg.node_pools:
        if pool.blocking_taints:
            taints = ", ".join(f"{t.key}={t.value}:{t.effect}" for t in pool.blocking_taints)
            reasons.append(f"{pool.name!r} is tainted ({taints})")
        else:
            reasons.append(f"{pool.name!r} starts with no node (minSize 0)")
    yield Problem(
        "platform:nodePools",
        [p.name for p in cfg.node_pools],
        "no pool can run the platform's own pods from the start (CoreDNS, the Cluster "
        f"Autoscaler, VPA, metrics-server): {'; '.join(reasons)}; give one pool without "
        "NoSchedule/NoExecute taints a minSize of 1 or more (the autoscaler cannot add the "
        "first node for itself)",
    )


@rule("nodePools", "logging", "autoscaler", "interruptionHandler", "vpa", "headroom")
def _platform_pods_fit(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    load = _fluentd_load(cfg)
    for pod in _platform_pods(cfg):
        pools = [p for p in cfg.node_pools if _admits(p, pod.tolerates_critical)]
        if not pools:
            continue  # reported by the schedulability rule
        rooms = [(_room(p, load), p) for p in pools]
        cpu, memory = parse_cpu(pod.cpu), parse_memory(pod.memory)
        best_cpu, cpu_pool = max(((r[0], p) for r, p in rooms), key=lambda x: x[0])
        best_memory, memory_pool = max(((r[1], p) for r, p in rooms), key=lambda x: x[0])
        where = "a node of a pool that admits it"
        if cpu > best_cpu:
            yield Problem(
                f"platform:{pod.section}.{pod.cpu_key}",
                pod.cpu,
                f"{pod.what} would never schedule: {where} offers at most {_cores(best_cpu)} "
                f"({cpu_pool.instance_types[0]} of pool {cpu_pool.name!r}, after the kubelet's "
                "reservation and the DaemonSets); lower it or add a pool of larger nodes",
            )
        if memory > best_memory:
            yield Problem(
                f"platform:{pod.section}.{pod.memory_key}",
                pod.memory,
                f"{pod.what} would never schedule: {where} offers at most {_gib(best_memory)} "
                f"({memory_pool.instance_types[0]} of pool {memory_pool.name!r}, after the "
                "kubelet's reservation and the DaemonSets); lower it or add a pool of larger nodes",
            )


@rule("nodePools", "logging")
def _fluentd_fits_every_node(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    if not cfg.logging.enabled:
        return
    res = cfg.logging.resources
    cpu, memory = parse_cpu(res.cpu), parse_memory(res.memory)
    for pool in cfg.node_pools:
        room_cpu, room_memory = _room(pool, (0, 0))
        node = f"{pool.instance_types[0]} of pool {pool.name!r}"
        if cpu > room_cpu:
            yield Problem(
                "platform:logging.resources.cpu",
                res.cpu,
                f"fluentd runs on every node, but {node} offers at most {_cores(room_cpu)}; "
                "lower it",
            )
        if memory > room_memory:
            yield Problem(
                "platform:logging.resources.memory",
                res.memory,
                f"fluentd runs on every node, but {node} offers at most {_gib(room_memory)}; "
                "lower it",
            )
        free = (pool.root_volume_size_gib - MIN_ROOT_VOLUME_GIB) * 2**30 - int(
            NODEFS_EVICTION_FRACTION * pool.root_volume_size_gib * 2**30
        )
        buffer = fluentd.parse_size(cfg.logging.buffer.total_limit_size)
        if buffer > free:
            yield Problem(
                "platform:logging.buffer.totalLimitSize",
                cfg.logging.buffer.total_limit_size,
                f"the buffer could fill the root volume of pool {pool.name!r} "
                f"({pool.root_volume_size_gib} GiB, of which at most {_gib(max(free, 0))} are "
                f"free once the AMI's {MIN_ROOT_VOLUME_GIB} GiB and the kubelet's 10% eviction "
                "margin are taken); lower it or raise that pool's rootVolumeSizeGib",
            )


@rule("nodePools", "network", "headroom", "logging")
def _headroom_capacity(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    h = cfg.headroom
    if not h.enabled:
        return
    load = _fluentd_load(cfg)
    cpu, memory = parse_cpu(h.cpu), parse_memory(h.memory)
    capacity = 0
    for pool in cfg.node_pools:
        if not _admits(pool, False):
            continue
        room_cpu, room_memory = _room(pool, load)
        per_node = min(math.floor(room_cpu / cpu), math.floor(room_memory / memory))
        capacity += max(per_node, 0) * pool.max_size * cfg.network.az_count
    if 0 < capacity < h.replicas:
        yield Problem(
            "platform:headroom.replicas",
            h.replicas,
            f"at most {capacity} pause pods of {h.cpu} CPU / {h.memory} fit on every untainted "
            "node the pools may ever have (maxSize per zone); lower replicas or raise maxSize",
        )


@rule("teams", "nodePools", "logging")
def _team_defaults_fit(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    load = _fluentd_load(cfg)
    rooms = [_room(p, load) for p in cfg.node_pools]
    most_cpu = max(r[0] for r in rooms)
    most_memory = max(r[1] for r in rooms)
    for i, team in enumerate(cfg.teams):
        lr = team.limit_range
        if parse_cpu(lr.default_request_cpu) > most_cpu:
            yield Problem(
                f"platform:teams[{i}].limitRange.defaultRequestCpu",
                lr.default_request_cpu,
                f"no node offers that much ({_cores(most_cpu)} at most): every pod left to the "
                "defaults would stay pending; lower it",
            )
        if parse_memory(lr.default_request_memory) > most_memory:
            yield Problem(
                f"platform:teams[{i}].limitRange.defaultRequestMemory",
                lr.default_request_memory,
                f"no node offers that much ({_gib(most_memory)} at most): every pod left to the "
                "defaults would stay pending; lower it",
            )

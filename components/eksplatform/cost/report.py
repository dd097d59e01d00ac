"""The cost arithmetic: what each node pool costs at its minimum, typical and maximum size
against an all-on-demand baseline, and how that cost splits over the services and the platform.

A pool has one Auto Scaling group per zone; each group keeps its on-demand base, then runs the
configured percentage of the rest on-demand (:mod:`eksplatform.core.spot`). On-demand instances
are priced at the first instance type (the groups' on-demand allocation is ``prioritized``),
spot instances at the mean spot price of the pool's types (``price-capacity-optimized`` spreads
over them); the baseline prices every node at the first type's on-demand price. The savings
ratio is ``1 - cost / baseline``.

Services are placed on the first pool (in config order) whose labels, taints and architecture
they accept. A pod uses the larger of its CPU and memory shares of a node (the dominant
resource: what bin packing runs out of first). A pool's typical size is the size per zone that
holds every workload it gets at minimum replicas plus its platform pods, with the per-node
DaemonSets and kubelet reserve taken off each node, clamped to the pool's minimum and maximum.
A service is charged its node share times the pool's blended price per node: at its minimum
replicas at the pool's typical size, at its maximum replicas at the pool's maximum size. The
platform's pods (controllers, EKS add-ons, DaemonSets, kubelet reserve) and the headroom pause
pods are shown as platform overhead; what is left is idle capacity.

Design decision: an estimate from requests, not a bill: it is exact about the spot/on-demand
split and the prices it was given, and approximate about packing (dominant-resource shares,
no fragmentation). The cost is that a cluster packed worse than that costs more than reported;
the idle line shows how much room the estimate leaves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.spot import Split, pool_split
from ..guardrails.compute import effective_spot_share_problem
from .prices import PriceTable
from .workloads import ARCH_LABEL, ClusterWorkloads, PodSpec, Workload

SOURCE_MIX = (0.60, 0.65, 0.70)
"""The spot shares the source talk ran (60-70% spot, the rest on-demand)."""
SOURCE_CLAIM = (0.28, 0.38)
"""The cut the source claims, "about a third", read as a third give or take five points."""

_GRAVITON_CLASSES = frozenset("mcr")
"""Instance classes (general purpose, compute, memory) with Graviton counterparts of the same
shape."""

KUBE_RESERVED_MEMORY = 255 * 2**20 + 100 * 2**20
"""Memory the EKS AMIs keep from pods: 255Mi kube-reserved (its fixed part) and the 100Mi hard
eviction threshold."""


def kube_reserved_cpu_millis(vcpu: int) -> float:
    """CPU the EKS AMIs reserve for the kubelet: 6% of the first core, 1% of the second, 0.5% of
    the next two and 0.25% of every further core."""
    rates = [60.0, 10.0, 5.0, 5.0]
    return sum(rates[:vcpu]) + 2.5 * max(0, vcpu - 4)


@dataclass(frozen=True)
class PoolSpec:
    """What the report needs of one node pool (built from ``platform:nodePools[i]``)."""

    name: str
    instance_types: tuple[str, ...]
    vcpu: int
    """vCPUs of the pool's node shape."""
    memory_gib: int
    """Memory of the pool's node shape."""
    zones: int
    """Zone groups (one Auto Scaling group per zone)."""
    on_demand_base: int
    """``onDemandBaseCapacity`` (per zone group)."""
    on_demand_percent: int
    """``onDemandPercentageAboveBase``."""
    min_size: int
    """Per zone group."""
    max_size: int
    """Per zone group."""
    architecture: str = "amd64"
    """``amd64`` or ``arm64`` (Kubernetes' names)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Node labels a pod's nodeSelector may ask for (the pool label and arch included)."""
    taints: tuple[tuple[str, str, str], ...] = ()
    """(key, value, effect) of the blocking taints."""

    def split(self, size_per_zone: int) -> Split:
        return pool_split(size_per_zone, self.zones, self.on_demand_base, self.on_demand_percent)

    def accepts(self, pod: PodSpec) -> bool:
        """Whether ``pod`` may schedule on this pool's nodes."""
        labels = {**self.labels, ARCH_LABEL: self.architecture}
        if any(labels.get(k) != v for k, v in pod.node_selector.items()):
            return False
        if pod.required_architectures is not None and (
            self.architecture not in pod.required_architectures
        ):
            return False
        return all(
            any(t.tolerates(key, value, effect) for t in pod.tolerations)
            for key, value, effect in self.taints
        )

    def share(self, pod: PodSpec) -> float:
        """The fraction of one node ``pod`` takes (its dominant resource)."""
        return max(
            pod.cpu_millis / (self.vcpu * 1000), pod.memory_bytes / (self.memory_gib * 2**30)
        )

    def reserved_share(self) -> float:
        return max(
            kube_reserved_cpu_millis(self.vcpu) / (self.vcpu * 1000),
            KUBE_RESERVED_MEMORY / (self.memory_gib * 2**30),
        )


@dataclass(frozen=True)
class Pricing:
    """One pool's prices per instance-hour."""

    on_demand: float
    spot: float

    def hourly(self, split: Split) -> float:
        return split.on_demand * self.on_demand + split.spot * self.spot

    def baseline(self, split: Split) -> float:
        return split.total * self.on_demand


def price_pool(pool: PoolSpec, types: Sequence[str], table: PriceTable, region: str) -> Pricing:
    """On-demand at the first type, spot at the mean spot price of ``types``."""
    od = table.on_demand_price(region, types[0])
    spots = [table.spot(region, t) for t in types]
    if od is None or any(s is None for s in spots):
        missing = ", ".join(table.missing(region, types))
        raise KeyError(f"no price for {missing} in {region}")
    return Pricing(on_demand=od, spot=sum(s for s in spots if s is not None) / len(spots))


def counterpart(instance_type: str) -> str | None:
    """The same-shape instance type on the other architecture: x86 -> Graviton (m5, m6i, m6a
    -> m6g; m7i, m7a -> m7g; t3, t3a -> t4g), Graviton -> Intel (m6g -> m6i, m7g -> m7i,
    t4g -> t3)."""
    family, _, size = instance_type.partition(".")
    if family in ("t3", "t3a"):
        return f"t4g.{size}"
    if family == "t4g":
        return f"t3.{size}"
    if len(family) < 2 or family[0] not in _GRAVITON_CLASSES or not family[1].isdigit():
        return None
    letter, gen, tail = family[0], int(family[1]), family[2:]
    if tail == "g":
        return f"{letter}{gen}i.{size}"
    return f"{letter}{max(6, min(gen, 7))}g.{size}"


@dataclass(frozen=True)
class SizePoint:
    label: str
    size_per_zone: int
    split: Split
    hourly: float
    baseline: float

    @property
    def savings(self) -> float:
        return 1 - self.hourly / self.baseline if self.baseline else 0.0


@dataclass
class Placement:
    workload: Workload
    pool: str | None
    share: float = 0.0


def _points(pool: PoolSpec, pricing: Pricing, sizes: Mapping[str, int]) -> list[SizePoint]:
    out = []
    for label, n in sizes.items():
        split = pool.split(n)
        out.append(SizePoint(label, n, split, pricing.hourly(split), pricing.baseline(split)))
    return out


def _per_node(point: SizePoint) -> float:
    return point.hourly / point.split.total if point.split.total else 0.0


def build_report(
    *,
    stack: str,
    environment: str,
    region: str,
    pools: Sequence[PoolSpec],
    workloads: ClusterWorkloads,
    table: PriceTable,
    spot_band: tuple[int, int],
    typical: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The whole report as plain data (what ``--format json`` prints; text and chart render
    it). ``typical`` overrides a pool's derived typical size per zone group. Raises
    ``KeyError`` naming the instance types the table cannot price."""
    hours = table.hours_per_month
    placements: list[Placement] = []
    for w in [*workloads.services, *workloads.platform]:
        pool = next((p for p in pools if p.accepts(w.pod)), None)
        placements.append(
            Placement(w, pool.name if pool else None, pool.share(w.pod) if pool else 0)
        )

    pool_out: list[dict[str, Any]] = []
    blended: dict[str, dict[str, float]] = {}
    overhead_rows: list[dict[str, Any]] = []
    totals = {
        k: {"hourly": 0.0, "baseline": 0.0, "nodes": 0, "spot": 0}
        for k in ("min", "typical", "max")
    }
    advisories: list[str] = []
    platform_names = {id(w) for w in workloads.platform}
    for pool in pools:
        pricing = price_pool(pool, pool.instance_types, table, region)
        daemons = [d for d in workloads.daemons if pool.accepts(d.pod)]
        per_node_fixed = sum(pool.share(d.pod) for d in daemons) + pool.reserved_share()
        here = [p for p in placements if p.pool == pool.name]
        demand_min = sum(p.share * p.workload.min_replicas for p in here)
        usable = max(1e-9, 1 - per_node_fixed)
        derived = math.ceil(round(demand_min / usable / pool.zones, 9)) if here else 0
        typical_n = (typical or {}).get(pool.name, derived)
        typical_n = min(max(typical_n, pool.min_size), pool.max_size)
        sizes = {"min": pool.min_size, "typical": typical_n, "max": pool.max_size}
        points = _points(pool, pricing, sizes)
        blended[pool.name] = {pt.label: _per_node(pt) for pt in points}
        for pt in points:
            t = totals[pt.label]
            t["hourly"] += pt.hourly
            t["baseline"] += pt.baseline
            t["nodes"] += pt.split.total
            t["spot"] += pt.split.spot
        # the same pool on the other architecture
        other_types = [counterpart(t) for t in pool.instance_types]
        compare: dict[str, Any] | None = None
        if all(other_types) and not table.missing(region, [t for t in other_types if t]):
            names = list(dict.fromkeys(t for t in other_types if t))
            other = price_pool(pool, names, table, region)
            other_points = _points(pool, other, sizes)
            compare = {
                "architecture": "arm64" if pool.architecture == "amd64" else "amd64",
                "instanceTypes": names,
                "onDemandPrice": other.on_demand,
                "spotPrice": other.spot,
                "hourly": {pt.label: pt.hourly for pt in other_points},
                "change": {
                    pt.label: (o.hourly / pt.hourly - 1) if pt.hourly else 0.0
                    for pt, o in zip(points, other_points, strict=True)
                },
            }
        # The guardrail's own check (rule aws-spot-share), on the same split.
        reason = effective_spot_share_problem(
            pool.min_size, pool.on_demand_base, pool.on_demand_percent, spot_band, environment
        )
        if reason:
            split = pool.split(pool.min_size)
            advisories.append(
                f"pool {pool.name!r} [aws-spot-share]: {reason} ({split.spot} of {split.total} "
                f"nodes over {pool.zones} zones)"
            )
        platform_here = [p for p in here if id(p.workload) in platform_names]
        head = [p for p in platform_here if p.workload.namespace == workloads.headroom_namespace]
        system = [p for p in platform_here if p not in head]
        for label in ("min", "typical", "max"):
            pt = next(x for x in points if x.label == label)
            node_price = _per_node(pt)
            overhead_rows.append(
                {
                    "pool": pool.name,
                    "size": label,
                    "daemonsAndReserve": per_node_fixed * pt.split.total * node_price,
                    "systemPods": sum(p.share * p.workload.min_replicas for p in system)
                    * node_price,
                    "headroom": sum(p.share * p.workload.min_replicas for p in head) * node_price,
                }
            )
        pool_out.append(
            {
                "name": pool.name,
                "architecture": pool.architecture,
                "instanceTypes": list(pool.instance_types),
                "zones": pool.zones,
                "onDemandBase": pool.on_demand_base,
                "onDemandPercentAboveBase": pool.on_demand_percent,
                "onDemandPrice": pricing.on_demand,
                "spotPrice": pricing.spot,
                "typicalDerived": derived,
                "sizes": [
                    {
                        "size": pt.label,
                        "perZone": pt.size_per_zone,
                        "nodes": pt.split.total,
                        "onDemand": pt.split.on_demand,
                        "spot": pt.split.spot,
                        "spotShare": pt.split.spot_share,
                        "hourly": pt.hourly,
                        "monthly": pt.hourly * hours,
                        "baselineHourly": pt.baseline,
                        "baselineMonthly": pt.baseline * hours,
                        "savings": pt.savings,
                    }
                    for pt in points
                ],
                "sourceMix": {
                    f"{int(s * 100)}%": s * (1 - pricing.spot / pricing.on_demand)
                    for s in SOURCE_MIX
                },
                "otherArchitecture": compare,
            }
        )

    services: list[dict[str, Any]] = []
    for p in placements:
        w = p.workload
        if id(w) in platform_names:
            continue
        price = blended.get(p.pool or "", {})
        services.append(
            {
                "service": w.name,
                "namespace": w.namespace,
                "program": w.program,
                "pool": p.pool,
                "cpuPerPod": w.pod.cpu_millis,
                "memoryPerPod": w.pod.memory_bytes,
                "sidecarCpuPerPod": w.pod.sidecar_cpu_millis,
                "sidecarMemoryPerPod": w.pod.sidecar_memory_bytes,
                "minReplicas": w.min_replicas,
                "maxReplicas": w.max_replicas,
                "nodeShare": p.share,
                "hourlyAtMin": p.share * w.min_replicas * price.get("typical", 0.0),
                "hourlyAtMax": p.share * w.max_replicas * price.get("max", 0.0),
                "monthlyAtMin": p.share * w.min_replicas * price.get("typical", 0.0) * hours,
                "monthlyAtMax": p.share * w.max_replicas * price.get("max", 0.0) * hours,
            }
        )
        if p.pool is None:
            advisories.append(
                f"service {w.namespace}/{w.name}: no node pool accepts its pods (nodeSelector "
                f"{dict(w.pod.node_selector)}, architectures "
                f"{sorted(w.pod.required_architectures or [])}): it is not priced"
            )

    overhead_typical = [r for r in overhead_rows if r["size"] == "typical"]
    typical_cost = totals["typical"]["hourly"]
    services_cost = sum(s["hourlyAtMin"] for s in services)
    overhead_cost = sum(
        r["daemonsAndReserve"] + r["systemPods"] + r["headroom"] for r in overhead_typical
    )
    return {
        "stack": stack,
        "environment": environment,
        "region": region,
        "prices": {
            "date": table.date,
            "source": table.source,
            "currency": "USD",
            "hoursPerMonth": hours,
        },
        "spotBand": list(spot_band),
        "pools": pool_out,
        "services": services,
        "overhead": overhead_rows,
        "allocationAtTypical": {
            "hourly": typical_cost,
            "services": services_cost,
            "platformOverhead": overhead_cost,
            "idle": typical_cost - services_cost - overhead_cost,
        },
        "totals": {
            label: {
                "nodes": t["nodes"],
                "spotShare": t["spot"] / t["nodes"] if t["nodes"] else 0.0,
                "hourly": t["hourly"],
                "monthly": t["hourly"] * hours,
                "baselineHourly": t["baseline"],
                "baselineMonthly": t["baseline"] * hours,
                "savings": 1 - t["hourly"] / t["baseline"] if t["baseline"] else 0.0,
            }
            for label, t in totals.items()
        },
        "sourceClaim": {
            "mix": [int(s * 100) for s in SOURCE_MIX],
            "claimedCut": [int(c * 100) for c in SOURCE_CLAIM],
        },
        "advisories": advisories,
    }

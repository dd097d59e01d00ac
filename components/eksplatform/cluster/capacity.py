"""Capacity timeline model: how fast capacity meets a push spike, reactive or pre-scaled.

A discrete-time simulation (one-second steps) of one service behind an HPA on a cluster with the
Cluster Autoscaler and the headroom Deployment, around a push sent at t = 0. It follows the loops
the platform runs, each on its own period:

* demand: ``baseline_rps`` until the push, then a linear ramp to ``spike`` x baseline over
  ``ramp_seconds``, held;
* metrics: metrics-server scrapes every ``metrics_resolution_seconds``; a scrape reports the
  average demand of the window it covers (CPU usage is a rate over that window);
* HPA: every ``hpa_sync_seconds`` it sets ``desired = ceil(demand seen / (pod_capacity_rps x
  target_utilization))``, limited by its scale-up policy (``scale_up_percent`` or
  ``scale_up_pods`` per ``hpa_sync_seconds``, the larger), raised at once to ``minReplicas``
  when below it (the controller's "below MinReplicas" rescale is not rate limited);
* scheduler: pending service pods take free slots, then preempt headroom pause pods; evicted and
  new pause pods take what is left;
* Cluster Autoscaler: every ``ca_scan_seconds`` it adds nodes for every pending pod (service and
  pause pods alike: pause pods sit at or above its expendable cutoff) that the nodes already
  booting cannot take;
* nodes are ready ``node_provision_seconds`` after the request; the first pod on a new node
  pulls the image (``image_pull_seconds``), and every pod is ready ``pod_ready_seconds`` after it
  starts (container start and readiness probe);
* capacity is ``ready pods x pod_capacity_rps``; every second, demand above it counts as
  requests over capacity.

Three scenarios: **reactive** (HPA + Cluster Autoscaler + the standing headroom); **pre-scaled**
(the pre-scaler raises minReplicas to ``ceil(replicas x prescale_factor x multiplier)`` at
``-lead_seconds + lambda_seconds``); **pre-scaled + headroom** (and it also raises the headroom by
``headroom_ratio`` x the added pods, so nodes for spare room boot before the push too).
:func:`recommend_lead` is the shortest lead (in ``lead_step_seconds`` steps) for which the
pre-scaled + headroom scenario has no request over capacity.

The design decision and its cost: the model is deliberately coarse (a pod is a slot, a node a
fixed number of slots; the HPA sees demand, as a requests-proportional metric or CPU without a
limit does; scheduling is instant), so it answers "how much lead time" to within a few seconds
of its inputs, not a latency distribution. Its defaults (:class:`CapacityParams`) cite their
sources; the ones no documentation fixes (node provisioning, image pull, per-pod capacity) are
marked as assumptions to replace with measurements.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

REACTIVE = "reactive"
PRESCALED = "prescaled"
PRESCALED_HEADROOM = "prescaled+headroom"
SCENARIOS = (REACTIVE, PRESCALED, PRESCALED_HEADROOM)


@dataclass(frozen=True, kw_only=True)
class CapacityParams:
    """Inputs of the model; every default names its source."""

    baseline_rps: float = 1000.0
    """Requests/s before the push. Assumption (the results scale with it)."""
    spike: float = 20.0
    """Peak demand as a multiple of the baseline. Source: the talk this platform follows ("a
    push brings 10-30x the normal request rate"; about 20x typical)."""
    ramp_seconds: int = 30
    """Seconds from the send to the peak. Source: the talk ("within seconds")."""
    duration_seconds: int = 600
    """Seconds simulated after the send. Default: 600."""
    pod_capacity_rps: float = 50.0
    """Requests/s one pod serves at 100% of its CPU request. Assumption: measure it with a load
    test of the service."""
    target_utilization: float = 0.70
    """HPA target. Source: ServiceStack's default ``cpu_target_percent`` (70)."""
    max_replicas: int = 1000
    """HPA maxReplicas. Assumption (high enough not to bind)."""
    metrics_resolution_seconds: int = 15
    """Source: metrics-server's ``--metric-resolution`` default, 15 s (metrics-server README)."""
    hpa_sync_seconds: int = 15
    """Source: kube-controller-manager ``--horizontal-pod-autoscaler-sync-period`` default, 15 s
    (Kubernetes docs, "Horizontal Pod Autoscaling")."""
    scale_up_percent: int = 100
    """Source: the HPA's default scale-up policy, 100% or 4 pods per 15 s, the larger, with no
    stabilisation (Kubernetes docs, "Default Behavior"); ServiceStack uses the same."""
    scale_up_pods: int = 4
    """See ``scale_up_percent``."""
    ca_scan_seconds: int = 10
    """Source: Cluster Autoscaler ``--scan-interval`` default, 10 s (Cluster Autoscaler FAQ, "How
    does scale-up work?"); also ``platform:autoscaler.scanInterval``."""
    node_provision_seconds: int = 105
    """EC2 launch to node Ready. Assumption: EKS AL2023 nodes take about 1.5-2 minutes (the
    Cluster Autoscaler FAQ, "How fast is HPA when combined with CA?", reports 3-4 minutes from
    request to schedulable on GCE); measure yours from the autoscaler's events."""
    image_pull_seconds: int = 20
    """Image pull on a new node (the first pod there). Assumption: a few hundred MB from ECR in
    the region; warm nodes have the image."""
    pod_ready_seconds: int = 10
    """Container start to Ready. Assumption: ServiceStack's readiness probe period (5 s) twice."""
    pods_per_node: int = 12
    """Service pods per node. Assumption: 8 vCPU nodes, 600m per pod (app + Envoy)."""
    spare_slots: int = 10
    """Free pod slots on the existing nodes at the send. Assumption."""
    headroom_slots: int = 10
    """Standing headroom, in service-pod slots. Source: the prod stack (6 pause pods of 1 CPU,
    about 10 pods of 600m)."""
    headroom_ratio: float = 1.0
    """Headroom the pre-scaler adds per added pod. Source: ``platform:preScaler.headroomRatio``
    default."""
    prescale_factor: int = 20
    """The service's ``PreScaling(factor=...)``. Source: the news-feed example (20)."""
    multiplier: float = 1.0
    """The event's push size relative to a full push. Default: 1 (a full push)."""
    lambda_seconds: int = 5
    """Event published to floors raised (SNS delivery, Lambda in the VPC). Assumption."""
    lead_seconds: int = 300
    """Seconds between the event and the send. Default: 300 (``recommend_lead`` finds the
    least that suffices)."""
    lead_step_seconds: int = 5
    """Resolution of the lead time search. Default: 5."""

    def problems(self) -> list[str]:
        """Every impossible value, as ``name: got v: rule`` lines."""
        wrong: list[str] = []
        positive = ("baseline_rps", "spike", "pod_capacity_rps", "multiplier")
        for name in positive:
            if not getattr(self, name) > 0:
                wrong.append(f"{name}: got {getattr(self, name)}: must be more than 0")
        if not 0 < self.target_utilization <= 1:
            wrong.append(
                f"target_utilization: got {self.target_utilization}: must be above 0, at most 1"
            )
        at_least_one = (
            "metrics_resolution_seconds",
            "hpa_sync_seconds",
            "ca_scan_seconds",
            "pods_per_node",
            "max_replicas",
            "lead_step_seconds",
            "duration_seconds",
            "scale_up_percent",
            "scale_up_pods",
            "prescale_factor",
        )
        for name in at_least_one:
            if getattr(self, name) < 1:
                wrong.append(f"{name}: got {getattr(self, name)}: must be 1 or more")
        at_least_zero = (
            "ramp_seconds",
            "node_provision_seconds",
            "image_pull_seconds",
            "pod_ready_seconds",
            "spare_slots",
            "headroom_slots",
            "headroom_ratio",
            "lambda_seconds",
            "lead_seconds",
        )
        for name in at_least_zero:
            if getattr(self, name) < 0:
                wrong.append(f"{name}: got {getattr(self, name)}: must be 0 or more")
        return wrong


@dataclass
class Outcome:
    """One scenario's result."""

    scenario: str
    ready_at: int | None
    """Seconds after the send from which capacity meets demand for the rest of the run (0 when
    it never falls short after the send; None when it never catches up)."""
    requests_over_capacity: int
    """Requests above the ready capacity, summed over every second."""
    peak_pods: int
    nodes_added: int
    times: list[int] = field(default_factory=list)
    demand: list[float] = field(default_factory=list)
    capacity: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "capacityMeetsDemandAtSeconds": self.ready_at,
            "requestsOverCapacity": self.requests_over_capacity,
            "peakPods": self.peak_pods,
            "nodesAdded": self.nodes_added,
        }


@dataclass
class _Node:
    ready_at: int
    slots: int
    used: int = 0
    image_at: int | None = None
    """When the image is on the node (None: not pulled yet)."""


def _demand(p: CapacityParams, t: int) -> float:
    peak = p.baseline_rps * p.spike
    if t < 0:
        return p.baseline_rps
    if t >= p.ramp_seconds:
        return peak
    return p.baseline_rps + (peak - p.baseline_rps) * t / max(1, p.ramp_seconds)


def _due(t: int, period: int) -> bool:
    """A periodic loop fires at the middle of each of its periods (the average phase)."""
    return (t - period // 2) % period == 0


def initial_pods(p: CapacityParams) -> int:
    return math.ceil(p.baseline_rps / (p.pod_capacity_rps * p.target_utilization))


def prescale_floor(p: CapacityParams, replicas: int) -> int:
    return min(p.max_replicas, math.ceil(replicas * p.prescale_factor * p.multiplier))


class _Cluster:
    """Nodes and what runs on them: ready nodes take pods, booting ones will."""

    def __init__(self, p: CapacityParams, start: int, replicas: int) -> None:
        self.p = p
        warm = math.ceil((replicas + p.headroom_slots + p.spare_slots) / p.pods_per_node)
        self.live = [
            _Node(ready_at=start - 1, slots=p.pods_per_node, image_at=start - 1)
            for _ in range(warm)
        ]
        self.booting: list[_Node] = []
        self.added = 0
        for _ in range(replicas + p.headroom_slots):
            node = self.free_node()
            assert node is not None
            node.used += 1

    def advance(self, t: int) -> None:
        """Nodes ready by ``t`` join the cluster."""
        if self.booting and self.booting[0].ready_at <= t:
            self.live += [n for n in self.booting if n.ready_at <= t]
            self.booting = [n for n in self.booting if n.ready_at > t]

    def free_node(self) -> _Node | None:
        return next((n for n in self.live if n.used < n.slots), None)

    def occupied_node(self) -> _Node:
        return next(n for n in self.live if n.used > 0)

    def booting_free(self) -> int:
        return sum(n.slots - n.used for n in self.booting)

    def add_nodes(self, count: int, t: int) -> None:
        ready_at = t + self.p.node_provision_seconds
        self.booting += [_Node(ready_at=ready_at, slots=self.p.pods_per_node) for _ in range(count)]
        self.added += count


def simulate(p: CapacityParams, scenario: str) -> Outcome:
    """Run one scenario (see the module docstring)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    replicas = initial_pods(p)
    min_replicas = replicas
    start = -(p.lead_seconds + 60)
    cluster = _Cluster(p, start, replicas)
    ready = replicas
    becoming_ready: dict[int, int] = {}  # time -> service pods that turn ready then
    pending_pods = 0
    headroom_target = p.headroom_slots
    pause_running = p.headroom_slots
    pause_pending = 0
    metric = p.baseline_rps
    window: list[float] = []
    raise_at = -p.lead_seconds + p.lambda_seconds
    out = Outcome(scenario, None, 0, replicas, 0)
    over = 0.0
    short_after = None

    for t in range(start, p.duration_seconds + 1):
        demand = _demand(p, t)
        window.append(demand)
        if _due(t, p.metrics_resolution_seconds):
            metric = sum(window) / len(window)
            window = []
        if scenario != REACTIVE and t == raise_at:
            floor = prescale_floor(p, replicas)
            added = max(0, floor - replicas)
            min_replicas = max(min_replicas, floor)
            if scenario == PRESCALED_HEADROOM:
                headroom_target = p.headroom_slots + math.ceil(p.headroom_ratio * added)
                pause_pending += max(0, headroom_target - pause_running - pause_pending)
        if _due(t, p.hpa_sync_seconds):
            desired = math.ceil(metric / (p.pod_capacity_rps * p.target_utilization) - 1e-9)
            if replicas < min_replicas:
                new = min_replicas  # "below MinReplicas": rescaled at once
            else:
                limit = max(
                    math.floor(replicas * (1 + p.scale_up_percent / 100)),
                    replicas + p.scale_up_pods,
                )
                new = min(max(desired, min_replicas), limit)
            new = min(new, p.max_replicas)
            if new > replicas:
                pending_pods += new - replicas
                replicas = new
        cluster.advance(t)
        # scheduler: service pods first (free slots, then by preempting pause pods)
        while pending_pods:
            node = cluster.free_node()
            if node is None:
                if pause_running == 0:
                    break
                pause_running -= 1  # preempted: its slot goes to the service pod
                pause_pending += 1
                node = cluster.occupied_node()
                node.used -= 1
            node.used += 1
            pending_pods -= 1
            if node.image_at is None:
                node.image_at = t + p.image_pull_seconds
            when = max(t, node.image_at) + p.pod_ready_seconds
            becoming_ready[when] = becoming_ready.get(when, 0) + 1
        while pause_pending and pause_running < headroom_target:
            node = cluster.free_node()
            if node is None:
                break
            node.used += 1
            pause_pending -= 1
            pause_running += 1
        pause_pending = min(pause_pending, max(0, headroom_target - pause_running))
        if _due(t, p.ca_scan_seconds):
            short = pending_pods + pause_pending - cluster.booting_free()
            if short > 0:
                cluster.add_nodes(math.ceil(short / p.pods_per_node), t)
        ready += becoming_ready.pop(t, 0)
        capacity = ready * p.pod_capacity_rps
        if t >= start + 1:
            out.times.append(t)
            out.demand.append(demand)
            out.capacity.append(capacity)
        if demand > capacity:
            over += demand - capacity
            if t >= 0:
                short_after = t
        out.peak_pods = max(out.peak_pods, replicas)
    out.requests_over_capacity = math.ceil(over - 1e-6)
    if short_after is None:
        out.ready_at = 0
    elif short_after < p.duration_seconds:
        out.ready_at = short_after + 1
    out.nodes_added = cluster.added
    return out


def run_all(p: CapacityParams) -> dict[str, Outcome]:
    return {s: simulate(p, s) for s in SCENARIOS}


def recommend_lead(p: CapacityParams, max_lead: int = 1200) -> int | None:
    """Shortest lead (a multiple of ``lead_step_seconds``) for which the pre-scaled + headroom
    scenario has no request over capacity, at that lead and at each longer one for a minute more;
    None when even ``max_lead`` does not suffice (the floor or the headroom cannot carry the
    spike: raise the factor, the multiplier or the headroom ratio). A binary search: more lead
    never loses requests in this model (the minute after the answer is checked all the same)."""
    step = p.lead_step_seconds

    def clean(lead: int) -> bool:
        at = replace(p, lead_seconds=lead)
        return simulate(at, PRESCALED_HEADROOM).requests_over_capacity == 0

    top = max_lead // step
    if not clean(top * step):
        return None
    low, high = 0, top  # clean(high * step) holds
    while low < high:
        mid = (low + high) // 2
        if clean(mid * step):
            high = mid
        else:
            low = mid + 1
    lead = high * step
    if not all(clean(lead + k * step) for k in range(1, 60 // step + 1)):
        return None  # not monotone here: no lead is safe to recommend
    return lead


def report(p: CapacityParams) -> dict[str, Any]:
    """Everything the command prints: inputs, the recommendation and each scenario at it."""
    lead = recommend_lead(p)
    at = replace(p, lead_seconds=lead if lead is not None else p.lead_seconds)
    outcomes = run_all(at)
    return {
        "params": asdict(at),
        "recommendedLeadSeconds": lead,
        "initialPods": initial_pods(p),
        "prescaleFloor": prescale_floor(p, initial_pods(p)),
        "scenarios": [o.summary() for o in outcomes.values()],
    }


def param_names() -> Iterable[str]:
    return (f.name for f in fields(CapacityParams))

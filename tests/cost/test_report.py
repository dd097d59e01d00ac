"""The cost arithmetic on a small fixture computed by hand: two pools (a mixed general pool with
an on-demand base per zone group, a tainted all-spot batch pool), two services (one with an Envoy
sidecar), platform pods, a DaemonSet and headroom. Every expected figure below is worked out in
the comments, not by the code under test."""

from __future__ import annotations

from typing import Any

import pytest
from eksplatform.cost.prices import PriceTable
from eksplatform.cost.report import PoolSpec, build_report, counterpart
from eksplatform.cost.workloads import (
    ClusterWorkloads,
    DaemonPod,
    PodSpec,
    Toleration,
    Workload,
    pod_spec,
)

GI = 2**30
MI = 2**20
R = "eu-west-1"
TABLE = PriceTable(
    date="2026-12-01",
    source="fixture",
    on_demand={(R, "m6i.xlarge"): 0.20, (R, "m6a.xlarge"): 0.18, (R, "c6i.xlarge"): 0.17},
    # spot: m6i 0.20 * 0.4 = 0.08, m6a 0.18 * 0.5 = 0.09, c6i 0.17 * 0.4 = 0.068
    spot_discount={(R, "m6i"): 0.6, (R, "m6a"): 0.5, (R, "c6i.xlarge"): 0.6},
)
GENERAL = PoolSpec(
    name="general",
    instance_types=("m6i.xlarge", "m6a.xlarge"),
    vcpu=4,
    memory_gib=16,
    zones=3,
    on_demand_base=1,
    on_demand_percent=25,
    min_size=2,
    max_size=6,
)
BATCH = PoolSpec(
    name="batch",
    instance_types=("c6i.xlarge",),
    vcpu=4,
    memory_gib=8,
    zones=3,
    on_demand_base=0,
    on_demand_percent=0,
    min_size=0,
    max_size=4,
    labels={"eksplatform.io/workload": "batch"},
    taints=(("eksplatform.io/workload", "batch", "NoSchedule"),),
)
# web: app 900m/1920Mi + Envoy 100m/128Mi = 1000m/2Gi per pod -> share max(1/4, 2/16) = 0.25
WEB = Workload(
    "web",
    "news",
    PodSpec(1000, 2 * GI, sidecar_cpu_millis=100, sidecar_memory_bytes=128 * MI),
    20,
    40,
)
# crunch: 2000m/2Gi on the batch pool -> share max(2/4, 2/8) = 0.5
CRUNCH = Workload(
    "crunch",
    "media",
    PodSpec(
        2000,
        2 * GI,
        node_selector={"eksplatform.io/workload": "batch"},
        tolerations=(Toleration("eksplatform.io/workload", "Equal", "batch", "NoSchedule"),),
    ),
    2,
    8,
)
# platform: a controller 500m/1Gi x2 (share 0.125) and headroom 1000m/2Gi x3 (share 0.25),
# both on general (they do not tolerate the batch taint); a DaemonSet 100m/256Mi everywhere
CTRL = Workload("ctrl", "kube-system", PodSpec(500, GI), 2, 2)
HEADROOM = Workload("headroom", "overprovisioning", PodSpec(1000, 2 * GI), 3, 3)
LOGS = DaemonPod(
    "logs", "logging", PodSpec(100, 256 * MI, tolerations=(Toleration(None, "Exists", None, None),))
)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build_report(
        stack="fixture",
        environment="prod",
        region=R,
        pools=(GENERAL, BATCH),
        workloads=ClusterWorkloads(
            services=[WEB, CRUNCH], platform=[CTRL, HEADROOM], daemons=[LOGS]
        ),
        table=TABLE,
        spot_band=(50, 90),
    )


def _sizes(report: dict[str, Any], pool: str) -> dict[str, dict[str, Any]]:
    (p,) = [p for p in report["pools"] if p["name"] == pool]
    return {s["size"]: s for s in p["sizes"]}


def test_prices_per_pool(report: dict[str, Any]) -> None:
    general, batch = report["pools"]
    assert general["onDemandPrice"] == 0.20  # the first type (on-demand is "prioritized")
    assert general["spotPrice"] == pytest.approx((0.08 + 0.09) / 2)  # mean over the types
    assert batch["spotPrice"] == pytest.approx(0.068)


def test_general_pool_base_per_zone_group(report: dict[str, Any]) -> None:
    s = _sizes(report, "general")
    # min 2 per zone: 1 base + ceil(25% of 1) = 2 on-demand, 0 spot; x3 zones
    assert (s["min"]["onDemand"], s["min"]["spot"], s["min"]["nodes"]) == (6, 0, 6)
    assert s["min"]["hourly"] == pytest.approx(6 * 0.20) and s["min"]["savings"] == 0
    # typical: (web 20 x 0.25 + ctrl 2 x 0.125 + headroom 3 x 0.25 = 6.0 nodes) over nodes that
    # keep 0.025 (DaemonSet) + 355Mi/16Gi (kubelet reserve) = 0.0466667 each:
    # 6.0 / 0.9533333 / 3 zones = 2.098 -> 3 per zone: 1 base + ceil(25% of 2) = 2 OD, 1 spot
    assert report["pools"][0]["typicalDerived"] == 3
    assert (s["typical"]["onDemand"], s["typical"]["spot"]) == (6, 3)
    assert s["typical"]["hourly"] == pytest.approx(6 * 0.20 + 3 * 0.085)  # 1.455
    assert s["typical"]["baselineHourly"] == pytest.approx(9 * 0.20)
    assert s["typical"]["savings"] == pytest.approx(1 - 1.455 / 1.8)
    # max 6 per zone: 1 + ceil(25% of 5 = 1.25) = 3 OD, 3 spot; x3
    assert (s["max"]["onDemand"], s["max"]["spot"]) == (9, 9)
    assert s["max"]["hourly"] == pytest.approx(9 * 0.20 + 9 * 0.085)  # 2.565
    assert s["max"]["savings"] == pytest.approx(1 - 2.565 / 3.6)
    assert s["max"]["monthly"] == pytest.approx(2.565 * 730)


def test_batch_pool_all_spot(report: dict[str, Any]) -> None:
    s = _sizes(report, "batch")
    assert s["min"]["nodes"] == 0 and s["min"]["hourly"] == 0
    # crunch 2 x 0.5 = 1 node over 1 - (0.03125 + 355Mi/8Gi) = 0.925415 -> 1.08 / 3 -> 1 per zone
    assert (s["typical"]["perZone"], s["typical"]["spot"]) == (1, 3)
    assert s["max"]["hourly"] == pytest.approx(12 * 0.068)
    assert s["max"]["savings"] == pytest.approx(0.6)


def test_services_are_charged_their_node_share(report: dict[str, Any]) -> None:
    web, crunch = report["services"]
    assert (web["service"], web["pool"], web["nodeShare"]) == ("web", "general", 0.25)
    assert (web["sidecarCpuPerPod"], web["sidecarMemoryPerPod"]) == (100, 128 * MI)
    # at min: 20 pods x 0.25 x (1.455 / 9 nodes) ; at max: 40 x 0.25 x (2.565 / 18)
    assert web["hourlyAtMin"] == pytest.approx(5 * 1.455 / 9)
    assert web["hourlyAtMax"] == pytest.approx(10 * 2.565 / 18)
    assert (crunch["pool"], crunch["nodeShare"]) == ("batch", 0.5)
    assert crunch["hourlyAtMin"] == pytest.approx(1 * 0.068)
    assert crunch["hourlyAtMax"] == pytest.approx(4 * 0.068)


def test_platform_overhead_and_idle(report: dict[str, Any]) -> None:
    (general,) = [
        o for o in report["overhead"] if o["pool"] == "general" and o["size"] == "typical"
    ]
    per_node = 1.455 / 9
    fixed = 0.025 + 355 / 16384
    assert general["daemonsAndReserve"] == pytest.approx(fixed * 9 * per_node)
    assert general["systemPods"] == pytest.approx(0.25 * per_node)
    assert general["headroom"] == pytest.approx(0.75 * per_node)
    a = report["allocationAtTypical"]
    assert a["hourly"] == pytest.approx(1.455 + 0.204)
    assert a["services"] == pytest.approx(5 * per_node + 0.068)
    assert a["idle"] == pytest.approx(a["hourly"] - a["services"] - a["platformOverhead"])
    assert a["idle"] > 0


def test_totals_per_stack(report: dict[str, Any]) -> None:
    t = report["totals"]
    assert t["min"]["hourly"] == pytest.approx(1.2) and t["min"]["spotShare"] == 0
    assert t["max"]["nodes"] == 30 and t["max"]["spotShare"] == pytest.approx(21 / 30)
    assert t["max"]["savings"] == pytest.approx(1 - (2.565 + 0.816) / (3.6 + 2.04))
    assert t["typical"]["baselineMonthly"] == pytest.approx((1.8 + 0.51) * 730)


def test_source_mix_per_pool(report: dict[str, Any]) -> None:
    general = report["pools"][0]
    discount = 1 - 0.085 / 0.20
    assert general["sourceMix"] == pytest.approx(
        {"60%": 0.60 * discount, "65%": 0.65 * discount, "70%": 0.70 * discount}
    )


def test_spot_share_advisory_names_the_numbers(report: dict[str, Any]) -> None:
    assert report["advisories"] == [
        "pool 'general' [aws-spot-share]: effective spot share at the minimum size is 0% per "
        "zone group (0 of 2 nodes: 1 on-demand base, 25% on-demand above it), below 50-90% for "
        "'prod': lower the on-demand base or raise the minimum size (0 of 6 nodes over 3 zones)"
    ]


def test_typical_override_and_unplaceable_service() -> None:
    odd = Workload("odd", "news", PodSpec(100, MI, node_selector={"disk": "nvme"}), 1, 1)
    r = build_report(
        stack="s",
        environment="staging",
        region=R,
        pools=(GENERAL,),
        workloads=ClusterWorkloads(services=[odd], platform=[], daemons=[]),
        table=TABLE,
        spot_band=(0, 100),
        typical={"general": 9},  # clamped to max 6
    )
    assert _sizes(r, "general")["typical"]["perZone"] == 6
    assert r["services"][0]["pool"] is None and r["services"][0]["hourlyAtMin"] == 0
    assert r["advisories"] == [
        "service news/odd: no node pool accepts its pods (nodeSelector {'disk': 'nvme'}, "
        "architectures []): it is not priced"
    ]


def test_architecture_placement() -> None:
    arm = PoolSpec(
        name="arm",
        instance_types=("m6g.xlarge",),
        vcpu=4,
        memory_gib=16,
        zones=3,
        on_demand_base=0,
        on_demand_percent=0,
        min_size=0,
        max_size=3,
        architecture="arm64",
    )
    amd_only = PodSpec(100, MI, required_architectures=frozenset({"amd64"}))
    both = PodSpec(100, MI, required_architectures=frozenset({"amd64", "arm64"}))
    assert not arm.accepts(amd_only) and arm.accepts(both) and GENERAL.accepts(amd_only)
    assert arm.accepts(PodSpec(100, MI, node_selector={"kubernetes.io/arch": "arm64"}))


def test_counterparts() -> None:
    assert counterpart("m6i.2xlarge") == "m6g.2xlarge"
    assert counterpart("m5a.xlarge") == "m6g.xlarge"
    assert counterpart("m7i.2xlarge") == "m7g.2xlarge"
    assert counterpart("r5.2xlarge") == "r6g.2xlarge"
    assert counterpart("t3a.large") == "t4g.large"
    assert counterpart("m7g.xlarge") == "m7i.xlarge"
    assert counterpart("t4g.medium") == "t3.medium"
    assert counterpart("x2idn.large") is None


def test_pod_request_counts_native_sidecars_and_init_containers() -> None:
    spec = {
        "containers": [
            {"name": "app", "resources": {"requests": {"cpu": "400m", "memory": "384Mi"}}}
        ],
        "initContainers": [
            {
                "name": "envoy",
                "restartPolicy": "Always",
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            },
            {"name": "migrate", "resources": {"requests": {"cpu": "1", "memory": "64Mi"}}},
        ],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}
                            ]
                        }
                    ]
                }
            }
        },
    }
    pod = pod_spec(spec, "test")
    # CPU: the init container (1000m) with the sidecar started before it (100m) beats 500m
    assert pod.cpu_millis == 1100 and pod.memory_bytes == (384 + 128) * MI
    assert (pod.sidecar_cpu_millis, pod.sidecar_memory_bytes) == (100, 128 * MI)
    assert pod.required_architectures == frozenset({"arm64"})

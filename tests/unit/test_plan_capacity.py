"""The room rules (:mod:`eksplatform.cluster.plan_capacity`) at their edges: which pools admit
which pods, what disabled components no longer ask for, and the exact room of a node type.

Room of the node types used here (upper bounds, see ``node_pools.allocatable``):
m6i.xlarge 3795m / 16029Mi, less fluentd's default 100m / 400Mi: 3695m / 15629Mi;
t3.medium 1805m / 3741Mi before fluentd.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eksplatform.cluster.config import ClusterConfig, parse_cluster_config
from eksplatform.core.errors import ValidationError

BASE = {"aws:region": "eu-west-1", "aws:allowedAccountIds": '["111111111111"]'}
SMALL = {"name": "small", "instanceTypes": ["t3.medium", "t3a.medium"]}
CRITICAL_BIG = {
    "name": "system",
    "instanceTypes": ["m6i.2xlarge"],
    "taints": [{"key": "CriticalAddonsOnly"}],
}


def parse(sections: dict[str, Any]) -> ClusterConfig:
    """One zone (the region offers one), so a pool's maxSize is its whole size."""
    sections = {"network": {"azCount": 1}, **sections}
    raw = dict(BASE, **{f"platform:{k}": json.dumps(v) for k, v in sections.items()})
    return parse_cluster_config(
        raw, stack="dev", source="x", available_zones=lambda region: [f"{region}a"]
    )


def problems(sections: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(sections)
    return [f"{p.field}: {p.value}" for p in info.value.problems]


def test_the_autoscaler_and_the_handler_may_run_on_a_critical_addons_pool() -> None:
    big = {"memory": "8Gi"}
    parse({"nodePools": [SMALL, CRITICAL_BIG], "autoscaler": big, "interruptionHandler": big})
    assert problems({"nodePools": [SMALL, CRITICAL_BIG], "vpa": {"recommender": big}}) == [
        "platform:vpa.recommender.memory: 8Gi"
    ]


@pytest.mark.parametrize(
    "sections",
    [
        {"interruptionHandler": {"enabled": False, "memory": "64Gi"}},
        {"vpa": {"enabled": False, "recommender": {"memory": "64Gi"}}},
        {"vpa": {"updater": {"enabled": False, "memory": "64Gi"}}},
        {"headroom": {"enabled": False, "memory": "64Gi", "replicas": 1000}},
        {"headroom": {"replicas": 0, "memory": "64Gi"}},
        {"logging": {"enabled": False, "cloudwatch": {"logGroupName": "aws/x"}}},
        {"logging": {"enabled": False, "resources": {"memory": "64Gi"}}},
        {
            "logging": {
                "output": "papertrail",
                "papertrail": {"host": "logs.example.com", "port": 443},
                "cloudwatch": {"logGroupName": "aws/x"},
            },
            "papertrailToken": "pt",
        },
    ],
)
def test_what_does_not_run_is_not_measured(sections: dict[str, Any]) -> None:
    token = sections.pop("papertrailToken", None)
    raw = dict(BASE, **{f"platform:{k}": json.dumps(v) for k, v in sections.items()})
    if token:
        raw["platform:papertrailToken"] = token
    parse_cluster_config(raw, stack="dev", source="x", secret_keys={"platform:papertrailToken"})


EDGES = [
    ({"headroom": {"memory": "15629Mi"}}, {"headroom": {"memory": "15630Mi"}}, "headroom.memory"),
    (
        {
            "nodePools": [{"name": "general"}, SMALL],
            "logging": {"resources": {"cpu": "1805m", "cpuLimit": "2"}},
        },
        {
            "nodePools": [{"name": "general"}, SMALL],
            "logging": {"resources": {"cpu": "1806m", "cpuLimit": "2"}},
        },
        "logging.resources.cpu",
    ),
    (
        {"nodePools": [{"name": "general"}, SMALL], "logging": {"resources": {"memory": "3741Mi"}}},
        {"nodePools": [{"name": "general"}, SMALL], "logging": {"resources": {"memory": "3742Mi"}}},
        "logging.resources.memory",
    ),
    (
        {
            "nodePools": [{"name": "general", "maxSize": 2}],
            "headroom": {"replicas": 2, "cpu": "100m", "memory": "8Gi"},
        },
        {
            "nodePools": [{"name": "general", "maxSize": 2}],
            "headroom": {"replicas": 3, "cpu": "100m", "memory": "8Gi"},
        },
        "headroom.replicas",
    ),
    (
        {
            "nodePools": [{"name": "general", "maxSize": 1}],
            "headroom": {"replicas": 1, "memory": "8Gi"},
        },
        {
            "nodePools": [{"name": "general", "maxSize": 1}],
            "headroom": {"replicas": 2, "memory": "8Gi"},
        },
        "headroom.replicas",
    ),
    (
        {
            "nodePools": [{"name": "general", "maxSize": 1}, {**CRITICAL_BIG, "maxSize": 10}],
            "headroom": {"replicas": 1, "memory": "8Gi"},
        },
        {
            "nodePools": [{"name": "general", "maxSize": 1}, {**CRITICAL_BIG, "maxSize": 10}],
            "headroom": {"replicas": 2, "memory": "8Gi"},
        },
        "headroom.replicas",
    ),
    (
        {"teams": [{"name": "news", "limitRange": {"defaultRequestCpu": "3695m"}}]},
        {"teams": [{"name": "news", "limitRange": {"defaultRequestCpu": "3696m"}}]},
        "teams[0].limitRange.defaultRequestCpu",
    ),
]


@pytest.mark.parametrize(("inside", "outside", "key"), EDGES, ids=[e[2] for e in EDGES])
def test_room_at_its_edge(inside: dict[str, Any], outside: dict[str, Any], key: str) -> None:
    parse(inside)
    assert [p.split(":", 2)[1] for p in problems(outside)] == [key]


def test_a_pod_too_large_for_every_node_is_reported_once() -> None:
    # The pause pod fits nowhere: the size rule says so; the headroom count does not repeat it.
    assert problems({"headroom": {"memory": "64Gi", "replicas": 5}}) == [
        "platform:headroom.memory: 64Gi"
    ]


def test_the_buffer_message_never_shows_negative_room() -> None:
    with pytest.raises(ValidationError) as info:
        parse({"nodePools": [{"name": "general", "rootVolumeSizeGib": 20}]})
    (problem,) = info.value.problems
    assert "of which at most 0.0Gi are free" in problem.message


def test_the_room_of_a_large_node_in_the_message() -> None:
    big = {"name": "big", "instanceTypes": ["m6i.8xlarge"]}
    with pytest.raises(ValidationError) as info:
        parse({"nodePools": [big], "headroom": {"cpu": "40", "memory": "200Gi"}})
    assert [p.message for p in info.value.problems] == [
        "a headroom pause pod would never schedule: a node of a pool that admits it offers at "
        "most 31.62 CPU (m6i.8xlarge of pool 'big', after the kubelet's reservation and the "
        "DaemonSets); lower it or add a pool of larger nodes",
        "a headroom pause pod would never schedule: a node of a pool that admits it offers at "
        "most 127.3Gi (m6i.8xlarge of pool 'big', after the kubelet's reservation and the "
        "DaemonSets); lower it or add a pool of larger nodes",
    ]

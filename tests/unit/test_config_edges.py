"""Each limit of the cluster config at its edge on both sides, and each optional key once with a
valid value (issue 10: survivors of mutation testing sat in limits never tested at their edge
and in valid optional inputs never tried)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eksplatform.cluster.config import ClusterConfig, parse_cluster_config
from eksplatform.core.errors import ValidationError

ACCOUNT = "111111111111"
BASE = {"aws:region": "eu-west-1", "aws:allowedAccountIds": json.dumps([ACCOUNT])}
TOKEN = {"platform:papertrailToken": "pt-token"}
ZONES = [f"eu-west-1{c}" for c in "abcd"]
TAGS_30 = {f"k{i}": "v" for i in range(30)}
LABELS_7 = {f"l{i}": "v" for i in range(7)}
"""30 tags and 7 labels fill a pool's Auto Scaling groups to the 50 tags AWS allows."""


def parse(sections: dict[str, Any], *, stack: str = "staging", **raw: str) -> ClusterConfig:
    config = dict(BASE, **raw)
    config.update({f"platform:{k}": json.dumps(v) for k, v in sections.items()})
    return parse_cluster_config(
        config,
        stack=stack,
        source=f"Pulumi.{stack}.yaml",
        secret_keys={"platform:papertrailToken"},
        available_zones=lambda region: ZONES,
    )


def problems(sections: dict[str, Any], **raw: str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(sections, **raw)
    return [p.field for p in info.value.problems]


# (sections at the edge that passes, the same one step past it, the key the problem names)
EDGES: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    ({"network": {"cidr": "10.0.0.0/16"}}, {"network": {"cidr": "10.0.0.0/15"}}, "network.cidr"),
    ({"network": {"cidr": "10.0.0.0/20"}}, {"network": {"cidr": "10.0.0.0/21"}}, "network.cidr"),
    ({"network": {"azCount": 1}}, {"network": {"azCount": 0}}, "network.azCount"),
    ({"network": {"azCount": 4}}, {"network": {"azCount": 5}}, "network.azCount"),
    (
        {"controlPlane": {"endpointPublicAccess": True, "publicAccessCidrs": ["11.0.0.0/9"]}},
        {"controlPlane": {"endpointPublicAccess": True, "publicAccessCidrs": ["11.0.0.0/8"]}},
        "controlPlane.publicAccessCidrs",
    ),
    (
        {
            "controlPlane": {
                "endpointPublicAccess": True,
                "publicAccessCidrs": [f"198.51.100.{i}/32" for i in range(40)],
            }
        },
        {
            "controlPlane": {
                "endpointPublicAccess": True,
                "publicAccessCidrs": [f"198.51.100.{i}/32" for i in range(41)],
            }
        },
        "controlPlane.publicAccessCidrs",
    ),
    (
        {"controlPlane": {"endpointPublicAccess": True, "publicAccessCidrs": ["172.32.0.0/16"]}},
        {"controlPlane": {"endpointPublicAccess": True, "publicAccessCidrs": ["172.31.0.0/16"]}},
        "controlPlane.publicAccessCidrs",
    ),
    (
        {"tags": {f"k{i}": "v" for i in range(37)}},
        {"tags": {f"k{i}": "v" for i in range(38)}},
        "tags",
    ),
    (
        {"tags": TAGS_30, "nodePools": [{"name": "general", "labels": LABELS_7}]},
        {"tags": TAGS_30, "nodePools": [{"name": "general", "labels": {**LABELS_7, "l7": "v"}}]},
        "nodePools[0]",
    ),
    ({"tags": {"k" * 128: "v"}}, {"tags": {"k" * 129: "v"}}, "tags"),
    ({"tags": {"k": "v" * 256}}, {"tags": {"k": "v" * 257}}, "tags"),
    ({"tags": {"teams": "x"}}, {"tags": {"Team": "x"}}, "tags"),
    ({"nodePools": [{"name": "a" * 24}]}, {"nodePools": [{"name": "a" * 25}]}, "nodePools[0].name"),
    (
        {"nodePools": [{"name": "general", "maxSize": 1, "onDemandBaseCapacity": 1}]},
        {"nodePools": [{"name": "general", "maxSize": 1, "onDemandBaseCapacity": 2}]},
        "nodePools[0].onDemandBaseCapacity",
    ),
    (
        {"nodePools": [{"name": "general", "maxSize": 1000}]},
        {"nodePools": [{"name": "general", "maxSize": 1001}]},
        "nodePools[0].maxSize",
    ),
    (
        {
            "nodePools": [{"name": "general", "rootVolumeSizeGib": 20}],
            "logging": {"enabled": False},
        },
        {
            "nodePools": [{"name": "general", "rootVolumeSizeGib": 19}],
            "logging": {"enabled": False},
        },
        "nodePools[0].rootVolumeSizeGib",
    ),
    (
        {"nodePools": [{"name": "general", "rootVolumeSizeGib": 24}]},
        {"nodePools": [{"name": "general", "rootVolumeSizeGib": 23}]},
        "logging.buffer.totalLimitSize",
    ),
    (
        {"nodePools": [{"name": "general", "rootVolumeSizeGib": 16384}]},
        {"nodePools": [{"name": "general", "rootVolumeSizeGib": 16385}]},
        "nodePools[0].rootVolumeSizeGib",
    ),
    (
        {"nodePools": [{"name": "general", "onDemandPercentageAboveBase": 100}]},
        {"nodePools": [{"name": "general", "onDemandPercentageAboveBase": 101}]},
        "nodePools[0].onDemandPercentageAboveBase",
    ),
    (
        {"nodePools": [{"name": "general", "minSize": 3, "desiredSize": 3, "maxSize": 3}]},
        {"nodePools": [{"name": "general", "minSize": 3, "desiredSize": 4, "maxSize": 3}]},
        "nodePools[0].desiredSize",
    ),
    (
        {"interruptionHandler": {"lifecycleHeartbeatTimeoutSeconds": 120}},
        {"interruptionHandler": {"lifecycleHeartbeatTimeoutSeconds": 119}},
        "interruptionHandler.lifecycleHeartbeatTimeoutSeconds",
    ),
    (
        {"interruptionHandler": {"podTerminationGracePeriodSeconds": 120}},
        {"interruptionHandler": {"podTerminationGracePeriodSeconds": 121}},
        "interruptionHandler.podTerminationGracePeriodSeconds",
    ),
    (
        {"interruptionHandler": {"podTerminationGracePeriodSeconds": -1}},
        {"interruptionHandler": {"podTerminationGracePeriodSeconds": -2}},
        "interruptionHandler.podTerminationGracePeriodSeconds",
    ),
    (
        {"interruptionHandler": {"replicas": 5}},
        {"interruptionHandler": {"replicas": 6}},
        "interruptionHandler.replicas",
    ),
    (
        {"interruptionHandler": {"queueMessageRetentionSeconds": 1_209_600}},
        {"interruptionHandler": {"queueMessageRetentionSeconds": 1_209_601}},
        "interruptionHandler.queueMessageRetentionSeconds",
    ),
    (
        {
            "interruptionHandler": {
                "lifecycleHeartbeatTimeoutSeconds": 7200,
                "nodeTerminationGracePeriodSeconds": 7200,
            }
        },
        {
            "interruptionHandler": {
                "lifecycleHeartbeatTimeoutSeconds": 7201,
                "nodeTerminationGracePeriodSeconds": 7200,
            }
        },
        "interruptionHandler.lifecycleHeartbeatTimeoutSeconds",
    ),
    (
        {"autoscaler": {"scaleDownUtilizationThreshold": 1}},
        {"autoscaler": {"scaleDownUtilizationThreshold": 1.01}},
        "autoscaler.scaleDownUtilizationThreshold",
    ),
    (
        {"autoscaler": {"scaleDownUtilizationThreshold": 0.01}},
        {"autoscaler": {"scaleDownUtilizationThreshold": 0}},
        "autoscaler.scaleDownUtilizationThreshold",
    ),
    (
        {"autoscaler": {"maxGracefulTerminationSeconds": 3600}},
        {"autoscaler": {"maxGracefulTerminationSeconds": 3601}},
        "autoscaler.maxGracefulTerminationSeconds",
    ),
    (
        {"autoscaler": {"maxNodeProvisionTime": "1m"}},
        {"autoscaler": {"maxNodeProvisionTime": "59s"}},
        "autoscaler.maxNodeProvisionTime",
    ),
    (
        {"autoscaler": {"scanInterval": "1s", "scaleDownUnneededTime": "1s"}},
        {"autoscaler": {"scanInterval": "2s", "scaleDownUnneededTime": "1s"}},
        "autoscaler.scaleDownUnneededTime",
    ),
    ({"autoscaler": {"replicas": 3}}, {"autoscaler": {"replicas": 4}}, "autoscaler.replicas"),
    ({"autoscaler": {"replicas": 1}}, {"autoscaler": {"replicas": 0}}, "autoscaler.replicas"),
    ({"autoscaler": {"cpu": "1m"}}, {"autoscaler": {"cpu": "0.9m"}}, "autoscaler.cpu"),
    ({"headroom": {"cpu": "3695m"}}, {"headroom": {"cpu": "3696m"}}, "headroom.cpu"),
    (
        {"headroom": {"cpu": "3795m"}, "logging": {"enabled": False}},
        {"headroom": {"cpu": "3796m"}, "logging": {"enabled": False}},
        "headroom.cpu",
    ),
    ({"autoscaler": {"memory": "1Mi"}}, {"autoscaler": {"memory": "1023Ki"}}, "autoscaler.memory"),
    (
        {
            "nodePools": [{"name": "big", "instanceTypes": ["m6i.8xlarge"]}],
            "headroom": {"cpu": "31"},
        },
        {
            "nodePools": [{"name": "big", "instanceTypes": ["m6i.8xlarge"]}],
            "headroom": {"cpu": "193"},
        },
        "headroom.cpu",
    ),
    (
        {
            "nodePools": [{"name": "general", "maxSize": 2}],
            "headroom": {"replicas": 18, "cpu": "1"},
        },
        {
            "nodePools": [{"name": "general", "maxSize": 2}],
            "headroom": {"replicas": 19, "cpu": "1"},
        },
        "headroom.replicas",
    ),
    (
        {"logging": {"buffer": {"totalLimitSize": "25GB", "chunkLimitSize": "8MB"}}},
        {"logging": {"buffer": {"totalLimitSize": "26GB", "chunkLimitSize": "8MB"}}},
        "logging.buffer.totalLimitSize",
    ),
    (
        {"logging": {"buffer": {"totalLimitSize": "16MB", "chunkLimitSize": "8MB"}}},
        {"logging": {"buffer": {"totalLimitSize": "15MB", "chunkLimitSize": "8MB"}}},
        "logging.buffer.chunkLimitSize",
    ),
    (
        {"logging": {"resources": {"cpu": "1", "cpuLimit": "1"}}},
        {"logging": {"resources": {"cpu": "1001m", "cpuLimit": "1"}}},
        "logging.resources.cpu",
    ),
    (
        {"logging": {"papertrail": {"port": 65535}}},
        {"logging": {"papertrail": {"port": 65536}}},
        "logging.papertrail.port",
    ),
    (
        {"descheduler": {"activeDeadlineSeconds": 86400}},
        {"descheduler": {"activeDeadlineSeconds": 86401}},
        "descheduler.activeDeadlineSeconds",
    ),
    (
        {"descheduler": {"maxPodsToEvictPerNode": 1}},
        {"descheduler": {"maxPodsToEvictPerNode": 0}},
        "descheduler.maxPodsToEvictPerNode",
    ),
    (
        {"descheduler": {"lowNodeUtilization": {"thresholds": {"cpu": 59}}}},
        {"descheduler": {"lowNodeUtilization": {"thresholds": {"cpu": 60}}}},
        "descheduler.lowNodeUtilization.thresholds",
    ),
    (
        {"descheduler": {"lowNodeUtilization": {"targetThresholds": {"pods": 100}}}},
        {"descheduler": {"lowNodeUtilization": {"targetThresholds": {"pods": 101}}}},
        "descheduler.lowNodeUtilization.targetThresholds.pods",
    ),
    (
        {"descheduler": {"schedule": "0 0 29 2 *"}},
        {"descheduler": {"schedule": "0 0 30 2 *"}},
        "descheduler.schedule",
    ),
    (
        {"descheduler": {"schedule": "0 0 31 1-2 *"}},
        {"descheduler": {"schedule": "0 0 31 2,4 *"}},
        "descheduler.schedule",
    ),
    (
        {"descheduler": {"schedule": "0 0 31 2 MON"}},
        {"descheduler": {"schedule": "0 0 31 2 */1"}},
        "descheduler.schedule",
    ),
    (
        {"servicePlatform": {"albLogRetentionDays": 3650}},
        {"servicePlatform": {"albLogRetentionDays": 3651}},
        "servicePlatform.albLogRetentionDays",
    ),
    (
        {"servicePlatform": {"albLogRetentionDays": 1}},
        {"servicePlatform": {"albLogRetentionDays": 0}},
        "servicePlatform.albLogRetentionDays",
    ),
    (
        {"vpa": {"updater": {"minReplicas": 1}}},
        {"vpa": {"updater": {"minReplicas": 0}}},
        "vpa.updater.minReplicas",
    ),
    (
        {"vpa": {"recommender": {"replicas": 5}}},
        {"vpa": {"recommender": {"replicas": 6}}},
        "vpa.recommender.replicas",
    ),
    (
        {"teams": [{"name": "t" * 40}]},
        {"teams": [{"name": "t" * 41}]},
        "teams[0].name",
    ),
    (
        {"teams": [{"name": "news", "quota": {"requestsCpu": "100m"}}]},
        {"teams": [{"name": "news", "quota": {"requestsCpu": "99m"}}]},
        "teams[0].quota.requestsCpu",
    ),
    (
        {"teams": [{"name": "news", "quota": {"pods": 1}}]},
        {"teams": [{"name": "news", "quota": {"pods": 0}}]},
        "teams[0].quota.pods",
    ),
    (
        {
            "teams": [
                {
                    "name": "news",
                    "limitRange": {
                        "defaultRequestMemory": "15629Mi",
                        "defaultLimitMemory": "16Gi",
                        "maxMemory": "32Gi",
                    },
                }
            ]
        },
        {
            "teams": [
                {
                    "name": "news",
                    "limitRange": {
                        "defaultRequestMemory": "15630Mi",
                        "defaultLimitMemory": "16Gi",
                        "maxMemory": "32Gi",
                    },
                }
            ]
        },
        "teams[0].limitRange.defaultRequestMemory",
    ),
    (
        {"clusterName": "c" * 93},
        {"clusterName": "c" * 94},
        "nodePools[0].name",
    ),
    ({"environment": "e" * 32}, {"environment": "e" * 33}, "environment"),
]


def _key(path: str) -> str:
    return f"platform:{path}"


@pytest.mark.parametrize(("inside", "outside", "key"), EDGES, ids=[e[2] for e in EDGES])
def test_each_limit_at_its_edge_on_both_sides(
    inside: dict[str, Any], outside: dict[str, Any], key: str
) -> None:
    text = {k: v for k, v in inside.items() if isinstance(v, str)}
    parse({k: v for k, v in inside.items() if not isinstance(v, str)}, **_raw(text))
    text = {k: v for k, v in outside.items() if isinstance(v, str)}
    found = problems({k: v for k, v in outside.items() if not isinstance(v, str)}, **_raw(text))
    assert found == [_key(key)]


def _raw(text: dict[str, str]) -> dict[str, str]:
    return {f"platform:{k}": v for k, v in text.items()}

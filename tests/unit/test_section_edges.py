"""Every range of the sections beside the components (autoscaler, termination handler,
descheduler, fluentd, teams, VPA) at both its edges, and the checks a mutation run showed no
test reached."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from eksplatform.cluster.autoscaler import AutoscalerConfig, autoscaler_image_tag
from eksplatform.cluster.descheduler import DeschedulerConfig, check_cron
from eksplatform.cluster.fluentd import LoggingConfig
from eksplatform.cluster.interruption import InterruptionHandlerConfig
from eksplatform.cluster.teams import TeamConfig
from eksplatform.cluster.vpa import VpaConfig
from eksplatform.core.settings import FIELD_MARK

NTH_MAX = {
    "lifecycleHeartbeatTimeoutSeconds": 7200,
    "nodeTerminationGracePeriodSeconds": 7200,
}

# (model, values that pass, values one step past the edge, the key refused)
EDGES: list[tuple[type[pydantic.BaseModel], dict[str, Any], dict[str, Any], str]] = [
    (
        AutoscalerConfig,
        {"maxGracefulTerminationSeconds": 0},
        {"maxGracefulTerminationSeconds": -1},
        "maxGracefulTerminationSeconds",
    ),
    (
        AutoscalerConfig,
        {"scaleDownEnabled": False, "scaleDownUnneededTime": "0s"},
        {"scaleDownEnabled": False, "scaleDownUnneededTime": "x"},
        "scaleDownUnneededTime",
    ),
    (
        AutoscalerConfig,
        {"scaleDownDelayAfterAdd": "0s"},
        {"scaleDownDelayAfterAdd": "-1s"},
        "scaleDownDelayAfterAdd",
    ),
    (
        AutoscalerConfig,
        {"scanInterval": "1s", "scaleDownUnneededTime": "1s"},
        {"scanInterval": "0s"},
        "scanInterval",
    ),
    (
        InterruptionHandlerConfig,
        {"queueMessageRetentionSeconds": 60},
        {"queueMessageRetentionSeconds": 59},
        "queueMessageRetentionSeconds",
    ),
    (
        InterruptionHandlerConfig,
        {"lifecycleHeartbeatTimeoutSeconds": 30, "nodeTerminationGracePeriodSeconds": 30},
        {"lifecycleHeartbeatTimeoutSeconds": 29, "nodeTerminationGracePeriodSeconds": 29},
        "lifecycleHeartbeatTimeoutSeconds",
    ),
    (
        InterruptionHandlerConfig,
        {"nodeTerminationGracePeriodSeconds": 1},
        {"nodeTerminationGracePeriodSeconds": 0},
        "nodeTerminationGracePeriodSeconds",
    ),
    (
        InterruptionHandlerConfig,
        NTH_MAX,
        {**NTH_MAX, "nodeTerminationGracePeriodSeconds": 7201},
        "nodeTerminationGracePeriodSeconds",
    ),
    (
        InterruptionHandlerConfig,
        {**NTH_MAX, "podTerminationGracePeriodSeconds": 7200},
        {**NTH_MAX, "podTerminationGracePeriodSeconds": 7201},
        "podTerminationGracePeriodSeconds",
    ),
    (InterruptionHandlerConfig, {"replicas": 1}, {"replicas": 0}, "replicas"),
    (
        DeschedulerConfig,
        {"podRestartThreshold": 1},
        {"podRestartThreshold": 0},
        "podRestartThreshold",
    ),
    (
        DeschedulerConfig,
        {"maxPodsToEvictPerNamespace": 1},
        {"maxPodsToEvictPerNamespace": 0},
        "maxPodsToEvictPerNamespace",
    ),
    (
        DeschedulerConfig,
        {"activeDeadlineSeconds": 60},
        {"activeDeadlineSeconds": 59},
        "activeDeadlineSeconds",
    ),
    (
        DeschedulerConfig,
        {"startingDeadlineSeconds": 60},
        {"startingDeadlineSeconds": 86401},
        "startingDeadlineSeconds",
    ),
    (
        DeschedulerConfig,
        {"lowNodeUtilization": {"thresholds": {"cpu": 0}}},
        {"lowNodeUtilization": {"thresholds": {"cpu": -1}}},
        "lowNodeUtilization",
    ),
    (LoggingConfig, {"papertrail": {"port": 1}}, {"papertrail": {"port": 0}}, "papertrail"),
    (LoggingConfig, {"buffer": {"retryMaxTimes": 0}}, {"buffer": {"retryMaxTimes": -1}}, "buffer"),
    (
        LoggingConfig,
        {"imageTag": "v1.19.3-debian-cloudwatch-1.1"},
        {"imageTag": "1.19.3-debian-cloudwatch"},
        "imageTag",
    ),
    (
        LoggingConfig,
        {
            "output": "papertrail",
            "papertrail": {"host": "logs.example.com", "port": 443},
            "imageTag": "v1.19.3-debian-papertrail-1.1",
        },
        {"output": "cloudwatch", "imageTag": "v1.19.3-debian-papertrail-1.1"},
        "imageTag",
    ),
    (
        TeamConfig,
        {"name": "news", "quota": {"requestsCpu": "1m"}, "limitRange": {"defaultRequestCpu": "1m"}},
        {
            "name": "news",
            "quota": {"requestsCpu": "0.5m"},
            "limitRange": {"defaultRequestCpu": "1m"},
        },
        "quota",
    ),
    (
        TeamConfig,
        {
            "name": "news",
            "limitRange": {"defaultLimitMemory": "8Gi", "defaultRequestMemory": "8Gi"},
            "quota": {"requestsMemory": "8Gi", "limitsMemory": "8Gi"},
        },
        {
            "name": "news",
            "limitRange": {"defaultLimitMemory": "9Gi", "defaultRequestMemory": "8Gi"},
            "quota": {"requestsMemory": "9Gi", "limitsMemory": "9Gi"},
        },
        "limitRange",
    ),
    (
        TeamConfig,
        {"name": "news", "namespace": "news-a"},
        {"name": "news", "namespace": "News"},
        "namespace",
    ),
    (
        TeamConfig,
        {
            "name": "news",
            "roleArns": ["arn:aws:iam::111111111111:role/a", "arn:aws:iam::111111111111:role/b"],
        },
        {
            "name": "news",
            "roleArns": ["arn:aws:iam::111111111111:role/a", "arn:aws:iam::111111111111:role/a"],
        },
        "roleArns",
    ),
    (
        TeamConfig,
        {"name": "news", "allowIngressFrom": ["media"]},
        {"name": "news", "allowIngressFrom": ["Media"]},
        "allowIngressFrom",
    ),
    (VpaConfig, {"recommender": {"replicas": 1}}, {"recommender": {"replicas": 0}}, "recommender"),
    (VpaConfig, {"chartVersion": "10.0.0"}, {"chartVersion": "0.9"}, "chartVersion"),
    (VpaConfig, {"chartVersion": "0.9.1"}, {"chartVersion": "0.9.x"}, "chartVersion"),
]


@pytest.mark.parametrize(
    ("model", "inside", "outside", "key"),
    EDGES,
    ids=[f"{m.__name__}.{k}-{i}" for i, (m, _, _, k) in enumerate(EDGES)],
)
def test_each_section_range_at_both_edges(
    model: type[pydantic.BaseModel], inside: dict[str, Any], outside: dict[str, Any], key: str
) -> None:
    model.model_validate(inside)
    with pytest.raises(pydantic.ValidationError) as info:
        model.model_validate(outside)
    # a model-level check names its field after FIELD_MARK (see core.settings.field_error)
    found = [
        e["loc"][0] if e["loc"] else e["msg"].split(FIELD_MARK)[1] for e in info.value.errors()
    ]
    assert found == [key]


@pytest.mark.parametrize(
    "schedule",
    ["0 0 31 2-3 *", "0 0 31 2/1 *", "0 0 5-5 * *", "0 0 30 2 MON", "*/5 * * * *", "@daily"],
)
def test_schedules_that_come(schedule: str) -> None:
    assert check_cron(schedule) == schedule


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            "0 0 ,1 * *",
            "day of month entry '' has no value; write a number, a range like 1-5, or *",
        ),
        (
            "0 0 -5 * *",
            "day of month entry '-5' has no value; write a number, a range like 1-5, or *",
        ),
        ("0 0 6-5 * *", "day of month range '6-5' runs backwards"),
        ("0 0 30-31 2 *", "never runs: day 30, 31 of FEB never comes; pick a day the month has"),
    ],
)
def test_schedules_that_never_parse_or_never_come(schedule: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        check_cron(schedule)
    assert str(info.value) == message


def test_the_autoscaler_release_needs_a_version_it_can_read() -> None:
    with pytest.raises(ValueError) as info:
        autoscaler_image_tag("1.x")
    assert str(info.value) == 'write the Kubernetes version as "1.MINOR", like "1.31"'


def test_a_large_event_pattern_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi
    from eksplatform.cluster import interruption

    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, owner: warned.append(message))
    limit = interruption.EVENT_PATTERN_LIMIT
    assert interruption._checked_pattern(None, "k", "x" * limit) == "x" * limit  # type: ignore[arg-type]
    assert warned == []
    interruption._checked_pattern(None, "k", "x" * (limit + 1))  # type: ignore[arg-type]
    assert len(warned) == 1 and f"is {limit + 1} characters" in warned[0]

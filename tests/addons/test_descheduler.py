"""The descheduler CronJob: policy content, schedule, image per minor version, hardening, RBAC,
and exact errors for bad config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.descheduler import (
    IMAGE_TAGS,
    DeschedulerArgs,
    DeschedulerConfig,
    check_cron,
    descheduler_image,
    validate_descheduler_args,
)
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview

from tests.conftest import make_workspace

Preview = Callable[[str], PreviewResult]


def _manifest(result: PreviewResult, kind: str, namespace: str, name: str) -> dict[str, Any]:
    found = [
        m.body
        for m in result.manifests
        if m.kind == kind and m.namespace == namespace and m.name == name
    ]
    assert len(found) == 1, (kind, namespace, name)
    return found[0]


def _policy(result: PreviewResult) -> dict[str, Any]:
    cm = _manifest(result, "ConfigMap", "kube-system", "descheduler-policy")
    policy = yaml.safe_load(cm["data"]["policy.yaml"])
    assert isinstance(policy, dict)
    return policy


def test_policy_is_v1alpha2_with_the_four_strategies(cluster_preview: Preview) -> None:
    policy = _policy(cluster_preview("prod"))
    assert policy["apiVersion"] == "descheduler/v1alpha2"
    assert policy["kind"] == "DeschedulerPolicy"
    assert policy["maxNoOfPodsToEvictPerNode"] == 3  # Pulumi.prod.yaml
    assert policy["maxNoOfPodsToEvictPerNamespace"] == 5
    (profile,) = policy["profiles"]
    assert profile["plugins"] == {
        "balance": {
            "enabled": [
                "RemoveDuplicates",
                "LowNodeUtilization",
                "RemovePodsViolatingTopologySpreadConstraint",
            ]
        },
        "deschedule": {"enabled": ["RemovePodsHavingTooManyRestarts"]},
    }
    args = {p["name"]: p.get("args", {}) for p in profile["pluginConfig"]}
    assert set(args) == {
        "DefaultEvictor",
        "RemoveDuplicates",
        "LowNodeUtilization",
        "RemovePodsViolatingTopologySpreadConstraint",
        "RemovePodsHavingTooManyRestarts",
    }
    assert args["DefaultEvictor"]["evictSystemCriticalPods"] is False
    assert args["DefaultEvictor"]["nodeFit"] is True
    lnu = args["LowNodeUtilization"]
    assert lnu["thresholds"] == {"cpu": 20, "memory": 20, "pods": 20}
    assert lnu["targetThresholds"] == {"cpu": 60, "memory": 60, "pods": 60}
    assert args["RemovePodsHavingTooManyRestarts"]["podRestartThreshold"] == 100
    excluded = [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "logging",
        "vpa-system",
        "overprovisioning",
        "datadog",
    ]
    assert lnu["evictableNamespaces"] == {"exclude": excluded}
    for name in (
        "RemoveDuplicates",
        "RemovePodsViolatingTopologySpreadConstraint",
        "RemovePodsHavingTooManyRestarts",
    ):
        assert args[name]["namespaces"] == {"exclude": excluded}, name


def test_cronjob_schedule_and_hardening(cluster_preview: Preview) -> None:
    result = cluster_preview("staging")
    cron = _manifest(result, "CronJob", "kube-system", "descheduler")
    spec = cron["spec"]
    assert spec["schedule"] == "15 3,15 * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 900
    pod = job["template"]["spec"]
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == "registry.k8s.io/descheduler/descheduler:v0.31.0"  # 1.31
    assert container["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["volumeMounts"] == [
        {"name": "policy", "mountPath": "/policy-dir", "readOnly": True}
    ]
    assert "--policy-config-file=/policy-dir/policy.yaml" in container["args"]
    assert pod["serviceAccountName"] == "descheduler"


def test_rbac_is_least_privilege(cluster_preview: Preview) -> None:
    role = _manifest(cluster_preview("prod"), "ClusterRole", "", "eksplatform:descheduler")
    verbs = {
        (group, resource): set(rule["verbs"])
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert verbs[("", "pods/eviction")] == {"create"}
    assert verbs[("", "pods")] == {"get", "list", "watch"}  # evicts, never deletes
    assert verbs[("", "nodes")] == {"get", "list", "watch"}
    for (group, resource), vs in verbs.items():
        assert "*" not in vs and "*" not in resource and "*" not in group
        if resource != "events" and resource != "pods/eviction":
            assert vs <= {"get", "list", "watch"}, resource
    binding = _manifest(
        cluster_preview("prod"), "ClusterRoleBinding", "", "eksplatform:descheduler"
    )
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "descheduler", "namespace": "kube-system"}
    ]


def test_image_follows_the_minor_version() -> None:
    for minor, tag in IMAGE_TAGS.items():
        assert tag.startswith(f"v0.{minor}.")
        assert descheduler_image(f"1.{minor}") == f"registry.k8s.io/descheduler/descheduler:{tag}"


def test_unknown_minor_is_a_clear_error() -> None:
    args = DeschedulerArgs(kubernetes_version="1.40", provider=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        validate_descheduler_args(args)
    assert str(info.value) == (
        "Descheduler: 1 problem:\n"
        "  - kubernetes_version: got '1.40': no descheduler release is known for this version "
        "(known: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36); add the matching "
        "registry.k8s.io/descheduler/descheduler tag to IMAGE_TAGS in eksplatform/descheduler.py"
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "0 3 * *",
            "has 4 fields; a CronJob schedule has 5: minute hour day-of-month month day-of-week, "
            'like "15 3,15 * * *"',
        ),
        ("0 24 * * *", "hour 24 is outside 0-23"),
        ("*/0 * * * *", "minute step '0' must be a positive number"),
        ("0 0 * * MON-XYZ", "day of week 'XYZ' is not a number"),
        ("0 0 * 12-1 *", "month range '12-1' runs backwards"),
        ("? 0 * * *", "'?' is only allowed in the day-of-month and day-of-week fields"),
        (
            "@every 12h",
            "unknown macro; use one of @yearly, @annually, @monthly, @weekly, @daily, "
            "@midnight, @hourly or five fields",
        ),
        ("TZ=Europe/Paris 0 3 * * *", "do not put TZ= in the schedule; set timeZone instead"),
    ],
)
def test_bad_cron_expressions(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        check_cron(expression)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "expression", ["15 3,15 * * *", "*/20 1-5 ? JAN-MAR mon,FRI", "0 0 1 */2 0", "@daily"]
)
def test_good_cron_expressions(expression: str) -> None:
    assert check_cron(expression) == expression


def _problems(section: str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(
            {"aws:region": "eu-west-1", "platform:descheduler": section},
            stack="prod",
            source="Pulumi.prod.yaml",
        )
    return [str(p) for p in info.value.problems]


def test_bad_descheduler_config_reports_everything() -> None:
    section = (
        '{"schedule": "61 * * * *", "timeZone": "Europe/Atlantis", "maxPodsToEvictPerNode": 0,'
        ' "lowNodeUtilization": {"thresholds": {"cpu": 70, "memory": 20, "pods": 80},'
        ' "targetThresholds": {"cpu": 60, "memory": 60, "pods": 101}}}'
    )
    assert _problems(section) == [
        "platform:descheduler.schedule: got '61 * * * *': minute 61 is outside 0-59",
        "platform:descheduler.timeZone: got 'Europe/Atlantis': not an IANA time zone name; "
        "write it like Etc/UTC or Europe/London (abbreviations such as PST are not zone names)",
        "platform:descheduler.lowNodeUtilization.targetThresholds.pods: got 101: a percentage: "
        "0 to 100",
        "platform:descheduler.maxPodsToEvictPerNode: got 0: must be 1 or more (set enabled: "
        "false to stop evictions)",
    ]


def test_thresholds_above_targets() -> None:
    section = '{"lowNodeUtilization": {"thresholds": {"cpu": 70, "memory": 20, "pods": 60}}}'
    assert _problems(section) == [
        "platform:descheduler.lowNodeUtilization.thresholds: got {'cpu': 70, 'memory': 20, "
        "'pods': 60}: each threshold must be below its targetThresholds value (cpu 70 >= 60; "
        "pods 60 >= 60); lower the threshold or raise the target"
    ]


def test_defaults_are_twice_a_day_in_utc() -> None:
    settings = DeschedulerConfig()
    assert settings.schedule == "15 3,15 * * *" and settings.time_zone == "Etc/UTC"


def test_bad_cron_in_the_stack_file_exits_2_with_nothing_registered(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    stack.write_text(
        stack.read_text().replace(
            "    maxPodsToEvictPerNode: 3", "    maxPodsToEvictPerNode: 3\n    schedule: daily"
        )
    )
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == [] and result.manifests == []
    assert [d.message for d in result.diagnostics] == [
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:descheduler.schedule: got 'daily': has 1 field; a CronJob schedule has 5: "
        'minute hour day-of-month month day-of-week, like "15 3,15 * * *"'
    ]

"""PriorityClasses and the overprovisioning headroom, read from the cluster preview of each stack
(rendered manifests and recorded inputs), plus the headroom's config and argument validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
from eksplatform.cluster import prescaler, priority
from eksplatform.cluster.headroom import (
    BASELINE_ANNOTATION,
    DEPLOYMENT_NAME,
    NAMESPACE,
    PAUSE_IMAGE,
    HeadroomArgs,
    HeadroomConfig,
    headroom_labels,
    validate_headroom_args,
)
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview
from eksplatform.preview.manifests import Manifest

from tests.conftest import make_workspace

Preview = Callable[[str], PreviewResult]
STACKS = ("staging", "prod")


def _manifests(result: PreviewResult, kind: str) -> dict[str, Manifest]:
    return {m.name: m for m in result.manifests if m.kind == kind}


def _headroom(result: PreviewResult) -> dict[str, Any]:
    found = [
        m.body
        for m in result.manifests
        if m.kind == "Deployment" and m.namespace == NAMESPACE and m.name == DEPLOYMENT_NAME
    ]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_headroom_priority_is_lowest_yet_at_or_above_the_autoscaler_cutoff(
    cluster_preview: Preview, stack: str
) -> None:
    result = cluster_preview(stack)
    classes = {name: m.body for name, m in _manifests(result, "PriorityClass").items()}
    assert set(classes) == {"platform-critical", "service-default", "overprovisioning"}
    pod_class = _headroom(result)["spec"]["template"]["spec"]["priorityClassName"]
    assert pod_class == priority.OVERPROVISIONING
    headroom_value = classes[pod_class]["value"]
    others = [c["value"] for name, c in classes.items() if name != pod_class]
    assert all(headroom_value < v for v in others), (headroom_value, others)
    # ... and below the built-in system classes and the implicit default of 0 as well
    assert headroom_value < 0
    assert headroom_value >= priority.EXPENDABLE_PODS_PRIORITY_CUTOFF
    # pause pods wait for nodes instead of evicting anything; real pods preempt them
    assert classes[pod_class]["preemptionPolicy"] == "Never"
    assert classes["service-default"]["preemptionPolicy"] == "PreemptLowerPriority"
    # exactly one global default: pods without a class are service pods
    assert [n for n, c in classes.items() if c["globalDefault"]] == ["service-default"]
    for c in classes.values():
        assert c["description"]


@pytest.mark.parametrize("stack", STACKS)
def test_pods_never_wait_on_a_missing_class(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    class_urns = {r.urn for r in result.by_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")}
    assert len(class_urns) == 3
    deployment = next(
        r
        for r in result.by_type("kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["name"] == DEPLOYMENT_NAME
    )
    assert class_urns <= set(deployment.dependencies)
    chart = result.by_type("kubernetes:helm.sh/v4:Chart")[0]
    assert class_urns <= set(chart.dependencies)


@pytest.mark.parametrize(
    ("stack", "replicas", "cpu", "memory"), [("prod", 6, "1", "2Gi"), ("staging", 1, "500m", "1Gi")]
)
def test_headroom_size_comes_from_each_stack(
    cluster_preview: Preview, stack: str, replicas: int, cpu: str, memory: str
) -> None:
    body = _headroom(cluster_preview(stack))
    assert body["spec"]["replicas"] == replicas
    assert body["metadata"]["annotations"] == {BASELINE_ANNOTATION: str(replicas)}
    (container,) = body["spec"]["template"]["spec"]["containers"]
    assert container["image"] == PAUSE_IMAGE
    assert container["resources"] == {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"memory": memory},
    }


def test_headroom_pods_spread_over_zones_and_are_restricted(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    body = _headroom(result)
    pod = body["spec"]["template"]["spec"]
    selector = body["spec"]["selector"]["matchLabels"]
    zone = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"].endswith("/zone")]
    assert zone == [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": selector},
        }
    ]
    assert pod["terminationGracePeriodSeconds"] == 0
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = pod["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    ns = _manifests(result, "Namespace")[NAMESPACE].body
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_only_the_prescaler_may_scale_the_headroom_deployment(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    grants = [m.body for m in result.manifests if m.kind in ("Role", "RoleBinding")]
    in_headroom = [g for g in grants if g["metadata"]["namespace"] == NAMESPACE]
    assert sorted(g["kind"] for g in in_headroom) == ["Role", "RoleBinding"]
    role = next(g for g in in_headroom if g["kind"] == "Role")
    assert role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/scale"],
            "resourceNames": [DEPLOYMENT_NAME],
            "verbs": ["get", "patch"],
        },
    ]
    binding = next(g for g in in_headroom if g["kind"] == "RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "Group", "name": prescaler.GROUP, "apiGroup": "rbac.authorization.k8s.io"}
    ]


def test_contract_exports_the_stable_name_and_labels(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    outputs = result.plain_outputs()
    body = _headroom(result)
    assert outputs["headroomNamespace"] == NAMESPACE == body["metadata"]["namespace"]
    assert outputs["headroomDeploymentName"] == DEPLOYMENT_NAME == body["metadata"]["name"]
    assert outputs["headroomLabels"] == body["spec"]["template"]["metadata"]["labels"]
    assert outputs["headroomLabels"] == headroom_labels()
    # the pre-scaler can select the pods with the exported labels
    selector = body["spec"]["selector"]["matchLabels"]
    assert selector.items() <= outputs["headroomLabels"].items()


def test_headroom_config_errors_are_exact() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        HeadroomConfig.model_validate({"replicas": -1, "cpu": "100x", "memory": "0Mi"})
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [
        (
            ("replicas",),
            "Value error, must be 0 or more (0 keeps the Deployment for the pre-scaler but "
            "reserves no headroom)",
        ),
        (
            ("cpu",),
            "Value error, '100x' is not a CPU quantity; write millicores like '250m' or cores "
            "like '0.5'",
        ),
        (
            ("memory",),
            "Value error, is 0 bytes; no container starts with less than 1Mi: write it like 256Mi",
        ),
    ]
    assert HeadroomConfig.model_validate({"replicas": 0}).replicas == 0


def test_headroom_args_are_validated_all_at_once() -> None:
    from unittest.mock import sentinel

    args = HeadroomArgs(
        provider=sentinel.provider,
        replicas=-2,
        cpu="lots",
        memory="1Gb",
        image="registry.k8s.io/pause",
    )
    with pytest.raises(ValidationError) as info:
        validate_headroom_args(args)
    assert str(info.value) == (
        "Headroom: 4 problems:\n"
        "  - replicas: got -2: must be 0 or more\n"
        "  - cpu: got 'lots': 'lots' is not a CPU quantity; write millicores like '250m' or "
        "cores like '0.5'\n"
        "  - memory: got '1Gb': '1Gb' is not a memory quantity; write it like '128Mi' or '1Gi'\n"
        "  - image: got 'registry.k8s.io/pause': pin a tag or digest, like "
        "registry.k8s.io/pause:3.10"
    )


def test_negative_headroom_fails_the_preview_with_nothing_registered(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    head = "  platform:headroom:\n"
    text = stack.read_text().replace(
        head + "    replicas: 1\n    cpu: 500m\n", head + "    replicas: -1\n    cpu: 1x\n"
    )
    assert head + "    replicas: -1" in text
    stack.write_text(text)
    result = run_preview(ws, "cluster", "staging")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == [] and result.manifests == []
    assert [d.message for d in result.diagnostics] == [
        "Pulumi.staging.yaml: invalid stack configuration: 2 problems:\n"
        "  - platform:headroom.replicas: got -1: must be 0 or more (0 keeps the Deployment for "
        "the pre-scaler but reserves no headroom)\n"
        "  - platform:headroom.cpu: got '1x': '1x' is not a CPU quantity; write millicores like "
        "'250m' or cores like '0.5'"
    ]


def test_disabled_headroom_creates_nothing_and_exports_empty_values(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    head = "  platform:headroom:\n"
    stack.write_text(
        stack.read_text().replace(head + "    replicas: 1\n", head + "    enabled: false\n")
    )
    result = run_preview(ws, "cluster", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    assert not [m for m in result.manifests if m.namespace == NAMESPACE]
    outputs = json.loads(json.dumps(result.plain_outputs()))
    assert (outputs["headroomNamespace"], outputs["headroomDeploymentName"]) == ("", "")
    assert outputs["headroomLabels"] == {}


@pytest.mark.parametrize("stack", STACKS)
def test_every_addon_object_passes_the_schema_check(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    assert result.ok
    assert not [d for d in result.diagnostics if d.severity == "error"]
    addon_namespaces = {NAMESPACE, "vpa-system", "news", "media"}
    cluster_scoped = addon_namespaces | {c.name for c in priority.PRIORITY_CLASSES}
    ours = [
        m
        for m in result.manifests
        if m.namespace in addon_namespaces
        or (m.kind in ("Namespace", "PriorityClass") and m.name in cluster_scoped)
    ]
    # 3 PriorityClasses, 4 namespaces, the headroom Deployment, the pre-scaler's Role and
    # RoleBinding on it, per team a ResourceQuota, a LimitRange and 6 NetworkPolicies
    # (staging: a 7th, ingress from the team's developer namespaces)
    per_team = 9 if stack == "staging" else 8
    assert len(ours) == 3 + 4 + 1 + 2 + 2 * per_team


def test_the_running_autoscaler_uses_the_cutoff_the_headroom_is_sized_for(
    cluster_preview: Preview,
) -> None:
    result = cluster_preview("prod")
    flag = "--expendable-pods-priority-cutoff="
    cutoffs = [
        int(arg[len(flag) :])
        for m in result.manifests
        if m.kind == "Deployment"
        for c in m.body["spec"]["template"]["spec"]["containers"]
        for arg in [*c.get("command", []), *c.get("args", [])]
        if arg.startswith(flag)
    ]
    assert cutoffs == [priority.EXPENDABLE_PODS_PRIORITY_CUTOFF]
    overprovisioning = _manifests(result, "PriorityClass")[priority.OVERPROVISIONING]
    assert overprovisioning.body["value"] >= cutoffs[0]

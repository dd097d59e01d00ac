"""The three example service programs under services/, previewed for staging and prod against the
cluster program's offline outputs (the StackReference goes through the real cluster preview)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eksplatform.preview.engine import (
    EXIT_INVALID_CONFIG,
    PreviewResult,
    Workspace,
    run_preview,
    write_result,
)
from eksplatform.preview.manifests import Manifest

EXAMPLES = ("news-feed", "user-profiles", "transcode-worker")
STACKS = ("staging", "prod")
ACCOUNTS = {"staging": "111111111111", "prod": "222222222222"}

Preview = Callable[[str, str], PreviewResult]


@pytest.fixture(scope="module")
def example(repo_workspace: Workspace, cluster_preview: Callable[[str], PreviewResult]) -> Preview:
    cache: dict[tuple[str, str], PreviewResult] = {}

    def get(name: str, stack: str) -> PreviewResult:
        if (name, stack) not in cache:
            cluster_preview(stack)  # writes the cluster contract the StackReference reads
            result = run_preview(repo_workspace, f"services/{name}", stack)
            write_result(repo_workspace, result)
            cache[(name, stack)] = result
        return cache[(name, stack)]

    return get


def _manifest(result: PreviewResult, kind: str) -> dict[str, Any]:
    found: list[Manifest] = [m for m in result.manifests if m.kind == kind]
    assert len(found) == 1, [m.relpath for m in found]
    return found[0].body


def _only(result: PreviewResult, typ: str) -> Any:
    found = result.by_type(typ)
    assert len(found) == 1, [r.urn for r in found]
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_previews_clean_with_valid_kubernetes_objects(
    example: Preview, name: str, stack: str
) -> None:
    result = example(name, stack)
    assert result.ok, [d.message for d in result.diagnostics]
    bad = [d for d in result.diagnostics if d.severity in ("error", "warning")]
    assert not bad, [d.message for d in bad]
    kinds = {m.kind for m in result.manifests}
    assert {"Deployment", "Service", "ServiceAccount", "ConfigMap", "PodDisruptionBudget"} <= kinds
    # every Kubernetes object lives in the team's namespace from the cluster contract
    team = "media" if name == "transcode-worker" else "news"
    assert {m.namespace for m in result.manifests} == {team}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_deployment_runs_envoy_as_a_native_sidecar(example: Preview, name: str, stack: str) -> None:
    pod = _manifest(example(name, stack), "Deployment")["spec"]["template"]["spec"]
    (envoy,) = pod["initContainers"]
    assert envoy["name"] == "envoy" and envoy["restartPolicy"] == "Always"
    assert envoy["image"].startswith("envoyproxy/envoy:v")
    (app,) = pod["containers"]
    assert app["name"] == "app"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert app["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_role_carries_the_cluster_boundary(
    example: Preview, cluster_preview: Callable[[str], PreviewResult], name: str, stack: str
) -> None:
    boundary = cluster_preview(stack).plain_outputs()["permissionsBoundaryArn"]
    assert boundary == (
        f"arn:aws:iam::{ACCOUNTS[stack]}:policy/eksplatform/eks-{stack}-service-boundary"
    )
    role = _only(example(name, stack), "aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"] == boundary


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", ["news-feed", "user-profiles"])
def test_target_group_port_is_the_service_node_port_on_every_node_pool(
    example: Preview, cluster_preview: Callable[[str], PreviewResult], name: str, stack: str
) -> None:
    result = example(name, stack)
    service = _manifest(result, "Service")
    assert service["spec"]["type"] == "NodePort"
    (port,) = service["spec"]["ports"]
    assert "nodePort" not in port  # the API server allocates it (never pinned by the program)
    (allocated,) = _only(result, "kubernetes:core/v1:Service").outputs["spec"]["ports"]
    target_group = _only(result, "aws:lb/targetGroup:TargetGroup")
    assert 30000 <= target_group.inputs["port"] == allocated["nodePort"] <= 32767
    assert target_group.inputs["targetType"] == "instance"
    assert target_group.inputs["healthCheck"]["path"] == "/healthz/envoy"
    asgs = cluster_preview(stack).plain_outputs()["nodePoolAsgNames"]
    attached = {
        a.inputs["autoscalingGroupName"]
        for a in result.by_type("aws:autoscaling/attachment:Attachment")
    }
    assert attached == set(asgs) and len(asgs) >= 3


def test_news_feed_is_public_with_tls_and_opts_in_to_prescaling(example: Preview) -> None:
    result = example("news-feed", "prod")
    alb = _only(result, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["internal"] is False
    https = [
        r.inputs for r in result.by_type("aws:lb/listener:Listener") if r.inputs["port"] == 443
    ]
    assert len(https) == 1 and https[0]["certificateArn"].startswith(
        "arn:aws:acm:eu-west-1:222222222222:certificate/"
    )
    hpa = _manifest(result, "HorizontalPodAutoscaler")
    assert hpa["metadata"]["labels"]["eksplatform.io/prescale"] == "true"
    assert hpa["metadata"]["labels"]["eksplatform.io/prescale-factor"] == "20"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (6, 120)
    # the dependency resolves to user-profiles' in-cluster DNS name
    envoy_config = next(m for m in result.manifests if m.name == "news-feed-envoy")
    assert "user-profiles.news.svc.cluster.local" in json.dumps(envoy_config.body)
    # the signing key only reaches a Secret, never a manifest or preview.json in clear
    secret = _manifest(result, "Secret")
    assert secret["stringData"] == {"FEED_SIGNING_KEY": "offline-secret-placeholder"}
    alarms = result.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 3
    topics = {a for r in alarms for a in r.inputs["alarmActions"]}
    assert topics == {"arn:aws:sns:eu-west-1:222222222222:eks-prod-news-alerts"}


def test_secure_config_never_reaches_a_preview_file(
    example: Preview, repo_workspace: Workspace
) -> None:
    for stack in STACKS:
        example("news-feed", stack)
        out = repo_workspace.out_dir("services/news-feed", stack)
        files = [f for f in out.rglob("*") if f.is_file()]
        assert any(f.name == "preview.json" for f in files)
        for f in files:
            assert f"offline-placeholder-{stack}" not in f.read_text(), f


def test_user_profiles_may_use_exactly_its_table(example: Preview) -> None:
    result = example("user-profiles", "prod")
    table = _only(result, "aws:dynamodb/table:Table")
    assert table.inputs["name"] == "user-profiles-prod"
    assert table.inputs["serverSideEncryption"] == {"enabled": True}
    assert table.inputs["tags"]["environment"] == "prod"
    policy = _only(result, "aws:iam/rolePolicy:RolePolicy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    arn = table.outputs["arn"]
    assert statement["Resource"] == [arn, f"{arn}/index/*"]
    assert all(a.startswith("dynamodb:") for a in statement["Action"])
    alb = _only(result, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["internal"] is True


def test_transcode_worker_has_a_vpa_and_no_ingress(example: Preview) -> None:
    result = example("transcode-worker", "prod")
    assert not result.by_type("aws:lb/loadBalancer:LoadBalancer")
    assert not [m for m in result.manifests if m.kind == "HorizontalPodAutoscaler"]
    vpa = _manifest(result, "VerticalPodAutoscaler")
    assert vpa["spec"]["updatePolicy"]["updateMode"] == "Recreate"
    assert _manifest(result, "Deployment")["spec"]["replicas"] == 4
    policy = _only(result, "aws:iam/rolePolicy:RolePolicy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    queue = next(
        r for r in result.by_type("aws:sqs/queue:Queue") if r.inputs["name"].endswith("prod")
    )
    assert statement["Resource"] == [queue.outputs["arn"]]
    # an Output reaches the app as a plain env value, and it is part of the rollout checksum
    pod = _manifest(result, "Deployment")["spec"]["template"]
    (app,) = pod["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in app["env"]}
    assert env["UPLOADS_QUEUE_URL"] == queue.outputs["url"]
    assert len(pod["metadata"]["annotations"]["eksplatform.io/config-checksum"]) == 64


# A value each example passes on to its ServiceStack unchecked (the program's Config has no bound
# for it), which ServiceStack refuses: the program must stop before its own table or queue.
BAD_STACK_VALUE = {
    "user-profiles": ("maxReplicas: 4", "maxReplicas: 0", "autoscaling.max_replicas"),
    "transcode-worker": ("replicas: 2", "replicas: -1", "replicas"),
}


@pytest.mark.parametrize("name", sorted(BAD_STACK_VALUE))
def test_bad_service_arguments_stop_the_example_before_its_own_aws_resources(
    name: str,
    tmp_path: Path,
    repo_workspace: Workspace,
    cluster_preview: Callable[[str], PreviewResult],
) -> None:
    """Under ``pulumi up`` a resource declared before the ServiceStack would be created before
    the ServiceStack refuses its arguments: the examples declare their table and queues after it,
    and the strict monitor (which fails on the first registration) proves nothing is registered."""
    cluster_preview("staging")  # writes the contract the StackReference reads
    program = tmp_path / "services" / name
    shutil.copytree(
        repo_workspace.root / "services" / name,
        program,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    stack_file = program / "Pulumi.staging.yaml"
    good, bad, field = BAD_STACK_VALUE[name]
    text = stack_file.read_text()
    assert text.count(good) == 1
    stack_file.write_text(text.replace(good, bad))
    contract = repo_workspace.build_dir / "cluster" / "staging" / "stack-output.json"
    workspace = Workspace(
        tmp_path, tmp_path / "build", {"organization/eks-platform/staging": contract}
    )
    result = run_preview(workspace, f"services/{name}", "staging", fail_on_register=True)
    assert result.exit_code == EXIT_INVALID_CONFIG, result.diagnostics
    assert result.registered_before_error == []
    (error,) = [d.message for d in result.diagnostics if d.severity == "error"]
    assert error.startswith(f"ServiceStack '{name}': "), error
    assert f"  - {field}: got " in error, error
    assert "Traceback" not in error

"""Cluster Autoscaler: IAM scoped by the cluster tag, command line, image per minor version,
priority expander, RBAC, Deployment defaults, and exact config error messages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from eksplatform.cluster.autoscaler import (
    AUTOSCALER_RELEASES,
    AutoscalerConfig,
    ClusterAutoscalerArgs,
    autoscaler_image_tag,
    cluster_rbac_rules,
    parse_duration,
    priority_expander_config,
    validate_cluster_autoscaler_args,
)
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.node_pools import NodePoolConfig
from eksplatform.core.errors import ValidationError
from eksplatform.core.tags import Tags
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, EXIT_OK, PreviewResult, run_preview

from tests.compute.controllers import (  # noqa: F401  (pytest fixtures, found by name)
    ACCOUNT,
    ASG_NAMES,
    CLUSTER,
    Compute,
    compute_fixture,
    controllers_workspace_fixture,
)
from tests.conftest import make_workspace

Preview = Callable[[str], Compute]
CA = "eksplatform:compute:ClusterAutoscaler"
READ_ONLY = re.compile(r"^[a-z0-9]+:(Describe|Get|List)[A-Za-z]*$")


def _container(compute: Compute) -> dict[str, object]:
    deployment = compute.manifest("Deployment", "cluster-autoscaler")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, object] = containers[0]
    return container


# --- IAM ------------------------------------------------------------------------------------------


def test_mutating_actions_only_on_groups_tagged_for_this_cluster(compute: Preview) -> None:
    policy = compute("dev").policy(CA)
    mutating = {}
    for statement in policy["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        writes = [a for a in actions if not READ_ONLY.match(a)]
        if statement["Resource"] == "*":
            assert not writes, f"{statement['Sid']} allows {writes} on every resource"
        for action in writes:
            mutating[action] = statement
    assert set(mutating) == {
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    }
    for statement in mutating.values():
        assert statement["Effect"] == "Allow"
        assert statement["Condition"] == {
            "StringEquals": {
                f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned",
                "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
            }
        }
        assert statement["Resource"] == (
            f"arn:aws:autoscaling:eu-west-1:{ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*"
        )


def test_describe_actions_are_the_ones_the_aws_provider_calls(compute: Preview) -> None:
    policy = compute("dev").policy(CA)
    reads = [s for s in policy["Statement"] if s["Resource"] == "*"]
    assert len(reads) == 1
    assert sorted(reads[0]["Action"]) == [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
    ]


def test_role_is_assumable_only_by_its_service_account_through_pod_identity(
    compute: Preview,
) -> None:
    preview = compute("dev")
    role = preview.child(CA, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT,
        "aws:RequestTag/eks-cluster-name": CLUSTER,
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": "cluster-autoscaler",
    }
    association = preview.child(CA, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["namespace"] == "kube-system"
    assert association.inputs["serviceAccount"] == "cluster-autoscaler"
    assert association.inputs["roleArn"] == role.outputs["arn"]
    assert association.inputs["clusterName"] == CLUSTER
    # The Deployment waits for the association: credentials are injected at pod creation only.
    deployment = preview.child(CA, "kubernetes:apps/v1:Deployment")
    assert association.urn in deployment.dependencies


# --- command line and image -----------------------------------------------------------------------


def test_command_line_discovers_this_clusters_groups_and_prefers_spot(compute: Preview) -> None:
    container = _container(compute("dev"))
    command = container["command"]
    assert isinstance(command, list)
    assert command[0] == "/cluster-autoscaler"
    flags = command[1:]
    for flag in (
        "--cloud-provider=aws",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        f"k8s.io/cluster-autoscaler/{CLUSTER}",
        "--balance-similar-node-groups=true",
        "--balancing-ignore-label=eksplatform.io/capacity-type",
        "--balancing-ignore-label=topology.ebs.csi.aws.com/zone",
        "--expander=priority,least-waste",
        "--expendable-pods-priority-cutoff=-10",
        "--scan-interval=10s",
        "--scale-down-unneeded-time=10m",
        "--scale-down-delay-after-add=10m",
        "--scale-down-utilization-threshold=0.5",
        "--max-node-provision-time=15m",
        "--skip-nodes-with-local-storage=false",
        "--skip-nodes-with-system-pods=false",
        "--address=:8085",
    ):
        assert flag in flags, flag
    assert len(flags) == len(set(flags))
    assert container["image"] == "registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.3"


def test_settings_from_config_reach_the_command_line(compute: Preview) -> None:
    container = _container(compute("tuned"))
    flags = container["command"]
    assert isinstance(flags, list)
    assert "--scan-interval=20s" in flags
    assert "--scale-down-unneeded-time=30m" in flags
    assert "--scale-down-utilization-threshold=0.65" in flags
    assert "--skip-nodes-with-local-storage=true" in flags
    assert container["image"] == "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.3"


@pytest.mark.parametrize("minor", sorted(AUTOSCALER_RELEASES))
def test_the_pinned_release_matches_the_minor(minor: int) -> None:
    tag = autoscaler_image_tag(f"1.{minor}")
    assert re.fullmatch(rf"v1\.{minor}\.\d+", tag)


def test_every_supported_minor_has_a_release() -> None:
    assert sorted(AUTOSCALER_RELEASES) == [29, 30, 31, 32, 33, 34]


def _cluster(tmp_path: Path, extra: str) -> PreviewResult:
    """The real cluster program on a small stack, under the monitor that refuses registration."""
    ws = make_workspace(tmp_path / "ws")
    (tmp_path / "ws" / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ['111111111111']\n" + extra
    )
    return run_preview(ws, "cluster", "dev", fail_on_register=True)


def test_unknown_minor_is_refused_before_anything_is_registered(tmp_path: Path) -> None:
    result = _cluster(
        tmp_path,
        "  platform:kubernetesVersion: '1.40'\n"
        "  platform:eksAddons: {kubeProxy: v1.40.0-eksbuild.1}\n"
        "  platform:descheduler: {enabled: false}\n",
    )
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.dev.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:kubernetesVersion: got '1.40': no Cluster Autoscaler release is pinned for "
        "Kubernetes 1.40 (pinned: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34); set "
        "platform:autoscaler.imageTag to a v1.40.x release or add it to AUTOSCALER_RELEASES"
    ]


def test_an_image_tag_of_another_minor_is_refused(tmp_path: Path) -> None:
    result = _cluster(tmp_path, "  platform:autoscaler: {imageTag: v1.30.5}\n")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.dev.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:autoscaler.imageTag: got 'v1.30.5': imageTag 'v1.30.5' does not match "
        "Kubernetes 1.31: the autoscaler's minor version must equal the cluster's (v1.31.x)"
    ]


def test_an_image_tag_of_the_same_minor_overrides_the_pin() -> None:
    assert autoscaler_image_tag("1.31", "v1.31.9") == "v1.31.9"
    assert autoscaler_image_tag("1.35", "v1.35.1") == "v1.35.1"


# --- priority expander ----------------------------------------------------------------------------


def test_priority_configmap_prefers_the_most_spot_heavy_pools(compute: Preview) -> None:
    configmap = compute("dev").manifest("ConfigMap", "cluster-autoscaler-priority-expander")
    assert configmap["data"] == {
        "priorities": (
            "100:\n"
            "  - '^eks-dev-batch-eu-west-1[a-z]'\n"
            "70:\n"
            "  - '^eks-dev-general-eu-west-1[a-z]'\n"
            "0:\n"
            "  - '^eks-dev-general-od-eu-west-1[a-z]'\n"
        )
    }


def test_each_pool_pattern_matches_exactly_its_own_groups() -> None:
    pools = [
        NodePoolConfig(name="general"),
        NodePoolConfig(name="general-od", on_demand_percentage_above_base=100),
        NodePoolConfig(name="batch", on_demand_percentage_above_base=0),
    ]
    document = priority_expander_config(CLUSTER, "eu-west-1", pools)
    patterns = {line.strip()[3:-1] for line in document.splitlines() if line.startswith("  - ")}
    for pool in pools:
        (pattern,) = [p for p in patterns if p.startswith(f"^{CLUSTER}-{pool.name}-eu")]
        matched = {key for key, name in ASG_NAMES.items() if re.match(pattern, name)}
        assert matched == {k for k in ASG_NAMES if k.startswith(f"{pool.name}-eu-west-1")}


# --- Kubernetes objects -----------------------------------------------------------------------------


def test_deployment_has_requests_probe_restricted_context_and_priority(compute: Preview) -> None:
    preview = compute("dev")
    assert preview.result.exit_code == EXIT_OK
    deployment = preview.manifest("Deployment", "cluster-autoscaler")
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    assert spec["priorityClassName"] == "system-cluster-critical"
    assert spec["serviceAccountName"] == "cluster-autoscaler"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["metadata"]["annotations"]["cluster-autoscaler.kubernetes.io/safe-to-evict"] == (
        "false"
    )
    container = _container(preview)
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "600Mi"},
        "limits": {"memory": "600Mi"},
    }
    context = container["securityContext"]
    assert isinstance(context, dict)
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["ports"] == [{"name": "http", "containerPort": 8085, "protocol": "TCP"}]
    liveness = container["livenessProbe"]
    assert isinstance(liveness, dict)
    assert liveness["httpGet"] == {"path": "/health-check", "port": "http"}
    assert deployment["spec"]["replicas"] == 2
    pdb = preview.manifest("PodDisruptionBudget", "cluster-autoscaler")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_rbac_is_limited_to_what_the_autoscaler_uses(compute: Preview) -> None:
    preview = compute("dev")
    cluster_role = preview.manifest("ClusterRole", "cluster-autoscaler", namespace="")
    for rule in cluster_role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
        assert not {"delete", "deletecollection", "escalate", "bind"} & set(rule["verbs"]), rule
    writes = {
        (group, resource, verb)
        for rule in cluster_role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        if verb not in ("get", "list", "watch")
    }
    assert writes == {
        ("", "events", "create"),
        ("", "events", "patch"),
        ("", "pods/eviction", "create"),
        ("", "pods/status", "update"),
        ("", "nodes", "update"),
    }
    role = preview.manifest("Role", "cluster-autoscaler")
    named = {
        (rule["resources"][0], tuple(rule["resourceNames"])): rule["verbs"]
        for rule in role["rules"]
        if "resourceNames" in rule
    }
    assert named == {
        ("leases", ("cluster-autoscaler",)): ["get", "update"],
        (
            "configmaps",
            ("cluster-autoscaler-status", "cluster-autoscaler-priority-expander"),
        ): ["get", "update", "delete"],
    }
    for kind, name in (("ClusterRoleBinding", ""), ("RoleBinding", "kube-system")):
        binding = preview.manifest(kind, "cluster-autoscaler", namespace=name)
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "cluster-autoscaler", "namespace": "kube-system"}
        ]


def test_rbac_follows_the_minor_version(compute: Preview) -> None:
    def rendered(stack: str) -> set[str]:
        role = compute(stack).manifest("ClusterRole", "cluster-autoscaler", namespace="")
        return {r for rule in role["rules"] for r in rule["resources"]}

    def built(minor: int) -> set[str]:
        return {r for rule in cluster_rbac_rules(minor) for r in cast(list[str], rule.resources)}

    assert "volumeattachments" not in rendered("dev")  # 1.31
    assert "volumeattachments" in rendered("tuned")  # 1.33
    assert "resourceslices" not in built(34)
    assert {"deviceclasses", "resourceclaims", "resourceslices"} <= built(35)


def test_every_rendered_object_passes_the_schema_check(compute: Preview) -> None:
    for stack in ("dev", "tuned"):
        preview = compute(stack)
        assert preview.result.exit_code == EXIT_OK, [d.message for d in preview.result.diagnostics]
        kinds = sorted(m.kind for m in preview.result.manifests if m.name == "cluster-autoscaler")
        assert kinds == [
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "ServiceAccount",
        ]
        assert (preview.out_dir / "manifests/cluster/ClusterRole/cluster-autoscaler.yaml").is_file()


# --- validation -----------------------------------------------------------------------------------


def _config(autoscaler: str) -> None:
    parse_cluster_config(
        {"aws:region": "eu-west-1", "platform:autoscaler": autoscaler},
        stack="prod",
        source="Pulumi.prod.yaml",
    )


def test_bad_config_values_are_reported_together_with_exact_messages() -> None:
    with pytest.raises(ValidationError) as caught:
        _config(
            '{"scanInterval": "10x", "scaleDownUtilizationThreshold": 1.5, '
            '"maxNodeProvisionTime": "30s", "imageTag": "1.31.3", "replicas": 0, "cpu": "lots"}'
        )
    assert str(caught.value) == (
        "Pulumi.prod.yaml: invalid stack configuration: 6 problems:\n"
        "  - platform:autoscaler.imageTag: got '1.31.3': write a release tag like v1.31.3 "
        "(v1.<minor>.<patch>)\n"
        "  - platform:autoscaler.replicas: got 0: must be 1 to 3 (one leader; the others are "
        "warm standbys)\n"
        "  - platform:autoscaler.scanInterval: got '10x': not a duration; write it like 10s, "
        "10m or 1h30m\n"
        "  - platform:autoscaler.scaleDownUtilizationThreshold: got 1.5: must be above 0 and at "
        "most 1 (a fraction of the node's allocatable; 0.5 is usual; to stop scale-down set "
        "scaleDownEnabled: false)\n"
        "  - platform:autoscaler.maxNodeProvisionTime: got '30s': must be at least 60 seconds\n"
        "  - platform:autoscaler.cpu: got 'lots': 'lots' is not a CPU quantity; write "
        "millicores like '250m' or cores like '0.5'"
    )


def test_unneeded_time_shorter_than_the_scan_interval_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        _config('{"scanInterval": "1m", "scaleDownUnneededTime": "30s"}')
    assert str(caught.value) == (
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:autoscaler.scaleDownUnneededTime: got '30s': is shorter than scanInterval "
        "(1m): a node would be removed the first time it is seen idle; make it at least the "
        "scan interval"
    )


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        _config('{"scanIntervall": "10s"}')
    assert "platform:autoscaler.scanIntervall: got '10s': unknown key; allowed keys here: " in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("text", "seconds"), [("10s", 10), ("10m", 600), ("1h30m", 5400), ("0s", 0)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "1.5m", "10M", "m", "1d", "10s5m"])
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_component_args_are_checked_together() -> None:
    args = ClusterAutoscalerArgs(
        cluster_name="1bad",
        kubernetes_version="1.31",
        region="Ireland",
        account_id="42",
        pools=[NodePoolConfig(name="general"), NodePoolConfig(name="general")],
        k8s_provider=None,  # type: ignore[arg-type]  # never reached: validation fails first
        tags=Tags(team="platform", environment="dev", cost_centre="platform"),
        config=AutoscalerConfig(),
    )
    with pytest.raises(ValidationError) as caught:
        validate_cluster_autoscaler_args(args)
    assert str(caught.value) == (
        "ClusterAutoscaler '1bad': 4 problems:\n"
        "  - cluster_name: got '1bad': EKS cluster names are 1-100 letters, digits, '-' and "
        "'_', starting with a letter\n"
        "  - region: got 'Ireland': not an AWS region name; write it like eu-west-1\n"
        "  - account_id: got '42': an AWS account id is 12 digits\n"
        "  - pools: got ['general']: pool names must be unique"
    )


# --- the cluster program ------------------------------------------------------------------------


def _body(result: PreviewResult, kind: str, name: str) -> dict[str, Any]:
    (manifest,) = [m for m in result.manifests if m.kind == kind and m.name == name]
    return manifest.body


def test_cluster_program_runs_the_autoscaler_for_its_pools(
    cluster_preview: Callable[[str], PreviewResult],
) -> None:
    result = cluster_preview("prod")
    assert result.exit_code == EXIT_OK, [d.message for d in result.diagnostics]
    (component,) = result.by_type(CA)
    (policy,) = [
        r for r in result.by_type("aws:iam/rolePolicy:RolePolicy") if r.parent == component.urn
    ]
    scale = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Resource"] != "*"]
    assert [
        s["Condition"]["StringEquals"]["aws:ResourceTag/k8s.io/cluster-autoscaler/eks-prod"]
        for s in scale
    ] == ["owned"]
    document = _body(result, "ConfigMap", "cluster-autoscaler-priority-expander")["data"][
        "priorities"
    ]
    assert document == (
        "70:\n  - '^eks-prod-general-eu-west-1[a-z]'\n  - '^eks-prod-memory-eu-west-1[a-z]'\n"
    )
    patterns = [line.strip()[3:-1] for line in document.splitlines() if line.startswith("  - ")]
    for group in result.by_type("aws:autoscaling/group:Group"):
        name = group.outputs["name"]
        tags = {t["key"]: t["value"] for t in group.inputs["tags"]}
        pool = tags["eksplatform.io/node-pool"]
        assert [p for p in patterns if re.match(p, name)] == [f"^eks-prod-{pool}-eu-west-1[a-z]"]
    spec = _body(result, "Deployment", "cluster-autoscaler")["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    assert container["image"] == "registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.3"
    for flag in (
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        "k8s.io/cluster-autoscaler/eks-prod",
        "--balancing-ignore-label=eksplatform.io/capacity-type",
        "--scale-down-unneeded-time=20m",
        "--scale-down-delay-after-add=15m",
    ):
        assert flag in container["command"], flag
    assert spec["replicas"] == 2
    deployment = [
        r for r in result.by_type("kubernetes:apps/v1:Deployment") if r.parent == component.urn
    ]
    agent = [
        r
        for r in result.by_type("aws:eks/addon:Addon")
        if r.inputs["addonName"] == "eks-pod-identity-agent"
    ]
    assert agent[0].urn in deployment[0].dependencies
    staging = cluster_preview("staging")
    assert staging.exit_code == EXIT_OK
    staging_spec = _body(staging, "Deployment", "cluster-autoscaler")["spec"]
    assert staging_spec["replicas"] == 1
    assert (
        "--scale-down-unneeded-time=5m"
        in staging_spec["template"]["spec"]["containers"][0]["command"]
    )


def test_cluster_program_refuses_an_autoscaler_of_another_minor_before_registering(
    tmp_path: Path,
) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = ws.root / "Pulumi.prod.yaml"
    text = stack.read_text()
    assert "  platform:autoscaler:\n" in text
    stack.write_text(
        text.replace("  platform:autoscaler:\n", "  platform:autoscaler:\n    imageTag: v1.30.5\n")
    )
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:autoscaler.imageTag: got 'v1.30.5': imageTag 'v1.30.5' does not match "
        "Kubernetes 1.31: the autoscaler's minor version must equal the cluster's (v1.31.x)"
    ]

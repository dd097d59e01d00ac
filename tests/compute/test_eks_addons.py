"""EKS managed add-ons: pinned versions, the CNI's own IRSA role, CoreDNS after the nodes, and
pulumi-eks/EKS installing none of their own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.eks_addons import (
    ADDON_FIELDS,
    EksAddonsArgs,
    EksAddonsConfig,
    addon_versions,
    validate_eks_addons_args,
)
from eksplatform.cluster.versions import RELEASES
from eksplatform.core.errors import ValidationError
from eksplatform.core.tags import Tags
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, Workspace, run_preview
from eksplatform.preview.mocks import Recorded

from tests.conftest import make_workspace, write_program

Preview = Callable[[str], PreviewResult]
ADDON = "aws:eks/addon:Addon"
ASG = "aws:autoscaling/group:Group"


def _addons(result: PreviewResult) -> dict[str, Recorded]:
    return {
        r.inputs["addonName"]: r
        for r in result.by_type(ADDON)
        if r.parent.endswith("eksplatform:compute:EksAddons::addons")
    }


def test_unset_versions_follow_the_pins_of_the_cluster_minor() -> None:
    cfg = parse_cluster_config({"aws:region": "eu-west-1"}, stack="prod", source="x").eks_addons
    assert cfg == EksAddonsConfig()  # nothing pinned in the stack: every version follows the minor
    for minor in (31, 35):
        assert addon_versions(cfg, f"1.{minor}") == {
            addon: RELEASES[addon][minor].version for addon in ADDON_FIELDS
        }
    assert addon_versions(EksAddonsConfig(coredns="v1.11.4-eksbuild.2"), "1.35")["coredns"] == (
        "v1.11.4-eksbuild.2"
    )
    assert addon_versions(cfg, "1.36")["kube-proxy"] is None  # no kube-proxy pin for 1.36 yet


def test_a_minor_without_a_pinned_build_needs_an_explicit_version() -> None:
    args = EksAddonsArgs(
        cluster_name="eks-x",
        kubernetes_version="1.36",
        oidc_provider_arn="arn",
        oidc_provider_url="oidc",
        tags=Tags(team="platform", environment="prod", cost_centre="cc"),
    )
    with pytest.raises(ValidationError) as info:
        validate_eks_addons_args(args)
    assert [str(p) for p in info.value.problems] == [
        f"config.{attr}: got None: no {addon} build is pinned for Kubernetes 1.36 "
        "(eksplatform.cluster.versions.RELEASES): set it from aws eks describe-addon-versions "
        f"--addon-name {addon} --kubernetes-version 1.36"
        for addon, attr in ADDON_FIELDS.items()
    ]


def test_bad_versions_and_keys_are_reported_together() -> None:
    raw = {
        "aws:region": "eu-west-1",
        "platform:eksAddons": json.dumps({"coredns": "1.11.4", "kubeProxy": "latest", "cni": "x"}),
    }
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(raw, stack="prod", source="Pulumi.prod.yaml")
    assert [str(p) for p in info.value.problems] == [
        "platform:eksAddons.kubeProxy: got 'latest': not an EKS add-on version; write it like "
        "v1.19.3-eksbuild.1 (aws eks describe-addon-versions lists them)",
        "platform:eksAddons.coredns: got '1.11.4': not an EKS add-on version; write it like "
        "v1.19.3-eksbuild.1 (aws eks describe-addon-versions lists them)",
        "platform:eksAddons.cni: got 'x': unknown key; allowed keys here: coredns, kubeProxy, "
        "metricsServer, networkPolicy, podIdentityAgent, vpcCni",
    ]


def test_kube_proxy_must_match_the_cluster_minor() -> None:
    args = EksAddonsArgs(
        cluster_name="eks-x",
        kubernetes_version="1.32",
        oidc_provider_arn="arn",
        oidc_provider_url="oidc",
        tags=Tags(team="platform", environment="prod", cost_centre="cc"),
        config=EksAddonsConfig(kube_proxy="v1.31.3-eksbuild.2"),
    )
    with pytest.raises(ValidationError) as info:
        validate_eks_addons_args(args)
    assert str(info.value) == (
        "EksAddons: 1 problem:\n"
        "  - config.kube_proxy: got 'v1.31.3-eksbuild.2': kube-proxy must match the cluster's "
        "minor version 1.32; pick a v1.32.x build from aws eks describe-addon-versions "
        "--addon-name kube-proxy --kubernetes-version 1.32"
    )


def test_every_addon_is_managed_at_its_configured_version(cluster_preview: Preview) -> None:
    addons = _addons(cluster_preview("prod"))
    assert {name: a.inputs["addonVersion"] for name, a in addons.items()} == {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "kube-proxy": "v1.35.3-eksbuild.2",
        "coredns": "v1.14.2-eksbuild.4",
        "eks-pod-identity-agent": "v1.3.5-eksbuild.2",
        "metrics-server": "v0.7.2-eksbuild.1",
    }
    for addon in addons.values():
        assert addon.inputs["clusterName"] == "eks-prod"
        assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
        assert addon.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"
        assert addon.inputs["tags"]["environment"] == "prod"
    assert {n for n, a in addons.items() if a.inputs["preserve"]} == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
    }


def test_configured_versions_reach_the_addons(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    doc = yaml.safe_load(stack.read_text())
    doc["config"]["platform:eksAddons"] = {
        "coredns": "v1.11.4-eksbuild.33",
        "networkPolicy": False,
    }
    stack.write_text(yaml.safe_dump(doc))
    result = run_preview(ws, "cluster", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    addons = _addons(result)
    assert addons["coredns"].inputs["addonVersion"] == "v1.11.4-eksbuild.33"
    assert addons["kube-proxy"].inputs["addonVersion"] == "v1.35.3-eksbuild.2"
    cni = json.loads(addons["vpc-cni"].inputs["configurationValues"])
    assert cni == {"enableNetworkPolicy": "false"}


def test_vpc_cni_has_its_own_irsa_role_and_network_policy(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    cni = _addons(result)["vpc-cni"]
    assert json.loads(cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    (role,) = [r for r in result.by_type("aws:iam/role:Role") if r.name == "addons-vpc-cni"]
    assert cni.inputs["serviceAccountRoleArn"] == role.outputs["arn"]
    outputs = result.plain_outputs()
    issuer = outputs["oidcProviderUrl"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": outputs["oidcProviderArn"]},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:sub": "system:serviceaccount:kube-system:aws-node",
                    f"{issuer}:aud": "sts.amazonaws.com",
                }
            },
        }
    ]
    attached = [
        r.inputs["policyArn"]
        for r in result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == role.outputs["name"]
    ]
    assert attached == ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]
    # the node role does not carry the CNI permissions
    assert not [
        r
        for r in result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["policyArn"].endswith("AmazonEKS_CNI_Policy") and r.inputs["role"] != role.id
    ]


def test_coredns_and_metrics_server_wait_for_every_node_group(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    groups = {g.urn for g in result.by_type(ASG)}
    assert len(groups) == 6
    addons = _addons(result)
    for name in ("coredns", "metrics-server"):
        assert groups <= set(addons[name].dependencies), name
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):  # nodes need these to be Ready
        assert not groups & set(addons[name].dependencies), name
    cluster = result.by_type("aws:eks/cluster:Cluster")[0].urn
    assert all(cluster in a.dependencies for a in addons.values())


def test_pulumi_eks_and_eks_install_no_addons_of_their_own(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    component = result.by_type("eks:index:Cluster")[0]
    assert component.inputs["bootstrapSelfManagedAddons"] is False
    assert component.inputs["useDefaultVpcCni"] is True
    assert component.inputs["kubeProxyAddonOptions"]["enabled"] is False
    assert component.inputs["corednsAddonOptions"]["enabled"] is False
    cluster = result.by_type("aws:eks/cluster:Cluster")[0]
    assert cluster.inputs["bootstrapSelfManagedAddons"] is False
    assert not [r for r in result.resources if r.parent == component.urn and r.type == ADDON]
    assert result.by_type("eks:index:VpcCniAddon") == []
    names = sorted(r.inputs["addonName"] for r in result.by_type(ADDON))
    assert names == sorted(set(names))  # one owner per add-on


PLAIN_EKS = """
import pulumi_eks as eks

eks.Cluster("plain", skip_default_node_group=True)
"""


def test_the_offline_cluster_would_show_pulumi_eks_defaults(tmp_path: Path) -> None:
    """The previous test can fail: left at its defaults, pulumi-eks creates its own add-ons."""
    ws = Workspace(tmp_path / "ws")
    write_program(
        tmp_path / "ws" / "services" / "plain",
        project="plain",
        main=PLAIN_EKS,
        stacks={"dev": "config:\n  aws:region: eu-west-1\n"},
    )
    result = run_preview(ws, "services/plain", "dev")
    assert result.ok, [d.message for d in result.diagnostics]
    assert [r.inputs["addonName"] for r in result.by_type(ADDON)] == ["kube-proxy"]
    assert len(result.by_type("eks:index:VpcCniAddon")) == 1


def test_bad_addon_config_registers_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(stack.read_text())
    doc["config"]["platform:eksAddons"] = {"vpcCni": "v1.19"}
    stack.write_text(yaml.safe_dump(doc))
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []


def test_kube_proxy_of_another_minor_stops_the_program_before_anything(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(stack.read_text())
    doc["config"]["platform:kubernetesVersion"] = "1.32"
    doc["config"]["platform:eksAddons"] = {"kubeProxy": "v1.31.3-eksbuild.2"}
    stack.write_text(yaml.safe_dump(doc))
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:eksAddons.kubeProxy: got 'v1.31.3-eksbuild.2': kube-proxy must match the "
        "cluster's minor version 1.32; pick a v1.32.x build from aws eks describe-addon-versions "
        "--addon-name kube-proxy --kubernetes-version 1.32"
    ]

"""arm64 (Graviton) node pools: the instance table, one architecture per pool (exact messages,
every problem at once, nothing registered), the arm64 AMI and the architecture label in the
preview, and the contract's ``nodeArchitectures``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.node_pools import (
    INSTANCE_ARCHITECTURES,
    INSTANCE_SHAPES,
    NodePoolConfig,
    ami_parameter,
    autoscaler_tags,
)
from eksplatform.cluster.versions import DEFAULT_KUBERNETES_VERSION
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview
from eksplatform.preview.mocks import digest

from tests.conftest import make_workspace

ASG = "aws:autoscaling/group:Group"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
ARCH_TAG = "k8s.io/cluster-autoscaler/node-template/label/kubernetes.io/arch"


def pools_problems(pools: Any) -> list[str]:
    raw = {"aws:region": "eu-west-1", "platform:nodePools": json.dumps(pools)}
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(raw, stack="prod", source="Pulumi.prod.yaml")
    return [str(p) for p in info.value.problems]


def test_graviton_types_are_in_the_table_with_their_x86_shapes() -> None:
    assert INSTANCE_SHAPES["m6g.xlarge"] == INSTANCE_SHAPES["m6i.xlarge"] == (4, 16)
    assert INSTANCE_SHAPES["c7g.2xlarge"] == INSTANCE_SHAPES["c6i.2xlarge"] == (8, 16)
    assert INSTANCE_SHAPES["r6g.large"] == INSTANCE_SHAPES["r6i.large"] == (2, 16)
    assert INSTANCE_SHAPES["t4g.medium"] == INSTANCE_SHAPES["t3.medium"] == (2, 4)
    assert INSTANCE_ARCHITECTURES["m7g.8xlarge"] == "arm64"
    assert INSTANCE_ARCHITECTURES["m7i.8xlarge"] == "amd64"
    assert {a for a in INSTANCE_ARCHITECTURES.values()} == {"amd64", "arm64"}


def test_architecture_is_derived_from_the_types_or_checked_against_them() -> None:
    arm = NodePoolConfig(name="arm", instanceTypes=("m6g.xlarge", "m7g.xlarge"))  # type: ignore[call-arg]
    assert arm.architecture == "arm64" and arm.arch == "arm64"
    x86 = NodePoolConfig(name="x86")
    assert x86.architecture == "amd64"
    given = NodePoolConfig(name="arm", instanceTypes=("m6g.xlarge",), architecture="arm64")  # type: ignore[call-arg]
    assert given.arch == "arm64"


def test_x86_and_graviton_types_never_share_a_pool() -> None:
    assert pools_problems(
        [{"name": "general", "instanceTypes": ["m6i.xlarge", "m6g.xlarge", "m5.xlarge"]}]
    ) == [
        "platform:nodePools[0].instanceTypes: got ['m6i.xlarge', 'm6g.xlarge', 'm5.xlarge']: "
        "mixes amd64 (x86_64) types m6i.xlarge, m5.xlarge with arm64 (Graviton) types "
        "m6g.xlarge: a pool runs one AMI, so move the Graviton types to a pool of their own "
        "(architecture: arm64)"
    ]


def test_every_architecture_problem_at_once() -> None:
    assert pools_problems(
        [
            {"name": "arm", "instanceTypes": ["m6i.xlarge", "m6a.xlarge"], "architecture": "arm64"},
            {"name": "odd", "architecture": "x86_64"},
            {"name": "mix", "instanceTypes": ["t4g.large", "t3.large"], "minSize": 3, "maxSize": 2},
        ]
    ) == [
        "platform:nodePools[0].architecture: got 'arm64': the instance types are amd64 "
        "(m6i.xlarge, m6a.xlarge): list arm64 types or set architecture: amd64",
        "platform:nodePools[1].architecture: got 'x86_64': Input should be 'amd64' or 'arm64'",
        "platform:nodePools[2].instanceTypes: got ['t4g.large', 't3.large']: mixes amd64 "
        "(x86_64) types t3.large with arm64 (Graviton) types t4g.large: a pool runs one AMI, so "
        "move the Graviton types to a pool of their own (architecture: arm64)",
        "platform:nodePools[2].minSize: got 3: is above maxSize (2); make minSize <= maxSize",
    ]


def test_ami_parameter_per_architecture() -> None:
    assert ami_parameter("1.31") == (
        "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id"
    )
    assert ami_parameter("1.31", "arm64") == (
        "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/standard/recommended/image_id"
    )


def test_autoscaler_template_names_the_architecture() -> None:
    arm = NodePoolConfig(name="arm", instanceTypes=("m6g.xlarge", "m7g.xlarge"), minSize=0)  # type: ignore[call-arg]
    assert autoscaler_tags("eks-prod", arm)[ARCH_TAG] == "arm64"
    assert ARCH_TAG not in autoscaler_tags("eks-prod", NodePoolConfig(name="x"))  # amd64: default


ARM_POOL = {
    "name": "graviton",
    "instanceTypes": ["m7g.2xlarge", "m6g.2xlarge"],
    "architecture": "arm64",
    "onDemandBaseCapacity": 0,
    "minSize": 0,
    "maxSize": 6,
}


def _preview_with_pools(tmp_path: Path, pools: list[dict[str, Any]]) -> PreviewResult:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    doc = yaml.safe_load(stack.read_text())
    doc["config"]["platform:nodePools"] = pools
    stack.write_text(yaml.safe_dump(doc))
    return run_preview(ws, "cluster", "staging")


def test_an_arm64_pool_previews_with_the_arm64_ami_and_label(tmp_path: Path) -> None:
    general = {"name": "general", "instanceTypes": ["m6i.large", "m6a.large", "m5.large"]}
    result = _preview_with_pools(tmp_path, [general, ARM_POOL])
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    images = {lt.name: lt.inputs["imageId"] for lt in result.by_type(LT)}
    assert images == {
        "nodes-general": "ami-" + digest(ami_parameter(DEFAULT_KUBERNETES_VERSION, "amd64")),
        "nodes-graviton": "ami-" + digest(ami_parameter(DEFAULT_KUBERNETES_VERSION, "arm64")),
    }
    for group in result.by_type(ASG):
        tags = {t["key"]: t["value"] for t in group.inputs["tags"]}
        pool = tags["eksplatform.io/node-pool"]
        arch = "arm64" if pool == "graviton" else "amd64"
        assert tags.get(ARCH_TAG, "amd64") == arch and (ARCH_TAG in tags) == (arch == "arm64")
        types = [
            o["instanceType"]
            for o in group.inputs["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
        ]
        assert {INSTANCE_ARCHITECTURES[t] for t in types} == {arch}
    assert result.plain_outputs()["nodeArchitectures"] == ["amd64", "arm64"]


def test_an_arm64_only_cluster_exports_only_arm64(tmp_path: Path) -> None:
    result = _preview_with_pools(tmp_path, [{**ARM_POOL, "name": "general", "minSize": 1}])
    assert result.ok
    assert result.plain_outputs()["nodeArchitectures"] == ["arm64"]


def test_a_mixed_pool_registers_nothing(tmp_path: Path) -> None:
    result = _preview_with_pools(
        tmp_path, [{"name": "general", "instanceTypes": ["m6i.large", "m6g.large"]}]
    )
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == [] and result.registered_before_error == []
    (error,) = [d.message for d in result.diagnostics if d.severity == "error"]
    assert error.splitlines() == [
        "Pulumi.staging.yaml: invalid stack configuration: 1 problem:",
        "  - platform:nodePools[0].instanceTypes: got ['m6i.large', 'm6g.large']: mixes amd64 "
        "(x86_64) types m6i.large with arm64 (Graviton) types m6g.large: a pool runs one AMI, so "
        "move the Graviton types to a pool of their own (architecture: arm64)",
    ]

"""Node pools: config validation (exact text), the prod/staging previews, the user data."""

from __future__ import annotations

import base64
import email
import email.message
import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.control_plane import ControlPlaneArgs, validate_control_plane_args
from eksplatform.cluster.node_pools import (
    CAPACITY_TYPE_LABEL,
    NODE_POOL_LABEL,
    NODEADM_DROP_IN,
    NodePoolConfig,
    NodePoolsArgs,
    TaintConfig,
    ami_parameter,
    autoscaler_tags,
    capacity_type_script,
    validate_node_pools_args,
)
from eksplatform.core.errors import ValidationError
from eksplatform.core.tags import Tags
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview
from eksplatform.preview.mocks import Recorded, digest

from tests.conftest import make_workspace

Preview = Callable[[str], PreviewResult]
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
ASG = "aws:autoscaling/group:Group"
LT = "aws:ec2/launchTemplate:LaunchTemplate"


def pools_problems(pools: Any) -> list[str]:
    raw = {"aws:region": "eu-west-1", "platform:nodePools": json.dumps(pools)}
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(raw, stack="prod", source="Pulumi.prod.yaml")
    return [str(p) for p in info.value.problems]


# --- validation ---------------------------------------------------------------------------------


def test_default_is_one_general_pool_spot_heavy_and_diversified() -> None:
    cfg = parse_cluster_config({"aws:region": "eu-west-1"}, stack="prod", source="x")
    (pool,) = cfg.node_pools
    assert pool.name == "general"
    assert len(pool.instance_types) >= 3
    assert pool.on_demand_percentage_above_base == 30
    assert pool.on_demand_base_capacity == 1
    assert pool.desired_size == pool.min_size == 1
    assert pool.root_volume_size_gib == 50


def test_mixed_instance_shapes() -> None:
    assert pools_problems(
        [{"name": "web", "instanceTypes": ["m5.xlarge", "m6i.xlarge", "c5.xlarge"]}]
    ) == [
        "platform:nodePools[0].instanceTypes: got ['m5.xlarge', 'm6i.xlarge', 'c5.xlarge']: all "
        "types must have the shape of the first (m5.xlarge: 4 vCPU/16 GiB) because the Cluster "
        "Autoscaler plans with it; but c5.xlarge is 4 vCPU/8 GiB: move them to a pool of their own"
    ]


def test_min_above_max() -> None:
    assert pools_problems([{"name": "web", "minSize": 4, "maxSize": 3}]) == [
        "platform:nodePools[0].minSize: got 4: is above maxSize (3); make minSize <= maxSize"
    ]


@pytest.mark.parametrize("value", [-1, 101])
def test_percentage_outside_0_to_100(value: int) -> None:
    assert pools_problems([{"name": "web", "onDemandPercentageAboveBase": value}]) == [
        f"platform:nodePools[0].onDemandPercentageAboveBase: got {value}: must be 0 to 100 (30 "
        "keeps 70% of the capacity above the base on spot)"
    ]


def test_unknown_instance_type_names_it_and_close_matches() -> None:
    assert pools_problems([{"name": "web", "instanceTypes": ["m6i.xlarge", "m6i.xlarg"]}]) == [
        "platform:nodePools[0].instanceTypes: got ['m6i.xlarge', 'm6i.xlarg']: unknown instance "
        "type 'm6i.xlarg' (did you mean m6i.xlarge, m6i.8xlarge, m6i.4xlarge?): use a large to "
        "8xlarge size of c5, c5a, c6a, c6g, c6i, c7a, c7g, c7i, m5, m5a, m6a, m6g, m6i, m7a, m7g, "
        "m7i, r5, r5a, r6a, r6g, r6i, r7a, r7g, r7i, t3, t3a, t4g"
    ]


def test_empty_list() -> None:
    assert pools_problems([]) == [
        "platform:nodePools: got []: list at least one node pool (the cluster has no other nodes)"
    ]


def test_duplicate_names_point_at_the_second() -> None:
    assert pools_problems([{"name": "web"}, {"name": "batch"}, {"name": "web"}]) == [
        "platform:nodePools[2].name: got 'web': pool names must be unique; nodePools[0] is "
        "already 'web': rename one"
    ]


def test_bad_taint_effect() -> None:
    assert pools_problems(
        [{"name": "web", "taints": [{"key": "dedicated", "effect": "NoRun"}]}]
    ) == [
        "platform:nodePools[0].taints[0].effect: got 'NoRun': Input should be 'NoSchedule', "
        "'PreferNoSchedule' or 'NoExecute'"
    ]


def test_every_problem_at_once_across_pools() -> None:
    found = pools_problems(
        [
            {"name": "web", "onDemandPercentageAboveBase": 120, "minSize": 5, "maxSize": 2},
            {"name": "Batch", "labels": {"kubernetes.io/role": "batch"}, "rootVolumeSizeGib": 8},
            {"name": "web", "onDemandBaseCapacity": 12, "colour": "red"},
        ]
    )
    assert found == [
        "platform:nodePools[0].onDemandPercentageAboveBase: got 120: must be 0 to 100 (30 keeps "
        "70% of the capacity above the base on spot)",
        "platform:nodePools[0].minSize: got 5: is above maxSize (2); make minSize <= maxSize",
        "platform:nodePools[1].name: got 'Batch': use lowercase letters, digits and '-', "
        "starting with a letter (at most 24 characters)",
        "platform:nodePools[1].labels: got {'kubernetes.io/role': 'batch'}: 'kubernetes.io/role':"
        " the kubelet refuses kubernetes.io and k8s.io labels other than node.kubernetes.io/ and "
        "kubelet.kubernetes.io/ ones; use your own prefix",
        "platform:nodePools[1].rootVolumeSizeGib: got 8: must be 20 to 16384 (the AMI's own "
        "snapshot is 20 GiB)",
        "platform:nodePools[2].colour: got 'red': unknown key; allowed keys here: architecture, desiredSize, "
        "instanceTypes, labels, maxSize, minSize, name, onDemandBaseCapacity, "
        "onDemandPercentageAboveBase, rootVolumeSizeGib, taints",
        "platform:nodePools[2].onDemandBaseCapacity: got 12: is above maxSize (10), so the group "
        "could never run spot; lower it or raise maxSize",
        "platform:nodePools[2].name: got 'web': pool names must be unique; nodePools[0] is "
        "already 'web': rename one",
    ]


def test_platform_labels_and_desired_size_out_of_range() -> None:
    found = pools_problems(
        [{"name": "web", "desiredSize": 9, "maxSize": 4, "labels": {NODE_POOL_LABEL: "x"}}]
    )
    assert found == [
        "platform:nodePools[0].labels: got {'eksplatform.io/node-pool': 'x'}: "
        "'eksplatform.io/node-pool' is set by the platform",
        "platform:nodePools[0].desiredSize: got 9: must be between minSize (1) and maxSize (4)",
    ]


def test_bad_pool_config_registers_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(stack.read_text())
    doc["config"]["platform:nodePools"] = [
        {"name": "general", "instanceTypes": ["m5.xlarge", "r5.xlarge"], "minSize": 3, "maxSize": 1}
    ]
    stack.write_text(yaml.safe_dump(doc))
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    (error,) = [d.message for d in result.diagnostics if d.severity == "error"]
    assert error.splitlines() == [
        "Pulumi.prod.yaml: invalid stack configuration: 2 problems:",
        "  - platform:nodePools[0].instanceTypes: got ['m5.xlarge', 'r5.xlarge']: all types must "
        "have the shape of the first (m5.xlarge: 4 vCPU/16 GiB) because the Cluster Autoscaler "
        "plans with it; but r5.xlarge is 4 vCPU/32 GiB: move them to a pool of their own",
        "  - platform:nodePools[0].minSize: got 3: is above maxSize (1); make minSize <= maxSize",
    ]


def test_component_args_are_checked_before_anything_is_created() -> None:
    args = NodePoolsArgs(
        cluster_name="eks-x",
        kubernetes_version="1.31",
        cluster_endpoint="https://x",
        certificate_authority="Y2E=",
        service_cidr="172.20.0.0/33",
        availability_zones=ZONES,
        private_subnet_ids=["subnet-a", "subnet-b"],
        node_security_group_id="sg-1",
        tags=Tags(team="platform", environment="prod", cost_centre="cc"),
        pools=(NodePoolConfig(name="a"), NodePoolConfig(name="a")),
    )
    with pytest.raises(ValidationError) as info:
        validate_node_pools_args(args)
    assert str(info.value) == (
        "NodePools 'eks-x': 3 problems:\n"
        "  - pools: got ['a', 'a']: pool names must be unique: a repeat\n"
        "  - private_subnet_ids: got '2 subnets': give one private subnet per zone (3)\n"
        "  - service_cidr: got '172.20.0.0/33': not an IPv4 CIDR; write it like 172.20.0.0/16"
    )


# --- the prod preview ---------------------------------------------------------------------------


def _groups(result: PreviewResult, pool: str) -> list[Recorded]:
    return [r for r in result.by_type(ASG) if r.name.startswith(f"nodes-{pool}-")]


def test_one_group_per_zone_per_pool_named_for_the_priority_expander(
    cluster_preview: Preview,
) -> None:
    result = cluster_preview("prod")
    assert len(result.by_type(ASG)) == 6
    subnets = {
        r.inputs["availabilityZone"]: r.id
        for r in result.by_type("aws:ec2/subnet:Subnet")
        if r.inputs["tags"]["subnet-tier"] == "private"
    }
    for pool in ("general", "memory"):
        groups = _groups(result, pool)
        assert [g.name for g in groups] == [f"nodes-{pool}-{z}" for z in ZONES]
        for zone, group in zip(ZONES, groups, strict=True):
            assert group.inputs["namePrefix"] == f"eks-prod-{pool}-{zone}-"
            assert group.outputs["name"].startswith(f"eks-prod-{pool}-{zone}-")
            assert group.inputs["vpcZoneIdentifiers"] == [subnets[zone]]


def test_mixed_instances_policy_is_spot_heavy_and_diversified(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    lts = {r.name: r for r in result.by_type(LT)}
    for group in result.by_type(ASG):
        policy = group.inputs["mixedInstancesPolicy"]
        dist = policy["instancesDistribution"]
        assert dist["onDemandPercentageAboveBaseCapacity"] == 30  # 70% spot above the base
        assert dist["spotAllocationStrategy"] == "price-capacity-optimized"
        types = [o["instanceType"] for o in policy["launchTemplate"]["overrides"]]
        assert len(types) >= 3
        pool = group.name.split("-")[1]
        lt = lts[f"nodes-{pool}"]
        spec = policy["launchTemplate"]["launchTemplateSpecification"]
        assert spec == {"launchTemplateId": lt.id, "version": "1"}  # the template's latest version
        assert group.inputs["capacityRebalance"] is True
        assert group.inputs["instanceRefresh"] == {
            "strategy": "Rolling",
            "preferences": {
                "minHealthyPercentage": 90,
                "skipMatching": True,
                "instanceWarmup": "120",
            },
        }
    general, memory = _groups(result, "general")[0], _groups(result, "memory")[0]
    assert (
        general.inputs["mixedInstancesPolicy"]["instancesDistribution"]["onDemandBaseCapacity"] == 1
    )
    assert (
        memory.inputs["mixedInstancesPolicy"]["instancesDistribution"]["onDemandBaseCapacity"] == 0
    )
    assert [
        o["instanceType"]
        for o in general.inputs["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
    ] == ["m6i.2xlarge", "m6a.2xlarge", "m7i.2xlarge", "m5.2xlarge", "m5a.2xlarge"]
    assert (
        general.inputs["minSize"],
        general.inputs["maxSize"],
        general.inputs["desiredCapacity"],
    ) == (2, 20, 2)


def test_desired_capacity_is_set_once_then_left_to_the_autoscaler(cluster_preview: Preview) -> None:
    for group in cluster_preview("prod").by_type(ASG):
        assert group.ignore_changes == ["desiredCapacity"]
        assert "desiredCapacity" in group.inputs


def test_launch_template_is_hardened(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    sg = result.outputs["nodeSecurityGroupId"]
    for lt in result.by_type(LT):
        inputs = lt.inputs
        assert inputs["metadataOptions"]["httpTokens"] == "required"
        assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
        (disk,) = inputs["blockDeviceMappings"]
        assert disk["deviceName"] == "/dev/xvda"
        assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volumeType"] == "gp3"
        assert inputs["monitoring"] == {"enabled": True}
        assert inputs["vpcSecurityGroupIds"] == [sg]
        assert inputs["updateDefaultVersion"] is True
        # the recommended AL2023 AMI of the cluster's version, read from its SSM parameter
        assert inputs["imageId"] == "ami-" + digest(ami_parameter("1.35"))
    sizes = {
        lt.name: lt.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"]
        for lt in result.by_type(LT)
    }
    assert sizes == {"nodes-general": 80, "nodes-memory": 50}


def test_autoscaler_discovery_and_node_template_tags(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    for group in result.by_type(ASG):
        tags = {t["key"]: (t["value"], t["propagateAtLaunch"]) for t in group.inputs["tags"]}
        assert tags["k8s.io/cluster-autoscaler/enabled"] == ("true", False)
        assert tags["k8s.io/cluster-autoscaler/eks-prod"] == ("owned", False)
        assert tags["environment"] == ("prod", True) and tags["team"] == ("platform", True)
        assert tags["kubernetes.io/cluster/eks-prod"] == ("owned", True)
    memory = {t["key"]: t["value"] for t in _groups(result, "memory")[0].inputs["tags"]}
    template = {
        k.removeprefix("k8s.io/cluster-autoscaler/node-template/"): v
        for k, v in memory.items()
        if k.startswith("k8s.io/cluster-autoscaler/node-template/")
    }
    assert template == {
        f"label/{NODE_POOL_LABEL}": "memory",
        "label/eksplatform.io/workload": "memory",
        "taint/eksplatform.io/workload": "memory:NoSchedule",
        "resources/cpu": "8",
        "resources/memory": "64Gi",
        "resources/ephemeral-storage": "50Gi",
    }


def test_capacity_label_is_templated_only_for_pure_pools(cluster_preview: Preview) -> None:
    key = f"k8s.io/cluster-autoscaler/node-template/label/{CAPACITY_TYPE_LABEL}"
    staging = cluster_preview("staging").by_type(ASG)
    assert len(staging) == 3
    for group in staging:  # staging is all spot
        dist = group.inputs["mixedInstancesPolicy"]["instancesDistribution"]
        assert (dist["onDemandBaseCapacity"], dist["onDemandPercentageAboveBaseCapacity"]) == (0, 0)
        assert {t["key"]: t["value"] for t in group.inputs["tags"]}[key] == "spot"
    for group in cluster_preview("prod").by_type(ASG):  # mixed: the next node may be either
        assert key not in {t["key"] for t in group.inputs["tags"]}
    on_demand = NodePoolConfig(name="od", onDemandPercentageAboveBase=100)  # type: ignore[call-arg]
    assert autoscaler_tags("c", on_demand)[key] == "on-demand"


def test_node_role_has_exactly_the_three_policies_and_an_ec2_linux_entry(
    cluster_preview: Preview,
) -> None:
    result = cluster_preview("prod")
    (role,) = [r for r in result.by_type("aws:iam/role:Role") if r.name == "nodes-node"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    attached = sorted(
        r.inputs["policyArn"]
        for r in result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == role.outputs["name"]
    )
    assert attached == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ]  # no SSM: Run Command on a node is root over every team's pods
    assert not [r for r in result.by_type("aws:iam/rolePolicy:RolePolicy") if "node" in r.name]
    assert "managedPolicyArns" not in role.inputs and "inlinePolicies" not in role.inputs
    (entry,) = [
        r for r in result.by_type("aws:eks/accessEntry:AccessEntry") if r.name == "nodes-node"
    ]
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"] == role.outputs["arn"]
    assert entry.inputs["clusterName"] == "eks-prod"
    cluster_urn = result.by_type("aws:eks/cluster:Cluster")[0].urn
    assert cluster_urn in entry.dependencies  # created only once the cluster exists
    for group in result.by_type(ASG):  # nodes launch only once they may join
        assert entry.urn in group.dependencies
    (profile,) = result.by_type("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == role.outputs["name"]
    for lt in result.by_type(LT):
        assert lt.inputs["iamInstanceProfile"] == {"arn": profile.outputs["arn"]}


def test_node_pools_add_no_security_group_rules(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    (pools,) = [r for r in result.resources if r.type == "eksplatform:compute:NodePools"]
    children = [r for r in result.resources if r.parent == pools.urn]
    assert not [r for r in children if "security" in r.type.lower()]
    # pulumi-eks's node group rules: node-to-node, control plane to kubelet/webhooks and 443, egress
    nsg = result.outputs["nodeSecurityGroupId"]
    rules = sorted(
        (r.inputs["type"], r.inputs["protocol"], r.inputs["fromPort"], r.inputs["toPort"])
        for r in result.by_type("aws:ec2/securityGroupRule:SecurityGroupRule")
        if r.inputs.get("securityGroupId") == nsg
    )
    assert rules == [
        ("egress", "-1", 0, 0),
        ("ingress", "-1", 0, 0),
        ("ingress", "tcp", 443, 443),
        ("ingress", "tcp", 1025, 65535),
    ]


def test_contract_carries_the_groups_and_label_names(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    outputs = result.plain_outputs()
    assert outputs["nodePoolAsgNames"] == [g.outputs["name"] for g in result.by_type(ASG)]
    assert outputs["capacityTypeLabel"] == CAPACITY_TYPE_LABEL == "eksplatform.io/capacity-type"
    assert outputs["nodePoolLabel"] == NODE_POOL_LABEL == "eksplatform.io/node-pool"


def test_fewer_than_three_spot_types_warns(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    doc = yaml.safe_load(stack.read_text())
    doc["config"]["platform:nodePools"] = [
        {"name": "general", "instanceTypes": ["m6i.large", "m5.large"]}
    ]
    stack.write_text(yaml.safe_dump(doc))
    result = run_preview(ws, "cluster", "staging")
    assert result.ok
    warnings = [d.message for d in result.diagnostics if d.severity == "warning"]
    assert warnings == [
        "node pool 'general' runs spot on 2 instance type(s): list 3 or more of the same shape so "
        "a spot shortage of one type does not stop scale-ups"
    ]


# --- user data ----------------------------------------------------------------------------------


def _user_data(result: PreviewResult, pool: str) -> dict[str, str]:
    (lt,) = [r for r in result.by_type(LT) if r.name == f"nodes-{pool}"]
    message = email.message_from_string(base64.b64decode(lt.inputs["userData"]).decode())
    assert message.get_content_type() == "multipart/mixed"
    parts: dict[str, str] = {}
    for part in message.get_payload():
        assert isinstance(part, email.message.Message)
        payload = part.get_payload()
        assert isinstance(payload, str)
        parts[part.get_content_type()] = payload
    return parts


def test_user_data_node_config_joins_the_cluster(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    outputs = result.plain_outputs()
    parts = _user_data(result, "memory")
    assert list(parts) == ["application/node.eks.aws", "text/x-shellscript"]
    config = yaml.safe_load(parts["application/node.eks.aws"])
    assert config == {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {
            "cluster": {
                "name": "eks-prod",
                "apiServerEndpoint": outputs["endpoint"],
                "certificateAuthority": outputs["certificateAuthority"],
                "cidr": "172.20.0.0/16",
            },
            "kubelet": {
                "flags": [
                    f"--node-labels={NODE_POOL_LABEL}=memory,eksplatform.io/workload=memory",
                    "--register-with-taints=eksplatform.io/workload=memory:NoSchedule",
                ]
            },
        },
    }
    eks = result.by_type("aws:eks/cluster:Cluster")[0]
    assert eks.inputs["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    general = yaml.safe_load(_user_data(result, "general")["application/node.eks.aws"])
    assert general["spec"]["kubelet"]["flags"] == [f"--node-labels={NODE_POOL_LABEL}=general"]
    assert parts["text/x-shellscript"].strip() == capacity_type_script().strip()


FAKE_CURL = """#!/usr/bin/env bash
# IMDSv2 stand-in: a token for PUT /api/token, the life cycle only with that token.
args="$*"
case "$args" in
  *"-X PUT"*"api/token"*) [ "$IMDS_DOWN" = 1 ] && exit 7; echo -n tok123 ;;
  *"X-aws-ec2-metadata-token: tok123"*"meta-data/instance-life-cycle"*) echo -n "$LIFECYCLE" ;;
  *) exit 22 ;;
esac
"""


def _run_boot_script(tmp_path: Path, lifecycle: str, imds_down: bool = False) -> tuple[Path, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    curl = bin_dir / "curl"
    curl.write_text(FAKE_CURL)
    curl.chmod(curl.stat().st_mode | stat.S_IEXEC)
    drop_in = tmp_path / "etc/eks/nodeadm.d" / Path(NODEADM_DROP_IN).name
    script = capacity_type_script().replace(NODEADM_DROP_IN, str(drop_in))
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "LIFECYCLE": lifecycle,
        "IMDS_DOWN": "1" if imds_down else "0",
    }
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=True
    )
    return drop_in, done.stderr


@pytest.mark.parametrize("lifecycle", ["spot", "on-demand"])
def test_boot_script_labels_the_node_with_its_purchase_option(
    tmp_path: Path, lifecycle: str
) -> None:
    drop_in, _ = _run_boot_script(tmp_path, lifecycle)
    assert json.loads(drop_in.read_text()) == {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"kubelet": {"flags": [f"--node-labels={CAPACITY_TYPE_LABEL}={lifecycle}"]}},
    }
    assert NODEADM_DROP_IN.startswith("/etc/eks/nodeadm.d/")  # nodeadm's drop-in directory


@pytest.mark.parametrize(("lifecycle", "down"), [("scheduled", False), ("spot", True)])
def test_boot_script_leaves_the_label_unset_when_unsure(
    tmp_path: Path, lifecycle: str, down: bool
) -> None:
    drop_in, stderr = _run_boot_script(tmp_path, lifecycle, imds_down=down)
    assert not drop_in.exists()
    assert f"{CAPACITY_TYPE_LABEL} left unset" in stderr


def test_taint_keys_refuse_reserved_prefixes() -> None:
    with pytest.raises(ValueError, match="belong to Kubernetes itself"):
        TaintConfig(key="node.kubernetes.io/special")
    assert TaintConfig(key="dedicated", value="gpu").effect == "NoSchedule"
    ok = NodePoolConfig(name="web", labels={"node.kubernetes.io/lifecycle": "x"})
    assert ok.node_labels() == {NODE_POOL_LABEL: "web", "node.kubernetes.io/lifecycle": "x"}


@pytest.mark.parametrize(
    ("service_cidr", "message"),
    [
        (
            "10.40.0.0/16",
            "overlaps the VPC (10.40.0.0/16): Service IPs would shadow VPC addresses; "
            "pick another range, like 10.100.0.0/16",
        ),
        ("100.64.0.0/8", "use a private IPv4 range from /12 to /24, like 172.20.0.0/16"),
    ],
)
def test_service_cidr_nodes_join_with_is_checked(service_cidr: str, message: str) -> None:
    args = ControlPlaneArgs(
        cluster_name="eks-x",
        kubernetes_version="1.31",
        vpc_id="vpc-1",
        vpc_cidr="10.40.0.0/16",
        private_subnet_ids=["subnet-a"],
        public_subnet_ids=["subnet-b"],
        tags=Tags(team="platform", environment="prod", cost_centre="cc"),
        service_cidr=service_cidr,
    )
    with pytest.raises(ValidationError) as info:
        validate_control_plane_args(args)
    assert [str(p) for p in info.value.problems] == [
        f"service_cidr: got {service_cidr!r}: {message}"
    ]

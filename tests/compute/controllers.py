"""Fixtures of the controller tests (imported by them, so they stay apart from other tests of
this directory): a small program that runs the compute controllers on their own (fake Auto
Scaling group names, the real node pool config type), previewed offline once per session."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview, write_result
from eksplatform.preview.mocks import Recorded

from tests.conftest import make_workspace, write_program

CLUSTER = "eks-dev"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
POOLS = (("general", 30), ("general-od", 100), ("batch", 0))
"""(name, onDemandPercentageAboveBase): ``general-od`` starts with ``general-`` on purpose."""
ASG_NAMES = {
    f"{pool}-{zone}": f"{CLUSTER}-{pool}-{zone}-20261125{i:02d}"
    for i, (pool, _) in enumerate(POOLS)
    for zone in ZONES
}

PROGRAM = f"""
import pulumi
import pulumi_kubernetes as k8s
from eksplatform.cluster.autoscaler import AutoscalerConfig, ClusterAutoscaler, ClusterAutoscalerArgs
from eksplatform.cluster.interruption import (
    InterruptionHandler,
    InterruptionHandlerArgs,
    InterruptionHandlerConfig,
)
from eksplatform.cluster.node_pools import NodePoolConfig
from eksplatform.core.tags import Tags

cfg = pulumi.Config()
tags = Tags(team="platform", environment="dev", cost_centre="platform")
provider = k8s.Provider("k8s", kubeconfig="{{}}")
pools = [
    NodePoolConfig(name=name, on_demand_percentage_above_base=pct) for name, pct in {POOLS!r}
]
asg_names = {{key: pulumi.Output.from_input(value) for key, value in {ASG_NAMES!r}.items()}}
for i in range(cfg.get_int("extraGroups") or 0):
    asg_names[f"extra{{i}}-eu-west-1a"] = pulumi.Output.from_input(
        f"{CLUSTER}-extra{{i}}-eu-west-1a-" + "x" * 26
    )
InterruptionHandler(
    "nth",
    InterruptionHandlerArgs(
        cluster_name="{CLUSTER}",
        region="{REGION}",
        account_id="{ACCOUNT}",
        asg_names=asg_names,
        k8s_provider=provider,
        tags=tags,
        config=InterruptionHandlerConfig.model_validate(cfg.get_object("nth") or {{}}),
        preferred_node_labels={{"eksplatform.io/capacity-type": "on-demand"}},
    ),
)
ClusterAutoscaler(
    "autoscaler",
    ClusterAutoscalerArgs(
        cluster_name="{CLUSTER}",
        kubernetes_version=cfg.require("kubernetesVersion"),
        region="{REGION}",
        account_id="{ACCOUNT}",
        pools=pools,
        k8s_provider=provider,
        tags=tags,
        config=AutoscalerConfig.model_validate(cfg.get_object("autoscaler") or {{}}),
        balancing_ignore_labels=["eksplatform.io/capacity-type"],
        preferred_node_labels={{"eksplatform.io/capacity-type": "on-demand"}},
    ),
)
"""

STACKS = {
    "dev": 'config:\n  aws:region: eu-west-1\n  compute:kubernetesVersion: "1.31"\n',
    "tuned": (
        "config:\n  aws:region: eu-west-1\n"
        '  compute:kubernetesVersion: "1.33"\n'
        "  compute:autoscaler:\n"
        "    scanInterval: 20s\n"
        "    scaleDownUnneededTime: 30m\n"
        "    scaleDownUtilizationThreshold: 0.65\n"
        "    skipNodesWithLocalStorage: true\n"
        "  compute:nth:\n"
        "    replicas: 3\n"
        "    queueMessageRetentionSeconds: 600\n"
        "    lifecycleHeartbeatTimeoutSeconds: 120\n"
    ),
    "many": 'config:\n  aws:region: eu-west-1\n  compute:kubernetesVersion: "1.31"\n'
    "  compute:extraGroups: 40\n",
    "future": 'config:\n  aws:region: eu-west-1\n  compute:kubernetesVersion: "1.40"\n',
    "mismatch": (
        'config:\n  aws:region: eu-west-1\n  compute:kubernetesVersion: "1.31"\n'
        "  compute:autoscaler:\n    imageTag: v1.30.5\n"
    ),
}


class Compute:
    """One previewed stack of the scratch program, with lookups by component."""

    def __init__(self, result: PreviewResult, out_dir: Path) -> None:
        self.result = result
        self.out_dir = out_dir

    def component(self, typ: str) -> Recorded:
        found = [r for r in self.result.resources if r.type == typ]
        assert len(found) == 1, [r.urn for r in found]
        return found[0]

    def children(self, component_type: str, typ: str) -> list[Recorded]:
        parent = self.component(component_type).urn
        return [r for r in self.result.resources if r.parent == parent and r.type == typ]

    def child(self, component_type: str, typ: str) -> Recorded:
        found = self.children(component_type, typ)
        assert len(found) == 1, [r.urn for r in found]
        return found[0]

    def policy(self, component_type: str) -> dict[str, Any]:
        """The component role's inline policy, parsed from the previewed input."""
        doc = self.child(component_type, "aws:iam/rolePolicy:RolePolicy").inputs["policy"]
        parsed: dict[str, Any] = json.loads(doc)
        return parsed

    def manifest(self, kind: str, name: str, namespace: str = "kube-system") -> dict[str, Any]:
        where = f"namespaces/{namespace}" if namespace else "cluster"
        path = self.out_dir / "manifests" / where / kind / f"{name}.yaml"
        loaded: dict[str, Any] = yaml.safe_load(path.read_text())
        return loaded


@pytest.fixture(scope="session", name="controllers_workspace")
def controllers_workspace_fixture(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("compute")
    ws = make_workspace(root / "ws", with_cluster=False)
    write_program(
        root / "ws" / "services" / "compute", project="compute", main=PROGRAM, stacks=STACKS
    )
    return ws


@pytest.fixture(scope="session", name="compute")
def compute_fixture(controllers_workspace: Workspace) -> Callable[[str], Compute]:
    cache: dict[str, Compute] = {}

    def get(stack: str) -> Compute:
        if stack not in cache:
            result = run_preview(controllers_workspace, "services/compute", stack)
            cache[stack] = Compute(result, write_result(controllers_workspace, result))
        return cache[stack]

    return get

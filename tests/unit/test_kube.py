"""The shared Kubernetes building blocks in ``eksplatform.core.kube``."""

from __future__ import annotations

from pathlib import Path

from eksplatform.core import kube
from eksplatform.preview.engine import Workspace, run_preview

from tests.conftest import write_program


def test_pod_security_labels_default_every_mode_to_the_enforced_level() -> None:
    assert kube.pod_security_labels("restricted") == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def test_pod_security_labels_pin_each_mode_to_the_version() -> None:
    labels = kube.pod_security_labels(
        "privileged", warn="baseline", audit="restricted", version="latest"
    )
    assert list(labels.items()) == [
        ("pod-security.kubernetes.io/enforce", "privileged"),
        ("pod-security.kubernetes.io/enforce-version", "latest"),
        ("pod-security.kubernetes.io/warn", "baseline"),
        ("pod-security.kubernetes.io/warn-version", "latest"),
        ("pod-security.kubernetes.io/audit", "restricted"),
        ("pod-security.kubernetes.io/audit-version", "latest"),
    ]


BLOCKS = """
import pulumi
import pulumi_kubernetes as k8s
from eksplatform.core import kube
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs, SubjectArgs

provider = k8s.Provider("k8s")
opts = pulumi.ResourceOptions(provider=provider)
ns = kube.restricted_namespace("apps-ns", name="apps", labels={"team": "a"}, opts=opts)
in_ns = pulumi.ResourceOptions(provider=provider, depends_on=[ns])
account = k8s.core.v1.ServiceAccount(
    "sa", metadata=ObjectMetaArgs(name="worker", namespace="apps"), opts=in_ns
)
read = [PolicyRuleArgs(api_groups=[""], resources=["pods"], verbs=["get"])]
worker = SubjectArgs(kind="ServiceAccount", name="worker", namespace="apps")
kube.bound_role(
    "cr", "crb", name="reader", labels={"a": "b"}, rules=read, subjects=[worker], opts=opts,
    depends_on=[account],
)
kube.bound_role(
    "r", "rb", name="reader", namespace="apps", labels={}, rules=read, subjects=[worker],
    opts=in_ns,
)
kube.disruption_budget(
    "pdb", metadata=ObjectMetaArgs(name="worker", namespace="apps"), selector={"app": "w"},
    opts=in_ns,
)
"""


def test_building_blocks_register_what_they_say(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    write_program(
        tmp_path / "ws" / "services" / "blocks",
        project="blocks",
        main=BLOCKS,
        stacks={"dev": "config: {}\n"},
    )
    result = run_preview(ws, "services/blocks", "dev")
    assert result.ok, [d.message for d in result.diagnostics]
    by_name = {r.name: r for r in result.resources}
    assert by_name["apps-ns"].inputs["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "eksplatform",
        "team": "a",
        **kube.pod_security_labels("restricted"),
    }

    def kind(name: str) -> str:
        return by_name[name].type.rsplit(":", 1)[-1]

    def deps(name: str) -> set[str]:
        return {urn.rsplit("::", 1)[-1] for urn in by_name[name].dependencies}

    assert [kind(n) for n in ("cr", "crb", "r", "rb")] == [
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
    ]
    assert by_name["crb"].inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "reader",
    }
    assert by_name["rb"].inputs["roleRef"]["kind"] == "Role"
    assert by_name["rb"].inputs["metadata"]["namespace"] == "apps"
    assert "namespace" not in by_name["cr"].inputs["metadata"]
    # the binding waits for its role and what it was told to; a namespaced grant for its namespace
    assert deps("crb") == {"cr", "sa"}
    assert deps("rb") == {"r", "apps-ns"}
    spec = by_name["pdb"].inputs["spec"]
    assert spec == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "w"}}}

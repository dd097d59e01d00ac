"""Rendered manifests: two objects with the same group, kind, namespace and name are an error
(the second would overwrite the first, in the cluster and in build/), not a silent overwrite;
fields the API server allocates are not pinned in a manifest."""

from __future__ import annotations

from pathlib import Path

import yaml
from eksplatform.preview.engine import EXIT_INVALID_OBJECTS, EXIT_OK, run_preview, write_result

from tests.conftest import make_workspace, write_program

TWICE = """
import pulumi_kubernetes as k8s

k8s.core.v1.ConfigMap("one", metadata={"name": "settings", "namespace": "apps"}, data={"a": "1"})
k8s.core.v1.ConfigMap("two", metadata={"name": "settings", "namespace": "apps"}, data={"a": "2"})
k8s.core.v1.ConfigMap("other-ns", metadata={"name": "settings", "namespace": "web"}, data={})
k8s.core.v1.Secret("same-name-other-kind", metadata={"name": "settings", "namespace": "apps"})
HPA = {"scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": "web"},
       "min_replicas": 1, "max_replicas": 2}
k8s.autoscaling.v2.HorizontalPodAutoscaler("v2", metadata={"name": "web", "namespace": "apps"},
                                           spec=HPA)
k8s.autoscaling.v1.HorizontalPodAutoscaler("v1", metadata={"name": "web", "namespace": "apps"},
                                           spec=HPA)
"""


def test_two_objects_with_one_identity_are_an_error_and_both_are_written(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "twice",
        project="twice",
        main=TWICE,
        stacks={"dev": "config: {}\n"},
    )
    result = run_preview(ws, "services/twice", "dev")
    assert result.exit_code == EXIT_INVALID_OBJECTS
    prefix = "urn:pulumi:dev::twice::pulumi:pulumi:Stack$"
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert errors == [
        # the same group and kind under another version is the same object
        "HorizontalPodAutoscaler apps/web is declared twice, by "
        f"{prefix}kubernetes:autoscaling/v1:HorizontalPodAutoscaler::v1 and "
        f"{prefix}kubernetes:autoscaling/v2:HorizontalPodAutoscaler::v2: in the cluster the "
        "second would overwrite the first; give one of them another name or namespace",
        f"ConfigMap apps/settings is declared twice, by {prefix}kubernetes:core/v1:ConfigMap::one "
        f"and {prefix}kubernetes:core/v1:ConfigMap::two: in the cluster the second would "
        "overwrite the first; give one of them another name or namespace",
    ]
    out = write_result(ws, result) / "manifests" / "namespaces"
    first = yaml.safe_load((out / "apps" / "ConfigMap" / "settings.yaml").read_text())
    second = yaml.safe_load((out / "apps" / "ConfigMap" / "settings~2.yaml").read_text())
    assert {first["data"]["a"], second["data"]["a"]} == {"1", "2"}
    assert (out / "web" / "ConfigMap" / "settings.yaml").is_file()
    assert (out / "apps" / "Secret" / "settings.yaml").is_file()


PINNED = """
import pulumi_kubernetes as k8s

for name, port in (("free", None), ("pinned", 30999)):
    k8s.core.v1.Service(name, metadata={"name": name, "namespace": "apps"}, spec={
        "type": "NodePort", "selector": {"app": name},
        "ports": [{"port": 80, "target_port": 8080, **({"node_port": port} if port else {})}],
    })
"""


def test_an_allocated_node_port_is_shown_only_when_the_program_pinned_it(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "ports",
        project="ports",
        main=PINNED,
        stacks={"dev": "config: {}\n"},
    )
    result = run_preview(ws, "services/ports", "dev")
    assert result.exit_code == EXIT_OK, [d.message for d in result.diagnostics]
    ports = {m.name: m.body["spec"]["ports"][0] for m in result.manifests}
    assert "nodePort" not in ports["free"] and ports["pinned"]["nodePort"] == 30999
    states = {r.name: r.outputs["spec"]["ports"][0] for r in result.resources}
    assert 30000 <= states["free"]["nodePort"] <= 32767  # what the mocks answered

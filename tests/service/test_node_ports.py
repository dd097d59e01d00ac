"""Node ports cannot clash: no ServiceStack chooses one, the API server allocates it, and the ALB
follows the port the Service got.

The old scheme hashed ``namespace/name`` into the ~2,700 ports of the range: two services of
independent repos clashed with a probability near 25% at 40 services, found only at apply time.
Now a clash is impossible by construction (the API server never hands a port out twice in one
cluster), shown with 500 services from independent programs; the offline mocks model that
allocator and give each of 500 Services of one cluster its own port."""

from __future__ import annotations

from pathlib import Path

import pytest
from eksplatform.preview.mocks import NODE_PORT_RANGE, MockAccount, PreviewMocks
from eksplatform.service import ServiceStackArgs, plan_service
from eksplatform.service.workload import service_spec
from pulumi.runtime.mocks import MockResourceArgs
from pulumi_kubernetes.core.v1 import ServicePortArgs

from tests.service.programs import ACCOUNT, CERT, known_contract_for, preview_service

TEAMS = {f"team{t:02d}": f"team{t:02d}" for t in range(20)}


def _independent_services(count: int) -> list[ServiceStackArgs]:
    """``count`` services as 20 teams' independent repos would declare them."""
    cluster = known_contract_for("staging", teams=TEAMS)
    return [
        ServiceStackArgs(
            name=f"svc{i:03d}",
            team=f"team{i % 20:02d}",
            image=f"ghcr.io/acme/svc{i:03d}:1.0.{i}",
            port=8080,
            cluster=cluster,
        )
        for i in range(count)
    ]


def test_500_services_from_independent_programs_never_choose_a_node_port() -> None:
    for args in _independent_services(500):
        plan = plan_service(args)  # each a program of its own: no shared registry
        assert plan.node_port is None
        (port,) = service_spec(args, plan).ports  # type: ignore[misc]
        assert isinstance(port, ServicePortArgs)
        assert port.node_port is None  # left to the API server: a clash cannot happen


def _service(name: str, namespace: str, node_port: int | None = None) -> MockResourceArgs:
    port: dict[str, object] = {"name": "http", "port": 80, "targetPort": "envoy-http"}
    if node_port is not None:
        port["nodePort"] = node_port
    return MockResourceArgs(
        typ="kubernetes:core/v1:Service",
        name=f"{name}-service",
        inputs={
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "NodePort", "ports": [port]},
        },
        provider="",
        resource_id="",
    )


def _allocate_all(count: int) -> list[int]:
    mocks = PreviewMocks(MockAccount(region="eu-west-1", account_id=ACCOUNT))
    ports = []
    for i in range(count):
        _, state = mocks.new_resource(_service(f"svc{i:03d}", f"team{i % 20:02d}"))
        ports.append(int(state["spec"]["ports"][0]["nodePort"]))
    return ports


def test_the_offline_allocator_gives_500_services_of_one_cluster_distinct_ports() -> None:
    ports = _allocate_all(500)
    low, high = NODE_PORT_RANGE
    assert len(set(ports)) == 500 and all(low <= p <= high for p in ports)
    assert _allocate_all(500) == ports  # deterministic: the same preview every time
    assert _allocate_all(250) == ports[:250]  # a new service does not move the others' ports


def test_the_offline_allocator_refuses_a_taken_port_like_the_api_server() -> None:
    mocks = PreviewMocks(MockAccount(region="eu-west-1", account_id=ACCOUNT))
    mocks.new_resource(_service("first", "news", 31000))
    with pytest.raises(ValueError) as info:
        mocks.new_resource(_service("second", "news", 31000))
    assert str(info.value) == (
        'Service "news/second" is invalid: spec.ports[0].nodePort: Invalid value: 31000: '
        "provided port is already allocated"
    )


THREE = "\n".join(
    f'ServiceStack("s{i}", ServiceStackArgs(team="news", image="ghcr.io/news/s{i}:1.0.0", '
    f"port=8080, cluster=cluster, ingress=Ingress(certificate_arn={CERT!r})))"
    for i in range(3)
)


def test_each_target_group_follows_its_services_allocated_port(tmp_path: Path) -> None:
    _, result = preview_service(tmp_path, THREE + "\n")
    assert result.ok, [d.message for d in result.diagnostics]
    allocated = {
        r.urn.rsplit("::", 1)[-1].removesuffix("-service"): r.outputs["spec"]["ports"][0][
            "nodePort"
        ]
        for r in result.by_type("kubernetes:core/v1:Service")
    }
    groups = {
        r.urn.rsplit("::", 1)[-1].removesuffix("-tg"): r.inputs["port"]
        for r in result.by_type("aws:lb/targetGroup:TargetGroup")
    }
    assert groups == allocated and len(set(allocated.values())) == 3
    for rule in result.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        if rule.urn.endswith("-nodeport"):
            owner = rule.urn.rsplit("::", 1)[-1].removesuffix("-nodeport")
            assert rule.inputs["fromPort"] == rule.inputs["toPort"] == allocated[owner]
    for manifest in result.manifests:
        if manifest.kind == "Service":
            assert "nodePort" not in manifest.body["spec"]["ports"][0]  # never pinned

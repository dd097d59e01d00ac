"""ServiceStack ``architectures``: the pods require a node of an architecture the image is built
for (``kubernetes.io/arch``), and a service whose image no node pool can run is refused before
anything is registered, with the exact message."""

from __future__ import annotations

from pathlib import Path

from eksplatform.preview.engine import EXIT_INVALID_CONFIG
from eksplatform.preview.mocks import unwrap
from eksplatform.service.contract_checks import ContractView

from tests.service.programs import contract_source, contract_values, preview_service

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _service(extra: str = "") -> str:
    return f"""
ServiceStack("feed", ServiceStackArgs(
    name="feed", team="news", image="registry.example.com/news/feed:1.4.2", port=8080,
    cluster=cluster,{extra}
))
"""


def _arch_terms(result: object) -> list[object]:
    (deployment,) = result.by_type(DEPLOYMENT)  # type: ignore[attr-defined]
    pod = unwrap(deployment.inputs)["spec"]["template"]["spec"]
    terms: list[object] = pod["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    return terms


def test_an_amd64_only_image_on_an_arm64_only_cluster_is_refused(tmp_path: Path) -> None:
    contract = contract_source("prod", nodeArchitectures=["arm64"])
    _, result = preview_service(tmp_path, _service(), contract=contract)
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert result.diagnostics[-1].message == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - architectures: got ('amd64',): the image is built for amd64, but the cluster "
        "contract has node pools for arm64 only, so no pod could start: build the image for "
        "arm64 too and list it here, or ask the platform team for an amd64 node pool"
    )


def test_a_multi_arch_image_runs_on_either_and_says_so(tmp_path: Path) -> None:
    contract = contract_source("prod", nodeArchitectures=["arm64"])
    _, result = preview_service(
        tmp_path, _service("\n    architectures=['amd64', 'arm64'],"), contract=contract
    )
    assert result.ok, [d.message for d in result.diagnostics]
    assert _arch_terms(result) == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}
            ]
        }
    ]


def test_the_default_is_amd64_and_is_required_of_the_node(tmp_path: Path) -> None:
    _, result = preview_service(tmp_path, _service())
    assert result.ok
    assert _arch_terms(result) == [
        {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}
    ]


def test_bad_architectures_are_reported_with_the_rest(tmp_path: Path) -> None:
    _, result = preview_service(
        tmp_path, _service("\n    architectures=['arm64', 'arm64'], port_typo=1,")
    )
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    message = result.diagnostics[-1].message.splitlines()
    assert message[0] == "ServiceStack 'feed': 2 problems:"
    assert "  - architectures: got ['arm64', 'arm64']: lists arm64 more than once" in message
    assert any(line.startswith("  - port_typo:") for line in message)
    _, result = preview_service(tmp_path / "2", _service("\n    architectures=['x86_64'],"))
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.diagnostics[-1].message == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - architectures: got ['x86_64']: must be a list of one of 'amd64', 'arm64'"
    )


def test_a_cluster_stack_from_before_the_field_offered_amd64_only() -> None:
    values = contract_values("prod")
    values.pop("nodeArchitectures", None)
    assert ContractView.from_contract(values, "c").node_architectures == ("amd64",)
    garbled = ContractView.from_contract({**values, "nodeArchitectures": ["sparc"]}, "c")
    assert garbled.malformed == ("nodeArchitectures",)
    both = ContractView.from_contract({**values, "nodeArchitectures": ["amd64", "arm64"]}, "c")
    assert both.node_architectures == ("amd64", "arm64")


def test_under_pulumi_up_the_refusal_waits_for_the_contract_and_registers_nothing(
    tmp_path: Path,
) -> None:
    """The ``pulumi up`` path: the contract's Outputs only; the check runs when they resolve."""
    from tests.service.test_service_gate import _outputs_only

    _, result = preview_service(
        tmp_path, _service(), contract=_outputs_only(nodeArchitectures=["arm64"])
    )
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert errors == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - architectures: got ('amd64',): the image is built for amd64, but the cluster "
        "contract has node pools for arm64 only, so no pod could start: build the image for "
        "arm64 too and list it here, or ask the platform team for an amd64 node pool"
    ]

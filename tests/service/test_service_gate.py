"""The ``pulumi up`` path: when the contract is not known before the program runs, the same checks
run once it resolves, and the component, its children and the shared Kubernetes provider all
wait for them, so nothing is registered on a mismatch (the offline preview plays ``pulumi up`` by
handing ServiceStack a contract of Outputs only).

Also: the deprecated ClusterFacts keep working (with a warning), a Pulumi secret found in ``env``
only once it resolves is refused the same way, and the per-program registry starts empty in
every preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eksplatform.preview.engine import EXIT_INVALID_CONFIG, run_preview, write_result

from tests.conftest import make_workspace, write_program
from tests.service.programs import CERT, ECR_IMAGE, STACK_CONFIG, contract_values, preview_service

OUTPUTS_ONLY = """
import dataclasses
import pulumi

from eksplatform.service import *
from eksplatform.core.contract import ClusterOutputs

# What ``pulumi up`` has: the contract's Outputs, no values before the program runs.
cluster = dataclasses.replace(ClusterOutputs.from_values({values!r}), known=None)
"""


def _outputs_only(environment: str = "prod", **changes: Any) -> str:
    return OUTPUTS_ONLY.format(values=contract_values(environment, **changes))


def _errors(result: object) -> list[str]:
    return [d.message for d in result.diagnostics if d.severity == "error"]  # type: ignore[attr-defined]


def test_a_team_missing_from_the_cluster_fails_before_anything_registers(tmp_path: Path) -> None:
    """The case that used to end in ``KeyError: 'payments'`` (the alert topic lookup)."""
    body = (
        f'ServiceStack("feed", ServiceStackArgs(team="payments", image={ECR_IMAGE!r}, '
        f"port=8080, cluster=cluster, ingress=Ingress(certificate_arn={CERT!r})))\n"
    )
    _, result = preview_service(tmp_path, body, contract=_outputs_only())
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert _errors(result) == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - team: got 'payments': is not a team of the cluster contract (teams: news, search): "
        "fix the name, or ask the platform team to add it to platform:teams of the cluster stack"
    ]
    assert result.registered_before_error == []  # not even the component or the provider
    assert not any("KeyError" in e or "Traceback" in e for e in _errors(result))


def test_production_rules_and_placement_wait_for_the_resolved_contract(tmp_path: Path) -> None:
    body = (
        f'ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, port=8080, '
        "cluster=cluster, autoscaling=Autoscaling(min_replicas=1), ingress=Ingress(public=True)))\n"
    )
    contract = _outputs_only(region="eu-central-1")
    _, result = preview_service(tmp_path, body, contract=contract)
    assert result.exit_code == EXIT_INVALID_CONFIG and result.registered_before_error == []
    assert _errors(result) == [
        "ServiceStack 'feed': 4 problems:\n"
        "  - autoscaling.min_replicas: got 1: prod runs at least 2 pods (one per zone failure; "
        "'prod' is production)\n"
        "  - ingress.certificate_arn: got None: prod ALBs serve HTTPS only ('prod' is "
        "production): give the ACM certificate ARN of the service's domain\n"
        "  - aws:region: got 'eu-west-1': the cluster contract is in eu-central-1: a service's "
        "AWS resources live in its cluster's region; set 'aws:region: eu-central-1' in the "
        "service's stack file\n"
        "  - image: got '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2': its ECR "
        "registry is in region eu-west-1 but the cluster is in eu-central-1: set ecr=False (the "
        "repository is managed elsewhere), or push to the registry of eu-central-1"
    ]


def test_a_valid_service_passes_the_gate_and_registers_as_before(tmp_path: Path) -> None:
    body = (
        f'svc = ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, '
        f"port=8080, cluster=cluster, ingress=Ingress(certificate_arn={CERT!r}), "
        'dependencies=[Dependency(name="users"), Dependency(name="ranker", team="search")], '
        'env={"A": "1"}, secrets={"B": "2"}, config_files={"c.yaml": "x"}, '
        'datadog_tags={"product": "feed"}, prescaling=PreScaling()))\n'
        'pulumi.export("namespace", svc.namespace)\n'
    )
    _, gated = preview_service(tmp_path / "gated", body, contract=_outputs_only())
    _, known = preview_service(tmp_path / "known", body)
    assert gated.ok and known.ok, _errors(gated) + _errors(known)
    assert gated.plain_outputs() == known.plain_outputs() == {"namespace": "news"}
    assert [(r.urn, r.inputs) for r in gated.resources] == [
        (r.urn, r.inputs) for r in known.resources
    ]
    envoy = next(m for m in gated.manifests if m.name == "feed-envoy")
    assert "ranker.search-apps.svc.cluster.local" in str(envoy.body)  # resolved by the gate


def test_a_contract_with_missing_outputs_is_named_not_a_key_error(tmp_path: Path) -> None:
    body = (
        f'ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, port=8080, '
        "cluster=cluster))\n"
    )
    contract = _outputs_only(teamNamespaces="news", environment="")
    _, result = preview_service(tmp_path, body, contract=contract)
    assert result.exit_code == EXIT_INVALID_CONFIG and result.registered_before_error == []
    assert _errors(result) == [
        "ServiceStack 'feed': 2 problems:\n"
        "  - cluster: got '<contract>': the cluster contract lacks or garbles the outputs "
        "environment, teamNamespaces: is it the platform's cluster stack, at this library's "
        "contract version? fix the reference or upgrade the cluster stack\n"
        "  - team: got 'news': is not a team of the cluster contract (teams: none): fix the "
        "name, or ask the platform team to add it to platform:teams of the cluster stack"
    ]


SECRET_ENV = f"""
token = pulumi.Config().require_secret("token")  # not through load_config: known only later
ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, port=8080,
                                      cluster=cluster, env={{"API_TOKEN": token}}))
"""


def test_a_secret_in_env_is_refused_once_it_resolves(tmp_path: Path) -> None:
    ws, result = preview_service(
        tmp_path, SECRET_ENV, config="  svc:token:\n    secure: AAABAKx1\n"
    )
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert _errors(result) == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - env['API_TOKEN']: got [secret]: is a Pulumi secret: in env it would be written in "
        "clear into the Deployment; pass it in secrets= (a Kubernetes Secret) instead"
    ]
    assert result.registered_before_error == []
    out = write_result(ws, result)
    for path in out.rglob("*"):
        assert not path.is_file() or "unknown offline" not in path.read_text()


FACTS = """
import dataclasses
import pulumi

from eksplatform.service import *
from eksplatform.core.contract import ClusterOutputs

cluster = dataclasses.replace(
    ClusterOutputs.from_values({values!r}),
    known=None,
    facts=ClusterFacts(environment={environment!r}, team_namespaces={{"news": "news"}}),
)
"""


def test_cluster_facts_still_work_with_a_deprecation_warning(tmp_path: Path) -> None:
    body = (
        f'ServiceStack("feed", ServiceStackArgs(name="feed", team="news", image={ECR_IMAGE!r}, '
        "port=8080, cluster=cluster))\n"
    )
    contract = FACTS.format(values=contract_values("prod"), environment="prod")
    _, result = preview_service(tmp_path / "ok", body, contract=contract)
    assert result.ok, _errors(result)
    warnings = [d.message for d in result.diagnostics if d.severity == "warning"]
    assert warnings == [
        "ServiceStack 'feed': cluster.facts (ClusterFacts) is deprecated and no longer needed: "
        "the contract is checked against the cluster stack itself; remove facts= from "
        "ClusterOutputs.from_stack_reference"
    ]
    # Facts are still the first line of defence: a team they lack is refused at once...
    unknown_team = body.replace('team="news"', 'team="search"')
    _, refused = preview_service(tmp_path / "team", unknown_team, contract=contract)
    assert refused.exit_code == EXIT_INVALID_CONFIG and refused.registered_before_error == []
    assert "team: got 'search': is not a team of cluster.facts (teams: news)" in _errors(refused)[0]
    # ...and facts that contradict the cluster stack fail before any child is sent.
    wrong = FACTS.format(values=contract_values("staging"), environment="prod")
    _, mismatch = preview_service(tmp_path / "env", body, contract=wrong)
    assert mismatch.exit_code == EXIT_INVALID_CONFIG and mismatch.registered_before_error == []
    assert _errors(mismatch) == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - cluster.facts.environment: got 'prod': the cluster contract's environment is "
        "'staging': reference the right cluster stack, or drop facts= (deprecated: the contract "
        "is read from the cluster stack)"
    ]


def test_the_registry_of_one_preview_does_not_leak_into_the_next(tmp_path: Path) -> None:
    """The offline preview runs many programs in one process: the same ServiceStack in two
    previews is not a duplicate."""
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    from tests.service.programs import contract_source

    body = (
        f'ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, port=8080, '
        "cluster=cluster, node_port=31000))\n"
    )
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=contract_source("prod") + body,
        stacks={"prod": STACK_CONFIG, "again": STACK_CONFIG},
    )
    assert run_preview(ws, "services/svc", "prod").ok
    assert run_preview(ws, "services/svc", "again").ok
    assert run_preview(ws, "services/svc", "prod").ok

"""Developer stacks refused with exact messages, nothing registered: a developer name that is not
a DNS label, a production cluster, a cluster without developer environments, an expiry in the
past or beyond the cluster's maximum (each edge on both sides), an override naming an unknown
dependency, developer keys in a normal stack. Plus the ``pulumi up`` path (contract known only
once it resolves): the same copy, and the same refusal, with nothing registered."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eksplatform.core import devenv
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, Workspace, run_preview

from tests.conftest import write_program
from tests.service.programs import ECR_IMAGE, STACK_CONFIG, contract_values

NOW = datetime(2026, 12, 10, 9, 20, 0, tzinfo=UTC)
OFFER = devenv.DevOffer(
    enabled=True,
    max_ttl_hours=168,
    default_ttl_hours=24,
    quota={"requestsCpu": "4", "pods": "20"},
    limit_range={
        "defaultRequestCpu": "50m",
        "defaultRequestMemory": "128Mi",
        "defaultLimitMemory": "128Mi",
        "maxMemory": "4Gi",
    },
)
PROGRAM = """
from dataclasses import dataclass
from eksplatform.service import *


@dataclass(frozen=True)
class Config:
    image: str


config = load_config(Config)
ServiceStack("feed", ServiceStackArgs(
    team="news", image=config.image, port=8080,
    dependencies=[Dependency(name="user-profiles"), Dependency(name="search-api", team="search")],
))
"""


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devenv, "utc_now", lambda: NOW)


def _preview(
    tmp: Path,
    config: str = "",
    *,
    stack: str = "dev-alice",
    environment: str = "staging",
    offer: devenv.DevOffer | None = OFFER,
    program: str = PROGRAM,
) -> PreviewResult:
    root = tmp / "ws"
    ref = f"organization/eks-platform/{environment}"
    values = contract_values(environment)
    values["devEnvironments"] = offer.to_contract() if offer is not None else None
    if offer is None:
        del values["devEnvironments"]  # a cluster stack from before developer environments
    contract = tmp / f"contract-{environment}.json"
    contract.parent.mkdir(parents=True, exist_ok=True)
    contract.write_text(json.dumps(values))
    write_program(
        root / "services" / "svc",
        project="svc",
        main=program,
        stacks={
            stack: STACK_CONFIG + f"  svc:clusterStack: {ref}\n  svc:image: {ECR_IMAGE}\n" + config
        },
    )
    return run_preview(Workspace(root, None, {ref: contract}), "services/svc", stack)


def _refused(result: PreviewResult) -> str:
    assert result.exit_code == EXIT_INVALID_CONFIG, [d.message for d in result.diagnostics]
    assert result.registered_before_error == []
    (error,) = [d.message for d in result.diagnostics if d.severity == "error"]
    return error


def _namespace_labels(result: PreviewResult) -> dict[str, str]:
    (ns,) = [m for m in result.manifests if m.kind == "Namespace"]
    labels: dict[str, str] = ns.body["metadata"]["labels"]
    return labels


def test_a_valid_developer_stack_with_every_optional_key(tmp_path: Path) -> None:
    result = _preview(tmp_path, "  svc:devExpires: 36h\n  svc:devRun: [user-profiles]\n")
    assert result.ok, [d.message for d in result.diagnostics]
    assert _namespace_labels(result)["eksplatform.io/expires-at"] == "20261211T220000Z"
    envoy = next(m for m in result.manifests if m.name == "feed-envoy")
    text = json.dumps(envoy.body)
    assert "user-profiles.dev-alice.svc.cluster.local" in text  # run by the developer
    assert "search-api.search-apps.svc.cluster.local" in text  # another team's: shared
    assert [r.type for r in result.resources if r.type.startswith("aws:")] == []


def test_the_developer_name_must_be_a_dns_label(tmp_path: Path) -> None:
    assert _refused(_preview(tmp_path, stack="dev-Alice_B")) == (
        "Pulumi.dev-Alice_B.yaml: invalid service configuration: 1 problem:\n"
        "  - stack: got 'dev-Alice_B': the developer name 'Alice_B' is not a DNS label "
        "(lowercase letters, digits and '-', starting and ending with a letter or digit): the "
        "namespace 'dev-<developer>' must be one; name the stack dev-<developer> with a DNS "
        "label, such as 'dev-alice' (pulumi stack rename dev-alice)"
    )


def test_a_developer_name_at_the_length_limit(tmp_path: Path) -> None:
    longest = "a" * devenv.MAX_DEVELOPER_LENGTH
    assert _preview(tmp_path / "ok", stack=f"dev-{longest}").ok
    message = _refused(_preview(tmp_path / "long", stack=f"dev-{longest}b"))
    assert "is 60 characters: the namespace 'dev-<developer>' is a DNS label of at most 63" in (
        message
    )


def test_production_refuses_developer_mode(tmp_path: Path) -> None:
    assert _refused(_preview(tmp_path, environment="prod")) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - svc:clusterStack: got 'organization/eks-platform/prod': a developer stack "
        "(dev-alice) deploys only to a non-production cluster, and the cluster stack "
        "'organization/eks-platform/prod' is 'prod', which is production: point clusterStack "
        "at the staging cluster stack"
    )


@pytest.mark.parametrize(
    "offer", [None, devenv.DevOffer(enabled=False)], ids=["predates", "disabled"]
)
def test_a_cluster_without_developer_environments_refuses(
    tmp_path: Path, offer: devenv.DevOffer | None
) -> None:
    assert _refused(_preview(tmp_path, offer=offer)) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - svc:clusterStack: got 'organization/eks-platform/staging': the cluster stack "
        "'organization/eks-platform/staging' offers no developer environments "
        "(platform:devEnvironments.enabled is false, or the cluster stack predates them): deploy "
        "the developer stack against the staging cluster, or ask the platform team to enable "
        "them"
    )


def test_an_expiry_in_the_past_is_refused(tmp_path: Path) -> None:
    assert _refused(_preview(tmp_path, "  svc:devExpires: '2026-12-10T09:20:00Z'\n")) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - svc:devExpires: got '2026-12-10T09:20:00Z': is in the past (2026-12-10T09:20:00Z, "
        "now 2026-12-10T09:20:00Z): give a time ahead, or a duration such as '24h'"
    )
    assert _preview(tmp_path / "ahead", "  svc:devExpires: '2026-12-10T09:20:01Z'\n").ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("168h", True),
        ("7d", True),
        ("2026-12-17T10:00:00Z", True),  # now + 168 h, rounded up to the hour
        ("169h", False),
        ("2026-12-17T10:00:01Z", False),
    ],
)
def test_an_expiry_beyond_the_maximum_is_refused_at_the_edge(
    tmp_path: Path, value: str, ok: bool
) -> None:
    result = _preview(tmp_path, f"  svc:devExpires: '{value}'\n")
    if ok:
        assert result.ok, [d.message for d in result.diagnostics]
        return
    assert _refused(result) == (
        "ServiceStack 'feed': 1 problem:\n"
        f"  - svc:devExpires: got '{value}': is beyond the cluster's maximum of 168 hours from "
        "now (platform:devEnvironments.maxTtlHours): give at most '168h', and extend it later "
        "with 'eksplatform dev extend'"
    )


def test_a_malformed_expiry_and_override_list(tmp_path: Path) -> None:
    assert _refused(
        _preview(tmp_path, "  svc:devExpires: tomorrow\n  svc:devRun: user-profiles\n")
    ) == (
        "Pulumi.dev-alice.yaml: invalid service configuration: 2 problems:\n"
        "  - svc:devExpires: got 'tomorrow': must be a duration from now such as '36h' or '3d', "
        "or an RFC 3339 time such as '2026-12-24T18:00:00Z': fix it in Pulumi.dev-alice.yaml: "
        "pulumi config set devExpires 24h -s dev-alice\n"
        "  - svc:devRun: got 'user-profiles': must be a list of dependency names (a YAML list): "
        "fix it in Pulumi.dev-alice.yaml: pulumi config set devRun '[\"user-profiles\"]' -s "
        "dev-alice"
    )


def test_an_override_naming_an_unknown_dependency_is_refused(tmp_path: Path) -> None:
    assert _refused(_preview(tmp_path, "  svc:devRun: [user-profiles, user-profile]\n")) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - svc:devRun[1]: got 'user-profile': is not a dependency of this service "
        "(dependencies: user-profiles, search-api): devRun lists the dependencies you run in "
        "dev-alice too; fix the name or remove it"
    )


def test_developer_keys_in_a_normal_stack_are_refused(tmp_path: Path) -> None:
    result = _preview(tmp_path, "  svc:devRun: [user-profiles]\n", stack="staging")
    assert _refused(result) == (
        "Pulumi.staging.yaml: invalid service configuration: 1 problem:\n"
        "  - svc:devRun: got '[\"user-profiles\"]': only a developer stack (named "
        "dev-<developer>) reads it, and this stack is 'staging': remove it from "
        "Pulumi.staging.yaml"
    )


OUTPUTS_ONLY = """
import dataclasses
from eksplatform.service import *
from eksplatform.core.contract import ClusterOutputs

# What ``pulumi up`` has: the contract's Outputs, no values before the program runs.
cluster = dataclasses.replace(ClusterOutputs.from_values({values!r}), known=None)
ServiceStack("feed", ServiceStackArgs(team="news", image={image!r}, port=8080, cluster=cluster,
    dependencies=[Dependency(name="user-profiles")]))
"""


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_the_pulumi_up_path_builds_the_same_copy_or_refuses_before_any_child(
    tmp_path: Path, environment: str
) -> None:
    values = contract_values(environment, devEnvironments=OFFER.to_contract())
    program = OUTPUTS_ONLY.format(values=values, image=ECR_IMAGE)
    root = tmp_path / "ws"
    write_program(
        root / "services" / "svc",
        project="svc",
        main=program,
        stacks={
            "dev-alice": STACK_CONFIG,
        },
    )
    result = run_preview(Workspace(root, None, {}), "services/svc", "dev-alice")
    if environment == "prod":
        assert _refused(result) == (
            "ServiceStack 'feed': 1 problem:\n"
            "  - svc:clusterStack: got '<cluster contract>': a developer stack (dev-alice) "
            "deploys only to a non-production cluster, and the cluster contract is 'prod', "
            "which is production: point clusterStack at the staging cluster stack"
        )
        return
    assert result.ok, [d.message for d in result.diagnostics]
    assert [r.type for r in result.resources if r.type.startswith("aws:")] == []
    assert _namespace_labels(result)["eksplatform.io/expires-at"] == "20261211T100000Z"
    (account,) = [m for m in result.manifests if m.kind == "ServiceAccount"]
    assert account.body["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        "arn:aws:iam::123456789012:role/news-feed-staging"
    )

"""Developer stacks of the example services, previewed offline against the staging cluster's
offline contract: schema-valid, everything in ``dev-<developer>``, no AWS resource, dependencies
on the shared staging services unless the developer runs them too; the staging role trusts the
developer copies; ``eksplatform dev render`` writes what Skaffold deploys; the skaffold.yaml
files have Skaffold's structure and read the rendered manifests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform import cli
from eksplatform.core import devenv
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview
from eksplatform.scaffold.skaffold import (
    API_VERSION,
    developer_loop_problems,
    skaffold_problems,
    skaffold_yaml,
)

from tests.conftest import REPO

NOW = datetime(2026, 12, 10, 9, 20, 0, tzinfo=UTC)
STACKS = [
    ("news-feed", "dev-alice", "news"),
    ("news-feed", "dev-bob", "news"),
    ("user-profiles", "dev-bob", "news"),
    ("transcode-worker", "dev-alice", "media"),
]
Preview = Callable[[str, str], PreviewResult]


@pytest.fixture(scope="module")
def developer_preview(
    repo_workspace: Workspace, cluster_preview: Callable[[str], PreviewResult]
) -> Iterator[Preview]:
    cache: dict[tuple[str, str], PreviewResult] = {}
    patch = pytest.MonkeyPatch()
    patch.setattr(devenv, "utc_now", lambda: NOW)

    def get(service: str, stack: str) -> PreviewResult:
        if (service, stack) not in cache:
            cluster_preview("staging")
            cache[(service, stack)] = run_preview(repo_workspace, f"services/{service}", stack)
        return cache[(service, stack)]

    yield get
    patch.undo()


def _bodies(result: PreviewResult, kind: str) -> list[dict[str, Any]]:
    return [m.body for m in result.manifests if m.kind == kind]


@pytest.mark.parametrize(("service", "stack", "team"), STACKS)
def test_developer_stack_is_kubernetes_only_in_its_namespace(
    developer_preview: Preview, service: str, stack: str, team: str
) -> None:
    result = developer_preview(service, stack)
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    assert not [d for d in result.diagnostics if d.severity in ("error", "warning")]
    # No AWS resource at all: not the service's, not the program's own (table, queues, alarm).
    assert [r.type for r in result.resources if r.type.startswith("aws:")] == []
    assert {r.type for r in result.resources if r.custom} <= {
        "pulumi:providers:kubernetes",
        *(
            f"kubernetes:{k}"
            for k in (
                "core/v1:Namespace",
                "core/v1:ResourceQuota",
                "core/v1:LimitRange",
                "core/v1:ConfigMap",
                "core/v1:Secret",
                "core/v1:Service",
                "core/v1:ServiceAccount",
                "apps/v1:Deployment",
            )
        ),
    }
    # Every object in dev-<developer>; the only cluster-scoped one is that namespace.
    assert {m.namespace for m in result.manifests if m.kind != "Namespace"} == {stack}
    (ns,) = _bodies(result, "Namespace")
    developer = stack.removeprefix("dev-")
    hours = 72 if stack == "dev-bob" else 24  # devExpires: 72h, else the cluster's default
    expiry = "20261213T100000Z" if hours == 72 else "20261211T100000Z"
    assert ns["metadata"]["name"] == stack
    assert {k: v for k, v in ns["metadata"]["labels"].items() if "eksplatform.io" in k} == {
        "eksplatform.io/developer": developer,
        "eksplatform.io/team": team,
        "eksplatform.io/expires-at": expiry,
        f"services.eksplatform.io/{service}": "true",
    }
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # One replica, no HPA, PDB, VPA; a ClusterIP Service; quota and limits from the contract.
    (deployment,) = _bodies(result, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    kinds = {m.kind for m in result.manifests}
    assert not kinds & {"HorizontalPodAutoscaler", "PodDisruptionBudget", "VerticalPodAutoscaler"}
    (svc,) = _bodies(result, "Service")
    assert svc["spec"]["type"] == "ClusterIP" and "nodePort" not in svc["spec"]["ports"][0]
    (quota,) = _bodies(result, "ResourceQuota")
    assert quota["metadata"]["name"] == "dev-quota"
    assert quota["spec"]["hard"]["services.nodeports"] == "0"
    (limits,) = _bodies(result, "LimitRange")
    assert limits["spec"]["limits"][0]["max"] == {"memory": "4Gi"}
    # The staging role, named, through IRSA; Datadog env is the developer namespace.
    (account,) = _bodies(result, "ServiceAccount")
    assert account["metadata"]["name"] == f"{team}.{service}"
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        f"arn:aws:iam::111111111111:role/{team}-{service}-staging"
    )
    pod = deployment["spec"]["template"]
    assert pod["spec"]["serviceAccountName"] == f"{team}.{service}"
    assert pod["metadata"]["labels"]["tags.datadoghq.com/env"] == stack
    app = next(c for c in pod["spec"]["containers"] if c["name"] == "app")
    assert app["resources"]["requests"]["cpu"] == "100m"  # capped for a developer's copy


def _envoy_addresses(result: PreviewResult) -> set[str]:
    (cm,) = [b for b in _bodies(result, "ConfigMap") if b["metadata"]["name"].endswith("-envoy")]
    text = json.dumps(cm["data"])
    return {part.split("\\n")[0].strip().strip('"') for part in text.split("address: ")[1:]} | {
        word for word in text.replace('"', " ").split() if word.endswith(".svc.cluster.local")
    }


def test_dependencies_resolve_to_shared_staging_services_unless_run_by_the_developer(
    developer_preview: Preview,
) -> None:
    shared = _envoy_addresses(developer_preview("news-feed", "dev-alice"))
    assert "user-profiles.news.svc.cluster.local" in shared
    assert not {a for a in shared if ".dev-" in a}
    own = _envoy_addresses(developer_preview("news-feed", "dev-bob"))  # devRun: [user-profiles]
    assert "user-profiles.dev-bob.svc.cluster.local" in own
    assert "user-profiles.news.svc.cluster.local" not in own


def test_staging_roles_trust_developer_namespaces_and_prod_roles_do_not(
    repo_workspace: Workspace, cluster_preview: Callable[[str], PreviewResult]
) -> None:
    for stack, expect in (("staging", True), ("prod", False)):
        cluster_preview(stack)
        result = run_preview(repo_workspace, "services/news-feed", stack)
        assert result.ok
        (role,) = result.by_type("aws:iam/role:Role")
        trust = json.loads(role.inputs["assumeRolePolicy"])
        sids = [s["Sid"] for s in trust["Statement"]]
        assert ("DeveloperNamespaces" in sids) is expect
        if expect:
            assert role.inputs["name"] == "news-news-feed-staging"
            (dev,) = [s for s in trust["Statement"] if s["Sid"] == "DeveloperNamespaces"]
            assert dev["Action"] == "sts:AssumeRoleWithWebIdentity"
            (sub,) = dev["Condition"]["StringLike"].values()
            assert sub == "system:serviceaccount:dev-*:news.news-feed"
            (aud,) = dev["Condition"]["StringEquals"].values()
            assert aud == "sts.amazonaws.com"
        else:
            assert "name" not in role.inputs or not role.inputs["name"]


def test_dev_render_writes_what_skaffold_deploys(
    tmp_path: Path,
    cluster_preview: Callable[[str], PreviewResult],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(devenv, "utc_now", lambda: NOW)
    contract = tmp_path / "contract-staging.json"
    cluster_preview("staging")
    build = Path(cluster_preview("staging").spec.program_dir)  # the repo
    outputs = {k: v for k, v in cluster_preview("staging").plain_outputs().items()}
    contract.write_text(json.dumps(outputs, default=str))
    out = tmp_path / "manifests"
    code = cli.main(
        [
            "dev",
            "render",
            "--root",
            str(build),
            "--program",
            "services/news-feed",
            "--stack",
            "dev-bob",
            "--contract",
            str(contract),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "00-namespace.yaml",
        "01-limits.yaml",
        "10-news-feed.yaml",
    ]
    docs = [d for p in sorted(out.iterdir()) for d in yaml.safe_load_all(p.read_text())]
    assert [d["kind"] for d in docs[:3]] == ["Namespace", "LimitRange", "ResourceQuota"]
    assert "Secret" not in {d["kind"] for d in docs}  # its value is secure: config
    printed = capsys.readouterr().out
    assert (
        "not written: Secret dev-bob/news-feed-secrets (its values are secure: config, unknown "
        "offline); create it once: kubectl create secret generic news-feed-secrets -n dev-bob "
        "--from-literal=FEED_SIGNING_KEY=..."
    ) in printed
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    # Skaffold replaces this reference: the artifact's repository is the same.
    skaffold = yaml.safe_load((REPO / "services/news-feed/skaffold.yaml").read_text())
    assert image.split(":")[0] == skaffold["build"]["artifacts"][0]["image"]


def test_dev_render_refuses_a_stack_that_is_not_a_developer_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        cli.main(
            [
                "dev",
                "render",
                "--root",
                str(REPO),
                "--program",
                "services/news-feed",
                "--stack",
                "staging",
            ]
        )
        == 2
    )
    assert capsys.readouterr().err.strip() == (
        "eksplatform dev render: 1 problem:\n  - --stack: got 'staging': is not a developer "
        "stack: name it dev-<developer> (or set EKSPLATFORM_DEVELOPER)"
    )


@pytest.mark.parametrize("service", ["news-feed", "user-profiles", "transcode-worker"])
def test_skaffold_files_have_skaffolds_structure_and_read_the_rendered_manifests(
    service: str,
) -> None:
    text = (REPO / "services" / service / "skaffold.yaml").read_text()
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] == API_VERSION
    assert skaffold_problems(doc) == []
    assert developer_loop_problems(doc) == []
    hook = doc["manifests"]["hooks"]["before"][0]["host"]["command"]
    assert hook[:3] == ["eksplatform", "dev", "render"]
    assert hook[hook.index("--program") + 1] == f"services/{service}"
    # the file is what the generator writes (regenerate it with skaffold_yaml when this fails)
    team = "media" if service == "transcode-worker" else "news"
    assert text == skaffold_yaml(
        service=service,
        team=team,
        registry="111111111111.dkr.ecr.eu-west-1.amazonaws.com",
        render_args=("--root", "../..", "--program", f"services/{service}"),
    )


def test_the_skaffold_check_catches_structural_mistakes() -> None:
    doc = yaml.safe_load((REPO / "services/news-feed/skaffold.yaml").read_text())
    doc["apiVersion"] = "skaffold/v2beta29"
    doc["build"]["artifacts"][0]["dockerfile"] = "Dockerfile"  # belongs under docker:
    doc["build"]["tagPolicy"]["sha256"] = {}  # a second tagger
    doc["deploy"]["kubectl"]["manifests"] = ["k8s/*.yaml"]  # moved to manifests.rawYaml in v4
    doc["manifests"]["hooks"]["before"][0]["host"] = {"dir": "."}  # no command
    doc["deploy"]["statusCheckDeadlineSeconds"] = "300"
    shown = [f"{p.field}: {p.message.split(' (fields')[0]}" for p in skaffold_problems(doc)]
    assert shown == [
        "apiVersion: must be skaffold/v4beta13 (the structure checked here)",
        "build.artifacts[0].dockerfile: is not a field of Artifact in skaffold/v4beta13",
        "build.tagPolicy: TagPolicy takes only one of sha256, customTemplate",
        "manifests.hooks.before[0].host.command: is required in HostHook",
        "deploy.kubectl.manifests: is not a field of KubectlDeploy in skaffold/v4beta13",
        "deploy.statusCheckDeadlineSeconds: must be an integer",
    ]
    doc = yaml.safe_load((REPO / "services/news-feed/skaffold.yaml").read_text())
    doc["manifests"]["rawYaml"] = ["k8s/*.yaml"]
    doc["deploy"]["kubectl"]["flags"]["apply"] = []
    assert [p.field for p in developer_loop_problems(doc)] == [
        "manifests.rawYaml",
        "deploy.kubectl.flags.apply",
    ]

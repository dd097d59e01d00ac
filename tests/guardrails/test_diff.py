"""``eksplatform diff``: staging against prod lists the expected differences, identical previews
none, a changed ServiceStack argument shows as a property change with its path, secrets stay
masked, and Markdown for the pull-request comment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eksplatform.preview.diff import diff_documents, diff_paths, render_markdown, render_text
from eksplatform.preview.engine import PreviewResult, preview_document, write_result

from tests.service.programs import preview_service


@pytest.fixture(scope="module")
def clusters(
    cluster_preview: Callable[[str], PreviewResult],
) -> tuple[dict[str, Any], dict[str, Any]]:
    return preview_document(cluster_preview("staging")), preview_document(cluster_preview("prod"))


def test_staging_against_prod_lists_the_expected_differences(
    clusters: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    staging, prod = clusters
    d = diff_documents(staging, prod, "cluster staging -> prod")
    ops = {(r.type, r.name): r for r in d.resources}
    # Prod has a NAT gateway per zone (staging one), a second node pool, a second admin.
    added = {name for (typ, name), r in ops.items() if r.op == "create"}
    assert {"network-nat-b", "network-nat-c", "eks-cluster-admin-1"} <= added
    assert any(name.startswith("nodes-memory") for name in added)
    deleted = {name for (_, name), r in ops.items() if r.op == "delete"}
    # Developer environments (issue 15) are staging's only: prod has none of their objects.
    developer = {n for n in deleted if n.startswith("devenv") or "developer-namespaces" in n}
    assert {"devenv-janitor", "devenv-images", "teams-news-allow-from-developer-namespaces"} <= (
        developer
    )
    assert deleted - developer == {"logging-papertrail"}
    vpc = ops[("aws:ec2/vpc:Vpc", "network-vpc")]
    assert vpc.op == "replace"  # a VPC's CIDR cannot change in place
    assert [(c.path, c.old, c.new) for c in vpc.changes if c.path == "cidrBlock"] == [
        ("cidrBlock", "10.20.0.0/16", "10.40.0.0/16")
    ]
    cluster = ops[("aws:eks/cluster:Cluster", "eks-cluster-eksCluster")]
    changes = {c.path: (c.old, c.new) for c in cluster.changes}
    assert changes["vpcConfig.endpointPublicAccess"] == (True, False)
    assert changes["deletionProtection"] == (False, True)
    assert changes["name"] == ("eks-staging", "eks-prod")
    headroom = ops[("kubernetes:apps/v1:Deployment", "headroom-deployment")]
    assert {c.path: (c.old, c.new) for c in headroom.changes}["spec.replicas"] == (1, 6)
    assert any(c.path == "environment" for c in d.outputs)


def test_identical_previews_have_no_differences(
    clusters: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    staging, _ = clusters
    assert diff_documents(staging, staging, "same").empty
    for side in ("a", "b"):
        (tmp_path / side / "cluster" / "staging").mkdir(parents=True)
        import json

        (tmp_path / side / "cluster" / "staging" / "preview.json").write_text(json.dumps(staging))
    diffs = diff_paths(tmp_path / "a", tmp_path / "b")
    assert render_text(diffs) == "== cluster/staging: no changes\n"
    assert render_markdown(diffs).endswith("No changes.\n")


SERVICE = """
from eksplatform.service import Resources, ServiceStack, ServiceStackArgs

ServiceStack("feed", ServiceStackArgs(
    name="feed", team="news", image={image!r}, port=8080, cluster=cluster,
    resources=Resources(cpu={cpu!r}, memory="256Mi"),
))
"""


def test_a_changed_servicestack_arg_is_a_property_change_with_its_path(tmp_path: Path) -> None:
    from tests.service.programs import ECR_IMAGE

    sides: list[Path] = []
    for side, cpu in (("base", "250m"), ("head", "500m")):
        ws, result = preview_service(tmp_path / side, SERVICE.format(image=ECR_IMAGE, cpu=cpu))
        assert result.ok, [d.message for d in result.diagnostics]
        sides.append(write_result(ws, result) / "preview.json")
    (d,) = diff_paths(sides[0], sides[1])
    changed = {(r.type, r.name): r for r in d.resources}
    deployment = changed[("kubernetes:apps/v1:Deployment", "feed-deployment")]
    assert deployment.op == "update"
    paths = {c.path: (c.old, c.new) for c in deployment.changes}
    assert paths["spec.template.spec.containers[0].resources.requests.cpu"] == ("250m", "500m")
    text = render_text([d])
    assert "spec.template.spec.containers[0].resources.requests.cpu: 250m => 500m" in text
    md = render_markdown([d])
    assert (
        "| ~ | `kubernetes:apps/v1:Deployment` `feed-deployment` | `spec.template.spec.containers[0].resources.requests.cpu` | `250m` | `500m` |"
        in md
    )


def test_secrets_stay_masked() -> None:
    def doc(token: str, password: str) -> dict[str, Any]:
        state = {
            "urn": "urn:pulumi:s::p::kubernetes:core/v1:Secret::t",
            "type": "kubernetes:core/v1:Secret",
            "inputs": {"stringData": {"token": token}, "data": {"db_password": password}},
        }
        return {"steps": [{"op": "create", "newState": state}], "outputs": {}}

    d = diff_documents(doc("[secret]", "old-pass"), doc("[secret]", "new-pass"), "s")
    (r,) = d.resources
    assert [(c.path, c.old, c.new) for c in r.changes] == [
        ("data.db_password", "[secret]", "[secret]")
    ]
    assert "pass" not in render_text([d]).replace("db_password", "")


def test_bad_paths_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from eksplatform.cli import main

    assert main(["diff", str(tmp_path / "none.json"), str(tmp_path / "x.json")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("{}")
    assert main(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert "not a preview.json" in capsys.readouterr().err

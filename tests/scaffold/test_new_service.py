"""``eksplatform new-service``: the repo it writes, its offline preview, and its refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import eksplatform
import pytest
import yaml
from eksplatform.cli import main as eksplatform_main
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview
from eksplatform.scaffold import service_repo

Preview = Callable[[str], PreviewResult]


@pytest.fixture(scope="module")
def contracts(cluster_preview: Preview, repo_workspace: Workspace) -> dict[str, Path]:
    """The cluster contract of each stack, as the cluster previews write them."""
    found = {}
    for stack in ("staging", "prod"):
        assert cluster_preview(stack).ok
        found[stack] = repo_workspace.out_dir("cluster", stack) / "stack-output.json"
    return found


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = eksplatform_main(["new-service", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, contracts: dict[str, Path]) -> Path:
    target = tmp_path_factory.mktemp("scaffold") / "feed"
    code = eksplatform_main(
        [
            "new-service",
            str(target),
            "--name",
            "feed",
            "--team",
            "news",
            "--contract",
            f"staging={contracts['staging']}",
            "--contract",
            f"prod={contracts['prod']}",
        ]
    )
    assert code == 0
    return target


def test_the_repo_has_every_file(repo: Path) -> None:
    files = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())
    assert files == [
        ".github/workflows/preview.yml",
        ".gitignore",
        "Pulumi.prod.yaml",
        "Pulumi.staging.yaml",
        "Pulumi.yaml",
        "README.md",
        "__main__.py",
        "constraints.txt",
        "contracts/contract-prod.json",
        "contracts/contract-staging.json",
        "requirements.txt",
    ]
    assert {"build/", "contracts/", ".venv/"} <= set((repo / ".gitignore").read_text().split())


def test_project_and_stack_files_have_every_required_key(
    repo: Path, contracts: dict[str, Path]
) -> None:
    project = yaml.safe_load((repo / "Pulumi.yaml").read_text())
    assert project["name"] == "feed"
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": ".venv"},
    }
    for stack, path in contracts.items():
        contract = json.loads(path.read_text())
        config = yaml.safe_load((repo / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert config == {
            "aws:region": contract["region"],
            "aws:allowedAccountIds": [contract["accountId"]],
            "feed:clusterStack": f"organization/eks-platform/{stack}",
            "feed:image": f"{contract['accountId']}.dkr.ecr.{contract['region']}.amazonaws.com"
            "/news/feed:0.1.0",
            # the monitors' Datadog provider points at the cluster's site
            "datadog:apiUrl": f"https://api.{contract['datadogSite']}/",
        }


def test_the_program_is_short_and_compiles(repo: Path) -> None:
    text = (repo / "__main__.py").read_text()
    assert len(text.splitlines()) <= 25
    compile(text, "__main__.py", "exec")
    assert 'team="news"' in text and "port=8080" in text


def test_requirements_pin_this_release_with_its_constraints(repo: Path) -> None:
    lines = [
        line
        for line in (repo / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines == ["-c constraints.txt", f"eksplatform=={eksplatform.__version__}"]
    assert (repo / "constraints.txt").read_text() == service_repo.constraints_text()


def test_the_workflow_pins_every_action_to_a_commit(repo: Path) -> None:
    workflow: dict[Any, Any] = yaml.safe_load((repo / ".github/workflows/preview.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses
    offline = " ".join(str(s.get("run", "")) for s in workflow["jobs"]["offline"]["steps"])
    for stack in ("staging", "prod"):
        assert (
            f"--stack-reference organization/eks-platform/{stack}="
            f"contracts/contract-{stack}.json" in offline
        )
        assert f"pulumi stack output --json --stack organization/eks-platform/{stack}" in offline
    online = workflow["jobs"]["pulumi"]
    assert online["permissions"]["id-token"] == "write"  # OIDC, no stored AWS keys
    assert "vars.AWS_ROLE_ARN_STAGING" in online["if"]


def test_it_previews_offline_out_of_the_box(repo: Path, contracts: dict[str, Path]) -> None:
    references = {
        f"organization/eks-platform/{stack}": repo / "contracts" / f"contract-{stack}.json"
        for stack in contracts
    }
    workspace = Workspace(repo, repo / "build", references)
    assert workspace.programs() == ["feed"]
    for stack in ("staging", "prod"):
        result = run_preview(workspace, "feed", stack)
        assert result.ok, [d.message for d in result.diagnostics]
        assert not [d for d in result.diagnostics if d.severity in ("error", "warning")]
        role = next(r for r in result.resources if r.type == "aws:iam/role:Role")
        account = json.loads(contracts[stack].read_text())["accountId"]
        assert role.outputs["arn"].startswith(f"arn:aws:iam::{account}:role/")


def test_without_contracts_region_and_accounts_are_given(tmp_path: Path) -> None:
    target = tmp_path / "feed"
    code = eksplatform_main(
        [
            "new-service",
            str(target),
            "--name",
            "feed",
            "--team",
            "news",
            "--region",
            "eu-central-1",
            "--account",
            "staging=012345678901",
            "--account",
            "prod=210987654321",
            "--cluster-stack",
            "prod=acme/eks-platform/production",
            "--image",
            "registry.example.com/news/feed:2.0.0",
            "--port",
            "9000",
            "--library-url",
            "git+ssh://git@github.com/acme/eks-platform.git",
        ]
    )
    assert code == 0
    assert not (target / "contracts").exists()
    prod = yaml.safe_load((target / "Pulumi.prod.yaml").read_text())["config"]
    assert prod == {
        "aws:region": "eu-central-1",
        "aws:allowedAccountIds": ["210987654321"],
        "feed:clusterStack": "acme/eks-platform/production",
        "feed:image": "registry.example.com/news/feed:2.0.0",
    }
    staging = yaml.safe_load((target / "Pulumi.staging.yaml").read_text())["config"]
    assert staging["aws:allowedAccountIds"] == ["012345678901"]  # the leading 0 kept
    assert "port=9000" in (target / "__main__.py").read_text()
    assert (target / "requirements.txt").read_text().splitlines()[-1] == (
        f"eksplatform @ git+ssh://git@github.com/acme/eks-platform.git@v{eksplatform.__version__}"
        "#subdirectory=components"
    )


def test_bad_input_is_reported_at_once_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contracts: dict[str, Path]
) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine\n")
    code, out, err = _run(
        capsys,
        str(target),
        "--name",
        "Feed_API",
        "--team=-news",
        "--port",
        "70000",
        "--image",
        "registry.example.com/news/feed:latest",
        "--platform-repo",
        "eks-platform",
        "--library-url",
        "https://github.com/acme/eks-platform.git@v0.2.0",
        "--region",
        "Ireland",
        "--account",
        "staging=1111",
        "--account",
        "qa=111111111111",
        "--cluster-stack",
        "prod=eks-platform/prod",
        "--contract",
        "prod",
    )
    assert code == 2 and out == ""
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert err == (
        "eksplatform new-service: 13 problems:\n"
        f"  - DIR: got '{target}': exists and is not empty: give a new or empty directory "
        "(nothing is overwritten)\n"
        "  - --name: got 'Feed_API': must be a DNS label of 1-40 lowercase letters, digits or "
        "'-', starting with a letter and not ending with '-' (it names the Pulumi project, the "
        "Deployment and the AWS resources)\n"
        "  - --team: got '-news': must be a team of the cluster: a DNS label of 1-63 lowercase "
        "letters, digits or '-', starting with a letter\n"
        "  - --port: got '70000': must be the port the app listens on, 1-65535\n"
        "  - --platform-repo: got 'eks-platform': must be OWNER/NAME of the platform repo on "
        "GitHub\n"
        "  - --library-url: got 'https://github.com/acme/eks-platform.git@v0.2.0': must be the "
        "platform repo's git URL, git+https://HOST/PATH or git+ssh://HOST/PATH, without a tag or "
        "#fragment (the release tag is added)\n"
        "  - --image: got 'registry.example.com/news/feed:latest': must be "
        "registry/repository:tag (a version tag, not 'latest') or "
        "registry/repository@sha256:<digest>\n"
        "  - --region: got 'Ireland': must be an AWS region code such as 'eu-west-1'\n"
        "  - --contract: got 'prod': must be STACK=FILE (STACK: staging, prod)\n"
        "  - --account: got 'qa=111111111111': unknown stack 'qa': a new repo has staging, prod\n"
        "  - --cluster-stack: got 'prod=eks-platform/prod': must name the cluster stack as "
        "ORG/PROJECT/STACK, e.g. organization/eks-platform/prod\n"
        "  - --account: got 'staging=1111': must be a 12-digit AWS account ID\n"
        "  - --contract: missing: the prod stack needs the cluster's region and account: pass "
        "--contract prod=FILE (the output of `pulumi stack output --json --stack <the prod "
        "cluster stack>`), or --region and --account prod=ACCOUNT_ID\n"
    )


def test_a_team_the_cluster_does_not_have_is_refused_with_its_teams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contracts: dict[str, Path]
) -> None:
    code, _, err = _run(
        capsys,
        str(tmp_path / "feed"),
        "--name",
        "feed",
        "--team",
        "payments",
        f"--contract=staging={contracts['staging']}",
        f"--contract=prod={contracts['prod']}",
    )
    assert code == 2 and not (tmp_path / "feed").exists()
    assert err == (
        "eksplatform new-service: 2 problems:\n"
        "  - --team: got 'payments': is not a team of the staging cluster (its teams: media, "
        "news): ask the platform team to add it to platform:teams, or fix the name\n"
        "  - --team: got 'payments': is not a team of the prod cluster (its teams: media, "
        "news): ask the platform team to add it to platform:teams, or fix the name\n"
    )


def test_contracts_that_do_not_fit_the_stack_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contracts: dict[str, Path]
) -> None:
    not_a_contract = tmp_path / "other.json"
    not_a_contract.write_text('{"url": "x"}\n')
    code, _, err = _run(
        capsys,
        str(tmp_path / "feed"),
        "--name",
        "feed",
        "--team",
        "news",
        f"--contract=staging={contracts['prod']}",  # the prod cluster's, given for staging
        f"--contract=prod={not_a_contract}",
        "--region",
        "eu-west-2",
    )
    assert code == 2
    assert err == (
        "eksplatform new-service: 2 problems:\n"
        f"  - --contract: got 'staging={contracts['prod']}': {contracts['prod']} is the "
        "contract of the 'prod' cluster, not 'staging': give the staging cluster's\n"
        f"  - --contract: got 'prod={not_a_contract}': {not_a_contract}: lacks the cluster "
        "contract outputs region, accountId, environment, teamNamespaces: is it the output of "
        "the platform's cluster stack?\n"
    )


def test_an_option_that_contradicts_the_contract_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contracts: dict[str, Path]
) -> None:
    code, _, err = _run(
        capsys,
        str(tmp_path / "feed"),
        "--name",
        "feed",
        "--team",
        "news",
        f"--contract=staging={contracts['staging']}",
        f"--contract=prod={contracts['prod']}",
        "--region",
        "eu-west-2",
        "--account",
        "prod=333333333333",
    )
    assert code == 2
    assert err == (
        "eksplatform new-service: 3 problems:\n"
        "  - --region: got 'eu-west-2': the staging cluster's region is 'eu-west-1' (its "
        "contract): a service deploys where its cluster is; drop the option or fix it\n"
        "  - --region: got 'eu-west-2': the prod cluster's region is 'eu-west-1' (its "
        "contract): a service deploys where its cluster is; drop the option or fix it\n"
        "  - --account: got 'prod=333333333333': the prod cluster's account is '222222222222' "
        "(its contract): a service deploys where its cluster is; drop the option or fix it\n"
    )


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("a" * 40, True),
        ("a" * 41, False),
        ("feed-api", True),
        ("feed-", False),
        ("9feed", False),
        ("feed\n", False),
    ],
)
def test_service_name_limits(tmp_path: Path, name: str, ok: bool) -> None:
    problems = _problems(tmp_path, name=name)
    assert ("--name" not in problems) is ok, problems


@pytest.mark.parametrize(
    ("port", "ok"), [("0", False), ("1", True), ("65535", True), ("65536", False), ("80a", False)]
)
def test_port_limits(tmp_path: Path, port: str, ok: bool) -> None:
    problems = _problems(tmp_path, port=port)
    assert ("--port" not in problems) is ok, problems


def test_an_existing_empty_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert _problems(tmp_path / "empty") == set()
    (tmp_path / "file").write_text("x")
    assert _problems(tmp_path / "file") == {"DIR"}


def _problems(directory: Path, **options: Any) -> set[str]:
    """Fields with problems for otherwise valid options (no contracts: region and accounts)."""
    from eksplatform.core.errors import ValidationError

    args: dict[str, Any] = {
        "name": "feed",
        "team": "news",
        "region": "eu-west-1",
        "accounts": ["staging=111111111111", "prod=222222222222"],
    } | options
    try:
        service_repo.plan(directory, **args)
    except ValidationError as exc:
        return {p.field for p in exc.problems}
    return set()

"""The contract as an artifact: the cluster preview writes what `pulumi stack output --json`
prints, and a service repo of its own previews against that file (``--stack-reference``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from eksplatform.core.contract import ClusterOutputs
from eksplatform.preview import cli
from eksplatform.preview.engine import (
    EXIT_INVALID_CONFIG,
    EXIT_OK,
    PreviewResult,
    Workspace,
    run_preview,
)
from eksplatform.preview.stack_output import dumps, read

from tests.conftest import write_program

Preview = Callable[[str], PreviewResult]

SERVICE_PROGRAM = """
import pulumi
from eksplatform.core.contract import known_contract
from eksplatform.service import ClusterOutputs

ref = pulumi.Config().require("clusterStack")
known = known_contract(ref)  # answered before anything is registered
cluster = ClusterOutputs.from_stack_reference(ref)
pulumi.export("knownRegion", known["region"])
pulumi.export("seenCluster", cluster.cluster_name)
pulumi.export("seenKubeconfig", cluster.kubeconfig)
"""

SERVICE_STACK = (
    "config:\n"
    "  aws:region: eu-west-1\n"
    '  aws:allowedAccountIds: ["111111111111"]\n'
    "  svc:clusterStack: organization/eks-platform/staging\n"
)


@pytest.fixture(scope="module")
def contract(cluster_preview: Preview, repo_workspace: Workspace) -> Path:
    """The staging cluster's contract file, as the cluster preview writes it."""
    assert cluster_preview("staging").ok
    return repo_workspace.out_dir("cluster", "staging") / "stack-output.json"


def _service_repo(root: Path, stack_text: str = SERVICE_STACK) -> Path:
    """A service repo of its own: Pulumi.yaml at the root, no services/, no cluster."""
    write_program(root, project="svc", main=SERVICE_PROGRAM, stacks={"staging": stack_text})
    return root


def test_the_cluster_preview_writes_what_pulumi_stack_output_json_prints(
    cluster_preview: Preview, contract: Path
) -> None:
    text = contract.read_text()
    document = json.loads(text)
    # one object of every contract output; the secret one as the CLI prints it without
    # --show-secrets; two-space indentation, keys sorted, a final newline
    assert sorted(document) == sorted(ClusterOutputs.output_names())
    assert document["kubeconfig"] == "[secret]"
    assert document["contractVersion"] == 1
    assert document["region"] == "eu-west-1" and document["accountId"] == "111111111111"
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert text == dumps(cluster_preview("staging").outputs)
    assert read(contract).secret_names == ("kubeconfig",)


def test_a_service_repo_previews_against_the_contract_file(contract: Path, tmp_path: Path) -> None:
    repo = _service_repo(tmp_path / "svc-repo")
    given = tmp_path / "contract-staging.json"
    shutil.copy(contract, given)
    code = cli.main(
        [
            "--root",
            str(repo),
            "--stack",
            "staging",
            "--stack-reference",
            f"organization/eks-platform/staging={given}",
        ]
    )
    assert code == EXIT_OK
    # build output inside the service repo, under its project name
    out = repo / "build" / "svc" / "staging"
    preview = json.loads((out / "preview.json").read_text())
    assert preview["outputs"] == {
        "knownRegion": "eu-west-1",
        "seenCluster": "eks-staging",
        "seenKubeconfig": "[secret]",
    }
    assert json.loads((out / "stack-output.json").read_text())["seenKubeconfig"] == "[secret]"


def test_the_file_answers_the_reference_and_known_contract_alike(
    contract: Path, tmp_path: Path
) -> None:
    repo = _service_repo(tmp_path / "svc-repo")
    ws = Workspace(repo, stack_references={"organization/eks-platform/staging": contract})
    assert ws.programs() == ["svc"]
    result = run_preview(ws, "svc", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.plain_outputs()["knownRegion"] == json.loads(contract.read_text())["region"]
    assert result.outputs["seenKubeconfig"]["value"] == "[secret]"  # still marked secret
    assert result.kubernetes_version == "1.35"  # the schema of the cluster's version


def test_a_reference_nothing_answers_is_bad_input(tmp_path: Path) -> None:
    repo = _service_repo(tmp_path / "svc-repo")
    result = run_preview(Workspace(repo), "svc", "staging")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == [] and result.resources == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "StackReference 'organization/eks-platform/staging': 1 problem:\n"
        "  - --stack-reference: missing: no file answers it (given: none) and no program here "
        "has project name 'eks-platform': pass --stack-reference "
        "organization/eks-platform/staging=<file>, the output of `pulumi stack output --json "
        "--stack organization/eks-platform/staging` (the platform pipeline publishes it for "
        "each cluster stack)"
    ]


def test_a_service_stack_without_region_and_account_is_refused(
    contract: Path, tmp_path: Path
) -> None:
    repo = _service_repo(
        tmp_path / "svc-repo", "config:\n  svc:clusterStack: organization/eks-platform/staging\n"
    )
    ws = Workspace(repo, stack_references={"organization/eks-platform/staging": contract})
    result = run_preview(ws, "svc", "staging")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == [] and result.resources == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.staging.yaml: invalid stack configuration: 2 problems:\n"
        "  - aws:region: missing: a stack previewed against organization/eks-platform/staging "
        "must name its region (offline nothing else does): add `aws:region: eu-west-1` under "
        "config: in Pulumi.staging.yaml (the region organization/eks-platform/staging exports)\n"
        "  - aws:allowedAccountIds: missing: a stack previewed against "
        "organization/eks-platform/staging must name its AWS account (offline it would be made "
        "up; under `pulumi up` it stops a deploy with the wrong credentials): add "
        '`aws:allowedAccountIds: ["111111111111"]` under config: in Pulumi.staging.yaml (the '
        "account organization/eks-platform/staging exports)"
    ]


EARLY_PROGRAM = """
import pulumi
import pulumi_aws as aws
from eksplatform.service import ClusterOutputs

aws.sqs.Queue("early")  # registered while the reference is still pending
cluster = ClusterOutputs.from_stack_reference("organization/eks-platform/staging")
pulumi.export("seenCluster", cluster.cluster_name)
"""


def test_the_refusal_is_the_only_error_even_after_registrations(
    contract: Path, tmp_path: Path
) -> None:
    """A refused reference is the preview's input, not the program's order of work: the run
    shows the refusal alone and nothing half-built."""
    write_program(
        tmp_path / "svc-repo", project="svc", main=EARLY_PROGRAM, stacks={"staging": "config: {}\n"}
    )
    ws = Workspace(
        tmp_path / "svc-repo", stack_references={"organization/eks-platform/staging": contract}
    )
    result = run_preview(ws, "svc", "staging")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == [] and result.registered_before_error == []
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("Pulumi.staging.yaml: invalid stack configuration: 2 problems:")


@pytest.mark.parametrize(
    ("region", "accounts", "expected"),
    [
        (
            "eu-west-1",
            "[111111111111]",
            "  - aws:allowedAccountIds: got [111111111111]: must be a list of 12-digit account "
            "IDs, each in quotes (unquoted, an ID with a leading 0 loses it): e.g. "
            '`aws:allowedAccountIds: ["111111111111"]`',
        ),
        (
            "eu-west-1",
            '"111111111111"',
            "  - aws:allowedAccountIds: got '111111111111': must be a list of 12-digit account "
            "IDs, each in quotes (unquoted, an ID with a leading 0 loses it): e.g. "
            '`aws:allowedAccountIds: ["111111111111"]`',
        ),
        (
            "eu-west-1",
            '["11111111111"]',  # 11 digits: one short
            "  - aws:allowedAccountIds: got ['11111111111']: must be a list of 12-digit account "
            "IDs, each in quotes (unquoted, an ID with a leading 0 loses it): e.g. "
            '`aws:allowedAccountIds: ["111111111111"]`',
        ),
        (
            "EU-west-1",
            '["111111111111"]',
            "  - aws:region: got 'EU-west-1': must be an AWS region code such as 'eu-west-1'",
        ),
    ],
)
def test_a_malformed_region_or_account_is_refused(
    contract: Path, tmp_path: Path, region: str, accounts: str, expected: str
) -> None:
    stack = (
        f"config:\n  aws:region: {region}\n  aws:allowedAccountIds: {accounts}\n"
        "  svc:clusterStack: organization/eks-platform/staging\n"
    )
    repo = _service_repo(tmp_path / "svc-repo", stack)
    ws = Workspace(repo, stack_references={"organization/eks-platform/staging": contract})
    result = run_preview(ws, "svc", "staging")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert errors == ["Pulumi.staging.yaml: invalid stack configuration: 1 problem:\n" + expected]


def test_a_valid_account_list_with_several_ids_is_accepted(contract: Path, tmp_path: Path) -> None:
    stack = SERVICE_STACK.replace('["111111111111"]', '["111111111111", "012345678901"]')
    repo = _service_repo(tmp_path / "svc-repo", stack)
    ws = Workspace(repo, stack_references={"organization/eks-platform/staging": contract})
    assert run_preview(ws, "svc", "staging").ok


def test_bad_stack_reference_arguments_are_all_reported_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contract: Path
) -> None:
    repo = _service_repo(tmp_path / "svc-repo")
    (tmp_path / "list.json").write_text("[1, 2]\n")
    (tmp_path / "broken.json").write_text("{not json\n")
    code = cli.main(
        [
            "--root",
            str(repo),
            "--stack-reference",
            "organization/eks-platform/prod",
            "--stack-reference",
            "eks-platform/prod=x.json",
            "--stack-reference",
            f"o/p/a={tmp_path / 'missing.json'}",
            "--stack-reference",
            f"o/p/b={tmp_path / 'list.json'}",
            "--stack-reference",
            f"o/p/c={tmp_path / 'broken.json'}",
            "--stack-reference",
            f"o/p/d={contract}",
            "--stack-reference",
            f"o/p/d={contract}",
        ]
    )
    assert code == EXIT_INVALID_CONFIG
    assert not (repo / "build").exists()
    err = capsys.readouterr().err.replace(str(tmp_path), "<tmp>").replace(str(contract), "<c>")
    assert err == (
        "eksplatform preview: 6 problems:\n"
        "  - --stack-reference: got 'organization/eks-platform/prod': must be "
        "<org>/<project>/<stack>=<file>, e.g. organization/eks-platform/prod=contract-prod.json\n"
        "  - --stack-reference: got 'eks-platform/prod=x.json': 'eks-platform/prod' is not "
        "<org>/<project>/<stack> (three parts of letters, digits, '-', '_' or '.'): name the "
        "stack as the program's StackReference does, e.g. organization/eks-platform/prod\n"
        "  - --stack-reference: got 'o/p/a=<tmp>/missing.json': <tmp>/missing.json: no such "
        "file: write it with `pulumi stack output --json --stack o/p/a > <tmp>/missing.json`\n"
        "  - --stack-reference: got 'o/p/b=<tmp>/list.json': <tmp>/list.json: expected a JSON "
        "object of stack outputs (what `pulumi stack output --json` prints), got a JSON list: "
        "write it with `pulumi stack output --json --stack o/p/b > <tmp>/list.json`\n"
        "  - --stack-reference: got 'o/p/c=<tmp>/broken.json': <tmp>/broken.json: not JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1)): write "
        "it with `pulumi stack output --json --stack o/p/c > <tmp>/broken.json`\n"
        "  - --stack-reference: got 'o/p/d=<c>': o/p/d is already answered from <c>: give each "
        "stack one file\n"
    )

"""The pack in the offline preview: the repo's own stacks and example services comply; a service
written without ServiceStack fails with exactly the rules it breaks (exit 4); ``eksplatform
policy check`` gives the same on saved previews; exemptions are data and expire."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from eksplatform.guardrails import RULES
from eksplatform.guardrails.exemptions import ExemptionError, parse_exemptions
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview, write_result
from eksplatform.preview.policy import EXIT_POLICY_VIOLATIONS, PolicyDiagnostic

from tests.conftest import REPO

FIXTURE = "tests/fixtures/noncompliant-service"
BROKEN = [
    "aws-ecr-scan-immutable",
    "aws-iam-no-wildcard-actions",
    "aws-no-world-ingress",
    "aws-required-tags",
    "aws-role-boundary",
    "aws-s3-encryption",
    "aws-s3-public-access",
    "aws-world-ingress-lb-only",
    "k8s-image-pinned",
    "k8s-image-registry",
    "k8s-labels",
    "k8s-no-default-namespace",
    "k8s-no-loadbalancer-service",
    "k8s-pdb-multi-replica",
    "k8s-pod-security",
    "k8s-probes",
    "k8s-resources",
    "svc-alarms",
]
TODAY = dt.date(2026, 12, 3)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``eksplatform <argv>`` in this process: (exit status, stdout, stderr)."""
    from eksplatform.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _policy_ids(result: PreviewResult, severity: str = "error") -> list[str]:
    found: set[str] = set()
    for d in result.diagnostics:
        if isinstance(d, PolicyDiagnostic) and d.severity == severity:
            found.add(d.policy)
    return sorted(found)


@pytest.fixture(scope="module")
def fixture_preview(repo_workspace: Workspace) -> PreviewResult:
    result = run_preview(repo_workspace, FIXTURE, "staging")
    write_result(repo_workspace, result)
    return result


def test_the_repo_stacks_have_no_mandatory_violation(
    cluster_preview: Callable[[str], PreviewResult], repo_workspace: Workspace
) -> None:
    from eksplatform.preview.policy import resources_of_document, run_pack

    # Prod's general pool (2 nodes per zone over an on-demand base of 1) runs no spot at its
    # minimum size: the advisory spot-share rule says so on each zone's group (issue 18); the
    # stack file's reliability choice stands, the rule only makes its cost visible.
    at_min = (
        "effective spot share at the minimum size is 0% per zone group (0 of 2 nodes: 1 "
        "on-demand base, 30% on-demand above it), below 50-90% for 'prod'"
    )
    for stack in ("staging", "prod"):
        result = cluster_preview(stack)
        assert result.ok and _policy_ids(result) == []
        warned = sorted(
            (d.policy, d.urn.rsplit("::", 1)[-1])
            for d in result.diagnostics
            if isinstance(d, PolicyDiagnostic) and d.severity == "warning"
        )
        if stack == "staging":
            assert warned == []
        else:
            assert [w[0] for w in warned] == ["aws-spot-share"] * 3
            assert all("-general-" in w[1] for w in warned)
            assert all(
                at_min in d.message
                for d in result.diagnostics
                if isinstance(d, PolicyDiagnostic) and d.severity == "warning"
            )
        listed = [d.message for d in result.diagnostics if "exemption in force" in d.message]
        assert len(listed) == 1 and "k8s-pdb-multi-replica" in listed[0]  # headroom pause pods
    for name in ("news-feed", "transcode-worker", "user-profiles"):
        for stack in ("staging", "prod"):
            doc = repo_workspace.out_dir(f"services/{name}", stack) / "preview.json"
            if not doc.is_file():  # the examples tests write them; preview here otherwise
                write_result(repo_workspace, run_preview(repo_workspace, f"services/{name}", stack))
            report = run_pack(*resources_of_document(json.loads(doc.read_text())), REPO)
            assert report.violations == [], (name, stack)


def test_a_service_without_servicestack_fails_with_exactly_the_rules_it_breaks(
    fixture_preview: PreviewResult,
) -> None:
    assert fixture_preview.exit_code == EXIT_POLICY_VIOLATIONS
    assert _policy_ids(fixture_preview) == BROKEN
    assert len(BROKEN) >= 8
    diag = next(
        d for d in fixture_preview.diagnostics if getattr(d, "policy", "") == "aws-role-boundary"
    )
    assert diag.as_json() == {
        "severity": "error",
        "message": "[eks-platform-guardrails/aws-role-boundary, mandatory] aws:iam/role:Role app: "
        + RULES["aws-role-boundary"].message(
            "service role (team 'news') has no permissions boundary"
        ),
        "urn": "urn:pulumi:staging::noncompliant-service::pulumi:pulumi:Stack$aws:iam/role:Role::app",
        "policyPack": "eks-platform-guardrails",
        "policyName": "aws-role-boundary",
        "enforcementLevel": "mandatory",
    }


def test_make_preview_of_the_fixture_exits_4(
    repo_workspace: Workspace, fixture_preview: PreviewResult
) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "eksplatform",
            "preview",
            "--root",
            str(REPO),
            "--build-dir",
            str(repo_workspace.build_dir),
            "--program",
            FIXTURE,
            "--stack",
            "staging",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 4
    assert "Result: FAILED (exit 4)" in out.stdout
    assert "[eks-platform-guardrails/svc-alarms, mandatory]" in out.stdout


def test_policy_check_on_the_saved_preview(
    repo_workspace: Workspace, fixture_preview: PreviewResult, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = str(repo_workspace.out_dir(FIXTURE, "staging") / "preview.json")
    code, out, _ = cli(capsys, "policy", "check", doc, "--root", str(REPO), "--json")
    assert code == 4
    report = json.loads(out)[0]
    assert sorted({v["policy"] for v in report["violations"]}) == BROKEN
    live = sorted(
        (d.urn, getattr(d, "policy", ""))
        for d in fixture_preview.diagnostics
        if getattr(d, "policy", "")
    )
    assert sorted((v["urn"], v["policy"]) for v in report["violations"]) == live
    code, out, _ = cli(capsys, "policy", "check", doc, "--root", str(REPO))
    assert code == 4
    assert out.startswith(f"== {doc}: {len(live)} mandatory, 0 advisory\n")
    code, _, err = cli(capsys, "policy", "check", doc + ".missing", "--root", str(REPO))
    assert code == 2 and ".missing" in err


def test_pack_config_and_exemptions_of_the_workspace(
    tmp_path: Path,
    repo_workspace: Workspace,
    fixture_preview: PreviewResult,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = str(repo_workspace.out_dir(FIXTURE, "staging") / "preview.json")
    root = tmp_path / "ws"
    (root / "policy").mkdir(parents=True)
    shutil.copy(REPO / "policy" / "PulumiPolicy.yaml", root / "policy")
    args = ("policy", "check", doc, "--root", str(root), "--json")
    # Everything disabled but one rule, turned advisory: no mandatory violation left.
    config = {"all": "disabled", "k8s-probes": {"enforcementLevel": "advisory"}}
    (root / "policy" / "config.json").write_text(json.dumps(config))
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert [(v["policy"], v["enforcementLevel"]) for v in json.loads(out)[0]["violations"]] == [
        ("k8s-probes", "advisory")
    ]
    # An exemption in force hides the violation it covers and is listed; an expired one fails.
    (root / "policy" / "config.json").write_text(
        json.dumps({"all": "disabled", "k8s-probes": "mandatory"})
    )
    exemption = (
        "exemptions:\n  - rule: k8s-probes\n    urn: 'urn:pulumi:*::noncompliant-service::*'\n"
        "    owner: news-team\n    reason: migrating to ServiceStack\n    expires: {date}\n"
    )
    ahead = dt.date.today() + dt.timedelta(days=30)
    (root / "policy" / "exemptions.yaml").write_text(exemption.format(date=ahead.isoformat()))
    code, out, _ = cli(capsys, *args)
    report = json.loads(out)[0]
    assert code == 0 and report["violations"] == [] and len(report["exempted"]) == 1
    assert report["activeExemptions"] == [
        f"k8s-probes on urn:pulumi:*::noncompliant-service::* (owner news-team, until {ahead.isoformat()}): migrating to ServiceStack"
    ]
    past = dt.date.today() - dt.timedelta(days=1)
    (root / "policy" / "exemptions.yaml").write_text(exemption.format(date=past.isoformat()))
    code, out, _ = cli(capsys, *args)
    assert code == 4
    assert [v["policy"] for v in json.loads(out)[0]["violations"]] == [
        "k8s-probes",
        "guardrail-exemptions",
    ]
    # A config naming no rule of the pack is bad input.
    (root / "policy" / "config.json").write_text(json.dumps({"k8s-probe": "advisory"}))
    code, _, err = cli(capsys, *args)
    assert code == 2 and "k8s-probe: not a policy of eks-platform-guardrails" in err


def test_bad_exemptions_are_refused_with_every_problem() -> None:
    data = {
        "exemptions": [
            {"rule": "k8s-probe", "urn": "*", "owner": "", "reason": "x", "expires": "2027-13-01"},
            {
                "rule": "k8s-probes",
                "urn": "*",
                "owner": "a",
                "reason": "b",
                "expires": dt.date(2028, 6, 1),
                "ticket": 1,
            },
        ]
    }
    with pytest.raises(ExemptionError) as err:
        parse_exemptions(data, RULES.ids(), source="policy/exemptions.yaml", today=TODAY)
    assert err.value.problems == [
        "exemptions[0].rule: got 'k8s-probe': not a guardrail rule id",
        "exemptions[0].owner: got '': required, a non-empty string",
        "exemptions[0].expires: got '2027-13-01': must be a date, YYYY-MM-DD",
        "exemptions[1].ticket: unknown key; allowed: rule, urn, owner, reason, expires",
        "exemptions[1].expires: got 2028-06-01: more than 366 days ahead; exemptions are reviewed at least yearly",
    ]


def test_the_repo_exemptions_parse_and_are_in_force() -> None:
    from eksplatform.guardrails.exemptions import load_exemptions

    found = load_exemptions(REPO / "policy" / "exemptions.yaml", RULES.ids(), dt.date.today())
    assert [e.rule for e in found] == ["k8s-pdb-multi-replica"]
    assert all(not e.expired(dt.date.today()) for e in found)

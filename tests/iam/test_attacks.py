"""The attack suite (``tests/iam/attacks.py``): every attempt is refused at validation with its
exact message, AND denied when the statement is evaluated together with the permissions
boundary the cluster preview really deploys (as if a team had created the policy some other
way). Attempts whose resources are Outputs fail the run before anything is registered."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eksplatform.core.errors import Problems, ValidationError
from eksplatform.core.iam.evaluator import evaluate
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult
from eksplatform.service import plan_service
from eksplatform.service.iam_checks import Owner, check_resolved_statement

from tests.iam.attacks import ACCOUNT, ATTACKS, ENV, EXPECTED, REGION, Attack, P
from tests.service.bad_inputs import good_args
from tests.service.programs import facts_contract, preview_service

TEAMS = {"news": "news", "media": "media"}


@pytest.fixture(scope="module")
def boundary(cluster_preview: Callable[[str], PreviewResult]) -> dict[str, Any]:
    """The boundary document of the staging cluster preview (account 111111111111)."""
    (policy,) = [
        r for r in cluster_preview(ENV).by_type("aws:iam/policy:Policy") if "boundary" in r.name
    ]
    doc: dict[str, Any] = json.loads(policy.inputs["policy"])
    return doc


def _document(attack: Attack) -> dict[str, Any]:
    st = attack.statement
    statement: dict[str, Any] = {
        "Effect": st.effect,
        "Action": list(st.actions),
        "Resource": list(st.resources),
    }
    if st.conditions:
        statement["Condition"] = {k: dict(v) for k, v in st.conditions.items()}
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_at_least_30_attacks_each_with_its_own_message() -> None:
    assert len(ATTACKS) >= 30
    assert set(ATTACKS) == set(EXPECTED)
    assert all(EXPECTED.values())
    assert len({tuple(v) for v in EXPECTED.values()}) >= 30  # distinct refusals, not one reused


@pytest.mark.parametrize("name", sorted(n for n, a in ATTACKS.items() if not a.resolved))
def test_refused_before_anything_is_registered(name: str) -> None:
    args = dataclasses.replace(
        good_args(facts_contract(ENV, TEAMS)), iam_statements=[ATTACKS[name].statement]
    )
    with pytest.raises(ValidationError) as info:
        plan_service(args)
    assert [str(p) for p in info.value.problems] == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(n for n, a in ATTACKS.items() if a.resolved))
def test_refused_when_the_resources_resolve(name: str) -> None:
    attack = ATTACKS[name]
    problems = Problems()
    check_resolved_statement(
        problems,
        P,
        attack.statement,
        list(attack.statement.resources),
        account=ACCOUNT,
        region=REGION,
        owner=Owner(team="news", other_teams=("media",), environment=ENV),
    )
    assert [str(p) for p in problems] == EXPECTED[name]
    # ...and the same statement passes the checks that run before registration: only the
    # cluster's account and region, known when the contract resolves, refuse it.
    args = dataclasses.replace(
        good_args(facts_contract(ENV, TEAMS)), iam_statements=[attack.statement]
    )
    plan_service(args)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_denied_by_the_evaluator_with_the_deployed_boundary(
    name: str, boundary: dict[str, Any]
) -> None:
    attack = ATTACKS[name]
    identity = _document(attack)
    result = evaluate(attack.target, identity=[identity], boundary=boundary)
    assert result.decision == attack.decision, result.deciding
    # Without the boundary, the identity policy alone would have let most of them through:
    # the boundary is what stops them, not a malformed request.
    if attack.decision == "explicit-deny":
        assert any(d.startswith("boundary:") for d in result.deciding)


def test_the_attacks_the_boundary_alone_must_stop_would_pass_without_it() -> None:
    through = [
        n
        for n, a in ATTACKS.items()
        if evaluate(a.target, identity=[_document(a)], boundary=None).allowed
    ]
    # Everything that names a resource the target matches is allowed by the identity policy
    # alone: these are the requests only the boundary refuses.
    assert len(through) >= 20, through


OUTPUT_ATTACKS = """
import pulumi
from eksplatform.service import IamStatement, ServiceStack, ServiceStackArgs

def later(value):
    return pulumi.Output.from_input("x").apply(lambda _: value)

ServiceStack("feed", ServiceStackArgs(
    name="feed",
    team="news",
    image="registry.example.com/news/feed:1.0.0",
    port=8080,
    cluster=cluster,
    iam_statements=[
        IamStatement(actions=["secretsmanager:GetSecretValue"], resources=[later("*")]),
        IamStatement(
            actions=["dynamodb:Query"],
            resources=[later("arn:aws:dynamodb:eu-west-1:999999999999:table/news-x")],
        ),
        IamStatement(actions=["s3:GetObject"], resources=[later("arn:aws:s3:::*/*")]),
        IamStatement(
            actions=["sqs:ReceiveMessage"],
            resources=[later("arn:aws:sqs:us-east-1:{account}:news-jobs")],
        ),
    ],
))
"""


def test_outputs_resolving_to_attacks_fail_before_anything_registers(tmp_path: Path) -> None:
    from tests.service.programs import ACCOUNT as CONTRACT_ACCOUNT

    body = OUTPUT_ATTACKS.replace("{account}", CONTRACT_ACCOUNT)
    _, result = preview_service(tmp_path, body, environment="prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []  # checked in ServiceStack's gate
    assert result.diagnostics[-1].message == "\n".join(
        [
            "ServiceStack 'feed': 4 problems:",
            "  - iam_statements[0].resources[0]: got '*': '*' is every resource, and "
            "secretsmanager:GetSecretValue reads data from Secret resources: name their ARNs "
            "('*' is only for actions that take no resource or only list names)",
            "  - iam_statements[1].resources[0]: got "
            "'arn:aws:dynamodb:eu-west-1:999999999999:table/news-x': is in account "
            f"999999999999, not the cluster's account {CONTRACT_ACCOUNT}: a service role acts "
            "only on its own account's resources",
            "  - iam_statements[2].resources[0]: got 'arn:aws:s3:::*/*': is not specific: the "
            "object name '*' has a wildcard, so it covers resources of other services and "
            "teams: name the object (wildcards only below it, like objects in a bucket)",
            f"  - iam_statements[3].resources[0]: got 'arn:aws:sqs:us-east-1:{CONTRACT_ACCOUNT}:"
            "news-jobs': is in region us-east-1, not the cluster's region eu-west-1: name the "
            "resource of this region",
        ]
    )
    assert result.resources == []  # not the component, the provider or the role either

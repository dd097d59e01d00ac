"""The permissions boundary's construction: derived from the action list, within IAM's size
limit, consistent with the statement checks, and refusing team names its patterns would confuse."""

from __future__ import annotations

import pytest
from eksplatform.cluster.boundary import (
    MANAGED_POLICY_MAX_CHARS,
    TAGGING_PATTERNS,
    boundary_policy_document,
    permission_management_actions,
    permission_management_patterns,
    policy_size,
)
from eksplatform.cluster.service_platform import (
    DEFAULT_ALLOWED_SERVICES,
    ServicePlatformArgs,
    ServicePlatformConfig,
    validate_service_platform_args,
)
from eksplatform.core.errors import ValidationError
from eksplatform.core.iam.actions import LIST, PERMISSIONS, READ, TAGGING, catalog
from eksplatform.core.iam.arn import glob_match
from eksplatform.core.iam.node_access import NODE_ACCESS_ACTIONS
from eksplatform.core.tags import Tags

SERVICES = list(DEFAULT_ALLOWED_SERVICES)


def _actions(level: str) -> list[str]:
    data = catalog()
    return [
        a.full_name
        for s in SERVICES
        for a in data.services[s].actions.values()
        if a.access_level == level
    ]


def _covered(action: str, patterns: list[str] | tuple[str, ...]) -> bool:
    return any(glob_match(p, action, ignore_case=True) for p in patterns)


def test_the_default_boundary_fits_iams_managed_policy_limit() -> None:
    doc = boundary_policy_document(
        environment="staging",
        allowed_services=SERVICES,
        region="eu-west-1",
        account="111111111111",
        cluster_name="eks-staging",
    )
    assert policy_size(doc) <= MANAGED_POLICY_MAX_CHARS


def test_permission_management_patterns_deny_all_of_it_and_no_write() -> None:
    patterns = permission_management_patterns(SERVICES)
    wanted = permission_management_actions(SERVICES)
    assert len(wanted) > 40  # resource policies, ACLs, grants, queue/topic attributes...
    assert [a for a in wanted if not _covered(a, patterns)] == []
    data = catalog()
    caught = [a for p in patterns for a in data.expand(p)]
    assert {a.access_level for a in caught} <= {PERMISSIONS, READ, LIST}
    for needed in ("s3:PutBucketPolicy", "secretsmanager:PutResourcePolicy", "sqs:AddPermission"):
        assert needed in wanted


def test_tagging_patterns_cover_every_tagging_action() -> None:
    tagging = _actions(TAGGING)
    assert len(tagging) > 30
    assert [a for a in tagging if not _covered(a, TAGGING_PATTERNS)] == []


def test_the_checks_and_the_boundary_refuse_the_same_node_access() -> None:
    from eksplatform.core.errors import Problems
    from eksplatform.service import IamStatement
    from eksplatform.service.iam_checks import check_statement

    doc = boundary_policy_document(
        environment="staging",
        allowed_services=DEFAULT_ALLOWED_SERVICES,
        region="eu-west-1",
        account="111111111111",
        cluster_name="eks-staging",
    )
    (deny,) = [st for st in doc["Statement"] if st.get("Sid") == "NoNodeAccess"]
    assert deny["Action"] == list(NODE_ACCESS_ACTIONS)
    for action in NODE_ACCESS_ACTIONS:  # each one refused at validation too
        problems = Problems()
        resource = "arn:aws:ec2:eu-west-1:111111111111:instance/i-0123456789abcdef0"
        check_statement(problems, "s", IamStatement(actions=[action], resources=[resource]))
        assert problems, action


def _args(
    teams: dict[str, list[str]], services: tuple[str, ...] = DEFAULT_ALLOWED_SERVICES
) -> ServicePlatformArgs:
    return ServicePlatformArgs(
        cluster_name="eks-staging",
        environment="staging",
        account_id="111111111111",
        region="eu-west-1",
        tags=Tags(team="platform", environment="staging", cost_centre="cc"),
        team_alert_emails=teams,
        config=ServicePlatformConfig(allowed_services=services),
    )


def test_team_names_the_patterns_would_confuse_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        validate_service_platform_args(
            _args({"news": [], "news-archive": [], "eks": [], "platform": []})
        )
    assert [str(p) for p in info.value.problems] == [
        "platform:teams[1].name: got 'news-archive': starts with team 'news' and a dash: the "
        "permissions boundary's name patterns of 'news' (news-*) would cover this team's "
        "resources; rename one of them",
        "platform:teams[2].name: got 'eks': is reserved (the platform's or AWS's own names: "
        "amazon, autoscaler, aws, default, eks, kube, logging, network, nodes, nth, platform, "
        "services): pick another name",
        "platform:teams[3].name: got 'platform': is reserved (the platform's or AWS's own names: "
        "amazon, autoscaler, aws, default, eks, kube, logging, network, nodes, nth, platform, "
        "services): pick another name",
    ]


def test_names_that_only_share_letters_are_fine() -> None:
    validate_service_platform_args(_args({"news": [], "newsroom": [], "media": []}))


def test_a_boundary_over_the_size_limit_is_refused_before_anything_is_created() -> None:
    never = {"account", "iam", "organizations", "sts"}
    many = tuple(s for s in sorted(catalog().services) if s not in never)[:150]
    with pytest.raises(ValidationError) as info:
        validate_service_platform_args(_args({"news": []}, many))
    (problem,) = info.value.problems
    assert problem.field == "platform:servicePlatform.allowedServices"
    assert "over IAM's limit of 6144 for a managed policy: allow fewer services" in problem.message

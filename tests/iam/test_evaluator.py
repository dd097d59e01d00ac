"""The offline evaluator against AWS's documented evaluation logic, one rule per test: explicit
deny wins, identity AND boundary must allow, Action/NotAction, Resource/NotResource, ARN
wildcards, the condition operators, IfExists, ForAnyValue/ForAllValues, Null, policy variables."""

from __future__ import annotations

from typing import Any

import pytest
from eksplatform.core.iam.arn import arn_like
from eksplatform.core.iam.evaluator import Request, evaluate, request, statement_applies

BUCKET = "arn:aws:s3:::staging-news-exports"
TABLE = "arn:aws:dynamodb:eu-west-1:111111111111:table/news-profiles"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(req: Request, identity: dict[str, Any], boundary: dict[str, Any] | None = None) -> str:
    return evaluate(req, identity=[identity], boundary=boundary).decision


GET = Request("s3:GetObject", f"{BUCKET}/a.csv")


def test_nothing_allowed_is_implicitly_denied() -> None:
    assert decide(GET, doc(allow("s3:PutObject"))) == "implicit-deny"


def test_an_allow_allows() -> None:
    assert decide(GET, doc(allow())) == "allow"


def test_an_explicit_deny_wins_over_any_allow() -> None:
    assert decide(GET, doc(allow(), deny())) == "explicit-deny"
    assert decide(GET, doc(allow()), doc(allow(), deny())) == "explicit-deny"


def test_identity_and_boundary_must_both_allow() -> None:
    assert decide(GET, doc(allow()), doc(allow("s3:PutObject"))) == "implicit-deny"
    assert decide(GET, doc(allow("s3:PutObject")), doc(allow())) == "implicit-deny"
    assert decide(GET, doc(allow()), doc(allow("s3:Get*"))) == "allow"


def test_actions_match_wildcards_in_any_case() -> None:
    assert decide(GET, doc(allow("S3:get*"))) == "allow"
    assert decide(GET, doc(allow("s3:Get?bject"))) == "allow"
    assert decide(GET, doc(allow("s3:Put*"))) == "implicit-deny"


def test_not_action_matches_every_other_action() -> None:
    assert decide(GET, doc({"Effect": "Allow", "NotAction": "s3:Put*", "Resource": "*"})) == (
        "allow"
    )
    assert decide(GET, doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})) == (
        "implicit-deny"
    )


def test_not_resource_matches_every_other_resource() -> None:
    st = {"Effect": "Deny", "Action": "*", "NotResource": f"{BUCKET}/*"}
    assert decide(GET, doc(allow(), st)) == "allow"
    other = Request("s3:GetObject", "arn:aws:s3:::staging-media-uploads/a")
    assert decide(other, doc(allow(), st)) == "explicit-deny"


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("*", TABLE, True),
        ("arn:aws:dynamodb:*:*:table/news-*", TABLE, True),
        ("arn:aws:dynamodb:eu-west-1:111111111111:table/news-*", f"{TABLE}/index/by-email", True),
        ("arn:aws:dynamodb:eu-west-1:222222222222:table/news-*", TABLE, False),
        ("arn:aws:dynamodb:eu-west-?:111111111111:table/news-profiles", TABLE, True),
        ("arn:aws:s3:::staging-news-*", BUCKET, True),
        ("arn:aws:s3:::staging-news-*", "arn:aws:s3:::staging-newsy", False),
        # components are matched separately: a '*' does not run across a colon boundary
        ("arn:aws:s3:*", BUCKET, False),
        (
            "arn:aws:logs:*:*:log-group:/news/*",
            "arn:aws:logs:r:1:log-group:/news/a:log-stream:b",
            True,
        ),
    ],
)
def test_arn_patterns_match_component_by_component(pattern: str, arn: str, expected: bool) -> None:
    assert arn_like(pattern, arn) is expected


def test_string_operators() -> None:
    req = Request("s3:GetObject", "*", {"aws:ResourceTag/team": "news"})
    for op, value, expected in [
        ("StringEquals", "news", True),
        ("StringEquals", "News", False),
        ("StringEqualsIgnoreCase", "NEWS", True),
        ("StringNotEquals", "media", True),
        ("StringNotEquals", "news", False),
        ("StringLike", "ne*", True),
        ("StringLike", "n?ws", True),
        ("StringNotLike", "ne*", False),
        ("StringEquals", ["media", "news"], True),  # values of one key: OR
    ]:
        st = allow(Condition={op: {"aws:ResourceTag/team": value}})
        assert statement_applies(st, req) is expected, (op, value)


def test_conditions_and_keys_are_anded() -> None:
    req = Request(
        "s3:GetObject", "*", {"aws:ResourceTag/team": "news", "aws:SecureTransport": True}
    )
    both = allow(
        Condition={
            "StringEquals": {"aws:ResourceTag/team": "news"},
            "Bool": {"aws:SecureTransport": "true"},
        }
    )
    assert statement_applies(both, req)
    one_wrong = allow(
        Condition={
            "StringEquals": {"aws:ResourceTag/team": "news", "aws:ResourceTag/env": "x"},
        }
    )
    assert not statement_applies(one_wrong, req)


def test_condition_keys_are_case_insensitive() -> None:
    req = Request("s3:GetObject", "*", {"AWS:ResourceTag/Team": "news"})
    assert statement_applies(
        allow(Condition={"StringEquals": {"aws:resourcetag/team": "news"}}), req
    )


def test_a_missing_key_fails_positive_operators_and_passes_negated_ones() -> None:
    req = Request("s3:GetObject", "*")
    assert not statement_applies(
        allow(Condition={"StringEquals": {"aws:ResourceTag/team": "x"}}), req
    )
    # "If the key is not present, ... a negated operator (StringNotEquals) evaluates true"
    assert statement_applies(
        allow(Condition={"StringNotEquals": {"aws:ResourceTag/team": "x"}}), req
    )


def test_if_exists_passes_when_the_key_is_absent_only() -> None:
    st = allow(Condition={"StringEqualsIfExists": {"aws:ResourceTag/team": "news"}})
    assert statement_applies(st, Request("s3:GetObject", "*"))
    assert statement_applies(st, Request("s3:GetObject", "*", {"aws:ResourceTag/team": "news"}))
    assert not statement_applies(st, Request("s3:GetObject", "*", {"aws:ResourceTag/team": "x"}))


def test_null_checks_presence() -> None:
    absent, present = Request("a:B", "*"), Request("a:B", "*", {"aws:RequestTag/team": "news"})
    is_null = allow("a:B", Condition={"Null": {"aws:RequestTag/team": "true"}})
    not_null = allow("a:B", Condition={"Null": {"aws:RequestTag/team": "false"}})
    assert statement_applies(is_null, absent) and not statement_applies(is_null, present)
    assert statement_applies(not_null, present) and not statement_applies(not_null, absent)


def test_for_any_value_and_for_all_values() -> None:
    keys = Request("sqs:TagQueue", "*", {"aws:TagKeys": ["team", "cost"]})
    none = Request("sqs:TagQueue", "*")
    any_team = allow(
        "sqs:TagQueue", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}
    )
    all_known = allow(
        "sqs:TagQueue", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "app"]}}
    )
    assert statement_applies(any_team, keys)
    assert not statement_applies(any_team, none)  # ForAnyValue: no value, no match
    assert not statement_applies(all_known, keys)  # 'cost' is not listed
    assert statement_applies(all_known, none)  # ForAllValues: vacuously true when absent


def test_numeric_date_bool_ip_and_arn_operators() -> None:
    req = Request(
        "a:B",
        "*",
        {
            "aws:MultiFactorAuthAge": "300",
            "aws:CurrentTime": "2026-12-01T10:00:00Z",
            "aws:SecureTransport": False,
            "aws:SourceIp": "10.20.1.5",
            "aws:SourceArn": "arn:aws:ec2:eu-west-1:111111111111:vpc-flow-log/fl-1",
        },
    )
    for cond, expected in [
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, True),
        ({"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}, False),
        ({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, True),
        ({"IpAddress": {"aws:SourceIp": "10.20.0.0/16"}}, True),
        ({"NotIpAddress": {"aws:SourceIp": "10.20.0.0/16"}}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:ec2:eu-west-1:111111111111:vpc-flow-log/*"}}, True),
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:ec2:*:222222222222:*"}}, True),
    ]:
        assert statement_applies(allow("a:B", Condition=cond), req) is expected, cond


def test_policy_variables_in_resources_and_conditions() -> None:
    own = allow("s3:GetObject", "arn:aws:s3:::staging-${aws:PrincipalTag/team}-*/*")
    news = request("s3:GetObject", f"{BUCKET}/a", principal_tags={"team": "news"})
    media = request("s3:GetObject", f"{BUCKET}/a", principal_tags={"team": "media"})
    assert statement_applies(own, news) and not statement_applies(own, media)
    tagged = allow(Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}})
    req = Request(
        "s3:GetObject", "*", {"aws:PrincipalTag/team": "news", "aws:ResourceTag/team": "news"}
    )
    assert statement_applies(tagged, req)


def test_a_variable_cannot_smuggle_a_wildcard() -> None:
    st = allow("s3:GetObject", "arn:aws:s3:::staging-${aws:PrincipalTag/team}-x/*")
    sneaky = request("s3:GetObject", "arn:aws:s3:::staging-media-x/a", principal_tags={"team": "*"})
    assert not statement_applies(st, sneaky)
    literal = request("s3:GetObject", "arn:aws:s3:::staging-*-x/a", principal_tags={"team": "*"})
    assert statement_applies(st, literal)
    assert statement_applies(
        allow("s3:GetObject", "arn:aws:s3:::a${*}b/*"),
        Request("s3:GetObject", "arn:aws:s3:::a*b/c"),
    )
    assert not statement_applies(
        allow("s3:GetObject", "arn:aws:s3:::a${*}b/*"),
        Request("s3:GetObject", "arn:aws:s3:::axb/c"),
    )


def test_a_missing_variable_makes_the_statement_not_apply() -> None:
    st = allow("s3:GetObject", "arn:aws:s3:::staging-${aws:PrincipalTag/team}-*/*")
    assert decide(request("s3:GetObject", f"{BUCKET}/a"), doc(st)) == "implicit-deny"
    # ...so a Deny with a variable denies nothing when the key is absent (never rely on it)
    d = deny(
        "s3:GetObject",
        "*",
        Condition={"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
    )
    assert (
        decide(Request("s3:GetObject", "*", {"aws:ResourceTag/team": "x"}), doc(allow(), d))
        == "allow"
    )


def test_the_request_builder_adds_resource_tags_only_where_aws_documents_them() -> None:
    tags = {"team": "news"}
    queue = request(
        "sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:111111111111:news-jobs", resource_tags=tags
    )
    assert queue.values("aws:ResourceTag/team") == ["news"]
    assert queue.values("aws:ResourceAccount") == ["111111111111"]
    # CloudWatch PutMetricData takes no resource: no resource tags in its context
    metric = request("cloudwatch:PutMetricData", "*", resource_tags=tags)
    assert metric.values("aws:ResourceTag/team") is None

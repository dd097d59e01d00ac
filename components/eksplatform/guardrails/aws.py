"""Guardrails on every AWS resource: the company tags and the names AWS accepts.

``aws-required-tags`` decides which types take tags from the pulumi-aws SDK's own signatures
(a list kept by hand would miss new types); ``aws-name-limits`` checks explicit names and
prefixes with :mod:`eksplatform.core.naming` (an auto-name is the provider's and always fits);
``aws-naming-convention`` keeps team resources recognisable by name, which the permissions
boundary keys on. Cost: the first check of a type imports its pulumi-aws module (already
imported when a program created it).

The value checks (``*_problem`` functions) of this and the other rule modules are public:
component input validation calls them with the fields the user wrote
(:mod:`eksplatform.guardrails.inputs`).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Iterator, Mapping, Sequence

from ..core import naming
from ._props import tags_of
from .model import Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

# --- required tags ------------------------------------------------------------------------------


@functools.cache
def is_taggable(type_token: str) -> bool:
    """Whether a pulumi-aws resource type takes ``tags`` (read from the SDK's own signature)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return False
    module = parts[1].split("/")[0]
    try:
        mod = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
        cls = getattr(mod, parts[2])
        return "tags" in inspect.signature(cls._internal_init).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return False


def missing_tags(tags: Mapping[str, str], required: Sequence[str]) -> list[str]:
    """Required keys absent or empty in ``tags``."""
    return [k for k in required if not str(tags.get(k) or "").strip()]


def _check_tags(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if not is_taggable(r.type):
        return
    missing = missing_tags(tags_of(r.props), s.required_tag_keys)
    if missing:
        yield f"{r.type} has no value for the required tag(s) {', '.join(missing)}"


REQUIRED_TAGS = Rule(
    id="aws-required-tags",
    title="Every taggable AWS resource carries the company tags",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="build tags with eksplatform Tags(...).merged() (or pass every required key in tags=)",
    check=_check_tags,
    config=("requiredTagKeys",),
)

# --- names --------------------------------------------------------------------------------------

NAME_RULES: dict[str, tuple[str, str | None, naming.NameRule]] = {
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", naming.S3_BUCKET),
    "aws:s3/bucketV2:BucketV2": ("bucket", "bucketPrefix", naming.S3_BUCKET),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "namePrefix", naming.LOAD_BALANCER),
    "aws:alb/loadBalancer:LoadBalancer": ("name", "namePrefix", naming.LOAD_BALANCER),
    "aws:lb/targetGroup:TargetGroup": ("name", "namePrefix", naming.TARGET_GROUP),
    "aws:alb/targetGroup:TargetGroup": ("name", "namePrefix", naming.TARGET_GROUP),
    "aws:iam/role:Role": ("name", "namePrefix", naming.IAM_ROLE),
    "aws:iam/policy:Policy": ("name", "namePrefix", naming.IAM_POLICY),
    "aws:iam/instanceProfile:InstanceProfile": ("name", "namePrefix", naming.IAM_INSTANCE_PROFILE),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix", naming.LAUNCH_TEMPLATE),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", naming.LOG_GROUP),
    "aws:sqs/queue:Queue": ("name", "namePrefix", naming.SQS_QUEUE),
    "aws:sns/topic:Topic": ("name", "namePrefix", naming.SNS_TOPIC),
    "aws:ecr/repository:Repository": ("name", None, naming.ECR_REPOSITORY),
    "aws:eks/cluster:Cluster": ("name", None, naming.EKS_CLUSTER),
    "aws:autoscaling/group:Group": ("name", "namePrefix", naming.AUTOSCALING_GROUP),
    "aws:cloudwatch/eventRule:EventRule": ("name", "namePrefix", naming.EVENTBRIDGE_RULE),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", None, naming.CLOUDWATCH_ALARM),
    "aws:lambda/function:Function": ("name", None, naming.LAMBDA_FUNCTION),
    "aws:kms/alias:Alias": ("name", "namePrefix", naming.KMS_ALIAS),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", naming.SECURITY_GROUP),
    "aws:dynamodb/table:Table": ("name", None, naming.DYNAMODB_TABLE),
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix", naming.SECRETS_MANAGER_SECRET),
    "aws:ssm/parameter:Parameter": ("name", None, naming.SSM_PARAMETER),
}
"""Type -> (name property, name prefix property, the service's name rule)."""


def _check_name_limits(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    name_key, prefix_key, rule = NAME_RULES[r.type]
    name = r.props.get(name_key)
    if isinstance(name, str):
        reason = naming.name_problem(rule, name)
        if reason:
            yield f"{name_key} {name!r} is not a valid {rule.what}: it {reason}"
    prefix = r.props.get(prefix_key) if prefix_key else None
    if isinstance(prefix, str):
        reason = naming.name_prefix_problem(rule, prefix)
        if reason:
            yield f"{prefix_key} {prefix!r} gives no valid {rule.what}: it {reason}"


NAME_LIMITS = Rule(
    id="aws-name-limits",
    title="Physical names fit the AWS service's length limit and character rules",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="shorten or rename it (limits per service in eksplatform.core.naming), or let Pulumi "
    "auto-name the resource",
    types=frozenset(NAME_RULES),
    check=_check_name_limits,
)


def expected_prefix(template: str, tags: Mapping[str, str]) -> str | None:
    """A naming-convention prefix filled from the resource's tags (None when a tag is missing)."""
    try:
        return template.format(team=tags["team"], environment=tags["environment"])
    except KeyError:
        return None


def convention_problem(
    type_token: str, name: str, tags: Mapping[str, str], s: GuardrailSettings, project: str = ""
) -> str | None:
    """Why ``name`` breaks the team naming convention of ``type_token``, or None."""
    template = s.name_prefixes.get(type_token)
    team = tags.get("team")
    if template is None or not team or s.is_platform(team, project):
        return None
    prefix = expected_prefix(template, tags)
    if prefix is None or name.startswith(prefix):
        return None
    return f"{name!r} does not start with {prefix!r} (convention {template!r})"


def _check_convention(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    name_key, prefix_key, _ = NAME_RULES[r.type]
    tags = tags_of(r.props)
    for key in (name_key, prefix_key):
        value = r.props.get(key) if key else None
        if isinstance(value, str):
            reason = convention_problem(r.type, value, tags, s, r.project)
            if reason:
                yield f"{key} {reason}"


NAMING_CONVENTION = Rule(
    id="aws-naming-convention",
    title="Team resources are named by the team convention (so the boundary recognises them)",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    fix="start the name with the team prefix (ECR and secrets '<team>/', SSM '/<team>/', "
    "buckets '<environment>-<team>-')",
    types=frozenset(t for t in NAME_RULES if t in GuardrailSettings().name_prefixes)
    | frozenset({"aws:s3/bucketV2:BucketV2"}),
    check=_check_convention,
    config=("namePrefixes", "platformTeams", "platformProjects"),
)

TAG_AND_NAME_RULES = (REQUIRED_TAGS, NAME_LIMITS, NAMING_CONVENTION)

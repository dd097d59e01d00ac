"""Name rules of the services that receive our names, checked on every name we derive.

A cluster, service or team name flows into names that AWS and Kubernetes check with rules of
their own: an ALB name longer than 32 characters, an S3 bucket name with an upper-case letter or
an IAM role name of 65 characters is refused at apply time, long after the preview said
``ok``. Every component derives its physical names with the rules below and checks them while
validating its inputs, so the error names the field the user wrote, the derived name and the
rule, before anything is registered.

A rule is data (:class:`NameRule`): length bounds, the characters allowed (a pattern matched
with :func:`re.fullmatch`, so a trailing newline never passes) and the reserved prefixes and
suffixes. Two ways a name reaches a service:

* explicit: the component sets the physical name (``name=...``): :func:`name_problem`;
* auto-named: Pulumi appends ``-`` and 7 random hex digits to the logical name
  (:data:`AUTONAME_SUFFIX_LENGTH` characters in all) and fails when the result exceeds the
  service's limit: :func:`autoname_problem`. ``name_prefix`` arguments get a 26-character unique
  suffix from the AWS provider instead (:data:`NAME_PREFIX_SUFFIX_LENGTH`):
  :func:`name_prefix_problem`.

Sources (AWS documentation, read 2026-12): "Bucket naming rules" (Amazon S3 User Guide);
CreateLoadBalancer / CreateTargetGroup ``Name`` (Elastic Load Balancing API Reference); IAM
quotas, name requirements ("IAM and AWS STS quotas"); CreateLaunchTemplate
``LaunchTemplateName`` (EC2 API Reference); CreateLogGroup ``logGroupName`` (CloudWatch Logs API
Reference); CreateQueue ``QueueName`` (SQS); CreateTopic ``Name`` (SNS); CreateRepository
``repositoryName`` (ECR); CreateCluster ``name`` (EKS); CreateAutoScalingGroup; PutRule ``Name``
(EventBridge); PutMetricAlarm ``AlarmName`` (CloudWatch); CreateFunction ``FunctionName``
(Lambda); CreateSchedule ``Name`` and CreateScheduleGroup ``Name`` (EventBridge Scheduler);
CreateAlias ``AliasName`` (KMS); CreateSecurityGroup ``GroupName`` (EC2); CreateTable ``TableName`` (DynamoDB); CreateSecret ``Name`` (Secrets Manager); PutParameter ``Name`` (SSM);
"Tag naming limits and requirements" (Tagging AWS Resources) and CreateOrUpdateTags (Auto
Scaling).
Kubernetes: "Object Names and IDs" and "Labels and Selectors" (DNS-1123 label and subdomain,
label values).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from .errors import Problem

AUTONAME_SUFFIX_LENGTH = 8
"""Pulumi auto-naming appends ``-`` plus 7 random hex digits to the logical name."""
NAME_PREFIX_SUFFIX_LENGTH = 26
"""The AWS provider's ``name_prefix`` arguments append a 26-character unique id."""


@dataclass(frozen=True)
class NameRule:
    """What one service accepts as a name."""

    what: str
    """The kind of name, for messages (``"S3 bucket name"``)."""
    min_length: int
    max_length: int
    pattern: str
    """Regular expression the whole name must match (checked with :func:`re.fullmatch`)."""
    allowed: str
    """The allowed characters and shape, in words, for messages."""
    reserved_prefixes: tuple[str, ...] = ()
    """Prefixes the service refuses (compared case-insensitively)."""
    reserved_suffixes: tuple[str, ...] = ()
    """Suffixes the service refuses."""
    no_ip_address: bool = False
    """Refuse names formatted as an IPv4 address (S3)."""

    def problem(self, name: str) -> str | None:
        """Why the service refuses ``name`` (a clause such as ``"is 40 characters long; 1-32
        allowed"``), or None when it accepts it."""
        if not isinstance(name, str):
            return "is not a string"
        if not self.min_length <= len(name) <= self.max_length:
            return f"is {len(name)} characters long; {self.min_length}-{self.max_length} allowed"
        if not re.fullmatch(self.pattern, name):
            return f"does not match the rule: {self.allowed}"
        lowered = name.lower()
        for prefix in self.reserved_prefixes:
            if lowered.startswith(prefix):
                return f"starts with {prefix!r}, reserved by AWS"
        for suffix in self.reserved_suffixes:
            if lowered.endswith(suffix):
                return f"ends with {suffix!r}, reserved by AWS"
        if self.no_ip_address:
            try:
                ipaddress.IPv4Address(name)
            except ValueError:
                pass
            else:
                return "is formatted as an IP address"
        return None


_ALNUM_HYPHEN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_IAM_NAME = r"[A-Za-z0-9_+=,.@-]+"  # ASCII only: Python's \w would also take "é" and "٣"

S3_BUCKET = NameRule(
    "S3 bucket name",
    3,
    63,
    r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?",
    "lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
    reserved_prefixes=("xn--", "sthree-", "amzn-s3-demo-"),
    reserved_suffixes=("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"),
    no_ip_address=True,
)
"""Also: no two adjacent dots (checked by :func:`name_problem`)."""
LOAD_BALANCER = NameRule(
    "load balancer name",
    1,
    32,
    _ALNUM_HYPHEN,
    "letters, digits and '-', not starting or ending with '-'",
    reserved_prefixes=("internal-",),
)
TARGET_GROUP = NameRule(
    "target group name",
    1,
    32,
    _ALNUM_HYPHEN,
    "letters, digits and '-', not starting or ending with '-'",
)
IAM_ROLE = NameRule("IAM role name", 1, 64, _IAM_NAME, "letters, digits and +=,.@_-")
IAM_POLICY = NameRule("IAM policy name", 1, 128, _IAM_NAME, "letters, digits and +=,.@_-")
IAM_INSTANCE_PROFILE = NameRule(
    "IAM instance profile name", 1, 128, _IAM_NAME, "letters, digits and +=,.@_-"
)
IAM_PATH = NameRule(
    "IAM path",
    1,
    512,
    r"/(?:[\x21-\x7e]+/)?",
    "'/' alone or '/'-delimited printable ASCII segments, starting and ending with '/'",
)
LAUNCH_TEMPLATE = NameRule(
    "launch template name", 3, 128, r"[A-Za-z0-9().\-/_]+", "letters, digits and ().-/_"
)
LOG_GROUP = NameRule(
    "CloudWatch Logs log group name",
    1,
    512,
    r"[.\-_/#A-Za-z0-9]+",
    "letters, digits and ._-/#",
    reserved_prefixes=("aws/",),
)
SQS_QUEUE = NameRule(
    "SQS queue name",
    1,
    80,
    r"[A-Za-z0-9_-]+(?:\.fifo)?",
    "letters, digits, '-' and '_' (a FIFO queue ends in '.fifo')",
)
SNS_TOPIC = NameRule(
    "SNS topic name",
    1,
    256,
    r"[A-Za-z0-9_-]+(?:\.fifo)?",
    "letters, digits, '-' and '_' (a FIFO topic ends in '.fifo')",
)
ECR_REPOSITORY = NameRule(
    "ECR repository name",
    2,
    256,
    r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
    "lowercase '/'-separated parts of letters and digits joined by single '.', '_' or '-'",
)
EKS_CLUSTER = NameRule(
    "EKS cluster name",
    1,
    100,
    r"[0-9A-Za-z][A-Za-z0-9_-]*",
    "letters, digits, '-' and '_', starting with a letter or digit",
)
AUTOSCALING_GROUP = NameRule(
    "Auto Scaling group name", 1, 255, r"[^:\x00-\x1f]+", "printable characters other than ':'"
)
EVENTBRIDGE_RULE = NameRule(
    "EventBridge rule name", 1, 64, r"[.\-_A-Za-z0-9]+", "letters, digits and .-_"
)
CLOUDWATCH_ALARM = NameRule(
    "CloudWatch alarm name", 1, 255, r"[^\x00-\x1f\x7f]+", "printable characters"
)
LAMBDA_FUNCTION = NameRule(
    "Lambda function name", 1, 64, r"[A-Za-z0-9_-]+", "letters, digits, '-' and '_'"
)
SCHEDULER_NAME = NameRule(
    "EventBridge Scheduler schedule or group name",
    1,
    64,
    r"[0-9a-zA-Z_.-]+",
    "letters, digits and _.-",
)
KMS_ALIAS = NameRule(
    "KMS alias name",
    7,
    256,
    r"alias/[A-Za-z0-9/_-]+",
    "'alias/' followed by letters, digits, '/', '_' and '-'",
    reserved_prefixes=("alias/aws/",),
)
SECURITY_GROUP = NameRule(
    "security group name",
    1,
    255,
    r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+",
    "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
    reserved_prefixes=("sg-",),
)
DYNAMODB_TABLE = NameRule(
    "DynamoDB table name", 3, 255, r"[A-Za-z0-9_.-]+", "letters, digits and _.-"
)
SECRETS_MANAGER_SECRET = NameRule(
    "Secrets Manager secret name", 1, 512, r"[A-Za-z0-9/_+=.@-]+", "letters, digits and /_+=.@-"
)
SSM_PARAMETER = NameRule(
    "SSM parameter name",
    1,
    1011,
    r"/?[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*",
    "letters, digits and _.- in '/'-separated levels",
    reserved_prefixes=("aws", "ssm", "/aws", "/ssm"),
)
TAG_KEY = NameRule(
    "AWS tag key",
    1,
    128,
    r"[\w .:/=+@-]+",
    "letters, digits, spaces and _.:/=+-@ (the rule every tagging service shares)",
    reserved_prefixes=("aws:",),
)
"""Tag keys as the Resource Groups Tagging API and Auto Scaling accept them (case-sensitive)."""
TAG_VALUE = NameRule(
    "AWS tag value",
    0,
    256,
    r"[\w .:/=+@-]*",
    "letters, digits, spaces and _.:/=+-@ (the rule every tagging service shares)",
)
KUBERNETES_LABEL = NameRule(
    "Kubernetes name (DNS-1123 label)",
    1,
    63,
    r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    "lowercase letters, digits and '-', starting and ending with a letter or digit",
)
KUBERNETES_SUBDOMAIN = NameRule(
    "Kubernetes name (DNS-1123 subdomain)",
    1,
    253,
    r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*",
    "lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit",
)
KUBERNETES_LABEL_VALUE = NameRule(
    "Kubernetes label value",
    0,
    63,
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)?",
    "letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
)


def name_problem(rule: NameRule, name: str) -> str | None:
    """Why the service refuses ``name`` as an explicit name, or None."""
    reason = rule.problem(name)
    if reason is None and rule is S3_BUCKET and ".." in name:
        reason = "contains two adjacent dots"
    return reason


def autoname_problem(rule: NameRule, logical_name: str) -> str | None:
    """Why Pulumi's auto-name for ``logical_name`` (plus ``-`` and 7 hex digits) is refused."""
    sample = f"{logical_name}-{'0' * (AUTONAME_SUFFIX_LENGTH - 1)}"
    reason = name_problem(rule, sample)
    if reason is None:
        return None
    if len(sample) > rule.max_length:
        room = rule.max_length - AUTONAME_SUFFIX_LENGTH
        return (
            f"is {len(sample)} characters long with Pulumi's {AUTONAME_SUFFIX_LENGTH}-character "
            f"random suffix; {rule.max_length} allowed, so the name itself may have at most {room}"
        )
    return reason


def name_prefix_problem(rule: NameRule, prefix: str) -> str | None:
    """Why a ``name_prefix`` (the provider appends a 26-character unique id) is refused."""
    room = rule.max_length - NAME_PREFIX_SUFFIX_LENGTH
    if isinstance(prefix, str) and len(prefix) > room:
        return (
            f"is {len(prefix)} characters long as a prefix; the provider appends "
            f"{NAME_PREFIX_SUFFIX_LENGTH} and {rule.max_length} are allowed, so a prefix may "
            f"have at most {room}"
        )
    sample = f"{prefix}{'0' * NAME_PREFIX_SUFFIX_LENGTH}"
    return name_problem(rule, sample) if isinstance(prefix, str) else name_problem(rule, prefix)


def derived_name_problem(
    field: str,
    value: Any,
    derived: str,
    rule: NameRule,
    *,
    how: str = "explicit",
    fix: str = "",
) -> Problem | None:
    """A :class:`Problem` on ``field`` (whose ``value`` the user wrote) when the name derived
    from it, ``derived``, breaks ``rule``; None when the service accepts it.

    ``how`` is ``"explicit"`` (``derived`` is the physical name), ``"autoname"`` (``derived`` is a
    logical name Pulumi auto-names) or ``"prefix"`` (``derived`` is a ``name_prefix``). ``fix``
    replaces the default advice (shorten or rename the field)."""
    check = {"explicit": name_problem, "autoname": autoname_problem, "prefix": name_prefix_problem}
    reason = check[how](rule, derived)
    if reason is None:
        return None
    advice = fix or f"shorten or rename {field}"
    return Problem(field, value, f"derives the {rule.what} {derived!r}, which {reason}; {advice}")


def explicit_name_problem(field: str, value: Any, rule: NameRule, fix: str = "") -> Problem | None:
    """A :class:`Problem` when ``value``, given directly as ``field``, breaks ``rule``."""
    reason = name_problem(rule, value)
    if reason is None:
        return None
    return Problem(field, value, f"not a valid {rule.what}: {reason}" + (f"; {fix}" if fix else ""))

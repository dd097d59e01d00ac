"""The permissions boundary of every service role: a per-team ceiling, written once per
environment.

Design decision: **one boundary per environment** whose statements name the team through the
policy variable ``${aws:PrincipalTag/team}``, not one policy per team. Every service role carries
the company ``team`` tag (ServiceStack sets it from ``team``; the tag merge rule never lets
caller tags override it, and the boundary denies every IAM write, so a role cannot retag
itself). One policy serves any number of teams, the contract keeps its single
``permissionsBoundaryArn``, and adding a team changes nothing here. The cost: the ceiling trusts
the role's ``team`` tag, so whoever may create roles for a team must be held to that team's tag
(the deploy roles' own policy: ``iam:CreateRole`` only with ``aws:RequestTag/team`` = the team
and ``iam:PermissionsBoundary`` = this policy). A role without the tag gets nothing: a variable
that cannot be resolved makes its statement grant nothing.

What a role under this boundary can do at most:

- **Its team's resources, recognised by tag**: any action of an allowed service on a resource
  tagged ``team=<its team>`` (``TeamResourcesByTag``).
- **Its team's resources, recognised by name**, for what IAM cannot judge by tag (S3 objects,
  SSM parameters, log streams) and for resources created untagged: the naming convention below
  (``TeamResourcesByName``); a resource that carries a ``team`` tag must carry the role's own.
- **A short list of actions that take no resource** (telemetry, listing, random bytes:
  :data:`UNSCOPED_ACTIONS`).

and never, whatever its own policy says (explicit denies, which win over any allow):

- write IAM, touch Organizations or account settings (``NoIamWrites``, ``NoOrganizationOrAccount
  Changes``), destroy or re-point KMS keys (``NoKeyDestruction``);
- manage permissions: every action AWS classifies as "Permissions management" in the allowed
  services (bucket policies and ACLs, queue and topic policies, resource policies, KMS grants:
  ``NoPermissionManagement``);
- reach the nodes: SSM Run Command, Session Manager, automation and associations
  (``NoNodeAccess``);
- touch platform resources: anything tagged ``eksplatform-owner=platform`` (every resource of the
  cluster stack, the team alert topics included) and the platform's own name spaces (AWS service
  log groups such as the control plane's audit log, the platform's log groups and alert topics:
  ``NoPlatformResources``);
- change the ``team``, ``environment`` or owner tag of anything, or create something tagged
  for another team (``NoCompanyTagChanges``, ``OwnTeamTagOnly``);
- act on a resource tagged for another environment (``NoOtherEnvironments``).

Naming convention (:data:`NAME_PATTERNS`; ``<team>`` is the role's ``team`` tag, ``<env>`` the
environment): S3 buckets ``<env>-<team>-*`` (bucket names are global), Secrets Manager
``<team>/*``, SSM parameters ``/<team>/*``, log groups ``/<team>/*``, SQS queues, SNS topics,
DynamoDB tables, Kinesis streams, Firehose streams, EventBridge buses and CloudWatch alarms
``<team>-*``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from ..core.iam.actions import LIST, PERMISSIONS, READ, catalog
from ..core.iam.node_access import NODE_ACCESS_ACTIONS
from ..core.tags import OWNER_TAG, PLATFORM_OWNER

TEAM = "${aws:PrincipalTag/team}"
"""The policy variable naming the role's team."""

IAM_WRITE_VERBS = (
    "Add Attach Change Create Deactivate Delete Detach Enable Put Remove Reset Resync Set Tag "
    "Untag Update Upload"
)
IAM_WRITE_ACTIONS: tuple[str, ...] = (
    *(f"iam:{verb}*" for verb in IAM_WRITE_VERBS.split()),
    "iam:PassRole",
)
"""Every IAM write (by verb prefix) plus PassRole: denied by the boundary."""

KEY_DESTRUCTION_ACTIONS: tuple[str, ...] = (
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DeleteImportedKeyMaterial",
    "kms:ImportKeyMaterial",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
    "kms:CreateKey",
    "kms:*CustomKeyStore",
)
"""KMS actions that destroy a key, make data unreadable, re-point an alias that someone else's
encryption relies on, or hand a key to someone else (grants, policy, replicas, custom key
stores). Cryptographic use of a team's own keys (Encrypt, Decrypt, GenerateDataKey...) stays."""

TAGGING_PATTERNS: tuple[str, ...] = (
    "*:Tag*",
    "*:Untag*",
    "*:AddTags*",
    "*:RemoveTags*",
    "s3:*Tagging",
    "s3:ReplicateTags",
)
"""Every tagging action of the allowed services (a test checks the action list against it)."""

PROTECTED_TAG_KEYS: tuple[str, ...] = ("team", "environment", OWNER_TAG)
"""Tags a service role may never set or remove on an existing resource."""

UNSCOPED_ACTIONS: dict[str, tuple[str, ...]] = {
    "cloudwatch": ("PutMetricData", "GetMetricData", "GetMetricStatistics", "ListMetrics"),
    "dynamodb": ("ListTables", "DescribeEndpoints", "DescribeLimits"),
    "events": ("ListEventBuses", "ListRules"),
    "firehose": ("ListDeliveryStreams",),
    "kinesis": ("ListStreams",),
    "kms": ("GenerateRandom", "ListKeys", "ListAliases"),
    "logs": ("DescribeLogGroups",),
    "s3": ("ListAllMyBuckets",),
    "secretsmanager": ("GetRandomPassword", "ListSecrets", "BatchGetSecretValue"),
    "sns": ("ListTopics",),
    "sqs": ("ListQueues",),
    "ssm": ("DescribeParameters",),
    "xray": (
        "PutTraceSegments",
        "PutTelemetryRecords",
        "GetSamplingRules",
        "GetSamplingTargets",
        "GetSamplingStatisticSummaries",
    ),
}
"""Actions that take no resource and that a service may use on ``*``: metrics and traces it
emits, listings (names only; reading a secret in a batch still needs GetSecretValue on each),
random bytes. Every other action needs a team resource."""


def name_patterns(
    service: str, *, environment: str, region: str, account: str, partition: str = "aws"
) -> list[str]:
    """The ARN patterns of the team's resources of one service (``[]``: judged by tag only)."""
    at = f"arn:{partition}:{service}:{region}:{account}"
    return {
        "s3": [
            f"arn:{partition}:s3:::{environment}-{TEAM}-*",
            f"arn:{partition}:s3:::{environment}-{TEAM}-*/*",
        ],
        "secretsmanager": [f"{at}:secret:{TEAM}/*"],
        "ssm": [f"{at}:parameter/{TEAM}/*"],
        "logs": [f"{at}:log-group:/{TEAM}/*"],
        "sqs": [f"{at}:{TEAM}-*"],
        "sns": [f"{at}:{TEAM}-*"],
        "dynamodb": [f"{at}:table/{TEAM}-*"],
        "kinesis": [f"{at}:stream/{TEAM}-*"],
        "firehose": [f"{at}:deliverystream/{TEAM}-*"],
        "events": [f"{at}:event-bus/{TEAM}-*"],
        "cloudwatch": [f"{at}:alarm:{TEAM}-*"],
    }.get(service, [])


NAME_PATTERNS = (
    "s3 <env>-<team>-*, secretsmanager <team>/*, ssm /<team>/*, logs /<team>/*, "
    "sqs/sns/dynamodb/kinesis/firehose/events/cloudwatch alarms <team>-*"
)
"""The naming convention in one line (messages and docs)."""


def platform_name_patterns(
    *, cluster_name: str, region: str, account: str, partition: str = "aws"
) -> list[str]:
    """ARNs of platform resources by name: AWS service log groups (the control plane's audit
    log ``/aws/eks/<cluster>/cluster``), the platform's log groups (``/eks/...``) and the team
    alert topics (``<cluster>-<team>-alerts``)."""
    return [
        f"arn:{partition}:logs:{region}:{account}:log-group:/aws/*",
        f"arn:{partition}:logs:{region}:{account}:log-group:/eks/*",
        f"arn:{partition}:sns:{region}:{account}:{cluster_name}-*",
    ]


def permission_management_actions(services: Sequence[str]) -> list[str]:
    """Every action of ``services`` that AWS classifies as "Permissions management"."""
    data = catalog()
    return sorted(
        action.full_name
        for s in services
        if s in data.services
        for action in data.services[s].actions.values()
        if action.access_level == PERMISSIONS
    )


def permission_management_patterns(services: Sequence[str]) -> list[str]:
    """:func:`permission_management_actions` written shorter, to fit IAM's size limit: action
    patterns (``s3:*Acl``) that together match every permission-management action and nothing
    but permission-management, read and list actions (denying a service the reading of a
    policy costs it nothing; no write or tagging action is ever caught). Derived from the
    action list, so a data update re-derives them; a test checks both properties."""
    return sorted(p for s in services for p in _service_patterns(s))


@functools.cache
def _service_patterns(s: str) -> tuple[str, ...]:
    """One service's share of :func:`permission_management_patterns`. Remembered per process:
    it depends only on the action catalog (itself loaded once, :func:`catalog`), and a cluster
    preview derives the boundary three times (the validation pass and ServicePlatform's
    argument check measure its size, then ServicePlatform writes it), each derivation matching
    a few hundred patterns against every action of the service."""
    data = catalog()
    svc = data.services.get(s)
    if svc is None:
        return ()
    targets = {a.name for a in svc.actions.values() if a.access_level == PERMISSIONS}
    harmless = {PERMISSIONS, READ, LIST}
    candidates: set[str] = set()
    for name in targets:
        words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)
        candidates.add(name)
        for k in range(1, len(words)):
            candidates.add("*" + "".join(words[k:]))
            candidates.add("".join(words[:k]) + "*")
    usable: dict[str, set[str]] = {}
    for c in candidates:
        hits = data.expand(f"{s}:{c}")
        if hits and all(a.access_level in harmless for a in hits):
            usable[c] = {a.name for a in hits} & targets
    out: list[str] = []
    left = set(targets)
    while left:
        best = max(sorted(usable), key=lambda c: (len(usable[c] & left), -len(c)))
        out.append(f"{s}:{best}")
        left -= usable[best]
    return tuple(out)


def boundary_policy_document(
    *,
    environment: str,
    allowed_services: Sequence[str],
    region: str = "*",
    account: str = "*",
    cluster_name: str = "*",
    partition: str = "aws",
) -> dict[str, Any]:
    """The permissions boundary as an IAM policy document (pure, so tests read it directly)."""
    services = sorted(allowed_services)
    every = [f"{s}:*" for s in services]
    by_name = [
        p
        for s in services
        for p in name_patterns(
            s, environment=environment, region=region, account=account, partition=partition
        )
    ]
    unscoped = [f"{s}:{a}" for s in services for a in UNSCOPED_ACTIONS.get(s, ())]
    own_team = {"aws:ResourceTag/team": TEAM}
    # A tag says whose a resource is, not where: this account and region only (a resource of
    # another account tagged with the team's name is not the team's).
    here: dict[str, str] = {}
    if account != "*":
        here["aws:ResourceAccount"] = account
    if region != "*":
        here["aws:RequestedRegion"] = region
    statements: list[dict[str, Any]] = [
        {
            "Sid": "TeamResourcesByTag",
            "Effect": "Allow",
            "Action": every,
            "Resource": "*",
            "Condition": {"StringEquals": {**own_team, **here}},
        },
        {
            "Sid": "TeamResourcesByName",
            "Effect": "Allow",
            "Action": every,
            "Resource": by_name,
            "Condition": {"StringEqualsIfExists": own_team},
        },
    ]
    if unscoped:
        statements.append(
            {
                "Sid": "ActionsWithoutResources",
                "Effect": "Allow",
                "Action": unscoped,
                "Resource": "*",
            }
        )
    statements += [
        {
            "Sid": "NoIamWrites",
            "Effect": "Deny",
            "Action": list(IAM_WRITE_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "NoOrganizationOrAccountChanges",
            "Effect": "Deny",
            "Action": ["organizations:*", "account:*"],
            "Resource": "*",
        },
        {
            "Sid": "NoKeyDestruction",
            "Effect": "Deny",
            "Action": list(KEY_DESTRUCTION_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "NoPermissionManagement",
            "Effect": "Deny",
            "Action": permission_management_patterns(services),
            "Resource": "*",
        },
        {
            "Sid": "NoNodeAccess",
            "Effect": "Deny",
            "Action": list(NODE_ACCESS_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "NoPlatformResources",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": PLATFORM_OWNER}},
        },
        {
            "Sid": "NoPlatformNames",
            "Effect": "Deny",
            "Action": "*",
            "Resource": platform_name_patterns(
                cluster_name=cluster_name, region=region, account=account, partition=partition
            ),
        },
        {
            "Sid": "NoCompanyTagChanges",
            "Effect": "Deny",
            "Action": list(TAGGING_PATTERNS),
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": list(PROTECTED_TAG_KEYS)}},
        },
        {
            # A create (or tag) request naming a team must name the role's own. The Null check
            # keeps requests without a team tag out of this deny (they are judged by name).
            "Sid": "OwnTeamTagOnly",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:RequestTag/team": TEAM},
                "Null": {"aws:RequestTag/team": "false"},
            },
        },
        {
            # A resource tagged for another environment is off limits. Resources without the
            # tag (and actions that carry no resource tags) are judged by the allows above;
            # the Null check keeps this deny from matching them.
            "Sid": "NoOtherEnvironments",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:ResourceTag/environment": environment},
                "Null": {"aws:ResourceTag/environment": "false"},
            },
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


MANAGED_POLICY_MAX_CHARS = 6144
"""IAM's size limit of a managed policy document, counted without whitespace."""


def policy_size(document: dict[str, Any]) -> int:
    """The size IAM counts against :data:`MANAGED_POLICY_MAX_CHARS` (whitespace excluded)."""
    import json

    return len(json.dumps(document, separators=(",", ":")))

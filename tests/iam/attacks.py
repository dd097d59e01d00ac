"""The attack suite: what a hostile service program tries through ``iam_statements`` alone.

Each attack is one statement a team (``news``) writes, the request it hopes to make with it, and
what must stop it: the exact problems validation reports, and the evaluator's decision when the
statement (as if it had been created anyway, e.g. by a raw ``aws.iam.RolePolicy``) is evaluated
together with the permissions boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eksplatform.core.iam.evaluator import Request, request
from eksplatform.service import IamStatement

ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
REGION = "eu-west-1"
ENV = "staging"
CLUSTER = "eks-staging"
AT = f"{REGION}:{ACCOUNT}"

NEWS = {"team": "news"}
"""The attacker's role tags (ServiceStack sets the company tags on the role)."""
MEDIA = {"team": "media", "environment": ENV}
"""Tags of the other team's resources."""
PLATFORM = {"team": "platform", "environment": ENV, "eksplatform-owner": "platform"}
"""Tags of every resource of the cluster stack."""
OWN = {"team": "news", "environment": ENV}


@dataclass(frozen=True)
class Attack:
    statement: IamStatement
    target: Request
    decision: str = "explicit-deny"
    """What the evaluator decides for ``target`` under the statement plus the boundary."""
    resolved: bool = False
    """True when the problems come from the resolved check (account, region)."""


def _st(actions: list[str], resources: list[str], **kw: Any) -> IamStatement:
    return IamStatement(actions=actions, resources=resources, **kw)


def _req(action: str, resource: str, tags: dict[str, str] | None = None, **kw: Any) -> Request:
    return request(action, resource, principal_tags=NEWS, resource_tags=tags, **kw)


P = "iam_statements[0]"

ATTACKS: dict[str, Attack] = {}
_INSTANCE = f"arn:aws:ec2:{AT}:instance/i-0abc1234def567890"
_RUN_SHELL = f"arn:aws:ssm:{REGION}::document/AWS-RunShellScript"
_MEDIA_SECRET = f"arn:aws:secretsmanager:{AT}:secret:media/db-password-AbCdEf"
_OWN_SECRET = f"arn:aws:secretsmanager:{AT}:secret:news/db-password-AbCdEf"
_OWN_BUCKET = f"arn:aws:s3:::{ENV}-news-exports"
_OWN_QUEUE = f"arn:aws:sqs:{AT}:news-jobs"
_OWN_KEY = f"arn:aws:kms:{AT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
_OWN_LOGS = f"arn:aws:logs:{AT}:log-group:/news/feed"
_AUDIT_LOG = f"arn:aws:logs:{AT}:log-group:/aws/eks/{CLUSTER}/cluster"
_NTH_QUEUE = f"arn:aws:sqs:{AT}:nth-queue-3f2a1b0"
_NEWS_ALERTS = f"arn:aws:sns:{AT}:{CLUSTER}-news-alerts"
_MEDIA_TABLE = f"arn:aws:dynamodb:{AT}:table/media-assets"

ATTACKS.update(
    {
        # --- root on the nodes ----------------------------------------------------------------
        "ssm-send-command-to-nodes": Attack(
            _st(["ssm:SendCommand"], [f"arn:aws:ec2:{AT}:instance/*", _RUN_SHELL]),
            _req("ssm:SendCommand", _INSTANCE, PLATFORM),
        ),
        "ssm-start-session-on-a-node": Attack(
            _st(["ssm:StartSession"], [_INSTANCE]),
            _req("ssm:StartSession", _INSTANCE, PLATFORM),
        ),
        "ssm-send-wildcard": Attack(
            _st(["ssm:Send*"], [_RUN_SHELL]),
            _req("ssm:SendCommand", _RUN_SHELL),
        ),
        "instance-connect-key": Attack(
            _st(["ec2-instance-connect:SendSSHPublicKey"], [_INSTANCE]),
            _req("ec2-instance-connect:SendSSHPublicKey", _INSTANCE, PLATFORM),
        ),
        # --- other teams' data ----------------------------------------------------------------
        "secrets-of-everyone": Attack(
            _st(["secretsmanager:GetSecretValue"], ["*"]),
            _req("secretsmanager:GetSecretValue", _MEDIA_SECRET, MEDIA),
            decision="implicit-deny",
        ),
        "secret-of-media-by-arn": Attack(
            _st(["secretsmanager:GetSecretValue"], [_MEDIA_SECRET]),
            _req("secretsmanager:GetSecretValue", _MEDIA_SECRET, MEDIA),
            decision="implicit-deny",
        ),
        "parameters-by-path-of-everyone": Attack(
            _st(["ssm:GetParametersByPath"], [f"arn:aws:ssm:{AT}:parameter/*"]),
            _req("ssm:GetParametersByPath", f"arn:aws:ssm:{AT}:parameter/media/db"),
            decision="implicit-deny",
        ),
        "parameter-of-media": Attack(
            _st(["ssm:GetParameter"], [f"arn:aws:ssm:{AT}:parameter/media/db-url"]),
            _req("ssm:GetParameter", f"arn:aws:ssm:{AT}:parameter/media/db-url"),
            decision="implicit-deny",
        ),
        "every-bucket": Attack(
            _st(["s3:GetObject"], ["arn:aws:s3:::*"]),
            _req("s3:GetObject", f"arn:aws:s3:::{ENV}-media-uploads/video.mp4"),
            decision="implicit-deny",
        ),
        "every-object": Attack(
            _st(["s3:GetObject"], ["arn:aws:s3:::*/*"]),
            _req("s3:GetObject", f"arn:aws:s3:::{ENV}-media-uploads/video.mp4"),
            decision="implicit-deny",
        ),
        "media-bucket-objects": Attack(
            _st(["s3:GetObject"], [f"arn:aws:s3:::{ENV}-media-uploads/*"]),
            _req("s3:GetObject", f"arn:aws:s3:::{ENV}-media-uploads/video.mp4"),
            decision="implicit-deny",
        ),
        "media-table": Attack(
            _st(["dynamodb:Scan"], [_MEDIA_TABLE]),
            _req("dynamodb:Scan", _MEDIA_TABLE, MEDIA),
            decision="implicit-deny",
        ),
        "read-wildcard-on-star": Attack(
            _st(["ssm:GetParameter*"], ["*"]),
            _req("ssm:GetParameter", f"arn:aws:ssm:{AT}:parameter/media/db-url"),
            decision="implicit-deny",
        ),
        # --- writing around the checks ----------------------------------------------------------
        "s3-put-wildcard": Attack(
            _st(["s3:Put*"], [f"{_OWN_BUCKET}/*"]),
            _req("s3:PutObjectAcl", f"{_OWN_BUCKET}/report.csv"),
        ),
        "logs-delete-wildcard": Attack(
            _st(["logs:Delete*"], [_OWN_LOGS]),
            _req("logs:DeleteResourcePolicy", "*"),
        ),
        "every-s3-action": Attack(
            _st(["s3:*"], [_OWN_BUCKET]),
            _req("s3:PutBucketPolicy", _OWN_BUCKET),
        ),
        "every-action": Attack(
            _st(["*"], ["*"]),
            _req("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/escape"),
        ),
        "pass-role": Attack(
            _st(["iam:PassRole"], [f"arn:aws:iam::{ACCOUNT}:role/platform-admin"]),
            _req("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/platform-admin"),
        ),
        "assume-another-role": Attack(
            _st(["sts:AssumeRole"], [f"arn:aws:iam::{ACCOUNT}:role/platform-admin"]),
            _req("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/platform-admin"),
            decision="implicit-deny",
        ),
        "policy-variable-resource": Attack(
            _st(["s3:GetObject"], ["arn:aws:s3:::${aws:PrincipalTag/victim}/*"]),
            _req("s3:GetObject", f"arn:aws:s3:::{ENV}-media-uploads/video.mp4"),
            decision="implicit-deny",
        ),
        # --- permission management --------------------------------------------------------------
        "bucket-policy": Attack(
            _st(["s3:PutBucketPolicy"], [_OWN_BUCKET]),
            _req("s3:PutBucketPolicy", _OWN_BUCKET, OWN),
        ),
        "secret-resource-policy": Attack(
            _st(["secretsmanager:PutResourcePolicy"], [_OWN_SECRET]),
            _req("secretsmanager:PutResourcePolicy", _OWN_SECRET, OWN),
        ),
        "queue-add-permission": Attack(
            _st(["sqs:AddPermission"], [_OWN_QUEUE]),
            _req("sqs:AddPermission", _OWN_QUEUE, OWN),
        ),
        "queue-policy-through-attributes": Attack(
            _st(["sqs:SetQueueAttributes"], [_OWN_QUEUE]),
            _req("sqs:SetQueueAttributes", _OWN_QUEUE, OWN),
        ),
        "kms-grant-to-another-account": Attack(
            _st(["kms:CreateGrant"], [_OWN_KEY]),
            _req("kms:CreateGrant", _OWN_KEY, OWN),
        ),
        # --- key destruction --------------------------------------------------------------------
        "schedule-key-deletion": Attack(
            _st(["kms:ScheduleKeyDeletion"], [_OWN_KEY]),
            _req("kms:ScheduleKeyDeletion", _OWN_KEY, OWN),
        ),
        "disable-key-rotation": Attack(
            _st(["kms:DisableKeyRotation"], [_OWN_KEY]),
            _req("kms:DisableKeyRotation", _OWN_KEY, OWN),
        ),
        "delete-imported-key-material": Attack(
            _st(["kms:DeleteImportedKeyMaterial"], [_OWN_KEY]),
            _req("kms:DeleteImportedKeyMaterial", _OWN_KEY, OWN),
        ),
        "repoint-an-alias": Attack(
            _st(["kms:UpdateAlias"], [f"arn:aws:kms:{AT}:alias/news-data", _OWN_KEY]),
            _req("kms:UpdateAlias", f"arn:aws:kms:{AT}:alias/news-data"),
        ),
        # --- platform resources -----------------------------------------------------------------
        "delete-the-audit-log-group": Attack(
            _st(["logs:DeleteLogGroup"], [_AUDIT_LOG]),
            _req("logs:DeleteLogGroup", _AUDIT_LOG, PLATFORM),
        ),
        "purge-the-interruption-queue": Attack(
            _st(["sqs:PurgeQueue"], [_NTH_QUEUE]),
            _req("sqs:PurgeQueue", _NTH_QUEUE, PLATFORM),
        ),
        "fake-spot-interruptions": Attack(
            _st(["sqs:SendMessage"], [_NTH_QUEUE]),
            _req("sqs:SendMessage", _NTH_QUEUE, PLATFORM),
        ),
        "subscribe-to-own-alert-topic": Attack(
            _st(["sns:Subscribe"], [_NEWS_ALERTS]),
            _req("sns:Subscribe", _NEWS_ALERTS, {**PLATFORM, "team": "news"}),
        ),
        "silence-media-alarms": Attack(
            _st(
                ["cloudwatch:DisableAlarmActions"], [f"arn:aws:cloudwatch:{AT}:alarm:media-api-5xx"]
            ),
            _req(
                "cloudwatch:DisableAlarmActions",
                f"arn:aws:cloudwatch:{AT}:alarm:media-api-5xx",
                MEDIA,
            ),
            decision="implicit-deny",
        ),
        "publish-to-media-topic": Attack(
            _st(["sns:Publish"], [f"arn:aws:sns:{AT}:media-events"]),
            _req("sns:Publish", f"arn:aws:sns:{AT}:media-events", MEDIA),
            decision="implicit-deny",
        ),
        "retag-media-queue-as-ours": Attack(
            _st(["sqs:TagQueue"], [f"arn:aws:sqs:{AT}:media-jobs"]),
            _req(
                "sqs:TagQueue", f"arn:aws:sqs:{AT}:media-jobs", MEDIA, request_tags={"team": "news"}
            ),
        ),
        # --- conditions ---------------------------------------------------------------------------
        "forallvalues-on-a-single-valued-key": Attack(
            _st(
                ["dynamodb:GetItem"],
                [f"arn:aws:dynamodb:{AT}:table/news-profiles"],
                conditions={"ForAllValues:StringEquals": {"aws:ResourceTag/team": "news"}},
            ),
            _req("dynamodb:GetItem", _MEDIA_TABLE, MEDIA),
            decision="implicit-deny",
        ),
        "made-up-condition-operator": Attack(
            _st(
                ["sqs:ReceiveMessage"],
                [_OWN_QUEUE],
                conditions={"StringEqualsAnything": {"aws:ResourceTag/team": "*"}},
            ),
            _req("sqs:ReceiveMessage", f"arn:aws:sqs:{AT}:media-jobs", MEDIA),
            decision="implicit-deny",
        ),
        # --- another account or region (checked when resources resolve) -------------------------
        "table-in-another-account": Attack(
            _st(["dynamodb:Query"], [f"arn:aws:dynamodb:{REGION}:{OTHER_ACCOUNT}:table/news-x"]),
            _req("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{OTHER_ACCOUNT}:table/news-x", OWN),
            decision="implicit-deny",
            resolved=True,
        ),
        "table-in-another-region": Attack(
            _st(["dynamodb:Query"], [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/news-x"]),
            _req("dynamodb:Query", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/news-x", OWN),
            decision="implicit-deny",
            resolved=True,
        ),
        "queue-in-any-account": Attack(
            _st(["sqs:SendMessage"], [f"arn:aws:sqs:{REGION}:*:news-jobs"]),
            _req("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{OTHER_ACCOUNT}:news-jobs"),
            decision="implicit-deny",
        ),
    }
)


EXPECTED: dict[str, list[str]] = {
    "ssm-send-command-to-nodes": [
        "iam_statements[0].actions[0]: got 'ssm:SendCommand': runs commands on, or opens a session to, instances: services never get node access (the permissions boundary denies it)",
        "iam_statements[0].resources[0]: got 'arn:aws:ec2:eu-west-1:111111111111:instance/*': is not specific: the instance name '*' has a wildcard, so it covers resources of other services and teams: name the instance (wildcards only below it, like objects in a bucket)",
    ],
    "ssm-start-session-on-a-node": [
        "iam_statements[0].actions[0]: got 'ssm:StartSession': runs commands on, or opens a session to, instances: services never get node access (the permissions boundary denies it)",
    ],
    "ssm-send-wildcard": [
        "iam_statements[0].actions[0]: got 'ssm:Send*': expands to 2 actions, 2 of them Write (ssm:SendAutomationSignal, ssm:SendCommand): list the actions the service calls (wildcards only for reads)",
    ],
    "instance-connect-key": [
        "iam_statements[0].actions[0]: got 'ec2-instance-connect:SendSSHPublicKey': runs commands on, or opens a session to, instances: services never get node access (the permissions boundary denies it)",
    ],
    "secrets-of-everyone": [
        "iam_statements[0].resources[0]: got '*': '*' is every resource, and secretsmanager:GetSecretValue reads data from Secret resources: name their ARNs ('*' is only for actions that take no resource or only list names)",
    ],
    "secret-of-media-by-arn": [
        "iam_statements[0].resources[0]: got 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:media/db-password-AbCdEf': follows the naming convention of team 'media' (buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms <team>-*): a service of team 'news' reaches only its own team's resources (the permissions boundary denies the rest)",
    ],
    "parameters-by-path-of-everyone": [
        "iam_statements[0].resources[0]: got 'arn:aws:ssm:eu-west-1:111111111111:parameter/*': is not specific: the parameter name '*' has a wildcard, so it covers resources of other services and teams: name the parameter (wildcards only below it, like objects in a bucket)",
    ],
    "parameter-of-media": [
        "iam_statements[0].resources[0]: got 'arn:aws:ssm:eu-west-1:111111111111:parameter/media/db-url': follows the naming convention of team 'media' (buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms <team>-*): a service of team 'news' reaches only its own team's resources (the permissions boundary denies the rest)",
    ],
    "every-bucket": [
        "iam_statements[0].resources[0]: got 'arn:aws:s3:::*': is not specific: the bucket name '*' has a wildcard, so it covers resources of other services and teams: name the bucket (wildcards only below it, like objects in a bucket)",
        "iam_statements[0].actions[0]: got 's3:GetObject': acts on accesspointobject / object resources and no resource of this statement is one: add its ARN, or move the action to the statement that names it",
    ],
    "every-object": [
        "iam_statements[0].resources[0]: got 'arn:aws:s3:::*/*': is not specific: the object name '*' has a wildcard, so it covers resources of other services and teams: name the object (wildcards only below it, like objects in a bucket)",
    ],
    "media-bucket-objects": [
        "iam_statements[0].resources[0]: got 'arn:aws:s3:::staging-media-uploads/*': follows the naming convention of team 'media' (buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms <team>-*): a service of team 'news' reaches only its own team's resources (the permissions boundary denies the rest)",
    ],
    "media-table": [
        "iam_statements[0].resources[0]: got 'arn:aws:dynamodb:eu-west-1:111111111111:table/media-assets': follows the naming convention of team 'media' (buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms <team>-*): a service of team 'news' reaches only its own team's resources (the permissions boundary denies the rest)",
    ],
    "read-wildcard-on-star": [
        "iam_statements[0].resources[0]: got '*': '*' is every resource, and ssm:GetParameter reads data from parameter resources: name their ARNs ('*' is only for actions that take no resource or only list names)",
    ],
    "s3-put-wildcard": [
        "iam_statements[0].actions[0]: got 's3:Put*': expands to 38 actions, 38 of them Permissions management / Tagging / Write (s3:PutAccelerateConfiguration, s3:PutAccessGrantsInstanceResourcePolicy, s3:PutAccessPointConfigurationForObjectLambda, ...): list the actions the service calls (wildcards only for reads)",
    ],
    "logs-delete-wildcard": [
        "iam_statements[0].actions[0]: got 'logs:Delete*': expands to 22 actions, 22 of them Permissions management / Write (logs:DeleteAccountPolicy, logs:DeleteDataProtectionPolicy, logs:DeleteDelivery, ...): list the actions the service calls (wildcards only for reads)",
    ],
    "every-s3-action": [
        "iam_statements[0].actions[0]: got 's3:*': grants every s3 action: list the actions the service calls",
    ],
    "every-action": [
        "iam_statements[0].actions[0]: got '*': must be one IAM action 'service:Action' (no '*' for every service)",
    ],
    "pass-role": [
        "iam_statements[0].actions[0]: got 'iam:PassRole': service roles may not change IAM, STS, accounts or organizations (the permissions boundary denies it anyway): ask the platform team",
    ],
    "assume-another-role": [
        "iam_statements[0].actions[0]: got 'sts:AssumeRole': service roles may not change IAM, STS, accounts or organizations (the permissions boundary denies it anyway): ask the platform team",
    ],
    "policy-variable-resource": [
        "iam_statements[0].resources[0]: got 'arn:aws:s3:::${aws:PrincipalTag/victim}/*': policy variables are not allowed here: name the resource's ARN",
    ],
    "bucket-policy": [
        "iam_statements[0].actions[0]: got 's3:PutBucketPolicy': manages permissions (AWS access level 'Permissions management': resource policies, ACLs, grants): the deploy sets them, never a service role (the permissions boundary denies it)",
    ],
    "secret-resource-policy": [
        "iam_statements[0].actions[0]: got 'secretsmanager:PutResourcePolicy': manages permissions (AWS access level 'Permissions management': resource policies, ACLs, grants): the deploy sets them, never a service role (the permissions boundary denies it)",
    ],
    "queue-add-permission": [
        "iam_statements[0].actions[0]: got 'sqs:AddPermission': manages permissions (AWS access level 'Permissions management': resource policies, ACLs, grants): the deploy sets them, never a service role (the permissions boundary denies it)",
    ],
    "queue-policy-through-attributes": [
        "iam_statements[0].actions[0]: got 'sqs:SetQueueAttributes': manages permissions (AWS access level 'Permissions management': resource policies, ACLs, grants): the deploy sets them, never a service role (the permissions boundary denies it)",
    ],
    "kms-grant-to-another-account": [
        "iam_statements[0].actions[0]: got 'kms:CreateGrant': manages permissions (AWS access level 'Permissions management': resource policies, ACLs, grants): the deploy sets them, never a service role (the permissions boundary denies it)",
    ],
    "schedule-key-deletion": [
        "iam_statements[0].actions[0]: got 'kms:ScheduleKeyDeletion': destroys, disables or re-points a KMS key (the permissions boundary denies it): ask the platform team",
    ],
    "disable-key-rotation": [
        "iam_statements[0].actions[0]: got 'kms:DisableKeyRotation': destroys, disables or re-points a KMS key (the permissions boundary denies it): ask the platform team",
    ],
    "delete-imported-key-material": [
        "iam_statements[0].actions[0]: got 'kms:DeleteImportedKeyMaterial': destroys, disables or re-points a KMS key (the permissions boundary denies it): ask the platform team",
    ],
    "repoint-an-alias": [
        "iam_statements[0].actions[0]: got 'kms:UpdateAlias': destroys, disables or re-points a KMS key (the permissions boundary denies it): ask the platform team",
    ],
    "delete-the-audit-log-group": [
        "iam_statements[0].resources[0]: got 'arn:aws:logs:eu-west-1:111111111111:log-group:/aws/eks/eks-staging/cluster': is a platform resource (log-group names starting '/aws/' belong to the platform and AWS, like the control plane's audit log and the alert topics): services never act on them (the permissions boundary denies it)",
    ],
    "purge-the-interruption-queue": [
        "iam_statements[0].resources[0]: got 'arn:aws:sqs:eu-west-1:111111111111:nth-queue-3f2a1b0': is a platform resource (queue names starting 'nth-' belong to the platform and AWS, like the control plane's audit log and the alert topics): services never act on them (the permissions boundary denies it)",
    ],
    "fake-spot-interruptions": [
        "iam_statements[0].resources[0]: got 'arn:aws:sqs:eu-west-1:111111111111:nth-queue-3f2a1b0': is a platform resource (queue names starting 'nth-' belong to the platform and AWS, like the control plane's audit log and the alert topics): services never act on them (the permissions boundary denies it)",
    ],
    "subscribe-to-own-alert-topic": [
        "iam_statements[0].resources[0]: got 'arn:aws:sns:eu-west-1:111111111111:eks-staging-news-alerts': is a platform resource (topic names starting 'eks-' belong to the platform and AWS, like the control plane's audit log and the alert topics): services never act on them (the permissions boundary denies it)",
    ],
    "silence-media-alarms": [
        "iam_statements[0].resources[0]: got 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:media-api-5xx': follows the naming convention of team 'media' (buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms <team>-*): a service of team 'news' reaches only its own team's resources (the permissions boundary denies the rest)",
    ],
    "publish-to-media-topic": [
        "iam_statements[0].resources[0]: got 'arn:aws:sns:eu-west-1:111111111111:media-events': follows the naming convention of team 'media' (buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms <team>-*): a service of team 'news' reaches only its own team's resources (the permissions boundary denies the rest)",
    ],
    "retag-media-queue-as-ours": [
        "iam_statements[0].resources[0]: got 'arn:aws:sqs:eu-west-1:111111111111:media-jobs': follows the naming convention of team 'media' (buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms <team>-*): a service of team 'news' reaches only its own team's resources (the permissions boundary denies the rest)",
    ],
    "forallvalues-on-a-single-valued-key": [
        "iam_statements[0].conditions['ForAllValues:StringEquals']['aws:ResourceTag/team']: got 'aws:ResourceTag/team': aws:ResourceTag/team holds one value: drop ForAllValues: (ForAllValues: matches when the key is absent, which turns a check into a bypass)",
    ],
    "made-up-condition-operator": [
        "iam_statements[0].conditions['StringEqualsAnything']: got 'StringEqualsAnything': unknown condition operator: use an IAM operator like StringEquals, StringLike, ArnLike, Bool, NumericLessThan or Null, optionally with IfExists or a ForAnyValue:/ForAllValues: prefix",
    ],
    "table-in-another-account": [
        "iam_statements[0].resources[0]: got 'arn:aws:dynamodb:eu-west-1:222222222222:table/news-x': is in account 222222222222, not the cluster's account 111111111111: a service role acts only on its own account's resources",
    ],
    "table-in-another-region": [
        "iam_statements[0].resources[0]: got 'arn:aws:dynamodb:us-east-1:111111111111:table/news-x': is in region us-east-1, not the cluster's region eu-west-1: name the resource of this region",
    ],
    "queue-in-any-account": [
        "iam_statements[0].resources[0]: got 'arn:aws:sqs:eu-west-1:*:news-jobs': account '*' means other accounts too: name the cluster's account",
    ],
}
"""The exact problems each attack gets (validation, or the check when resources resolve)."""

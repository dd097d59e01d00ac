"""Who may do what around the push pre-scaler: its IAM policy documents, the topic and queue
policies, and its Kubernetes RBAC rules.

Pure functions returning plain documents, so the component (:mod:`.prescaler`) and the tests
read the exact same actions and verbs. Least privilege is the rule: every statement names its
resource (EC2's network-interface describes are the one ``*``, the only form EC2 grants), and the
Kubernetes rules name the one Deployment whose scale the pre-scaler changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs


def lambda_statements(
    *,
    partition: str,
    region: str,
    account_id: str,
    function: str,
    dlq_arn: str,
    schedule_group: str,
    scheduler_role_arn: str,
) -> list[dict[str, Any]]:
    """The Lambda role's policy statements (pure, so tests read the exact actions)."""
    return [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:{partition}:logs:{region}:{account_id}:log-group:"
            f"/aws/lambda/{function}:*",
        },
        {
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": dlq_arn,
        },
        {
            # What Lambda needs to attach the function to the VPC (the actions of AWS's
            # AWSLambdaVPCAccessExecutionRole); EC2 grants the describes on "*" only.
            "Sid": "VpcNetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:AssignPrivateIpAddresses",
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": "*",
        },
        {
            "Sid": "OwnSchedules",
            "Effect": "Allow",
            "Action": "scheduler:CreateSchedule",
            "Resource": f"arn:{partition}:scheduler:{region}:{account_id}:schedule/"
            f"{schedule_group}/*",
        },
        {
            "Sid": "PassTheSchedulerRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": scheduler_role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
        },
    ]


def scheduler_statements(*, function_arn: str, dlq_arn: str) -> list[dict[str, Any]]:
    """What Scheduler may do with its role: invoke this function, write the DLQ."""
    return [
        {
            "Sid": "InvokeThePreScaler",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn,
        },
        {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq_arn},
    ]


def topic_policy(topic_arn: str, publishers: Sequence[str]) -> dict[str, Any]:
    """Only ``publishers`` may publish, only over TLS."""
    statements: list[dict[str, Any]] = []
    if publishers:
        statements += [
            {
                "Sid": "NamedPublishers",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(publishers)},
                "Action": "sns:Publish",
                "Resource": topic_arn,
            },
            {
                "Sid": "NobodyElsePublishes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(publishers)}},
            },
        ]
    else:
        statements.append(
            {
                "Sid": "NobodyPublishes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
            }
        )
    statements.append(
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}


def dlq_policy(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """SNS may dead-letter this topic's failed deliveries; TLS only. (The Lambda and Scheduler
    write through their roles.)"""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FailedDeliveriesOfTheTopic",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            },
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def cluster_rules() -> list[PolicyRuleArgs]:
    """Cluster-wide: raise and restore HPA floors; read Deployment status (readiness)."""
    return [
        PolicyRuleArgs(
            api_groups=["autoscaling"],
            resources=["horizontalpodautoscalers"],
            verbs=["get", "list", "patch"],
        ),
        PolicyRuleArgs(api_groups=["apps"], resources=["deployments/status"], verbs=["get"]),
    ]


def headroom_rules(deployment: str) -> list[PolicyRuleArgs]:
    """In the headroom namespace: the headroom Deployment's scale, and nothing else."""
    return [
        PolicyRuleArgs(
            api_groups=["apps"],
            resources=["deployments/scale"],
            resource_names=[deployment],
            verbs=["get", "patch"],
        )
    ]


def trust(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}

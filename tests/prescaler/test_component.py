"""The PreScaler component in the cluster preview of both stacks: every resource, the exact IAM
actions and RBAC verbs, the function's code and settings, the contract output; and its
configuration refused with exact messages before anything is registered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
from eksplatform.cluster.prescaler import (
    GROUP,
    LAMBDA_FILES,
    PhysicalNames,
    PreScalerArgs,
    physical_names,
    validate_prescaler_args,
)
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview
from eksplatform.preview.mocks import Recorded

from tests.conftest import REPO, make_workspace

Preview = Callable[[str], PreviewResult]
STACKS = ("staging", "prod")
TOKEN = "eksplatform:addons:PreScaler"
ACCOUNTS = {"staging": "111111111111", "prod": "222222222222"}
ADMINS = {
    "staging": ["arn:aws:iam::111111111111:role/platform-admin"],
    "prod": [
        "arn:aws:iam::222222222222:role/platform-admin",
        "arn:aws:iam::222222222222:role/sre-breakglass",
    ],
}


def _children(result: PreviewResult) -> dict[tuple[str, str], Recorded]:
    (component,) = [r for r in result.resources if r.type == TOKEN]
    found = {(r.type, r.name): r for r in result.resources if r.parent == component.urn}
    assert len(found) == len([r for r in result.resources if r.parent == component.urn])
    return found


def _one(result: PreviewResult, typ: str, name: str) -> Recorded:
    return _children(result)[(typ, name)]


@pytest.mark.parametrize("stack", STACKS)
def test_the_component_and_all_its_parts_are_in_both_stacks(
    cluster_preview: Preview, stack: str
) -> None:
    result = cluster_preview(stack)
    assert result.ok
    assert sorted(_children(result)) == sorted(
        [
            ("aws:sqs/queue:Queue", "prescaler-dlq"),
            ("aws:sqs/queuePolicy:QueuePolicy", "prescaler-dlq"),
            ("aws:sns/topic:Topic", "prescaler-topic"),
            ("aws:sns/topicPolicy:TopicPolicy", "prescaler-topic"),
            ("aws:sns/topicSubscription:TopicSubscription", "prescaler-subscription"),
            ("aws:iam/role:Role", "prescaler-role"),
            ("aws:iam/rolePolicy:RolePolicy", "prescaler-role"),
            ("aws:iam/role:Role", "prescaler-scheduler"),
            ("aws:iam/rolePolicy:RolePolicy", "prescaler-scheduler"),
            ("aws:ec2/securityGroup:SecurityGroup", "prescaler-sg"),
            ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "prescaler-out-https"),
            ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "prescaler-api"),
            ("aws:cloudwatch/logGroup:LogGroup", "prescaler-logs"),
            ("aws:scheduler/scheduleGroup:ScheduleGroup", "prescaler-schedules"),
            ("aws:scheduler/schedule:Schedule", "prescaler-reconcile"),
            ("aws:lambda/function:Function", "prescaler-function"),
            (
                "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
                "prescaler-invoke",
            ),
            ("aws:lambda/permission:Permission", "prescaler-sns"),
            ("aws:cloudwatch/metricAlarm:MetricAlarm", "prescaler-errors"),
            ("aws:cloudwatch/metricAlarm:MetricAlarm", "prescaler-dead-letters"),
            ("aws:eks/accessEntry:AccessEntry", "prescaler-access"),
            ("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "prescaler-clusterrole"),
            (
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
                "prescaler-clusterrolebinding",
            ),
            ("kubernetes:rbac.authorization.k8s.io/v1:Role", "prescaler-headroom"),
            ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "prescaler-headroom"),
        ]
    )
    topic = _one(result, "aws:sns/topic:Topic", "prescaler-topic")
    assert result.plain_outputs()["prescaleTopicArn"] == topic.outputs["arn"]
    # metrics-server, and the Datadog Cluster Agent (both stacks set an application key)
    assert result.plain_outputs()["metricsApis"] == ["metrics.k8s.io", "external.metrics.k8s.io"]


def _policy(result: PreviewResult, name: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(_one(result, "aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])
    return {s["Sid"]: s for s in doc["Statement"]}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return sorted([action] if isinstance(action, str) else action)


@pytest.mark.parametrize("stack", STACKS)
def test_lambda_role_has_exactly_these_actions(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    account = ACCOUNTS[stack]
    cluster = f"eks-{stack}"
    statements = _policy(result, "prescaler-role")
    dlq = _one(result, "aws:sqs/queue:Queue", "prescaler-dlq").outputs["arn"]
    scheduler_role = _one(result, "aws:iam/role:Role", "prescaler-scheduler").outputs["arn"]
    assert {sid: _actions(s) for sid, s in statements.items()} == {
        "WriteOwnLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "DeadLetters": ["sqs:SendMessage"],
        "VpcNetworkInterfaces": [
            "ec2:AssignPrivateIpAddresses",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:UnassignPrivateIpAddresses",
        ],
        "OwnSchedules": ["scheduler:CreateSchedule"],
        "PassTheSchedulerRole": ["iam:PassRole"],
    }
    assert all(s["Effect"] == "Allow" for s in statements.values())
    assert statements["WriteOwnLogs"]["Resource"] == (
        f"arn:aws:logs:eu-west-1:{account}:log-group:/aws/lambda/{cluster}-prescaler:*"
    )
    assert statements["DeadLetters"]["Resource"] == dlq
    assert statements["OwnSchedules"]["Resource"] == (
        f"arn:aws:scheduler:eu-west-1:{account}:schedule/{cluster}-prescaler/*"
    )
    assert statements["PassTheSchedulerRole"]["Resource"] == scheduler_role
    assert statements["PassTheSchedulerRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
    trust = json.loads(
        _one(result, "aws:iam/role:Role", "prescaler-role").inputs["assumeRolePolicy"]
    )
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_scheduler_role_may_only_invoke_the_function(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    account = ACCOUNTS[stack]
    statements = _policy(result, "prescaler-scheduler")
    fn = _one(result, "aws:lambda/function:Function", "prescaler-function").outputs["arn"]
    assert {sid: (_actions(s), s["Resource"]) for sid, s in statements.items()} == {
        "InvokeThePreScaler": (["lambda:InvokeFunction"], fn),
        "DeadLetters": (
            ["sqs:SendMessage"],
            _one(result, "aws:sqs/queue:Queue", "prescaler-dlq").outputs["arn"],
        ),
    }
    role = _one(result, "aws:iam/role:Role", "prescaler-scheduler")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {
            "aws:SourceArn": f"arn:aws:scheduler:eu-west-1:{account}:schedule/"
            f"eks-{stack}-prescaler/*"
        },
    }


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_named_publishers_may_publish(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    topic = _one(result, "aws:sns/topic:Topic", "prescaler-topic")
    assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"
    policy = _one(result, "aws:sns/topicPolicy:TopicPolicy", "prescaler-topic")
    assert policy.inputs["arn"] == topic.outputs["arn"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["NamedPublishers"]["Principal"] == {"AWS": ADMINS[stack]}
    assert statements["NamedPublishers"]["Action"] == "sns:Publish"
    deny = statements["NobodyElsePublishes"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "sns:Publish")
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": ADMINS[stack]}}
    assert statements["TlsOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert all(s["Resource"] == topic.outputs["arn"] for s in statements.values())


@pytest.mark.parametrize("stack", STACKS)
def test_rbac_verbs_are_exactly_these(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    manifests = {(m.kind, m.name): m.body for m in result.manifests if "prescaler" in m.name}
    assert set(manifests) == {
        ("ClusterRole", "eksplatform-prescaler"),
        ("ClusterRoleBinding", "eksplatform-prescaler"),
        ("Role", "eksplatform-prescaler-headroom"),
        ("RoleBinding", "eksplatform-prescaler-headroom"),
    }
    assert manifests[("ClusterRole", "eksplatform-prescaler")]["rules"] == [
        {
            "apiGroups": ["autoscaling"],
            "resources": ["horizontalpodautoscalers"],
            "verbs": ["get", "list", "patch"],
        },
        {"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["get"]},
    ]
    role = manifests[("Role", "eksplatform-prescaler-headroom")]
    assert role["metadata"]["namespace"] == "overprovisioning"
    assert role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/scale"],
            "resourceNames": ["headroom"],
            "verbs": ["get", "patch"],
        }
    ]
    subject = {"kind": "Group", "name": GROUP, "apiGroup": "rbac.authorization.k8s.io"}
    for kind, name, ref in (
        ("ClusterRoleBinding", "eksplatform-prescaler", "ClusterRole"),
        ("RoleBinding", "eksplatform-prescaler-headroom", "Role"),
    ):
        binding = manifests[(kind, name)]
        assert binding["subjects"] == [subject]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": ref,
            "name": name,
        }
    entry = _one(result, "aws:eks/accessEntry:AccessEntry", "prescaler-access").inputs
    role_arn = _one(result, "aws:iam/role:Role", "prescaler-role").outputs["arn"]
    assert entry["principalArn"] == role_arn
    assert entry["kubernetesGroups"] == [GROUP]
    assert entry["type"] == "STANDARD"
    assert entry["clusterName"] == f"eks-{stack}"


def _lambda_sources() -> dict[str, str]:
    package = resources.files("eksplatform.cluster.prescaler_lambda")
    return {
        f"prescaler_lambda/{name}": hashlib.sha256(
            package.joinpath(name).read_text().encode()
        ).hexdigest()
        for name in LAMBDA_FILES
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_function(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    fn = _one(result, "aws:lambda/function:Function", "prescaler-function").inputs
    assert fn["runtime"] == "python3.13"
    assert fn["handler"] == "prescaler_lambda.handler.handler"
    assert fn["reservedConcurrentExecutions"] == 2
    assert fn["timeout"] == 60
    dlq = _one(result, "aws:sqs/queue:Queue", "prescaler-dlq")
    assert fn["deadLetterConfig"] == {"targetArn": dlq.outputs["arn"]}
    assert dlq.inputs["sqsManagedSseEnabled"] is True
    assert dlq.inputs["messageRetentionSeconds"] == 1209600
    # every file of the handler package, as shipped: the archive is the source
    archive = result_json(result, "prescaler-function")["code"]["assetArchive"]
    assert {k: v["stringAsset"]["sha256"] for k, v in archive.items()} == _lambda_sources()
    # in the private subnets, behind its own security group
    private = result.plain_outputs()["privateSubnetIds"]
    assert fn["vpcConfig"]["subnetIds"] == private
    sg = _one(result, "aws:ec2/securityGroup:SecurityGroup", "prescaler-sg").id
    assert fn["vpcConfig"]["securityGroupIds"] == [sg]
    api = _one(
        result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "prescaler-api"
    ).inputs
    assert api["securityGroupId"] == result.plain_outputs()["clusterSecurityGroupId"]
    assert (api["referencedSecurityGroupId"], api["fromPort"], api["toPort"]) == (sg, 443, 443)
    env = fn["environment"]["variables"]
    assert env["PRESCALER_CLUSTER_NAME"] == f"eks-{stack}"
    assert env["PRESCALER_CLUSTER_ENDPOINT"] == result.plain_outputs()["endpoint"]
    assert env["PRESCALER_CLUSTER_CA"] == result.plain_outputs()["certificateAuthority"]
    headroom = {"staging": ("1", "500", str(2**30)), "prod": ("6", "1000", str(2 * 2**30))}
    assert (
        env["PRESCALER_HEADROOM_BASELINE"],
        env["PRESCALER_HEADROOM_CPU_MILLIS"],
        env["PRESCALER_HEADROOM_MEMORY_BYTES"],
    ) == headroom[stack]
    logs = _one(result, "aws:cloudwatch/logGroup:LogGroup", "prescaler-logs").inputs
    assert logs["name"] == f"/aws/lambda/eks-{stack}-prescaler"
    assert logs["retentionInDays"] == 90
    assert fn["loggingConfig"]["logGroup"] == logs["name"]
    invoke = _one(
        result,
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "prescaler-invoke",
    ).inputs
    assert (invoke["maximumRetryAttempts"], invoke["maximumEventAgeInSeconds"]) == (1, 3600)
    sub = _one(
        result, "aws:sns/topicSubscription:TopicSubscription", "prescaler-subscription"
    ).inputs
    assert sub["protocol"] == "lambda"
    assert json.loads(sub["redrivePolicy"]) == {"deadLetterTargetArn": dlq.outputs["arn"]}
    permission = _one(result, "aws:lambda/permission:Permission", "prescaler-sns").inputs
    topic_arn = _one(result, "aws:sns/topic:Topic", "prescaler-topic").outputs["arn"]
    assert (permission["principal"], permission["sourceArn"]) == ("sns.amazonaws.com", topic_arn)
    reconcile = _one(result, "aws:scheduler/schedule:Schedule", "prescaler-reconcile").inputs
    assert reconcile["scheduleExpression"] == "rate(5 minutes)"
    assert json.loads(reconcile["target"]["input"]) == {"kind": "reconcile"}
    errors = _one(result, "aws:cloudwatch/metricAlarm:MetricAlarm", "prescaler-errors").inputs
    assert (errors["namespace"], errors["metricName"], errors["threshold"]) == (
        "AWS/Lambda",
        "Errors",
        0,
    )
    assert errors["dimensions"] == {"FunctionName": f"eks-{stack}-prescaler"}


def result_json(result: PreviewResult, name: str) -> dict[str, Any]:
    """The display form of a resource's inputs (assets shown by content hash)."""
    from eksplatform.preview.engine import preview_document

    for step in preview_document(result)["steps"]:
        if step["urn"].endswith(f"::{name}"):
            inputs: dict[str, Any] = step["newState"]["inputs"]
            return inputs
    raise AssertionError(name)


# --- configuration ------------------------------------------------------------------------------


def test_bad_configuration_is_refused_before_anything_is_registered(tmp_path: Any) -> None:
    ws = make_workspace(tmp_path)
    stack = (REPO / "Pulumi.staging.yaml").read_text() + (
        "  platform:preScaler:\n"
        "    publisherRoleArns: [push-service]\n"
        "    timeoutSeconds: 5\n"
        "    reservedConcurrency: 0\n"
        "    headroomRatio: 5\n"
        "    logRetentionDays: 10\n"
        "    alarmTopicArns: ['arn:aws:sqs:eu-west-1:111111111111:q']\n"
        "    colour: blue\n"
    )
    (tmp_path / "Pulumi.staging.yaml").write_text(stack)
    result = run_preview(ws, "cluster", "staging")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    text = "\n".join(d.message for d in result.diagnostics if d.severity == "error")
    lines = [line for line in text.splitlines() if "preScaler" in line]
    assert lines == [
        "  - platform:preScaler.publisherRoleArns: got ['push-service']: 'push-service': not "
        "IAM role ARNs; write arn:aws:iam::<account>:role/<name>",
        "  - platform:preScaler.timeoutSeconds: got 5: must be 10 to 900 seconds (Lambda's limit)",
        "  - platform:preScaler.reservedConcurrency: got 0: must be 1 to 50",
        "  - platform:preScaler.logRetentionDays: got 10: CloudWatch accepts only 1, 3, 5, 7, "
        "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
        "3288, 3653",
        "  - platform:preScaler.headroomRatio: got 5: must be 0 to 4 (0 leaves the headroom alone)",
        "  - platform:preScaler.alarmTopicArns: got ['arn:aws:sqs:eu-west-1:111111111111:q']: "
        "'arn:aws:sqs:eu-west-1:111111111111:q': not SNS topic ARNs; write "
        "arn:aws:sns:<region>:<account>:<name>",
    ] + [line for line in lines if "colour" in line]
    assert len(lines) == 7


def test_disabled_pre_scaler_exports_an_empty_topic(tmp_path: Any) -> None:
    ws = make_workspace(tmp_path)
    stack = (
        REPO / "Pulumi.staging.yaml"
    ).read_text() + "  platform:preScaler:\n    enabled: false\n"
    (tmp_path / "Pulumi.staging.yaml").write_text(stack)
    result = run_preview(ws, "cluster", "staging")
    assert result.ok
    assert not [r for r in result.resources if r.type == TOKEN]
    assert result.plain_outputs()["prescaleTopicArn"] == ""


def test_component_arguments_are_checked_with_every_problem(k8s_provider_args: Any) -> None:
    args = PreScalerArgs(
        **{**k8s_provider_args, "region": "Mars-1", "account_id": "12345", "subnet_ids": []}
    )
    with pytest.raises(ValidationError) as caught:
        validate_prescaler_args(args)
    assert str(caught.value) == (
        "PreScaler 'eks-dev': 3 problems:\n"
        "  - region: got 'Mars-1': not an AWS region name; write it like eu-west-1\n"
        "  - account_id: got '12345': an AWS account id is 12 digits\n"
        "  - subnet_ids: got []: give the private subnets the Lambda runs in"
    )


def test_names_fit_their_services_for_any_cluster_name(k8s_provider_args: Any) -> None:
    assert physical_names("eks-prod") == PhysicalNames(
        function="eks-prod-prescaler",
        topic="eks-prod-prescale",
        dead_letter_queue="eks-prod-prescaler-dlq",
        scheduler_role="eks-prod-prescaler-scheduler",
        schedule_group="eks-prod-prescaler",
        errors_alarm="eks-prod-prescaler-errors",
        dead_letters_alarm="eks-prod-prescaler-dead-letters",
    )
    longest = "c" * 100  # EKS allows 100 characters
    names = physical_names(longest)
    assert len(names.function) == 64 and len(names.scheduler_role) == 64
    assert names.function.startswith("c" * 55 + "-") and names != physical_names("c" * 99)
    assert physical_names(longest) == names  # stable: the same name on every run
    validate_prescaler_args(PreScalerArgs(**{**k8s_provider_args, "cluster_name": longest}))


@pytest.fixture
def k8s_provider_args() -> dict[str, Any]:
    from eksplatform.core.tags import Tags

    return {
        "cluster_name": "eks-dev",
        "region": "eu-west-1",
        "account_id": "123456789012",
        "endpoint": "https://example",
        "certificate_authority": "",
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-1"],
        "cluster_security_group_id": "sg-1",
        "k8s_provider": None,
        "tags": Tags(team="platform", environment="dev", cost_centre="platform"),
    }

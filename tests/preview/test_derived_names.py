"""Every AWS name the cluster program derives, in both example stacks, passes the rule of the
service that receives it: explicit names, ``name_prefix`` arguments (the provider appends 26
characters) and Pulumi auto-names (logical name plus 8). The names that come from fixed logical
names (IAM roles of the nodes and the add-ons, the interruption queue and its EventBridge rules,
security groups) cannot be broken by config; this keeps them within the rules when code changes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eksplatform.core import naming
from eksplatform.preview.engine import PreviewResult

Preview = Callable[[str], PreviewResult]

RULES: dict[str, tuple[naming.NameRule, str, str]] = {
    # type: (rule, explicit name input, prefix input)
    "aws:iam/role:Role": (naming.IAM_ROLE, "name", "namePrefix"),
    "aws:iam/policy:Policy": (naming.IAM_POLICY, "name", "namePrefix"),
    "aws:iam/instanceProfile:InstanceProfile": (naming.IAM_INSTANCE_PROFILE, "name", "namePrefix"),
    "aws:sqs/queue:Queue": (naming.SQS_QUEUE, "name", "namePrefix"),
    "aws:cloudwatch/eventRule:EventRule": (naming.EVENTBRIDGE_RULE, "name", "namePrefix"),
    "aws:cloudwatch/logGroup:LogGroup": (naming.LOG_GROUP, "name", "namePrefix"),
    "aws:ec2/securityGroup:SecurityGroup": (naming.SECURITY_GROUP, "name", "namePrefix"),
    "aws:ec2/launchTemplate:LaunchTemplate": (naming.LAUNCH_TEMPLATE, "name", "namePrefix"),
    "aws:autoscaling/group:Group": (naming.AUTOSCALING_GROUP, "name", "namePrefix"),
    "aws:sns/topic:Topic": (naming.SNS_TOPIC, "name", "namePrefix"),
    "aws:kms/alias:Alias": (naming.KMS_ALIAS, "name", "namePrefix"),
    "aws:s3/bucket:Bucket": (naming.S3_BUCKET, "bucket", "bucketPrefix"),
    "aws:eks/cluster:Cluster": (naming.EKS_CLUSTER, "name", "namePrefix"),
}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_derived_aws_name_passes_its_rule(cluster_preview: Preview, stack: str) -> None:
    checked: dict[str, int] = {}
    for resource in cluster_preview(stack).resources:
        if resource.type not in RULES:
            continue
        rule, explicit, prefix = RULES[resource.type]
        if isinstance(resource.inputs.get(explicit), str):
            problem = naming.name_problem(rule, resource.inputs[explicit])
        elif isinstance(resource.inputs.get(prefix), str):
            problem = naming.name_prefix_problem(rule, resource.inputs[prefix])
        else:
            problem = naming.autoname_problem(rule, resource.name)
        assert problem is None, f"{resource.urn}: {problem}"
        checked[resource.type] = checked.get(resource.type, 0) + 1
    assert set(checked) == set(RULES), set(RULES) - set(checked)

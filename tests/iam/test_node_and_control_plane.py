"""No node access for services, and no hidden admin: the node role without SSM unless
``platform:nodeAccess.ssmSessions`` (then Session Manager only), the flow-logs role bound to its
account and region, the pulumi-eks cluster without the creator's bootstrap admin entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pulumi
from eksplatform.cluster.control_plane import no_creator_admin
from eksplatform.cluster.node_pools import SSM_SESSION_ACTIONS
from eksplatform.core.iam.evaluator import evaluate, request
from eksplatform.preview.engine import PreviewResult, run_preview

from tests.conftest import make_workspace


def _node_policies(result: PreviewResult) -> tuple[list[str], list[dict[str, object]]]:
    managed = sorted(
        str(r.inputs["policyArn"])
        for r in result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("nodes-node-")
    )
    inline = [
        json.loads(r.inputs["policy"])
        for r in result.by_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.startswith("nodes-node-")
    ]
    return managed, inline


def test_nodes_have_no_ssm_by_default(cluster_preview: Callable[[str], PreviewResult]) -> None:
    for stack in ("staging", "prod"):
        managed, inline = _node_policies(cluster_preview(stack))
        assert not any("SSM" in arn for arn in managed), managed
        assert inline == []


def test_the_switch_adds_session_manager_only(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack_file = ws.root / "Pulumi.staging.yaml"
    stack_file.write_text(
        stack_file.read_text() + "  platform:nodeAccess:\n    ssmSessions: true\n"
    )
    result = run_preview(ws, "cluster", "staging")
    assert result.exit_code == 0, [d.message for d in result.diagnostics]
    managed, inline = _node_policies(result)
    assert not any("SSM" in arn for arn in managed)
    assert inline == [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "SessionManagerOnly",
                    "Effect": "Allow",
                    "Action": list(SSM_SESSION_ACTIONS),
                    "Resource": "*",
                }
            ],
        }
    ]
    node = {"team": "platform"}
    allowed = [
        a
        for a in ("ssmmessages:OpenDataChannel", "ssm:UpdateInstanceInformation")
        if evaluate(request(a, "*", principal_tags=node), identity=inline).allowed
    ]
    assert len(allowed) == 2
    # what AmazonSSMManagedInstanceCore would also give: parameters, Run Command messages
    for action, resource in (
        ("ssm:GetParameter", "arn:aws:ssm:eu-west-1:111111111111:parameter/news/db"),
        ("ec2messages:GetMessages", "*"),
        ("ssm:ListInstanceAssociations", "*"),
    ):
        assert not evaluate(request(action, resource), identity=inline).allowed, action


def test_flow_logs_role_trusts_its_service_for_this_account_and_region_only(
    cluster_preview: Callable[[str], PreviewResult],
) -> None:
    result = cluster_preview("prod")
    (role,) = [r for r in result.by_type("aws:iam/role:Role") if r.name == "network-flow-logs"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "222222222222"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ec2:eu-west-1:222222222222:vpc-flow-log/*"},
    }
    assume = "sts:AssumeRole"
    ours = request(
        assume,
        "*",
        extra={
            "aws:SourceAccount": "222222222222",
            "aws:SourceArn": "arn:aws:ec2:eu-west-1:222222222222:vpc-flow-log/fl-0abc",
        },
    )
    theirs = request(
        assume,
        "*",
        extra={
            "aws:SourceAccount": "999999999999",
            "aws:SourceArn": "arn:aws:ec2:eu-west-1:999999999999:vpc-flow-log/fl-0abc",
        },
    )
    as_identity = {
        "Statement": [{**statement, "Resource": "*"}]
    }  # the trust's test, as IAM runs it
    assert evaluate(ours, identity=[as_identity]).allowed
    assert not evaluate(theirs, identity=[as_identity]).allowed


def test_the_cluster_gets_no_creator_admin_entry() -> None:
    def run(type_: str, props: dict[str, object]) -> pulumi.ResourceTransformResult | None:
        return no_creator_admin(
            pulumi.ResourceTransformArgs(
                custom=True, type_=type_, name="eks", props=props, opts=pulumi.ResourceOptions()
            )
        )

    assert run("aws:iam/role:Role", {"name": "x"}) is None  # other children untouched
    result = run(
        "aws:eks/cluster:Cluster",
        {
            "accessConfig": {
                "authenticationMode": "API",
                "bootstrapClusterCreatorAdminPermissions": True,
            },
            "name": "eks-prod",
        },
    )
    assert result is not None
    assert result.props == {
        "accessConfig": {
            "authenticationMode": "API",
            "bootstrapClusterCreatorAdminPermissions": False,
        },
        "name": "eks-prod",
    }

"""Interruption handler (aws-node-termination-handler, queue-processor mode): the encrypted queue
and who may write to it, the EventBridge rules' patterns, one lifecycle hook per group, a
least-privilege role, the Deployment in queue-processor mode, RBAC, and exact error messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.interruption import (
    InterruptionHandlerArgs,
    validate_interruption_handler_args,
)
from eksplatform.core.errors import ValidationError
from eksplatform.core.tags import Tags
from eksplatform.preview.engine import EXIT_OK, PreviewResult

from tests.compute.controllers import (  # noqa: F401  (pytest fixtures, found by name)
    ACCOUNT,
    ASG_NAMES,
    CLUSTER,
    REGION,
    Compute,
    compute_fixture,
    controllers_workspace_fixture,
)

Preview = Callable[[str], Compute]
NTH = "eksplatform:compute:InterruptionHandler"
RULE = "aws:cloudwatch/eventRule:EventRule"


def _queue(preview: Compute) -> Any:
    return preview.child(NTH, "aws:sqs/queue:Queue")


def _rules(preview: Compute) -> dict[str, Any]:
    """Rule key (logical name without the component prefix) -> recorded rule."""
    return {r.name.removeprefix("nth-"): r for r in preview.children(NTH, RULE)}


def _container(preview: Compute) -> dict[str, Any]:
    deployment = preview.manifest("Deployment", "aws-node-termination-handler")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = container
    return found


# --- queue ----------------------------------------------------------------------------------------


def test_queue_is_encrypted_and_keeps_events_briefly(compute: Preview) -> None:
    queue = _queue(compute("dev")).inputs
    assert queue["sqsManagedSseEnabled"] is True
    assert queue["messageRetentionSeconds"] == 300
    assert _queue(compute("tuned")).inputs["messageRetentionSeconds"] == 600


def test_only_eventbridge_rules_of_this_handler_and_sqs_may_send(compute: Preview) -> None:
    preview = compute("dev")
    queue = _queue(preview)
    policy_resource = preview.child(NTH, "aws:sqs/queuePolicy:QueuePolicy")
    assert policy_resource.inputs["queueUrl"] == queue.outputs["url"]
    statements = {s["Sid"]: s for s in json.loads(policy_resource.inputs["policy"])["Statement"]}
    allows = [s for s in statements.values() if s["Effect"] == "Allow"]
    assert sorted(s["Principal"]["Service"] for s in allows) == [
        "events.amazonaws.com",
        "sqs.amazonaws.com",
    ]
    for statement in allows:
        assert statement["Action"] == "sqs:SendMessage"
        assert statement["Resource"] == queue.outputs["arn"]
    events = statements["EventBridgeRulesOfThisHandler"]
    rule_arns = sorted(r.outputs["arn"] for r in _rules(preview).values())
    assert events["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arns}}
    assert statements["SqsFromThisAccount"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT}
    }
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- rules ------------------------------------------------------------------------------------------


def test_rules_catch_every_interruption_signal(compute: Preview) -> None:
    rules = _rules(compute("dev"))
    patterns = {key: json.loads(r.inputs["eventPattern"]) for key, r in rules.items()}
    assert patterns == {
        "spot-interruption": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Spot Instance Interruption Warning"],
        },
        "rebalance": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance Rebalance Recommendation"],
        },
        "state-change": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance State-change Notification"],
            "detail": {"state": ["stopping", "stopped", "shutting-down", "terminated"]},
        },
        "scheduled-change": {
            "source": ["aws.health"],
            "detail-type": ["AWS Health Event"],
            "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]},
        },
        "asg-terminate": {
            "source": ["aws.autoscaling"],
            "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
            "detail": {"AutoScalingGroupName": list(ASG_NAMES.values())},
        },
    }


def test_every_rule_targets_the_queue(compute: Preview) -> None:
    preview = compute("dev")
    queue_arn = _queue(preview).outputs["arn"]
    rule_names = sorted(r.outputs["name"] for r in _rules(preview).values())
    targets = preview.children(NTH, "aws:cloudwatch/eventTarget:EventTarget")
    assert sorted(t.inputs["rule"] for t in targets) == rule_names
    assert {t.inputs["arn"] for t in targets} == {queue_arn}


def test_a_pattern_beyond_the_default_quota_is_warned_about(compute: Preview) -> None:
    assert not [d for d in compute("dev").result.diagnostics if d.severity == "warning"]
    many = compute("many").result
    assert many.exit_code == EXIT_OK
    warnings = [d.message for d in many.diagnostics if d.severity == "warning"]
    (rule,) = [r for r in many.by_type(RULE) if r.name == "nth-asg-terminate"]
    size = len(rule.inputs["eventPattern"])
    assert size > 2048
    assert warnings == [
        f"the asg-terminate rule's event pattern is {size} characters; EventBridge accepts "
        "2048 unless the account's 'Event pattern size' quota is raised to 4096: raise it or "
        "use fewer, larger node pools"
    ]


# --- lifecycle hooks ----------------------------------------------------------------------------


def test_one_termination_hook_per_auto_scaling_group(compute: Preview) -> None:
    hooks = compute("dev").children(NTH, "aws:autoscaling/lifecycleHook:LifecycleHook")
    assert sorted(h.inputs["autoscalingGroupName"] for h in hooks) == sorted(ASG_NAMES.values())
    assert sorted(h.name for h in hooks) == sorted(f"nth-hook-{key}" for key in ASG_NAMES)
    for hook in hooks:
        assert hook.inputs["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
        assert hook.inputs["defaultResult"] == "CONTINUE"
        assert hook.inputs["heartbeatTimeout"] == 300
    tuned = compute("tuned").children(NTH, "aws:autoscaling/lifecycleHook:LifecycleHook")
    assert {h.inputs["heartbeatTimeout"] for h in tuned} == {120}


# --- IAM --------------------------------------------------------------------------------------------


def test_role_may_only_consume_its_queue_and_complete_this_clusters_actions(
    compute: Preview,
) -> None:
    preview = compute("dev")
    statements = {s["Sid"]: s for s in preview.policy(NTH)["Statement"]}
    assert set(statements) == {
        "ConsumeTheQueue",
        "CompleteLifecycleActionsOfThisCluster",
        "DescribeInstancesAndGroups",
    }
    consume = statements["ConsumeTheQueue"]
    assert consume["Action"] == ["sqs:DeleteMessage", "sqs:ReceiveMessage"]
    assert consume["Resource"] == _queue(preview).outputs["arn"]
    complete = statements["CompleteLifecycleActionsOfThisCluster"]
    assert complete["Action"] == "autoscaling:CompleteLifecycleAction"
    assert complete["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned"}
    }
    assert complete["Resource"] == (
        f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*"
    )
    describe = statements["DescribeInstancesAndGroups"]
    assert describe["Resource"] == "*"
    assert describe["Action"] == [
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeTags",
        "ec2:DescribeInstances",
    ]
    for statement in statements.values():
        assert statement["Effect"] == "Allow"


def test_pod_identity_binds_the_role_to_the_handlers_service_account(compute: Preview) -> None:
    preview = compute("dev")
    role = preview.child(NTH, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == (
        "aws-node-termination-handler"
    )
    association = preview.child(NTH, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["serviceAccount"] == "aws-node-termination-handler"
    assert association.inputs["namespace"] == "kube-system"
    assert association.inputs["roleArn"] == role.outputs["arn"]
    deployment = preview.child(NTH, "kubernetes:apps/v1:Deployment")
    assert association.urn in deployment.dependencies


# --- Kubernetes objects -----------------------------------------------------------------------------


def test_handler_runs_in_queue_processor_mode(compute: Preview) -> None:
    preview = compute("dev")
    container = _container(preview)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ENABLE_SQS_TERMINATION_DRAINING"] == "true"
    assert env["QUEUE_URL"] == _queue(preview).outputs["url"]
    assert env["QUEUE_URL"].startswith(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/")
    assert env["AWS_REGION"] == REGION
    assert env["DELETE_SQS_MSG_IF_NODE_NOT_FOUND"] == "true"
    assert env["CHECK_TAG_BEFORE_DRAINING"] == "false"
    assert env["ENABLE_PROBES_SERVER"] == "true"
    assert env["PROBES_SERVER_PORT"] == "8080"
    assert env["TAINT_NODE"] == "true"
    assert env["NODE_TERMINATION_GRACE_PERIOD"] == "120"
    node_name = next(e for e in container["env"] if e["name"] == "NODE_NAME")
    assert node_name["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    # nothing of IMDS mode
    assert not {"ENABLE_SPOT_INTERRUPTION_DRAINING", "ENABLE_REBALANCE_MONITORING"} & set(env)
    assert container["image"] == "public.ecr.aws/aws-ec2/aws-node-termination-handler:v1.25.2"


def test_deployment_is_spread_critical_restricted_and_probed(compute: Preview) -> None:
    preview = compute("dev")
    assert preview.result.exit_code == EXIT_OK
    deployment = preview.manifest("Deployment", "aws-node-termination-handler")
    assert deployment["spec"]["replicas"] == 2
    spec = deployment["spec"]["template"]["spec"]
    assert spec["priorityClassName"] == "system-cluster-critical"
    assert spec["serviceAccountName"] == "aws-node-termination-handler"
    zone = [
        c
        for c in spec["topologySpreadConstraints"]
        if c["topologyKey"] == "topology.kubernetes.io/zone"
    ]
    assert len(zone) == 1 and zone[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert zone[0]["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    preferred = spec["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred[0]["preference"]["matchExpressions"] == [
        {"key": "eksplatform.io/capacity-type", "operator": "In", "values": ["on-demand"]}
    ]
    assert spec["securityContext"]["runAsNonRoot"] is True
    container = _container(preview)
    assert container["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"memory": "64Mi"},
    }
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] == 1000
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "probes"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"probes": 8080, "metrics": 9092}
    pdb = preview.manifest("PodDisruptionBudget", "aws-node-termination-handler")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert preview.manifest("Deployment", "aws-node-termination-handler")  # written
    tuned = compute("tuned").manifest("Deployment", "aws-node-termination-handler")
    assert tuned["spec"]["replicas"] == 3


def test_cluster_role_grants_only_drain_permissions(compute: Preview) -> None:
    preview = compute("dev")
    role = preview.manifest("ClusterRole", "aws-node-termination-handler", namespace="")
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert granted == {
        ("", "nodes", "get"),
        ("", "nodes", "list"),
        ("", "nodes", "patch"),
        ("", "nodes", "update"),
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods/eviction", "create"),
        ("apps", "daemonsets", "get"),
        ("", "events", "create"),
        ("", "events", "patch"),
    }
    binding = preview.manifest("ClusterRoleBinding", "aws-node-termination-handler", namespace="")
    assert binding["roleRef"]["name"] == "aws-node-termination-handler"
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "aws-node-termination-handler",
            "namespace": "kube-system",
        }
    ]


def test_every_rendered_object_passes_the_schema_check(compute: Preview) -> None:
    preview = compute("dev")
    assert preview.result.exit_code == EXIT_OK, [d.message for d in preview.result.diagnostics]
    kinds = sorted(
        m.kind for m in preview.result.manifests if m.name == "aws-node-termination-handler"
    )
    assert kinds == [
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "PodDisruptionBudget",
        "ServiceAccount",
    ]


# --- validation -----------------------------------------------------------------------------------


def test_bad_config_values_are_reported_together_with_exact_messages() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_cluster_config(
            {
                "aws:region": "eu-west-1",
                "platform:interruptionHandler": json.dumps(
                    {
                        "imageTag": "latest",
                        "replicas": 9,
                        "queueMessageRetentionSeconds": 30,
                        "lifecycleHeartbeatTimeoutSeconds": 10000,
                        "podTerminationGracePeriodSeconds": -5,
                        "memory": "64MB",
                        "logLevel": "verbose",
                    }
                ),
            },
            stack="prod",
            source="Pulumi.prod.yaml",
        )
    assert str(caught.value) == (
        "Pulumi.prod.yaml: invalid stack configuration: 7 problems:\n"
        "  - platform:interruptionHandler.imageTag: got 'latest': write a release tag like "
        "v1.25.2\n"
        "  - platform:interruptionHandler.replicas: got 9: must be 1 to 5 (2 keeps one handler "
        "through a zone loss)\n"
        "  - platform:interruptionHandler.queueMessageRetentionSeconds: got 30: SQS keeps "
        "messages 60 to 1209600 seconds (14 days)\n"
        "  - platform:interruptionHandler.lifecycleHeartbeatTimeoutSeconds: got 10000: Auto "
        "Scaling accepts a heartbeat timeout of 30 to 7200 seconds\n"
        "  - platform:interruptionHandler.podTerminationGracePeriodSeconds: got -5: must be -1 "
        "(each pod's own) or 0 to 7200 seconds\n"
        "  - platform:interruptionHandler.logLevel: got 'verbose': Input should be 'debug', "
        "'info', 'warn' or 'error'\n"
        "  - platform:interruptionHandler.memory: got '64MB': '64MB' is not a memory quantity; "
        "write it like '128Mi' or '1Gi'"
    )


def test_component_args_are_checked_together() -> None:
    args = InterruptionHandlerArgs(
        cluster_name="eks-dev",
        region="eu-west-1",
        account_id="123",
        asg_names={},
        k8s_provider=None,  # type: ignore[arg-type]  # never reached: validation fails first
        tags=Tags(team="platform", environment="dev", cost_centre="platform"),
        managed_tag="",
    )
    with pytest.raises(ValidationError) as caught:
        validate_interruption_handler_args(args)
    assert str(caught.value) == (
        "InterruptionHandler 'eks-dev': 3 problems:\n"
        "  - account_id: got '123': an AWS account id is 12 digits\n"
        "  - asg_names: got {}: give at least one Auto Scaling group: the handler needs a "
        "lifecycle hook to act on\n"
        "  - managed_tag: got '': not a valid tag key (1-128 characters)"
    )


def test_group_keys_must_be_usable_as_resource_names() -> None:
    args = InterruptionHandlerArgs(
        cluster_name="eks-dev",
        region="eu-west-1",
        account_id=ACCOUNT,
        asg_names={"General_A": "eks-dev-general-a"},
        k8s_provider=None,  # type: ignore[arg-type]  # never reached: validation fails first
        tags=Tags(team="platform", environment="dev", cost_centre="platform"),
    )
    with pytest.raises(ValidationError, match=r"asg_names: got \['General_A'\]: keys name"):
        validate_interruption_handler_args(args)


# --- the cluster program ------------------------------------------------------------------------


def test_cluster_program_hooks_every_node_pool_group(
    cluster_preview: Callable[[str], PreviewResult],
) -> None:
    result = cluster_preview("prod")
    assert result.exit_code == EXIT_OK, [d.message for d in result.diagnostics]
    (component,) = result.by_type(NTH)
    groups = sorted(g.outputs["name"] for g in result.by_type("aws:autoscaling/group:Group"))
    assert len(groups) == 6  # 2 pools x 3 zones
    hooks = [
        h
        for h in result.by_type("aws:autoscaling/lifecycleHook:LifecycleHook")
        if h.parent == component.urn
    ]
    assert sorted(h.inputs["autoscalingGroupName"] for h in hooks) == groups
    (rule,) = [r for r in result.by_type(RULE) if r.name == "nth-asg-terminate"]
    pattern = json.loads(rule.inputs["eventPattern"])
    assert sorted(pattern["detail"]["AutoScalingGroupName"]) == groups
    (queue,) = [q for q in result.by_type("aws:sqs/queue:Queue") if q.parent == component.urn]
    (deployment,) = [
        m
        for m in result.manifests
        if m.kind == "Deployment" and m.name == "aws-node-termination-handler"
    ]
    spec = deployment.body["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["QUEUE_URL"] == queue.outputs["url"]
    assert env["AWS_REGION"] == "eu-west-1"
    assert spec["replicas"] == 2
    staging = cluster_preview("staging")
    assert staging.exit_code == EXIT_OK
    (staging_deployment,) = [
        m
        for m in staging.manifests
        if m.kind == "Deployment" and m.name == "aws-node-termination-handler"
    ]
    assert staging_deployment.body["spec"]["replicas"] == 1

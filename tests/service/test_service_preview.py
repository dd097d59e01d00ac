"""ServiceStack under the offline preview: what it registers and renders, read back from the
recorded resource inputs, ``preview.json`` and the schema-checked manifests."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform import envoy
from eksplatform.preview.engine import PreviewResult, Workspace, write_result
from eksplatform.preview.mocks import Recorded, is_secret, unwrap
from eksplatform.service import ServiceStackArgs, plan_service
from eksplatform.service.workload import config_checksum

from tests.conftest import make_workspace, write_program
from tests.service.bad_inputs import good_args
from tests.service.programs import (
    ACCOUNT,
    ASGS,
    BOUNDARY,
    CERT,
    TOPICS,
    known_contract_for,
    preview_service,
)

SECRET_VALUE = "hunter2-plain-text-must-never-appear"

FEED = f"""
feed = ServiceStack("feed", ServiceStackArgs(
    name="feed",
    team="news",
    image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2",
    port=8080,
    cluster=cluster,
    env={{"LOG_LEVEL": "info"}},
    secrets={{"DB_PASSWORD": {SECRET_VALUE!r}, "API_TOKEN": pulumi.Config().require_secret("token")}},
    config_files={{"app.yaml": "feed:\\n  pageSize: 20\\n"}},
    dependencies=[Dependency(name="users"), Dependency(name="ranker", team="search",
                                                        port=50051, protocol="http2")],
    autoscaling=Autoscaling(min_replicas=3, max_replicas=30,
                            metrics=[MetricTarget(name="requests_per_second", average_value="50")]),
    prescaling=PreScaling(factor=10),
    ingress=Ingress(public=True, certificate_arn={CERT!r}),
    iam_statements=[IamStatement(actions=["dynamodb:GetItem", "dynamodb:Query"],
                                 resources=["arn:aws:dynamodb:eu-west-1:123456789012:table/feed"])],
    datadog_tags={{"product": "news-feed"}},
))
pulumi.export("nodePort", feed.node_port)
pulumi.export("albDnsName", feed.alb_dns_name)
pulumi.export("targetGroupArn", feed.target_group_arn)
pulumi.export("ecrRepositoryUrl", feed.ecr_repository_url)
pulumi.export("roleArn", feed.role_arn)
pulumi.export("namespace", feed.namespace)
pulumi.export("deploymentName", feed.deployment_name)
pulumi.export("serviceAccountName", feed.service_account_name)
"""

WORKER = """
worker = ServiceStack("worker", ServiceStackArgs(
    name="worker", team="news", image="ghcr.io/news/worker:2.0.0", port=9000, cluster=cluster,
    autoscaling=None, replicas=2, vpa=Vpa(max_memory="2Gi"), node_port=31000,
))
api = ServiceStack("search-api", ServiceStackArgs(
    name="search-api", team="search", image="registry.example.com/search/api:3.1.0", port=8080,
    cluster=cluster, ingress=Ingress(),
))
pulumi.export("workerHasNoEcr", worker.ecr_repository_url is None)
pulumi.export("workerHasNoAlb", worker.alb_dns_name is None and worker.target_group_arn is None)
pulumi.export("workerNodePort", worker.node_port)
"""


def _one(result: PreviewResult, typ: str, name: str) -> Recorded:
    found = [r for r in result.resources if r.type == typ and r.urn.endswith(f"::{name}")]
    assert len(found) == 1, (typ, name, [r.urn for r in result.resources if r.type == typ])
    return found[0]


def _inputs(r: Recorded) -> Any:
    return unwrap(r.inputs)


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PreviewResult, Path]]:
    tmp = tmp_path_factory.mktemp("feed")
    ws, result = preview_service(
        tmp, FEED, environment="prod", config="  svc:token:\n    secure: AAABAJ0x\n"
    )
    assert result.ok, [d.message for d in result.diagnostics]
    yield result, write_result(ws, result)


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PreviewResult, Path]]:
    tmp = tmp_path_factory.mktemp("staging")
    ws, result = preview_service(tmp, WORKER, environment="staging")
    assert result.ok, [d.message for d in result.diagnostics]
    yield result, write_result(ws, result)


def _manifest(out: Path, kind: str, name: str, namespace: str = "news") -> Any:
    return yaml.safe_load(
        (out / "manifests" / "namespaces" / namespace / kind / f"{name}.yaml").read_text()
    )


def test_every_kubernetes_object_passes_the_schema_check(feed: tuple[PreviewResult, Path]) -> None:
    result, _ = feed
    assert result.exit_code == 0
    kinds = sorted(m.kind for m in result.manifests)
    assert kinds == [
        "ConfigMap",
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Secret",
        "Service",
        "ServiceAccount",
    ]


def test_deployment_has_the_native_envoy_sidecar_and_secure_defaults(
    feed: tuple[PreviewResult, Path],
) -> None:
    _, out = feed
    dep = _manifest(out, "Deployment", "feed")
    pod = dep["spec"]["template"]["spec"]
    (sidecar,) = pod["initContainers"]
    assert sidecar["name"] == "envoy" and sidecar["restartPolicy"] == "Always"
    assert sidecar["image"] == envoy.ENVOY_IMAGE
    assert {p["containerPort"] for p in sidecar["ports"]} == {15001, 15090}
    (app,) = pod["containers"]
    assert app["name"] == "app" and app["image"].endswith("news/feed:1.4.2")
    assert app["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8080}
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert app["startupProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert app["startupProbe"]["failureThreshold"] * app["startupProbe"]["periodSeconds"] == 120
    assert app["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"memory": "256Mi"},
    }
    for container in (app, sidecar):
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] and ctx["readOnlyRootFilesystem"]
        assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "feed"
    assert pod["priorityClassName"] == "service-default"
    zones = [
        c
        for c in pod["topologySpreadConstraints"]
        if c["topologyKey"] == "topology.kubernetes.io/zone"
    ]
    assert (
        zones and zones[0]["labelSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    )
    assert app["lifecycle"]["preStop"] == {"sleep": {"seconds": 5}}
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_grace_period_covers_the_app_and_the_envoy_drain(feed: tuple[PreviewResult, Path]) -> None:
    _, out = feed
    pod = _manifest(out, "Deployment", "feed")["spec"]["template"]["spec"]
    plan = plan_service(good_args(known_contract_for()))
    budget = envoy.shutdown_budget_seconds(plan.envoy)
    # default preStop sleep 5 s + shutdown 20 s, then Envoy's drain budget
    assert pod["terminationGracePeriodSeconds"] == 5 + 20 + budget
    assert pod["terminationGracePeriodSeconds"] >= budget


def test_labels_and_checksum_annotation(feed: tuple[PreviewResult, Path]) -> None:
    _, out = feed
    dep = _manifest(out, "Deployment", "feed")
    template = dep["spec"]["template"]["metadata"]
    for labels in (dep["metadata"]["labels"], template["labels"]):
        assert labels["app.kubernetes.io/name"] == "feed"
        assert labels["app.kubernetes.io/part-of"] == "news"
        assert labels["app.kubernetes.io/version"] == "1.4.2"
        assert labels["team"] == "news"
        assert labels["tags.datadoghq.com/env"] == "prod"
        assert labels["tags.datadoghq.com/service"] == "feed"
        assert labels["tags.datadoghq.com/version"] == "1.4.2"
    checksum = template["annotations"]["eksplatform.io/config-checksum"]
    assert len(checksum) == 64 and int(checksum, 16) >= 0
    assert json.loads(template["annotations"]["ad.datadoghq.com/tags"]) == {"product": "news-feed"}


def _checksum(args: ServiceStackArgs) -> str:
    context = plan_service(args).context
    assert context is not None
    return config_checksum(args, envoy.config_map_data(context.envoy))


def test_checksum_changes_with_config_and_envoy_settings_only() -> None:
    args = good_args(known_contract_for())
    base = _checksum(args)
    assert _checksum(args) == base
    changed = dataclasses.replace(args, config_files={"app.yaml": "x: 2\n"})
    assert _checksum(changed) != base
    timeout = dataclasses.replace(args, envoy=dataclasses.replace(args.envoy, request_timeout_s=30))
    assert _checksum(timeout) != base
    scaled = dataclasses.replace(args, resources=dataclasses.replace(args.resources, cpu="500m"))
    assert _checksum(scaled) == base
    secret = dataclasses.replace(args, secrets={"TOKEN": "hunter2"})
    rotated = dataclasses.replace(args, secrets={"TOKEN": "hunter3"})
    assert _checksum(secret) == _checksum(rotated)  # secret values never reach the annotation


def test_envoy_bootstrap_resolves_dependencies_to_cluster_dns(
    feed: tuple[PreviewResult, Path],
) -> None:
    _, out = feed
    cm = _manifest(out, "ConfigMap", "feed-envoy")
    bootstrap = yaml.safe_load(cm["data"][envoy.ENVOY_CONFIG_KEY])
    hosts = {
        c["name"]: c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
            "socket_address"
        ]
        for c in bootstrap["static_resources"]["clusters"]
        if c["name"].startswith("dep_")
    }
    assert hosts == {
        "dep_users": {"address": "users.news.svc.cluster.local", "port_value": 80},
        "dep_ranker": {"address": "ranker.search-apps.svc.cluster.local", "port_value": 50051},
    }


def test_target_group_port_equals_the_service_node_port(feed: tuple[PreviewResult, Path]) -> None:
    result, out = feed
    svc = _manifest(out, "Service", "feed")
    assert svc["spec"]["type"] == "NodePort"
    (port,) = svc["spec"]["ports"]
    assert port["targetPort"] == "envoy-http" and port["port"] == 80
    assert "nodePort" not in port  # left to the API server
    (allocated,) = _one(result, "kubernetes:core/v1:Service", "feed-service").outputs["spec"][
        "ports"
    ]
    port = {**port, "nodePort": allocated["nodePort"]}
    tg = _inputs(_one(result, "aws:lb/targetGroup:TargetGroup", "feed-tg"))
    assert 30000 <= tg["port"] == port["nodePort"] == result.plain_outputs()["nodePort"] <= 32767
    assert tg["targetType"] == "instance" and tg["healthCheck"]["path"] == "/healthz/envoy"
    assert tg["healthCheck"]["port"] == "traffic-port" and tg["deregistrationDelay"] == 20
    node_rule = _inputs(
        _one(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "feed-nodeport")
    )
    alb_sg = _one(result, "aws:ec2/securityGroup:SecurityGroup", "feed-alb")
    assert node_rule["securityGroupId"] == "sg-nodes"
    assert node_rule["referencedSecurityGroupId"] == alb_sg.id
    assert node_rule["fromPort"] == node_rule["toPort"] == port["nodePort"]
    egress = _inputs(
        _one(result, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "feed-alb-out")
    )
    assert egress["referencedSecurityGroupId"] == "sg-nodes"
    assert egress["fromPort"] == egress["toPort"] == port["nodePort"]
    tg_arn = _one(result, "aws:lb/targetGroup:TargetGroup", "feed-tg").outputs["arn"]
    attachments = result.by_type("aws:autoscaling/attachment:Attachment")
    assert sorted(_inputs(a)["autoscalingGroupName"] for a in attachments) == sorted(ASGS)
    assert {_inputs(a)["lbTargetGroupArn"] for a in attachments} == {tg_arn}


def test_alb_listeners_and_security_group(feed: tuple[PreviewResult, Path]) -> None:
    result, _ = feed
    lb = _inputs(_one(result, "aws:lb/loadBalancer:LoadBalancer", "feed-alb"))
    assert lb["internal"] is False and lb["subnets"] == ["subnet-pub-a", "subnet-pub-b"]
    assert lb["dropInvalidHeaderFields"] is True and lb["enableDeletionProtection"] is True
    assert lb["accessLogs"] == {"bucket": "eks-alb-logs", "enabled": True, "prefix": "news/feed"}
    https = _inputs(_one(result, "aws:lb/listener:Listener", "feed-https"))
    assert https["port"] == 443 and https["protocol"] == "HTTPS"
    assert https["certificateArn"] == CERT
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    http = _inputs(_one(result, "aws:lb/listener:Listener", "feed-http"))
    assert http["defaultActions"][0]["redirect"] == {
        "protocol": "HTTPS",
        "port": "443",
        "statusCode": "HTTP_301",
    }
    rules = [
        _inputs(r)
        for r in result.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if "-alb-in-" in r.urn
    ]
    assert sorted((r["fromPort"], r["cidrIpv4"]) for r in rules) == [
        (80, "0.0.0.0/0"),
        (443, "0.0.0.0/0"),
    ]


def test_role_carries_the_boundary_and_trusts_exactly_the_service_account(
    feed: tuple[PreviewResult, Path],
) -> None:
    result, out = feed
    role = _one(result, "aws:iam/role:Role", "feed-role")
    inputs = _inputs(role)
    assert inputs["permissionsBoundary"] == BOUNDARY
    (statement,) = json.loads(inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": ACCOUNT,
            "aws:RequestTag/eks-cluster-name": "eks-prod",
            "aws:RequestTag/kubernetes-namespace": "news",
            "aws:RequestTag/kubernetes-service-account": "feed",
        }
    }
    association = _one(
        result, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "feed-pod-identity"
    )
    assert _inputs(association) | {"tags": None} == {
        "clusterName": "eks-prod",
        "namespace": "news",
        "serviceAccount": "feed",
        "roleArn": role.outputs["arn"],
        "tags": None,
    }
    policy_step = _one(result, "aws:iam/rolePolicy:RolePolicy", "feed-policy")
    assert policy_step.urn in association.dependencies  # permissions before the first pod
    policy = json.loads(_inputs(policy_step)["policy"])
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
            "Resource": ["arn:aws:dynamodb:eu-west-1:123456789012:table/feed"],
        }
    ]
    deployment = _one(result, "kubernetes:apps/v1:Deployment", "feed-deployment")
    assert association.urn in deployment.dependencies  # credentials are injected at pod creation
    sa = _manifest(out, "ServiceAccount", "feed")
    assert sa["automountServiceAccountToken"] is False
    assert "annotations" not in sa["metadata"]
    assert result.plain_outputs()["roleArn"] == role.outputs["arn"]


def test_secret_values_never_appear_in_clear(feed: tuple[PreviewResult, Path]) -> None:
    result, out = feed
    secret = _manifest(out, "Secret", "feed-secrets")
    assert set(secret["stringData"]) == {"API_TOKEN", "DB_PASSWORD"}
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET_VALUE not in path.read_text(), path
    dep = _manifest(out, "Deployment", "feed")
    env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "feed-secrets",
        "key": "DB_PASSWORD",
    }
    assert env["LOG_LEVEL"] == {"name": "LOG_LEVEL", "value": "info"}
    secret_step = _one(result, "kubernetes:core/v1:Secret", "feed-secrets")
    assert is_secret(secret_step.inputs["stringData"])  # the engine saw it marked secret


def test_hpa_behaviour_metrics_and_prescale_labels(feed: tuple[PreviewResult, Path]) -> None:
    _, out = feed
    hpa = _manifest(out, "HorizontalPodAutoscaler", "feed")
    assert hpa["metadata"]["labels"]["eksplatform.io/prescale"] == "true"
    assert hpa["metadata"]["labels"]["eksplatform.io/prescale-factor"] == "10"
    spec = hpa["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 30)
    assert [m["type"] for m in spec["metrics"]] == ["Resource", "Pods"]
    assert spec["metrics"][1]["pods"]["metric"]["name"] == "requests_per_second"
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    pdb = _manifest(out, "PodDisruptionBudget", "feed")
    assert pdb["spec"]["maxUnavailable"] == 1


def test_alarms_notify_the_team_topic(feed: tuple[PreviewResult, Path]) -> None:
    result, _ = feed
    alarms = [_inputs(a) for a in result.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    assert len(alarms) == 3
    for alarm in alarms:
        assert alarm["alarmActions"] == [TOPICS["news"]] and alarm["okActions"] == [TOPICS["news"]]
    by_name = {a["alarmDescription"].split(":")[1].strip(): a for a in alarms}
    rate = next(a for a in alarms if "metricQueries" in a)
    assert rate["threshold"] == 5 and rate["metricQueries"][-1]["returnData"] is True
    assert any(a.get("extendedStatistic") == "p99" for a in alarms), by_name


def test_ecr_repository_is_immutable_scanned_and_encrypted(
    feed: tuple[PreviewResult, Path],
) -> None:
    result, _ = feed
    repo = _inputs(_one(result, "aws:ecr/repository:Repository", "feed-ecr"))
    assert repo["name"] == "news/feed" and repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    policy = json.loads(
        _inputs(_one(result, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "feed-ecr-lifecycle"))[
            "policy"
        ]
    )
    assert policy["rules"][-1]["selection"]["countNumber"] == 30
    assert result.plain_outputs()["ecrRepositoryUrl"].endswith("/news/feed")


def test_every_taggable_aws_resource_has_the_company_tags(feed: tuple[PreviewResult, Path]) -> None:
    result, _ = feed
    untaggable = {
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:autoscaling/attachment:Attachment",
    }
    aws_resources = [r for r in result.resources if r.type.startswith("aws:")]
    assert len(aws_resources) == 20  # 3 ASG attachments, 3 alarms, 4 SG rules, ...
    for r in aws_resources:
        if r.type in untaggable:
            continue
        tags = _inputs(r)["tags"]
        assert tags["team"] == "news" and tags["environment"] == "prod", r.urn
        assert tags["cost-centre"] == "cc-4242" and tags["service"] == "feed", r.urn
        assert tags["product"] == "news-feed", r.urn


def test_fixed_count_worker_with_vpa_and_no_ingress(staging: tuple[PreviewResult, Path]) -> None:
    result, out = staging
    assert result.exit_code == 0
    outputs = result.plain_outputs()
    assert outputs["workerHasNoEcr"] is True and outputs["workerHasNoAlb"] is True
    assert outputs["workerNodePort"] == 31000
    vpa = _manifest(out, "VerticalPodAutoscaler", "worker")
    assert vpa["apiVersion"] == "autoscaling.k8s.io/v1"
    assert vpa["spec"]["targetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "worker",
    }
    assert vpa["spec"]["updatePolicy"] == {"updateMode": "Recreate"}
    app_policy, envoy_policy = vpa["spec"]["resourcePolicy"]["containerPolicies"]
    assert app_policy["maxAllowed"] == {"memory": "2Gi"}
    assert envoy_policy == {"containerName": "envoy", "mode": "Off"}
    dep = _manifest(out, "Deployment", "worker")
    assert dep["spec"]["replicas"] == 2
    assert _manifest(out, "Service", "worker")["spec"]["ports"][0]["nodePort"] == 31000
    names = {r.urn.rsplit("::", 1)[-1] for r in result.resources}
    assert "worker-hpa" not in names and "worker-alb" not in names and "worker-ecr" not in names


def test_internal_alb_without_certificate_in_staging(staging: tuple[PreviewResult, Path]) -> None:
    result, _ = staging
    lb = _inputs(_one(result, "aws:lb/loadBalancer:LoadBalancer", "search-api-alb"))
    assert lb["internal"] is True and lb["subnets"] == ["subnet-priv-a", "subnet-priv-b"]
    assert lb["enableDeletionProtection"] is False
    listeners = [r for r in result.by_type("aws:lb/listener:Listener") if "search-api" in r.urn]
    assert [(_inputs(r)["port"], _inputs(r)["defaultActions"][0]["type"]) for r in listeners] == [
        (80, "forward")
    ]
    rules = [
        _inputs(r)
        for r in result.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if "search-api-alb-in-" in r.urn
    ]
    assert [(r["fromPort"], r["cidrIpv4"]) for r in rules] == [(80, "10.20.0.0/16")]
    alarms = [
        a for a in result.by_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "search-api" in a.urn
    ]
    assert {tuple(_inputs(a)["alarmActions"]) for a in alarms} == {(TOPICS["search"],)}
    role = _inputs(_one(result, "aws:iam/role:Role", "search-api-role"))
    condition = json.loads(role["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert condition["aws:RequestTag/kubernetes-namespace"] == "search-apps"
    assert condition["aws:RequestTag/kubernetes-service-account"] == "search-api"
    assert condition["aws:RequestTag/eks-cluster-name"] == "eks-staging"


REFERENCE_PROGRAM = """
import pulumi
from eksplatform.service import ServiceStack, ServiceStackArgs

svc = ServiceStack("worker", ServiceStackArgs(team="news", image="ghcr.io/news/worker:2.0.0", port=9000))
pulumi.export("namespace", svc.namespace)
pulumi.export("roleArn", svc.role_arn)
"""

REFERENCE_STACK = (
    'config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ["111111111111"]\n'
    "  worker:clusterStack: organization/eks-platform/staging\n"
    # the cluster's agents send to Datadog's EU site: the monitors are created there
    "  datadog:apiUrl: https://api.datadoghq.eu/\n"
)


def test_from_the_cluster_stack_named_in_the_stack_config(tmp_path: Path) -> None:
    """The path a service repo takes: no cluster argument, no name, no facts; the contract comes
    from the cluster stack's outputs named by ``clusterStack``."""
    ws: Workspace = make_workspace(tmp_path / "ws")
    write_program(
        tmp_path / "ws" / "services" / "worker",
        project="worker",
        main=REFERENCE_PROGRAM,
        stacks={
            "staging": REFERENCE_STACK,
            "payments": REFERENCE_STACK,
            "elsewhere": REFERENCE_STACK.replace("eu-west-1", "us-east-1").replace(
                "111111111111", "222222222222"
            ),
        },
    )
    from eksplatform.preview.engine import run_preview

    result = run_preview(ws, "services/worker", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    cluster = json.loads((ws.out_dir("cluster", "staging") / "stack-output.json").read_text())
    boundary = cluster["permissionsBoundaryArn"]
    role = _inputs(_one(result, "aws:iam/role:Role", "worker-role"))
    assert boundary and role["permissionsBoundary"] == boundary
    assert role["tags"]["cost-centre"] == cluster["costCentre"]
    assert result.plain_outputs()["namespace"] == cluster["teamNamespaces"]["news"]
    association = _inputs(
        _one(
            result,
            "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            "worker-pod-identity",
        )
    )
    assert association["clusterName"] == cluster["clusterName"]
    role_deps = _one(result, "aws:iam/role:Role", "worker-role").dependencies
    assert any(d.endswith("pulumi:pulumi:StackReference::cluster-staging") for d in role_deps)

    # The same program, a team the cluster does not have: refused before anything registers.
    (ws.root / "services" / "worker" / "__main__.py").write_text(
        REFERENCE_PROGRAM.replace('team="news"', 'team="payments"')
    )
    refused = run_preview(ws, "services/worker", "payments")
    assert refused.exit_code == 2 and refused.registered_before_error == []
    assert [d.message for d in refused.diagnostics if d.severity == "error"] == [
        "ServiceStack 'worker': 1 problem:\n"
        "  - team: got 'payments': is not a team of the cluster stack "
        "'organization/eks-platform/staging' (teams: media, news): fix the name, or ask the "
        "platform team to add it to platform:teams of the cluster stack"
    ]
    # ...and a stack file in another region and account than the cluster's.
    elsewhere = run_preview(ws, "services/worker", "elsewhere")
    assert elsewhere.exit_code == 2 and elsewhere.registered_before_error == []
    assert [d.message for d in elsewhere.diagnostics if d.severity == "error"] == [
        "ServiceStack 'worker': 3 problems:\n"
        "  - team: got 'payments': is not a team of the cluster stack "
        "'organization/eks-platform/staging' (teams: media, news): fix the name, or ask the "
        "platform team to add it to platform:teams of the cluster stack\n"
        "  - aws:region: got 'us-east-1': the cluster stack 'organization/eks-platform/staging' "
        "is in eu-west-1: a service's AWS resources live in its cluster's region; set "
        "'aws:region: eu-west-1' in the service's stack file\n"
        "  - aws:allowedAccountIds: got ['222222222222']: the cluster stack "
        "'organization/eks-platform/staging' is in account 111111111111: a service deploys only "
        "into its cluster's account; set 'aws:allowedAccountIds: [\"111111111111\"]' in the "
        "service's stack file"
    ]


def test_services_of_one_program_share_one_kubernetes_provider(
    staging: tuple[PreviewResult, Path],
) -> None:
    result, _ = staging
    (provider,) = result.by_type("pulumi:providers:kubernetes")
    assert provider.name == "cluster-k8s" and provider.parent.endswith(
        "pulumi:pulumi:Stack::svc-staging"
    )
    kubernetes = [r for r in result.resources if r.type.startswith("kubernetes:")]
    assert {r.urn.rsplit("::", 1)[-1].split("-")[0] for r in kubernetes} >= {"worker", "search"}
    assert {r.provider.rsplit("::", 1)[0] for r in kubernetes} == {provider.urn}

"""The bad ServiceStack inputs the tests feed in, each with the exact problems it must produce.

Shared by the pure validation tests and the offline-preview tests (the preview program imports
this module), so both prove the same list.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from eksplatform.service import (
    Alarms,
    Autoscaling,
    Dependency,
    EnvoyOptions,
    IamStatement,
    Ingress,
    PreScaling,
    Probes,
    Resources,
    ServiceStackArgs,
    Vpa,
)

from tests.service.programs import CERT, ECR_IMAGE


def good_args(cluster: Any) -> ServiceStackArgs:
    """A valid prod service; every case changes one thing."""
    return ServiceStackArgs(name="feed", team="news", image=ECR_IMAGE, port=8080, cluster=cluster)


def apply_case(args: ServiceStackArgs, changes: dict[str, Any]) -> ServiceStackArgs:
    """``args`` with a case's changes (``cluster_facts`` replaces the contract's facts)."""
    changes = dict(changes)
    if "cluster_facts" in changes:
        cluster = dataclasses.replace(args.cluster, facts=changes.pop("cluster_facts"))
        args = dataclasses.replace(args, cluster=cluster)
    return dataclasses.replace(args, **changes)


CASES: dict[str, dict[str, Any]] = {
    "name-not-dns": dict(name="Feed_API"),
    "name-too-long": dict(name="a" * 41),
    "team-not-dns": dict(team="News"),
    "team-unknown": dict(team="payments"),
    "image-no-registry": dict(image="feed:1.4.2"),
    "image-no-tag": dict(image="registry.example.com/news/feed"),
    "image-latest": dict(image="registry.example.com/news/feed:latest"),
    "port-zero": dict(port=0),
    "port-too-big": dict(port=70000),
    "port-envoy-ingress": dict(port=15001),
    "port-envoy-admin": dict(port=15000),
    "egress-port-collides": dict(dependencies=[Dependency(name="users", egress_port=8080)]),
    "node-port-range": dict(node_port=8080),
    "min-above-max": dict(autoscaling=Autoscaling(min_replicas=5, max_replicas=3)),
    "prod-one-replica": dict(autoscaling=None, replicas=1),
    "prod-min-one": dict(autoscaling=Autoscaling(min_replicas=1)),
    "hpa-no-metric": dict(autoscaling=Autoscaling(cpu_target_percent=None)),
    "cpu-100x": dict(resources=Resources(cpu="100x")),
    "memory-bad": dict(resources=Resources(memory="lots")),
    "memory-limit-below": dict(resources=Resources(memory="256Mi", memory_limit="128Mi")),
    "cpu-limit-below": dict(resources=Resources(cpu="250m", cpu_limit="100m")),
    "dependency-self": dict(dependencies=[Dependency(name="feed")]),
    "dependency-unknown-team": dict(dependencies=[Dependency(name="billing", team="payments")]),
    "dependency-duplicate": dict(
        dependencies=[Dependency(name="users"), Dependency(name="users", team="search")]
    ),
    "ingress-no-cert-prod": dict(ingress=Ingress(public=True)),
    "ingress-bad-cert": dict(
        ingress=Ingress(certificate_arn="arn:aws:iam::123:server-certificate/x")
    ),
    "ingress-cidr-host-bits": dict(
        ingress=Ingress(certificate_arn=CERT, allowed_cidrs=["10.0.0.1/8"])
    ),
    "ingress-old-tls": dict(
        ingress=Ingress(certificate_arn=CERT, ssl_policy="ELBSecurityPolicy-2016-08")
    ),
    "ingress-idle-above-envoy": dict(ingress=Ingress(certificate_arn=CERT, idle_timeout_s=80)),
    "hpa-vpa-same-metric": dict(vpa=Vpa()),
    "prescaling-without-hpa": dict(autoscaling=None, prescaling=PreScaling()),
    "prescaling-factor": dict(prescaling=PreScaling(factor=1)),
    "iam-star": dict(iam_statements=[IamStatement(actions=["*"], resources=["*"])]),
    "iam-service-star": dict(
        iam_statements=[IamStatement(actions=["s3:*"], resources=["arn:aws:s3:::b/*"])]
    ),
    "iam-write": dict(
        iam_statements=[
            IamStatement(actions=["iam:CreateUser"], resources=["arn:aws:iam::123456789012:user/x"])
        ]
    ),
    "iam-star-resource-write": dict(
        iam_statements=[IamStatement(actions=["dynamodb:PutItem"], resources=["*"])]
    ),
    "env-name": dict(env={"MY-VAR": "1"}),
    "env-not-a-string": dict(env={"WORKERS": 4}),
    "secret-in-env": dict(env={"TOKEN": "x"}, secrets={"TOKEN": "y"}),
    "config-file-name": dict(config_files={"conf/app.yaml": "x"}),
    "config-mount-reserved": dict(config_files={"app.yaml": "x"}, config_mount_path="/etc/envoy"),
    "run-as-root": dict(run_as_user=0),
    "company-tag": dict(tags={"team": "other"}),
    "ecr-not-ecr": dict(image="ghcr.io/news/feed:1.4.2", ecr=True),
    "alarms-datapoints": dict(alarms=Alarms(evaluation_periods=2, datapoints_to_alarm=3)),
    "probe-path": dict(probes=Probes(readiness_path="ready")),
    "envoy-drain": dict(envoy=EnvoyOptions(drain_time_s=0)),
    "vpa-bad-quantity": dict(autoscaling=None, vpa=Vpa(min_cpu="1x")),
    "no-facts": {"cluster_facts": None},
}
"""Case name -> changes to :func:`good_args`."""

EXPECTED: dict[str, list[str]] = {
    "name-not-dns": [
        "name: got 'Feed_API': must be a DNS label: 1-40 lowercase letters, digits or '-', starting with a letter",
    ],
    "name-too-long": [
        "name: got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': must be a DNS label: 1-40 lowercase letters, digits or '-', starting with a letter",
    ],
    "team-not-dns": [
        "team: got 'News': must be a DNS label: 1-63 lowercase letters, digits or '-', starting with a letter",
    ],
    "team-unknown": [
        "team: got 'payments': is not a team of this cluster (known: news, search): fix the name, or add the team to the cluster's team namespaces and to cluster.facts",
    ],
    "image-no-registry": [
        "image: got 'feed:1.4.2': must be 'registry/repository:tag' or 'registry/repository@sha256:<64 hex>' (e.g. '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2')",
    ],
    "image-no-tag": [
        "image: got 'registry.example.com/news/feed': has no tag: pin a version tag or a digest (never a moving tag)",
    ],
    "image-latest": [
        "image: got 'registry.example.com/news/feed:latest': 'latest' is a moving tag (rollbacks and pod restarts get other code): pin a version tag or a digest",
    ],
    "port-zero": [
        "port: got 0: must be an integer port 1-65535",
    ],
    "port-too-big": [
        "port: got 70000: must be an integer port 1-65535",
    ],
    "port-envoy-ingress": [
        "port: got 15001: collides with envoy.ingress_port (15001): the app and Envoy share the pod's network; pick another port",
    ],
    "port-envoy-admin": [
        "port: got 15000: collides with envoy.admin_port (15000): the app and Envoy share the pod's network; pick another port",
    ],
    "egress-port-collides": [
        "dependencies[0].egress_port: got 8080: collides with port (8080); every local port (app, ingress, admin, stats, egress) must be distinct: pick a free port",
    ],
    "node-port-range": [
        "node_port: got 8080: must be an integer from 30000 to 32767",
    ],
    "min-above-max": [
        "autoscaling.min_replicas: got 5: is above autoscaling.max_replicas (3): lower it or raise the max",
    ],
    "prod-one-replica": [
        "replicas: got 1: prod runs at least 2 pods (one per zone failure)",
    ],
    "prod-min-one": [
        "autoscaling.min_replicas: got 1: prod runs at least 2 pods (one per zone failure)",
    ],
    "hpa-no-metric": [
        "autoscaling.cpu_target_percent: got None: the HPA scales on nothing: set cpu_target_percent, memory_target_percent or metrics, or use autoscaling=None with a fixed replicas count",
    ],
    "cpu-100x": [
        "resources.cpu: got '100x': write millicores like '250m' or cores like '0.5'",
    ],
    "memory-bad": [
        "resources.memory: got 'lots': write it like '128Mi' or '1Gi'",
    ],
    "memory-limit-below": [
        "resources.memory_limit: got '128Mi': is below the request (256Mi): raise it to at least the request, or leave it None (limit = request)",
    ],
    "cpu-limit-below": [
        "resources.cpu_limit: got '100m': is below the request (250m): raise it to at least the request, or leave it None (no CPU limit)",
    ],
    "dependency-self": [
        "dependencies[0].name: got 'feed': is this service itself: call your own code directly, not through Envoy",
    ],
    "dependency-unknown-team": [
        "dependencies[0].team: got 'payments': is not a team of this cluster (known: news, search): fix the name, add the team to cluster.facts, or set the dependency's namespace",
    ],
    "dependency-duplicate": [
        "dependencies[1].name: got 'users': duplicates dependencies[0].name; each dependency needs a unique name",
    ],
    "ingress-no-cert-prod": [
        "ingress.certificate_arn: got None: prod ALBs serve HTTPS only: give the ACM certificate ARN of the service's domain",
    ],
    "ingress-bad-cert": [
        "ingress.certificate_arn: got 'arn:aws:iam::123:server-certificate/x': must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>",
    ],
    "ingress-cidr-host-bits": [
        "ingress.allowed_cidrs[0]: got '10.0.0.1/8': must be an IPv4 CIDR with no host bits set, e.g. '10.0.0.0/8'",
    ],
    "ingress-old-tls": [
        "ingress.ssl_policy: got 'ELBSecurityPolicy-2016-08': must be a TLS 1.3 policy: one of ELBSecurityPolicy-TLS13-1-2-2021-06, ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04, ELBSecurityPolicy-TLS13-1-2-PQ-2025-09, ELBSecurityPolicy-TLS13-1-2-Res-2021-06, ELBSecurityPolicy-TLS13-1-3-2021-06, ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04, ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    ],
    "ingress-idle-above-envoy": [
        "ingress.idle_timeout_s: got 80: must be below envoy.idle_timeout_s (75.0): the ALB must close idle connections before Envoy does, or clients get 502s",
    ],
    "hpa-vpa-same-metric": [
        "vpa.controlled_resources: got ('cpu', 'memory'): the HPA also scales on cpu (autoscaling.cpu_target_percent=70): HPA and VPA would fight over it; drop 'cpu' here, or scale the HPA on another metric",
    ],
    "prescaling-without-hpa": [
        "prescaling: got PreScaling(factor=10): pre-scaling raises the HPA's floor: it needs autoscaling (not None)",
    ],
    "prescaling-factor": [
        "prescaling.factor: got 1: must be an integer from 2 to 100",
    ],
    "iam-star": [
        "iam_statements[0].actions[0]: got '*': must be one IAM action 'service:Action' (no '*' for every service)",
    ],
    "iam-service-star": [
        "iam_statements[0].actions[0]: got 's3:*': grants every s3 action: list the actions the service calls",
    ],
    "iam-write": [
        "iam_statements[0].actions[0]: got 'iam:CreateUser': service roles may not change IAM, STS, accounts or organizations (the permissions boundary denies it anyway): ask the platform team",
    ],
    "iam-star-resource-write": [
        "iam_statements[0].resources[0]: got '*': '*' is every resource, and dynamodb:PutItem changes table resources: name their ARNs ('*' is only for actions that take no resource or only list names)",
    ],
    "env-name": [
        "env['MY-VAR']: got 'MY-VAR': must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*",
    ],
    "env-not-a-string": [
        "env['WORKERS']: got 4: must be a string or a pulumi Output of one (quote numbers and booleans)",
    ],
    "secret-in-env": [
        "secrets['TOKEN']: got 'TOKEN': is also in env: a variable comes from one place; remove one of them",
    ],
    "config-file-name": [
        "config_files['conf/app.yaml']: got 'conf/app.yaml': must be a file name of letters, digits, '-', '_' or '.' (no '/')",
    ],
    "config-mount-reserved": [
        "config_mount_path: got '/etc/envoy': is reserved (/tmp, /etc/envoy are mounted already): pick another path",
    ],
    "run-as-root": [
        "run_as_user: got 0: must be a non-root uid (1 or more): Pod Security 'restricted' refuses root",
    ],
    "company-tag": [
        "tags['team']: got 'other': is a company tag the platform sets: remove it",
    ],
    "ecr-not-ecr": [
        "ecr: got True: the image is not in an ECR registry (ghcr.io): use an '<account>.dkr.ecr.<region>.amazonaws.com/...' image or leave ecr None",
    ],
    "alarms-datapoints": [
        "alarms.datapoints_to_alarm: got 3: must not exceed alarms.evaluation_periods (2)",
    ],
    "probe-path": [
        "probes.readiness_path: got 'ready': must be a URL path starting with '/' without spaces, '?' or '#'",
    ],
    "envoy-drain": [
        "envoy.drain_time_s: got 0: must be an integer 1-300",
    ],
    "vpa-bad-quantity": [
        "vpa.min_cpu: got '1x': write millicores like '250m' or cores like '0.5'",
    ],
    "no-facts": [
        "cluster.facts: missing: build the contract with facts: ClusterOutputs.from_stack_reference(ref, facts=ClusterFacts(environment=..., team_namespaces={...}))",
    ],
}
"""Case name -> the exact problems (``str(Problem)``) in order."""

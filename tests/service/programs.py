"""Scratch service programs for the ServiceStack tests, previewed offline.

The contract is built from plain values inside the program (``ClusterOutputs.from_values``: the
shape of a contract file, known before registration), so the tests do not depend on the cluster
program wiring every contract field; the tests of ``clusterStack`` go through the real cluster
preview instead.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

from eksplatform.core.contract import CONTRACT_VERSION, ClusterFacts, ClusterOutputs
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview

from tests.conftest import make_workspace, write_program

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/eksplatform/eks-test-service-boundary"
OIDC_URL = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_URL}"
CERT = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/12345678-1234-1234-1234-123456789012"
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2"
TEAMS = {"news": "news", "search": "search-apps"}
TOPICS = {t: f"arn:aws:sns:eu-west-1:{ACCOUNT}:{t}-alerts" for t in TEAMS}
ASGS = ["general-eu-west-1a", "general-eu-west-1b", "spot-eu-west-1a"]
PRESCALE_TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:eks-prod-prescale"
ALL_METRICS_APIS = ("metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io")
"""The scratch contract's cluster serves every metrics API (as with metrics adapters), so HPA
rendering tests may use every metric type; tests/prescaler narrows it."""
STACK_CONFIG = (
    f'config:\n  aws:region: {REGION}\n  aws:allowedAccountIds: ["{ACCOUNT}"]\n'
    "  datadog:apiKey:\n    secure: v1:dGVzdA==:ZGQtYXBp\n"
    "  datadog:appKey:\n    secure: v1:dGVzdA==:ZGQtYXBw\n"
)
"""The platform keys every service stack sets (the cluster is in this region and account),
and the Datadog provider's keys its monitors need (secure placeholders, unknown offline)."""


def contract_values(
    environment: str = "prod", *, teams: dict[str, str] | None = None, **changes: Any
) -> dict[str, Any]:
    """A complete contract (camelCase outputs, as a contract file holds them)."""
    teams = TEAMS if teams is None else teams
    values: dict[str, Any] = {
        "contractVersion": CONTRACT_VERSION,
        "clusterName": f"eks-{environment}",
        "region": REGION,
        "accountId": ACCOUNT,
        "environment": environment,
        "kubernetesVersion": "1.31",
        "endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "certificateAuthority": "Y2E=",
        "kubeconfig": "{}",
        "oidcProviderArn": OIDC_ARN,
        "oidcProviderUrl": OIDC_URL,
        "vpcId": "vpc-0abc",
        "vpcCidr": "10.20.0.0/16",
        "availabilityZones": ["eu-west-1a", "eu-west-1b"],
        "publicSubnetIds": ["subnet-pub-a", "subnet-pub-b"],
        "privateSubnetIds": ["subnet-priv-a", "subnet-priv-b"],
        "clusterSecurityGroupId": "sg-cluster",
        "nodeSecurityGroupId": "sg-nodes",
        "costCentre": "cc-4242",
        "nodePoolAsgNames": ASGS,
        "capacityTypeLabel": "eksplatform.io/capacity-type",
        "nodePoolLabel": "eksplatform.io/node-pool",
        "headroomNamespace": "headroom",
        "headroomDeploymentName": "headroom",
        "headroomLabels": {},
        "teamNamespaces": teams,
        "permissionsBoundaryArn": BOUNDARY,
        "albLogBucket": "eks-alb-logs",
        "teamAlertTopicArns": {t: TOPICS.get(t, f"arn:aws:sns:x:{ACCOUNT}:{t}") for t in teams},
        "prescaleTopicArn": PRESCALE_TOPIC,
        "metricsApis": list(ALL_METRICS_APIS),
        "datadogSite": "datadoghq.com",
        "teamMonitorChannels": {t: f"@{t}-oncall@example.com" for t in teams},
    }
    values.update(changes)
    return values


CONTRACT = """
import pulumi

from eksplatform.service import *
from eksplatform.core.contract import ClusterOutputs

cluster = ClusterOutputs.from_values({values!r})
"""


def contract_source(environment: str = "prod", **changes: Any) -> str:
    """Program text defining ``cluster`` (a contract known before registration)."""
    return CONTRACT.format(values=contract_values(environment, **changes))


def preview_service(
    tmp: Path,
    body: str,
    *,
    environment: str = "prod",
    config: str = "",
    contract: str | None = None,
    stack_config: str = STACK_CONFIG,
) -> tuple[Workspace, PreviewResult]:
    """Preview a scratch service program: the contract, then ``body``."""
    ws = make_workspace(tmp / "ws", with_cluster=False)
    write_program(
        tmp / "ws" / "services" / "svc",
        project="svc",
        main=(contract_source(environment) if contract is None else contract) + body,
        stacks={environment: stack_config + config},
    )
    return ws, run_preview(ws, "services/svc", environment)


def known_contract_for(environment: str = "prod", teams: dict[str, str] | None = None) -> Any:
    """A ClusterOutputs for pure validation tests: the known values only (validation reads
    nothing else; its Outputs are not needed outside a Pulumi run)."""
    values = {
        f.name: cast(Any, None)
        for f in dataclasses.fields(ClusterOutputs)
        if f.init and f.name not in ("facts", "known", "stack_reference")
    }
    return ClusterOutputs(**values, known=contract_values(environment, teams=teams))


def facts_contract(environment: str = "prod", teams: dict[str, str] | None = None) -> Any:
    """A ClusterOutputs with the deprecated ClusterFacts only (no known contract)."""
    values = {
        f.name: cast(Any, None)
        for f in dataclasses.fields(ClusterOutputs)
        if f.init and f.name not in ("facts", "known", "stack_reference")
    }
    return ClusterOutputs(
        **values,
        facts=ClusterFacts(
            environment=environment, team_namespaces=TEAMS if teams is None else teams
        ),
    )

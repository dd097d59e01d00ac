"""Scratch service programs for the ServiceStack tests, previewed offline.

The contract is built from plain values inside the program (``pulumi.Output.from_input``), so the
tests do not depend on the cluster program wiring every contract field; one test also goes
through ``ClusterOutputs.from_stack_reference`` against the real cluster preview.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

from eksplatform.core.contract import ClusterFacts, ClusterOutputs
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview

from tests.conftest import make_workspace, write_program

ACCOUNT = "123456789012"
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

CONTRACT = """
import pulumi

from eksplatform.service import *


def _o(v):
    return pulumi.Output.from_input(v)


ENVIRONMENT = {environment!r}
cluster = ClusterOutputs(
    cluster_name=_o("eks-" + {cluster_environment!r}),
    region=_o("eu-west-1"),
    account_id=_o({account!r}),
    environment=_o({cluster_environment!r}),
    kubernetes_version=_o("1.31"),
    endpoint=_o("https://ABC.gr7.eu-west-1.eks.amazonaws.com"),
    certificate_authority=_o("Y2E="),
    kubeconfig=pulumi.Output.secret("{{}}"),
    oidc_provider_arn=_o({oidc_arn!r}),
    oidc_provider_url=_o({oidc_url!r}),
    vpc_id=_o("vpc-0abc"),
    vpc_cidr=_o("10.20.0.0/16"),
    availability_zones=_o(["eu-west-1a", "eu-west-1b"]),
    public_subnet_ids=_o(["subnet-pub-a", "subnet-pub-b"]),
    private_subnet_ids=_o(["subnet-priv-a", "subnet-priv-b"]),
    cluster_security_group_id=_o("sg-cluster"),
    node_security_group_id=_o("sg-nodes"),
    cost_centre=_o("cc-4242"),
    node_pool_asg_names=_o({asgs!r}),
    capacity_type_label=_o("eksplatform.io/capacity-type"),
    node_pool_label=_o("eksplatform.io/node-pool"),
    headroom_namespace=_o("headroom"),
    headroom_deployment_name=_o("headroom"),
    headroom_labels=_o({{}}),
    team_namespaces=_o({teams!r}),
    permissions_boundary_arn=_o({boundary!r}),
    alb_log_bucket=_o("eks-alb-logs"),
    team_alert_topic_arns=_o({topics!r}),
    prescale_topic_arn=_o({prescale_topic!r}),
    metrics_apis=_o({metrics_apis!r}),
    facts=ClusterFacts(environment=ENVIRONMENT, team_namespaces={fact_teams!r}),
)
"""


def contract_source(
    environment: str = "prod",
    *,
    cluster_environment: str | None = None,
    fact_teams: dict[str, str] | None = None,
    prescale_topic: str = PRESCALE_TOPIC,
    metrics_apis: tuple[str, ...] = ALL_METRICS_APIS,
) -> str:
    """Program text defining ``cluster`` (a ClusterOutputs with facts)."""
    return CONTRACT.format(
        prescale_topic=prescale_topic,
        metrics_apis=list(metrics_apis),
        environment=environment,
        cluster_environment=cluster_environment or environment,
        account=ACCOUNT,
        oidc_arn=OIDC_ARN,
        oidc_url=OIDC_URL,
        asgs=ASGS,
        teams=TEAMS,
        boundary=BOUNDARY,
        topics=TOPICS,
        fact_teams=TEAMS if fact_teams is None else fact_teams,
    )


def preview_service(
    tmp: Path,
    body: str,
    *,
    environment: str = "prod",
    cluster_environment: str | None = None,
    config: str = "",
    contract: dict[str, Any] | None = None,
) -> tuple[Workspace, PreviewResult]:
    """Preview a scratch service program: the contract (``contract``: more arguments of
    :func:`contract_source`), then ``body``."""
    ws = make_workspace(tmp / "ws", with_cluster=False)
    write_program(
        tmp / "ws" / "services" / "svc",
        project="svc",
        main=contract_source(
            environment, cluster_environment=cluster_environment, **(contract or {})
        )
        + body,
        stacks={environment: "config:\n  aws:region: eu-west-1\n" + config},
    )
    return ws, run_preview(ws, "services/svc", environment)


def facts_contract(environment: str = "prod", teams: dict[str, str] | None = None) -> Any:
    """A ClusterOutputs for pure validation tests: facts only (validation reads nothing else)."""
    values = {
        f.name: cast(Any, None)
        for f in dataclasses.fields(ClusterOutputs)
        if f.init and f.name != "facts"
    }
    return ClusterOutputs(
        **values,
        facts=ClusterFacts(
            environment=environment, team_namespaces=TEAMS if teams is None else teams
        ),
    )

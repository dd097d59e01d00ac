"""Team namespaces: restricted namespaces with quota, limits, network policies and
namespace-scoped EKS access, from the stack files; bad team config gets exact messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.teams import (
    EDIT_POLICY_ARN,
    ENVOY_INGRESS_PORT,
    TEAM_LABEL,
    TeamConfig,
    TeamNamespacesArgs,
    validate_team_namespaces_args,
)
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview

from tests.conftest import make_workspace

Preview = Callable[[str], PreviewResult]


def _objects(result: PreviewResult, namespace: str, kind: str) -> dict[str, dict[str, Any]]:
    return {m.name: m.body for m in result.manifests if m.namespace == namespace and m.kind == kind}


def _problems(teams: object, **extra: object) -> list[str]:
    raw = {"aws:region": "eu-west-1", "platform:teams": json.dumps(teams)}
    raw.update({k: json.dumps(v) for k, v in extra.items()})
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(raw, stack="staging", source="Pulumi.staging.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_each_stack_has_the_news_and_media_namespaces(cluster_preview: Preview, stack: str) -> None:
    result = cluster_preview(stack)
    assert result.plain_outputs()["teamNamespaces"] == {"news": "news", "media": "media"}
    for team in ("news", "media"):
        (ns,) = [m.body for m in result.manifests if m.kind == "Namespace" and m.name == team]
        labels = ns["metadata"]["labels"]
        assert labels[TEAM_LABEL] == team
        for mode in ("enforce", "warn", "audit"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_quota_and_limit_range_follow_the_stack_file(cluster_preview: Preview) -> None:
    prod = cluster_preview("prod")
    assert _objects(prod, "news", "ResourceQuota")["team-quota"]["spec"]["hard"] == {
        "requests.cpu": "32",
        "requests.memory": "64Gi",
        "limits.memory": "64Gi",
        "pods": "200",
        "services": "20",
        "services.nodeports": "20",
        "services.loadbalancers": "0",
    }
    staging = cluster_preview("staging")
    assert _objects(staging, "media", "ResourceQuota")["team-quota"]["spec"]["hard"]["pods"] == "40"
    (limits,) = _objects(prod, "news", "LimitRange")["team-limits"]["spec"]["limits"]
    assert limits == {
        "type": "Container",
        "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
        "default": {"memory": "256Mi"},
        "max": {"memory": "8Gi"},
    }
    # no CPU limit or max: a LimitRange max.cpu would inject a CPU limit into every container
    assert "cpu" not in limits["default"] and "cpu" not in limits["max"]


def test_network_policies_deny_by_default_and_allow_what_services_need(
    cluster_preview: Preview,
) -> None:
    result = cluster_preview("prod")
    news = _objects(result, "news", "NetworkPolicy")
    assert sorted(news) == [
        "allow-alb-ingress",
        "allow-aws-egress",
        "allow-dns",
        "allow-from-namespaces",
        "allow-same-namespace",
        "default-deny",
    ]
    for body in news.values():
        assert body["spec"]["podSelector"] == {}
    deny = news["default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny and "egress" not in deny
    same = news["allow-same-namespace"]["spec"]
    assert same["ingress"] == [{"from": [{"podSelector": {}}]}]
    assert same["egress"] == [{"to": [{"podSelector": {}}]}]
    dns = news["allow-dns"]["spec"]["egress"]
    assert dns == [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ]
    alb = news["allow-alb-ingress"]["spec"]["ingress"]
    assert ENVOY_INGRESS_PORT == 15001
    assert alb == [
        {
            "from": [{"ipBlock": {"cidr": "10.40.0.0/16"}}],
            "ports": [{"protocol": "TCP", "port": 15001}],
        }
    ]
    egress = news["allow-aws-egress"]["spec"]["egress"]
    assert egress[0] == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    }
    assert egress[1]["to"] == [{"ipBlock": {"cidr": "169.254.170.23/32"}}]
    # news accepts calls from media; media may call out to news and accepts nobody else
    assert news["allow-from-namespaces"]["spec"]["ingress"] == [
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "media"}}}]}
    ]
    media = _objects(result, "media", "NetworkPolicy")
    assert "allow-from-namespaces" not in media
    assert media["allow-to-namespaces"]["spec"]["egress"] == [
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "news"}}}]}
    ]
    assert "allow-to-namespaces" not in news


def test_staging_alb_ingress_uses_the_staging_vpc(cluster_preview: Preview) -> None:
    policy = _objects(cluster_preview("staging"), "news", "NetworkPolicy")["allow-alb-ingress"]
    assert policy["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]


def test_team_roles_get_edit_rights_in_their_namespace_only(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    entries = {
        r.inputs["principalArn"]: r
        for r in result.by_type("aws:eks/accessEntry:AccessEntry")
        if r.parent.endswith("TeamNamespaces::teams")
    }
    assert sorted(entries) == [
        "arn:aws:iam::222222222222:role/media-developers",
        "arn:aws:iam::222222222222:role/news-developers",
    ]
    for arn, entry in entries.items():
        assert entry.inputs["type"] == "STANDARD"
        assert entry.inputs["clusterName"] == "eks-prod"
        assert entry.inputs["tags"]["team"] == "platform"
        assert entry.inputs["tags"]["access-teams"] == arn.rsplit("/", 1)[1].split("-")[0]
    associations = {
        r.inputs["principalArn"]: r
        for r in result.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if r.inputs["policyArn"] == EDIT_POLICY_ARN
    }
    assert {a: r.inputs["accessScope"] for a, r in associations.items()} == {
        "arn:aws:iam::222222222222:role/news-developers": {
            "type": "namespace",
            "namespaces": ["news"],
        },
        "arn:aws:iam::222222222222:role/media-developers": {
            "type": "namespace",
            "namespaces": ["media"],
        },
    }
    for arn, assoc in associations.items():
        assert entries[arn].urn in assoc.dependencies


def test_a_shared_role_gets_one_entry_covering_both_namespaces(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    shared = "arn:aws:iam::111111111111:role/news-developers"
    text = stack.read_text().replace("role/media-developers", "role/news-developers")
    # a cluster admin listed in a team needs no team entry (cluster-admin covers edit)
    text = text.replace(
        f"roleArns: [{shared}]",
        f"roleArns: [{shared}, arn:aws:iam::111111111111:role/platform-admin]",
        1,
    )
    stack.write_text(text)
    result = run_preview(ws, "cluster", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    team_entries = [
        r
        for r in result.by_type("aws:eks/accessEntry:AccessEntry")
        if r.parent.endswith("TeamNamespaces::teams")
    ]
    assert [r.inputs["principalArn"] for r in team_entries] == [shared]
    assert team_entries[0].inputs["tags"]["access-teams"] == "media news"
    (assoc,) = [
        r
        for r in result.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if r.inputs["policyArn"] == EDIT_POLICY_ARN
    ]
    assert assoc.inputs["accessScope"] == {"type": "namespace", "namespaces": ["media", "news"]}


def test_bad_teams_get_every_problem_with_exact_text() -> None:
    found = _problems(
        [
            {"name": "news", "roleArns": ["arn:aws:iam::22:role/dev", "news-devs"]},
            {"name": "news", "alertEmails": ["oncall"]},
            {"name": "Payments_Team", "namespace": "kube-system"},
            {"name": "media", "namespace": "news"},
        ]
    )
    assert found == [
        "platform:teams[0].roleArns: got ['arn:aws:iam::22:role/dev', 'news-devs']: not IAM role "
        "ARNs: 'arn:aws:iam::22:role/dev', 'news-devs'; write each like "
        "arn:aws:iam::123456789012:role/news-developers",
        "platform:teams[1].alertEmails: got ['oncall']: not email addresses: 'oncall'; write "
        "each like news-oncall@example.com",
        "platform:teams[2].name: got 'Payments_Team': use lowercase letters, digits and '-', "
        "starting with a letter (at most 40 characters)",
        "platform:teams[2].namespace: got 'kube-system': is a system or platform namespace; "
        "reserved: default, kube-node-lease, kube-public, kube-system, logging, "
        "overprovisioning, vpa-system and every kube-* name",
        "platform:teams[1].name: got 'news': teams[0] already has this name; give each team its "
        "own name",
        "platform:teams[1].namespace: got 'news': teams[0] already has this namespace; give each "
        "team its own namespace",
        "platform:teams[3].namespace: got 'news': teams[0] already has this namespace; give each "
        "team its own namespace",
    ]


def test_quota_below_a_namespaces_needs_is_refused() -> None:
    found = _problems(
        [
            {"name": "a", "quota": {"requestsCpu": "50m"}},
            {"name": "b", "quota": {"requestsMemory": "128Mi"}},
            {"name": "c", "quota": {"limitsMemory": "200Mi"}},
            {"name": "d", "quota": {"pods": 0}},
            {"name": "e", "limitRange": {"defaultRequestMemory": "1Gi"}},
            {"name": "f", "limitRange": {"defaultLimitMemory": "16Gi"}},
            {"name": "g", "quota": {"services": -1}},
        ]
    )
    assert found == [
        "platform:teams[0].quota.requestsCpu: got '50m': is below limitRange.defaultRequestCpu "
        "(100m): not even one pod at the defaults fits; raise quota.requestsCpu or lower "
        "limitRange.defaultRequestCpu",
        "platform:teams[1].quota.requestsMemory: got '128Mi': is below "
        "limitRange.defaultRequestMemory (256Mi): not even one pod at the defaults fits; raise "
        "quota.requestsMemory or lower limitRange.defaultRequestMemory",
        "platform:teams[2].quota.limitsMemory: got '200Mi': is below "
        "limitRange.defaultLimitMemory (256Mi): not even one pod at the defaults fits; raise "
        "quota.limitsMemory or lower limitRange.defaultLimitMemory",
        "platform:teams[3].quota.pods: got 0: the namespace could run no pod at all; allow at "
        "least 1",
        "platform:teams[4].limitRange.defaultRequestMemory: got '1Gi': is above "
        "defaultLimitMemory (256Mi): Kubernetes refuses a request above its limit; lower it or "
        "raise defaultLimitMemory",
        "platform:teams[5].limitRange.defaultLimitMemory: got '16Gi': is above maxMemory (8Gi): "
        "every pod left to the defaults would be refused; lower it or raise maxMemory",
        "platform:teams[6].quota.services: got -1: must be 0 or more",
    ]


def test_bad_quantities_and_unknown_keys_are_named() -> None:
    found = _problems(
        [{"name": "a", "quota": {"requestsCpu": "8 cores", "colour": "red"}, "owner": "x"}]
    )
    assert found == [
        "platform:teams[0].quota.requestsCpu: got '8 cores': '8 cores' is not a CPU quantity; "
        "write millicores like '250m' or cores like '0.5'",
        "platform:teams[0].quota.colour: got 'red': unknown key; allowed keys here: "
        "limitsMemory, pods, requestsCpu, requestsMemory, services, servicesNodePorts",
        "platform:teams[0].owner: got 'x': unknown key; allowed keys here: alertEmails, "
        "allowIngressFrom, limitRange, name, namespace, quota, roleArns",
    ]


def test_quota_below_needs_fails_the_preview_with_nothing_registered(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    text = stack.read_text().replace('requestsCpu: "16"', "requestsCpu: 10m")
    text = text.replace("role/news-developers]", "role/news-developers, news]")
    stack.write_text(text)
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == [] and result.manifests == []
    assert [d.message for d in result.diagnostics] == [
        "Pulumi.prod.yaml: invalid stack configuration: 2 problems:\n"
        "  - platform:teams[0].roleArns: got ['arn:aws:iam::222222222222:role/news-developers', "
        "'news']: not IAM role ARNs: 'news'; write each like "
        "arn:aws:iam::123456789012:role/news-developers\n"
        "  - platform:teams[1].quota.requestsCpu: got '10m': is below "
        "limitRange.defaultRequestCpu (100m): not even one pod at the defaults fits; raise "
        "quota.requestsCpu or lower limitRange.defaultRequestCpu"
    ]


def test_component_args_are_validated_all_at_once() -> None:
    from unittest.mock import sentinel

    from eksplatform.core.tags import Tags

    team = TeamConfig(name="news")
    args = TeamNamespacesArgs(
        provider=sentinel.provider,
        teams=[team, team],
        cluster_name="eks-test",
        vpc_cidr="10.0.0.0/33",
        tags=Tags(team="platform", environment="test", cost_centre="platform"),
        envoy_ingress_port=0,
    )
    with pytest.raises(ValidationError) as info:
        validate_team_namespaces_args(args)
    assert str(info.value) == (
        "TeamNamespaces: 4 problems:\n"
        "  - vpc_cidr: got '10.0.0.0/33': not an IPv4 CIDR; pass the VPC's, like 10.0.0.0/16\n"
        "  - teams[1].name: got 'news': repeats another team's name\n"
        "  - teams[1].namespace: got 'news': repeats another team's namespace\n"
        "  - envoy_ingress_port: got 0: must be 1-65535"
    )


def test_messages_quote_values_verbatim_even_with_braces() -> None:
    found = _problems([{"name": "a", "alertEmails": ["{oncall}"]}, {"name": "a"}])
    assert found[0] == (
        "platform:teams[0].alertEmails: got ['{oncall}']: not email addresses: '{oncall}'; "
        "write each like news-oncall@example.com"
    )
    assert len(found) == 3


def test_no_teams_means_no_team_objects(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    lines = stack.read_text().splitlines(keepends=True)
    start = lines.index("  platform:teams:\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")),
        len(lines),
    )
    lines = lines[:start] + lines[end:]
    # the Datadog section's channels name a team too
    channels = lines.index("    teamChannels:\n")
    lines = lines[:channels] + lines[channels + 2 :]
    stack.write_text("".join(lines))
    result = run_preview(ws, "cluster", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.plain_outputs()["teamNamespaces"] == {}
    assert result.plain_outputs()["teamMonitorChannels"] == {}
    assert not [
        m
        for m in result.manifests
        if m.kind in ("ResourceQuota", "NetworkPolicy") and m.namespace != "datadog"
    ]
    assert not [
        r
        for r in result.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if r.inputs["policyArn"] == EDIT_POLICY_ARN
    ]

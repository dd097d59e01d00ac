"""Datadog in the cluster layer: the node agent and Cluster Agent objects of both stacks, their
host access (exactly what datadog_access lists, each item in the README with its reason), RBAC,
the external metrics APIService, the secrets, the network policies and the config checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.datadog import cluster_agent_token, image
from eksplatform.cluster.datadog_access import (
    DOGSTATSD_PORT,
    HOST_ACCESS,
    HOST_PATHS,
    KSM_COLLECTORS,
    cluster_agent_rules,
    node_agent_rules,
)
from eksplatform.cluster.teams import DATADOG_PORTS
from eksplatform.core.errors import ValidationError
from eksplatform.envoy import DogStatsd
from eksplatform.guardrails.pod_security import pod_security_problems
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview
from eksplatform.preview.manifests import Manifest

from tests.conftest import REPO, make_workspace

Preview = Callable[[str], PreviewResult]
STACKS = ("staging", "prod")


def _manifest(
    result: PreviewResult, kind: str, name: str, namespace: str | None = None
) -> dict[str, Any]:
    found = [
        m
        for m in result.manifests
        if m.kind == kind and m.name == name and namespace in (None, m.namespace)
    ]
    assert len(found) == 1, (kind, name)
    return found[0].body


def _pod(body: Mapping[str, Any]) -> Mapping[str, Any]:
    pod: Mapping[str, Any] = body["spec"]["template"]["spec"]
    return pod


def _containers(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def _env(container: Mapping[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# --- the objects of both stacks ------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_both_stacks_run_the_agent_and_the_cluster_agent_schema_valid(
    cluster_preview: Preview, stack: str
) -> None:
    result = cluster_preview(stack)
    assert result.ok, [d.message for d in result.diagnostics]  # schema check passed (exit 0)
    objects = {(m.kind, m.namespace, m.name) for m in result.manifests}
    assert {
        ("Namespace", "", "datadog"),
        ("DaemonSet", "datadog", "datadog-agent"),
        ("Deployment", "datadog", "datadog-cluster-agent"),
        ("PodDisruptionBudget", "datadog", "datadog-cluster-agent"),
        ("Service", "datadog", "datadog-cluster-agent"),
        ("Service", "datadog", "datadog-cluster-agent-metrics-api"),
        ("Secret", "datadog", "datadog-api-key"),
        ("Secret", "datadog", "datadog-app-key"),
        ("Secret", "datadog", "datadog-cluster-agent-token"),
        ("ConfigMap", "datadog", "datadog-cluster-agent-confd"),
        ("ClusterRole", "", "datadog-agent"),
        ("ClusterRole", "", "datadog-cluster-agent"),
        ("Role", "datadog", "datadog-cluster-agent"),
        ("RoleBinding", "kube-system", "datadog-cluster-agent:auth-reader"),
        ("ClusterRoleBinding", "", "datadog-cluster-agent:auth-delegator"),
        ("APIService", "", "v1beta1.external.metrics.k8s.io"),
    } <= objects
    outputs = result.plain_outputs()
    assert outputs["datadogSite"] == "datadoghq.eu"
    assert outputs["metricsApis"] == ["metrics.k8s.io", "external.metrics.k8s.io"]
    agent = _manifest(result, "DaemonSet", "datadog-agent")
    images = {c["image"] for c in _containers(_pod(agent))}
    assert images == {"public.ecr.aws/datadog/agent:7.81.1"}
    dca = _manifest(result, "Deployment", "datadog-cluster-agent")
    assert {c["image"] for c in _containers(_pod(dca))} == {
        "public.ecr.aws/datadog/cluster-agent:7.81.1"
    }


def test_the_team_channels_reach_the_contract(cluster_preview: Preview) -> None:
    assert cluster_preview("prod").plain_outputs()["teamMonitorChannels"] == {
        "news": "@slack-news-alerts @news-oncall@example.com",
        "media": "@media-oncall@example.com",  # no channel configured: its alert e-mails
    }


# --- host access: exactly what is listed, each item documented --------------------------------


def test_the_node_agent_holds_exactly_the_listed_host_access(cluster_preview: Preview) -> None:
    pod = _pod(_manifest(cluster_preview("prod"), "DaemonSet", "datadog-agent"))
    host_volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert {path: name for name, path in host_volumes.items()} == {
        path: a.volume for path, a in HOST_PATHS.items()
    }
    for container in _containers(pod):
        for mount in container.get("volumeMounts", []):
            if mount["name"] in host_volumes:
                access = HOST_PATHS[host_volumes[mount["name"]]]
                assert mount["readOnly"] is True, (container["name"], mount)
                assert mount["mountPath"] == access.mount_path
        ctx = container["securityContext"]
        assert ctx["runAsUser"] == 0 and ctx["runAsNonRoot"] is False
        assert ctx["privileged"] is False and ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    host_ports = {
        f"{p['hostPort']}/{p['protocol']}"
        for c in _containers(pod)
        for p in c.get("ports", [])
        if "hostPort" in p
    }
    assert host_ports == {a.host for a in HOST_ACCESS if a.kind == "hostPort"} == {"8125/UDP"}
    for flag in ("hostPID", "hostNetwork", "hostIPC"):
        assert not pod.get(flag), flag
    # logs: fluentd ships them (one shipper), so no log directory and log collection off
    assert not [p for p in host_volumes.values() if p.startswith("/var/log")]
    agent = next(c for c in pod["containers"] if c["name"] == "agent")
    assert _env(agent)["DD_LOGS_ENABLED"] == "false"


def test_every_host_permission_is_in_the_readme_with_its_reason() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Datadog") :]
    section = section[: section.index("\n## ", 1)]
    flat = " ".join(section.split())
    for access in HOST_ACCESS:
        row = next((line for line in section.splitlines() if f"`{access.host}`" in line), None)
        assert row is not None, f"{access.host} is not listed in the README's Datadog section"
        assert " ".join(access.reason.split()) in flat, access.host


def test_only_the_datadog_and_logging_namespaces_are_privileged(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    levels = {
        m.name: m.body["metadata"]["labels"].get("pod-security.kubernetes.io/enforce")
        for m in result.manifests
        if m.kind == "Namespace"
    }
    assert levels["datadog"] == "privileged"
    assert {n for n, level in levels.items() if level == "privileged"} == {"datadog", "logging"}
    assert levels["news"] == levels["media"] == "restricted"
    datadog_ns = _manifest(result, "Namespace", "datadog")["metadata"]["labels"]
    assert datadog_ns["pod-security.kubernetes.io/warn"] == "baseline"
    assert datadog_ns["pod-security.kubernetes.io/audit"] == "restricted"


def test_the_cluster_agent_pod_passes_pod_security_restricted(cluster_preview: Preview) -> None:
    pod = _pod(_manifest(cluster_preview("prod"), "Deployment", "datadog-cluster-agent"))
    assert pod_security_problems(pod) == []
    assert not [v for v in pod["volumes"] if "hostPath" in v]


# --- DogStatsD, matching the sidecar and the team network policies ---------------------------


def test_dogstatsd_is_where_envoy_and_the_team_policies_expect_it(
    cluster_preview: Preview,
) -> None:
    assert DogStatsd().port == DOGSTATSD_PORT == 8125
    assert ("UDP", DOGSTATSD_PORT) in DATADOG_PORTS
    result = cluster_preview("prod")
    agent = next(c for c in _pod(_manifest(result, "DaemonSet", "datadog-agent"))["containers"])
    env = _env(agent)
    assert env["DD_DOGSTATSD_PORT"] == "8125"
    assert env["DD_DOGSTATSD_NON_LOCAL_TRAFFIC"] == "true"
    assert env["DD_DOGSTATSD_TAGS"] == "env:prod kube_cluster_name:eks-prod"
    assert env["DD_HISTOGRAM_PERCENTILES"] == "0.95 0.99"  # the latency monitors read .99
    policy = _manifest(result, "NetworkPolicy", "node-agent", "datadog")["spec"]
    assert policy["ingress"] == [
        {
            "from": [{"ipBlock": {"cidr": "10.40.0.0/16"}}],
            "ports": [{"port": 8125, "protocol": "UDP"}],
        }
    ]
    deny = _manifest(result, "NetworkPolicy", "default-deny", "datadog")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


# --- RBAC and the external metrics API ---------------------------------------------------------


def _rules(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(body["rules"])


def test_the_node_agent_reads_only_its_kubelet(cluster_preview: Preview) -> None:
    rules = _rules(_manifest(cluster_preview("prod"), "ClusterRole", "datadog-agent"))
    assert rules == [
        {
            "apiGroups": [""],
            "resources": ["nodes/metrics", "nodes/proxy", "nodes/spec", "nodes/stats"],
            "verbs": ["get"],
        },
        {"nonResourceURLs": ["/healthz", "/version"], "verbs": ["get"]},
    ]
    # fine-grained kubelet authorisation (1.33+): no nodes/proxy
    modern = node_agent_rules(33)[0]
    assert modern.resources == [
        "nodes/healthz",
        "nodes/metrics",
        "nodes/pods",
        "nodes/spec",
        "nodes/stats",
    ]


def test_the_cluster_agent_reads_and_writes_only_what_it_needs(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    cluster_rules = _rules(_manifest(result, "ClusterRole", "datadog-cluster-agent"))
    verbs = {v for r in cluster_rules for v in r["verbs"]}
    assert verbs == {"get", "list", "watch"}  # cluster-wide: reads only
    resources = {r for rule in cluster_rules for r in rule.get("resources", [])}
    assert not resources & {"secrets", "configmaps", "roles", "clusterroles", "*"}
    expected = {res for _, res in KSM_COLLECTORS.values()} | {"endpoints", "services"}
    assert resources == expected
    assert len(cluster_rules) == len(cluster_agent_rules(external_metrics=True))
    role = _rules(_manifest(result, "Role", "datadog-cluster-agent"))
    assert role == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resourceNames": ["datadog-leader-election"],
            "resources": ["leases"],
            "verbs": ["get", "update"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
        {
            "apiGroups": [""],
            "resourceNames": ["datadog-custom-metrics"],
            "resources": ["configmaps"],
            "verbs": ["get", "update"],
        },
    ]
    ksm = _manifest(result, "ConfigMap", "datadog-cluster-agent-confd")["data"]
    assert "- horizontalpodautoscalers\n" in ksm["kubernetes_state_core.yaml"]
    assert "env:prod" in ksm["kubernetes_state_core.yaml"]


def test_the_external_metrics_api_is_registered_for_the_hpa_controller_only(
    cluster_preview: Preview,
) -> None:
    result = cluster_preview("prod")
    api = _manifest(result, "APIService", "v1beta1.external.metrics.k8s.io")["spec"]
    assert api["group"] == "external.metrics.k8s.io" and api["version"] == "v1beta1"
    assert api["service"] == {
        "name": "datadog-cluster-agent-metrics-api",
        "namespace": "datadog",
        "port": 8443,
    }
    reader = _manifest(result, "ClusterRole", "eksplatform:external-metrics-reader")
    assert reader["rules"] == [
        {"apiGroups": ["external.metrics.k8s.io"], "resources": ["*"], "verbs": ["get", "list"]}
    ]
    binding = _manifest(result, "ClusterRoleBinding", "eksplatform:external-metrics-reader")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "horizontal-pod-autoscaler", "namespace": "kube-system"}
    ]
    dca = next(
        c for c in _pod(_manifest(result, "Deployment", "datadog-cluster-agent"))["containers"]
    )
    env = _env(dca)
    assert env["DD_EXTERNAL_METRICS_PROVIDER_ENABLED"] == "true"
    assert env["DD_EXTERNAL_METRICS_PROVIDER_PORT"] == "8443"


# --- the keys: Secrets only --------------------------------------------------------------------


def test_the_keys_reach_only_kubernetes_secrets(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    for m in result.manifests:
        if m.kind == "Secret":
            continue
        for container in _all_containers(m):
            for e in container.get("env", []):
                if e["name"] in ("DD_API_KEY", "DD_APP_KEY", "DD_CLUSTER_AGENT_AUTH_TOKEN"):
                    assert "value" not in e and "secretKeyRef" in e["valueFrom"], (m.name, e)
    secrets = {
        r.urn.rsplit("::", 1)[1]: r
        for r in result.by_type("kubernetes:core/v1:Secret")
        if "datadog" in r.urn
    }
    assert set(secrets) == {"datadog-api-key", "datadog-app-key", "datadog-token"}
    for secret in secrets.values():
        assert _is_secret(secret.inputs["stringData"]), secret.urn


def _all_containers(m: Manifest) -> Iterator[Mapping[str, Any]]:
    spec = m.body.get("spec", {})
    pod = spec.get("template", {}).get("spec") if isinstance(spec, dict) else None
    if isinstance(pod, dict):
        yield from _containers(pod)


def _is_secret(value: Any) -> bool:
    from eksplatform.preview.mocks import is_secret

    return is_secret(value) or (
        isinstance(value, dict) and all(is_secret(v) for v in value.values())
    )


def test_the_cluster_agent_token_is_derived_per_cluster_and_stable() -> None:
    a = cluster_agent_token("key-1", "eks-prod")
    assert a == cluster_agent_token("key-1", "eks-prod")
    assert re.fullmatch(r"[0-9a-f]{64}", a)
    assert a != cluster_agent_token("key-1", "eks-staging")
    assert a != cluster_agent_token("key-2", "eks-prod")
    assert image("r/a", "7.81.1", None) == "r/a:7.81.1"
    digest = "sha256:" + "a" * 64
    assert image("r/a", "7.81.1", digest) == f"r/a:7.81.1@{digest}"


# --- configuration -----------------------------------------------------------------------------

BASE = {"aws:region": "eu-west-1", "aws:allowedAccountIds": '["123456789012"]'}
TEAMS = '[{"name": "news", "alertEmails": ["news@example.com"]}]'


def _encrypted(raw: Mapping[str, Any]) -> frozenset[str]:
    """The keys a real stack file holds as secure values (``pulumi config set --secret``)."""
    return frozenset(k for k in raw if k in ("platform:datadogApiKey", "platform:datadogAppKey"))


def _parse(raw: Mapping[str, Any], **kwargs: Any) -> Any:
    return parse_cluster_config(raw, secret_keys=_encrypted(raw), **kwargs)


def _problems(raw: Mapping[str, Any], secret_keys: frozenset[str] | None = None) -> list[str]:
    full = {**BASE, **raw}
    try:
        parse_cluster_config(
            full,
            stack="prod",
            source="Pulumi.prod.yaml",
            secret_keys=_encrypted(full) if secret_keys is None else secret_keys,
        )
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_keys_decide_what_runs() -> None:
    off = _parse(BASE, stack="prod", source="s")
    assert not off.datadog_enabled and not off.datadog_external_metrics
    api = _parse({**BASE, "platform:datadogApiKey": "k"}, stack="prod", source="s")
    assert api.datadog_enabled and not api.datadog_external_metrics
    both = _parse(
        {**BASE, "platform:datadogApiKey": "k", "platform:datadogAppKey": "a"},
        stack="prod",
        source="s",
    )
    assert both.datadog_enabled and both.datadog_external_metrics
    narrowed = _parse(
        {
            **BASE,
            "platform:datadogApiKey": "k",
            "platform:datadogAppKey": "a",
            "platform:datadog": '{"externalMetrics": false}',
        },
        stack="prod",
        source="s",
    )
    assert narrowed.datadog_enabled and not narrowed.datadog_external_metrics
    disabled = _parse(
        {**BASE, "platform:datadogApiKey": "k", "platform:datadog": '{"enabled": false}'},
        stack="prod",
        source="s",
    )
    assert not disabled.datadog_enabled and not disabled.datadog_external_metrics


def test_every_datadog_problem_is_reported_at_once_with_exact_text() -> None:
    assert _problems(
        {
            "platform:teams": TEAMS,
            "platform:datadog": '{"enabled": true, "externalMetrics": true, "teamChannels": '
            '{"payments": ["@slack-payments"]}}',
        }
    ) == [
        "platform:datadogApiKey: missing: platform:datadog.enabled is true but no API key is "
        "set: set it as a secret with `pulumi config set --secret platform:datadogApiKey <key>`, "
        "or drop enabled",
        "platform:datadogAppKey: missing: platform:datadog.externalMetrics is true: the Cluster "
        "Agent needs an application key to read metrics for HPAs; set it with `pulumi config set "
        "--secret platform:datadogAppKey <key>`, or drop externalMetrics",
        "platform:datadog.teamChannels.payments: got ['@slack-payments']: is not a team of "
        "platform:teams (teams: news): fix the name or add the team",
    ]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            '{"site": "datadoghq.fr"}',
            "platform:datadog.site: got 'datadoghq.fr': Input should be 'datadoghq.com', "
            "'us3.datadoghq.com', 'us5.datadoghq.com', 'datadoghq.eu', 'ap1.datadoghq.com', "
            "'ap2.datadoghq.com' or 'ddog-gov.com'",
        ),
        (
            '{"agent": {"imageTag": "latest"}}',
            "platform:datadog.agent.imageTag: got 'latest': write a release tag like 7.81.1 "
            "(7.<minor>.<patch>; never latest)",
        ),
        (
            '{"clusterAgent": {"imageDigest": "sha256:abc"}}',
            "platform:datadog.clusterAgent.imageDigest: got 'sha256:abc': write the digest as "
            "sha256:<64 lowercase hex digits>",
        ),
        (
            '{"clusterAgent": {"replicas": 4}}',
            "platform:datadog.clusterAgent.replicas: got 4: must be 1 to 3 (one leader; the "
            "others are warm standbys)",
        ),
        (
            '{"teamChannels": {"news": ["#news-alerts"]}}',
            "platform:datadog.teamChannels: got {'news': ['#news-alerts']}: not Datadog "
            "notification handles: '#news-alerts'; write each like @slack-news-alerts, "
            "@pagerduty-news or @news-oncall@example.com",
        ),
        (
            '{"teamChannels": {"news": []}}',
            "platform:datadog.teamChannels: got {'news': []}: teams 'news' list no handle: give "
            "at least one, or drop the team to notify its alertEmails",
        ),
        (
            '{"agent": {"memory": "lots"}}',
            "platform:datadog.agent.memory: got 'lots': 'lots' is not a memory quantity; write it "
            "like '128Mi' or '1Gi'",
        ),
    ],
)
def test_each_bad_section_value_is_named(section: str, expected: str) -> None:
    raw = {"platform:teams": TEAMS, "platform:datadogApiKey": "k", "platform:datadog": section}
    assert _problems(raw) == [expected]


def test_valid_optional_values_are_accepted() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    cfg = _parse(
        {
            **BASE,
            "platform:teams": TEAMS,
            "platform:datadogApiKey": "k",
            "platform:datadog": '{"site": "us5.datadoghq.com", "clusterAgent": {"replicas": 3, '
            f'"imageDigest": "{digest}"}}, "agent": {{"imageTag": "7.80.0", '
            '"kubeletTlsVerify": false}, "teamChannels": {"news": ["@pagerduty-news"]}}',
        },
        stack="prod",
        source="s",
    )
    assert cfg.datadog.site == "us5.datadoghq.com"
    assert cfg.datadog.cluster_agent.image_digest == digest
    assert cfg.datadog.cluster_agent.replicas == 3
    assert cfg.datadog.agent.image_tag == "7.80.0"
    assert cfg.datadog.team_channels == {"news": ("@pagerduty-news",)}


def test_a_key_in_clear_text_is_refused() -> None:
    raw = {"platform:datadogApiKey": "k", "platform:datadogAppKey": "a"}
    assert _problems(raw, secret_keys=frozenset({"platform:datadogAppKey"})) == [
        "platform:datadogApiKey: got [not shown]: is stored in clear text in the stack file: "
        "anyone who reads the repo has it; rotate the key, then `pulumi config set --secret "
        "platform:datadogApiKey <key>`"
    ]
    assert _problems(raw, secret_keys=frozenset(raw)) == []


def _stack_without(path: Path, *keys: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    out: list[str] = []
    skip = False
    for line in lines:
        if line.startswith("  ") and not line.startswith("   "):
            skip = any(line.startswith(f"  {k}:") for k in keys)
        if not skip:
            out.append(line)
    path.write_text("".join(out))


def test_without_an_api_key_no_agent_runs_and_the_contract_says_so(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    _stack_without(
        tmp_path / "ws" / "Pulumi.staging.yaml",
        "platform:datadogApiKey",
        "platform:datadogAppKey",
    )
    result = run_preview(ws, "cluster", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    assert not [m for m in result.manifests if m.namespace == "datadog" or "datadog" in m.name]
    outputs = result.plain_outputs()
    assert outputs["datadogSite"] == ""
    assert outputs["metricsApis"] == ["metrics.k8s.io"]


def test_enabled_without_a_key_exits_2_with_nothing_registered(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    _stack_without(stack, "platform:datadogApiKey")
    stack.write_text(
        stack.read_text().replace(
            "    site: datadoghq.eu\n", "    site: datadoghq.eu\n    enabled: true\n"
        )
    )
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:datadogApiKey: missing: platform:datadog.enabled is true but no API key "
        "is set: set it as a secret with `pulumi config set --secret platform:datadogApiKey "
        "<key>`, or drop enabled"
    ]

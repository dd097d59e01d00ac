"""fluentd log shipping: the generated configuration parsed back, both outputs, the token kept
secret, the DaemonSet's shape, IAM scope and config errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.cluster.fluentd import (
    Directive,
    EnvRef,
    LoggingConfig,
    build_fluentd_config,
    render_config,
)
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview, write_result

from tests.conftest import make_workspace

Preview = Callable[[str], PreviewResult]

# --- a small parser for the fluentd directive syntax -------------------------------------------


@dataclass
class Node:
    name: str
    arg: str
    params: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)

    def only(self, name: str) -> Node:
        found = [c for c in self.children if c.name == name]
        assert len(found) == 1, (name, found)
        return found[0]


def _value(text: str) -> Any:
    if text.startswith(('"', "[")):
        return json.loads(text)
    return text


def parse_fluentd(text: str) -> list[Node]:
    """Parse ``<name arg>`` / ``key value`` / ``</name>`` lines; refuse anything else."""
    root = Node("<root>", "")
    stack = [root]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("</"):
            assert line == f"</{stack[-1].name}>", f"line {number}: {line!r} closes nothing open"
            stack.pop()
        elif line.startswith("<"):
            assert line.endswith(">"), f"line {number}: {line!r}"
            name, _, arg = line[1:-1].partition(" ")
            node = Node(name, arg.strip())
            stack[-1].children.append(node)
            stack.append(node)
        else:
            key, _, value = line.partition(" ")
            assert len(stack) > 1, f"line {number}: parameter outside a directive"
            assert key not in stack[-1].params, f"line {number}: {key} repeated"
            stack[-1].params[key] = _value(value.strip())
    assert len(stack) == 1, f"unclosed <{stack[-1].name}>"
    return root.children


# --- helpers ------------------------------------------------------------------------------------


def _manifest(result: PreviewResult, kind: str, namespace: str, name: str) -> dict[str, Any]:
    found = [
        m.body
        for m in result.manifests
        if m.kind == kind and m.namespace == namespace and m.name == name
    ]
    assert len(found) == 1, (kind, namespace, name)
    return found[0]


def _config(result: PreviewResult) -> str:
    text = _manifest(result, "ConfigMap", "logging", "fluentd-config")["data"]["fluent.conf"]
    assert isinstance(text, str)
    return text


def _by_type(nodes: list[Node], name: str, typ: str) -> list[Node]:
    return [n for n in nodes if n.name == name and n.params.get("@type") == typ]


def _check_common(nodes: list[Node]) -> None:
    assert [n.name for n in nodes] == ["system", "source", "source", "filter", "filter", "match"]
    (tail,) = _by_type(nodes, "source", "tail")
    assert tail.params["path"] == "/var/log/containers/*.log"
    assert tail.params["exclude_path"] == ["/var/log/containers/*_logging_fluentd-*.log"]
    assert tail.params["pos_file"] == "/var/lib/fluentd/containers.log.pos"
    assert tail.params["tag"] == "kubernetes.*"
    assert tail.only("parse").params == {"@type": "cri"}
    assert _by_type(nodes, "source", "monitor_agent")[0].params["port"] == "24220"
    json_filter, metadata = (n for n in nodes if n.name == "filter")
    assert json_filter.arg == "kubernetes.**" and json_filter.params["@type"] == "parser"
    assert json_filter.params["key_name"] == "message"
    assert json_filter.params["reserve_data"] == "true"  # non-JSON lines pass unchanged
    assert json_filter.params["emit_invalid_record_to_error"] == "false"
    assert json_filter.only("parse").params == {"@type": "json"}
    assert metadata.arg == "kubernetes.**"
    assert metadata.params["@type"] == "kubernetes_metadata"


def _buffer(match: Node) -> dict[str, Any]:
    return match.only("buffer").params


# --- both outputs, from the cluster preview ------------------------------------------------------


def test_staging_ships_to_papertrail_with_a_file_buffer(cluster_preview: Preview) -> None:
    nodes = parse_fluentd(_config(cluster_preview("staging")))
    _check_common(nodes)
    match = nodes[-1]
    assert match.arg == "kubernetes.**"
    assert match.params["@type"] == "http"
    assert match.params["endpoint"] == "https://logs.collector.solarwinds.com:443/v1/log"
    assert match.params["tls_verify_mode"] == "peer"
    assert match.only("auth").params == {
        "method": "basic",
        "username": "",
        "password": "#{ENV['PAPERTRAIL_TOKEN']}",
    }
    assert match.only("format").params == {"@type": "json"}
    assert _buffer(match) == {
        "@type": "file",
        "path": "/var/lib/fluentd/buffer/papertrail",
        "total_limit_size": "1GB",
        "chunk_limit_size": "8MB",
        "flush_mode": "interval",
        "flush_interval": "5s",
        "flush_thread_count": "2",
        "flush_at_shutdown": "true",
        "retry_type": "exponential_backoff",
        "retry_max_interval": "60s",
        "retry_max_times": "17",
        "retry_timeout": "1h",
        "overflow_action": "drop_oldest_chunk",
    }


def test_prod_ships_to_cloudwatch_logs(cluster_preview: Preview) -> None:
    result = cluster_preview("prod")
    nodes = parse_fluentd(_config(result))
    _check_common(nodes)
    match = nodes[-1]
    assert match.params["@type"] == "cloudwatch_logs"
    assert match.params["log_group_name"] == "/eks/eks-prod/containers"
    assert match.params["region"] == "eu-west-1"
    buffer = _buffer(match)
    assert buffer["path"] == "/var/lib/fluentd/buffer/cloudwatch"
    assert buffer["@type"] == "file" and buffer["total_limit_size"] == "1GB"
    assert "auth" not in [c.name for c in match.children]
    group = [r for r in result.by_type("aws:cloudwatch/logGroup:LogGroup") if "logging" in r.urn]
    assert len(group) == 1
    assert group[0].inputs["name"] == "/eks/eks-prod/containers"
    assert group[0].inputs["retentionInDays"] == 90
    assert group[0].inputs["tags"]["environment"] == "prod"


def test_cloudwatch_role_is_limited_to_the_group_through_pod_identity(
    cluster_preview: Preview,
) -> None:
    result = cluster_preview("prod")
    group_arn = next(
        r.outputs["arn"]
        for r in result.by_type("aws:cloudwatch/logGroup:LogGroup")
        if "logging" in r.urn
    )
    role = next(r for r in result.by_type("aws:iam/role:Role") if r.urn.endswith("logging-role"))
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert trust["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "222222222222",
        "aws:RequestTag/eks-cluster-name": "eks-prod",
        "aws:RequestTag/kubernetes-namespace": "logging",
        "aws:RequestTag/kubernetes-service-account": "fluentd",
    }
    (policy,) = [r for r in result.by_type("aws:iam/rolePolicy:RolePolicy") if "logging" in r.urn]
    write, find = json.loads(policy.inputs["policy"])["Statement"]
    assert write["Action"] == [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]
    assert write["Resource"] == [group_arn, f"{group_arn}:log-stream:*"]
    # a list call that cannot be scoped to one group; read-only
    assert find["Action"] == ["logs:DescribeLogGroups"]
    assert find["Resource"] == "arn:aws:logs:eu-west-1:222222222222:log-group:*"
    (assoc,) = [
        r
        for r in result.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.inputs["namespace"] == "logging"
    ]
    assert assoc.inputs["serviceAccount"] == "fluentd"
    assert assoc.inputs["roleArn"] == role.outputs["arn"]
    daemon_set = next(
        r for r in result.by_type("kubernetes:apps/v1:DaemonSet") if "logging" in r.urn
    )
    assert assoc.urn in daemon_set.dependencies  # credentials injected at pod creation
    # staging (papertrail) has no AWS side at all
    staging = cluster_preview("staging")
    assert not [
        r
        for r in staging.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.inputs["namespace"] == "logging"
    ]


def test_daemonset_runs_everywhere_tightly(cluster_preview: Preview) -> None:
    result = cluster_preview("staging")
    ds = _manifest(result, "DaemonSet", "logging", "fluentd")
    pod = ds["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["priorityClassName"] == "system-node-critical"
    assert ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1
    (container,) = pod["containers"]
    assert container["image"] == "fluent/fluentd-kubernetes-daemonset:v1.19.3-debian-forward-1.1"
    assert container["resources"]["requests"] == {"cpu": "100m", "memory": "400Mi"}
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "400Mi"}
    sc = container["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["livenessProbe"]["httpGet"]["port"] == "monitor"
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in container["volumeMounts"]}
    assert mounts == {
        "/var/log/pods": True,
        "/var/log/containers": True,
        "/var/lib/fluentd": False,
        "/fluentd/etc": True,
        "/tmp": False,
    }
    host_paths = {v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert host_paths == {"/var/log/pods", "/var/log/containers", "/var/lib/fluentd"}
    checksum = ds["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert checksum == hashlib.sha256(_config(result).encode()).hexdigest()
    env = {e["name"]: e for e in container["env"]}
    assert env["FLUENTD_CONF"]["value"] == "fluent.conf"
    assert env["PAPERTRAIL_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "fluentd-papertrail",
        "key": "token",
    }
    assert "value" not in env["PAPERTRAIL_TOKEN"]
    assert "command" not in container  # the image's entrypoint (tini + vendored gems)


def test_namespace_admits_hostpath_and_keeps_warnings(cluster_preview: Preview) -> None:
    ns = _manifest(cluster_preview("prod"), "Namespace", "", "logging")
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/warn"] == "baseline"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


def test_rbac_is_read_only_pods_and_namespaces(cluster_preview: Preview) -> None:
    role = _manifest(cluster_preview("prod"), "ClusterRole", "", "eksplatform:fluentd")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "list", "watch"]}
    ]


# --- the token ----------------------------------------------------------------------------------


def _all_text(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


def test_staging_placeholder_token_never_in_clear(cluster_preview: Preview, tmp_path: Path) -> None:
    result = cluster_preview("staging")
    out = write_result(make_workspace(tmp_path / "ws", with_cluster=False), result)
    text = _all_text(out)
    assert "papertrailToken: unknown offline" not in text
    secret = _manifest(result, "Secret", "logging", "fluentd-papertrail")
    assert secret["stringData"] == {"token": "offline-secret-placeholder"}
    assert "PAPERTRAIL_TOKEN" in _config(result)  # referenced, not embedded


def test_a_known_token_value_never_appears_in_preview_or_manifests(tmp_path: Path) -> None:
    token = "pt-token-4c1d9e77a0b2"
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    text = stack.read_text()
    start = text.index("  platform:papertrailToken:")
    stack.write_text(text[:start] + text[start:].split("\n", 2)[2])
    # a value the program sees in clear yet marked secret (project-level secret config)
    project = tmp_path / "ws" / "Pulumi.yaml"
    project.write_text(
        project.read_text() + f"  platform:papertrailToken:\n    value: {token}\n    secret: true\n"
    )
    result = run_preview(ws, "cluster", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    secret = next(
        r for r in result.resources if r.type == "kubernetes:core/v1:Secret" and "logging" in r.urn
    )
    assert token in json.dumps(secret.inputs)  # the program really had it
    out = write_result(ws, result)
    everything = _all_text(out)
    assert (out / "preview.json").is_file() and list((out / "manifests").rglob("*.yaml"))
    assert token not in everything


# --- rendering and bad input --------------------------------------------------------------------


def test_render_config_quotes_and_refuses_ruby() -> None:
    text = render_config(
        [
            Directive(
                "match",
                "a.**",
                params=(("@type", "null"), ("x", "two words"), ("p", EnvRef("TOKEN"))),
            )
        ]
    )
    assert (
        text == '<match a.**>\n  @type null\n  x "two words"\n  p "#{ENV[\'TOKEN\']}"\n</match>\n'
    )
    with pytest.raises(ValueError, match="evaluated as Ruby"):
        render_config([Directive("source", params=(("x", "#{`id`}"),))])
    with pytest.raises(ValueError, match="spans lines"):
        render_config([Directive("source", params=(("x", "a\n</source>"),))])


def test_generated_config_round_trips_through_the_parser() -> None:
    settings = LoggingConfig(output="cloudwatch")
    nodes = parse_fluentd(
        render_config(
            build_fluentd_config(
                settings, namespace="logs", region="us-east-1", log_group_name="/g"
            )
        )
    )
    assert _by_type(nodes, "source", "tail")[0].params["exclude_path"] == [
        "/var/log/containers/*_logs_fluentd-*.log"
    ]


def _problems(raw: dict[str, Any]) -> list[str]:
    base = {"aws:region": "eu-west-1"}
    with pytest.raises(ValidationError) as info:
        parse_cluster_config({**base, **raw}, stack="staging", source="Pulumi.staging.yaml")
    return [str(p) for p in info.value.problems]


def test_unknown_output_is_refused_listing_both() -> None:
    assert _problems({"platform:logging": '{"output": "loki"}'}) == [
        "platform:logging.output: got 'loki': unknown log output; choose papertrail (HTTPS "
        "token destination) or cloudwatch (CloudWatch Logs)"
    ]


def test_papertrail_needs_host_port_and_token() -> None:
    assert _problems(
        {"platform:logging": '{"output": "papertrail", "papertrail": {"port": 443}}'}
    ) == [
        "platform:logging.papertrail: got {'port': 443}: output is papertrail but host is not "
        "set; copy them from the Papertrail log destination (e.g. host: "
        "logs.collector.solarwinds.com, port: 443)"
    ]
    assert _problems({"platform:logging": '{"output": "papertrail"}'}) == [
        "platform:logging.papertrail: missing: output is papertrail but host and port are not "
        "set; copy them from the Papertrail log destination (e.g. host: "
        "logs.collector.solarwinds.com, port: 443)"
    ]
    ok = '{"output": "papertrail", "papertrail": {"host": "logs.example.com", "port": 443}}'
    assert _problems({"platform:logging": ok}) == [
        "platform:papertrailToken: missing: logging.output is papertrail: set the token as a "
        "secret with `pulumi config set --secret platform:papertrailToken <token>`"
    ]


def test_buffer_and_retention_errors_all_at_once() -> None:
    raw = (
        '{"buffer": {"totalLimitSize": "lots", "flushInterval": "soon", "overflowAction": "x"},'
        ' "cloudwatch": {"retentionDays": 10}}'
    )
    problems = _problems({"platform:logging": raw})
    assert problems == [
        "platform:logging.cloudwatch.retentionDays: got 10: CloudWatch accepts only 1, 3, 5, 7, "
        "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, "
        "3653",
        "platform:logging.buffer.totalLimitSize: got 'lots': 'lots' is not a size; write it like "
        "8MB or 1GB",
        "platform:logging.buffer.flushInterval: got 'soon': not a duration; write it like 5s, 10m "
        "or 1h",
        "platform:logging.buffer.overflowAction: got 'x': choose one of drop_oldest_chunk, block, "
        "throw_exception",
    ]


def test_unknown_output_in_the_stack_file_exits_2_with_nothing_registered(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    stack.write_text(stack.read_text().replace("output: cloudwatch", "output: splunk"))
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == [] and result.manifests == []
    assert [d.message for d in result.diagnostics] == [
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:logging.output: got 'splunk': unknown log output; choose papertrail "
        "(HTTPS token destination) or cloudwatch (CloudWatch Logs)"
    ]

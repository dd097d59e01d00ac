"""Pure tests of the Envoy builder: validation texts, determinism, bootstrap and container shape."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import yaml
from eksplatform.core.errors import ValidationError
from eksplatform.envoy import (
    ENVOY_CONFIG_DIR,
    ENVOY_CONFIG_KEY,
    ENVOY_IMAGE,
    ENVOY_VERSION,
    CircuitBreakers,
    DogStatsd,
    EnvoyDependency,
    EnvoySettings,
    OutlierDetection,
    RetryPolicy,
    build_bootstrap,
    config_map_data,
    envoy_args,
    prestop_command,
    render_bootstrap_yaml,
    shutdown_budget_seconds,
    sidecar_container,
    validate_envoy_settings,
)

USERS = EnvoyDependency(name="users", namespace="identity", egress_port=15101)
RANKER = EnvoyDependency(
    name="ranker",
    namespace="ml",
    service="ranker-headless",
    port=50051,
    egress_port=15102,
    protocol="http2",
)
SETTINGS = EnvoySettings(service_name="feed", dependencies=(USERS, RANKER))

LABEL_FIX = (
    "must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with "
    "a letter or digit"
)

PORT_FIX = (
    "every local port (app, ingress, admin, stats, egress) must be distinct: pick a free port"
)


def problems_of(settings: EnvoySettings) -> list[str]:
    with pytest.raises(ValidationError) as info:
        validate_envoy_settings(settings)
    return [str(p) for p in info.value.problems]


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def hcm(listener: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return config


# --------------------------------------------------------------------------------------------------
# Validation: exact texts, all at once
# --------------------------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_with_field_value_and_fix() -> None:
    settings = EnvoySettings(
        service_name="Feed_Svc",
        app_port=8080,
        ingress_port=15001,
        admin_port=15000,
        stats_port=70000,
        request_timeout_s=2,
        app_connect_timeout_s=3,
        dependencies=(
            EnvoyDependency(
                name="users",
                namespace="identity",
                egress_port=15001,
                timeout_s=1,
                connect_timeout_s=2,
                retries=RetryPolicy(num_retries=11, per_try_timeout_s=1.5),
            ),
            EnvoyDependency(name="users", namespace="identity", egress_port=8080),
        ),
    )
    with pytest.raises(ValidationError) as info:
        validate_envoy_settings(settings)
    port_fix = PORT_FIX
    assert str(info.value) == "\n".join(
        [
            "Envoy sidecar settings for 'Feed_Svc': 9 problems:",
            f"  - service_name: got 'Feed_Svc': {LABEL_FIX}",
            "  - stats_port: got 70000: must be an integer port 1-65535",
            "  - dependencies[0].egress_port: got 15001: collides with ingress_port (15001); "
            + port_fix,
            f"  - dependencies[1].egress_port: got 8080: collides with app_port (8080); {port_fix}",
            "  - app_connect_timeout_s: got 3: must not exceed request_timeout_s (2); "
            "lower it or raise request_timeout_s",
            "  - dependencies[0].connect_timeout_s: got 2: must not exceed "
            "dependencies[0].timeout_s (1); lower it or raise dependencies[0].timeout_s",
            "  - dependencies[0].retries.num_retries: got 11: must be an integer 0-10",
            "  - dependencies[0].retries.per_try_timeout_s: got 1.5: must not exceed "
            "dependencies[0].timeout_s (1); lower it or raise dependencies[0].timeout_s",
            "  - dependencies[1].name: got 'users': duplicates dependencies[0].name; "
            "each dependency needs a unique name",
        ]
    )


def _dep(**kw: Any) -> EnvoySettings:
    """Settings with one dependency built from ``USERS`` with ``kw`` replaced."""
    return EnvoySettings(service_name="feed", dependencies=(dataclasses.replace(USERS, **kw),))


BAD_INPUTS: list[tuple[str, EnvoySettings, list[str]]] = [
    (
        "port zero",
        EnvoySettings(service_name="feed", app_port=0),
        ["app_port: got 0: must be an integer port 1-65535"],
    ),
    (
        "port too big",
        EnvoySettings(service_name="feed", ingress_port=65536),
        ["ingress_port: got 65536: must be an integer port 1-65535"],
    ),
    (
        "port not an int",
        EnvoySettings(service_name="feed", admin_port="15000"),  # type: ignore[arg-type]
        ["admin_port: got '15000': must be an integer port 1-65535"],
    ),
    (
        "port is a bool",
        _dep(port=True),
        ["dependencies[0].port: got True: must be an integer port 1-65535"],
    ),
    (
        "admin = stats",
        EnvoySettings(service_name="feed", stats_port=15000),
        [f"stats_port: got 15000: collides with admin_port (15000); {PORT_FIX}"],
    ),
    (
        "egress = admin",
        _dep(egress_port=15000),
        [f"dependencies[0].egress_port: got 15000: collides with admin_port (15000); {PORT_FIX}"],
    ),
    (
        "bad service name",
        EnvoySettings(service_name="-feed"),
        [f"service_name: got '-feed': {LABEL_FIX}"],
    ),
    (
        "long dep name",
        _dep(name="a" * 64),
        [f"dependencies[0].name: got '{'a' * 64}': {LABEL_FIX}"],
    ),
    (
        "bad namespace",
        _dep(namespace="Identity"),
        [f"dependencies[0].namespace: got 'Identity': {LABEL_FIX}"],
    ),
    (
        "bad service",
        _dep(service="users.svc"),
        [f"dependencies[0].service: got 'users.svc': {LABEL_FIX}"],
    ),
    (
        "bad protocol",
        _dep(protocol="http3"),
        ["dependencies[0].protocol: got 'http3': must be one of 'http1', 'http2'"],
    ),
    (
        "bad address",
        _dep(address="http://users"),
        [
            "dependencies[0].address: got 'http://users': "
            "must be a host name or IPv4 address, or None"
        ],
    ),
    (
        "per try above route",
        _dep(timeout_s=1, retries=RetryPolicy(per_try_timeout_s=2)),
        [
            "dependencies[0].retries.per_try_timeout_s: got 2: must not exceed "
            "dependencies[0].timeout_s (1); lower it or raise dependencies[0].timeout_s"
        ],
    ),
    (
        "connect above route",
        _dep(connect_timeout_s=10, timeout_s=5),
        [
            "dependencies[0].connect_timeout_s: got 10: must not exceed "
            "dependencies[0].timeout_s (5); lower it or raise dependencies[0].timeout_s"
        ],
    ),
    (
        "connect above request",
        EnvoySettings(service_name="feed", request_timeout_s=0.5),
        [
            "app_connect_timeout_s: got 1.0: must not exceed request_timeout_s (0.5); "
            "lower it or raise request_timeout_s"
        ],
    ),
    (
        "negative retries",
        _dep(retries=RetryPolicy(num_retries=-1)),
        ["dependencies[0].retries.num_retries: got -1: must be an integer 0-10"],
    ),
    (
        "unknown retry_on",
        _dep(retries=RetryPolicy(retry_on=("5xx", "sometimes"))),
        [
            "dependencies[0].retries.retry_on: got ('5xx', 'sometimes'): must be a non-empty "
            "tuple of Envoy retry conditions, e.g. ('5xx', 'reset', 'connect-failure')"
        ],
    ),
    (
        "zero budget",
        _dep(retries=RetryPolicy(budget_percent=0)),
        ["dependencies[0].retries.budget_percent: got 0: must be a number in (0, 100]"],
    ),
    (
        "zero timeout",
        _dep(timeout_s=0, connect_timeout_s=0.5, retries=RetryPolicy(per_try_timeout_s=0.5)),
        ["dependencies[0].timeout_s: got 0: must be a number of seconds from 0.001 to 3600"],
    ),
    (
        "nan timeout",
        EnvoySettings(service_name="feed", idle_timeout_s=float("nan")),
        ["idle_timeout_s: got nan: must be a number of seconds from 0.001 to 3600"],
    ),
    (
        "zero breaker",
        _dep(circuit_breakers=CircuitBreakers(max_pending_requests=0)),
        [
            "dependencies[0].circuit_breakers.max_pending_requests: got 0: "
            "must be an integer 1-1000000"
        ],
    ),
    (
        "ejection percent",
        _dep(outlier_detection=OutlierDetection(max_ejection_percent=101)),
        [
            "dependencies[0].outlier_detection.max_ejection_percent: got 101: "
            "must be an integer 0-100"
        ],
    ),
    (
        "header limit",
        EnvoySettings(service_name="feed", max_request_headers_kb=8193),
        ["max_request_headers_kb: got 8193: must be an integer 1-8192"],
    ),
    (
        "health path",
        EnvoySettings(service_name="feed", health_path="/healthz?x=1"),
        [
            "health_path: got '/healthz?x=1': "
            "must be a URL path starting with '/' without spaces, '?' or '#'"
        ],
    ),
    (
        "listen address",
        EnvoySettings(service_name="feed", listen_address="localhost"),
        ["listen_address: got 'localhost': must be an IPv4 address such as '0.0.0.0'"],
    ),
    (
        "dogstatsd dns",
        EnvoySettings(service_name="feed", dogstatsd=DogStatsd(host="agent.local")),
        [
            "dogstatsd.host: got 'agent.local': must be an IP address (Envoy's DogStatsD sink "
            "does not resolve names); leave it None to use the node's IP"
        ],
    ),
    (
        "drain float",
        EnvoySettings(service_name="feed", drain_time_s=2.5),  # type: ignore[arg-type]
        ["drain_time_s: got 2.5: must be an integer 1-300"],
    ),
    (
        "drain strategy",
        EnvoySettings(service_name="feed", drain_strategy="slow"),  # type: ignore[arg-type]
        ["drain_strategy: got 'slow': must be one of 'gradual', 'immediate'"],
    ),
    (
        "concurrency",
        EnvoySettings(service_name="feed", concurrency=0),
        ["concurrency: got 0: must be an integer 1-64"],
    ),
    (
        "dependency type",
        EnvoySettings(service_name="feed", dependencies=("users",)),  # type: ignore[arg-type]
        ["dependencies[0]: got 'users': must be an EnvoyDependency"],
    ),
]


@pytest.mark.parametrize(
    ("settings", "expected"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_message(settings: EnvoySettings, expected: list[str]) -> None:
    assert problems_of(settings) == expected


def test_builders_refuse_invalid_settings_before_any_yaml() -> None:
    bad = EnvoySettings(service_name="feed", app_port=0)
    for build in (
        build_bootstrap,
        render_bootstrap_yaml,
        config_map_data,
        sidecar_container,
        envoy_args,
        prestop_command,
        shutdown_budget_seconds,
    ):
        with pytest.raises(ValidationError, match=r"app_port: got 0"):
            build(bad)


def test_defaults_are_valid() -> None:
    validate_envoy_settings(EnvoySettings(service_name="feed"))
    validate_envoy_settings(SETTINGS)


# --------------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------------


def test_render_is_deterministic_and_round_trips() -> None:
    twin = EnvoySettings(
        service_name="feed",
        dependencies=[dataclasses.replace(USERS), dataclasses.replace(RANKER)],
    )
    text = render_bootstrap_yaml(SETTINGS)
    assert render_bootstrap_yaml(SETTINGS) == text
    assert render_bootstrap_yaml(twin) == text
    assert yaml.safe_load(text) == build_bootstrap(SETTINGS)
    assert config_map_data(SETTINGS) == {ENVOY_CONFIG_KEY: text}
    assert text.startswith(f"# Envoy {ENVOY_VERSION} bootstrap for feed;")


def test_render_changes_with_settings() -> None:
    changed = dataclasses.replace(SETTINGS, request_timeout_s=20)
    assert render_bootstrap_yaml(changed) != render_bootstrap_yaml(SETTINGS)


# --------------------------------------------------------------------------------------------------
# Bootstrap structure
# --------------------------------------------------------------------------------------------------


def test_admin_is_loopback_only_and_listeners_are_where_documented() -> None:
    b = build_bootstrap(SETTINGS)
    assert b["admin"] == {
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 15000}}
    }
    listeners = b["static_resources"]["listeners"]
    addresses = {
        listener["name"]: (
            listener["address"]["socket_address"]["address"],
            listener["address"]["socket_address"]["port_value"],
        )
        for listener in listeners
    }
    assert addresses == {
        "ingress": ("0.0.0.0", 15001),
        "stats": ("0.0.0.0", 15090),
        "egress_users": ("127.0.0.1", 15101),
        "egress_ranker": ("127.0.0.1", 15102),
    }
    assert by_name(listeners, "ingress")["traffic_direction"] == "INBOUND"
    assert by_name(listeners, "egress_users")["traffic_direction"] == "OUTBOUND"


def test_ingress_routes_to_app_with_timeouts_limits_and_health_filter() -> None:
    b = build_bootstrap(SETTINGS)
    ingress = hcm(by_name(b["static_resources"]["listeners"], "ingress"))
    assert ingress["codec_type"] == "AUTO"
    assert ingress["generate_request_id"] is True
    assert ingress["max_request_headers_kb"] == 60
    assert ingress["common_http_protocol_options"] == {"idle_timeout": "75s"}
    assert ingress["request_headers_timeout"] == "10s"
    route = ingress["route_config"]["virtual_hosts"][0]["routes"][0]
    assert route == {"match": {"prefix": "/"}, "route": {"cluster": "app", "timeout": "15s"}}
    health, router = ingress["http_filters"]
    assert health["name"] == "envoy.filters.http.health_check"
    assert health["typed_config"]["pass_through_mode"] is False
    assert health["typed_config"]["headers"] == [
        {"name": ":path", "string_match": {"exact": "/healthz/envoy"}}
    ]
    assert health["typed_config"]["cluster_min_healthy_percentages"] == {"app": {"value": 100.0}}
    assert router["name"] == "envoy.filters.http.router"

    app = by_name(b["static_resources"]["clusters"], "app")
    assert app["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"] == {
        "socket_address": {"address": "127.0.0.1", "port_value": 8080}
    }
    check = app["health_checks"][0]
    assert check["http_health_check"] == {"path": "/ready"}
    assert check["interval"] == check["no_traffic_interval"] == "2s"


def test_egress_cluster_has_dns_retries_breakers_and_outlier_detection() -> None:
    b = build_bootstrap(SETTINGS)
    users = by_name(b["static_resources"]["clusters"], "dep_users")
    assert users["type"] == "STRICT_DNS"
    assert users["connect_timeout"] == "1s"
    endpoint = users["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {
        "address": "users.identity.svc.cluster.local",
        "port_value": 80,
    }
    threshold = users["circuit_breakers"]["thresholds"][0]
    assert (
        threshold["max_connections"],
        threshold["max_pending_requests"],
        threshold["max_requests"],
    ) == (1024, 1024, 1024)
    assert threshold["retry_budget"] == {
        "budget_percent": {"value": 20.0},
        "min_retry_concurrency": 3,
    }
    assert users["outlier_detection"] == {
        "consecutive_5xx": 5,
        "interval": "10s",
        "base_ejection_time": "30s",
        "max_ejection_percent": 50,
    }
    options = users["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert options["explicit_http_config"] == {"http_protocol_options": {}}

    ranker = by_name(b["static_resources"]["clusters"], "dep_ranker")
    endpoint = ranker["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert (
        endpoint["address"]["socket_address"]["address"] == "ranker-headless.ml.svc.cluster.local"
    )
    options = ranker["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert options["explicit_http_config"] == {"http2_protocol_options": {}}

    listener = hcm(by_name(b["static_resources"]["listeners"], "egress_users"))
    route = listener["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["cluster"] == "dep_users"
    assert route["timeout"] == "5s"
    retry = route["retry_policy"]
    assert (retry["retry_on"], retry["num_retries"], retry["per_try_timeout"]) == (
        "5xx,reset,connect-failure",
        2,
        "2s",
    )


def test_durations_keep_milliseconds() -> None:
    s = _dep(timeout_s=0.25, connect_timeout_s=0.1, retries=RetryPolicy(per_try_timeout_s=0.125))
    route = hcm(build_bootstrap(s)["static_resources"]["listeners"][2])["route_config"][
        "virtual_hosts"
    ][0]["routes"][0]["route"]
    assert (route["timeout"], route["retry_policy"]["per_try_timeout"]) == ("0.250s", "0.125s")


def test_access_log_is_json_on_stdout_and_can_be_turned_off() -> None:
    ingress = hcm(build_bootstrap(SETTINGS)["static_resources"]["listeners"][0])
    (log,) = ingress["access_log"]
    assert log["name"] == "envoy.access_loggers.stdout"
    assert log["filter"] == {"not_health_check_filter": {}}
    fields = log["typed_config"]["log_format"]["json_format"]
    assert {
        "start_time",
        "method",
        "path",
        "protocol",
        "response_code",
        "response_flags",
        "duration_ms",
        "upstream_host",
        "upstream_cluster",
        "request_id",
        "bytes_received",
        "bytes_sent",
    } <= fields.keys()
    assert fields["response_flags"] == "%RESPONSE_FLAGS%"
    quiet = build_bootstrap(dataclasses.replace(SETTINGS, access_log=False))
    assert all(
        "access_log" not in hcm(listener) for listener in quiet["static_resources"]["listeners"]
    )


def test_stats_listener_exposes_only_prometheus_and_ready() -> None:
    stats = hcm(build_bootstrap(SETTINGS)["static_resources"]["listeners"][1])
    routes = stats["route_config"]["virtual_hosts"][0]["routes"]
    assert [r["match"] for r in routes] == [
        {"path": "/stats/prometheus"},
        {"path": "/ready"},
        {"prefix": "/"},
    ]
    assert routes[2]["direct_response"] == {"status": 404}


def test_dogstatsd_sink_off_by_default_fixed_host_or_node_ip() -> None:
    assert "stats_sinks" not in build_bootstrap(SETTINGS)

    fixed = build_bootstrap(dataclasses.replace(SETTINGS, dogstatsd=DogStatsd(host="10.0.0.1")))
    (sink,) = fixed["stats_sinks"]
    assert sink["name"] == "envoy.stat_sinks.dog_statsd"
    assert sink["typed_config"]["address"]["socket_address"] == {
        "address": "10.0.0.1",
        "port_value": 8125,
        "protocol": "UDP",
    }

    node = dataclasses.replace(SETTINGS, dogstatsd=DogStatsd())
    assert "stats_sinks" not in build_bootstrap(node)
    args = envoy_args(node)
    overlay = json.loads(args[args.index("--config-yaml") + 1])
    assert overlay["stats_sinks"][0]["typed_config"]["address"]["socket_address"]["address"] == (
        "$(HOST_IP)"
    )
    container: Any = sidecar_container(node)
    (env,) = container.env
    assert env.name == "HOST_IP"
    assert env.value_from.field_ref.field_path == "status.hostIP"


# --------------------------------------------------------------------------------------------------
# Process, container, shutdown budget
# --------------------------------------------------------------------------------------------------


def test_envoy_args_match_settings() -> None:
    args = envoy_args(SETTINGS)
    assert args[:2] == ["-c", f"{ENVOY_CONFIG_DIR}/{ENVOY_CONFIG_KEY}"]
    flags = dict(zip(args[2::2], args[3::2], strict=False))
    assert flags["--concurrency"] == "2"
    assert flags["--drain-time-s"] == "5"
    assert flags["--drain-strategy"] == "gradual"
    assert "--disable-hot-restart" in args
    assert "--config-yaml" not in args


def test_shutdown_budget_covers_drain_and_longest_request() -> None:
    assert shutdown_budget_seconds(SETTINGS) == 5 + 15 + 2
    slow = dataclasses.replace(
        SETTINGS, drain_time_s=10, dependencies=(dataclasses.replace(USERS, timeout_s=30.5),)
    )
    assert shutdown_budget_seconds(slow) == 10 + 31 + 2


def test_prestop_fails_health_checks_drains_then_waits() -> None:
    command = prestop_command(SETTINGS)
    assert command[:2] == ["/bin/bash", "-c"]
    script = command[2]
    assert script.index("POST /healthcheck/fail") < script.index("POST '/drain_listeners?graceful'")
    assert "/dev/tcp/127.0.0.1/15000" in script
    assert "sleep 5\n" in script
    assert "deadline=$((SECONDS + 15))" in script


def test_sidecar_container_is_a_hardened_native_sidecar() -> None:
    c: Any = sidecar_container(SETTINGS)  # read back through the SDK's Input-typed properties
    assert c.name == "envoy"
    assert c.restart_policy == "Always"
    assert c.image == ENVOY_IMAGE == f"envoyproxy/envoy:v{ENVOY_VERSION}"
    assert c.command == ["envoy"]
    assert c.args == envoy_args(SETTINGS)
    assert [(p.name, p.container_port) for p in c.ports] == [
        ("envoy-http", 15001),
        ("envoy-prom", 15090),
    ]
    for probe in (c.startup_probe, c.readiness_probe):
        assert (probe.http_get.path, probe.http_get.port) == ("/ready", 15090)
    assert c.resources.requests == {"cpu": "100m", "memory": "64Mi"}
    assert c.resources.limits == {"memory": "64Mi"}
    sc = c.security_context
    assert (
        sc.run_as_non_root,
        sc.run_as_user,
        sc.read_only_root_filesystem,
        sc.allow_privilege_escalation,
    ) == (True, 101, True, False)
    assert sc.capabilities.drop == ["ALL"]
    assert sc.seccomp_profile.type == "RuntimeDefault"
    (mount,) = c.volume_mounts
    assert (mount.name, mount.mount_path, mount.read_only) == (
        "envoy-config",
        ENVOY_CONFIG_DIR,
        True,
    )
    assert c.lifecycle.pre_stop.exec_.command == prestop_command(SETTINGS)


def test_settings_are_frozen_and_keyword_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SETTINGS.app_port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        EnvoySettings("feed")  # type: ignore[call-arg]


def test_every_settings_field_documents_its_default() -> None:
    import ast
    import inspect

    import eksplatform.envoy.settings as module

    tree = ast.parse(inspect.getsource(module))
    classes = {
        "EnvoySettings",
        "EnvoyDependency",
        "RetryPolicy",
        "CircuitBreakers",
        "OutlierDetection",
        "DogStatsd",
    }
    seen = 0
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in classes:
            body = node.body
            for i, stmt in enumerate(body):
                if isinstance(stmt, ast.AnnAssign):
                    doc = body[i + 1]
                    assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant), (
                        f"{node.name}.{ast.unparse(stmt.target)} has no docstring"
                    )
                    text = str(doc.value.value)
                    assert "Default:" in text or "Required." in text, (
                        f"{node.name}.{ast.unparse(stmt.target)}: {text!r}"
                    )
                    seen += 1
    assert seen >= 40

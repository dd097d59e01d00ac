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
    max_request_seconds,
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

PATH_FIX = (
    "must be a normalised URL path starting with '/': no spaces, '?', '#', '%', '\\', empty, "
    "'.' or '..' segments (Envoy normalises paths before matching)"
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
            "dependencies[0].retries.retry_on: got ('5xx', 'sometimes'): must be a tuple of "
            "Envoy retry conditions (empty: never retry), e.g. ('5xx', 'reset', 'connect-failure')"
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
        ["health_path: got '/healthz?x=1': " + PATH_FIX],
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
    listener = by_name(b["static_resources"]["listeners"], "ingress")
    assert listener["drain_type"] == "MODIFY_ONLY"
    assert listener["per_connection_buffer_limit_bytes"] == 32 * 1024
    assert "ignore_global_conn_limit" not in listener  # the one listener the cap applies to
    ingress = hcm(listener)
    assert ingress["codec_type"] == "AUTO"
    assert ingress["generate_request_id"] is True
    assert ingress["max_request_headers_kb"] == 60
    assert ingress["common_http_protocol_options"] == {
        "idle_timeout": "75s",
        "max_stream_duration": "25s",
        "headers_with_underscores_action": "DROP_HEADER",
    }
    assert ingress["request_headers_timeout"] == "10s"
    assert ingress["request_timeout"] == "10s"
    assert ingress["stream_idle_timeout"] == "15s"
    assert ingress["path_with_escaped_slashes_action"] == "UNESCAPE_AND_REDIRECT"
    assert ingress["http2_protocol_options"] == {
        "max_concurrent_streams": 100,
        "initial_stream_window_size": 65536,
        "initial_connection_window_size": 1048576,
    }
    idempotent, other = ingress["route_config"]["virtual_hosts"][0]["routes"]
    assert idempotent["match"] == {
        "prefix": "/",
        "headers": [
            {
                "name": ":method",
                "string_match": {"safe_regex": {"regex": "GET|HEAD|OPTIONS|TRACE|PUT|DELETE"}},
            }
        ],
    }
    assert other["match"] == {"prefix": "/"}
    for route, retry_on in (
        (idempotent, "reset,connect-failure,refused-stream"),
        (other, "connect-failure,refused-stream,reset-before-request"),
    ):
        assert route["route"] == {
            "cluster": "app",
            "timeout": "15s",
            "retry_policy": {
                "retry_on": retry_on,
                "num_retries": 2,
                "retry_back_off": {"base_interval": "0.050s", "max_interval": "0.500s"},
            },
        }
    strip, health, router = ingress["http_filters"]
    assert strip["typed_config"]["mutations"] == {
        "request_mutations": [{"remove_on_match": {"key_matcher": {"prefix": "x-envoy-"}}}]
    }
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
    assert app["per_connection_buffer_limit_bytes"] == 32 * 1024
    options = app["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert options["common_http_protocol_options"] == {"idle_timeout": "1s"}
    check = app["health_checks"][0]
    assert check["http_health_check"] == {"path": "/ready"}
    assert check["interval"] == check["no_traffic_interval"] == "2s"


def test_every_listener_strips_envoy_headers_and_only_ingress_counts_connections() -> None:
    listeners = build_bootstrap(SETTINGS)["static_resources"]["listeners"]
    for listener in listeners:
        assert listener["drain_type"] == "MODIFY_ONLY", listener["name"]
        first = hcm(listener)["http_filters"][0]
        assert first["name"] == "envoy.filters.http.header_mutation", listener["name"]
        exempt = listener.get("ignore_global_conn_limit", False)
        assert exempt is (listener["name"] != "ingress"), listener["name"]


def test_ingress_timeouts_follow_the_settings() -> None:
    s = dataclasses.replace(
        SETTINGS,
        request_headers_timeout_s=30,
        request_receive_timeout_s=4,
        request_timeout_s=2.5,
        stream_idle_timeout_s=None,
        escaped_slashes="reject",
        buffer_limit_kib=64,
        max_concurrent_streams=7,
        app_idle_timeout_s=0.5,
    )
    b = build_bootstrap(s)
    listener = by_name(b["static_resources"]["listeners"], "ingress")
    ingress = hcm(listener)
    # The headers never get longer than the whole request.
    assert (ingress["request_headers_timeout"], ingress["request_timeout"]) == ("4s", "4s")
    assert ingress["stream_idle_timeout"] == "4s"  # the longer of receive and route timeouts
    assert ingress["common_http_protocol_options"]["max_stream_duration"] == "6.500s"
    assert ingress["path_with_escaped_slashes_action"] == "REJECT_REQUEST"
    assert ingress["http2_protocol_options"]["max_concurrent_streams"] == 7
    assert listener["per_connection_buffer_limit_bytes"] == 65536
    idle = dataclasses.replace(s, stream_idle_timeout_s=1.5)
    assert (
        hcm(by_name(build_bootstrap(idle)["static_resources"]["listeners"], "ingress"))[
            "stream_idle_timeout"
        ]
        == "1.500s"
    )
    for choice, envoy_name in (
        ("unescape_and_forward", "UNESCAPE_AND_FORWARD"),
        ("keep", "KEEP_UNCHANGED"),
        ("unescape_and_redirect", "UNESCAPE_AND_REDIRECT"),
    ):
        b = build_bootstrap(dataclasses.replace(s, escaped_slashes=choice))  # type: ignore[arg-type]
        listener = by_name(b["static_resources"]["listeners"], "ingress")
        assert hcm(listener)["path_with_escaped_slashes_action"] == envoy_name


def test_overload_manager_caps_heap_and_connections_from_the_memory_limit() -> None:
    overload = build_bootstrap(SETTINGS)["overload_manager"]
    monitors = {m["name"]: m["typed_config"] for m in overload["resource_monitors"]}
    heap = monitors["envoy.resource_monitors.fixed_heap"]
    assert heap["max_heap_size_bytes"] == (128 - 52 - 12) * 2**20
    connections = monitors["envoy.resource_monitors.global_downstream_max_connections"]
    # 90% of 64 MiB less the idle heap (10 MiB + 0.25 per dependency), 100 KiB per connection.
    assert connections["max_active_downstream_connections"] == int((0.9 * 64 - 10.5) * 1024 / 100)
    actions = {a["name"]: a["triggers"][0] for a in overload["actions"]}
    assert actions["envoy.overload_actions.stop_accepting_requests"]["threshold"] == {"value": 0.9}
    assert actions["envoy.overload_actions.reject_incoming_connections"]["threshold"] == {
        "value": 0.9
    }
    assert actions["envoy.overload_actions.shrink_heap"]["threshold"] == {"value": 0.85}
    assert actions["envoy.overload_actions.disable_http_keepalive"]["threshold"] == {"value": 0.85}
    # Measured to make memory jump, not fall (see eksplatform.envoy.memory).
    assert "envoy.overload_actions.reset_high_memory_stream" not in actions

    bigger = build_bootstrap(
        dataclasses.replace(SETTINGS, memory_limit_mib=256, max_downstream_connections=100)
    )["overload_manager"]
    monitors = {m["name"]: m["typed_config"] for m in bigger["resource_monitors"]}
    assert monitors["envoy.resource_monitors.fixed_heap"]["max_heap_size_bytes"] == 192 * 2**20
    assert (
        monitors["envoy.resource_monitors.global_downstream_max_connections"][
            "max_active_downstream_connections"
        ]
        == 100
    )


def test_egress_cluster_has_dns_retries_breakers_and_outlier_detection() -> None:
    b = build_bootstrap(SETTINGS)
    users = by_name(b["static_resources"]["clusters"], "dep_users")
    assert users["type"] == "STRICT_DNS"
    assert users["connect_timeout"] == "1s"
    assert users["per_connection_buffer_limit_bytes"] == 32 * 1024
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
    assert options["common_http_protocol_options"] == {"idle_timeout": "30s"}

    ranker = by_name(b["static_resources"]["clusters"], "dep_ranker")
    endpoint = ranker["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert (
        endpoint["address"]["socket_address"]["address"] == "ranker-headless.ml.svc.cluster.local"
    )
    options = ranker["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    # Half the server's stream limit per connection.
    assert options["explicit_http_config"] == {
        "http2_protocol_options": {
            "max_concurrent_streams": 50,
            "initial_stream_window_size": 65536,
            "initial_connection_window_size": 1048576,
        }
    }

    listener = by_name(b["static_resources"]["listeners"], "egress_users")
    assert listener["ignore_global_conn_limit"] is True
    assert hcm(listener)["stream_idle_timeout"] == "5s"
    idempotent, other = hcm(listener)["route_config"]["virtual_hosts"][0]["routes"]
    assert idempotent["match"]["headers"][0]["name"] == ":method"
    assert other["match"] == {"prefix": "/"}
    route = idempotent["route"]
    assert (route["cluster"], route["timeout"]) == ("dep_users", "5s")
    retry = route["retry_policy"]
    assert (retry["retry_on"], retry["num_retries"], retry["per_try_timeout"]) == (
        "5xx,reset,connect-failure,refused-stream",
        2,
        "2s",
    )
    assert retry["retry_back_off"] == {"base_interval": "0.100s", "max_interval": "1s"}
    assert retry["rate_limited_retry_back_off"] == {
        "reset_headers": [{"name": "retry-after", "format": "SECONDS"}],
        "max_interval": "2s",
    }
    assert retry["retry_host_predicate"][0]["name"] == "envoy.retry_host_predicates.previous_hosts"
    # Non-idempotent: only what cannot have been processed, and no per-try timeout (one attempt
    # may use the whole call timeout).
    retry = other["route"]["retry_policy"]
    assert retry["retry_on"] == "connect-failure,refused-stream,reset-before-request"
    assert "per_try_timeout" not in retry


def test_retry_options_reach_the_routes() -> None:
    never = _dep(retries=RetryPolicy(non_idempotent_retry_on=()))
    routes = hcm(build_bootstrap(never)["static_resources"]["listeners"][2])["route_config"][
        "virtual_hosts"
    ][0]["routes"]
    assert "retry_policy" not in routes[1]["route"]
    assert "retry_policy" in routes[0]["route"]
    none = _dep(retries=RetryPolicy(num_retries=0))
    routes = hcm(build_bootstrap(none)["static_resources"]["listeners"][2])["route_config"][
        "virtual_hosts"
    ][0]["routes"]
    assert ["retry_policy" in r["route"] for r in routes] == [False, False]
    opted = _dep(
        timeout_s=1.5,
        retries=RetryPolicy(
            per_try_timeout_s=0.5,
            non_idempotent_retry_on=("5xx",),
            max_retry_after_s=30,
            backoff_base_s=0.25,
        ),
    )
    routes = hcm(build_bootstrap(opted)["static_resources"]["listeners"][2])["route_config"][
        "virtual_hosts"
    ][0]["routes"]
    retry = routes[1]["route"]["retry_policy"]
    assert (retry["retry_on"], retry["per_try_timeout"]) == ("5xx", "0.500s")
    # Neither wait outlasts the call.
    assert retry["rate_limited_retry_back_off"]["max_interval"] == "1.500s"
    assert retry["retry_back_off"] == {"base_interval": "0.250s", "max_interval": "2.500s"}
    streams = build_bootstrap(_dep(protocol="http2", max_concurrent_streams=1, idle_timeout_s=4))[
        "static_resources"
    ]["clusters"][2]["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert streams["explicit_http_config"]["http2_protocol_options"]["max_concurrent_streams"] == 1
    assert streams["common_http_protocol_options"] == {"idle_timeout": "4s"}


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


def test_shutdown_budget_covers_drain_and_longest_ingress_request() -> None:
    assert shutdown_budget_seconds(SETTINGS) == 5 + (10 + 15) + 2
    assert max_request_seconds(SETTINGS) == 25
    slow = dataclasses.replace(
        SETTINGS,
        drain_time_s=10,
        request_receive_timeout_s=2.5,
        dependencies=(dataclasses.replace(USERS, timeout_s=30.5),),
    )
    assert shutdown_budget_seconds(slow) == 10 + 18 + 2
    # The longest request overall is the slow dependency's (the hook only waits for ingress).
    assert max_request_seconds(slow) == 30.5


def test_prestop_fails_health_checks_drains_ingress_then_waits() -> None:
    command = prestop_command(SETTINGS)
    assert command[:2] == ["/bin/bash", "-c"]
    script = command[2]
    assert script.index("POST /healthcheck/fail") < script.index(
        "POST '/drain_listeners?graceful&inboundonly'"
    )
    assert "/dev/tcp/127.0.0.1/15000" in script
    assert "sleep 5\n" in script
    assert "deadline=$((SECONDS + 25))" in script
    assert "ingress_http.downstream_rq_active: [1-9]" in script


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
    assert c.resources.requests == {"cpu": "100m", "memory": "128Mi"}
    assert c.resources.limits == {"memory": "128Mi"}
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

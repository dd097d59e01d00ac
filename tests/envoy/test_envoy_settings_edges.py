"""Every Envoy settings check at its edges: each limit just inside and just outside on both
sides, each optional setting once with a valid value, each message exact.

Pure (no Envoy binary): these run in milliseconds and are what mutation testing of
``eksplatform.envoy.validation`` leans on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eksplatform.core.errors import ValidationError
from eksplatform.envoy import (
    CircuitBreakers,
    DogStatsd,
    EnvoyDependency,
    EnvoySettings,
    OutlierDetection,
    RetryPolicy,
    envoy_problems,
    memory,
    sidecar_container,
    validate_envoy_settings,
)

SECONDS = "must be a number of seconds from 0.001 to 3600"
LABEL = (
    "must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with "
    "a letter or digit"
)
PATH = (
    "must be a normalised URL path starting with '/': no spaces, '?', '#', '%', '\\', empty, "
    "'.' or '..' segments (Envoy normalises paths before matching)"
)
PORT = "must be an integer port 1-65535"
CONDITIONS = "must be a tuple of Envoy retry conditions (empty: never retry), e.g. "
USERS = EnvoyDependency(name="users", namespace="identity", egress_port=15101)


def s(**kw: Any) -> EnvoySettings:
    return EnvoySettings(service_name="feed", **kw)


def d(**kw: Any) -> EnvoySettings:
    """Settings with one dependency, ``USERS`` with ``kw`` replaced."""
    return s(dependencies=(dataclasses.replace(USERS, **kw),))


def r(**kw: Any) -> EnvoySettings:
    """Settings with one dependency whose retry policy has ``kw``."""
    return d(retries=RetryPolicy(**kw))


def problems(settings: EnvoySettings) -> list[str]:
    return [str(p) for p in envoy_problems(settings)]


def ok(settings: EnvoySettings) -> None:
    assert problems(settings) == []
    validate_envoy_settings(settings)


# --------------------------------------------------------------------------------------------------
# Valid: every edge just inside, every optional setting once
# --------------------------------------------------------------------------------------------------

CAPACITY = memory.connection_capacity(s())

VALID: dict[str, EnvoySettings] = {
    "defaults": s(),
    "label 1 char": EnvoySettings(service_name="a"),
    "label 63 chars": EnvoySettings(service_name="a" * 63),
    "label with dash": EnvoySettings(service_name="a-1"),
    "http2 app": s(app_protocol="http2"),
    "root health path": s(health_path="/"),
    "trailing slash path": s(app_health_path="/ready/"),
    "dotted segment name": s(health_path="/.well-known/health"),
    "loopback listen": s(listen_address="127.0.0.1"),
    "port 1": s(app_port=1),
    "port 65535": s(app_port=65535),
    "seconds low": s(
        request_timeout_s=0.001,
        app_connect_timeout_s=0.001,
        app_health_check_interval_s=0.001,
        app_idle_timeout_s=0.001,
        idle_timeout_s=0.001,
        request_receive_timeout_s=0.001,
        request_headers_timeout_s=0.001,
        stream_idle_timeout_s=0.001,
    ),
    "seconds high": s(
        request_timeout_s=3600,
        app_connect_timeout_s=3600,
        app_health_check_interval_s=3600,
        app_idle_timeout_s=3600,
        idle_timeout_s=3600,
        request_receive_timeout_s=3600,
        request_headers_timeout_s=3600,
        stream_idle_timeout_s=3600,
    ),
    "headers longer than receive": s(request_headers_timeout_s=20, request_receive_timeout_s=5),
    "connect equals request": s(app_connect_timeout_s=15.0),
    "headers kb edges": s(max_request_headers_kb=1),
    "headers kb high": s(max_request_headers_kb=8192),
    "escaped reject": s(escaped_slashes="reject"),
    "escaped forward": s(escaped_slashes="unescape_and_forward"),
    "escaped keep": s(escaped_slashes="keep"),
    "buffer low": s(buffer_limit_kib=4),
    "buffer high": s(buffer_limit_kib=1024),
    "streams low": s(max_concurrent_streams=1),
    "streams high": s(max_concurrent_streams=2**31 - 1),
    "memory minimum": s(memory_limit_mib=memory.min_memory_limit_mib(s())),
    "memory maximum": s(memory_limit_mib=65536),
    "connections 1": s(max_downstream_connections=1),
    "connections at capacity": s(max_downstream_connections=CAPACITY),
    "no access log": s(access_log=False),
    "dependencies as list": s(dependencies=[USERS]),
    "dogstatsd node ip": s(dogstatsd=DogStatsd()),
    "dogstatsd ipv6": s(dogstatsd=DogStatsd(host="fd00::1", port=1, prefix="a")),
    "dogstatsd prefix": s(dogstatsd=DogStatsd(host="10.0.0.1", port=65535, prefix="svc.feed_1")),
    "drain edges": s(drain_time_s=1, drain_strategy="immediate"),
    "drain high": s(drain_time_s=300),
    "concurrency edges": s(concurrency=1, log_level="trace"),
    "concurrency high": s(concurrency=64, log_level="off"),
    "dep service": d(service="users-headless", port=1, address="10.0.0.1"),
    "dep host address": d(address="a", port=65535),
    "dep dns address": d(address="users.identity.svc.cluster.local"),
    "dep timeouts low": d(
        timeout_s=0.001,
        connect_timeout_s=0.001,
        idle_timeout_s=0.001,
        retries=RetryPolicy(per_try_timeout_s=0.001, max_retry_after_s=0.001, backoff_base_s=0.001),
    ),
    "dep timeouts high": d(
        timeout_s=3600,
        connect_timeout_s=3600,
        idle_timeout_s=3600,
        retries=RetryPolicy(per_try_timeout_s=3600, max_retry_after_s=3600, backoff_base_s=3600),
    ),
    "retry-after above timeout (capped)": r(max_retry_after_s=30, backoff_base_s=30),
    "http2 streams low": d(protocol="http2", max_concurrent_streams=1),
    "http2 streams high": d(protocol="http2", max_concurrent_streams=2**31 - 1),
    "http1 default streams": d(protocol="http1", max_concurrent_streams=100),
    "retries none": r(num_retries=0, retry_on=(), non_idempotent_retry_on=()),
    "retries max": r(num_retries=10),
    "retry on list": r(retry_on=["gateway-error", "unavailable"]),
    "non-idempotent opt in": r(non_idempotent_retry_on=("5xx", "reset", "retriable-4xx")),
    "budget edges": r(budget_percent=100, min_retry_concurrency=1),
    "budget small": r(budget_percent=0.01, min_retry_concurrency=1_000_000),
    "breakers low": d(circuit_breakers=CircuitBreakers(max_connections=1, max_pending_requests=1,
                                                       max_requests=1)),
    "breakers high": d(circuit_breakers=CircuitBreakers(
        max_connections=1_000_000, max_pending_requests=1_000_000, max_requests=1_000_000)),
    "outlier low": d(outlier_detection=OutlierDetection(
        consecutive_5xx=1, interval_s=0.001, base_ejection_time_s=0.001, max_ejection_percent=0)),
    "outlier high": d(outlier_detection=OutlierDetection(
        consecutive_5xx=1000, interval_s=3600, base_ejection_time_s=3600,
        max_ejection_percent=100)),
}  # fmt: skip


@pytest.mark.parametrize("settings", list(VALID.values()), ids=list(VALID))
def test_valid_edges(settings: EnvoySettings) -> None:
    ok(settings)


def test_every_retry_condition_is_accepted() -> None:
    from eksplatform.envoy import RETRY_ON_VALUES

    ok(r(retry_on=tuple(sorted(RETRY_ON_VALUES)), non_idempotent_retry_on=tuple(RETRY_ON_VALUES)))


def test_every_log_level_is_accepted() -> None:
    from eksplatform.envoy import LOG_LEVELS

    for level in LOG_LEVELS:
        ok(s(log_level=level))


# --------------------------------------------------------------------------------------------------
# Invalid: every edge just outside, exact message
# --------------------------------------------------------------------------------------------------


def secs(field: str, value: Any) -> str:
    return f"{field}: got {value!r}: {SECONDS}"


INVALID: dict[str, tuple[EnvoySettings, list[str]]] = {
    "label 64 chars": (EnvoySettings(service_name="a" * 64), [f"service_name: got {'a' * 64!r}: {LABEL}"]),
    "label trailing newline": (EnvoySettings(service_name="feed\n"), [f"service_name: got 'feed\\n': {LABEL}"]),
    "label trailing dash": (EnvoySettings(service_name="feed-"), [f"service_name: got 'feed-': {LABEL}"]),
    "label upper": (EnvoySettings(service_name="Feed"), [f"service_name: got 'Feed': {LABEL}"]),
    "label empty": (EnvoySettings(service_name=""), [f"service_name: got '': {LABEL}"]),
    "label not str": (EnvoySettings(service_name=7), [f"service_name: got 7: {LABEL}"]),  # type: ignore[arg-type]
    "app protocol": (s(app_protocol="h2"), ["app_protocol: got 'h2': must be one of 'http1', 'http2'"]),
    "app protocol not str": (s(app_protocol=["http1"]), ["app_protocol: got ['http1']: must be one of 'http1', 'http2'"]),
    "path relative": (s(health_path="healthz"), [f"health_path: got 'healthz': {PATH}"]),
    "path empty segment": (s(health_path="/a//b"), [f"health_path: got '/a//b': {PATH}"]),
    "path double root": (s(health_path="//"), [f"health_path: got '//': {PATH}"]),
    "path dot segment": (s(health_path="/a/./b"), [f"health_path: got '/a/./b': {PATH}"]),
    "path dotdot last": (s(app_health_path="/a/.."), [f"app_health_path: got '/a/..': {PATH}"]),
    "path dot last": (s(app_health_path="/."), [f"app_health_path: got '/.': {PATH}"]),
    "path percent": (s(health_path="/a%2Fb"), [f"health_path: got '/a%2Fb': {PATH}"]),
    "path backslash": (s(health_path="/a\\b"), [f"health_path: got '/a\\\\b': {PATH}"]),
    "path space": (s(health_path="/a b"), [f"health_path: got '/a b': {PATH}"]),
    "path newline": (s(health_path="/a\n"), [f"health_path: got '/a\\n': {PATH}"]),
    "path query": (s(health_path="/a?b"), [f"health_path: got '/a?b': {PATH}"]),
    "path fragment": (s(health_path="/a#"), [f"health_path: got '/a#': {PATH}"]),
    "path not str": (s(health_path=None), [f"health_path: got None: {PATH}"]),
    "listen ipv6": (s(listen_address="::"), ["listen_address: got '::': must be an IPv4 address such as '0.0.0.0'"]),
    "port 0": (s(stats_port=0), [f"stats_port: got 0: {PORT}"]),
    "port 65536": (s(admin_port=65536), [f"admin_port: got 65536: {PORT}"]),
    "port bool": (s(ingress_port=True), [f"ingress_port: got True: {PORT}"]),
    "request timeout low": (s(request_timeout_s=0.0009, app_connect_timeout_s=0.0009), [secs("request_timeout_s", 0.0009), secs("app_connect_timeout_s", 0.0009)]),
    "request timeout high": (s(request_timeout_s=3600.5), [secs("request_timeout_s", 3600.5)]),
    "request timeout bool": (s(request_timeout_s=True), [secs("request_timeout_s", True)]),
    "request timeout inf": (s(request_timeout_s=float("inf")), [secs("request_timeout_s", float("inf"))]),
    "connect above request": (s(app_connect_timeout_s=15.001), ["app_connect_timeout_s: got 15.001: must not exceed request_timeout_s (15.0); lower it or raise request_timeout_s"]),
    "health interval": (s(app_health_check_interval_s=0), [secs("app_health_check_interval_s", 0)]),
    "app idle": (s(app_idle_timeout_s=3601), [secs("app_idle_timeout_s", 3601)]),
    "idle": (s(idle_timeout_s=-1), [secs("idle_timeout_s", -1)]),
    "receive": (s(request_receive_timeout_s=0), [secs("request_receive_timeout_s", 0)]),
    "headers": (s(request_headers_timeout_s="10"), [secs("request_headers_timeout_s", "10")]),
    "stream idle low": (s(stream_idle_timeout_s=0), [secs("stream_idle_timeout_s", 0)]),
    "stream idle high": (s(stream_idle_timeout_s=3601), [secs("stream_idle_timeout_s", 3601)]),
    "headers kb 0": (s(max_request_headers_kb=0), ["max_request_headers_kb: got 0: must be an integer 1-8192"]),
    "headers kb 8193": (s(max_request_headers_kb=8193), ["max_request_headers_kb: got 8193: must be an integer 1-8192"]),
    "escaped unknown": (s(escaped_slashes="Reject"), ["escaped_slashes: got 'Reject': must be one of 'unescape_and_redirect', 'reject', 'unescape_and_forward', 'keep'"]),
    "buffer 3": (s(buffer_limit_kib=3), ["buffer_limit_kib: got 3: must be an integer 4-1024"]),
    "buffer 1025": (s(buffer_limit_kib=1025), ["buffer_limit_kib: got 1025: must be an integer 4-1024"]),
    "buffer float": (s(buffer_limit_kib=32.0, max_downstream_connections=10), ["buffer_limit_kib: got 32.0: must be an integer 4-1024"]),
    "streams 0": (s(max_concurrent_streams=0), ["max_concurrent_streams: got 0: must be an integer 1-2147483647"]),
    "streams 2^31": (s(max_concurrent_streams=2**31), ["max_concurrent_streams: got 2147483648: must be an integer 1-2147483647"]),
    "access log int": (s(access_log=1), ["access_log: got 1: must be True or False"]),
    "dependencies str": (s(dependencies="users"), ["dependencies: got 'users': must be a tuple of EnvoyDependency"]),
    "dependency dict": (s(dependencies=({"name": "users"},)), ["dependencies[0]: got {'name': 'users'}: must be an EnvoyDependency"]),
    "dogstatsd name": (s(dogstatsd=DogStatsd(host="agent")), ["dogstatsd.host: got 'agent': must be an IP address (Envoy's DogStatsD sink does not resolve names); leave it None to use the node's IP"]),
    "dogstatsd port": (s(dogstatsd=DogStatsd(port=0)), [f"dogstatsd.port: got 0: {PORT}"]),
    "dogstatsd prefix digit": (s(dogstatsd=DogStatsd(prefix="1a")), ["dogstatsd.prefix: got '1a': must start with a letter; letters, digits, '_', '.'"]),
    "dogstatsd prefix dash": (s(dogstatsd=DogStatsd(prefix="a-b")), ["dogstatsd.prefix: got 'a-b': must start with a letter; letters, digits, '_', '.'"]),
    "dogstatsd prefix newline": (s(dogstatsd=DogStatsd(prefix="a\n")), ["dogstatsd.prefix: got 'a\\n': must start with a letter; letters, digits, '_', '.'"]),
    "dogstatsd type": (s(dogstatsd=True), ["dogstatsd: got True: must be a DogStatsd"]),
    "drain 0": (s(drain_time_s=0), ["drain_time_s: got 0: must be an integer 1-300"]),
    "drain 301": (s(drain_time_s=301), ["drain_time_s: got 301: must be an integer 1-300"]),
    "drain strategy": (s(drain_strategy="slow"), ["drain_strategy: got 'slow': must be one of 'gradual', 'immediate'"]),
    "concurrency 65": (s(concurrency=65), ["concurrency: got 65: must be an integer 1-64"]),
    "log level": (s(log_level="verbose"), ["log_level: got 'verbose': must be one of 'trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off'"]),
    # dependencies
    "dep namespace newline": (d(namespace="identity\n"), [f"dependencies[0].namespace: got 'identity\\n': {LABEL}"]),
    "dep service": (d(service="Users"), [f"dependencies[0].service: got 'Users': {LABEL}"]),
    "dep port": (d(port=65536), [f"dependencies[0].port: got 65536: {PORT}"]),
    "dep protocol": (d(protocol="grpc"), ["dependencies[0].protocol: got 'grpc': must be one of 'http1', 'http2'"]),
    "dep address dash": (d(address="-users"), ["dependencies[0].address: got '-users': must be a host name or IPv4 address, or None"]),
    "dep address newline": (d(address="users\n"), ["dependencies[0].address: got 'users\\n': must be a host name or IPv4 address, or None"]),
    "dep address int": (d(address=10), ["dependencies[0].address: got 10: must be a host name or IPv4 address, or None"]),
    "dep timeout": (d(timeout_s=3601), [secs("dependencies[0].timeout_s", 3601)]),
    "dep connect above": (d(connect_timeout_s=5.001), ["dependencies[0].connect_timeout_s: got 5.001: must not exceed dependencies[0].timeout_s (5.0); lower it or raise dependencies[0].timeout_s"]),
    "dep idle": (d(idle_timeout_s=0), [secs("dependencies[0].idle_timeout_s", 0)]),
    "dep streams 0": (d(protocol="http2", max_concurrent_streams=0), ["dependencies[0].max_concurrent_streams: got 0: must be an integer 1-2147483647"]),
    "dep streams 2^31": (d(protocol="http2", max_concurrent_streams=2**31), ["dependencies[0].max_concurrent_streams: got 2147483648: must be an integer 1-2147483647"]),
    "dep streams on http1": (d(max_concurrent_streams=99), ["dependencies[0].max_concurrent_streams: got 99: applies only to protocol 'http2' (HTTP/1.1 sends one request per connection at a time; limit connections with circuit_breakers.max_connections)"]),
    "dep duplicate": (s(dependencies=(USERS, dataclasses.replace(USERS, egress_port=15102))), ["dependencies[1].name: got 'users': duplicates dependencies[0].name; each dependency needs a unique name"]),
    "retries type": (d(retries=None), ["dependencies[0].retries: got None: must be a RetryPolicy"]),
    "retries -1": (r(num_retries=-1), ["dependencies[0].retries.num_retries: got -1: must be an integer 0-10"]),
    "retries 11": (r(num_retries=11), ["dependencies[0].retries.num_retries: got 11: must be an integer 0-10"]),
    "per try above": (r(per_try_timeout_s=5.001), ["dependencies[0].retries.per_try_timeout_s: got 5.001: must not exceed dependencies[0].timeout_s (5.0); lower it or raise dependencies[0].timeout_s"]),
    "per try 0": (r(per_try_timeout_s=0), [secs("dependencies[0].retries.per_try_timeout_s", 0)]),
    "retry after 0": (r(max_retry_after_s=0), [secs("dependencies[0].retries.max_retry_after_s", 0)]),
    "retry after high": (r(max_retry_after_s=3601), [secs("dependencies[0].retries.max_retry_after_s", 3601)]),
    "backoff 0": (r(backoff_base_s=0), [secs("dependencies[0].retries.backoff_base_s", 0)]),
    "backoff high": (r(backoff_base_s=3601), [secs("dependencies[0].retries.backoff_base_s", 3601)]),
    "retry on str": (r(retry_on="5xx"), ["dependencies[0].retries.retry_on: got '5xx': " + CONDITIONS + "('5xx', 'reset', 'connect-failure')"]),
    "retry on unknown": (r(retry_on=("5xx", "retriable-status-codes")), ["dependencies[0].retries.retry_on: got ('5xx', 'retriable-status-codes'): " + CONDITIONS + "('5xx', 'reset', 'connect-failure')"]),
    "retry on non-str": (r(retry_on=(5,)), ["dependencies[0].retries.retry_on: got (5,): " + CONDITIONS + "('5xx', 'reset', 'connect-failure')"]),
    "non-idempotent unknown": (r(non_idempotent_retry_on=("always",)), ["dependencies[0].retries.non_idempotent_retry_on: got ('always',): " + CONDITIONS + "('connect-failure', 'refused-stream', 'reset-before-request')"]),
    "non-idempotent none": (r(non_idempotent_retry_on=None), ["dependencies[0].retries.non_idempotent_retry_on: got None: " + CONDITIONS + "('connect-failure', 'refused-stream', 'reset-before-request')"]),
    "budget 0": (r(budget_percent=0), ["dependencies[0].retries.budget_percent: got 0: must be a number in (0, 100]"]),
    "budget 100.5": (r(budget_percent=100.5), ["dependencies[0].retries.budget_percent: got 100.5: must be a number in (0, 100]"]),
    "budget nan": (r(budget_percent=float("nan")), ["dependencies[0].retries.budget_percent: got nan: must be a number in (0, 100]"]),
    "min retry 0": (r(min_retry_concurrency=0), ["dependencies[0].retries.min_retry_concurrency: got 0: must be an integer 1-1000000"]),
    "min retry high": (r(min_retry_concurrency=1_000_001), ["dependencies[0].retries.min_retry_concurrency: got 1000001: must be an integer 1-1000000"]),
    "breakers type": (d(circuit_breakers={}), ["dependencies[0].circuit_breakers: got {}: must be a CircuitBreakers"]),
    "breaker 0": (d(circuit_breakers=CircuitBreakers(max_connections=0)), ["dependencies[0].circuit_breakers.max_connections: got 0: must be an integer 1-1000000"]),
    "breaker high": (d(circuit_breakers=CircuitBreakers(max_requests=1_000_001)), ["dependencies[0].circuit_breakers.max_requests: got 1000001: must be an integer 1-1000000"]),
    "outlier type": (d(outlier_detection=None), ["dependencies[0].outlier_detection: got None: must be an OutlierDetection"]),
    "outlier 5xx 0": (d(outlier_detection=OutlierDetection(consecutive_5xx=0)), ["dependencies[0].outlier_detection.consecutive_5xx: got 0: must be an integer 1-1000"]),
    "outlier 5xx high": (d(outlier_detection=OutlierDetection(consecutive_5xx=1001)), ["dependencies[0].outlier_detection.consecutive_5xx: got 1001: must be an integer 1-1000"]),
    "outlier interval": (d(outlier_detection=OutlierDetection(interval_s=0)), [secs("dependencies[0].outlier_detection.interval_s", 0)]),
    "outlier ejection": (d(outlier_detection=OutlierDetection(base_ejection_time_s=3601)), [secs("dependencies[0].outlier_detection.base_ejection_time_s", 3601)]),
    "outlier percent": (d(outlier_detection=OutlierDetection(max_ejection_percent=-1)), ["dependencies[0].outlier_detection.max_ejection_percent: got -1: must be an integer 0-100"]),
}  # fmt: skip


@pytest.mark.parametrize(("settings", "expected"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_edges(settings: EnvoySettings, expected: list[str]) -> None:
    assert problems(settings) == expected
    with pytest.raises(ValidationError):
        validate_envoy_settings(settings)


# --------------------------------------------------------------------------------------------------
# Memory: limits that depend on the rest of the settings
# --------------------------------------------------------------------------------------------------


def test_memory_limit_minimum_grows_with_dependencies() -> None:
    assert memory.min_memory_limit_mib(s()) == 52 + 12 + 26
    deps = tuple(dataclasses.replace(USERS, name=f"d{i}", egress_port=15101 + i) for i in range(8))
    low = memory.min_memory_limit_mib(s(dependencies=deps))
    assert low == 52 + 12 + 28  # 10 + 8 x 0.25 + 16
    ok(s(dependencies=deps, memory_limit_mib=low))
    assert problems(s(dependencies=deps, memory_limit_mib=low - 1)) == [
        f"memory_limit_mib: got {low - 1}: must be {low}-65536: Envoy's binary takes 52 MiB, "
        "a 12 MiB margin, and a sidecar with 8 dependencies 12 MiB of heap idle plus 16 MiB "
        "to serve"
    ]


@pytest.mark.parametrize(
    ("value", "fix"),
    [
        (89, "must be 90-65536"),
        (65537, "must be 90-65536"),
        (128.0, "must be an integer number of MiB"),
        ("128Mi", "must be an integer number of MiB"),
    ],
)
def test_memory_limit_out_of_range(value: Any, fix: str) -> None:
    (problem,) = problems(s(memory_limit_mib=value))
    assert problem.startswith(f"memory_limit_mib: got {value!r}: {fix}")


def test_connection_cap_above_what_the_memory_holds() -> None:
    assert CAPACITY == 487
    assert problems(s(max_downstream_connections=CAPACITY + 1)) == [
        f"max_downstream_connections: got {CAPACITY + 1}: must be None (derived: {CAPACITY}) or "
        f"an integer 1-{CAPACITY}: the heap cap of 64 MiB holds {CAPACITY} connections at 100 "
        "KiB each (a response not read, buffers full); raise memory_limit_mib for more"
    ]
    for bad in (0, True, 10.0):
        (problem,) = problems(s(max_downstream_connections=bad))
        assert problem.startswith(f"max_downstream_connections: got {bad!r}: must be None")
    bigger = s(memory_limit_mib=256, max_downstream_connections=CAPACITY + 1)
    ok(bigger)
    # Larger buffers make every connection dearer: the same cap no longer fits.
    assert problems(s(buffer_limit_kib=64, max_downstream_connections=CAPACITY))
    # A bad memory limit is reported alone, not followed by a cap computed from it.
    assert len(problems(s(memory_limit_mib=10, max_downstream_connections=10**6))) == 1


def test_memory_checks_survive_bad_dependencies() -> None:
    assert problems(s(dependencies="x", memory_limit_mib=90)) == [
        "dependencies: got 'x': must be a tuple of EnvoyDependency"
    ]
    assert problems(s(dependencies=(1,), max_downstream_connections=5)) == [
        "dependencies[0]: got 1: must be an EnvoyDependency"
    ]


def test_sidecar_memory_must_match_the_settings() -> None:
    settings = s(memory_limit_mib=256)
    c: Any = sidecar_container(settings)
    assert c.resources.limits == {"memory": "256Mi"}
    c = sidecar_container(settings, memory="256Mi")
    assert c.resources.requests["memory"] == "256Mi"
    c = sidecar_container(settings, memory="0.25Gi")
    assert c.resources.limits == {"memory": "0.25Gi"}
    for wrong in ("128Mi", "lots"):
        with pytest.raises(ValidationError) as info:
            sidecar_container(settings, memory=wrong)
        assert str(info.value) == (
            "Envoy sidecar container for 'feed': 1 problem:\n"
            f"  - memory: got {wrong!r}: must be the size the bootstrap's heap cap is derived "
            "from (256Mi): set memory_limit_mib in the settings instead"
        )


# --------------------------------------------------------------------------------------------------
# What mutation testing found untested: a bad value never feeds a second check
# --------------------------------------------------------------------------------------------------


def test_two_equal_bad_ports_are_each_refused_once_never_as_a_collision() -> None:
    assert problems(s(app_port=0, ingress_port=0)) == [
        f"app_port: got 0: {PORT}",
        f"ingress_port: got 0: {PORT}",
    ]


def test_a_bad_stream_limit_on_http1_is_reported_once() -> None:
    assert problems(d(max_concurrent_streams=0)) == [
        "dependencies[0].max_concurrent_streams: got 0: must be an integer 1-2147483647"
    ]


def test_a_bad_timeout_is_never_compared_with_the_other() -> None:
    assert problems(s(app_connect_timeout_s=3601)) == [secs("app_connect_timeout_s", 3601)]
    assert problems(s(request_timeout_s=0)) == [secs("request_timeout_s", 0)]


def test_the_dependency_timeout_at_its_low_edge_still_bounds_the_per_try_timeout() -> None:
    assert problems(d(timeout_s=0.001, connect_timeout_s=0.001, retries=RetryPolicy(
        per_try_timeout_s=0.002))) == [
        "dependencies[0].retries.per_try_timeout_s: got 0.002: must not exceed "
        "dependencies[0].timeout_s (0.001); lower it or raise dependencies[0].timeout_s"
    ]  # fmt: skip


@pytest.mark.parametrize(("buffer", "capacity"), [(4, 1107), (1024, 23)])
def test_the_connection_cap_is_checked_at_both_buffer_edges(buffer: int, capacity: int) -> None:
    assert memory.connection_capacity(s(buffer_limit_kib=buffer)) == capacity
    ok(s(buffer_limit_kib=buffer, max_downstream_connections=capacity))
    (problem,) = problems(s(buffer_limit_kib=buffer, max_downstream_connections=capacity + 1))
    assert problem.startswith(f"max_downstream_connections: got {capacity + 1}: must be None")


@pytest.mark.parametrize("buffer", [3, 1025, "32"])
def test_a_bad_buffer_limit_is_reported_alone_not_used_for_the_cap(buffer: Any) -> None:
    (problem,) = problems(s(buffer_limit_kib=buffer, max_downstream_connections=10**6))
    assert problem.startswith(f"buffer_limit_kib: got {buffer!r}: must be an integer 4-1024")


def test_connection_capacity_rounds_down_to_whole_connections() -> None:
    # 0.9 x 192 MiB - 10 MiB idle = 162.8 MiB at 100 KiB each: 1667.07 connections.
    settings = s(memory_limit_mib=256)
    assert memory.connection_capacity(settings) == 1667
    ok(s(memory_limit_mib=256, max_downstream_connections=1667))
    (problem,) = problems(s(memory_limit_mib=256, max_downstream_connections=1668))
    assert problem.startswith("max_downstream_connections: got 1668: must be None (derived: 1667)")


def test_connection_capacity_never_drops_below_one() -> None:
    # 400 dependencies at the smallest memory limit with the largest buffers: 3.4 MiB of heap
    # left below the shedding threshold, less than two 2084 KiB connections.
    deps = tuple(
        dataclasses.replace(USERS, name=f"d{i}", egress_port=20000 + i) for i in range(400)
    )
    low = memory.min_memory_limit_mib(s(dependencies=deps))
    settings = s(dependencies=deps, memory_limit_mib=low, buffer_limit_kib=1024)
    assert memory.connection_capacity(settings) == 1
    ok(dataclasses.replace(settings, max_downstream_connections=1))
    (problem,) = problems(dataclasses.replace(settings, max_downstream_connections=2))
    assert problem.startswith("max_downstream_connections: got 2: must be None (derived: 1)")


# --- DogStatsD tags (mutation testing found them untested) --------------------------------------

TAG_KEY = (
    "a tag key is a lowercase letter, then lowercase letters, digits or _.:/- (at most 100 "
    "characters)"
)
TAG_VALUE = "a tag value is 1-100 letters, digits or _.:/- (Datadog tag characters)"


def test_dogstatsd_tags_that_datadog_accepts() -> None:
    ok(s(dogstatsd=DogStatsd(tags={"service": "feed", "team:x/y.z-1": "A_b.c:d/e-1"})))


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["env"], ["dogstatsd.tags: got ['env']: must be a mapping of tag key to value"]),
        ({"Env": "prod"}, [f"dogstatsd.tags['Env']: got 'Env': {TAG_KEY}"]),
        ({1: "prod"}, [f"dogstatsd.tags[1]: got 1: {TAG_KEY}"]),
        (
            {"envoy.cluster": "x"},
            [
                "dogstatsd.tags['envoy.cluster']: got 'envoy.cluster': keys starting with "
                "'envoy.' are Envoy's own tags"
            ],
        ),
        ({"team": "a b"}, [f"dogstatsd.tags['team']: got 'a b': {TAG_VALUE}"]),
        ({"team": 5}, [f"dogstatsd.tags['team']: got 5: {TAG_VALUE}"]),
        (
            {"ok": "fine", "Bad": "x", "team": ""},
            [
                f"dogstatsd.tags['Bad']: got 'Bad': {TAG_KEY}",
                f"dogstatsd.tags['team']: got '': {TAG_VALUE}",
            ],
        ),
    ],
)
def test_dogstatsd_tags_datadog_refuses(tags: Any, expected: list[str]) -> None:
    assert problems(s(dogstatsd=DogStatsd(tags=tags))) == expected

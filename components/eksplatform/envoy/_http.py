"""Building blocks shared by every listener and cluster: durations, sockets, typed configs, the
HTTP connection manager, access log, router and upstream protocol options.

Header hygiene, decided once for every listener: Envoy acts on ``x-envoy-*`` request headers
(``x-envoy-upstream-rq-timeout-ms`` replaces the route timeout, ``x-envoy-retry-on`` and
``x-envoy-max-retries`` the retry policy, ``x-envoy-original-path`` is what Envoy itself
writes when it rewrites a path) and trusts them from any address it deems internal, which in a
VPC is every address. So the first filter of every connection manager removes every request
header starting ``x-envoy-``: the bootstrap is the only source of the sidecar's policy, the app
never sees such a header from a client, and nothing a client sends changes what the access log
records except the fields that are the client's by definition (user agent, authority, request
id). The cost: an app can no longer steer its own egress calls with ``x-envoy-*`` headers;
it asks for a different policy in its ``EnvoyDependency`` instead.
"""

from __future__ import annotations

from typing import Any

from .settings import IDEMPOTENT_METHODS, EnvoySettings


def duration(seconds: float) -> str:
    """Protobuf JSON duration with millisecond precision: 15 -> "15s", 0.25 -> "0.250s"."""
    ms = round(seconds * 1000)
    whole, frac = divmod(ms, 1000)
    return f"{whole}s" if frac == 0 else f"{whole}.{frac:03d}s"


def socket(address: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": address, "port_value": port}}


def typed(type_name: str, **fields: Any) -> dict[str, Any]:
    return {"@type": f"type.googleapis.com/{type_name}", **fields}


# Access-log fields: single command operators keep their JSON types (numbers stay numbers).
# ``path`` is the path the app received (after normalisation), never a client-supplied header;
# ``downstream_remote_address`` is the client as the ALB reports it (last X-Forwarded-For hop,
# the TCP peer without one), ``downstream_peer_address`` the TCP peer, which nobody can forge.
ACCESS_LOG_FORMAT: dict[str, str] = {
    "start_time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(:PATH)%",
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
    "downstream_peer_address": "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%",
}


def access_log(direction: str, *, skip_health_checks: bool) -> list[dict[str, Any]]:
    log: dict[str, Any] = {
        "name": "envoy.access_loggers.stdout",
        "typed_config": typed(
            "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
            log_format={"json_format": {"direction": direction, **ACCESS_LOG_FORMAT}},
        ),
    }
    if skip_health_checks:
        # The ALB checks every target every few seconds: keep those out of the log.
        log["filter"] = {"not_health_check_filter": {}}
    return [log]


def strip_envoy_headers() -> dict[str, Any]:
    """HTTP filter removing every ``x-envoy-*`` request header (first in every chain)."""
    return {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": typed(
            "envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
            mutations={
                "request_mutations": [{"remove_on_match": {"key_matcher": {"prefix": "x-envoy-"}}}]
            },
        ),
    }


def router() -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.router",
        "typed_config": typed("envoy.extensions.filters.http.router.v3.Router"),
    }


# Downstream HTTP/2 flow-control windows: 64 KiB per stream (the protocol's minimum, about two
# buffer limits), 1 MiB per connection, instead of Envoy's 256 MiB / 1 MiB defaults.
STREAM_WINDOW_BYTES = 65536
CONNECTION_WINDOW_BYTES = 1048576


def hcm(
    settings: EnvoySettings,
    *,
    stat_prefix: str,
    route_config: dict[str, Any],
    http_filters: list[dict[str, Any]],
    access_log: list[dict[str, Any]],
    stream_idle_timeout_s: float,
    request_timeout_s: float | None = None,
    max_stream_duration_s: float | None = None,
    escaped_slashes: str = "KEEP_UNCHANGED",
    drop_underscore_headers: bool = False,
) -> dict[str, Any]:
    """An HTTP connection manager with the shared limits; the first filter strips ``x-envoy-*``.

    ``request_timeout_s`` bounds receiving the whole request (408), ``max_stream_duration_s``
    the whole exchange, ``stream_idle_timeout_s`` a stream without traffic.
    """
    s = settings
    common: dict[str, Any] = {"idle_timeout": duration(s.idle_timeout_s)}
    if max_stream_duration_s is not None:
        common["max_stream_duration"] = duration(max_stream_duration_s)
    if drop_underscore_headers:
        # WSGI/CGI-style servers map X_Forwarded_For and X-Forwarded-For to one variable: a
        # client could shadow a header the ALB sets. Dropped, not rejected: browsers never send
        # such names, scanners do.
        common["headers_with_underscores_action"] = "DROP_HEADER"
    config: dict[str, Any] = {
        "stat_prefix": stat_prefix,
        "codec_type": "AUTO",
        "generate_request_id": True,
        # Keep a caller's x-request-id (another sidecar's egress) so one id follows the call chain.
        "preserve_external_request_id": True,
        "max_request_headers_kb": s.max_request_headers_kb,
        # The headers are part of the request: never allowed longer than all of it.
        "request_headers_timeout": duration(
            min(s.request_headers_timeout_s, request_timeout_s or s.request_headers_timeout_s)
        ),
        "stream_idle_timeout": duration(stream_idle_timeout_s),
        "common_http_protocol_options": common,
        "http2_protocol_options": {
            "max_concurrent_streams": s.max_concurrent_streams,
            "initial_stream_window_size": STREAM_WINDOW_BYTES,
            "initial_connection_window_size": CONNECTION_WINDOW_BYTES,
        },
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": escaped_slashes,
        "route_config": route_config,
        "http_filters": [strip_envoy_headers(), *http_filters],
    }
    if request_timeout_s is not None:
        config["request_timeout"] = duration(request_timeout_s)
    if access_log:
        config["access_log"] = access_log
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": typed(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            **config,
        ),
    }


def protocol_options(
    protocol: str, *, idle_timeout_s: float, max_concurrent_streams: int | None = None
) -> dict[str, Any]:
    """Upstream HTTP protocol options: explicit HTTP/1.1 or HTTP/2, pooled-connection idle
    timeout and, for HTTP/2, the streams per connection."""
    explicit: dict[str, Any]
    if protocol == "http2":
        # Envoy's default windows (256 MiB) let an upstream push that much per stream into
        # Envoy before flow control applies; these keep it near the buffer limits.
        h2: dict[str, Any] = {
            "initial_stream_window_size": STREAM_WINDOW_BYTES,
            "initial_connection_window_size": CONNECTION_WINDOW_BYTES,
        }
        if max_concurrent_streams is not None:
            h2["max_concurrent_streams"] = max_concurrent_streams
        explicit = {"http2_protocol_options": h2}
    else:
        explicit = {"http_protocol_options": {}}
    return {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": typed(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            common_http_protocol_options={"idle_timeout": duration(idle_timeout_s)},
            explicit_http_config=explicit,
        )
    }


def load_assignment(cluster: str, address: str, port: int) -> dict[str, Any]:
    return {
        "cluster_name": cluster,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket(address, port)}}]}],
    }


def retry_backoff(base_s: float) -> dict[str, Any]:
    """Jittered exponential back-off: up to base x 2^(n-1) before retry n, at most 10x base."""
    return {"base_interval": duration(base_s), "max_interval": duration(10 * base_s)}


def method_matcher(methods: tuple[str, ...]) -> dict[str, Any]:
    """Route header matcher selecting requests whose method is one of ``methods``."""
    return {"name": ":method", "string_match": {"safe_regex": {"regex": "|".join(methods)}}}


def routes_by_method(idempotent: dict[str, Any], other: dict[str, Any]) -> list[dict[str, Any]]:
    """The routes of a virtual host that retries by method: every path, requests with an
    idempotent method (:data:`~.settings.IDEMPOTENT_METHODS`) to the route action
    ``idempotent``, every other request to ``other``."""
    return [
        {
            "match": {"prefix": "/", "headers": [method_matcher(IDEMPOTENT_METHODS)]},
            "route": idempotent,
        },
        {"match": {"prefix": "/"}, "route": other},
    ]

"""The pod's side facing callers: the ingress listener (health route, router to the app), the app
and admin clusters and the stats listener that exposes only metrics and readiness.

Every stage of an ingress request is bounded, and the bounds add up to the documented longest
request (:func:`ingress_request_seconds`): a new connection's first bytes and then the headers
each within ``request_headers_timeout_s``,
the whole request within ``request_receive_timeout_s`` (else 408, so a body trickling in at
1 byte/s cannot hold an app connection), the response within ``request_timeout_s`` after
that, the whole exchange within their sum (``max_stream_duration``), and no stream quiet for
longer than its own timeouts.

Requests to the app are retried only when that cannot repeat work: idempotent methods on a
reset or a refused connection (an app closing an idle keep-alive connection just as Envoy
reuses it; Envoy also closes idle app connections first, ``app_idle_timeout_s``), every other
method only when the app cannot have seen it (connection refused, HTTP/2 stream refused, reset
before a byte was sent). A slow app is never retried: a timed-out request returns 504.
"""

from __future__ import annotations

from typing import Any

from ._http import (
    access_log,
    duration,
    hcm,
    load_assignment,
    protocol_options,
    retry_backoff,
    router,
    routes_by_method,
    socket,
    typed,
)
from .settings import (
    ADMIN_CLUSTER,
    APP_CLUSTER,
    INGRESS_STAT_PREFIX,
    NEVER_PROCESSED_RETRY_ON,
    EnvoySettings,
)

APP_RETRIES = 2
"""Retries of an ingress request to the app (fixed: the conditions above never repeat work)."""
APP_RETRY_ON_IDEMPOTENT = ("reset", "connect-failure", "refused-stream")
APP_RETRY_BACKOFF_S = 0.05
_ENVOY_ESCAPED_SLASHES = {
    "unescape_and_redirect": "UNESCAPE_AND_REDIRECT",
    "reject": "REJECT_REQUEST",
    "unescape_and_forward": "UNESCAPE_AND_FORWARD",
    "keep": "KEEP_UNCHANGED",
}


def ingress_request_seconds(s: EnvoySettings) -> float:
    """Longest an ingress request can take: receiving it, then the app's answer."""
    return float(s.request_receive_timeout_s) + float(s.request_timeout_s)


def ingress_stream_idle_seconds(s: EnvoySettings) -> float:
    """``stream_idle_timeout_s``, or the longer of the receive and route timeouts."""
    if s.stream_idle_timeout_s is not None:
        return float(s.stream_idle_timeout_s)
    return max(float(s.request_receive_timeout_s), float(s.request_timeout_s))


def _app_route(s: EnvoySettings, retry_on: tuple[str, ...]) -> dict[str, Any]:
    return {
        "cluster": APP_CLUSTER,
        "timeout": duration(s.request_timeout_s),
        "retry_policy": {
            "retry_on": ",".join(retry_on),
            "num_retries": APP_RETRIES,
            "retry_back_off": retry_backoff(APP_RETRY_BACKOFF_S),
        },
    }


def _ingress_listener(s: EnvoySettings) -> dict[str, Any]:
    health_check = {
        "name": "envoy.filters.http.health_check",
        "typed_config": typed(
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
                "routes": routes_by_method(
                    _app_route(s, APP_RETRY_ON_IDEMPOTENT), _app_route(s, NEVER_PROCESSED_RETRY_ON)
                ),
            }
        ],
    }
    return {
        "name": "ingress",
        "address": socket(s.listen_address, s.ingress_port),
        "traffic_direction": "INBOUND",
        # Only /drain_listeners starts the drain (a ramp), never /healthcheck/fail (all at once).
        "drain_type": "MODIFY_ONLY",
        "per_connection_buffer_limit_bytes": s.buffer_limit_kib * 1024,
        # A connection must start its first request within the headers timeout or be closed:
        # silent connections would otherwise hold slots of the connection cap for the whole
        # idle timeout. (The ALB and callers' Envoys open a connection to send a request.)
        "listener_filters": [
            {
                "name": "envoy.filters.listener.http_inspector",
                "typed_config": typed(
                    "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"
                ),
            }
        ],
        "listener_filters_timeout": duration(s.request_headers_timeout_s),
        "continue_on_listener_filters_timeout": False,
        "filter_chains": [
            {
                "filters": [
                    hcm(
                        s,
                        stat_prefix=INGRESS_STAT_PREFIX,
                        route_config=route_config,
                        http_filters=[health_check, router()],
                        access_log=(
                            access_log("ingress", skip_health_checks=True) if s.access_log else []
                        ),
                        request_timeout_s=s.request_receive_timeout_s,
                        max_stream_duration_s=ingress_request_seconds(s),
                        stream_idle_timeout_s=ingress_stream_idle_seconds(s),
                        escaped_slashes=_ENVOY_ESCAPED_SLASHES[s.escaped_slashes],
                        drop_underscore_headers=True,
                    )
                ]
            }
        ],
    }


STATS_TIMEOUT_S = 5.0


def _stats_listener(s: EnvoySettings) -> dict[str, Any]:
    def exact(path: str) -> dict[str, Any]:
        return {
            "match": {"path": path},
            "route": {"cluster": ADMIN_CLUSTER, "timeout": duration(STATS_TIMEOUT_S)},
        }

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
        "address": socket(s.listen_address, s.stats_port),
        "drain_type": "MODIFY_ONLY",
        "per_connection_buffer_limit_bytes": s.buffer_limit_kib * 1024,
        # The kubelet's probes and the scrapers still get through when callers fill the cap.
        "ignore_global_conn_limit": True,
        "filter_chains": [
            {
                "filters": [
                    hcm(
                        s,
                        stat_prefix="stats",
                        route_config=route_config,
                        http_filters=[router()],
                        access_log=[],
                        request_timeout_s=STATS_TIMEOUT_S,
                        max_stream_duration_s=2 * STATS_TIMEOUT_S,
                        stream_idle_timeout_s=STATS_TIMEOUT_S,
                        escaped_slashes="REJECT_REQUEST",
                    )
                ]
            }
        ],
    }


def _app_cluster(s: EnvoySettings) -> dict[str, Any]:
    interval = duration(s.app_health_check_interval_s)
    return {
        "name": APP_CLUSTER,
        "type": "STATIC",
        "connect_timeout": duration(s.app_connect_timeout_s),
        "per_connection_buffer_limit_bytes": s.buffer_limit_kib * 1024,
        "load_assignment": load_assignment(APP_CLUSTER, "127.0.0.1", s.app_port),
        "typed_extension_protocol_options": protocol_options(
            s.app_protocol, idle_timeout_s=s.app_idle_timeout_s
        ),
        "health_checks": [
            {
                "timeout": duration(min(1.0, s.app_health_check_interval_s)),
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
        "load_assignment": load_assignment(ADMIN_CLUSTER, "127.0.0.1", s.admin_port),
    }

"""The pod's side facing callers: the ingress listener (health route, router to the app), the app
and admin clusters and the stats listener that exposes only metrics and readiness."""

from __future__ import annotations

from typing import Any

from ._http import (
    access_log,
    duration,
    hcm,
    load_assignment,
    protocol_options,
    router,
    socket,
    typed,
)
from .settings import ADMIN_CLUSTER, APP_CLUSTER, INGRESS_STAT_PREFIX, EnvoySettings


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
                "routes": [
                    {
                        "match": {"prefix": "/"},
                        "route": {
                            "cluster": APP_CLUSTER,
                            "timeout": duration(s.request_timeout_s),
                        },
                    }
                ],
            }
        ],
    }
    return {
        "name": "ingress",
        "address": socket(s.listen_address, s.ingress_port),
        "traffic_direction": "INBOUND",
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
        "address": socket(s.listen_address, s.stats_port),
        "filter_chains": [
            {
                "filters": [
                    hcm(
                        s,
                        stat_prefix="stats",
                        route_config=route_config,
                        http_filters=[router()],
                        access_log=[],
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
        "load_assignment": load_assignment(APP_CLUSTER, "127.0.0.1", s.app_port),
        "typed_extension_protocol_options": protocol_options(s, s.app_protocol),
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

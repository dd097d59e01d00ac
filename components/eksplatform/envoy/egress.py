"""The app's calls out: one egress listener on 127.0.0.1 and one cluster per dependency, with
timeouts, retries, circuit breakers and outlier detection."""

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
from .settings import EnvoyDependency, EnvoySettings


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
        "per_try_timeout": duration(r.per_try_timeout_s),
        # Retry on another pod when there is one.
        "retry_host_predicate": [
            {
                "name": "envoy.retry_host_predicates.previous_hosts",
                "typed_config": typed(
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
                            "timeout": duration(dep.timeout_s),
                            "retry_policy": retry_policy,
                        },
                    }
                ],
            }
        ],
    }
    return {
        "name": f"egress_{dep.name}",
        "address": socket("127.0.0.1", dep.egress_port),
        "traffic_direction": "OUTBOUND",
        "filter_chains": [
            {
                "filters": [
                    hcm(
                        s,
                        stat_prefix=f"egress_{dep.name}",
                        route_config=route_config,
                        http_filters=[router()],
                        access_log=(
                            access_log("egress", skip_health_checks=False) if s.access_log else []
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
        "connect_timeout": duration(dep.connect_timeout_s),
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": load_assignment(name, dependency_address(dep), dep.port),
        "typed_extension_protocol_options": protocol_options(s, dep.protocol),
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
            "interval": duration(od.interval_s),
            "base_ejection_time": duration(od.base_ejection_time_s),
            "max_ejection_percent": od.max_ejection_percent,
        },
    }

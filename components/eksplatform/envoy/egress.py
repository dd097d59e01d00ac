"""The app's calls out: one egress listener on 127.0.0.1 and one cluster per dependency, with
timeouts, retries, circuit breakers and outlier detection.

Each egress listener has two routes to its dependency, told apart by the request method:
idempotent methods (:data:`~.settings.IDEMPOTENT_METHODS`) get ``RetryPolicy.retry_on``, every
other method ``RetryPolicy.non_idempotent_retry_on`` (by default only conditions under which
the dependency cannot have processed the request), so a POST is sent once unless the team
opted in. HTTP/2 dependencies get a per-connection stream limit (Envoy opens more connections
instead of exceeding the server's limit) and retry refused streams, which is always safe.
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
from .settings import EnvoyDependency, EnvoySettings


def dependency_cluster_name(dep: EnvoyDependency) -> str:
    """Envoy cluster name of a dependency (stats: ``cluster.dep_<name>.*``)."""
    return f"dep_{dep.name}"


def dependency_address(dep: EnvoyDependency) -> str:
    """Host Envoy resolves for a dependency (``address`` or the in-cluster DNS name)."""
    if dep.address is not None:
        return dep.address
    return f"{dep.service or dep.name}.{dep.namespace}.svc.cluster.local"


PREVIOUS_HOSTS = {
    "name": "envoy.retry_host_predicates.previous_hosts",
    "typed_config": typed("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"),
}
RETRY_AFTER_FORMAT = "SECONDS"
"""``Retry-After`` in delta-seconds (RFC 9110); an HTTP-date is not parsed and the normal
back-off applies."""
_TIMEOUT_CONDITIONS = frozenset({"5xx", "gateway-error", "reset"})


def streams_per_connection(dep: EnvoyDependency) -> int:
    """HTTP/2 streams Envoy opens per connection: half the server's limit, at least one.

    Servers free a stream's slot some time after its response: grpc-core counts a stream until
    the application releases the call, so a connection run at the advertised limit gets streams
    refused during a burst, and a burst of refusals exhausts retries. Measured against a Python
    gRPC server limited to 4 streams: bursts of 150-300 calls lost up to 16 calls at 4 streams
    per connection and none at 2.
    """
    return max(1, dep.max_concurrent_streams // 2)


def _retry_policy(dep: EnvoyDependency, retry_on: tuple[str, ...]) -> dict[str, Any] | None:
    """Envoy's route retry policy for one class of methods; None when nothing is retried."""
    r = dep.retries
    if not retry_on or r.num_retries == 0:
        return None
    policy: dict[str, Any] = {
        "retry_on": ",".join(retry_on),
        "num_retries": r.num_retries,
        # Neither wait may outlast the call itself.
        "retry_back_off": retry_backoff(min(r.backoff_base_s, dep.timeout_s)),
        "rate_limited_retry_back_off": {
            "reset_headers": [{"name": "retry-after", "format": RETRY_AFTER_FORMAT}],
            "max_interval": duration(min(r.max_retry_after_s, dep.timeout_s)),
        },
        # Retry on another pod when there is one.
        "retry_host_predicate": [PREVIOUS_HOSTS],
        "host_selection_retry_max_attempts": 3,
    }
    # A per-try timeout only makes sense when a timed-out attempt is retried: otherwise it would
    # just cut the one attempt short of the call's timeout.
    if _TIMEOUT_CONDITIONS & set(retry_on):
        policy["per_try_timeout"] = duration(r.per_try_timeout_s)
    return policy


def _route(dep: EnvoyDependency, retry_on: tuple[str, ...]) -> dict[str, Any]:
    route: dict[str, Any] = {
        "cluster": dependency_cluster_name(dep),
        "timeout": duration(dep.timeout_s),
    }
    policy = _retry_policy(dep, retry_on)
    if policy is not None:
        route["retry_policy"] = policy
    return route


def _egress_listener(s: EnvoySettings, dep: EnvoyDependency) -> dict[str, Any]:
    r = dep.retries
    route_config = {
        "name": f"egress_{dep.name}",
        "virtual_hosts": [
            {
                "name": dep.name,
                "domains": ["*"],
                "routes": routes_by_method(
                    _route(dep, tuple(r.retry_on)), _route(dep, tuple(r.non_idempotent_retry_on))
                ),
            }
        ],
    }
    return {
        "name": f"egress_{dep.name}",
        "address": socket("127.0.0.1", dep.egress_port),
        "traffic_direction": "OUTBOUND",
        "drain_type": "MODIFY_ONLY",
        "per_connection_buffer_limit_bytes": s.buffer_limit_kib * 1024,
        # The app's own calls are not refused because callers filled the ingress cap.
        "ignore_global_conn_limit": True,
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
                        stream_idle_timeout_s=dep.timeout_s,
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
        "per_connection_buffer_limit_bytes": s.buffer_limit_kib * 1024,
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": load_assignment(name, dependency_address(dep), dep.port),
        "typed_extension_protocol_options": protocol_options(
            dep.protocol,
            idle_timeout_s=dep.idle_timeout_s,
            max_concurrent_streams=streams_per_connection(dep),
        ),
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

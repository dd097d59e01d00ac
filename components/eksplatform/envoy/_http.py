"""Building blocks shared by every listener and cluster: durations, sockets, typed configs, the
HTTP connection manager, access log, router and upstream protocol options."""

from __future__ import annotations

from typing import Any

from .settings import EnvoySettings


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
ACCESS_LOG_FORMAT: dict[str, str] = {
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


def router() -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.router",
        "typed_config": typed("envoy.extensions.filters.http.router.v3.Router"),
    }


def hcm(
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
        "request_headers_timeout": duration(s.request_headers_timeout_s),
        "common_http_protocol_options": {"idle_timeout": duration(s.idle_timeout_s)},
        "normalize_path": True,
        "merge_slashes": True,
        "route_config": route_config,
        "http_filters": http_filters,
    }
    if access_log:
        hcm["access_log"] = access_log
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": typed(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            **hcm,
        ),
    }


def protocol_options(settings: EnvoySettings, protocol: str) -> dict[str, Any]:
    explicit: dict[str, Any] = (
        {"http2_protocol_options": {}} if protocol == "http2" else {"http_protocol_options": {}}
    )
    return {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": typed(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            common_http_protocol_options={
                "idle_timeout": duration(settings.upstream_idle_timeout_s)
            },
            explicit_http_config=explicit,
        )
    }


def load_assignment(cluster: str, address: str, port: int) -> dict[str, Any]:
    return {
        "cluster_name": cluster,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket(address, port)}}]}],
    }

"""Validation of :class:`~.settings.EnvoySettings`: every problem at once, before any YAML.

Each check names the field as the caller wrote it (``dependencies[1].retries.num_retries``),
quotes the value and says the fix; :func:`envoy_problems` returns them all and
:func:`validate_envoy_settings` raises one :class:`~eksplatform.core.errors.ValidationError`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Sequence
from typing import Any

from ..core.errors import Problems
from .settings import (
    LOG_LEVELS,
    MAX_RETRIES,
    MAX_TIMEOUT_S,
    RETRY_ON_VALUES,
    EnvoyDependency,
    EnvoySettings,
)

_DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


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
    if not _is_number(value) or not 0.001 <= value <= MAX_TIMEOUT_S:
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
    _check_int(problems, f"{p}.retries.num_retries", r.num_retries, 0, MAX_RETRIES)
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

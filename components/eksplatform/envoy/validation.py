"""Validation of :class:`~.settings.EnvoySettings`: every problem at once, before any YAML.

Each check names the field as the caller wrote it (``dependencies[1].retries.num_retries``),
quotes the value and says the fix; :func:`envoy_problems` returns them all and
:func:`validate_envoy_settings` raises one :class:`~eksplatform.core.errors.ValidationError`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..core.errors import Problems
from . import memory
from .settings import (
    ESCAPED_SLASHES,
    LOG_LEVELS,
    MAX_RETRIES,
    MAX_STREAMS,
    MAX_TIMEOUT_S,
    NEVER_PROCESSED_RETRY_ON,
    RETRY_ON_VALUES,
    CircuitBreakers,
    DogStatsd,
    EnvoyDependency,
    EnvoySettings,
    OutlierDetection,
    RetryPolicy,
)

_DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_HOST = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?")
_STATS_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_STAT_TAG_KEY = re.compile(r"[a-z][a-z0-9_.:/-]{0,99}")
_STAT_TAG_VALUE = re.compile(r"[A-Za-z0-9_.:/-]{1,100}")
_DEFAULT_STREAMS = EnvoyDependency.__dataclass_fields__["max_concurrent_streams"].default
MAX_MEMORY_MIB = 65536
BUFFER_KIB = (4, 1024)


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


def _check_label(problems: Problems, name: str, value: Any) -> None:
    if not isinstance(value, str) or len(value) > 63 or not _DNS_1123_LABEL.fullmatch(value):
        problems.add(
            name,
            value,
            "must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit",
        )


def _check_choice(problems: Problems, name: str, value: Any, allowed: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in allowed:
        problems.add(name, value, "must be one of " + ", ".join(repr(a) for a in allowed))


def _check_path(problems: Problems, name: str, value: Any) -> None:
    segments = value.split("/")[1:] if isinstance(value, str) else []
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or re.search(r"[\s?#%\\]", value)
        or any(seg in ("", ".", "..") for seg in segments[:-1])
        or segments[-1] in (".", "..")
    ):
        problems.add(
            name,
            value,
            "must be a normalised URL path starting with '/': no spaces, '?', '#', '%', "
            "'\\', empty, '.' or '..' segments (Envoy normalises paths before matching)",
        )


def _check_not_above(
    problems: Problems, name: str, value: float, limit_name: str, limit: float
) -> None:
    if value > limit:
        problems.add(
            name, value, f"must not exceed {limit_name} ({limit}); lower it or raise {limit_name}"
        )


def _check_type(problems: Problems, name: str, value: Any, kind: type) -> bool:
    if not isinstance(value, kind):
        article = "an" if kind.__name__[0] in "AEIOU" else "a"
        problems.add(name, value, f"must be {article} {kind.__name__}")
        return False
    return True


def _check_conditions(problems: Problems, name: str, value: Any, example: str) -> None:
    if (
        not isinstance(value, (tuple, list))
        or any(not isinstance(c, str) for c in value)
        or any(c not in RETRY_ON_VALUES for c in value)
    ):
        problems.add(
            name,
            value,
            "must be a tuple of Envoy retry conditions (empty: never retry), e.g. " + example,
        )


def _check_retries(problems: Problems, p: str, r: RetryPolicy, dep: EnvoyDependency) -> None:
    timeout_ok = _is_number(dep.timeout_s) and 0.001 <= dep.timeout_s <= MAX_TIMEOUT_S
    _check_int(problems, f"{p}.num_retries", r.num_retries, 0, MAX_RETRIES)
    if _check_seconds(problems, f"{p}.per_try_timeout_s", r.per_try_timeout_s) and timeout_ok:
        _check_not_above(
            problems,
            f"{p}.per_try_timeout_s",
            r.per_try_timeout_s,
            f"{p[: -len('.retries')]}.timeout_s",
            dep.timeout_s,
        )
    # Both are capped at the dependency's timeout_s when the bootstrap is built.
    _check_seconds(problems, f"{p}.max_retry_after_s", r.max_retry_after_s)
    _check_seconds(problems, f"{p}.backoff_base_s", r.backoff_base_s)
    _check_conditions(problems, f"{p}.retry_on", r.retry_on, "('5xx', 'reset', 'connect-failure')")
    _check_conditions(
        problems, f"{p}.non_idempotent_retry_on", r.non_idempotent_retry_on,
        repr(NEVER_PROCESSED_RETRY_ON),
    )  # fmt: skip
    if not _is_number(r.budget_percent) or not 0 < r.budget_percent <= 100:
        problems.add(f"{p}.budget_percent", r.budget_percent, "must be a number in (0, 100]")
    _check_int(problems, f"{p}.min_retry_concurrency", r.min_retry_concurrency, 1, 1_000_000)


def _check_dependency(problems: Problems, p: str, dep: EnvoyDependency) -> None:
    _check_label(problems, f"{p}.name", dep.name)
    _check_label(problems, f"{p}.namespace", dep.namespace)
    if dep.service is not None:
        _check_label(problems, f"{p}.service", dep.service)
    _check_port(problems, f"{p}.port", dep.port)
    _check_choice(problems, f"{p}.protocol", dep.protocol, ("http1", "http2"))
    if dep.address is not None and (
        not isinstance(dep.address, str) or not _HOST.fullmatch(dep.address)
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
    _check_seconds(problems, f"{p}.idle_timeout_s", dep.idle_timeout_s)
    if (
        _check_int(problems, f"{p}.max_concurrent_streams", dep.max_concurrent_streams, 1,
                   MAX_STREAMS)
        and dep.protocol == "http1"
        and dep.max_concurrent_streams != _DEFAULT_STREAMS
    ):  # fmt: skip
        problems.add(
            f"{p}.max_concurrent_streams",
            dep.max_concurrent_streams,
            "applies only to protocol 'http2' (HTTP/1.1 sends one request per connection at a "
            "time; limit connections with circuit_breakers.max_connections)",
        )

    if _check_type(problems, f"{p}.retries", dep.retries, RetryPolicy):
        _check_retries(problems, f"{p}.retries", dep.retries, dep)

    cb = dep.circuit_breakers
    if _check_type(problems, f"{p}.circuit_breakers", cb, CircuitBreakers):
        for attr in ("max_connections", "max_pending_requests", "max_requests"):
            _check_int(problems, f"{p}.circuit_breakers.{attr}", getattr(cb, attr), 1, 1_000_000)

    od = dep.outlier_detection
    if _check_type(problems, f"{p}.outlier_detection", od, OutlierDetection):
        q = f"{p}.outlier_detection"
        _check_int(problems, f"{q}.consecutive_5xx", od.consecutive_5xx, 1, 1000)
        _check_seconds(problems, f"{q}.interval_s", od.interval_s)
        _check_seconds(problems, f"{q}.base_ejection_time_s", od.base_ejection_time_s)
        _check_int(problems, f"{q}.max_ejection_percent", od.max_ejection_percent, 0, 100)


def _check_timeouts(problems: Problems, s: EnvoySettings) -> None:
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
    _check_seconds(problems, "app_idle_timeout_s", s.app_idle_timeout_s)
    _check_seconds(problems, "idle_timeout_s", s.idle_timeout_s)
    _check_seconds(problems, "request_receive_timeout_s", s.request_receive_timeout_s)
    _check_seconds(problems, "request_headers_timeout_s", s.request_headers_timeout_s)
    if s.stream_idle_timeout_s is not None:
        _check_seconds(problems, "stream_idle_timeout_s", s.stream_idle_timeout_s)


def _check_memory(problems: Problems, s: EnvoySettings, deps_ok: bool) -> None:
    """Memory limit against what this sidecar needs; the connection cap against what it holds."""
    if not _is_int(s.memory_limit_mib):
        problems.add("memory_limit_mib", s.memory_limit_mib, "must be an integer number of MiB")
        return
    sized = s if deps_ok else replace(s, dependencies=())
    low = memory.min_memory_limit_mib(sized)
    if not low <= s.memory_limit_mib <= MAX_MEMORY_MIB:
        problems.add(
            "memory_limit_mib",
            s.memory_limit_mib,
            f"must be {low}-{MAX_MEMORY_MIB}: Envoy's binary takes "
            f"{memory.BINARY_RESIDENT_MIB} MiB, a {memory.NON_HEAP_MIB} MiB margin, and a "
            f"sidecar with {len(sized.dependencies)} dependencies "
            f"{memory.idle_heap_mib(sized):g} MiB of heap idle plus "
            f"{memory.MIN_WORKING_HEAP_MIB} MiB to serve",
        )
        return
    if s.max_downstream_connections is None or not (
        _is_int(s.buffer_limit_kib) and BUFFER_KIB[0] <= s.buffer_limit_kib <= BUFFER_KIB[1]
    ):
        return  # a bad buffer limit is reported on its own field
    capacity = memory.connection_capacity(sized)
    if not _is_int(s.max_downstream_connections) or not (
        1 <= s.max_downstream_connections <= capacity
    ):
        problems.add(
            "max_downstream_connections",
            s.max_downstream_connections,
            f"must be None (derived: {capacity}) or an integer 1-{capacity}: the heap cap of "
            f"{memory.heap_cap_mib(sized)} MiB holds {capacity} connections at "
            f"{memory.connection_cost_kib(sized)} KiB each (a response not read, buffers full); "
            "raise memory_limit_mib for more",
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
    deps_ok = isinstance(deps, (tuple, list))
    if not deps_ok:
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

    _check_timeouts(problems, s)
    _check_int(problems, "max_request_headers_kb", s.max_request_headers_kb, 1, 8192)
    _check_choice(problems, "escaped_slashes", s.escaped_slashes, ESCAPED_SLASHES)
    _check_int(problems, "buffer_limit_kib", s.buffer_limit_kib, *BUFFER_KIB)
    _check_int(problems, "max_concurrent_streams", s.max_concurrent_streams, 1, MAX_STREAMS)
    _check_memory(problems, s, deps_ok and all(isinstance(d, EnvoyDependency) for d in deps))
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

    if s.dogstatsd is not None and _check_type(problems, "dogstatsd", s.dogstatsd, DogStatsd):
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
        if not isinstance(d.prefix, str) or not _STATS_PREFIX.fullmatch(d.prefix):
            problems.add(
                "dogstatsd.prefix", d.prefix, "must start with a letter; letters, digits, '_', '.'"
            )
        tags = d.tags if isinstance(d.tags, Mapping) else {}
        if not isinstance(d.tags, Mapping):
            problems.add("dogstatsd.tags", d.tags, "must be a mapping of tag key to value")
        for key, value in tags.items():
            where = f"dogstatsd.tags[{key!r}]"
            if not isinstance(key, str) or not _STAT_TAG_KEY.fullmatch(key):
                problems.add(
                    where,
                    key,
                    "a tag key is a lowercase letter, then lowercase letters, digits or _.:/- "
                    "(at most 100 characters)",
                )
            elif key.startswith("envoy."):
                problems.add(where, key, "keys starting with 'envoy.' are Envoy's own tags")
            elif not isinstance(value, str) or not _STAT_TAG_VALUE.fullmatch(value):
                problems.add(
                    where,
                    value,
                    "a tag value is 1-100 letters, digits or _.:/- (Datadog tag characters)",
                )

    _check_int(problems, "drain_time_s", s.drain_time_s, 1, 300)
    _check_choice(problems, "drain_strategy", s.drain_strategy, ("gradual", "immediate"))
    _check_int(problems, "concurrency", s.concurrency, 1, 64)
    _check_choice(problems, "log_level", s.log_level, LOG_LEVELS)
    return problems


def validate_envoy_settings(settings: EnvoySettings) -> None:
    """Raise one :class:`~eksplatform.core.errors.ValidationError` listing every problem, if any."""
    envoy_problems(settings).raise_if_any(f"Envoy sidecar settings for {settings.service_name!r}")

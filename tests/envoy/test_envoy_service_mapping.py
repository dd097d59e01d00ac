"""ServiceStack's Envoy options reach the sidecar's settings, and their problems come back under
the names a service program writes (``envoy.memory``, ``dependencies[0].idle_timeout_s``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eksplatform import envoy
from eksplatform.core.errors import ValidationError
from eksplatform.service import Dependency, EnvoyOptions, RetryPolicy, plan_service

from tests.service.bad_inputs import good_args
from tests.service.programs import facts_contract


def plan(**changes: Any) -> Any:
    return plan_service(dataclasses.replace(good_args(facts_contract()), **changes))


def problems(**changes: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        plan(**changes)
    return [str(p) for p in info.value.problems]


def _defaults(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def test_shared_option_names_have_the_same_defaults() -> None:
    options, settings = _defaults(EnvoyOptions), _defaults(envoy.EnvoySettings)
    # dogstatsd differs on purpose: a bool in the service options (on by default there).
    shared = options.keys() & settings.keys() - {"dogstatsd"}
    assert {"request_receive_timeout_s", "app_idle_timeout_s", "escaped_slashes"} <= shared
    assert {k: options[k] for k in shared} == {k: settings[k] for k in shared}
    dep, envoy_dep = _defaults(Dependency), _defaults(envoy.EnvoyDependency)
    shared = dep.keys() & envoy_dep.keys() - {"namespace"}
    assert {"idle_timeout_s", "max_concurrent_streams", "retries", "timeout_s"} <= shared
    assert {k: dep[k] for k in shared} == {k: envoy_dep[k] for k in shared}
    # None means "the measured default" for the sidecar's memory.
    assert options["memory"] is None
    assert settings["memory_limit_mib"] == envoy.DEFAULT_MEMORY_LIMIT_MIB == 128


def test_every_new_option_reaches_the_settings() -> None:
    retries = RetryPolicy(non_idempotent_retry_on=("5xx",), max_retry_after_s=1, backoff_base_s=0.2)
    p = plan(
        envoy=EnvoyOptions(
            request_receive_timeout_s=30,
            stream_idle_timeout_s=20,
            app_idle_timeout_s=0.5,
            buffer_limit_kib=64,
            max_concurrent_streams=10,
            max_downstream_connections=100,
            escaped_slashes="reject",
            memory="0.25Gi",
            drain_time_s=3,
        ),
        dependencies=[
            Dependency(name="users", idle_timeout_s=4, retries=retries),
            Dependency(name="ranker", team="search", protocol="http2", max_concurrent_streams=8),
        ],
    )
    e = p.envoy
    assert (e.request_receive_timeout_s, e.stream_idle_timeout_s, e.app_idle_timeout_s) == (
        30,
        20,
        0.5,
    )
    assert (e.buffer_limit_kib, e.max_concurrent_streams, e.max_downstream_connections) == (
        64,
        10,
        100,
    )
    assert (e.escaped_slashes, e.memory_limit_mib, e.drain_time_s) == ("reject", 256, 3)
    users, ranker = e.dependencies
    assert (users.idle_timeout_s, users.retries) == (4, retries)
    assert (ranker.protocol, ranker.max_concurrent_streams) == ("http2", 8)
    assert plan().envoy.memory_limit_mib == 128
    # A decimal quantity is rounded down to whole MiB (the heap cap derives from it).
    assert plan(envoy=EnvoyOptions(memory="200M")).envoy.memory_limit_mib == 190


def test_envoy_problems_come_back_under_the_service_field_names() -> None:
    assert problems(envoy=EnvoyOptions(buffer_limit_kib=3, escaped_slashes="drop")) == [  # type: ignore[arg-type]
        "envoy.escaped_slashes: got 'drop': must be one of 'unescape_and_redirect', 'reject', "
        "'unescape_and_forward', 'keep'",
        "envoy.buffer_limit_kib: got 3: must be an integer 4-1024",
    ]
    assert problems(dependencies=[Dependency(name="users", max_concurrent_streams=8)]) == [
        "dependencies[0].max_concurrent_streams: got 8: applies only to protocol 'http2' "
        "(HTTP/1.1 sends one request per connection at a time; limit connections with "
        "circuit_breakers.max_connections)"
    ]
    assert problems(dependencies=[Dependency(name="users", idle_timeout_s=0)]) == [
        "dependencies[0].idle_timeout_s: got 0: must be a number of seconds from 0.001 to 3600"
    ]


def test_sidecar_memory_is_checked_against_what_envoy_needs() -> None:
    assert problems(envoy=EnvoyOptions(memory="64Mi")) == [
        "envoy.memory: got '64Mi': must be 90Mi to 64Gi: Envoy's binary takes 52 MiB, a 12 MiB "
        "margin, and a sidecar with 0 dependencies 10 MiB of heap idle plus 16 MiB to serve"
    ]
    assert problems(envoy=EnvoyOptions(memory="lots")) == [
        "envoy.memory: got 'lots': write it like '128Mi' or '1Gi'"
    ]
    assert problems(envoy=EnvoyOptions(max_downstream_connections=10_000)) == [
        "envoy.max_downstream_connections: got 10000: must be None (derived: 487) or an integer "
        "1-487: the heap cap of 64 MiB holds 487 connections at 100 KiB each (a response not "
        "read, buffers full); raise envoy.memory for more"
    ]
    assert plan(envoy=EnvoyOptions(memory="1Gi", max_downstream_connections=8_000))


def test_drain_must_fit_in_the_app_prestop_sleep() -> None:
    assert problems(envoy=EnvoyOptions(drain_time_s=6)) == [
        "envoy.drain_time_s: got 6: must not exceed prestop_sleep_s (5): Envoy drains the "
        "ingress while the app sleeps in its preStop hook, and requests still arriving once the "
        "app has SIGTERM fail; lower it or raise prestop_sleep_s"
    ]
    assert plan(envoy=EnvoyOptions(drain_time_s=5)).envoy.drain_time_s == 5
    assert plan(envoy=EnvoyOptions(drain_time_s=6), prestop_sleep_s=6).envoy.drain_time_s == 6


def test_dogstatsd_option_switches_the_sink() -> None:
    assert plan().envoy.dogstatsd == envoy.DogStatsd()
    assert plan(envoy=EnvoyOptions(dogstatsd=False)).envoy.dogstatsd is None


def test_port_collisions_are_reported_once_under_the_service_field_names() -> None:
    # The app port against Envoy's own port: on ``port``, once, with the other problems kept.
    assert problems(port=15001, envoy=EnvoyOptions(concurrency=0)) == [
        "port: got 15001: collides with envoy.ingress_port (15001): the app and Envoy share the "
        "pod's network; pick another port",
        "envoy.concurrency: got 0: must be an integer 1-64",
    ]
    # A dependency's egress port against the app port: Envoy's check, renamed.
    assert problems(dependencies=[Dependency(name="users", egress_port=8080)]) == [
        "dependencies[0].egress_port: got 8080: collides with port (8080); every local port "
        "(app, ingress, admin, stats, egress) must be distinct: pick a free port"
    ]

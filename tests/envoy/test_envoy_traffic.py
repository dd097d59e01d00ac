"""A real Envoy on the builder's bootstrap, with local upstreams: traffic, faults, drain.

Every listener and upstream is on 127.0.0.1 with ephemeral ports; dependencies are pointed at
127.0.0.1 through ``EnvoyDependency.address`` (in the cluster it is the Service's DNS name).
Timing assertions are loose bounds (orders of magnitude), not benchmarks.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from eksplatform.envoy import (
    CircuitBreakers,
    EnvoyDependency,
    OutlierDetection,
    RetryPolicy,
)

pytestmark = pytest.mark.envoy  # runs the real binary

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

ACCESS_LOG_FIELDS = {
    "start_time",
    "method",
    "path",
    "protocol",
    "response_code",
    "response_flags",
    "duration_ms",
    "upstream_host",
    "upstream_cluster",
    "request_id",
    "bytes_received",
    "bytes_sent",
}


def dep(kit: Any, name: str, port: int, **kw: Any) -> EnvoyDependency:
    """A dependency pointed at 127.0.0.1:<port> instead of its in-cluster DNS name."""
    return EnvoyDependency(
        name=name,
        namespace="test",
        address="127.0.0.1",
        port=port,
        egress_port=kit.free_port(),
        **kw,
    )


def test_ingress_reaches_app_with_request_id(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app = upstreams("app")
    envoy = run_envoy(kit.settings(app_port=app.port))

    resp = kit.get(envoy.settings.ingress_port, "/hello")
    assert resp.status == 200
    assert resp.headers["x-upstream"] == "app"
    assert UUID.match(resp.headers["x-seen-request-id"]), "Envoy must generate x-request-id"

    # A caller's id (another sidecar's egress) is kept, so one id follows the call chain.
    resp = kit.get(envoy.settings.ingress_port, "/hello", headers={"x-request-id": "abc-123"})
    assert resp.headers["x-seen-request-id"] == "abc-123"


def test_each_dependency_reachable_http1_and_http2(
    kit: Any, upstreams: Any, grpc_upstream: Any, run_envoy: Any
) -> None:
    grpc = pytest.importorskip("grpc")
    app, users, orders = upstreams("app"), upstreams("users"), upstreams("orders")
    deps = (
        dep(kit, "users", users.port),
        dep(kit, "orders", orders.port),
        dep(kit, "ranker", grpc_upstream.port, protocol="http2"),
    )
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=deps))

    for d, name in zip(deps[:2], ("users", "orders"), strict=True):
        resp = kit.get(d.egress_port, "/x")
        assert (resp.status, resp.headers["x-upstream"]) == (200, name)

    # gRPC over h2c: client -> egress listener -> HTTP/2 upstream cluster -> grpc server.
    channel = grpc.insecure_channel(
        f"127.0.0.1:{deps[2].egress_port}", options=[("grpc.enable_http_proxy", 0)]
    )
    try:
        call = channel.unary_unary(
            "/test.Echo/Echo", request_serializer=lambda b: b, response_deserializer=lambda b: b
        )
        assert call(b"ping", timeout=5) == b"echo:ping"
    finally:
        channel.close()
    stats = envoy.stats(r"^cluster\.dep_(ranker|users)\.upstream_cx_http[12]_total$")
    assert int(stats["cluster.dep_ranker.upstream_cx_http2_total"]) >= 1
    assert int(stats["cluster.dep_users.upstream_cx_http1_total"]) >= 1


def test_503_once_is_retried(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app, flaky = upstreams("app"), upstreams("flaky")
    d = dep(kit, "flaky", flaky.port)
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))

    resp = kit.get(d.egress_port, "/flaky/one")
    assert resp.status == 200
    assert resp.body == b"attempt 2"
    assert flaky.hits["/flaky/one"] == 2
    assert (
        int(
            envoy.stats(r"^cluster\.dep_flaky\.upstream_rq_retry$")[
                "cluster.dep_flaky.upstream_rq_retry"
            ]
        )
        == 1
    )


def test_slow_upstream_is_cut_at_route_timeout(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app, slow = upstreams("app"), upstreams("slow")
    d = dep(
        kit,
        "slow",
        slow.port,
        timeout_s=0.5,
        connect_timeout_s=0.25,
        retries=RetryPolicy(num_retries=0, per_try_timeout_s=0.5),
    )
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))

    resp = kit.get(d.egress_port, "/slow/4000", timeout=5)
    assert resp.status == 504
    assert 0.4 <= resp.seconds < 3.0
    entries = envoy.wait_access_log(lambda e: e["path"] == "/slow/4000")
    assert entries and "UT" in entries[0]["response_flags"]


def test_unreachable_upstream_fails_fast_with_503(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app = upstreams("app")
    d = dep(kit, "gone", kit.free_port())  # nothing listens there
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))

    resp = kit.get(d.egress_port, "/x", timeout=5)
    assert resp.status == 503
    assert resp.seconds < 3.0  # connect refused + 2 retries with backoff, not a timeout
    entries = envoy.wait_access_log(lambda e: e["upstream_cluster"] == "dep_gone")
    assert entries and "UF" in entries[0]["response_flags"]


def test_circuit_breaker_overflow_gives_503_uo(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app, slow = upstreams("app"), upstreams("slow")
    d = dep(
        kit,
        "slow",
        slow.port,
        retries=RetryPolicy(num_retries=0),
        circuit_breakers=CircuitBreakers(max_connections=1, max_pending_requests=1, max_requests=1),
    )
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))

    results: list[Any] = []
    lock = threading.Lock()

    def call() -> None:
        resp = kit.get(d.egress_port, "/slow/800", timeout=5)
        with lock:
            results.append(resp)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=6)
    assert len(results) == 4
    overflowed = [r for r in results if r.status == 503]
    assert overflowed, [r.status for r in results]
    assert all(r.headers.get("x-envoy-overloaded") == "true" for r in overflowed)
    assert any(r.status == 200 for r in results)
    entries = envoy.wait_access_log(lambda e: "UO" in e["response_flags"])
    assert entries and entries[0]["response_code"] == 503


def test_failing_upstream_is_ejected(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app, bad = upstreams("app"), upstreams("bad")
    d = dep(
        kit,
        "bad",
        bad.port,
        retries=RetryPolicy(num_retries=0),
        # One host: 100% (with the default 50%, Envoy counts an ejection_overflow instead).
        outlier_detection=OutlierDetection(
            consecutive_5xx=3, base_ejection_time_s=30, max_ejection_percent=100
        ),
    )
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))

    for _ in range(4):
        assert kit.get(d.egress_port, "/status/500").status == 500
    name = "cluster.dep_bad.outlier_detection.ejections_active"
    assert kit.wait_for(lambda: envoy.stats(r"outlier_detection\.ejections_active$")[name] == "1")
    total = envoy.stats(r"outlier_detection\.ejections_enforced_consecutive_5xx$")
    assert int(total["cluster.dep_bad.outlier_detection.ejections_enforced_consecutive_5xx"]) == 1


def test_admin_only_on_loopback_and_stats_port_serves_only_metrics(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app")
    envoy = run_envoy(kit.settings(app_port=app.port))
    s = envoy.settings

    assert kit.get(s.admin_port, "/ready").status == 200
    with pytest.raises(ConnectionRefusedError):
        kit.get(s.admin_port, "/ready", host="127.0.0.2", timeout=2)

    prom = kit.get(s.stats_port, "/stats/prometheus")
    assert prom.status == 200
    assert b"# TYPE envoy_cluster_upstream_rq_total counter" in prom.body
    assert kit.get(s.stats_port, "/ready").status == 200
    for path in ("/clusters", "/config_dump", "/quitquitquit", "/stats"):
        assert kit.get(s.stats_port, path).status == 404, path


def test_health_route_follows_app_readiness(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app = upstreams("app", ready=False)
    envoy = run_envoy(kit.settings(app_port=app.port))
    port, path = envoy.settings.ingress_port, envoy.settings.health_path

    assert kit.get(port, path).status == 503
    app.set_ready(True)
    assert kit.wait_for(lambda: kit.get(port, path).status == 200, timeout=5)
    app.set_ready(False)
    assert kit.wait_for(lambda: kit.get(port, path).status == 503, timeout=5)
    assert app.hits["/ready"] >= 3, "Envoy actively checks the app's readiness path"


def test_access_log_lines_are_json_with_fields(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app, users = upstreams("app"), upstreams("users")
    d = dep(kit, "users", users.port)
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))

    kit.get(envoy.settings.ingress_port, envoy.settings.health_path)
    kit.get(envoy.settings.ingress_port, "/in?q=1", headers={"x-request-id": "rid-ingress"})
    kit.get(d.egress_port, "/out", headers={"x-request-id": "rid-egress"})

    entries = envoy.wait_access_log(lambda e: e["request_id"] == "rid-egress")
    entries = envoy.access_log()  # every line must parse as JSON
    by_id = {e["request_id"]: e for e in entries}
    ingress, egress = by_id["rid-ingress"], by_id["rid-egress"]
    for entry in (ingress, egress):
        assert entry.keys() >= ACCESS_LOG_FIELDS
        assert entry["method"] == "GET"
        assert entry["protocol"] == "HTTP/1.1"
        assert entry["response_code"] == 200
        assert entry["response_flags"] == "-"
        assert isinstance(entry["duration_ms"], int)
        assert entry["bytes_sent"] > 0
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", entry["start_time"])
    assert (ingress["direction"], ingress["path"], ingress["upstream_cluster"]) == (
        "ingress",
        "/in?q=1",
        "app",
    )
    assert ingress["upstream_host"] == f"127.0.0.1:{app.port}"
    assert (egress["direction"], egress["path"], egress["upstream_cluster"]) == (
        "egress",
        "/out",
        "dep_users",
    )
    # The load balancer's health checks are not logged.
    assert not [e for e in entries if e["path"] == envoy.settings.health_path]

"""A real Envoy on the builder's bootstrap against hostile and slow clients and awkward upstreams.

One test per hazard of issue 20, each with bounded clients and bounded time, everything on
127.0.0.1. Timeouts are configured short (fractions of a second to a few seconds) so the suite
stays quick; the assertions are about behaviour (status, counts, order), with loose time bounds.
"""

from __future__ import annotations

import functools
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest
from eksplatform.envoy import EnvoyDependency, RetryPolicy, memory, prestop_command

pytestmark = pytest.mark.envoy  # runs the real binary


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


def proc_mib(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and RssFile of a process, MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    return out


def counter(envoy: Any, name: str) -> int:
    value = envoy.stats("^" + name.replace(".", "[.]") + "$").get(name, "0")
    return int(value) if value.isdigit() else 0


def parallel(calls: list[Callable[[], Any]], workers: int) -> list[Any]:
    """Run ``calls`` on ``workers`` threads; results (or the exception raised) in order."""

    def guard(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # the test inspects what failed
            return exc

    with futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(guard, calls, timeout=60))


# --------------------------------------------------------------------------------------------------
# Honest logs: client headers steer nothing and never reach the app
# --------------------------------------------------------------------------------------------------

FORGED = {
    "x-envoy-original-path": "/admin/forged",
    "X-Envoy-Original-Url": "http://evil/forged",
    "x-envoy-upstream-rq-timeout-ms": "600000",
    "x-envoy-retry-on": "5xx,reset",
    "x-envoy-max-retries": "10",
    "x-envoy-internal": "true",
    "x-envoy-decorator-operation": "forged",
    "x-envoy-expected-rq-timeout-ms": "1",
    "X_Forwarded_Proto": "https",  # a WSGI server reads this as X-Forwarded-Proto
}
# Fields whose value differs per request whatever the client sends.
VOLATILE = {"start_time", "duration_ms", "request_id", "upstream_service_time_ms", "bytes_sent"}


def test_forged_headers_change_nothing_in_the_log_and_never_reach_the_app(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app")
    envoy = run_envoy(kit.settings(app_port=app.port))
    port = envoy.settings.ingress_port

    plain = kit.get(port, "/echo?q=1", headers={"x-request-id": "plain"})
    forged = kit.get(port, "/echo?q=1", headers={"x-request-id": "forged", **FORGED})
    assert (plain.status, forged.status) == (200, 200)
    seen = json.loads(forged.body)["headers"]
    leaked = sorted(h for h in seen if h.startswith("x-envoy-") or "_" in h)
    # Envoy adds exactly one x-envoy header itself (the route timeout, for the app's deadline).
    assert leaked == ["x-envoy-expected-rq-timeout-ms"], seen
    assert seen["x-envoy-expected-rq-timeout-ms"] == "15000"
    assert json.loads(forged.body)["path"] == "/echo?q=1"

    entries = envoy.wait_access_log(lambda e: e["request_id"] == "forged")
    (before,) = [e for e in envoy.access_log() if e["request_id"] == "plain"]
    (after,) = entries
    assert after["path"] == "/echo?q=1"
    differing = {k for k in before if before[k] != after[k]} - VOLATILE
    # Only the source port of the new connection differs.
    assert differing <= {"downstream_remote_address", "downstream_peer_address"}, differing
    assert after["downstream_peer_address"].startswith("127.0.0.1:")


def test_client_cannot_extend_the_route_timeout(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app = upstreams("app")
    envoy = run_envoy(
        kit.settings(app_port=app.port, request_timeout_s=0.5, app_connect_timeout_s=0.25)
    )
    resp = kit.get(
        envoy.settings.ingress_port,
        "/slow/3000",
        headers={"x-envoy-upstream-rq-timeout-ms": "60000", "x-envoy-max-retries": "5"},
        timeout=5,
    )
    assert resp.status == 504
    assert resp.seconds < 2.0
    assert app.hits["/slow/3000"] == 1


def test_escaped_slashes_are_redirected_to_the_normalised_path(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app")
    envoy = run_envoy(kit.settings(app_port=app.port))
    resp = kit.get(envoy.settings.ingress_port, "/files/..%2Fadmin%2fkeys?x=%2F")
    assert resp.status == 307
    assert resp.headers["location"] == "/admin/keys?x=%2F"  # relative: no scheme downgrade
    assert not [p for p in app.hits if "admin" in p or "files" in p]

    rejecting = run_envoy(kit.settings(app_port=app.port, escaped_slashes="reject"))
    assert kit.get(rejecting.settings.ingress_port, "/a%2Fb").status == 400


# --------------------------------------------------------------------------------------------------
# Bounded time: slow request bodies
# --------------------------------------------------------------------------------------------------


def test_body_at_one_byte_per_second_is_cut_with_408_at_the_receive_timeout(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app")
    envoy = run_envoy(kit.settings(app_port=app.port, request_receive_timeout_s=1.5))
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", envoy.settings.ingress_port), timeout=6) as conn:
        conn.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        conn.setblocking(False)
        answer = b""
        while time.monotonic() - start < 6 and not answer:
            try:
                conn.send(b"a")  # one byte a second
            except OSError:
                break
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline and not answer:
                try:
                    answer = conn.recv(4096)
                except BlockingIOError:
                    time.sleep(0.02)
        elapsed = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 1.3 <= elapsed < 3.0
    # Envoy let go of the app's connection then too (the app's read of the body ended early),
    # instead of holding it for the 100 s the body would take.
    assert kit.wait_for(lambda: bool(app.times("/echo")), timeout=2)
    assert app.times("/echo")[0] - start < 3.0
    (entry,) = envoy.wait_access_log(lambda e: e["path"] == "/echo")
    assert entry["response_code"] == 408


def test_silent_connections_are_closed_and_cannot_hold_the_connection_cap(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app")
    settings = kit.settings(app_port=app.port, memory_limit_mib=96, request_headers_timeout_s=1)
    envoy = run_envoy(settings)
    cap = memory.max_downstream_connections(settings)
    silent = []
    try:
        for _ in range(cap + 20):  # more than the cap, sending nothing
            silent.append(socket.create_connection(("127.0.0.1", settings.ingress_port), timeout=3))
        time.sleep(1.5)
        # Each was closed at the headers timeout: a real client gets through again.
        assert kit.get(settings.ingress_port, "/ok").status == 200
        assert all(conn.recv(1) == b"" for conn in silent[:20])
        closed = counter(
            envoy, f"listener.127.0.0.1_{settings.ingress_port}.downstream_pre_cx_timeout"
        )
        assert closed >= cap
    finally:
        for conn in silent:
            conn.close()


def test_large_body_is_streamed_even_with_retries_configured(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app")
    envoy = run_envoy(kit.settings(app_port=app.port))
    body = b"z" * (2 * 1024 * 1024)  # 64 buffer limits: Envoy cannot keep it for a retry
    for method in ("POST", "PUT"):
        resp = kit.get(envoy.settings.ingress_port, "/echo", method=method, body=body, timeout=10)
        assert resp.status == 200, resp.body[:200]
        assert json.loads(resp.body)["body_bytes"] == len(body)


# --------------------------------------------------------------------------------------------------
# Upstream keep-alive: an app that closes idle connections after 2 s
# --------------------------------------------------------------------------------------------------


def test_app_closing_idle_connections_after_two_seconds_causes_no_failures(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app", keepalive_s=2.0)
    envoy = run_envoy(kit.settings(app_port=app.port))
    port = envoy.settings.ingress_port

    # Bursts every ~2 s reuse pooled connections just as the app times them out (the race a
    # 30 s pool idle timeout loses), with steady single requests in between.
    def client(worker: int) -> list[int]:
        codes = []
        for burst in range(3):
            methods = ("GET", "POST") if worker % 2 else ("PUT", "DELETE")
            for method in methods:
                codes.append(kit.get(port, f"/ok?w={worker}&b={burst}", method=method).status)
            time.sleep(1.95 + 0.01 * (worker % 10))
        return codes

    results = parallel([functools.partial(client, w) for w in range(16)], workers=16)
    failures = [r for r in results if not isinstance(r, list)]
    assert not failures, failures[:3]
    codes = [c for r in results for c in r]
    assert len(codes) == 96
    assert set(codes) == {200}
    assert counter(envoy, "cluster.app.upstream_cx_idle_timeout") > 0
    assert counter(envoy, "http.ingress_http.downstream_rq_5xx") == 0


# --------------------------------------------------------------------------------------------------
# Bounded memory: clients that do not read
# --------------------------------------------------------------------------------------------------


def test_non_reading_clients_keep_envoy_under_its_memory_limit_and_it_sheds(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app = upstreams("app")
    settings = kit.settings(app_port=app.port, memory_limit_mib=96, concurrency=2)
    envoy = run_envoy(settings)
    port = settings.ingress_port
    limit_anon = settings.memory_limit_mib - memory.BINARY_RESIDENT_MIB
    clients: list[socket.socket] = []
    peak: dict[str, float] = {"VmRSS": 0.0, "RssAnon": 0.0}
    probe_statuses: list[Any] = []
    try:
        for i in range(600):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=2)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                conn.sendall(b"GET /big/50000000 HTTP/1.1\r\nHost: x\r\n\r\n")
                clients.append(conn)
            except OSError:
                pass
            if i % 50 == 49:
                time.sleep(0.3)
                now = proc_mib(envoy.pid)
                peak = {k: max(peak[k], now[k]) for k in peak}
                try:
                    probe_statuses.append(kit.get(port, "/ok", timeout=2).status)
                except OSError as exc:
                    probe_statuses.append(type(exc).__name__)
        time.sleep(1.0)
        now = proc_mib(envoy.pid)
        peak = {k: max(peak[k], now[k]) for k in peak}

        assert peak["RssAnon"] <= limit_anon, (peak, limit_anon)
        assert peak["VmRSS"] <= settings.memory_limit_mib, peak
        refused = counter(envoy, f"listener.127.0.0.1_{port}.downstream_cx_overload_reject")
        capped = counter(envoy, f"listener.127.0.0.1_{port}.downstream_global_cx_overflow")
        shed = counter(envoy, "http.ingress_http.downstream_rq_overload_close") + counter(
            envoy, "http.ingress_http.rq_overload_local_reply"
        )
        assert refused + capped + shed > 0, "Envoy neither refused nor shed"
        # Early probes got through; once the heap was near its cap, new work was refused.
        assert probe_statuses[0] == 200
        assert any(s != 200 for s in probe_statuses), probe_statuses
    finally:
        for conn in clients:
            conn.close()
        app.server.release.set()
    # The hogs gone, the sidecar serves again.
    assert kit.wait_for(lambda: _ok(kit, port), timeout=10)


def test_http2_callers_multiplexing_unread_streams_are_refused_by_the_heap_monitor(
    kit: Any, run_envoy: Any
) -> None:
    """The connection cap cannot see streams multiplexed on one HTTP/2 connection: the heap
    monitor must. Callers keep opening connections of 100 streams whose responses they never
    read; Envoy refuses new connections once its heap nears the cap and stays under its limit."""
    grpc = pytest.importorskip("grpc")
    done = threading.Event()

    def stream(request: bytes, context: Any) -> Any:
        chunk = b"x" * 65536
        for _ in range(1000):
            if done.is_set() or not context.is_active():
                return
            yield chunk

    handler = grpc.method_handlers_generic_handler(
        "test.Big",
        {
            "Stream": grpc.unary_stream_rpc_method_handler(
                stream, request_deserializer=lambda b: b, response_serializer=lambda b: b
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1200))
    server.add_generic_rpc_handlers((handler,))
    app_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channels: list[Any] = []
    unread: list[Any] = []
    try:
        settings = kit.settings(app_port=app_port, app_protocol="http2", memory_limit_mib=96)
        envoy = run_envoy(settings)
        rejected = f"listener.127.0.0.1_{settings.ingress_port}.downstream_cx_overload_reject"
        peak = {"VmRSS": 0.0, "RssAnon": 0.0}
        for _ in range(11):
            # One connection per channel (no shared subchannel); no BDP probing, so the
            # client's flow-control window stays at 64 KiB per stream.
            channel = grpc.insecure_channel(
                f"127.0.0.1:{settings.ingress_port}",
                options=[
                    ("grpc.enable_http_proxy", 0),
                    ("grpc.http2.bdp_probe", 0),
                    ("grpc.use_local_subchannel_pool", 1),
                ],
            )
            channels.append(channel)
            call = channel.unary_stream(
                "/test.Big/Stream",
                request_serializer=lambda b: b,
                response_deserializer=lambda b: b,
            )
            unread += [call(b"x", timeout=15) for _ in range(100)]
            time.sleep(0.3)
            now = proc_mib(envoy.pid)
            peak = {k: max(peak[k], now[k]) for k in peak}
        assert peak["VmRSS"] <= settings.memory_limit_mib, peak
        assert peak["RssAnon"] <= settings.memory_limit_mib - memory.BINARY_RESIDENT_MIB, peak
        pressure = int(
            envoy.stats("fixed_heap[.]pressure$")[
                "overload.envoy.resource_monitors.fixed_heap.pressure"
            ]
        )
        assert pressure >= 90, pressure
        assert counter(envoy, rejected) > 0, "no connection was refused"
    finally:
        done.set()
        for it in unread:
            it.cancel()
        for channel in channels:
            channel.close()
        server.stop(grace=None).wait(timeout=5)


def _ok(kit: Any, port: int) -> bool:
    try:
        return bool(kit.get(port, "/ok", timeout=2).status == 200)
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------
# HTTP/2 dependency with a low stream limit
# --------------------------------------------------------------------------------------------------


def test_http2_dependency_limited_to_few_streams_serves_a_burst_without_errors(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    grpc = pytest.importorskip("grpc")

    def echo(request: bytes, context: Any) -> bytes:
        time.sleep(0.02)
        return b"echo:" + request

    handler = grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Echo": grpc.unary_unary_rpc_method_handler(
                echo, request_deserializer=lambda b: b, response_serializer=lambda b: b
            )
        },
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32), options=[("grpc.max_concurrent_streams", 4)]
    )
    server.add_generic_rpc_handlers((handler,))
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        app = upstreams("app")
        d = dep(kit, "ranker", grpc_port, protocol="http2", max_concurrent_streams=4)
        envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))
        channel = grpc.insecure_channel(
            f"127.0.0.1:{d.egress_port}", options=[("grpc.enable_http_proxy", 0)]
        )
        try:
            call = channel.unary_unary(
                "/test.Echo/Echo",
                request_serializer=lambda b: b,
                response_deserializer=lambda b: b,
            )
            for _ in range(2):  # a cold burst (new connections), then a warm one
                results = parallel(
                    [functools.partial(call, b"%d" % i, timeout=10) for i in range(150)],
                    workers=150,
                )
                errors = [r for r in results if isinstance(r, Exception)]
                assert not errors, [str(e)[:200] for e in errors[:3]]
                assert sorted(results) == sorted(b"echo:%d" % i for i in range(150))
        finally:
            channel.close()
        # Envoy spread the burst over connections instead of overrunning the server's limit.
        assert counter(envoy, "cluster.dep_ranker.upstream_cx_total") >= 150 // 4 // 4
    finally:
        server.stop(grace=None).wait(timeout=5)


# --------------------------------------------------------------------------------------------------
# Retries: non-idempotent requests once, Retry-After honoured
# --------------------------------------------------------------------------------------------------


def test_non_idempotent_request_is_sent_once_and_idempotent_ones_are_retried(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app, svc = upstreams("app"), upstreams("svc")
    retries = RetryPolicy(per_try_timeout_s=0.4)
    d = dep(kit, "svc", svc.port, timeout_s=1.5, retries=retries)
    opted = dep(
        kit,
        "ledger",
        svc.port,
        timeout_s=1.5,
        retries=RetryPolicy(per_try_timeout_s=0.4, non_idempotent_retry_on=("reset", "5xx")),
    )
    envoy = run_envoy(kit.settings(app_port=app.port, dependencies=(d, opted)))

    # The connection drops mid-request.
    for method in ("POST", "PATCH"):
        resp = kit.get(d.egress_port, f"/reset/{method}", method=method, body=b"{}")
        assert resp.status == 503
        assert svc.hits[f"/reset/{method}"] == 1, method
    for method in ("GET", "PUT", "DELETE"):
        kit.get(d.egress_port, f"/reset/{method}", method=method)
        assert svc.hits[f"/reset/{method}"] == 3, method  # 1 + num_retries

    # The dependency answers too late: the POST's one attempt gets the whole timeout.
    post = kit.get(d.egress_port, "/slow/3000", method="POST", body=b"{}", timeout=5)
    assert post.status == 504
    assert 1.3 <= post.seconds < 2.5
    assert svc.hits["/slow/3000"] == 1
    get = kit.get(d.egress_port, "/slow/2999", timeout=5)
    assert get.status == 504
    assert svc.hits["/slow/2999"] == 3  # three 0.4 s attempts within 1.5 s

    # A dependency that opted in retries its POSTs.
    kit.get(opted.egress_port, "/reset/opted", method="POST", body=b"{}")
    assert svc.hits["/reset/opted"] == 3
    assert counter(envoy, "cluster.dep_svc.upstream_rq_retry") == 2 * 3 + 2


def test_retry_after_is_honoured_up_to_its_bound(kit: Any, upstreams: Any, run_envoy: Any) -> None:
    app, svc = upstreams("app"), upstreams("svc")
    d = dep(kit, "svc", svc.port, timeout_s=4.0, retries=RetryPolicy(max_retry_after_s=2))
    run_envoy(kit.settings(app_port=app.port, dependencies=(d,)))

    resp = kit.get(d.egress_port, "/retry-after/1/a", timeout=6)
    assert resp.status == 200
    first, second = svc.times("/retry-after/1/a")
    assert second - first >= 0.95, "retried before the Retry-After delay"

    # Longer than the bound: no waiting past it; the retry follows the normal back-off.
    resp = kit.get(d.egress_port, "/retry-after/30/b", timeout=6)
    assert resp.status == 200
    assert resp.seconds < 1.5


# --------------------------------------------------------------------------------------------------
# A drain that ramps
# --------------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("bash") is None, reason="the preStop hook is a bash script")
def test_drain_ramps_connection_close_over_the_drain_time(
    kit: Any, upstreams: Any, run_envoy: Any
) -> None:
    app, users = upstreams("app"), upstreams("users")
    d = dep(kit, "users", users.port)
    drain = 4
    envoy = run_envoy(kit.settings(app_port=app.port, drain_time_s=drain, dependencies=(d,)))
    s = envoy.settings
    assert kit.wait_for(lambda: kit.get(s.ingress_port, s.health_path).status == 200)

    in_flight: dict[str, Any] = {}
    slow = threading.Thread(
        target=lambda: in_flight.update(resp=kit.get(s.ingress_port, "/slow/5500", timeout=10))
    )
    slow.start()
    assert app.server.arrived.wait(timeout=3)

    samples: list[tuple[float, str]] = []
    hook = subprocess.Popen(prestop_command(s), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = time.monotonic()
    try:
        # The load balancer's health check fails at once, without closing every connection.
        assert kit.wait_for(
            lambda: kit.get(s.ingress_port, s.health_path).status == 503, timeout=1.5
        )
        assert kit.get(s.stats_port, "/ready").status == 503
        while time.monotonic() - start < drain + 1.0:
            try:
                resp = kit.get(s.ingress_port, "/ok", timeout=2)
                outcome = (
                    resp.headers.get("connection", "keep-alive")
                    if resp.status == 200
                    else (f"status {resp.status}")
                )
            except ConnectionRefusedError:
                outcome = "refused"
            samples.append((time.monotonic() - start, outcome))
            time.sleep(0.02)

        def share(low: float, high: float) -> float:
            window = [o for t, o in samples if low <= t < high and o != "refused"]
            return sum(o == "close" for o in window) / len(window)

        ramp = [share(i, i + 1) for i in range(drain - 1)]
        print("connection: close share per second of the drain:", ramp)
        # Envoy closes each answered connection with a probability that grows linearly over the
        # drain time, so the shares are samples: compare spans wide enough (about 50 and 75
        # answers) that chance cannot reorder them, early (expected ~1/8) and late (~11/16).
        early, late = share(0, 1), share(drain - 2, drain - 0.5)
        assert early < 0.5 < late, ramp
        assert share(0, drain / 2) < share(drain / 2, drain - 0.5), ramp
        # Nothing failed: every answer was a 200, then the listener closed.
        outcomes = [o for _, o in samples]
        assert not [o for o in outcomes if o.startswith("status")], outcomes
        assert outcomes[-1] == "refused"
        # The app's calls out still work: only the ingress drained.
        assert kit.get(d.egress_port, "/x").status == 200
        # The request in flight completes, then the hook returns.
        slow.join(timeout=10)
        assert in_flight["resp"].status == 200
        assert hook.wait(timeout=5) == 0, hook.stderr.read() if hook.stderr else ""
        assert envoy.proc.poll() is None, "Envoy itself keeps running until SIGTERM"
    finally:
        if hook.poll() is None:
            hook.terminate()
            try:
                hook.wait(timeout=5)
            except subprocess.TimeoutExpired:
                hook.kill()
                hook.wait(timeout=5)
        if hook.stderr:
            hook.stderr.close()

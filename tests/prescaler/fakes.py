"""A fake Kubernetes API server and a fake EventBridge Scheduler, both real HTTP on 127.0.0.1.

The Kubernetes fake answers the paths, verbs, JSON shapes and status codes of the real API for
the objects the pre-scaler touches: ``autoscaling/v2`` HorizontalPodAutoscalers (list with a label
selector, get, JSON merge patch), the ``apps/v1`` Deployment ``scale`` subresource (an
``autoscaling/v1`` Scale) and ``status``. It keeps a resourceVersion per object and refuses a
patch naming a stale one with 409 ``Conflict``, like the API server's optimistic concurrency; it
enforces an RBAC table (403 ``Forbidden`` with the API server's wording), requires a bearer
token, validates ``minReplicas <= maxReplicas`` (422), and can inject faults (status codes,
``Retry-After``, delays) and concurrent writes.

The Scheduler fake speaks the REST-JSON protocol botocore uses (``POST /schedules/{Name}``), so
the handler's real boto3 client (with dummy credentials) validates its parameters against the
pinned SDK's service model and round-trips them over HTTP.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HPA_ALL = re.compile(r"/apis/autoscaling/v2/horizontalpodautoscalers")
HPA_ONE = re.compile(
    r"/apis/autoscaling/v2/namespaces/(?P<ns>[a-z0-9-]+)/horizontalpodautoscalers/(?P<name>[a-z0-9-]+)"
)
DEPLOYMENT_SUB = re.compile(
    r"/apis/apps/v1/namespaces/(?P<ns>[a-z0-9-]+)/deployments/(?P<name>[a-z0-9-]+)/(?P<sub>scale|status)"
)
USER = "arn:aws:sts::123456789012:assumed-role/eks-test-prescaler/prescaler"

ALL_RULES = frozenset(
    {
        ("list", "horizontalpodautoscalers"),
        ("get", "horizontalpodautoscalers"),
        ("patch", "horizontalpodautoscalers"),
        ("get", "deployments/scale"),
        ("patch", "deployments/scale"),
        ("get", "deployments/status"),
    }
)


@dataclass
class Fault:
    """Answer matching requests with ``status`` (``times`` times), or delay them."""

    method: str
    path: str
    """Regex matched (fullmatch) against the request path."""
    status: int = 503
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to sleep before answering normally (status ignored when set)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Any:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details or {},
        "code": code,
    }


class FakeCluster:
    """State and behaviour of the fake API server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = 1000
        self.hpas: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.rules: set[tuple[str, str]] = set(ALL_RULES)
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.tokens: list[str] = []
        """Bearer tokens received, in order."""
        self.before_patch: Callable[[str], None] | None = None
        """Called (with the path) before a patch is applied: simulates another writer."""

    def _next(self) -> str:
        self.version += 1
        return str(self.version)

    # --- fixtures ------------------------------------------------------------------------------

    def add_service(
        self,
        namespace: str,
        name: str,
        *,
        min_replicas: int,
        max_replicas: int,
        current: int | None = None,
        factor: int | None = 10,
        baseline: int | None = None,
        cpu_millis: int = 500,
        memory_bytes: int = 512 * 2**20,
        ready: int | None = None,
    ) -> None:
        labels = {"app.kubernetes.io/name": name}
        if factor is not None:
            labels["eksplatform.io/prescale"] = "true"
            labels["eksplatform.io/prescale-factor"] = str(factor)
        annotations = {
            "eksplatform.io/pod-requests": json.dumps(
                {"cpuMillis": cpu_millis, "memoryBytes": memory_bytes}
            )
        }
        if baseline is not None:
            annotations["eksplatform.io/baseline-min-replicas"] = str(baseline)
        replicas = current if current is not None else min_replicas
        self.hpas[f"{namespace}/{name}"] = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": f"uid-{namespace}-{name}",
                "resourceVersion": self._next(),
                "labels": labels,
                "annotations": annotations,
            },
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": min_replicas,
                "maxReplicas": max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
            "status": {"currentReplicas": replicas, "desiredReplicas": replicas},
        }
        self.add_deployment(namespace, name, replicas=replicas, ready=ready)

    def add_deployment(
        self, namespace: str, name: str, *, replicas: int, ready: int | None = None
    ) -> None:
        self.deployments[f"{namespace}/{name}"] = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": f"uid-deploy-{namespace}-{name}",
                "resourceVersion": self._next(),
            },
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}},
            "status": {
                "replicas": replicas,
                "readyReplicas": replicas if ready is None else ready,
                "availableReplicas": replicas if ready is None else ready,
            },
        }

    def hpa(self, key: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.hpas[key])

    def touch(self, key: str, **spec: Any) -> None:
        """Another writer changes the HPA (e.g. ``pulumi up`` writing its annotation)."""
        with self.lock:
            obj = self.hpas[key]
            obj["spec"].update(spec)
            obj["metadata"]["resourceVersion"] = self._next()

    def set_annotation(self, key: str, name: str, value: str | None) -> None:
        with self.lock:
            annotations = self.hpas[key]["metadata"].setdefault("annotations", {})
            if value is None:
                annotations.pop(name, None)
            else:
                annotations[name] = value
            self.hpas[key]["metadata"]["resourceVersion"] = self._next()

    def writes(self) -> list[tuple[str, Any]]:
        return [(path, body) for method, path, _, body in self.requests if method == "PATCH"]

    # --- request handling -------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path
        query = dict(urllib.parse.parse_qsl(parsed.query))
        payload = json.loads(body) if body else None
        self.requests.append((method, path, query, payload))
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.fullmatch(fault.path, path):
                fault.times -= 1
                if fault.delay:
                    time.sleep(fault.delay)
                    break
                return (
                    fault.status,
                    fault.headers,
                    status_body(fault.status, "InternalError", f"injected {fault.status}"),
                )
        auth = headers.get("authorization", "")
        self.tokens.append(auth.removeprefix("Bearer "))
        if not auth.startswith("Bearer k8s-aws-v1."):
            return 401, {}, status_body(401, "Unauthorized", "Unauthorized")
        with self.lock:
            return self._route(method, path, query, headers, payload)

    def _forbidden(self, verb: str, resource: str, namespace: str | None, name: str | None) -> Any:
        group, _, sub = resource.partition("/")
        api_group = "autoscaling" if group == "horizontalpodautoscalers" else "apps"
        what = f'{group}.{api_group} "{name}"' if name else f"{group}.{api_group}"
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        message = (
            f'{what} is forbidden: User "{USER}" cannot {verb} resource "{group}" in API group '
            f'"{api_group}"{where}'
        )
        if sub:
            message = message.replace(f'resource "{group}"', f'resource "{group}/{sub}"')
        return status_body(403, "Forbidden", message, {"name": name or "", "kind": group})

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        payload: Any,
    ) -> tuple[int, dict[str, str], Any]:
        if HPA_ALL.fullmatch(path) and method == "GET":
            if ("list", "horizontalpodautoscalers") not in self.rules:
                return 403, {}, self._forbidden("list", "horizontalpodautoscalers", None, None)
            key, _, value = query.get("labelSelector", "").partition("=")
            items = [
                {k: v for k, v in copy.deepcopy(obj).items() if k not in ("apiVersion", "kind")}
                for obj in self.hpas.values()
                if not key or obj["metadata"].get("labels", {}).get(key) == value
            ]
            return (
                200,
                {},
                {
                    "apiVersion": "autoscaling/v2",
                    "kind": "HorizontalPodAutoscalerList",
                    "metadata": {"resourceVersion": str(self.version)},
                    "items": items,
                },
            )
        m = HPA_ONE.fullmatch(path)
        if m:
            key = f"{m['ns']}/{m['name']}"
            verb = "get" if method == "GET" else "patch"
            if (verb, "horizontalpodautoscalers") not in self.rules:
                return (
                    403,
                    {},
                    self._forbidden(verb, "horizontalpodautoscalers", m["ns"], m["name"]),
                )
            if key not in self.hpas:
                return self._not_found("horizontalpodautoscalers.autoscaling", m["name"])
            if method == "GET":
                return 200, {}, copy.deepcopy(self.hpas[key])
            return self._patch(self.hpas, key, path, headers, payload, "horizontalpodautoscalers")
        m = DEPLOYMENT_SUB.fullmatch(path)
        if m:
            key = f"{m['ns']}/{m['name']}"
            resource = f"deployments/{m['sub']}"
            verb = "get" if method == "GET" else "patch"
            if (verb, resource) not in self.rules:
                return 403, {}, self._forbidden(verb, resource, m["ns"], m["name"])
            if key not in self.deployments:
                return self._not_found("deployments.apps", m["name"])
            if m["sub"] == "status":
                return 200, {}, copy.deepcopy(self.deployments[key])
            if method == "GET":
                return 200, {}, self._scale(key)
            return self._patch_scale(key, path, headers, payload)
        return (
            404,
            {},
            status_body(404, "NotFound", "the server could not find the requested resource"),
        )

    def _not_found(self, what: str, name: str) -> tuple[int, dict[str, str], Any]:
        return 404, {}, status_body(404, "NotFound", f'{what} "{name}" not found')

    def _check_patch(
        self, obj: dict[str, Any], headers: dict[str, str], payload: Any, what: str, name: str
    ) -> tuple[int, dict[str, str], Any] | None:
        if headers.get("content-type") != "application/merge-patch+json":
            return 415, {}, status_body(415, "UnsupportedMediaType", "unsupported patch type")
        wanted = (payload or {}).get("metadata", {}).get("resourceVersion")
        if wanted is not None and wanted != obj["metadata"]["resourceVersion"]:
            return (
                409,
                {},
                status_body(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {what} "{name}": the object has been '
                    "modified; please apply your changes to the latest version and try again",
                ),
            )
        return None

    def _patch(
        self,
        store: dict[str, dict[str, Any]],
        key: str,
        path: str,
        headers: dict[str, str],
        payload: Any,
        resource: str,
    ) -> tuple[int, dict[str, str], Any]:
        if self.before_patch is not None:
            hook, self.before_patch = self.before_patch, None
            self.lock.release()
            try:
                hook(path)
            finally:
                self.lock.acquire()
        obj = store[key]
        refused = self._check_patch(
            obj, headers, payload, f"{resource}.autoscaling", obj["metadata"]["name"]
        )
        if refused:
            return refused
        merged = merge_patch(obj, payload)
        spec = merged["spec"]
        if spec.get("minReplicas", 1) > spec["maxReplicas"]:
            return (
                422,
                {},
                status_body(
                    422,
                    "Invalid",
                    f'HorizontalPodAutoscaler.autoscaling "{obj["metadata"]["name"]}" is invalid: '
                    f"spec.minReplicas: Invalid value: {spec['minReplicas']}: must be less than "
                    "or equal to maxReplicas",
                ),
            )
        merged["metadata"]["resourceVersion"] = self._next()
        store[key] = merged
        return 200, {}, copy.deepcopy(merged)

    def _scale(self, key: str) -> dict[str, Any]:
        d = self.deployments[key]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": d["metadata"]["name"],
                "namespace": d["metadata"]["namespace"],
                "uid": d["metadata"]["uid"],
                "resourceVersion": d["metadata"]["resourceVersion"],
            },
            "spec": {"replicas": d["spec"]["replicas"]},
            "status": {
                "replicas": d["status"]["replicas"],
                "selector": "app=" + d["metadata"]["name"],
            },
        }

    def _patch_scale(
        self, key: str, path: str, headers: dict[str, str], payload: Any
    ) -> tuple[int, dict[str, str], Any]:
        d = self.deployments[key]
        refused = self._check_patch(d, headers, payload, "deployments.apps", d["metadata"]["name"])
        if refused:
            return refused
        replicas = (payload or {}).get("spec", {}).get("replicas")
        if replicas is not None:
            d["spec"]["replicas"] = int(replicas)
            d["metadata"]["resourceVersion"] = self._next()
        return 200, {}, self._scale(key)


class FakeScheduler:
    """EventBridge Scheduler's CreateSchedule (REST-JSON), in memory."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.schedules: dict[str, dict[str, Any]] = {}
        self.fail_with: int | None = None

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        path = urllib.parse.urlsplit(raw_path).path
        m = re.fullmatch(r"/schedules/(?P<name>[^/]+)", path)
        if method != "POST" or m is None:
            return 404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, {"Message": path}
        if self.fail_with is not None:
            return (
                self.fail_with,
                {"x-amzn-ErrorType": "InternalServerException"},
                {"Message": "injected"},
            )
        name = urllib.parse.unquote(m["name"])
        request = json.loads(body)
        with self.lock:
            key = f"{request.get('GroupName', 'default')}/{name}"
            if key in self.schedules:
                return (
                    409,
                    {"x-amzn-ErrorType": "ConflictException"},
                    {"Message": f"Schedule {name} already exists."},
                )
            self.schedules[key] = request
        arn = f"arn:aws:scheduler:eu-west-1:123456789012:schedule/{key}"
        return 200, {}, {"ScheduleArn": arn}


class FakeSns:
    """SNS ``Publish`` (the query protocol botocore speaks: a form POST, an XML answer)."""

    def __init__(self) -> None:
        self.published: list[dict[str, str]] = []
        self.fail_with: int | None = None

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        if self.fail_with is not None:
            error = (
                "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code>"
                "<Message>injected</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            )
            return self.fail_with, {}, error.encode()
        if form.get("Action") != "Publish":
            return (
                400,
                {},
                b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>",
            )
        self.published.append(form)
        message_id = f"00000000-0000-0000-0000-{len(self.published):012d}"
        answer = (
            '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
            f"<MessageId>{message_id}</MessageId></PublishResult><ResponseMetadata>"
            "<RequestId>r</RequestId></ResponseMetadata></PublishResponse>"
        )
        return 200, {}, answer.encode()


def _handler_class(app: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = app.handle(self.command, self.path, headers, body)
            raw = isinstance(payload, bytes)
            data = payload if raw else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/xml" if raw else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to answer

        do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) for the block; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(app))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

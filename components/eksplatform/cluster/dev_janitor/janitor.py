"""Delete developer namespaces past their expiry (``dev-<developer>`` on the staging cluster).

Runs as a CronJob (standard library only, one file): lists the namespaces carrying the developer
label (selected by the API server), decides for each, deletes the expired ones and writes one
JSON log line per deletion (and one summary line per run).

Which namespaces it deletes, all conditions together:

* it carries ``eksplatform.io/developer`` and is named ``dev-<that value>``: anything else is
  never touched, whatever its labels (a team or system namespace that somehow got the label);
* it is not already being deleted;
* its expiry has passed: the ``eksplatform.io/expires-at`` label (``20261224T180000Z``), or,
  when that label is missing, malformed or further ahead than the cluster allows
  (``MAX_TTL_HOURS`` plus an hour of slack; hand-edited, since ``eksplatform dev`` and
  ServiceStack refuse such values), its creation time plus ``MAX_TTL_HOURS``.

Each delete carries the namespace's ``uid`` and ``resourceVersion`` as preconditions: a
namespace extended (``eksplatform dev extend``) or recreated since it was listed is not
deleted (409, logged, retried at the next run). ``DRY_RUN=true`` decides and logs the same but
sends no delete.

Least privilege: its ServiceAccount may list namespaces and delete them (RBAC cannot narrow a
delete by label); the cluster's ValidatingAdmissionPolicy lets this account delete only
namespaces named ``dev-*`` that carry the developer label, so even a bug here cannot delete
another namespace.
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DEVELOPER_LABEL = "eksplatform.io/developer"
EXPIRES_LABEL = "eksplatform.io/expires-at"
PREFIX = "dev-"
EXPIRY_FORMAT = "%Y%m%dT%H%M%SZ"
SLACK = timedelta(hours=1)
"""Tolerance on the maximum (an expiry is rounded up to the next whole hour)."""
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
PAGE_SIZE = 200


class ApiError(Exception):
    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        self.method, self.path, self.status = method, path, status
        super().__init__(f"{method} {path}: {status or 'no answer'}: {message}")


@dataclass(frozen=True)
class KubeClient:
    """JSON over HTTP(S) with a bearer token; every request bounded by ``timeout_s``."""

    server: str
    token: str = ""
    ssl_context: ssl.SSLContext | None = None
    timeout_s: float = 10.0

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        url = self.server.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(
                req, timeout=self.timeout_s, context=self.ssl_context
            ) as resp:
                text = resp.read().decode() or "null"
                return json.loads(text)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            with contextlib.suppress(ValueError, AttributeError):
                detail = str(json.loads(detail).get("message", detail))
            raise ApiError(method, path, exc.code, detail) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ApiError(method, path, 0, str(exc)) from None


def in_cluster_client() -> KubeClient:
    """The pod's own API access (service account token, cluster CA)."""
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    with open(f"{SERVICE_ACCOUNT_DIR}/token", encoding="utf-8") as f:
        token = f.read().strip()
    context = ssl.create_default_context(cafile=f"{SERVICE_ACCOUNT_DIR}/ca.crt")
    return KubeClient(server=f"https://{host}:{port}", token=token, ssl_context=context)


def developer_namespaces(client: KubeClient) -> Iterator[dict[str, Any]]:
    """Every namespace carrying the developer label (paged)."""
    token = ""
    while True:
        query = {"labelSelector": DEVELOPER_LABEL, "limit": str(PAGE_SIZE)}
        if token:
            query["continue"] = token
        page = client.request("GET", "/api/v1/namespaces", query=query)
        yield from page.get("items") or []
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return


def parse_time(value: Any, fmt: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class Decision:
    namespace: str
    delete: bool
    reason: str
    developer: str = ""
    expires_at: str = ""
    """The effective expiry, RFC 3339 ('' when unknown)."""
    uid: str = ""
    resource_version: str = ""


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def decide(ns: Mapping[str, Any], now: datetime, max_ttl: timedelta) -> Decision:
    """What to do with one listed namespace (pure: tested without a cluster)."""
    meta = ns.get("metadata") or {}
    name = str(meta.get("name", ""))
    labels = meta.get("labels") or {}
    developer = str(labels.get(DEVELOPER_LABEL, ""))
    uid, version = str(meta.get("uid", "")), str(meta.get("resourceVersion", ""))

    def keep(reason: str, expires: str = "") -> Decision:
        return Decision(name, False, reason, developer, expires, uid, version)

    if not developer or name != f"{PREFIX}{developer}":
        return keep(f"not a developer namespace (named {name!r}, developer {developer!r})")
    if meta.get("deletionTimestamp"):
        return keep("already being deleted")
    expires = parse_time(labels.get(EXPIRES_LABEL), EXPIRY_FORMAT)
    why = "expiry label"
    if expires is None or expires > now + max_ttl + SLACK:
        created = parse_time(meta.get("creationTimestamp"), "%Y-%m-%dT%H:%M:%SZ")
        if created is None:
            return keep("no usable expiry label and no creation time")
        state = "missing or malformed" if expires is None else "beyond the maximum"
        why = f"expiry label {state}: creation time + {max_ttl}"
        expires = created + max_ttl
    if expires > now:
        return keep(f"{why}: not expired", _rfc3339(expires))
    return Decision(name, True, f"{why}: expired", developer, _rfc3339(expires), uid, version)


Log = Callable[[dict[str, Any]], None]


def json_log(record: dict[str, Any]) -> None:
    print(json.dumps(record, sort_keys=True), flush=True)


def delete(client: KubeClient, d: Decision) -> None:
    """Delete ``d.namespace`` only if it is still the object that was judged."""
    body = {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Background",
        "preconditions": {"uid": d.uid, "resourceVersion": d.resource_version},
    }
    path = "/api/v1/namespaces/" + urllib.parse.quote(d.namespace, safe="")
    client.request("DELETE", path, body=body)


def run(
    client: KubeClient,
    *,
    now: datetime,
    max_ttl: timedelta,
    dry_run: bool,
    log: Log = json_log,
) -> list[Decision]:
    """One pass; returns every decision. Raises :class:`ApiError` when listing fails."""
    decisions = [decide(ns, now, max_ttl) for ns in developer_namespaces(client)]
    deleted = failed = 0
    for d in decisions:
        if not d.delete:
            continue
        record = {
            "time": _rfc3339(now),
            "namespace": d.namespace,
            "developer": d.developer,
            "expiresAt": d.expires_at,
            "reason": d.reason,
        }
        if dry_run:
            log({**record, "action": "would-delete (dry run)"})
            continue
        try:
            delete(client, d)
        except ApiError as exc:
            if exc.status == 404:
                log({**record, "action": "already-gone"})
                continue
            failed += 1
            action = "changed-since-listed" if exc.status == 409 else "delete-failed"
            log({**record, "action": action, "error": str(exc)})
            continue
        deleted += 1
        log({**record, "action": "deleted"})
    log(
        {
            "time": _rfc3339(now),
            "action": "summary",
            "dryRun": dry_run,
            "listed": len(decisions),
            "expired": sum(d.delete for d in decisions),
            "deleted": deleted,
            "failed": failed,
        }
    )
    return decisions


def main() -> int:
    dry_run = os.environ.get("DRY_RUN", "false").lower() == "true"
    max_ttl = timedelta(hours=int(os.environ.get("MAX_TTL_HOURS", "168")))
    try:
        run(in_cluster_client(), now=datetime.now(UTC), max_ttl=max_ttl, dry_run=dry_run)
    except ApiError as exc:
        json_log({"time": _rfc3339(datetime.now(UTC)), "action": "list-failed", "error": str(exc)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

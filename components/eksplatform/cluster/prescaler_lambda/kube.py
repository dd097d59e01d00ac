"""A small Kubernetes API client (standard library): JSON over HTTPS with a bearer token, bounded
retries and a deadline.

Retry policy: 429 waits for the server's ``Retry-After`` (when it fits in the deadline) and 5xx,
connection errors and timeouts back off exponentially with full jitter; both stop after
``max_attempts`` tries or when the deadline is near. A 409 (a resourceVersion conflict) is not
retried here: the caller re-reads the object and plans again (:func:`retry_conflicts`), since a
blind resend would overwrite what the other writer just did. Every request's own timeout is cut
to what is left of the deadline, so the handler always returns before the Lambda's timeout.
"""

from __future__ import annotations

import json
import random
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

FIELD_MANAGER = "eksplatform-prescaler"
"""Field manager of every write: ``kubectl get hpa --show-managed-fields`` shows who raised a
floor, and Pulumi (``ignore_changes`` on ``spec.minReplicas``) leaves fields it does not own."""
RETRYABLE = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class ApiError(Exception):
    """A request that failed for good; ``status`` 0 means no HTTP answer (network, deadline)."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        self.method, self.path, self.status = method, path, status
        super().__init__(f"{method} {path}: {status or 'no answer'}: {message}")


class ConflictError(ApiError):
    """409: the object changed since it was read."""


class DeadlineError(ApiError):
    """The time budget ran out before the request succeeded."""


def explain(error: ApiError) -> str:
    """One line an operator can act on."""
    if error.status == 403:
        return (
            f"403 Forbidden for {error.method} {error.path}: the pre-scaler's role lacks "
            "Kubernetes RBAC for this (its EKS access entry maps it to group "
            "eksplatform:prescaler; check the access entry and the eksplatform-prescaler "
            f"ClusterRole/Role). API server: {error}"
        )
    if error.status == 401:
        return (
            f"401 Unauthorized for {error.method} {error.path}: the API server refused the EKS "
            "token (is there an access entry for the pre-scaler's role?)"
        )
    return str(error)


@dataclass
class Deadline:
    """Wall-clock budget of one invocation."""

    at: float
    """``time.monotonic()`` value by which everything must be done."""
    clock: Callable[[], float] = time.monotonic

    def left(self) -> float:
        return self.at - self.clock()


@dataclass
class Client:
    """JSON requests to one API server."""

    endpoint: str
    """``https://...`` (``http://127.0.0.1:...`` in tests)."""
    token: Callable[[], str]
    """Returns the bearer token (built fresh per invocation)."""
    deadline: Deadline
    ca_pem: str | None = None
    max_attempts: int = 5
    backoff_base: float = 0.2
    backoff_cap: float = 2.0
    request_timeout: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    attempts: list[tuple[str, str, int]] = field(default_factory=list)
    """(method, path, status or 0) of every attempt, for the summary and tests."""

    def __post_init__(self) -> None:
        context = ssl.create_default_context(cadata=self.ca_pem) if self.ca_pem else None
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

    # --- verbs ------------------------------------------------------------------------------

    def get(self, path: str, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self.request("GET", path, query=query)

    def merge_patch(self, path: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return self.request(
            "PATCH",
            path,
            body=patch,
            content_type="application/merge-patch+json",
            query={"fieldManager": FIELD_MANAGER},
        )

    # --- the loop ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        url = self.endpoint.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(dict(query))
        data = json.dumps(body).encode() if body is not None else None
        last = "not tried"
        for attempt in range(1, self.max_attempts + 1):
            left = self.deadline.left()
            if left <= 0.05:
                raise DeadlineError(method, path, 0, f"time budget used up ({last})")
            req = urllib.request.Request(url, data=data, method=method)
            req.add_header("Authorization", f"Bearer {self.token()}")
            req.add_header("Accept", "application/json")
            if data is not None:
                req.add_header("Content-Type", content_type)
            retry_after: float | None = None
            try:
                with self._opener.open(req, timeout=min(self.request_timeout, left)) as resp:
                    self.attempts.append((method, path, resp.status))
                    parsed: dict[str, Any] = json.loads(resp.read() or b"{}")
                    return parsed
            except urllib.error.HTTPError as err:
                self.attempts.append((method, path, err.code))
                message = _status_message(err)
                if err.code == 409:
                    raise ConflictError(method, path, 409, message) from None
                if err.code not in RETRYABLE:
                    raise ApiError(method, path, err.code, message) from None
                last = f"{err.code} {message}"
                if err.code == 429:
                    retry_after = _retry_after(err.headers.get("Retry-After"))
            except (TimeoutError, urllib.error.URLError, ConnectionError) as err:
                self.attempts.append((method, path, 0))
                last = f"no answer: {getattr(err, 'reason', err)}"
            if attempt == self.max_attempts:
                break
            self._pause(attempt, retry_after, method, path, last)
        raise ApiError(method, path, 0, f"gave up after {self.max_attempts} attempts ({last})")

    def _pause(
        self, attempt: int, retry_after: float | None, method: str, path: str, last: str
    ) -> None:
        if retry_after is not None:
            wait = retry_after  # the server said when: honour it, no jitter
        else:
            wait = self.rand() * min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        if wait >= self.deadline.left() - 0.05:
            raise DeadlineError(
                method,
                path,
                0,
                f"time budget used up: the next try (in {wait:.2f} s) would pass the deadline "
                f"({last})",
            )
        self.sleep(wait)


def _status_message(err: urllib.error.HTTPError) -> str:
    """The ``message`` of a Kubernetes ``Status`` body, else the HTTP reason."""
    try:
        body = json.loads(err.read() or b"{}")
        return str(body.get("message") or err.reason)
    except (ValueError, AttributeError):
        return str(err.reason)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to backoff


def retry_conflicts(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run ``work`` (read, plan, conditional write) again on a 409, up to ``attempts`` times."""
    for i in range(attempts):
        try:
            return work()
        except ConflictError:
            if i == attempts - 1:
                raise
    raise AssertionError("unreachable")

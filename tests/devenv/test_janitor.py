"""The developer namespace janitor against a fake Kubernetes API on 127.0.0.1: expired developer
namespaces are deleted, fresh ones and every other namespace never touched, a dry run deletes
nothing, a namespace changed since it was listed survives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eksplatform.cluster.dev_janitor import janitor
from eksplatform.cluster.dev_janitor.janitor import ApiError, KubeClient

from tests.devenv.fakekube import TOKEN, FakeCluster, serve

NOW = datetime(2026, 12, 10, 12, 0, 0, tzinfo=UTC)
MAX = timedelta(hours=168)
DEV = janitor.DEVELOPER_LABEL
EXP = janitor.EXPIRES_LABEL


def _cluster() -> FakeCluster:
    c = FakeCluster()
    c.add("dev-alice", {DEV: "alice", EXP: "20261210T110000Z"})  # expired an hour ago
    c.add("dev-bob", {DEV: "bob", EXP: "20261211T000000Z"})  # fresh
    c.add("dev-carol", {DEV: "carol"}, created="2026-12-01T00:00:00Z")  # no label, 9 days old
    c.add("dev-dave", {DEV: "dave", EXP: "20270101T000000Z"}, created="2026-12-09T00:00:00Z")
    c.add("dev-erin", {DEV: "frank", EXP: "20261201T000000Z"})  # label names someone else
    c.add("payments", {DEV: "payments", EXP: "20261201T000000Z"})  # not named dev-*
    c.add("news", {"eksplatform.io/team": "news"})  # a team namespace
    c.add("kube-system")
    c.add("default")
    c.add("dev-gina", {DEV: "gina", EXP: "20261201T000000Z"})
    c.namespaces["dev-gina"]["metadata"]["deletionTimestamp"] = "2026-12-10T11:59:00Z"
    return c


def _run(
    cluster: FakeCluster, *, dry_run: bool
) -> tuple[list[janitor.Decision], list[dict[str, Any]]]:
    logged: list[dict[str, Any]] = []
    with serve(cluster) as url:
        client = KubeClient(server=url, token=TOKEN, timeout_s=5)
        decisions = janitor.run(client, now=NOW, max_ttl=MAX, dry_run=dry_run, log=logged.append)
    return decisions, logged


def test_expired_developer_namespaces_are_deleted_and_nothing_else() -> None:
    cluster = _cluster()
    decisions, logged = _run(cluster, dry_run=False)
    assert sorted(cluster.deleted) == ["dev-alice", "dev-carol"]
    assert {"dev-bob", "dev-dave", "dev-erin", "payments", "news", "kube-system", "default"} <= set(
        cluster.namespaces
    )
    # Listing asked the API server for the developer label only: other namespaces never reached
    # the janitor (the fake filters as the API server does).
    assert {d.namespace for d in decisions} == {
        "dev-alice",
        "dev-bob",
        "dev-carol",
        "dev-dave",
        "dev-erin",
        "payments",
        "dev-gina",
    }
    deletes = [path for method, path in cluster.requests if method == "DELETE"]
    assert sorted(deletes) == ["/api/v1/namespaces/dev-alice", "/api/v1/namespaces/dev-carol"]
    # one log line per deletion, then the summary
    deleted = [r for r in logged if r["action"] == "deleted"]
    assert [(r["namespace"], r["developer"]) for r in deleted] == [
        ("dev-alice", "alice"),
        ("dev-carol", "carol"),
    ]
    assert deleted[0]["expiresAt"] == "2026-12-10T11:00:00Z"
    assert deleted[1]["expiresAt"] == "2026-12-08T00:00:00Z"  # created + 168 h
    assert "missing or malformed" in deleted[1]["reason"]
    assert logged[-1] == {
        "time": "2026-12-10T12:00:00Z",
        "action": "summary",
        "dryRun": False,
        "listed": 7,
        "expired": 2,
        "deleted": 2,
        "failed": 0,
    }


def test_dry_run_deletes_nothing_and_says_what_it_would_delete() -> None:
    cluster = _cluster()
    before = set(cluster.namespaces)
    _, logged = _run(cluster, dry_run=True)
    assert cluster.deleted == []
    assert set(cluster.namespaces) == before
    assert not [m for m, _ in cluster.requests if m != "GET"]
    assert [r["namespace"] for r in logged if r["action"].startswith("would-delete")] == [
        "dev-alice",
        "dev-carol",
    ]
    assert logged[-1]["dryRun"] is True and logged[-1]["deleted"] == 0


def test_a_namespace_extended_after_listing_is_not_deleted() -> None:
    cluster = _cluster()
    with serve(cluster) as url:
        client = KubeClient(server=url, token=TOKEN, timeout_s=5)
        listed = list(janitor.developer_namespaces(client))
        stale = next(
            janitor.decide(ns, NOW, MAX) for ns in listed if ns["metadata"]["name"] == "dev-alice"
        )
        assert stale.delete
        # `eksplatform dev extend` between the janitor's list and its delete
        cluster.namespaces["dev-alice"]["metadata"]["labels"][EXP] = "20261212T000000Z"
        cluster.namespaces["dev-alice"]["metadata"]["resourceVersion"] = "999"
        with pytest.raises(ApiError) as err:
            janitor.delete(client, stale)
    assert err.value.status == 409
    assert "dev-alice" in cluster.namespaces and cluster.deleted == []


def test_listing_follows_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(janitor, "PAGE_SIZE", 2)
    cluster = _cluster()
    decisions, _ = _run(cluster, dry_run=True)
    assert len(decisions) == 7
    lists = [p for m, p in cluster.requests if m == "GET"]
    assert len(lists) == 4 and "continue=2" in lists[1]


def test_a_refused_list_fails_the_run_and_deletes_nothing() -> None:
    cluster = _cluster()
    with serve(cluster) as url, pytest.raises(ApiError) as err:
        janitor.run(
            KubeClient(server=url, token="wrong", timeout_s=5),
            now=NOW,
            max_ttl=MAX,
            dry_run=False,
            log=lambda r: None,
        )
    assert err.value.status == 401 and cluster.deleted == []


@pytest.mark.parametrize(
    ("labels", "created", "delete"),
    [
        ({EXP: "20261210T120000Z"}, None, True),  # expires exactly now
        ({EXP: "20261210T120001Z"}, None, False),  # one second ahead
        # a label at the maximum plus the hour of rounding slack is still a label...
        ({EXP: "20261217T130000Z"}, "2026-12-01T00:00:00Z", False),
        # ...one second beyond it is not: creation + maximum decides (2026-12-08: expired)
        ({EXP: "20261217T130001Z"}, "2026-12-01T00:00:00Z", True),
        ({EXP: "2026-12-09T00:00:00Z"}, "2026-12-09T00:00:00Z", False),  # RFC 3339: malformed
        ({EXP: "20261301T000000Z"}, "2026-12-01T00:00:00Z", True),  # month 13: malformed
        ({}, None, False),  # no expiry, no creation time: never guessed
    ],
)
def test_decide_edges(labels: dict[str, str], created: str | None, delete: bool) -> None:
    meta: dict[str, Any] = {"name": "dev-x", "labels": {DEV: "x", **labels}}
    if created:
        meta["creationTimestamp"] = created
    assert janitor.decide({"metadata": meta}, NOW, MAX).delete is delete

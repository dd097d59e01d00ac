"""The pre-scaler's handler against a fake Kubernetes API (real HTTP on 127.0.0.1, the API's
paths, JSON, status codes and resourceVersion conflicts) and a fake EventBridge Scheduler (real
boto3 client): every scenario of the issue, each checking the objects afterwards and the one
summary line."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from eksplatform.cluster.prescaler_lambda import events, handler, kube
from eksplatform.cluster.prescaler_lambda.plan import BASELINE_ANNOTATION, STATE_ANNOTATION

from tests.prescaler.conftest import (
    DLQ_ARN,
    FUNCTION_ARN,
    NOW,
    SCHEDULER_ROLE,
    Harness,
    iso,
    push,
    sns,
)
from tests.prescaler.fakes import Fault

FEED = "news/feed"
FEED_PATH = "/apis/autoscaling/v2/namespaces/news/horizontalpodautoscalers/feed"
HEADROOM_SCALE = "/apis/apps/v1/namespaces/overprovisioning/deployments/headroom/scale"


def _state(h: Harness, key: str = FEED) -> dict[str, Any] | None:
    text = h.cluster.hpa(key)["metadata"].get("annotations", {}).get(STATE_ANNOTATION)
    return json.loads(text) if text is not None else None


def _min(h: Harness, key: str = FEED) -> int:
    return int(h.cluster.hpa(key)["spec"]["minReplicas"])


def _headroom(h: Harness) -> int:
    return int(h.cluster.deployments["overprovisioning/headroom"]["spec"]["replicas"])


def _feed(h: Harness, **kw: Any) -> None:
    args: dict[str, Any] = {"min_replicas": 6, "max_replicas": 200, "factor": 20, "baseline": 6}
    args.update(kw)
    h.cluster.add_service("news", "feed", **args)


# --- normal pre-scale ---------------------------------------------------------------------------


def test_normal_prescale_raises_floor_headroom_and_schedules_restore(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.add_service("media", "images", min_replicas=3, max_replicas=30, factor=4, baseline=3)
    result, summary = h.run(sns(push(multiplier=0.5)))
    assert result == {"outcome": "applied", "changed": 2}
    # ceil(6 x 20 x 0.5) = 60 and ceil(3 x 4 x 0.5) = 6
    assert _min(h) == 60
    assert _min(h, "media/images") == 6
    until = iso(NOW + timedelta(minutes=10, seconds=1800))
    assert _state(h) == {
        "v": 1,
        "base": 6,
        "baseline": 6,
        "windows": [{"id": "push-1", "until": until, "floor": 60}],
    }
    # 54 + 3 added pods x 500m / 512Mi; pause pods are 1 CPU / 2Gi: CPU decides, 28.5 -> 29
    assert _headroom(h) == 6 + 29
    assert summary["headroom"]["replicas"] == [6, 35]
    # every write is a conditional merge patch by the pre-scaler's field manager
    patches = [r for r in h.cluster.requests if r[0] == "PATCH"]
    assert patches and all(q == {"fieldManager": "eksplatform-prescaler"} for _, _, q, _ in patches)
    assert all("resourceVersion" in body["metadata"] for _, _, _, body in patches)
    # restore at the window's end, readiness check at the send time, both by push id
    restore = h.scheduler.schedules["eks-test-prescaler/restore-push-1"]
    check = h.scheduler.schedules["eks-test-prescaler/check-push-1"]
    assert restore["ScheduleExpression"] == f"at({until[:-1]})"
    assert check["ScheduleExpression"] == f"at({iso(NOW + timedelta(minutes=10))[:-1]})"
    for schedule in (restore, check):
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["ActionAfterCompletion"] == "DELETE"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        target = schedule["Target"]
        assert target["Arn"] == FUNCTION_ARN
        assert target["RoleArn"] == SCHEDULER_ROLE
        assert target["DeadLetterConfig"] == {"Arn": DLQ_ARN}
    assert json.loads(restore["Target"]["Input"]) == {"kind": "restore", "pushId": "push-1"}
    assert json.loads(check["Target"]["Input"]) == {
        "kind": "check",
        "pushId": "push-1",
        "services": ["media/images", "news/feed"],
    }
    assert summary["level"] == "INFO"
    assert summary["outcome"] == "applied"
    assert summary["pushId"] == "push-1"
    assert summary["leadSeconds"] == 600
    assert {c["hpa"]: c["minReplicas"] for c in summary["changed"]} == {
        "news/feed": [6, 60],
        "media/images": [3, 6],
    }
    assert summary["schedules"] == {"restore": "created", "check": "created"}
    assert summary["failed"] == {} and summary["unknown"] == {}


def test_an_unlabelled_hpa_is_never_touched(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.add_service("media", "batch", min_replicas=2, max_replicas=10, factor=None)
    h.run(sns(push()))
    assert _min(h, "media/batch") == 2
    assert not [p for p, _ in h.cluster.writes() if "batch" in p]


def test_clamped_at_max_replicas(harness: Harness) -> None:
    h = harness
    _feed(h, max_replicas=50, current=10)
    _, summary = h.run(sns(push(multiplier=1)))
    assert _min(h) == 50  # ceil(10 x 20 x 1) = 200, clamped to maxReplicas
    assert summary["changed"] == [
        {"hpa": FEED, "minReplicas": [6, 50], "note": "clamped", "floor": 50}
    ]


# --- duplicates and overlaps --------------------------------------------------------------------


def test_duplicate_event_changes_nothing(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.run(sns(push()))
    state, headroom = _state(h), _headroom(h)
    h.cluster.touch(FEED)  # the HPA controller updates status meanwhile
    h.cluster.hpas[FEED]["status"]["currentReplicas"] = 60  # pods came up
    writes = len(h.cluster.writes())
    result, summary = h.run(sns(push()))
    assert result == {"outcome": "applied", "changed": 0}
    assert len(h.cluster.writes()) == writes  # no patch at all: not compounded to 60 x 20 x 0.5
    assert _min(h) == 60 and _state(h) == state and _headroom(h) == headroom
    assert summary["unchanged"] == ["news/feed (duplicate, minReplicas 60)"]
    assert summary["schedules"] == {"restore": "exists", "check": "exists"}


def test_overlapping_pushes_never_compound_and_restore_keeps_the_later_window(
    harness: Harness,
) -> None:
    h = harness
    _feed(h)
    h.run(sns(push("push-a", multiplier=0.25, duration=600)))  # floor 30 until 18:10
    assert _min(h) == 30
    h.cluster.hpas[FEED]["status"]["currentReplicas"] = 30
    h.run(sns(push("push-b", multiplier=0.5, duration=1800)))  # floor from base 6: 60
    assert _min(h) == 60
    state = _state(h)
    assert state is not None
    assert state["base"] == 6
    assert [(w["id"], w["floor"]) for w in state["windows"]] == [("push-a", 30), ("push-b", 60)]
    # push-a's window ends: push-b still covers the HPA, the floor stays
    h.now = NOW + timedelta(minutes=20)
    _, summary = h.run({"kind": "restore", "pushId": "push-a"})
    assert _min(h) == 60
    assert [w["id"] for w in (_state(h) or {})["windows"]] == ["push-b"]
    assert summary["outcome"] == "restored"
    # push-b's window ends: back to the baseline, state gone
    h.now = NOW + timedelta(minutes=40)
    h.run({"kind": "restore", "pushId": "push-b"})
    assert _min(h) == 6 and _state(h) is None


def test_restore_skipped_while_a_later_window_covers_the_hpa(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.run(sns(push("big", multiplier=0.5, duration=3600)))  # 60 until 18:60
    h.run(sns(push("small", multiplier=0.25, duration=600)))  # 30 until 18:10
    h.now = NOW + timedelta(minutes=20)
    writes = len(h.cluster.writes())
    _, summary = h.run({"kind": "restore", "pushId": "small"})
    assert _min(h) == 60
    assert summary["changed"] == [
        {"hpa": FEED, "minReplicas": [60, 60], "note": "partly-restored", "floor": 60}
    ]
    # only the state annotation changed: minReplicas was not lowered, not even briefly
    (path, body), *_ = h.cluster.writes()[writes:]
    assert path == FEED_PATH and body["spec"] == {"minReplicas": 60}


# --- restore --------------------------------------------------------------------------------------


def test_restore_returns_the_baseline_and_the_headroom(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.run(sns(push(duration=600)))
    assert _min(h) == 60 and _headroom(h) > 6
    h.now = NOW + timedelta(minutes=20)
    result, summary = h.run({"kind": "restore", "pushId": "push-1"})
    assert result == {"outcome": "restored", "changed": 1}
    assert _min(h) == 6
    assert _state(h) is None
    assert _headroom(h) == 6
    assert summary["changed"] == [
        {"hpa": FEED, "minReplicas": [60, 6], "note": "restored", "floor": 6}
    ]


def test_restore_before_the_window_ends_keeps_it(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.run(sns(push(duration=600)))
    h.now = NOW + timedelta(minutes=5)  # a stray early invocation
    h.run({"kind": "restore", "pushId": "push-1"})
    assert _min(h) == 60


def test_a_lost_restore_is_done_by_the_reconcile_pass(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.run(sns(push(duration=600)))
    h.now = NOW + timedelta(hours=2)
    _, summary = h.run({"kind": "reconcile"})
    assert _min(h) == 6 and _state(h) is None and _headroom(h) == 6
    assert summary["kind"] == "reconcile"


# --- ownership with Pulumi -------------------------------------------------------------------------


def test_pulumi_changing_the_baseline_during_a_window_is_what_restore_returns_to(
    harness: Harness,
) -> None:
    h = harness
    _feed(h)
    h.run(sns(push(duration=600)))
    # `pulumi up` during the window: it writes the new baseline annotation and, because
    # spec.minReplicas is in ignore_changes and owned by the pre-scaler, leaves the floor
    h.cluster.set_annotation(FEED, BASELINE_ANNOTATION, "8")
    assert _min(h) == 60
    h.now = NOW + timedelta(minutes=20)
    h.run({"kind": "restore", "pushId": "push-1"})
    assert _min(h) == 8


def test_a_new_baseline_outside_windows_is_applied_by_reconcile(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.set_annotation(FEED, BASELINE_ANNOTATION, "10")
    _, summary = h.run({"kind": "reconcile"})
    assert _min(h) == 10
    assert summary["changed"] == [
        {"hpa": FEED, "minReplicas": [6, 10], "note": "baseline", "floor": 0}
    ]
    writes = len(h.cluster.writes())
    h.run({"kind": "reconcile"})
    assert len(h.cluster.writes()) == writes  # converged: nothing more to write


# --- retries --------------------------------------------------------------------------------------


def test_resource_version_conflict_is_reread_and_retried(harness: Harness) -> None:
    h = harness
    _feed(h)
    # another writer changes the HPA between the pre-scaler's read and its write
    h.cluster.before_patch = lambda path: h.cluster.touch(FEED, maxReplicas=150)
    result, _ = h.run(sns(push()))
    assert result == {"outcome": "applied", "changed": 1}
    statuses = [(m, s) for m, p, s in h.last_attempts if p == FEED_PATH]
    assert statuses == [("GET", 200), ("PATCH", 409), ("GET", 200), ("PATCH", 200)]
    hpa = h.cluster.hpa(FEED)
    assert hpa["spec"]["minReplicas"] == 60 and hpa["spec"]["maxReplicas"] == 150  # both kept


def test_server_errors_are_retried_with_backoff(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.faults.append(Fault("PATCH", FEED_PATH, status=503, times=2))
    result, _ = h.run(sns(push()))
    assert result == {"outcome": "applied", "changed": 1}
    assert [s for m, p, s in h.last_attempts if p == FEED_PATH and m == "PATCH"] == [503, 503, 200]
    # full jitter (rand fixed at 0.5 here) over an exponential base of 10 ms
    assert h.sleeps == [0.005, 0.01]
    assert _min(h) == 60


def test_too_many_requests_honours_retry_after(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.faults.append(
        Fault(
            "GET",
            "/apis/autoscaling/v2/horizontalpodautoscalers",
            429,
            headers={"Retry-After": "0.3"},
        )
    )
    started = time.monotonic()
    result, _ = h.run(sns(push()))
    assert result == {"outcome": "applied", "changed": 1}
    assert h.sleeps == [0.3]  # exactly what the server asked, no jitter
    assert time.monotonic() - started >= 0.3


def test_retries_are_bounded(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.faults.append(Fault("PATCH", FEED_PATH, status=500, times=50))
    result, summary = h.run(sns(push()))
    assert isinstance(result, handler.PrescaleError)
    assert [s for m, p, s in h.last_attempts if p == FEED_PATH and m == "PATCH"] == [500] * 5
    assert summary["failed"][FEED].startswith(f"PATCH {FEED_PATH}: no answer: gave up after 5")
    assert _min(h) == 6


def test_timeout_budget_stops_before_the_lambda_would(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.budget = 1.0
    h.cluster.faults.append(Fault("GET", FEED_PATH, delay=1.5, times=10))
    started = time.monotonic()
    result, summary = h.run(sns(push()))
    elapsed = time.monotonic() - started
    assert isinstance(result, handler.PrescaleError)
    assert elapsed < 1.5, elapsed  # the request's own timeout was cut to the budget
    assert "time budget used up" in summary["failed"][FEED]
    assert summary["outcome"] == "failed"
    assert h.cluster.hpa(FEED)["spec"]["minReplicas"] == 6


# --- bad events -------------------------------------------------------------------------------------


def test_malformed_event_is_rejected_and_changes_nothing(harness: Harness) -> None:
    h = harness
    _feed(h)
    bad = push()
    bad.pop("pushId")
    bad["multiplier"] = 3
    bad["services"] = ["News/Feed"]
    result, summary = h.run(sns(bad))
    assert isinstance(result, events.EventRejectedError)
    assert summary["outcome"] == "rejected" and summary["level"] == "ERROR"
    assert summary["rejected"] == [
        "pushId: missing",
        "multiplier: got 3: a number above 0 and at most 1 (1: a full push)",
        'services[0]: got \'News/Feed\': "namespace/name" or "name" (Kubernetes DNS labels)',
    ]
    assert h.cluster.requests == [] and h.scheduler.schedules == {}


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("not json", "the SNS message is not a JSON object"),
        ('{"multiplier": NaN}', "the SNS message is not a JSON object: NaN is not JSON"),
        ("[1, 2]", "the event must be a JSON object, got list"),
    ],
)
def test_non_json_messages_are_rejected(harness: Harness, message: str, problem: str) -> None:
    result, summary = harness.run(sns(message))
    assert isinstance(result, events.EventRejectedError)
    assert summary["rejected"][0].startswith(problem)
    assert harness.cluster.requests == []


def test_expired_event_is_rejected_and_changes_nothing(harness: Harness) -> None:
    h = harness
    _feed(h)
    result, summary = h.run(sns(push(send_in=timedelta(hours=-2), duration=600)))
    assert isinstance(result, events.EventRejectedError)
    assert summary["rejected"] == [
        "expired: the window ended at 2026-12-01T16:00:00Z (sendTime + durationSeconds), now "
        "is 2026-12-01T17:50:00Z: nothing left to pre-scale"
    ]
    assert summary["pushId"] == "push-1"
    assert h.cluster.requests == [] and h.scheduler.schedules == {}


def test_unknown_service_is_reported_and_the_others_still_prescaled(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.add_service("media", "batch", min_replicas=2, max_replicas=10, factor=None)
    result, summary = h.run(sns(push(services=["news/feed", "news/nope", "batch"])))
    assert isinstance(result, handler.PrescaleError)
    assert _min(h) == 60
    assert summary["outcome"] == "partial" and summary["level"] == "ERROR"
    assert summary["unknown"] == {
        "news/nope": "no HPA labelled eksplatform.io/prescale=true is named 'news/nope' "
        "(labelled: news/feed); check the name, or set prescaling=PreScaling(...) in its "
        "ServiceStack",
        "batch": "no HPA labelled eksplatform.io/prescale=true is named 'batch' (labelled: "
        "news/feed); check the name, or set prescaling=PreScaling(...) in its ServiceStack",
    }
    assert "restore" in summary["schedules"]  # the raised one still gets its restore


def test_missing_rbac_is_reported_clearly(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.rules.discard(("patch", "horizontalpodautoscalers"))
    result, summary = h.run(sns(push()))
    assert isinstance(result, handler.PrescaleError)
    message = summary["failed"][FEED]
    assert message.startswith(
        f"403 Forbidden for PATCH {FEED_PATH}: the pre-scaler's role lacks Kubernetes RBAC"
    )
    assert "group eksplatform:prescaler" in message
    assert 'cannot patch resource "horizontalpodautoscalers" in API group "autoscaling"' in message
    assert _min(h) == 6
    assert [s for m, p, s in h.last_attempts if m == "PATCH"] == [403]  # not retried


def test_missing_list_rbac_fails_the_whole_event_clearly(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.cluster.rules.discard(("list", "horizontalpodautoscalers"))
    result, summary = h.run(sns(push()))
    assert isinstance(result, handler.PrescaleError)
    assert (
        "403 Forbidden for GET /apis/autoscaling/v2/horizontalpodautoscalers"
        in (summary["failed"]["cluster"])
    )


# --- readiness ---------------------------------------------------------------------------------------


def test_readiness_shortfall_is_logged_at_send_time(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.run(sns(push()))
    h.cluster.deployments[FEED]["status"]["readyReplicas"] = 42
    h.now = NOW + timedelta(minutes=10)
    result, summary = h.run({"kind": "check", "pushId": "push-1", "services": [FEED]})
    assert result == {"outcome": "shortfall", "changed": 0}
    assert summary["level"] == "WARNING"
    assert summary["readiness"] == [{"hpa": FEED, "floor": 60, "ready": 42, "shortfall": 18}]


def test_readiness_met_is_logged_as_ready(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.run(sns(push()))
    h.cluster.deployments[FEED]["status"]["readyReplicas"] = 61
    _, summary = h.run({"kind": "check", "pushId": "push-1", "services": [FEED]})
    assert summary["outcome"] == "ready" and summary["level"] == "INFO"
    assert summary["readiness"] == [{"hpa": FEED, "floor": 60, "ready": 61, "shortfall": 0}]


def test_a_push_sent_now_is_checked_at_once(harness: Harness) -> None:
    h = harness
    _feed(h, ready=6)
    _, summary = h.run(sns(push(send_in=timedelta(seconds=0))))
    assert "check" not in summary["schedules"]
    assert summary["readiness"] == [{"hpa": FEED, "floor": 60, "ready": 6, "shortfall": 54}]
    assert summary["level"] == "WARNING"


def test_scheduler_failure_is_reported_after_the_floors_are_raised(harness: Harness) -> None:
    h = harness
    _feed(h)
    h.scheduler.fail_with = 500
    result, summary = h.run(sns(push()))
    assert isinstance(result, handler.PrescaleError)
    assert _min(h) == 60  # the time-critical part happened first
    assert "could not schedule the restore/check" in summary["failed"]["schedule"]


def test_unknown_invocations_are_rejected(harness: Harness) -> None:
    result, summary = harness.run({"hello": "world"})
    assert isinstance(result, events.EventRejectedError)
    assert summary["rejected"] == [
        "neither an SNS notification nor a pre-scaler schedule: publish events to the topic"
    ]
    result, summary = harness.run({"kind": "restore", "pushId": "../etc"})
    assert isinstance(result, events.EventRejectedError)


def test_the_client_refuses_to_start_past_its_deadline() -> None:
    client = kube.Client(
        "http://127.0.0.1:9", lambda: "t", kube.Deadline(time.monotonic() - 1), max_attempts=3
    )
    with pytest.raises(kube.DeadlineError):
        client.get("/api")
    assert client.attempts == []

"""The push pre-scaler's Lambda handler (entry point ``prescaler_lambda.handler.handler``).

Invocations:

* **push event** (from the SNS topic): validate (:mod:`.events`), then per labelled HPA the event
  names raise ``minReplicas`` (:mod:`.plan`), raise the headroom Deployment in proportion to the
  added pods' requests, and schedule the readiness check (at the send time) and the restore (at
  the window's end) with EventBridge Scheduler (:mod:`.schedules`).
* ``{"kind": "restore", "pushId": ...}`` (Scheduler): close that window (and any that ended) on
  every labelled HPA; an HPA another window still covers keeps that window's floor. Then the
  headroom follows.
* ``{"kind": "check", "pushId": ..., "services": [...]}`` (Scheduler, at the send time): ready
  replicas of each raised service against its floor; the shortfall is logged, so operators see
  when the lead time was too short.
* ``{"kind": "reconcile"}`` (a recurring schedule): the restore pass for every window that ended,
  and the baseline a ``pulumi up`` changed applied outside windows.

Every invocation writes exactly one JSON summary line (what changed, what failed and why), then
raises when anything failed or the event was rejected, so the invocation counts as an error:
Lambda retries it once (every step is idempotent) and then puts the event in the dead-letter
queue, and the error alarm fires. A rejected event changes nothing.

Time: the handler works to a deadline ``budget_margin_seconds`` before the Lambda's own timeout;
requests, retries and back-off all stop there, so the summary is always written.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from . import events, kube, plan, schedules

HPA_LIST = "/apis/autoscaling/v2/horizontalpodautoscalers"
LABEL_SELECTOR = f"{plan.PRESCALE_LABEL}=true"
INTERNAL_KINDS = frozenset({"restore", "check", "reconcile"})
CHECK_NOW_WITHIN = timedelta(seconds=60)
"""A send time closer than this is checked at once instead of scheduled."""


def hpa_path(namespace: str, name: str) -> str:
    return f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}"


def _env_int(env: Mapping[str, str], key: str, default: int | None = None) -> int:
    value = env.get(key)
    if value is None or value == "":
        if default is None:
            raise KeyError(f"environment variable {key} is not set")
        return default
    return int(value)


@dataclass(frozen=True)
class Settings:
    """The function's configuration (environment variables set by the PreScaler component)."""

    cluster_name: str
    endpoint: str
    ca_pem: str | None
    region: str
    headroom_namespace: str
    headroom_deployment: str
    headroom: plan.HeadroomSettings
    schedule_group: str
    scheduler_role_arn: str
    dead_letter_arn: str
    max_lead_seconds: int = 86400
    full_push_rps: float | None = None
    budget_margin_seconds: float = 5.0
    max_attempts: int = 5
    backoff_base: float = 0.2
    backoff_cap: float = 2.0

    @staticmethod
    def from_env(env: Mapping[str, str]) -> Settings:
        ca = env.get("PRESCALER_CLUSTER_CA", "")
        return Settings(
            cluster_name=env["PRESCALER_CLUSTER_NAME"],
            endpoint=env["PRESCALER_CLUSTER_ENDPOINT"],
            ca_pem=base64.b64decode(ca).decode() if ca else None,
            region=env["AWS_REGION"],
            headroom_namespace=env["PRESCALER_HEADROOM_NAMESPACE"],
            headroom_deployment=env["PRESCALER_HEADROOM_DEPLOYMENT"],
            headroom=plan.HeadroomSettings(
                baseline=_env_int(env, "PRESCALER_HEADROOM_BASELINE"),
                cpu_millis=_env_int(env, "PRESCALER_HEADROOM_CPU_MILLIS"),
                memory_bytes=_env_int(env, "PRESCALER_HEADROOM_MEMORY_BYTES"),
                ratio=Fraction(env.get("PRESCALER_HEADROOM_RATIO", "1")),
                max_replicas=_env_int(env, "PRESCALER_HEADROOM_MAX_REPLICAS"),
            ),
            schedule_group=env["PRESCALER_SCHEDULE_GROUP"],
            scheduler_role_arn=env["PRESCALER_SCHEDULER_ROLE_ARN"],
            dead_letter_arn=env["PRESCALER_DEAD_LETTER_ARN"],
            max_lead_seconds=_env_int(env, "PRESCALER_MAX_LEAD_SECONDS", 86400),
            full_push_rps=float(env["PRESCALER_FULL_PUSH_RPS"])
            if env.get("PRESCALER_FULL_PUSH_RPS")
            else None,
            budget_margin_seconds=float(env.get("PRESCALER_BUDGET_MARGIN_SECONDS", "5")),
        )


@dataclass
class Deps:
    """What one invocation works with (tests build it around fakes)."""

    settings: Settings
    kube: kube.Client
    scheduler: Any
    """A boto3 ``scheduler`` client."""
    function_arn: str
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    log: Callable[[str], None] = lambda line: print(line, flush=True)


class PrescaleError(RuntimeError):
    """Some of the work failed (the summary line says what and why)."""


@dataclass
class Summary:
    kind: str
    push_id: str | None = None
    outcome: str = "ok"
    changed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    headroom: dict[str, Any] | None = None
    schedules: dict[str, str] = field(default_factory=dict)
    readiness: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def level(self) -> str:
        if self.rejected or self.failed or self.unknown:
            return "ERROR"
        if any(r["shortfall"] for r in self.readiness):
            return "WARNING"
        return "INFO"

    def line(self, started: float, attempts: int) -> str:
        record: dict[str, Any] = {
            "level": self.level(),
            "message": f"prescale {self.kind}"
            + (f" {self.push_id}" if self.push_id else "")
            + f": {self.outcome}",
            "kind": self.kind,
            "pushId": self.push_id,
            "outcome": self.outcome,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "unknown": self.unknown,
            "rejected": self.rejected,
            "headroom": self.headroom,
            "schedules": self.schedules,
            "readiness": self.readiness,
            "apiRequests": attempts,
            "elapsedMs": round((time.monotonic() - started) * 1000),
            **self.details,
        }
        return json.dumps(record, sort_keys=True, default=str)


# --- the entry point ------------------------------------------------------------------------

SCHEDULER_CONFIG = {
    "retries": {"mode": "standard", "total_max_attempts": 3},
    "connect_timeout": 3,
    "read_timeout": 5,
}
"""boto3 ``Config`` of the Scheduler client: few, short retries (the deadline is the Lambda's)."""


def scheduler_client(session: Any, region: str, **extra: Any) -> Any:
    """A Scheduler client with :data:`SCHEDULER_CONFIG` (``extra``: endpoint, credentials)."""
    from botocore.config import Config

    return session.client(
        "scheduler", region_name=region, config=Config(**SCHEDULER_CONFIG), **extra
    )


def handler(event: Any, context: Any) -> dict[str, Any]:  # pragma: no cover - AWS wiring
    """Lambda entry point: real clients around :func:`handle`."""
    import boto3  # the Lambda runtime ships it

    from . import eks_token

    settings = Settings.from_env(os.environ)
    remaining = context.get_remaining_time_in_millis() / 1000
    deadline = kube.Deadline(time.monotonic() + remaining - settings.budget_margin_seconds)
    session = boto3.Session()
    token: list[str] = []

    def bearer() -> str:
        if not token:
            creds = session.get_credentials().get_frozen_credentials()
            token.append(eks_token.bearer_token(settings.cluster_name, settings.region, creds))
        return token[0]

    client = kube.Client(
        settings.endpoint,
        bearer,
        deadline,
        ca_pem=settings.ca_pem,
        max_attempts=settings.max_attempts,
        backoff_base=settings.backoff_base,
        backoff_cap=settings.backoff_cap,
    )
    deps = Deps(
        settings=settings,
        kube=client,
        scheduler=scheduler_client(session, settings.region),
        function_arn=context.invoked_function_arn,
    )
    return handle(event, deps)


def handle(event: Any, deps: Deps) -> dict[str, Any]:
    """Process one invocation; log one summary line; raise when anything failed."""
    started = time.monotonic()
    summary = Summary(kind="push")
    try:
        _dispatch(event, deps, summary)
    except events.EventRejectedError as rejected:
        summary.outcome = "rejected"
        summary.push_id = summary.push_id or rejected.push_id
        summary.rejected = list(rejected.problems)
    except kube.ApiError as err:  # the list call itself failed: nothing could be planned
        summary.outcome = "failed"
        summary.failed["cluster"] = kube.explain(err)
    deps.log(summary.line(started, len(deps.kube.attempts)))
    if summary.rejected:
        raise events.EventRejectedError(summary.rejected, summary.push_id)
    if summary.failed or summary.unknown:
        problems = [*summary.failed.values(), *summary.unknown.values()]
        raise PrescaleError(
            f"prescale {summary.kind} {summary.push_id or ''}: " + "; ".join(problems)
        )
    return {"outcome": summary.outcome, "changed": len(summary.changed)}


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _dispatch(event: Any, deps: Deps, summary: Summary) -> None:
    if isinstance(event, Mapping) and "Records" in event:
        records = event["Records"]
        if not isinstance(records, list) or len(records) != 1:
            raise events.EventRejectedError(["expected exactly one SNS record per invocation"])
        record = records[0]
        if not isinstance(record, Mapping) or record.get("EventSource") != "aws:sns":
            raise events.EventRejectedError(["the record is not an SNS notification"])
        try:
            message = _strict_json(str(record["Sns"]["Message"]))
        except (KeyError, TypeError, ValueError) as err:
            raise events.EventRejectedError(
                [f"the SNS message is not a JSON object: {err}"]
            ) from None
        _push(message, deps, summary)
        return
    if isinstance(event, Mapping) and event.get("kind") in INTERNAL_KINDS:
        summary.kind = str(event["kind"])
        push_id = event.get("pushId")
        if summary.kind != "reconcile" and not (
            isinstance(push_id, str) and events.PUSH_ID.fullmatch(push_id)
        ):
            raise events.EventRejectedError([f"pushId: got {push_id!r}: not a push id"])
        summary.push_id = push_id if isinstance(push_id, str) else None
        if summary.kind == "check":
            services = event.get("services")
            if not isinstance(services, list) or not all(
                isinstance(s, str) and re.fullmatch(r"[a-z0-9-]+/[a-z0-9-]+", s) for s in services
            ):
                raise events.EventRejectedError(
                    [f"services: got {services!r}: namespace/name list"]
                )
            _check(services, deps, summary)
        else:
            _restore(summary.push_id, deps, summary)
        return
    raise events.EventRejectedError(
        ["neither an SNS notification nor a pre-scaler schedule: publish events to the topic"]
    )


# --- push -----------------------------------------------------------------------------------


def _list_hpas(deps: Deps) -> list[plan.Hpa]:
    body = deps.kube.get(HPA_LIST, {"labelSelector": LABEL_SELECTOR})
    return [plan.Hpa.from_json(item) for item in body.get("items", [])]


def _push(message: Any, deps: Deps, summary: Summary) -> None:
    s = deps.settings
    now = deps.now()
    if isinstance(message, Mapping) and isinstance(message.get("pushId"), str):
        summary.push_id = message["pushId"]
    event = events.parse_push_event(
        message, now=now, max_lead_seconds=s.max_lead_seconds, full_push_rps=s.full_push_rps
    )
    summary.push_id = event.push_id
    summary.details = {
        "sendTime": f"{event.send_time:%Y-%m-%dT%H:%M:%SZ}",
        "until": f"{event.until:%Y-%m-%dT%H:%M:%SZ}",
        "multiplier": float(event.multiplier),
        "requestedBy": event.requested_by,
        "leadSeconds": round((event.send_time - now).total_seconds()),
    }
    chosen, summary.unknown = plan.select(_list_hpas(deps), event.services)
    covered: list[str] = []
    for hpa in chosen:

        def raise_one(key: str = hpa.key) -> plan.Change:
            namespace, name = key.split("/", 1)
            live = plan.Hpa.from_json(deps.kube.get(hpa_path(namespace, name)))
            change = plan.plan_raise(
                live,
                push_id=event.push_id,
                until=event.until,
                multiplier=event.multiplier,
                now=deps.now(),
            )
            if change.needs_patch(live):
                deps.kube.merge_patch(
                    hpa_path(namespace, name), plan.patch_for(change, live.resource_version)
                )
            return change

        _apply(hpa.key, raise_one, summary)
        if hpa.key not in summary.failed:
            covered.append(hpa.key)
    summary.outcome = "applied" if covered else "nothing-applied"
    if covered:
        _headroom(deps, summary)
        _schedule(event, covered, deps, summary, now)
    if summary.failed or summary.unknown:
        summary.outcome = "partial" if covered else "failed"


def _apply(key: str, work: Callable[[], plan.Change], summary: Summary) -> None:
    try:
        change = kube.retry_conflicts(work)
    except kube.ApiError as err:
        summary.failed[key] = kube.explain(err)
        return
    except ValueError as err:  # a label or annotation the pre-scaler cannot read
        summary.failed[key] = str(err)
        return
    before, after = change.min_replicas
    if before == after and change.note in ("unchanged", "kept", "duplicate"):
        summary.unchanged.append(f"{key} ({change.note}, minReplicas {after})")
    else:
        summary.changed.append(
            {"hpa": key, "minReplicas": [before, after], "note": change.note, "floor": change.floor}
        )


def _headroom(deps: Deps, summary: Summary) -> None:
    s = deps.settings
    if not s.headroom_namespace:
        return  # the cluster runs no headroom Deployment
    path = (
        f"/apis/apps/v1/namespaces/{s.headroom_namespace}/deployments/{s.headroom_deployment}/scale"
    )

    def adjust() -> dict[str, Any]:
        target = plan.plan_headroom(_list_hpas(deps), s.headroom, deps.now())
        scale = deps.kube.get(path)
        current = int(scale.get("spec", {}).get("replicas") or 0)
        result: dict[str, Any] = {
            "replicas": [current, target.target],
            "addedCpuMillis": target.added_cpu_millis,
            "addedMemoryBytes": target.added_memory_bytes,
        }
        if target.unsized:
            result["unsized"] = target.unsized
        if current != target.target:
            version = str(scale.get("metadata", {}).get("resourceVersion", ""))
            deps.kube.merge_patch(
                path,
                {"metadata": {"resourceVersion": version}, "spec": {"replicas": target.target}},
            )
        return result

    try:
        summary.headroom = kube.retry_conflicts(adjust)
    except kube.ApiError as err:
        summary.failed["headroom"] = kube.explain(err)


def _schedule(
    event: events.PushEvent, covered: list[str], deps: Deps, summary: Summary, now: datetime
) -> None:
    s = deps.settings
    common = {
        "client": deps.scheduler,
        "group": s.schedule_group,
        "push_id": event.push_id,
        "function_arn": deps.function_arn,
        "role_arn": s.scheduler_role_arn,
        "dead_letter_arn": s.dead_letter_arn,
    }
    check_now = event.send_time - now <= CHECK_NOW_WITHIN
    try:
        summary.schedules["restore"] = schedules.ensure_one_time(
            kind="restore",
            at=max(event.until, now + timedelta(seconds=60)),
            payload={"kind": "restore", "pushId": event.push_id},
            **common,
        )
        if not check_now:
            summary.schedules["check"] = schedules.ensure_one_time(
                kind="check",
                at=event.send_time,
                payload={"kind": "check", "pushId": event.push_id, "services": sorted(covered)},
                **common,
            )
    except Exception as err:  # boto3's errors: any failure here is reported, not fatal
        summary.failed["schedule"] = (
            f"could not schedule the restore/check with EventBridge Scheduler: {err} (the "
            "reconcile pass still closes the window when it ends)"
        )
    if check_now:
        # The push is (nearly) out already: the lead time was too short; measure it now.
        _check(sorted(covered), deps, summary)


# --- restore and reconcile ------------------------------------------------------------------


def _restore(push_id: str | None, deps: Deps, summary: Summary) -> None:
    hpas = _list_hpas(deps)
    for hpa in hpas:

        def restore_one(key: str = hpa.key) -> plan.Change:
            namespace, name = key.split("/", 1)
            live = plan.Hpa.from_json(deps.kube.get(hpa_path(namespace, name)))
            change = plan.plan_restore(live, now=deps.now(), push_id=push_id)
            if change.needs_patch(live):
                deps.kube.merge_patch(
                    hpa_path(namespace, name), plan.patch_for(change, live.resource_version)
                )
            return change

        if plan.STATE_ANNOTATION not in hpa.annotations and summary.kind == "restore":
            continue  # never raised: a restore has nothing to do there
        _apply(hpa.key, restore_one, summary)
    _headroom(deps, summary)
    summary.outcome = "failed" if summary.failed else "restored"


# --- readiness ------------------------------------------------------------------------------


def _check(services: list[str], deps: Deps, summary: Summary) -> None:
    for key in services:
        namespace, name = key.split("/", 1)
        try:
            hpa = plan.Hpa.from_json(deps.kube.get(hpa_path(namespace, name)))
            status = deps.kube.get(
                f"/apis/apps/v1/namespaces/{namespace}/deployments/{hpa.target_name}/status"
            )
        except kube.ApiError as err:
            summary.failed[key] = kube.explain(err)
            continue
        ready = int((status.get("status") or {}).get("readyReplicas") or 0)
        floor = hpa.min_replicas
        summary.readiness.append(
            {
                "hpa": key,
                "floor": floor,
                "ready": ready,
                "shortfall": max(0, floor - ready),
            }
        )
    if summary.kind == "check":
        short = [r for r in summary.readiness if r["shortfall"]]
        summary.outcome = "shortfall" if short else "ready"

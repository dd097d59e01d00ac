"""One-time EventBridge Scheduler schedules that call the pre-scaler back: ``restore`` when a
push window ends, ``check`` (readiness) at the send time.

A schedule's name is derived from the push id alone, so a duplicate event finds the schedule it
already created (``ConflictException``) and leaves it: one restore per push id, however often the
event arrives. Schedules delete themselves after they fire (``ActionAfterCompletion``, in the
Scheduler API since November 2023). A failed invocation is retried by Scheduler and then lands in
the pre-scaler's dead-letter queue; the periodic reconcile pass closes any window whose restore
was lost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

NAME_MAX = 64
RETRY_ATTEMPTS = 3
MAX_EVENT_AGE_SECONDS = 3600


def schedule_name(kind: str, push_id: str) -> str:
    """``<kind>-<pushId>``, shortened with a hash when over Scheduler's 64 characters."""
    name = f"{kind}-{push_id}"
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(push_id.encode()).hexdigest()[:12]
    return f"{kind}-{push_id[: NAME_MAX - len(kind) - 14]}-{digest}"


def at_expression(moment: datetime) -> str:
    """Scheduler's one-time expression, in UTC, rounded up to the next whole second."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({moment:%Y-%m-%dT%H:%M:%S})"


def ensure_one_time(
    client: Any,
    *,
    group: str,
    kind: str,
    push_id: str,
    at: datetime,
    function_arn: str,
    role_arn: str,
    dead_letter_arn: str,
    payload: Mapping[str, Any],
) -> str:
    """Create the schedule unless it exists; returns ``created`` or ``exists``."""
    name = schedule_name(kind, push_id)
    try:
        client.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=at_expression(at),
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            State="ENABLED",
            Description=f"eksplatform pre-scaler: {kind} for push {push_id}",
            Target={
                "Arn": function_arn,
                "RoleArn": role_arn,
                "Input": json.dumps(dict(payload), sort_keys=True),
                "DeadLetterConfig": {"Arn": dead_letter_arn},
                "RetryPolicy": {
                    "MaximumRetryAttempts": RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                },
            },
        )
    except client.exceptions.ConflictException:
        return "exists"
    return "created"

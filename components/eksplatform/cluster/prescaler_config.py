"""``platform:preScaler``: the push pre-scaler's stack configuration (see :mod:`.prescaler`).

One model, every field with its default and range; pydantic refuses unknown keys and reports
every problem with the key as written (``platform:preScaler.timeoutSeconds``).
"""

from __future__ import annotations

import re

from pydantic import field_validator

from ..core.settings import SettingsModel, check_retention

ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")


class PreScalerConfig(SettingsModel):
    """``platform:preScaler``: the push pre-scaler."""

    enabled: bool = True
    """Create the topic, Lambda, schedules and RBAC. Default: true."""
    publisher_role_arns: tuple[str, ...] = ()
    """IAM roles of the push senders allowed to publish (the cluster admin roles always may, for
    game days). Default: none."""
    timeout_seconds: int = 60
    """Lambda timeout, 10-900; the handler stops 5 s before it. Default: 60."""
    memory_mb: int = 256
    """Lambda memory, 128-3008 MB. Default: 256."""
    reserved_concurrency: int = 2
    """Reserved concurrent executions, 1-50: events are rare, and this caps the load on the
    API server (overlapping events are safe: every write is conditional). Default: 2."""
    log_retention_days: int = 90
    """Days the function's log group keeps the summary lines. Default: 90."""
    headroom_ratio: float = 1.0
    """Headroom to add per pod a pre-scale adds, as a share of its requests (0-4; 0: leave the
    headroom alone). Default: 1.0 (as much spare room again as the pre-scale takes)."""
    headroom_max_replicas: int = 60
    """Most headroom pause pods the pre-scaler may run, 0-1000 (below ``platform:headroom.replicas``
    it counts as that: the pre-scaler never lowers the headroom under its baseline). Default:
    60."""
    full_push_requests_per_second: float | None = None
    """Peak request rate of a full push (multiplier 1): lets events give ``targetRate``.
    Default: none (events give ``multiplier``)."""
    max_lead_seconds: int = 86400
    """Furthest ahead a send time may be, 300-86400 s. Default: 86400."""
    reconcile_interval_minutes: int = 5
    """How often the reconcile pass runs, 1-60 minutes. Default: 5."""
    alarm_topic_arns: tuple[str, ...] = ()
    """SNS topics the error and DLQ alarms notify. Default: none (the alarms show in
    CloudWatch only)."""

    @field_validator("publisher_role_arns")
    @classmethod
    def _publishers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in v if not ROLE_ARN.fullmatch(a)]
        if bad:
            raise ValueError(
                f"{', '.join(map(repr, bad))}: not IAM role ARNs; write "
                "arn:aws:iam::<account>:role/<name>"
            )
        return v

    @field_validator("alarm_topic_arns")
    @classmethod
    def _topics(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in v if not _TOPIC_ARN.fullmatch(a)]
        if bad:
            raise ValueError(
                f"{', '.join(map(repr, bad))}: not SNS topic ARNs; write "
                "arn:aws:sns:<region>:<account>:<name>"
            )
        return v

    @field_validator("timeout_seconds")
    @classmethod
    def _timeout(cls, v: int) -> int:
        if not 10 <= v <= 900:
            raise ValueError("must be 10 to 900 seconds (Lambda's limit)")
        return v

    @field_validator("memory_mb")
    @classmethod
    def _memory(cls, v: int) -> int:
        if not 128 <= v <= 3008:
            raise ValueError("must be 128 to 3008 MB")
        return v

    @field_validator("reserved_concurrency")
    @classmethod
    def _concurrency(cls, v: int) -> int:
        if not 1 <= v <= 50:
            raise ValueError("must be 1 to 50")
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        return check_retention(v)

    @field_validator("headroom_ratio")
    @classmethod
    def _ratio(cls, v: float) -> float:
        if not 0 <= v <= 4:
            raise ValueError("must be 0 to 4 (0 leaves the headroom alone)")
        return v

    @field_validator("headroom_max_replicas")
    @classmethod
    def _headroom_max(cls, v: int) -> int:
        if not 0 <= v <= 1000:
            raise ValueError("must be 0 to 1000")
        return v

    @field_validator("full_push_requests_per_second")
    @classmethod
    def _full_push(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError("must be more than 0 (or left out)")
        return v

    @field_validator("max_lead_seconds")
    @classmethod
    def _lead(cls, v: int) -> int:
        if not 300 <= v <= 86400:
            raise ValueError("must be 300 to 86400 seconds")
        return v

    @field_validator("reconcile_interval_minutes")
    @classmethod
    def _interval(cls, v: int) -> int:
        if not 1 <= v <= 60:
            raise ValueError("must be 1 to 60 minutes")
        return v

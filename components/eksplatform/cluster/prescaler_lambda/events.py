"""The pre-scale event, version 1: parsing and every check, with the standard library only.

The contract is the JSON Schema beside this module (``prescale-event.v1.schema.json``): push
tooling validates against it, and the tests hold this parser to it (every event of a corpus is
accepted or refused by both alike). The Lambda cannot use a JSON Schema library (standard library
and boto3 only), so the checks are written out here, one message per field naming the value and
the fix.

Beyond the schema, :func:`parse_push_event` refuses what only a clock or the cluster's settings
can tell: a send time that is not a real instant, one more than ``max_lead_seconds`` ahead, an
event whose window is already over (expired), and a ``targetRate`` on a cluster without a
full-push rate.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any, TypeGuard

SCHEMA_VERSION = 1
SCHEMA_FILE = "prescale-event.v1.schema.json"

PUSH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SEND_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})"
)
_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
SERVICE = re.compile(rf"({_LABEL}/)?{_LABEL}")
DURATION_MIN, DURATION_MAX = 60, 21600
SERVICES_MAX = 200
REQUESTED_BY_MAX = 128
KEYS = frozenset(
    {
        "schemaVersion",
        "pushId",
        "sendTime",
        "durationSeconds",
        "multiplier",
        "targetRate",
        "services",
        "requestedBy",
    }
)


class EventRejectedError(ValueError):
    """The event is malformed or expired: nothing was changed. ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str], push_id: str | None = None) -> None:
        self.problems = tuple(problems)
        self.push_id = push_id
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(
            f"pre-scale event rejected ({len(self.problems)} {noun}): " + "; ".join(self.problems)
        )


@dataclass(frozen=True)
class PushEvent:
    """A valid pre-scale event."""

    push_id: str
    send_time: datetime
    """Aware, UTC."""
    duration_seconds: int
    multiplier: Fraction
    """Exact (0 < m <= 1): floors are ``ceil`` of exact products, never of float noise."""
    services: tuple[str, ...] | None
    """``namespace/name`` or ``name`` entries; None for "all"."""
    requested_by: str | None = None
    target_rate: float | None = None
    """The requested peak rate when the event gave one instead of a multiplier."""

    @property
    def until(self) -> datetime:
        """End of the push window: the floors are restored at this instant."""
        return self.send_time + timedelta(seconds=self.duration_seconds)


def _is_int(value: Any) -> TypeGuard[int | float]:
    # JSON has one number type: 120.0 is an integer to JSON Schema, True is not.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_send_time(text: str) -> datetime | None:
    """An RFC 3339 instant with a zone, as an aware UTC datetime; None when not one."""
    m = SEND_TIME.fullmatch(text)
    if m is None:
        return None
    fraction = (m.group("fraction") or "").ljust(6, "0")[:6]
    zone = "+00:00" if m.group("zone") == "Z" else m.group("zone")
    try:
        moment = datetime.fromisoformat(f"{m.group('date')}T{m.group('time')}.{fraction}{zone}")
    except ValueError:
        return None
    return moment.astimezone(UTC)


def schema_problems(event: Any) -> list[str]:
    """Every way ``event`` breaks the v1 schema (empty when it conforms)."""
    if not isinstance(event, Mapping):
        return [f"the event must be a JSON object, got {type(event).__name__}"]
    problems: list[str] = []
    for key in sorted(set(event) - KEYS):
        problems.append(f"{key}: unknown field; allowed: {', '.join(sorted(KEYS))}")
    for key in ("schemaVersion", "pushId", "sendTime", "durationSeconds", "services"):
        if key not in event:
            problems.append(f"{key}: missing")
    if "schemaVersion" in event and (
        not _is_int(event["schemaVersion"]) or event["schemaVersion"] != SCHEMA_VERSION
    ):
        problems.append(
            f"schemaVersion: got {_show(event['schemaVersion'])}: this pre-scaler reads "
            f"version {SCHEMA_VERSION} only"
        )
    push_id = event.get("pushId")
    if "pushId" in event and not (isinstance(push_id, str) and PUSH_ID.fullmatch(push_id)):
        problems.append(
            f"pushId: got {_show(push_id)}: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    send = event.get("sendTime")
    if "sendTime" in event and not (isinstance(send, str) and SEND_TIME.fullmatch(send)):
        problems.append(
            f"sendTime: got {_show(send)}: an RFC 3339 time with a zone, like 2026-12-01T18:00:00Z"
        )
    duration = event.get("durationSeconds")
    if "durationSeconds" in event and not (
        _is_int(duration) and DURATION_MIN <= int(duration) <= DURATION_MAX
    ):
        problems.append(
            f"durationSeconds: got {_show(duration)}: a whole number of seconds from "
            f"{DURATION_MIN} to {DURATION_MAX}"
        )
    has_multiplier, has_rate = "multiplier" in event, "targetRate" in event
    if has_multiplier == has_rate:
        problems.append(
            "multiplier/targetRate: give exactly one: multiplier (the push's size relative to "
            "a full push, 0 to 1) or targetRate.requestsPerSecond"
        )
    if has_multiplier:
        m = event["multiplier"]
        if not (_is_number(m) and 0 < float(m) <= 1):
            problems.append(
                f"multiplier: got {_show(m)}: a number above 0 and at most 1 (1: a full push)"
            )
    if has_rate:
        rate = event["targetRate"]
        if not isinstance(rate, Mapping):
            problems.append(f"targetRate: got {_show(rate)}: an object {{requestsPerSecond: n}}")
        else:
            for key in sorted(set(rate) - {"requestsPerSecond"}):
                problems.append(f"targetRate.{key}: unknown field; allowed: requestsPerSecond")
            rps = rate.get("requestsPerSecond")
            if not (_is_number(rps) and float(rps) > 0):
                problems.append(f"targetRate.requestsPerSecond: got {_show(rps)}: a number above 0")
    if "services" in event:
        problems += _services_problems(event["services"])
    if "requestedBy" in event:
        who = event["requestedBy"]
        if not (isinstance(who, str) and 1 <= len(who) <= REQUESTED_BY_MAX):
            problems.append(f"requestedBy: got {_show(who)}: 1-{REQUESTED_BY_MAX} characters")
    return problems


def _services_problems(services: Any) -> list[str]:
    if services == "all":
        return []
    if not isinstance(services, list) or not 1 <= len(services) <= SERVICES_MAX:
        return [
            f'services: got {_show(services)}: "all" or a list of 1-{SERVICES_MAX} '
            '"namespace/name" or "name" entries'
        ]
    problems = []
    for i, entry in enumerate(services):
        if not (isinstance(entry, str) and SERVICE.fullmatch(entry)):
            problems.append(
                f'services[{i}]: got {_show(entry)}: "namespace/name" or "name" '
                "(Kubernetes DNS labels)"
            )
    if len({json.dumps(s, sort_keys=True) for s in services}) != len(services):
        problems.append("services: lists a service twice")
    return problems


def parse_push_event(
    event: Any,
    *,
    now: datetime,
    max_lead_seconds: int,
    full_push_rps: float | None,
) -> PushEvent:
    """A valid :class:`PushEvent`, or :class:`EventRejectedError` listing every problem."""
    problems = schema_problems(event)
    push_id = event.get("pushId") if isinstance(event, Mapping) else None
    push_id = push_id if isinstance(push_id, str) and PUSH_ID.fullmatch(push_id) else None
    if problems:
        raise EventRejectedError(problems, push_id)
    assert isinstance(event, Mapping) and push_id is not None
    send_time = parse_send_time(event["sendTime"])
    if send_time is None:
        raise EventRejectedError([f"sendTime: got {event['sendTime']!r}: not a real date and time"])
    duration = int(event["durationSeconds"])
    if send_time - now > timedelta(seconds=max_lead_seconds):
        problems.append(
            f"sendTime: got {event['sendTime']!r}: more than {max_lead_seconds} s ahead "
            f"(now {now:%Y-%m-%dT%H:%M:%SZ}); publish the event closer to the push"
        )
    until = send_time + timedelta(seconds=duration)
    if until <= now:
        problems.append(
            f"expired: the window ended at {until:%Y-%m-%dT%H:%M:%SZ} (sendTime + "
            f"durationSeconds), now is {now:%Y-%m-%dT%H:%M:%SZ}: nothing left to pre-scale"
        )
    target_rate: float | None = None
    if "multiplier" in event:
        multiplier = Fraction(str(event["multiplier"]))
    else:
        target_rate = float(event["targetRate"]["requestsPerSecond"])
        if not full_push_rps:
            problems.append(
                "targetRate: this cluster sets no platform:preScaler.fullPushRequestsPerSecond "
                "to compare a rate with; send multiplier instead"
            )
            multiplier = Fraction(1)
        else:
            multiplier = min(Fraction(1), Fraction(str(target_rate)) / Fraction(str(full_push_rps)))
    if problems:
        raise EventRejectedError(problems, push_id)
    services = event["services"]
    return PushEvent(
        push_id=push_id,
        send_time=send_time,
        duration_seconds=duration,
        multiplier=multiplier,
        services=None if services == "all" else tuple(services),
        requested_by=event.get("requestedBy"),
        target_rate=target_rate,
    )

"""The event schema: the JSON Schema file is valid, and the Lambda's standard-library parser
accepts and refuses exactly what ``jsonschema`` does with it, over a corpus built around every
rule's edges; then the checks only a clock can make (expiry, lead) and the exact messages."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from importlib import resources
from typing import Any

import jsonschema
import pytest
from eksplatform.cluster.prescaler_lambda import events

NOW = datetime(2026, 12, 1, 17, 50, tzinfo=UTC)
VALID: dict[str, Any] = {
    "schemaVersion": 1,
    "pushId": "push-2026-12-01.evening_1",
    "sendTime": "2026-12-01T18:00:00Z",
    "durationSeconds": 1800,
    "multiplier": 0.5,
    "services": ["news/feed", "images"],
}


def schema() -> dict[str, Any]:
    text = (
        resources.files("eksplatform.cluster.prescaler_lambda")
        .joinpath(events.SCHEMA_FILE)
        .read_text()
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _with(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is _DROP:
            event.pop(key, None)
        else:
            event[key] = value
    return event


_DROP = object()

CORPUS: list[Any] = [
    VALID,
    _with(services="all"),
    _with(services=["a"]),
    _with(services=["a" * 63 + "/" + "b" * 63]),
    _with(services=["a" * 64]),
    _with(services=["-a"]),
    _with(services=["a-"]),
    _with(services=["a/b/c"]),
    _with(services=["Feed"]),
    _with(services=["feed\n"]),
    _with(services=[]),
    _with(services=["x"] * 2),
    _with(services=[f"s{i}" for i in range(200)]),
    _with(services=[f"s{i}" for i in range(201)]),
    _with(services="ALL"),
    _with(services=[1]),
    _with(services=_DROP),
    _with(pushId="a"),
    _with(pushId="a" * 64),
    _with(pushId="a" * 65),
    _with(pushId=".a"),
    _with(pushId="a b"),
    _with(pushId="push-1\n"),
    _with(pushId=""),
    _with(pushId=12),
    _with(pushId=_DROP),
    _with(sendTime="2026-12-01T18:00:00+01:00"),
    _with(sendTime="2026-12-01T18:00:00.123456789Z"),
    _with(sendTime="2026-12-01T18:00:00"),
    _with(sendTime="2026-12-01 18:00:00Z"),
    _with(sendTime="2026-12-01T18:00:00Z\n"),
    _with(sendTime=1764612000),
    _with(durationSeconds=60),
    _with(durationSeconds=59),
    _with(durationSeconds=21600),
    _with(durationSeconds=21601),
    _with(durationSeconds=600.0),
    _with(durationSeconds=600.5),
    _with(durationSeconds="600"),
    _with(durationSeconds=True),
    _with(multiplier=1),
    _with(multiplier=1.0000001),
    _with(multiplier=0),
    _with(multiplier=0.0001),
    _with(multiplier=-0.5),
    _with(multiplier="0.5"),
    _with(multiplier=True),
    _with(multiplier=_DROP),
    _with(multiplier=_DROP, targetRate={"requestsPerSecond": 40000}),
    _with(multiplier=_DROP, targetRate={"requestsPerSecond": 0}),
    _with(multiplier=_DROP, targetRate={"requestsPerSecond": 1, "burst": 2}),
    _with(multiplier=_DROP, targetRate={}),
    _with(multiplier=_DROP, targetRate=5),
    _with(targetRate={"requestsPerSecond": 5}),
    _with(schemaVersion=2),
    _with(schemaVersion="1"),
    _with(schemaVersion=1.0),
    _with(schemaVersion=_DROP),
    _with(requestedBy="push-service"),
    _with(requestedBy=""),
    _with(requestedBy="x" * 128),
    _with(requestedBy="x" * 129),
    _with(colour="blue"),
    [],
    "push",
    None,
]


def test_the_schema_file_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["schemaVersion"] == {
        "description": schema()["properties"]["schemaVersion"]["description"],
        "const": events.SCHEMA_VERSION,
    }
    assert set(schema()["properties"]) == events.KEYS


@pytest.mark.parametrize("event", CORPUS, ids=lambda e: json.dumps(e)[:60])
def test_parser_agrees_with_the_json_schema(event: Any) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    assert validator.is_valid(event) == (events.schema_problems(event) == [])


def test_the_corpus_has_both_outcomes_at_each_edge() -> None:
    outcomes = [events.schema_problems(e) == [] for e in CORPUS]
    assert outcomes.count(True) >= 15 and outcomes.count(False) >= 30


def parse(event: Any, *, full_push_rps: float | None = None) -> events.PushEvent:
    return events.parse_push_event(
        event, now=NOW, max_lead_seconds=86400, full_push_rps=full_push_rps
    )


def test_valid_event_parses_exactly() -> None:
    parsed = parse(_with(sendTime="2026-12-01T19:00:00+01:00", multiplier=0.7))
    assert parsed.send_time == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    assert parsed.until == datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    assert parsed.multiplier == Fraction(7, 10)  # exact: 3 x 10 x 0.7 is 21, not 21.000000000000004
    assert parsed.services == ("news/feed", "images")
    assert parse(_with(services="all")).services is None


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(events.EventRejectedError) as caught:
        parse(_with(pushId="a b", durationSeconds=10, multiplier=2, extra=1))
    assert caught.value.problems == (
        "extra: unknown field; allowed: durationSeconds, multiplier, pushId, requestedBy, "
        "schemaVersion, sendTime, services, targetRate",
        "pushId: got 'a b': 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        "durationSeconds: got 10: a whole number of seconds from 60 to 21600",
        "multiplier: got 2: a number above 0 and at most 1 (1: a full push)",
    )
    assert str(caught.value).startswith("pre-scale event rejected (4 problems): extra: unknown")


def test_a_date_that_does_not_exist_is_malformed() -> None:
    with pytest.raises(events.EventRejectedError) as caught:
        parse(_with(sendTime="2026-02-30T18:00:00Z"))
    assert caught.value.problems == (
        "sendTime: got '2026-02-30T18:00:00Z': not a real date and time",
    )


def test_expiry_edge() -> None:
    # the window is [now, sendTime + duration): it ends exactly now -> expired
    edge = (NOW - timedelta(seconds=1800)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(events.EventRejectedError, match="expired: the window ended at"):
        parse(_with(sendTime=edge))
    one_later = (NOW - timedelta(seconds=1799)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse(_with(sendTime=one_later)).push_id == VALID["pushId"]


def test_lead_edge() -> None:
    ahead = (NOW + timedelta(seconds=86400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse(_with(sendTime=ahead)).push_id
    too_far = (NOW + timedelta(seconds=86401)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(events.EventRejectedError, match=r"more than 86400 s ahead"):
        parse(_with(sendTime=too_far))


def test_target_rate_becomes_a_multiplier_of_the_full_push() -> None:
    event = _with(multiplier=_DROP, targetRate={"requestsPerSecond": 40000})
    assert parse(event, full_push_rps=100000).multiplier == Fraction(2, 5)
    bigger = _with(multiplier=_DROP, targetRate={"requestsPerSecond": 250000})
    assert parse(bigger, full_push_rps=100000).multiplier == 1  # capped at a full push
    with pytest.raises(events.EventRejectedError) as caught:
        parse(event)
    assert caught.value.problems == (
        "targetRate: this cluster sets no platform:preScaler.fullPushRequestsPerSecond to "
        "compare a rate with; send multiplier instead",
    )

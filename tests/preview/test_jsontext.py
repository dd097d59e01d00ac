"""eksplatform.preview.jsontext writes what json.dumps(indent=2, sort_keys=True) writes."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from eksplatform.preview import jsontext
from eksplatform.preview.stack_output import display

EDGES: list[Any] = [
    0.1,
    1.5,
    -0.0,
    1e-4,
    8e-05,
    1.5e-7,
    5e-324,
    1e16,
    1.5e300,
    123456789.123,
    2**63 - 1,
    2**64,
    -(2**63),
    -(2**70),
    "",
    "plain ascii / slash",
    "\x00\x01\x1f\t\n\r\b\x0c",
    "del \x7f",
    "caf\u00e9",
    "\U0001f600",
    "digits 1e-5 and 0.00001 in text",
    "1e-5",
    '{"json": 1e-05}',
    "a\n1e-5",
    True,
    False,
    None,
    [],
    {},
    [[], {}, [{}]],
    {"b": 1, "a": {"d": [], "c": {}}, "A": None, "_": 0},
]


def _random_doc(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(
            [
                rng.uniform(-1, 1) * 10 ** rng.randint(-12, 20),
                rng.randint(-(2**40), 2**40),
                "".join(rng.choice("abcXYZ09-_:/ .e") for _ in range(rng.randint(0, 12))),
                rng.choice([True, False, None]),
            ]
        )
    if roll < 0.7:
        return [_random_doc(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["".join(rng.choice("abzAZ_-.09") for _ in range(rng.randint(0, 6))) for _ in range(4)]
    return {k: _random_doc(rng, depth + 1) for k in keys}


@pytest.mark.parametrize("value", EDGES, ids=repr)
def test_edge_values_alone_and_nested(value: Any) -> None:
    for doc in (value, [value, {"k": value}], {"z": [value], "a": value}):
        assert jsontext.dumps(doc) == json.dumps(doc, indent=2, sort_keys=True)


def test_non_finite_floats_as_display_returns_them() -> None:
    for bad in (math.nan, math.inf, -math.inf):
        doc = display({"x": [bad, 1.0, 0.5]})
        assert jsontext.dumps(doc) == json.dumps(doc, indent=2, sort_keys=True)
        assert "NaN" in jsontext.dumps(doc) or "Infinity" in jsontext.dumps(doc)


def test_keys_that_are_not_strings_as_json_writes_them() -> None:
    doc = {2: "two", 1: "one", 10: None}
    assert jsontext.dumps(doc) == json.dumps(doc, indent=2, sort_keys=True)


def test_random_documents() -> None:
    rng = random.Random(21)
    for _ in range(2000):
        doc = _random_doc(rng)
        assert jsontext.dumps(doc) == json.dumps(doc, indent=2, sort_keys=True)


def test_plain_documents_do_not_touch_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> str:
        raise AssertionError("json.dumps called for a plain ASCII document")

    doc = {
        "steps": [{"urn": "urn:pulumi:s::p::t::n", "inputs": {"port": 8080, "x": 0.25}}],
        # hex digests and text with what looks like an exponent, inside strings
        "ids": ["sg-1e-2", "web-3e-a4", "0.00001", "1e-5"],
        "n": [1, 2.5, 1e16, 0.0001],
    }
    expected = json.dumps(doc, indent=2, sort_keys=True)
    monkeypatch.setattr(json, "dumps", refuse)
    assert jsontext.dumps(doc) == expected

"""Manifest text: nodes built directly (manifests.to_yaml) give the bytes PyYAML's own
representer gives, for every rendered object and for edge values; anything else takes PyYAML's
path."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from eksplatform.preview import manifests
from eksplatform.preview.engine import PreviewResult

SCALARS: list[Any] = [
    "",
    "plain",
    "multi\nline\n",
    "trailing space ",
    " leading",
    "yes",
    "on",
    "null",
    "~",
    "1e3",
    "0x1F",
    "012",
    "1.0",
    "true",
    "a: b",
    "# not a comment",
    "- dash",
    "{braces}",
    "quote ' and \"",
    "caf\u00e9 \U0001f600",
    "tab\there",
    "x" * 150,
    "long words " * 20,
    0,
    -7,
    2**70,
    0.5,
    -0.0,
    1e17,
    1.5e-9,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
    [],
    {},
    [[]],
    {"a": {}},
]


def _random_body(rng: random.Random, depth: int = 0) -> Any:
    if depth > 3 or rng.random() < 0.45:
        return rng.choice(SCALARS)
    if rng.random() < 0.5:
        return [_random_body(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        str(rng.choice(SCALARS)): _random_body(rng, depth + 1) for _ in range(rng.randint(0, 4))
    }


def test_every_rendered_object_of_the_cluster(
    cluster_preview: Callable[[str], PreviewResult],
) -> None:
    rendered = cluster_preview("staging").manifests
    assert len(rendered) > 50
    for m in rendered:
        assert manifests.to_yaml(m.body) == manifests._reference_yaml(m.body), m.label


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_edge_values(value: Any) -> None:
    for body in ({"v": value}, {"list": [value, {"k": value}]}, {str(value): value}):
        assert manifests.to_yaml(body) == manifests._reference_yaml(body)


def test_random_bodies() -> None:
    rng = random.Random(21)
    for _ in range(1500):
        body = {"root": _random_body(rng)}
        assert manifests.to_yaml(body) == manifests._reference_yaml(body)


def test_shared_objects_keep_pyyaml_anchors() -> None:
    shared = {"app": "web"}
    body = {"a": shared, "b": shared}
    text = manifests.to_yaml(body)
    assert text == manifests._reference_yaml(body)
    assert "&id001" in text and "*id001" in text


def test_other_types_fail_as_pyyaml_does() -> None:
    class Name(str):
        pass

    with pytest.raises(yaml.representer.RepresenterError):
        manifests.to_yaml({"name": Name("x")})


def test_sorted_keys_as_pyyaml_sorts_them() -> None:
    """The Envoy bootstrap's spelling: SafeDumper, keys sorted, strings styled by the emitter."""
    from eksplatform.core import yamltext

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    rng = random.Random(22)
    bodies: list[Any] = [{"b": 1, "a": {"z": [], "y": "multi\nline"}}, {1: "x", 0: "y"}]
    bodies += [{"root": _random_body(rng)} for _ in range(800)]
    for body in bodies:
        expected = yamltext.reference_dump(body, dumper, sort_keys=True, width=100)
        assert yamltext.dump(body, dumper, sort_keys=True, width=100) == expected


def test_shared_objects_are_built_once_as_the_representer_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dict or list met again reuses its node (PyYAML's anchors and aliases) without falling
    back to PyYAML; only a value that contains itself does."""
    from eksplatform.core import yamltext

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    shared_list: list[Any] = [1, {"k": "v"}]
    empty: dict[str, Any] = {}
    inner = {"socket": {"address": "127.0.0.1", "port": 9901}, "tags": shared_list}
    bodies: list[Any] = [
        {"a": inner, "b": [inner, {"c": inner["socket"]}], "d": shared_list, "e": empty},
        {"z": empty, "y": empty, "x": [shared_list, shared_list]},
        [inner, inner, inner["tags"]],
    ]
    expected = [
        (yamltext.reference_dump(b, dumper, sort_keys=s, width=100), b, s)
        for b in bodies
        for s in (True, False)
    ]

    def no_fallback(*_args: Any, **_kwargs: Any) -> str:
        raise AssertionError("fell back to PyYAML")

    monkeypatch.setattr(yamltext, "reference_dump", no_fallback)
    for text, body, sort_keys in expected:
        assert yamltext.dump(body, dumper, sort_keys=sort_keys, width=100) == text
    monkeypatch.undo()
    loop: dict[str, Any] = {"name": "x"}
    loop["self"] = loop
    text = yamltext.reference_dump(loop, dumper, sort_keys=True, width=100)
    assert yamltext.dump(loop, dumper, sort_keys=True, width=100) == text

"""The compiled schema check (eksplatform.preview.schema_verdict) against jsonschema: the same
verdict on a corpus of valid objects and of objects broken one field at a time, and the same
errors and paths from ``validate`` as from jsonschema alone."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eksplatform.preview.engine import PreviewResult
from eksplatform.preview.kube_schema import KubeSchemaValidator
from eksplatform.preview.schema_verdict import CompiledDefinitions, UnsupportedSchemaError

from tests.preview.test_kube_schema import _valid_objects

Path = tuple[str | int, ...]

# Replacement values covering every JSON type, the bool/int and int/float edges, and enum misses.
_REPLACEMENTS: tuple[Any, ...] = (
    None,
    True,
    0,
    7,
    -1,
    1.5,
    2.0,
    "",
    "x",
    "80",
    [],
    ["x"],
    [1],
    {},
    {"x": 1},
    {"name": "x"},
)


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _parent(obj: Any, path: Path) -> Any:
    for part in path[:-1]:
        obj = obj[part]
    return obj


def _mutants(obj: dict[str, Any], rng: random.Random, per_object: int) -> list[dict[str, Any]]:
    """Objects broken (or not: some replacements are valid) at one place each: a value replaced
    by another JSON type, a key removed, an unknown key added, a list emptied."""
    paths = [p for p in _paths(obj) if len(p) > 1 or (p and p[0] not in ("apiVersion", "kind"))]
    out: list[dict[str, Any]] = []
    for path in rng.sample(paths, min(per_object, len(paths))):
        for mutation in rng.sample(range(len(_REPLACEMENTS) + 2), 3):
            mutant = copy.deepcopy(obj)
            parent = _parent(mutant, path)
            current = parent[path[-1]]
            if mutation == len(_REPLACEMENTS):
                if isinstance(current, dict):
                    current["unknownField"] = "x"
                elif isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    continue
            elif mutation == len(_REPLACEMENTS) + 1:
                if isinstance(parent, dict):
                    del parent[path[-1]]
                elif isinstance(current, (dict, list)):
                    current.clear()
                else:
                    continue
            else:
                parent[path[-1]] = copy.deepcopy(_REPLACEMENTS[mutation])
            out.append(mutant)
    return out


@pytest.fixture(scope="module")
def corpus(cluster_preview: Callable[[str], PreviewResult]) -> list[dict[str, Any]]:
    """The staging cluster's rendered objects and the kube_schema tests' valid objects, each
    also broken in many ways (seeded)."""
    valid = [m.body for m in cluster_preview("staging").manifests]
    valid += list(_valid_objects().values())
    rng = random.Random(20261203)
    broken = [m for obj in valid for m in _mutants(obj, rng, per_object=12)]
    return valid + broken


@pytest.fixture(scope="module")
def v131() -> KubeSchemaValidator:
    return KubeSchemaValidator.for_version("1.31")


def test_same_verdict_errors_and_paths_as_jsonschema(
    corpus: list[dict[str, Any]], v131: KubeSchemaValidator
) -> None:
    checked = valid = invalid = 0
    for obj in corpus:
        name = v131.definition_of(obj["apiVersion"], obj["kind"])
        if name is None:
            continue
        expected = v131.validate_with_jsonschema(obj)
        assert v131.is_valid_fast(name, obj) == (expected == []), (obj, expected)
        assert v131.validate(obj) == expected
        checked += 1
        valid += expected == []
        invalid += expected != []
    # The corpus exercises both verdicts in quantity (a mutation may also leave it valid).
    assert checked >= 1000 and valid >= 100 and invalid >= 500, (checked, valid, invalid)


def test_every_definition_compiles() -> None:
    """No kind falls back to jsonschema alone: the compiler covers the schemas' vocabulary (the
    default version and the newest bundled one)."""
    for version in ("1.31", KubeSchemaValidator.supported_versions()[-1]):
        validator = KubeSchemaValidator.for_version(version)
        for name in sorted(set(validator._kinds.values())):
            validator._compiled.check_for(name)


def _check(schema: dict[str, Any], **defs: Any) -> Callable[[Any], bool]:
    return CompiledDefinitions("urn:t", {"root": schema, **defs}).check_for("root")


@pytest.mark.parametrize(
    ("type_", "value", "ok"),
    [
        ("integer", True, False),  # booleans are not integers (jsonschema's rule)
        ("integer", 3, True),
        ("integer", 3.0, True),  # Draft 6 on: an integral float is an integer
        ("integer", 3.5, False),
        ("integer", float("inf"), False),
        ("number", 3, True),
        ("number", False, False),
        ("array", (1,), False),  # only list is an array
        ("object", [], False),
        (["string", "null"], None, True),
        ("boolean", 0, False),
    ],
)
def test_types_as_jsonschema_reads_them(type_: Any, value: Any, ok: bool) -> None:
    import jsonschema

    schema = {"type": type_}
    assert _check(schema)(value) is ok
    assert jsonschema.Draft202012Validator(schema).is_valid(value) is ok


def test_enum_does_not_take_true_for_one() -> None:
    assert _check({"enum": [1, "a"]})(True) is False
    assert _check({"enum": [1, "a"]})(1) is True
    assert _check({"enum": ["a"]})("b") is False


def test_recursive_references_compile_once_and_check_deeply() -> None:
    node = {
        "type": "object",
        "properties": {"child": {"$ref": "#/$defs/node"}, "v": {"type": "integer"}},
        "additionalProperties": False,
    }
    check = CompiledDefinitions("urn:t", {"node": node}).check_for("node")
    assert check({"child": {"child": {"v": 1}}})
    assert not check({"child": {"child": {"v": "1"}}})
    assert not check({"child": {"extra": 1}})


def test_unknown_keywords_and_references_are_refused_not_ignored() -> None:
    with pytest.raises(UnsupportedSchemaError, match="pattern"):
        _check({"type": "string", "pattern": "^a"})
    with pytest.raises(UnsupportedSchemaError, match=r"other\.json"):
        _check({"$ref": "other.json#/x"})
    with pytest.raises(UnsupportedSchemaError, match="missing"):
        _check({"$ref": "#/$defs/missing"})


def test_one_of_null_only_when_every_alternative_accepts_it() -> None:
    int_or_string = {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]}
    check = _check(int_or_string)
    assert check(None) and check("a") and check(1)
    assert not check(1.5)
    assert not _check({"oneOf": [{"type": ["string", "null"]}, {"type": "integer"}]})(True)

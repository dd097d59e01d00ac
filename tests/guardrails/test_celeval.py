"""The offline CEL evaluator follows the API server where cel-python 0.5 does not: the strings
extension's ``substring``, heterogeneous equality, ordered variables whose errors are values,
and ``namespaceObject`` for a Namespace. A policy the tests pass must decide the same on a
cluster, so these are pinned here with the results cel-go gives."""

from __future__ import annotations

from typing import Any

import pytest
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

from .celeval import Request, admit, evaluate_cel

ACTIVATION = {"m": json_to_cel({"a": {"b": 1}}), "n": json_to_cel(None)}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'tacocat'.substring(4)", "cat"),
        ("'tacocat'.substring(0, 4)", "taco"),
        ("'tacocat'.substring(7)", ""),
        ("'dev-ünï'.substring(4)", "ünï"),  # code points, not bytes
        ("m != null", True),
        ("m == null", False),
        ("n == null", True),
        ("n != null", False),
        ("1 != null", True),
        ("'x' == 1", False),
        ("1 == 1.0", True),
        ("2u == 2", True),
        ("1 == 1.5", False),
        ("[1, 2] != [1, 2]", False),
        ("true == 1", False),
    ],
)
def test_values(expression: str, expected: Any) -> None:
    got = evaluate_cel(expression, ACTIVATION)
    assert not isinstance(got, CELEvalError), got
    assert got == expected and type(got).__name__ in ("StringType", "BoolType")


@pytest.mark.parametrize(
    "expression",
    ["'tacocat'.substring(-1)", "'tacocat'.substring(8)", "'tacocat'.substring(2, 1)"],
)
def test_substring_errors(expression: str) -> None:
    try:
        got = evaluate_cel(expression, ACTIVATION)
    except CELEvalError:
        return
    assert isinstance(got, CELEvalError), got


def _policy(variables: list[tuple[str, str]], validations: list[str]) -> dict[str, Any]:
    return {
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["configmaps", "namespaces"],
                        "operations": ["CREATE", "UPDATE", "DELETE"],
                    }
                ]
            },
            "variables": [{"name": n, "expression": e} for n, e in variables],
            "validations": [{"expression": e, "messageExpression": f"'{e}'"} for e in validations],
        }
    }


CONFIGMAP = Request(
    "",
    "v1",
    "configmaps",
    "ConfigMap",
    namespace="news",
    object={"metadata": {"name": "c"}},
    namespace_labels={"team": "news"},
)


def test_variables_see_earlier_ones_and_carry_their_errors() -> None:
    policy = _policy(
        [
            ("name", "object.metadata.name"),
            ("upper", "variables.name + '!'"),
            ("broken", "object.metadata.missing == 'x'"),
        ],
        [
            "variables.upper == 'c!'",
            "true || variables.broken",  # never reads the error: CEL's || absorbs it
            "variables.broken",
        ],
    )
    decision = admit(policy, CONFIGMAP)
    assert len(decision.messages) == 1
    assert decision.messages[0].startswith("expression error: ")
    assert "missing" in decision.messages[0]


def test_namespace_object() -> None:
    policy = _policy(
        [],
        [
            "namespaceObject.metadata.labels['team'] == 'news'",
            "namespaceObject.metadata.labels['kubernetes.io/metadata.name'] == 'news'",
        ],
    )
    assert admit(policy, CONFIGMAP).allowed
    # a Namespace's own request: namespaceObject is null, as for any cluster-scoped object
    update = Request(
        "",
        "v1",
        "namespaces",
        "Namespace",
        operation="UPDATE",
        namespace="news",
        name="news",
        object={"metadata": {"name": "news"}},
    )
    assert admit(_policy([], ["namespaceObject == null"]), update).allowed


def test_a_namespace_is_selected_by_its_own_labels() -> None:
    policy = _policy([], ["false"])
    policy["spec"]["matchConstraints"]["namespaceSelector"] = {
        "matchExpressions": [{"key": "dev", "operator": "Exists"}]
    }

    def namespace(operation: str, labels: dict[str, str]) -> Request:
        obj = {"metadata": {"name": "dev-a", "labels": labels}}
        return Request(
            "",
            "v1",
            "namespaces",
            "Namespace",
            operation=operation,
            namespace="" if operation == "CREATE" else "dev-a",
            object=None if operation == "DELETE" else obj,
            old_object=obj if operation == "DELETE" else None,
        )

    assert admit(policy, namespace("CREATE", {"dev": "a"})).matched
    assert not admit(policy, namespace("CREATE", {})).matched
    assert admit(policy, namespace("DELETE", {"dev": "a"})).matched
    assert not admit(policy, namespace("DELETE", {})).matched

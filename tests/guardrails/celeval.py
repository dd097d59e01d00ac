"""An offline ValidatingAdmissionPolicy evaluator (tests only), with ``cel-python``.

It does what the API server does with a policy and its binding for one request: match the
resource rules and operations, skip namespaces the namespace selector excludes, evaluate the
match conditions, then the variables (``variables.<name>``) and every validation; a validation
that is false denies with its message expression, and a CEL error denies too
(``failurePolicy: Fail``). Kubernetes adds string functions to CEL; the one our policies use,
``<list>.join(<separator>)``, is added here as the API server defines it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError


def _join(items: Any, separator: Any = "") -> celtypes.StringType:
    return celtypes.StringType(str(separator).join(str(i) for i in items))


FUNCTIONS: Any = {"join": _join}
_ENV = celpy.Environment()
_CACHE: dict[str, Any] = {}


def _program(expression: str) -> Any:
    if expression not in _CACHE:
        _CACHE[expression] = _ENV.program(_ENV.compile(expression), functions=FUNCTIONS)
    return _CACHE[expression]


def evaluate_cel(expression: str, activation: dict[str, Any]) -> Any:
    return _program(expression).evaluate(activation)


@dataclass(frozen=True)
class Request:
    """An admission request, as a policy sees it."""

    group: str
    version: str
    resource: str
    kind: str
    operation: str = "CREATE"
    namespace: str = ""
    name: str = ""
    object: dict[str, Any] | None = None
    username: str = "alice"
    groups: tuple[str, ...] = ("system:authenticated",)
    old_object: dict[str, Any] | None = None
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def as_cel(self) -> dict[str, Any]:
        return {
            "kind": {"group": self.group, "version": self.version, "kind": self.kind},
            "resource": {"group": self.group, "version": self.version, "resource": self.resource},
            "operation": self.operation,
            "namespace": self.namespace,
            "name": self.name,
            "userInfo": {"username": self.username, "groups": list(self.groups)},
        }


@dataclass
class Decision:
    matched: bool
    allowed: bool
    messages: list[str]


def _matches(spec: dict[str, Any], req: Request) -> bool:
    constraints = spec["matchConstraints"]
    hit = False
    for rule in constraints["resourceRules"]:
        groups, versions, plurals = rule["apiGroups"], rule["apiVersions"], rule["resources"]
        if (
            ("*" in groups or req.group in groups)
            and ("*" in versions or req.version in versions)
            and ("*" in plurals or req.resource in plurals)
            and req.operation in rule["operations"]
        ):
            scope = rule.get("scope", "*")
            if scope == "*" or (scope == "Namespaced") == bool(req.namespace):
                hit = True
    if not hit:
        return False
    selector = constraints.get("namespaceSelector")
    if selector and req.namespace:
        labels = {"kubernetes.io/metadata.name": req.namespace, **req.namespace_labels}
        for expr in selector.get("matchExpressions", []):
            value = labels.get(expr["key"])
            if expr["operator"] == "NotIn" and value in expr["values"]:
                return False
            if expr["operator"] == "In" and value not in expr["values"]:
                return False
    return True


def admit(policy: dict[str, Any], req: Request) -> Decision:
    """The decision of one ValidatingAdmissionPolicy manifest on one request."""
    spec = policy["spec"]
    if not _matches(spec, req):
        return Decision(False, True, [])
    activation: dict[str, Any] = {
        "object": json_to_cel(req.object),
        "oldObject": json_to_cel(req.old_object),
        "request": json_to_cel(req.as_cel()),
    }
    for condition in spec.get("matchConditions", []):
        if not bool(evaluate_cel(condition["expression"], activation)):
            return Decision(False, True, [])
    variables: dict[Any, Any] = {}
    for var in spec.get("variables", []):
        activation["variables"] = celtypes.MapType(variables)
        # Evaluated lazily by the API server: an error only matters if a validation reads it.
        with contextlib.suppress(CELEvalError):
            variables[celtypes.StringType(var["name"])] = evaluate_cel(
                var["expression"], activation
            )
    activation["variables"] = celtypes.MapType(variables)
    messages = []
    for v in spec["validations"]:
        try:
            ok = evaluate_cel(v["expression"], activation)
        except CELEvalError as exc:
            messages.append(f"expression error: {exc.args[0]}")
            continue
        if isinstance(ok, CELEvalError):
            messages.append(f"expression error: {ok.args[0]}")
        elif not bool(ok):
            messages.append(str(evaluate_cel(v["messageExpression"], activation)))
    return Decision(True, not messages, messages)

"""An offline ValidatingAdmissionPolicy evaluator (tests only), with ``cel-python``.

It does what the API server does with a policy and its binding for one request: match the
resource rules and operations, skip namespaces the namespace selector excludes, evaluate the
match conditions, then the variables (``variables.<name>``) and every validation; a validation
that is false denies with its message expression, and a CEL error denies too
(``failurePolicy: Fail``). Kubernetes adds string functions to CEL; those our policies use,
``<list>.join(<separator>)`` and ``<string>.substring(<start>[, <end>])`` (the strings
extension: code-point offsets, an error when out of range or reversed), are added here as the
API server defines them, and so is the quantity library's ``quantity(<string>)`` with
``<quantity>.compareTo(<quantity>)`` (the developer namespace policies compare quotas as
quantities). ``namespaceObject`` (the request's namespace; null for cluster-scoped requests and
for a Namespace itself) and ``params`` (a policy's parameter object) are bound as the API server
binds them.

Where cel-python 0.5 departs from the CEL the API server runs (cel-go), the API server wins:

* equality is heterogeneous: ``x == null`` / ``x != null`` hold or fail for any ``x``, values of
  different types are unequal and numbers compare by value (cel-python raises on ``{} != null``);
* ``variables`` are evaluated in order, each seeing only those declared before it, and a
  variable whose expression fails carries its error as its value: it denies only a validation
  that reads it (the API server evaluates them lazily; CEL has no side effects, so evaluating
  in order with the error kept is the same decision).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError


def _join(items: Any, separator: Any = "") -> celtypes.StringType:
    return celtypes.StringType(str(separator).join(str(i) for i in items))


def _substring(text: Any, start: Any, end: Any = None) -> celtypes.StringType:
    s = str(text)
    stop = len(s) if end is None else int(end)
    if end is not None and int(start) > stop:
        raise ValueError(f"invalid substring range. start: {start}, end: {stop}")
    for index in (int(start), stop):
        if not 0 <= index <= len(s):
            raise ValueError(f"index out of range: {index}")
    return celtypes.StringType(s[int(start) : stop])


_NUMBERS = (celtypes.IntType, celtypes.UintType, celtypes.DoubleType)


def _equal(a: Any, b: Any) -> Any:
    if isinstance(a, CELEvalError):
        return a
    if isinstance(b, CELEvalError):
        return b
    if a is None or b is None:
        return celtypes.BoolType(a is None and b is None)
    if isinstance(a, celtypes.BoolType) != isinstance(b, celtypes.BoolType):
        return celtypes.BoolType(False)  # a bool is no number (Python's bool is an int)
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        # exact, as cel-go compares int, uint and double
        return celtypes.BoolType(Decimal(a) == Decimal(b))
    try:
        return celtypes.BoolType(bool(a == b))
    except TypeError:
        return celtypes.BoolType(False)


def _not_equal(a: Any, b: Any) -> Any:
    same = _equal(a, b)
    return same if isinstance(same, CELEvalError) else celtypes.BoolType(not same)


_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)")


def _quantity(text: Any) -> celtypes.StringType:
    m = _QUANTITY.fullmatch(str(text))
    if m is None:
        raise ValueError(f"not a quantity: {text!r}")
    return celtypes.StringType(str(Decimal(m[1]) * _SUFFIXES[m[2]]))


def _compare_to(a: Any, b: Any) -> celtypes.IntType:
    x, y = Decimal(str(a)), Decimal(str(b))
    return celtypes.IntType((x > y) - (x < y))


FUNCTIONS: Any = {
    "join": _join,
    "substring": _substring,
    "quantity": _quantity,
    "compareTo": _compare_to,
    "_==_": _equal,
    "_!=_": _not_equal,
}
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
    params: dict[str, Any] | None = None
    """The policy's parameter object (``params``), when its binding found one."""

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


def _is_namespace(req: Request) -> bool:
    return req.group == "" and req.resource == "namespaces"


def _selected_labels(req: Request) -> dict[str, str]:
    """The labels a namespace selector sees: a Namespace being created or changed is matched
    on its own new labels, a deleted one on its stored labels, anything else on its namespace's
    (the API server defaults ``kubernetes.io/metadata.name`` on every namespace)."""
    if _is_namespace(req):
        obj = req.old_object if req.operation == "DELETE" else req.object
        meta = (obj or {}).get("metadata", {})
        return {"kubernetes.io/metadata.name": meta.get("name", ""), **meta.get("labels", {})}
    return {"kubernetes.io/metadata.name": req.namespace, **req.namespace_labels}


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
    if selector and (req.namespace or _is_namespace(req)):
        labels = _selected_labels(req)
        for expr in selector.get("matchExpressions", []):
            value = labels.get(expr["key"])
            if expr["operator"] == "NotIn" and value in expr["values"]:
                return False
            if expr["operator"] == "In" and value not in expr["values"]:
                return False
            if expr["operator"] == "Exists" and expr["key"] not in labels:
                return False
            if expr["operator"] == "DoesNotExist" and expr["key"] in labels:
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
        # Null for cluster-scoped requests, and for a Namespace itself (whose request namespace
        # the API server sets to its own name).
        "namespaceObject": json_to_cel(
            {"metadata": {"name": req.namespace, "labels": _selected_labels(req)}}
            if req.namespace and req.kind != "Namespace"
            else None
        ),
        "params": json_to_cel(req.params),
    }
    for condition in spec.get("matchConditions", []):
        if not bool(evaluate_cel(condition["expression"], activation)):
            return Decision(False, True, [])
    variables: dict[Any, Any] = {}
    for var in spec.get("variables", []):
        # Each variable sees those declared before it; an error is its value, so it denies
        # only a validation that reads it (the API server evaluates variables lazily).
        activation["variables"] = celtypes.MapType(variables)
        try:
            value = evaluate_cel(var["expression"], activation)
        except CELEvalError as exc:
            value = exc
        variables[celtypes.StringType(var["name"])] = value
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

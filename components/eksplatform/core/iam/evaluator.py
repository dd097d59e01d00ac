"""An offline IAM evaluator: does a role with these identity policies and this permissions
boundary get to make this request?

Design decision: no maintained Python package evaluates identity policies together with a
permissions boundary against a request context (conditions, policy variables, tags) offline;
the ones on PyPI either call AWS's policy simulator (credentials, network) or compute effective
permissions without conditions. So this is a small evaluator of our own, written from AWS's
documented evaluation logic and tested against it (``tests/iam/test_evaluator.py``):

1. An explicit ``Deny`` in any policy that applies (identity or boundary) wins.
2. Otherwise the request is allowed only if an identity policy allows it AND the boundary
   allows it (a boundary never grants: it only caps).
3. Otherwise it is implicitly denied.

A statement applies when its ``Action`` (or ``NotAction``), ``Resource`` (or ``NotResource``)
and every condition match. Supported: ``*``/``?`` wildcards in actions (any case) and ARNs
(component by component), every condition operator of :mod:`.conditions` with ``IfExists`` and
the ``ForAnyValue``/``ForAllValues`` qualifiers, ``Null``, policy variables (``${aws:
PrincipalTag/team}``, ``${*}``, ``${?}``, ``${$}``) in ``Resource`` and condition values. A
variable whose key is absent from the request makes its statement not apply (AWS: "this might
cause the entire statement to be invalid"): an ``Allow`` then grants nothing, a ``Deny`` denies
nothing, so a policy must never rely on a ``Deny`` whose variables may be missing.

Cost: resource-based policies, session policies, SCPs and RCPs are out of scope (the platform
uses none for service roles), and the request context is whatever the caller builds: use
:func:`request` to build a realistic one (it adds ``aws:ResourceTag/*`` only when the action
documents tag conditions for that resource type).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .actions import catalog
from .arn import arn_like, glob_match, parse_arn
from .conditions import Operator, parse_operator

Decision = Literal["allow", "explicit-deny", "implicit-deny"]

ContextValue = str | bool | int | Sequence[str]


@dataclass(frozen=True)
class Request:
    """One API request: the action, the resource ARN (``*`` when the action takes none) and the
    request context (condition keys, any case)."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def values(self, key: str) -> list[str] | None:
        """The context values of ``key`` as strings, None when absent."""
        lowered = key.lower()
        for k, v in self.context.items():
            if k.lower() == lowered:
                if isinstance(v, bool):
                    return ["true" if v else "false"]
                if isinstance(v, str | int):
                    return [str(v)]
                return [str(x) for x in v]
        return None


@dataclass(frozen=True)
class Result:
    decision: Decision
    deciding: tuple[str, ...] = ()
    """Where the decision came from: ``"boundary:NoNodeAccess"``, ``"identity[0]:#1"``..."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


class _UnresolvedError(Exception):
    """A policy variable names a key absent from the request."""


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _substitute(text: str, req: Request) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("*", "?", "$"):
            return "\0" + name if name != "$" else "$"
        values = req.values(name)
        if not values or len(values) != 1:
            raise _UnresolvedError(name)
        return values[0].replace("*", "\0*").replace("?", "\0?")

    return _VARIABLE.sub(one, text)


def _pattern(text: str, req: Request) -> str:
    """Substitute variables; literal ``*``/``?`` (from ``${*}`` or a value) are marked with NUL
    and matched as themselves."""
    return _substitute(text, req) if "${" in text else text


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if "\0" not in pattern:
        return glob_match(pattern, value, ignore_case=ignore_case)
    body = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\0":
            body += re.escape(pattern[i + 1])
            i += 2
            continue
        body += ".*" if c == "*" else "." if c == "?" else re.escape(c)
        i += 1
    return re.fullmatch(body, value, (re.IGNORECASE if ignore_case else 0) | re.DOTALL) is not None


def _literal(pattern: str) -> str:
    return pattern.replace("\0", "")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _matches_action(patterns: Iterable[str], action: str) -> bool:
    return any(glob_match(p, action, ignore_case=True) for p in patterns)


def _matches_resource(patterns: Iterable[str], resource: str, req: Request) -> bool:
    for p in patterns:
        pat = _pattern(p, req)
        if pat == "*" or (_literal(pat) == pat and arn_like(pat, resource)):
            return True
        if "\0" in pat and _arn_like_marked(pat, resource):
            return True
    return False


def _arn_like_marked(pattern: str, value: str) -> bool:
    p, v = pattern.split(":", 5), value.split(":", 5)
    return len(p) == len(v) == 6 and all(_glob(a, b) for a, b in zip(p, v, strict=True))


def _compare_one(base: str, policy_value: str, value: str) -> bool:
    """One request value against one policy value for a non-negated base operator."""
    if base in ("StringEquals", "StringNotEquals"):
        return _literal(policy_value) == value
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return _literal(policy_value).lower() == value.lower()
    if base in ("StringLike", "StringNotLike"):
        return _glob(policy_value, value)
    if base in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        return (
            _arn_like_marked(policy_value, value)
            if "\0" in policy_value
            else (arn_like(policy_value, value))
        )
    if base == "Bool":
        return policy_value.lower() == value.lower()
    if base == "BinaryEquals":
        return policy_value == value
    if base.startswith("Numeric"):
        return _ordered(base.removeprefix("Numeric"), float(value), float(policy_value))
    if base.startswith("Date"):
        return _ordered(base.removeprefix("Date"), _date(value), _date(policy_value))
    if base in ("IpAddress", "NotIpAddress"):
        return ipaddress.ip_address(value) in ipaddress.ip_network(policy_value, strict=False)
    raise ValueError(f"unsupported condition operator {base}")


def _ordered(relation: str, a: float, b: float) -> bool:
    if relation in ("Equals", "NotEquals"):  # negation applied by the caller
        return a == b
    if relation == "LessThan":
        return a < b
    if relation == "LessThanEquals":
        return a <= b
    if relation == "GreaterThan":
        return a > b
    if relation == "GreaterThanEquals":
        return a >= b
    raise ValueError(f"unsupported comparison {relation}")


def _date(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _condition(op: Operator, key: str, policy_values: list[Any], req: Request) -> bool:
    values = req.values(key)
    if op.base == "Null":
        want_absent = str(policy_values[0]).lower() == "true"
        return (values is None) == want_absent
    pvals = [
        _pattern(str(v).lower() if isinstance(v, bool) else str(v), req) for v in policy_values
    ]
    if values is None:
        if op.if_exists:
            return True
        if op.qualifier == "ForAllValues":
            return True  # vacuously: no value fails
        if op.qualifier == "ForAnyValue":
            return False
        return op.negated  # "the right key is not present, the condition is true"

    def hit(value: str) -> bool:
        return any(_compare_one(op.base, p, value) for p in pvals)

    if op.qualifier == "ForAllValues":
        return all((not hit(v)) if op.negated else hit(v) for v in values)
    if op.qualifier == "ForAnyValue":
        return any((not hit(v)) if op.negated else hit(v) for v in values)
    # single-valued key (a multi-valued one without a qualifier: any value decides)
    return (not any(hit(v) for v in values)) if op.negated else any(hit(v) for v in values)


def statement_applies(statement: Mapping[str, Any], req: Request) -> bool:
    """Whether one policy statement matches the request (its effect aside)."""
    try:
        if "Action" in statement:
            if not _matches_action(_as_list(statement["Action"]), req.action):
                return False
        elif "NotAction" in statement:
            if _matches_action(_as_list(statement["NotAction"]), req.action):
                return False
        else:
            return False
        if "Resource" in statement:
            if not _matches_resource(_as_list(statement["Resource"]), req.resource, req):
                return False
        elif "NotResource" in statement:
            if _matches_resource(_as_list(statement["NotResource"]), req.resource, req):
                return False
        else:
            return False
        for op_text, block in (statement.get("Condition") or {}).items():
            op = parse_operator(op_text)
            if op is None:
                raise ValueError(f"unknown condition operator {op_text!r}")
            for key, values in block.items():
                if not _condition(op, key, _as_list(values), req):
                    return False
    except _UnresolvedError:
        return False
    return True


def _statements(policy: Mapping[str, Any] | str) -> list[Mapping[str, Any]]:
    doc = json.loads(policy) if isinstance(policy, str) else policy
    return list(_as_list(doc.get("Statement", [])))


def _label(where: str, i: int, st: Mapping[str, Any]) -> str:
    return f"{where}:{st.get('Sid') or f'#{i}'}"


def evaluate(
    req: Request,
    *,
    identity: Sequence[Mapping[str, Any] | str],
    boundary: Mapping[str, Any] | str | None = None,
) -> Result:
    """The decision for ``req`` by a principal with the ``identity`` policies and ``boundary``."""
    policies = [(f"identity[{n}]", _statements(p)) for n, p in enumerate(identity)]
    bound = ("boundary", _statements(boundary)) if boundary is not None else None
    denies = [
        _label(where, i, st)
        for where, sts in [*policies, *([bound] if bound else [])]
        for i, st in enumerate(sts)
        if st.get("Effect") == "Deny" and statement_applies(st, req)
    ]
    if denies:
        return Result("explicit-deny", tuple(denies))
    allows = [
        _label(where, i, st)
        for where, sts in policies
        for i, st in enumerate(sts)
        if st.get("Effect") == "Allow" and statement_applies(st, req)
    ]
    if not allows:
        return Result("implicit-deny", ("no identity policy allows it",))
    if bound is not None:
        capped = [
            _label("boundary", i, st)
            for i, st in enumerate(bound[1])
            if st.get("Effect") == "Allow" and statement_applies(st, req)
        ]
        if not capped:
            return Result("implicit-deny", ("the boundary allows none of it",))
        allows += capped
    return Result("allow", tuple(allows))


def request(
    action: str,
    resource: str,
    *,
    principal_tags: Mapping[str, str] | None = None,
    resource_tags: Mapping[str, str] | None = None,
    request_tags: Mapping[str, str] | None = None,
    extra: Mapping[str, ContextValue] | None = None,
) -> Request:
    """A request with the context AWS would send: the resource's account
    (``aws:ResourceAccount``) and region (``aws:RequestedRegion``) from its ARN, principal tags
    always, ``aws:ResourceTag/*`` only when the action documents tag conditions for that
    resource type, request tags with ``aws:TagKeys``; ``extra`` adds or overrides keys."""
    context: dict[str, ContextValue] = {}
    where = parse_arn(resource)
    if where is not None and where.account:
        context["aws:ResourceAccount"] = where.account
    if where is not None and where.region:
        context["aws:RequestedRegion"] = where.region
    for k, v in (principal_tags or {}).items():
        context[f"aws:PrincipalTag/{k}"] = v
    if resource_tags and _supports_resource_tags(action, resource):
        for k, v in resource_tags.items():
            context[f"aws:ResourceTag/{k}"] = v
    if request_tags:
        for k, v in request_tags.items():
            context[f"aws:RequestTag/{k}"] = v
        context["aws:TagKeys"] = list(request_tags)
    context.update(extra or {})
    return Request(action=action, resource=resource, context=context)


def _supports_resource_tags(action: str, resource: str) -> bool:
    info = catalog().action(action)
    if info is None:
        return True  # unknown to the data: assume the service supports tags
    tag_key = "aws:resourcetag/${tagkey}"
    if any(k.lower() == tag_key for k in info.condition_keys):
        return True
    for rtype in catalog().resource_types_of_arn(resource)[:1]:
        if rtype.name.lower() in {t.lower() for t in info.resource_types} and any(
            k.lower() == tag_key for k in rtype.condition_keys
        ):
            return True
    return False

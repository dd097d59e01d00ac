"""Checks on the IAM statements a service team gives its role (``ServiceStackArgs.iam_statements``).

Run by :func:`eksplatform.service.validate.plan_service` before anything is registered; the
cluster's permissions boundary caps whatever passes here.
"""

from __future__ import annotations

import re

from ..core.errors import Problems
from .args import IamStatement

_IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
_READ_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Query", "Scan")
_FORBIDDEN_SERVICES = ("organizations", "account", "sts")


def _is_read_action(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return verb.startswith(_READ_PREFIXES) and "*" not in verb.removesuffix("*")


def check_statement(problems: Problems, p: str, st: IamStatement) -> None:
    """Add a problem for each thing wrong with one statement of the service role's policy
    (``p`` is its field path, e.g. ``iam_statements[0]``)."""
    if st.effect not in ("Allow", "Deny"):
        problems.add(f"{p}.effect", st.effect, "must be 'Allow' or 'Deny'")
    actions = st.actions
    if isinstance(actions, str) or not actions:
        problems.add(f"{p}.actions", actions, "must be a non-empty list of IAM actions")
        actions = ()
    all_read = True
    for j, action in enumerate(actions):
        q = f"{p}.actions[{j}]"
        if not isinstance(action, str) or action == "*" or not _IAM_ACTION.match(action):
            problems.add(
                q, action, "must be one IAM action 'service:Action' (no '*' for every service)"
            )
            all_read = False
            continue
        service, verb = action.split(":", 1)
        if verb == "*":
            problems.add(
                q,
                action,
                f"grants every {service} action: list the actions the service calls",
            )
            all_read = False
        elif st.effect == "Allow" and (
            service in _FORBIDDEN_SERVICES or (service == "iam" and not _is_read_action(action))
        ):
            problems.add(
                q,
                action,
                "service roles may not change IAM, STS, accounts or organizations "
                "(the permissions boundary denies it anyway): ask the platform team",
            )
            all_read = False
        elif not _is_read_action(action):
            all_read = False
    resources = st.resources
    if isinstance(resources, str) or not resources:
        problems.add(f"{p}.resources", resources, "must be a non-empty list of ARNs")
        return
    for j, res in enumerate(resources):
        if isinstance(res, str):
            if res == "*" and st.effect == "Allow" and not all_read:
                problems.add(
                    f"{p}.resources[{j}]",
                    res,
                    "'*' is only allowed with read-only actions (Get/List/Describe): "
                    "name the ARNs the writes touch",
                )
            elif res != "*" and not res.startswith("arn:"):
                problems.add(f"{p}.resources[{j}]", res, "must be an ARN ('arn:...') or '*'")

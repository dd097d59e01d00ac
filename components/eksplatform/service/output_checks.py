"""The ServiceStack arguments that may be Outputs besides ``env``, judged before anything is
registered: the resources and condition values of ``iam_statements`` (a table's ARN from a
resource the program declares) and the name of ``monitors.queue``.

Their values exist only once the Outputs resolve, so :func:`resolved_problems` runs in
ServiceStack's gate (:mod:`.stack`), which the component and every child wait on: a value that
resolves to another account, to a resource the IAM ceiling forbids or to an invalid queue name
fails the run with the same ValidationError, field and message as the plain value would have,
and nothing is registered. The same functions judge both:
:func:`~eksplatform.service.iam_checks.check_statement` on the statement with its values
resolved (ARN format, specificity, platform and other teams' resources, actions matched with
resources, conditions), :func:`~eksplatform.service.iam_checks.check_resolved_statement` for the
cluster's account and region, and :func:`~eksplatform.service.monitors.queue_name_problem`.

The account and region of a *plain* ARN need the contract: :func:`placement_problems` checks
them with the other arguments before registration whenever the contract is known then (the
offline preview, a contract file); under ``pulumi up`` the gate checks them.

Unknown values (``pulumi preview`` of a resource not yet created) are not judged: a statement
with any unknown value, or an unknown queue name, is judged once it resolves, at ``pulumi up``
(the rule of ``env`` Outputs).

Design decision and its cost: the checks moved out of the role policy's and the monitors'
``apply`` (where they ran after the component, the role and the provider had registered) into
the gate, so the component waits for these Outputs before it registers. Under ``pulumi up`` a
resource whose ARN is in ``iam_statements`` or whose name is the queue's is created before the
ServiceStack's first child (before, it was created before the role policy only). An Output that
itself waits for the ServiceStack's own outputs would never resolve; ``env`` Outputs have the
same rule, and Python's order of declaration makes such a cycle hard to write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from ..core.errors import Problem, Problems
from .args import IamStatement, Monitors, ServiceStackArgs
from .contract_checks import ContractView
from .iam_checks import Owner, check_resolved_statement, check_statement
from .monitors import queue_name_problem

QUEUE_FIELD = "monitors.queue.name"


def _has_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(_has_output(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_output(v) for v in value)
    return False


def output_arguments(args: ServiceStackArgs) -> bool:
    """Whether a resource or condition value of ``iam_statements``, or the queue monitor's
    name, is an Output (``args`` as checked: every statement is an IamStatement)."""
    if any(_has_output(st.resources) or _has_output(st.conditions) for st in args.iam_statements):
        return True
    queue = args.monitors.queue if isinstance(args.monitors, Monitors) else None
    return queue is not None and isinstance(queue.name, pulumi.Output)


def owner_from_contract(team: Any, view: ContractView) -> Owner:
    """Whose statements these are, from the contract as far as it is known: the team, the
    cluster's other teams and the environment; ``plan_service`` judges plain statements for the
    same owner before registration."""
    own = team if isinstance(team, str) else ""
    teams = view.team_namespaces or {}
    return Owner(
        team=own,
        other_teams=tuple(sorted(t for t in teams if t != own)),
        environment=view.environment or "",
    )


def _judge(
    p: str,
    st: IamStatement,
    *,
    account: str | None,
    region: str | None,
    owner: Owner,
    report_statement: bool,
) -> list[Problem]:
    """Problems of one statement whose values are all plain: :func:`check_statement`'s (when
    ``report_statement``; else they were reported by the plan and only mark fields), then the
    account and region of each ARN on a field not reported already (one problem per field)."""
    found = Problems()
    check_statement(found, p, st, owner)
    problems = list(found) if report_statement else []
    if account is None or region is None:
        return problems
    reported = {x.field for x in found}
    placed = Problems()
    check_resolved_statement(
        placed, p, st, list(st.resources), account=account, region=region, owner=owner
    )
    return problems + [x for x in placed if x.field not in reported]


def _plain(st: Any) -> bool:
    """A statement the plan checks as it stands: every resource a string (an Output or a wrong
    type is left to the gate and the plan)."""
    return (
        isinstance(st, IamStatement)
        and isinstance(st.actions, list | tuple)
        and isinstance(st.resources, list | tuple)
        and all(isinstance(r, str) for r in st.resources)
        and isinstance(st.conditions, Mapping)
    )


def placement_problems(args: ServiceStackArgs, view: ContractView) -> list[Problem]:
    """Before registration: the cluster account and region of the plain ARNs of
    ``iam_statements``, when the contract is known (else none: the gate checks them). The
    other checks of these statements are the plan's."""
    statements = args.iam_statements
    if view.account_id is None or view.region is None:
        return []
    if not isinstance(statements, list | tuple):
        return []
    owner = owner_from_contract(args.team, view)
    problems: list[Problem] = []
    for i, st in enumerate(statements):
        if _plain(st):
            problems += _judge(
                f"iam_statements[{i}]",
                st,
                account=view.account_id,
                region=view.region,
                owner=owner,
                report_statement=False,
            )
    return problems


async def _known(value: Any) -> tuple[bool, Any]:
    """Whether ``value`` (deeply unwrapped) is known, and its value."""
    out = pulumi.Output.all(value)
    # An apply that did not run (its input unknown) is "not known" with a plain None inside:
    # future() alone would call it a known None.
    if not await out.is_known():
        return False, None
    resolved = await out.future()
    if resolved is None:
        return False, None
    return True, resolved[0]


async def resolved_problems(
    args: ServiceStackArgs, *, team: str, view: ContractView
) -> list[Problem]:
    """In the gate: the queue monitor's name and every statement of ``iam_statements`` whose
    values are all known, judged as plain values with the contract as resolved (``view``).
    Statements and names with an unknown value are skipped (judged at ``pulumi up``)."""
    problems: list[Problem] = []
    queue = args.monitors.queue if isinstance(args.monitors, Monitors) else None
    if queue is not None and isinstance(queue.name, pulumi.Output):
        known, name = await _known(queue.name)
        if known:
            problems += _queue_problems(name)
    owner = owner_from_contract(team, view)
    for i, st in enumerate(args.iam_statements):
        conditions = {k: dict(v) for k, v in st.conditions.items()}
        known, values = await _known([list(st.resources), conditions])
        if not known:
            continue
        resources, resolved_conditions = values
        problems += _judge(
            f"iam_statements[{i}]",
            dataclasses.replace(st, resources=resources, conditions=resolved_conditions),
            account=view.account_id,
            region=view.region,
            owner=owner,
            report_statement=True,
        )
    return problems


def _queue_problems(name: Any) -> Sequence[Problem]:
    if not isinstance(name, str):
        return [Problem(QUEUE_FIELD, name, "must resolve to a string: the SQS queue's name")]
    problem = queue_name_problem(name)
    return [problem] if problem is not None else []

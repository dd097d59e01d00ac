"""Rules of :mod:`.plan` that mirror component checks: what a component would refuse when it is
built, refused first by the config pass.

Every component validates its own arguments in its constructor, a last line of defence for a
program that builds it by hand. In the cluster program that is too late: under ``pulumi up`` the
components built before it have registered their resources (the VPC first), and the offline
preview, which discards them, hides it. An audit of every constructor check against the config
pass found three that a stack file could reach; each is a rule here, calling the component's own
check on the values the cluster program passes it (never a copy of the check), and naming the key
the user wrote:

* the permissions boundary of :class:`~.service_platform.ServicePlatform` past IAM's size limit
  for a managed policy (:func:`~.service_platform.boundary_size_problem`);
* a ``platform:logging`` value fluentd's configuration cannot hold (a line break slips past the
  size fields' parser, which strips it; :func:`~.fluentd.parameter_text_problem`): the
  :class:`~.fluentd.LogShipping` renderer raised on it with a traceback;
* a team namespace that is a platform component's own (``datadog``, ``devenv-system``): only the
  offline preview's manifest check saw the two Namespace objects collide; in the cluster the
  team's objects would land in the platform's namespace.

Design decision: the rules run on the section values as parsed, so a section that failed to
parse is never judged twice (:func:`.plan.rule`). The cost: each rule derives the component's
arguments the way ``cluster/__main__.py`` wires them (cluster name, region, account); a change
of that wiring must be made here too (the strict-monitor cases of ``tests/validation`` fail when
it is not).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ..core.errors import Problem
from . import datadog_names, dev_environments, fluentd, service_platform
from .plan import PlanContext, rule

if TYPE_CHECKING:
    from .config import ClusterConfig


@rule("servicePlatform", "environment", "clusterName", "region", "accountId")
def _boundary_size(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    """ServicePlatform's boundary fits IAM's managed-policy size (its constructor checks it
    again)."""
    problem = service_platform.boundary_size_problem(
        environment=cfg.environment,
        allowed_services=cfg.service_platform.allowed_services,
        region=cfg.region,
        account_id=cfg.account_id,
        cluster_name=cfg.cluster_name,
    )
    if problem is not None:
        yield problem


def _texts(model: BaseModel, key: str) -> Iterator[tuple[str, str]]:
    """(key as written, value) of every text field of a section, nested sections included."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        field_key = f"{key}.{info.alias or name}"
        if isinstance(value, BaseModel):
            yield from _texts(value, field_key)
        elif isinstance(value, str):
            yield field_key, value


@rule("logging")
def _fluentd_parameters(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    """Every text of ``platform:logging`` can be written into fluent.conf (LogShipping's renderer
    refuses the rest)."""
    if not cfg.logging.enabled:
        return
    for key, value in _texts(cfg.logging, "platform:logging"):
        why = fluentd.parameter_text_problem(value)
        if why is not None:
            yield Problem(key, value, why)


PLATFORM_NAMESPACES = {
    datadog_names.NAMESPACE: "the Datadog agents' (platform:datadog)",
    dev_environments.NAMESPACE: "the developer environments' janitor's (platform:devEnvironments)",
}
"""Namespaces platform components create that :data:`.teams.RESERVED_NAMESPACES` does not list,
and whose they are. Reserved whether or not the component is on, like the others: turning it on
later must not collide with a team."""


@rule("teams")
def _platform_namespaces(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    for i, team in enumerate(cfg.teams):
        owner = PLATFORM_NAMESPACES.get(team.namespace)
        if owner is None:
            continue
        if "namespace" in team.model_fields_set:
            yield Problem(
                f"platform:teams[{i}].namespace",
                team.namespace,
                f"is {owner} namespace: the team's quota, policies and pods would land among "
                "the platform's; pick another namespace",
            )
        else:
            yield Problem(
                f"platform:teams[{i}].name",
                team.name,
                f"is {owner} namespace and the namespace defaults to the name; rename the "
                "team or set namespace",
            )

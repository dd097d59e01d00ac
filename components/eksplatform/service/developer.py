"""Developer mode: the same service program, run as a developer's own copy on the staging cluster.

**How a program knows.** A stack named ``dev-<developer>`` is a developer stack (``pulumi stack
init dev-alice``, or ``eksplatform dev render --stack dev-alice``); its stack file names the
staging cluster stack in ``clusterStack`` like the staging stack does, and may set two keys
(read by :func:`~eksplatform.service.config.load_config` with the program's own keys, all
problems at once):

* ``devExpires``: when the janitor deletes the environment: a duration from now (``36h``,
  ``3d``, rounded up to the next whole hour) or an RFC 3339 time. Default: the cluster's
  ``platform:devEnvironments.defaultTtlHours``; at most its ``maxTtlHours`` ahead. Each deploy
  (``pulumi up`` or a Skaffold iteration) renews a duration, so an environment in use stays.
* ``devRun``: the dependencies the developer runs too, in the same namespace; every other
  dependency resolves to the shared staging service in its team namespace.

**What changes** (ServiceStack, :func:`developer_args`): the namespace ``dev-<developer>``
(created by the stack with its ResourceQuota and LimitRange from the cluster's contract, kept
when the stack is destroyed: ``eksplatform dev down`` or the janitor deletes it), one replica, no
HPA, PDB, VPA or pre-scaling, a ClusterIP Service (no node port, no ALB, no alarms), no ECR
repository, no IAM role and no Pod Identity association: the ServiceAccount ``<team>.<service>``
names the staging service role (IRSA), which trusts it. CPU requests are capped at
:data:`DEV_CPU` (CPU is compressible: a smaller share slows one developer's copy, it never
kills it); memory stays as declared (a lower limit would OOM-kill the app); a service that
declares nothing gets :data:`DEV_CPU` / :data:`DEV_MEMORY`. Datadog's ``env`` is the namespace,
so a developer's traffic never mixes into staging's dashboards.

**What is refused** (exact messages, before anything is registered): a developer name that is
not a DNS label, a production cluster, a cluster without developer environments, an expiry in
the past or beyond the cluster's maximum, and a ``devRun`` entry that is not a dependency.

A program's own AWS resources (a table, a queue) are the program's: it asks
:func:`developer_environment` and uses the staging ones in a developer stack (the examples in
``services/`` show how); the offline preview tests that a developer stack registers no AWS
resource at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pulumi

from .. import envoy
from ..core import devenv, kube
from ..core.environments import is_production
from ..core.errors import Problem, Problems, ValidationError
from ..core.pod_identity import partition_of
from .args import Resources, ServiceStackArgs

EXPIRES_KEY = "devExpires"
RUN_KEY = "devRun"
DEV_KEYS = (EXPIRES_KEY, RUN_KEY)
"""Stack config keys (in the project's namespace) only a developer stack reads."""
DEV_CPU = "100m"
"""Most CPU a developer's copy requests (and its default)."""
DEV_MEMORY = "128Mi"
"""Memory request and limit of a developer's copy that declares none."""


@dataclass(frozen=True)
class DeveloperSettings:
    """A developer stack's settings, as read (format problems included)."""

    stack: str
    developer: str
    namespace: str
    now: datetime
    """When the settings were read (expiries count from it)."""
    expires: datetime | None
    """``devExpires`` as given (None: the cluster's default)."""
    expires_raw: str | None
    run: tuple[str, ...]
    """``devRun``: dependencies the developer runs in the same namespace."""
    problems: tuple[Problem, ...]
    """What is wrong with the stack name or the keys' format."""

    def expiry(self, offer: devenv.DevOffer | None) -> datetime:
        """The expiry to stamp: ``devExpires``, else now + the cluster's default TTL."""
        if self.expires is not None:
            return self.expires
        hours = offer.default_ttl_hours if offer is not None else 24
        return devenv.round_up_to_hour(self.now + timedelta(hours=hours))


def _key(short: str) -> str:
    return f"{pulumi.get_project()}:{short}"


def developer_settings() -> DeveloperSettings | None:
    """The developer settings of this stack; None when it is not a developer stack."""
    from .config import _raw, _set_command, _stack_file

    stack = pulumi.get_stack()
    developer = devenv.developer_of_stack(stack)
    if developer is None:
        return None
    problems = Problems()
    why = devenv.developer_problem(developer)
    if why is not None:
        problems.add(
            "stack",
            stack,
            f"the developer name {developer!r} {why}; name the stack dev-<developer> with a "
            "DNS label, such as 'dev-alice' (pulumi stack rename dev-alice)",
        )
    now = devenv.utc_now().replace(microsecond=0)
    expires: datetime | None = None
    raw_expires = _raw(_key(EXPIRES_KEY))
    if raw_expires is not None:
        if not isinstance(raw_expires, str):
            raw_expires = json.dumps(raw_expires)
        expires, bad = devenv.parse_expires(raw_expires.strip(), now)
        if bad is not None:
            problems.add(
                _key(EXPIRES_KEY),
                raw_expires,
                f"{bad}: fix it in {_stack_file()}: {_set_command(_key(EXPIRES_KEY), '24h')}",
            )
    run: list[str] = []
    raw_run = _raw(_key(RUN_KEY))
    if raw_run is not None:
        try:
            value = json.loads(raw_run) if isinstance(raw_run, str) else raw_run
        except ValueError:
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.add(
                _key(RUN_KEY),
                raw_run,
                "must be a list of dependency names (a YAML list): fix it in "
                f"{_stack_file()}: " + _set_command(_key(RUN_KEY), "'[\"user-profiles\"]'"),
            )
        else:
            run = value
    return DeveloperSettings(
        stack=stack,
        developer=developer,
        namespace=devenv.developer_namespace(developer),
        now=now,
        expires=expires,
        expires_raw=raw_expires if isinstance(raw_expires, str) else None,
        run=tuple(run),
        problems=tuple(problems),
    )


def stray_key_problems() -> list[Problem]:
    """``devExpires``/``devRun`` set in a stack that is not a developer stack."""
    from .config import _raw, _stack_file

    if devenv.developer_of_stack(pulumi.get_stack()) is not None:
        return []
    return [
        Problem(
            _key(short),
            _raw(_key(short)),
            f"only a developer stack (named dev-<developer>) reads it, and this stack is "
            f"{pulumi.get_stack()!r}: remove it from {_stack_file()}",
        )
        for short in DEV_KEYS
        if _raw(_key(short)) is not None
    ]


@dataclass(frozen=True)
class DeveloperEnvironment:
    """What a developer stack's program needs to know (see :func:`developer_environment`)."""

    developer: str
    """``alice`` for the stack ``dev-alice``."""
    namespace: str
    """``dev-alice``: where the service runs."""
    run: tuple[str, ...]
    """Dependencies the developer runs too (``devRun``)."""


def developer_environment() -> DeveloperEnvironment | None:
    """None in a normal stack; in a developer stack (``dev-<developer>``), its developer and
    namespace. A program creates its own AWS resources (a table, a queue) only when this is
    None, and uses the staging ones otherwise: a developer stack creates no AWS resource.
    Raises the stack's format problems (a developer name that is not a DNS label...)."""
    settings = developer_settings()
    if settings is None:
        return None
    if settings.problems:
        from .config import _stack_file

        raise ValidationError(f"{_stack_file()}: invalid developer stack", list(settings.problems))
    return DeveloperEnvironment(
        developer=settings.developer, namespace=settings.namespace, run=settings.run
    )


# --- the checks that need the contract and the arguments -----------------------------------------


def developer_problems(
    settings: DeveloperSettings,
    args: ServiceStackArgs,
    *,
    environment: str | None,
    offer: devenv.DevOffer | None,
    offer_known: bool,
    source: str,
    reference: str | None,
) -> list[Problem]:
    """Everything that keeps this developer stack from deploying, given what the contract says
    (``environment``, ``offer``; ``offer_known`` False when the contract is not known yet)."""
    problems = Problems()
    for p in settings.problems:
        problems.add(p.field, p.value, p.message)
    cluster_key = _key("clusterStack")
    shown = reference or "<cluster contract>"
    if environment is not None and is_production(environment):
        problems.add(
            cluster_key,
            shown,
            f"a developer stack ({settings.stack}) deploys only to a non-production cluster, "
            f"and {source} is {environment!r}, which is production: point clusterStack at the "
            "staging cluster stack",
        )
    elif offer_known and (offer is None or not offer.enabled):
        problems.add(
            cluster_key,
            shown,
            f"{source} offers no developer environments (platform:devEnvironments.enabled is "
            "false, or the cluster stack predates them): deploy the developer stack against "
            "the staging cluster, or ask the platform team to enable them",
        )
    if settings.expires is not None:
        why = devenv.expiry_problem(
            settings.expires, settings.now, offer.max_ttl_hours if offer is not None else None
        )
        if why is not None:
            problems.add(_key(EXPIRES_KEY), settings.expires_raw, why)
    names = [d.name for d in args.dependencies]
    for i, name in enumerate(settings.run):
        if name not in names:
            problems.add(
                f"{_key(RUN_KEY)}[{i}]",
                name,
                f"is not a dependency of this service (dependencies: "
                f"{', '.join(names) or 'none'}): devRun lists the dependencies you run in "
                f"{settings.namespace} too; fix the name or remove it",
            )
    return list(problems)


def developer_args(args: ServiceStackArgs) -> ServiceStackArgs:
    """The arguments a developer's copy is built from (see the module docstring)."""
    declared = args.resources
    cpu = DEV_CPU
    try:
        if kube.parse_cpu(declared.cpu) < kube.parse_cpu(DEV_CPU):
            cpu = declared.cpu
    except ValueError:
        pass
    resources = (
        Resources(cpu=DEV_CPU, memory=DEV_MEMORY)
        if declared == Resources()
        else dataclasses.replace(declared, cpu=cpu, cpu_limit=None)
    )
    return dataclasses.replace(
        args,
        resources=resources,
        replicas=1,
        autoscaling=None,
        vpa=None,
        prescaling=None,
        ingress=None,
        canary=None,
        monitors=None,
        ecr=False,
        node_port=None,
        namespace=None,
        iam_statements=(),
    )


@dataclass(frozen=True)
class DevPlan:
    """Plain values of a developer's copy (from the settings and the contract)."""

    developer: str
    namespace: str
    team: str
    service: str
    service_account: str
    role_arn: str
    """The staging service role the ServiceAccount names (IRSA)."""
    expires_at: str
    """The namespace's expiry label value."""
    quota: Mapping[str, str]
    limit_range: Mapping[str, str]

    def namespace_labels(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/managed-by": kube.MANAGED_BY_LABEL,
            devenv.DEVELOPER_LABEL: self.developer,
            devenv.TEAM_LABEL: self.team,
            devenv.EXPIRES_LABEL: self.expires_at,
            devenv.service_label(self.service): "true",
            **kube.pod_security_labels("restricted"),
        }


def dev_plan(
    settings: DeveloperSettings,
    *,
    team: str,
    service: str,
    environment: str,
    account_id: str,
    region: str,
    offer: devenv.DevOffer | None,
) -> DevPlan:
    role = devenv.staging_role_name(team, service, environment)
    return DevPlan(
        developer=settings.developer,
        namespace=settings.namespace,
        team=team,
        service=service,
        service_account=devenv.developer_service_account(team, service),
        role_arn=f"arn:{partition_of(region)}:iam::{account_id}:role/{role}",
        expires_at=devenv.format_expiry(settings.expiry(offer)),
        quota=dict(offer.quota) if offer is not None else {},
        limit_range=dict(offer.limit_range) if offer is not None else {},
    )


def dev_envoy(
    settings: envoy.EnvoySettings, dev: DeveloperSettings, names: Sequence[str]
) -> envoy.EnvoySettings:
    """Envoy settings whose dependencies the developer runs (``devRun``) point at the developer
    namespace; the others keep their shared (team namespace) address. ``names`` are the
    dependencies' service names, in order."""
    deps = [
        dataclasses.replace(d, namespace=dev.namespace) if name in dev.run else d
        for d, name in zip(settings.dependencies, names, strict=False)
    ]
    return dataclasses.replace(settings, dependencies=tuple(deps))


def dev_labels(labels: Mapping[str, Any], namespace: str) -> dict[str, str]:
    """The service labels with Datadog's ``env`` set to the developer namespace."""
    out = {str(k): str(v) for k, v in labels.items()}
    out["tags.datadoghq.com/env"] = namespace
    return out

"""Every check on :class:`~eksplatform.service.args.ServiceStackArgs`, run before any resource.

:func:`plan_service` collects every problem and raises one
:class:`~eksplatform.core.errors.ValidationError` listing them all, or returns the
:class:`ServicePlan`: the plain values the component derives (name, version, image, Envoy
settings, ECR repository, and, when the contract is known, the namespace, environment and tags),
so the builders never re-derive or re-check anything. Order of work:

1. the shape of the argument tree (:mod:`.shapes`): unknown arguments with the closest valid
   name, missing and positional ones, values of the wrong type; the value checks below then see
   a copy where each unusable value is its default;
2. the values (:mod:`.checks`), the IAM statements (:mod:`.iam_checks`), the dependencies and
   Envoy's own checks under this component's field names (below);
3. every physical name derived from the resource name and the image, against the rules of the
   AWS service that receives it (:mod:`eksplatform.core.naming`);
4. the contract (:mod:`.contract_checks`) as far as it is known now, the stack's platform keys
   (:mod:`.config`) and the ServiceStacks this program declared before (:mod:`.registry`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from .. import envoy
from ..core import kube, naming
from ..core.contract import ClusterOutputs
from ..core.errors import Problem, Problems
from ..guardrails.inputs import service_findings
from .args import ServiceStackArgs
from .aws_checks import check_alarms, check_ecr, check_ingress, check_tags
from .canary_checks import CanaryPlan, canary_problems
from .canary_config import renamed
from .checks import (
    NAME_MAX,
    NODE_PORT_MAX,
    NODE_PORT_MIN,
    ImageRef,
    check_architectures,
    check_env,
    check_image,
    check_ports,
    check_probes,
    check_resources,
    check_scaling,
    check_version,
    is_int,
    label,
    parse_image,
)
from .config import PlatformSettings
from .contract_checks import (
    ContractView,
    ServiceContext,
    Subject,
    contract_problems,
    dependency_namespace,
    duplicate_problems,
    service_context,
)
from .developer import DeveloperSettings, developer_problems
from .iam_checks import Owner, check_statement
from .monitors import check_monitors
from .output_checks import owner_from_contract
from .registry import RunRegistry
from .shapes import sanitized, shape_problems

FIRST_EGRESS_PORT = 15101
"""Egress port of the first dependency when none is given (then 15102, ...)."""

__all__ = [
    "FIRST_EGRESS_PORT",
    "NAME_MAX",
    "NODE_PORT_MAX",
    "NODE_PORT_MIN",
    "ImageRef",
    "ServicePlan",
    "cluster_key",
    "contract_source",
    "contract_view",
    "parse_image",
    "plan_service",
]

_ALARM_SUFFIXES = ("-5xx-rate", "-p99-latency", "-unhealthy-hosts")
CANARY_TARGET_GROUP_SUFFIX = "-ctg"
"""Logical name suffix of the canary's target group: short, because a target group name has
at most 32 characters and a resource name with an ALB up to 20 (20 + 4 + Pulumi's 8)."""


@dataclass(frozen=True)
class ServicePlan:
    """Plain values derived from valid args; what the builders use."""

    args: ServiceStackArgs
    """The arguments as checked (``name`` filled in)."""
    name: str
    """The service's name (``name=``, or the resource name)."""
    resource_name: str
    """The ServiceStack's resource name: prefix of every logical and auto-generated name."""
    team: str
    version: str
    image: ImageRef
    node_port: int | None
    """The node port the program asked for; None: the API server allocates one."""
    envoy: envoy.EnvoySettings
    """Envoy settings as validated; the dependencies' namespaces are final in ``context``."""
    create_ecr: bool
    view: ContractView
    """The contract values the checks saw before registration."""
    target: PlatformSettings | None
    """The stack's ``clusterStack``, ``aws:region`` and ``aws:allowedAccountIds``."""
    context: ServiceContext | None
    """What the children use, when the whole contract was known before registration (the
    offline preview); None under ``pulumi up``, where the component derives it once the
    contract resolves."""
    canary: CanaryPlan | None = None
    """The canary release's derived values; None without a canary."""
    developer: DeveloperSettings | None = None
    """A developer stack's settings (None: a normal stack)."""

    @property
    def namespace(self) -> str | None:
        return self.context.namespace if self.context else None

    @property
    def environment(self) -> str | None:
        return self.context.environment if self.context else None

    @property
    def prod(self) -> bool | None:
        return self.context.prod if self.context else None

    @property
    def deletion_protection(self) -> bool | None:
        return self.context.deletion_protection if self.context else None


def contract_source(cluster: ClusterOutputs) -> str:
    """How messages name ``cluster``'s contract."""
    if cluster.stack_reference:
        return f"the cluster stack {cluster.stack_reference!r}"
    return "the cluster contract"


def contract_view(cluster: Any) -> ContractView:
    """What is known of ``cluster``'s contract before registration."""
    if not isinstance(cluster, ClusterOutputs):
        return ContractView.unknown()
    source = contract_source(cluster)
    if cluster.known is not None:
        return ContractView.from_contract(cluster.known, source, reference=cluster.stack_reference)
    if cluster.facts is not None:
        return ContractView.from_facts(cluster.facts)
    return ContractView.unknown(source)


def _check_dependencies(
    problems: Problems,
    args: ServiceStackArgs,
    namespace: str,
    teams: Mapping[str, str] | None,
) -> list[envoy.EnvoyDependency]:
    out: list[envoy.EnvoyDependency] = []
    for i, dep in enumerate(args.dependencies):
        p = f"dependencies[{i}]"
        label(problems, f"{p}.name", dep.name)
        if dep.namespace is not None:
            label(problems, f"{p}.namespace", dep.namespace)
        elif dep.team is not None:
            label(problems, f"{p}.team", dep.team)
        # None: another team's namespace, not known yet (checked again once the contract is).
        resolved = dependency_namespace(dep, args.team, namespace, teams)
        ns = resolved or namespace  # a valid placeholder until then; the gate sets the real one
        assert args.name is not None
        if dep.name == args.name and resolved == namespace:
            problems.add(
                f"{p}.name",
                dep.name,
                "is this service itself: call your own code directly, not through Envoy",
            )
            continue
        egress = dep.egress_port if dep.egress_port is not None else FIRST_EGRESS_PORT + i
        connect = min(1.0, dep.timeout_s)
        out.append(
            envoy.EnvoyDependency(
                name=dep.name,
                namespace=ns,
                service=None,
                egress_port=egress,
                port=dep.port,
                protocol=dep.protocol,
                timeout_s=dep.timeout_s,
                connect_timeout_s=connect,
                idle_timeout_s=dep.idle_timeout_s,
                max_concurrent_streams=dep.max_concurrent_streams,
                retries=dep.retries,
            )
        )
    return out


def _envoy_field(name: str) -> str | None:
    """This component's name for an Envoy settings field (None: checked here already)."""
    if name == "service_name" or name.startswith("dependencies["):
        return None if name == "service_name" else name
    mapping = {
        "app_port": "port",
        "app_health_path": "probes.readiness_path",
        "memory_limit_mib": "envoy.memory",
    }
    if name in mapping:
        return mapping[name]
    return f"envoy.{name}"


def _check_envoy(
    problems: Problems, args: ServiceStackArgs, deps: list[envoy.EnvoyDependency]
) -> envoy.EnvoySettings:
    e = args.envoy
    settings = envoy.EnvoySettings(
        service_name=args.name or "",
        app_port=args.port,
        app_protocol=e.app_protocol,
        app_health_path=args.probes.readiness_path,
        ingress_port=e.ingress_port,
        admin_port=e.admin_port,
        stats_port=e.stats_port,
        request_timeout_s=e.request_timeout_s,
        request_receive_timeout_s=e.request_receive_timeout_s,
        stream_idle_timeout_s=e.stream_idle_timeout_s,
        idle_timeout_s=e.idle_timeout_s,
        app_idle_timeout_s=e.app_idle_timeout_s,
        buffer_limit_kib=e.buffer_limit_kib,
        max_concurrent_streams=e.max_concurrent_streams,
        max_downstream_connections=e.max_downstream_connections,
        escaped_slashes=e.escaped_slashes,
        drain_time_s=e.drain_time_s,
        concurrency=e.concurrency,
        dogstatsd=envoy.DogStatsd() if e.dogstatsd else None,
        dependencies=tuple(deps),
        memory_limit_mib=_envoy_memory(e.memory),
    )
    # Envoy drains its ingress during the app's preStop sleep: the app gets SIGTERM after it.
    if (
        is_int(e.drain_time_s)
        and is_int(args.prestop_sleep_s)
        and e.drain_time_s > args.prestop_sleep_s
    ):
        problems.add(
            "envoy.drain_time_s",
            e.drain_time_s,
            f"must not exceed prestop_sleep_s ({args.prestop_sleep_s}): Envoy drains the ingress "
            "while the app sleeps in its preStop hook, and requests still arriving once the app "
            "has SIGTERM fail; lower it or raise prestop_sleep_s",
        )
    # The app port against Envoy's own ports, reported on ``port`` (what the user set).
    app_collides = False
    if is_int(args.port):
        for field_name, value in (
            ("envoy.ingress_port", e.ingress_port),
            ("envoy.admin_port", e.admin_port),
            ("envoy.stats_port", e.stats_port),
        ):
            if value == args.port:
                problems.add(
                    "port",
                    args.port,
                    f"collides with {field_name} ({value}): the app and Envoy share the pod's "
                    "network; pick another port",
                )
                app_collides = True
    already = {p.field for p in problems}
    for p in envoy.envoy_problems(settings):
        field = _envoy_field(p.field)
        if field is None or field in already:
            continue
        if app_collides and p.message.startswith("collides with app_port "):
            continue  # reported on ``port`` above
        message = p.message.replace("raise memory_limit_mib", "raise envoy.memory")
        shown = p.value
        if p.field == "memory_limit_mib":  # reported on the quantity the user wrote
            shown = e.memory
            message = re.sub(
                r"\Amust be (\d+)-(\d+):",
                lambda m: f"must be {m[1]}Mi to {int(m[2]) // 1024}Gi:",
                message,
            )
        for old, new in (("app_port", "port"), ("ingress_port", "envoy.ingress_port")):
            message = message.replace(f"collides with {old} ", f"collides with {new} ")
        for old in ("admin_port", "stats_port"):
            message = message.replace(f"collides with {old} ", f"collides with envoy.{old} ")
        problems.add(field, shown, message)
    return settings


def _envoy_memory(memory: Any) -> int:
    """``EnvoySettings.memory_limit_mib`` from ``EnvoyOptions.memory``: whole MiB, rounded down;
    the measured default when it is None or not a quantity (then reported on its own)."""
    if memory is None:
        return envoy.DEFAULT_MEMORY_LIMIT_MIB
    try:
        return kube.parse_memory(memory) // 2**20
    except ValueError:
        return envoy.DEFAULT_MEMORY_LIMIT_MIB


def _check_names(
    problems: Problems,
    resource_name: str,
    args: ServiceStackArgs,
    image: ImageRef | None,
    create_ecr: bool,
) -> None:
    """Every physical name derived from the resource name or the image, against its rule."""
    fix = "shorten the ServiceStack's resource name (its first argument)"
    derived: list[tuple[str, naming.NameRule]] = [(f"{resource_name}-role", naming.IAM_ROLE)]
    if args.ingress is not None:
        derived += [
            (f"{resource_name}-alb", naming.LOAD_BALANCER),
            (f"{resource_name}-tg", naming.TARGET_GROUP),
            (f"{resource_name}-alb", naming.SECURITY_GROUP),
        ]
        derived += [(f"{resource_name}{s}", naming.CLOUDWATCH_ALARM) for s in _ALARM_SUFFIXES]
        if args.canary is not None:
            derived += [
                (f"{resource_name}{CANARY_TARGET_GROUP_SUFFIX}", naming.TARGET_GROUP),
                *((f"{resource_name}-canary{s}", naming.CLOUDWATCH_ALARM) for s in _ALARM_SUFFIXES),
            ]
    for logical, rule in derived:
        problem = naming.derived_name_problem(
            "resource_name", resource_name, logical, rule, how="autoname", fix=fix
        )
        if problem is not None:
            problems.add(problem.field, problem.value, problem.message)
    if create_ecr and image is not None:
        problem = naming.derived_name_problem(
            "image",
            args.image,
            image.repository,
            naming.ECR_REPOSITORY,
            fix="rename the image's repository, or set ecr=False",
        )
        if problem is not None:
            problems.add(problem.field, problem.value, problem.message)


def _keep(problem: Problem, bad: set[str]) -> bool:
    """False for a problem on a field whose value was unusable (already reported)."""
    return not any(problem.field == b or problem.field.startswith((f"{b}.", f"{b}[")) for b in bad)


def plan_service(
    args: ServiceStackArgs,
    *,
    resource_name: str | None = None,
    view: ContractView | None = None,
    target: PlatformSettings | None = None,
    registry: RunRegistry | None = None,
    developer: DeveloperSettings | None = None,
) -> ServicePlan:
    """Check every field of ``args``; raise one ValidationError listing every problem, or
    return the derived plan.

    ``resource_name`` is the ServiceStack's (default: the service name); ``view`` the contract
    values known now (default: from ``args.cluster``); ``target`` the stack's platform keys
    (default: not checked); ``registry`` the ServiceStacks declared before in this program
    (default: none); ``developer`` a developer stack's settings (default: None, not a developer
    stack; see :mod:`.developer`)."""
    shape = shape_problems(args)
    bad = {p.field for p in shape}
    a = sanitized(args, bad)
    found = Problems()
    rn = resource_name if resource_name is not None else a.name
    name = a.name if a.name is not None else rn
    if not isinstance(rn, str) or not rn:
        found.add(
            "resource_name", rn, "must be a non-empty string (the ServiceStack's first argument)"
        )
        rn = name if isinstance(name, str) else ""
    note = " (name defaults to the ServiceStack's resource name)" if a.name is None else ""
    label(found, "name", name, NAME_MAX, note)
    if not isinstance(name, str):
        name = ""
    a = dataclasses.replace(a, name=name)
    if view is None:
        view = contract_view(a.cluster)
    label(found, "team", a.team)
    if a.namespace is not None:
        label(found, "namespace", a.namespace)
    teams = view.team_namespaces
    namespace = (teams or {}).get(a.team) or a.namespace or a.team

    image = check_image(found, a)
    check_architectures(found, a)
    version = check_version(found, a, image)
    check_resources(found, a)
    check_scaling(found, a)
    check_probes(found, a)
    check_env(found, a)
    node_port = check_ports(found, a)
    check_ingress(found, a)
    check_alarms(found, a)
    check_monitors(found, a.monitors)
    owner = owner_from_contract(a.team, view)
    for i, st in enumerate(a.iam_statements):
        check_statement(found, f"iam_statements[{i}]", st, owner)
    check_tags(found, a)
    create_ecr = check_ecr(found, a, image)
    deps = _check_dependencies(found, a, namespace, teams)
    settings = _check_envoy(found, a, deps)
    canary = canary_problems(found, a, stable=image, create_ecr=create_ecr)
    _check_names(found, rn, a, image, create_ecr)
    subject = Subject(name=name, team=a.team, image=image, create_ecr=create_ecr, envoy=settings)
    facts = a.cluster.facts if isinstance(a.cluster, ClusterOutputs) else None
    reported = {p.field for p in found}
    for problem in contract_problems(a, subject, view, target, facts=facts):
        if problem.field not in reported:  # one problem per field: the first says enough
            found.add(problem.field, problem.value, problem.message)
    if target is not None:
        for problem in target.problems:
            found.add(problem.field, problem.value, problem.message)
    if developer is not None:
        for problem in developer_problems(
            developer,
            a,
            environment=view.environment,
            offer=view.dev_offer,
            offer_known=view.complete,
            source=view.source,
            reference=view.reference,
        ):
            if problem.field not in {p.field for p in found}:
                found.add(problem.field, problem.value, problem.message)
    if registry is not None:
        key = cluster_key(a.cluster, target)
        for problem in duplicate_problems(
            resource_name=rn,
            name=name,
            team=a.team,
            node_port=node_port,
            cluster_key=key,
            declared_resources=registry.resource_names,
            declared_services=registry.services,
            declared_ports=registry.node_ports,
        ):
            found.add(problem.field, problem.value, problem.message)

    # The guardrail rules on these inputs (eksplatform.guardrails), on fields not reported above.
    rules = service_findings(
        a,
        environment=view.environment or "",
        namespace=namespace,
        already={p.field for p in found} | bad,
    )
    for problem in rules.problems:
        found.add(problem.field, problem.value, problem.message)
    for warning in rules.warnings:
        pulumi.log.warn(f"ServiceStack {rn!r}: {warning}")

    problems = Problems()
    kept = renamed([*shape, *(p for p in found if _keep(p, bad))], args.canary)
    for problem in kept:
        problems.add(problem.field, problem.value, problem.message)
    problems.raise_if_any(f"ServiceStack {rn!r}")
    assert image is not None
    context = None
    if view.complete:
        context = service_context(
            a, name=name, version=version, settings=settings, view=view, developer=developer
        )
    return ServicePlan(
        args=a,
        name=name,
        resource_name=rn,
        team=a.team,
        version=version,
        image=image,
        node_port=node_port,
        envoy=settings,
        create_ecr=create_ecr,
        view=view,
        target=target,
        context=context,
        canary=canary,
        developer=developer,
    )


def statement_owner(plan: ServicePlan) -> Owner:
    """The :class:`Owner` the role's statements were checked for (resolved Outputs are checked
    again for it, see :mod:`.iam`)."""
    return owner_from_contract(plan.team, plan.view)


def cluster_key(cluster: Any, target: PlatformSettings | None) -> str:
    """Which cluster a ServiceStack deploys into, for the duplicate checks."""
    if isinstance(cluster, ClusterOutputs):
        return cluster.stack_reference or f"contract-{id(cluster)}"
    return (target.cluster_stack if target is not None else None) or "default"

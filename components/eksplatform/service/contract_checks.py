"""The checks of a ServiceStack against its cluster's contract, and what it derives from it.

One pure function, :func:`contract_problems`, runs twice on the same arguments:

* before anything is registered, over the contract values known at that point
  (:class:`ContractView` from :attr:`ClusterOutputs.known` in the offline preview, or from the
  deprecated ``ClusterFacts``; fields not known are ``None`` and their checks wait);
* in the gate every child of the component waits on (see :mod:`.stack`), over the values the
  cluster stack's Outputs resolve to: under ``pulumi up`` that is the first time they exist.

So a team missing from the cluster, a production rule, a region or account that differs from the
cluster's, or a certificate of another region is refused with the same message either way, and
never reaches AWS. :func:`service_context` then derives the plain values the children need
(namespace, environment, tags, the Envoy settings with the dependencies' namespaces).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pulumi

from .. import envoy
from ..core import devenv, kube
from ..core.contract import (
    AMD64,
    ARM64,
    METRICS_API_OF_TYPE,
    RESOURCE_METRICS_API,
    ClusterFacts,
)
from ..core.datadog import HANDLE, SITES
from ..core.environments import is_production
from ..core.errors import Problem, Problems
from ..core.tags import Tags
from .args import Dependency, ServiceStackArgs
from .aws_checks import ACM_ARN, datadog_annotation
from .checks import DNS_LABEL, ImageRef
from .config import ACCOUNTS_KEY, REGION_KEY, PlatformSettings
from .developer import DeveloperSettings, DevPlan, dev_envoy, dev_labels, dev_plan

_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:\S+")
_TAG_VALUE = re.compile(r"[\w .:/=+@-]{1,256}")
_API = re.compile(r"[a-z0-9.-]+\.k8s\.io")
"""What the contract's outputs must look like to be used (anything else is named as garbled)."""
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""Namespaces no service may name, whatever the contract says."""


@dataclass(frozen=True)
class ContractView:
    """The cluster contract's plain values a ServiceStack checks against (None: not known)."""

    source: str
    """Where the values come from, for messages (``"the cluster stack 'org/p/prod'"``)."""
    environment: str | None = None
    team_namespaces: Mapping[str, str] | None = None
    team_alert_topic_arns: Mapping[str, str] | None = None
    region: str | None = None
    account_id: str | None = None
    cost_centre: str | None = None
    metrics_apis: tuple[str, ...] | None = None
    """The metrics APIs the cluster serves (``metrics.k8s.io``, ...)."""
    prescale_topic_arn: str | None = None
    """The push pre-scaler's topic; ``""`` when the cluster runs none."""
    datadog_site: str | None = None
    """The Datadog site of the cluster's agents; ``""`` when it runs none."""
    team_monitor_channels: Mapping[str, str] | None = None
    """Team -> the handles its monitors notify."""
    dev_offer: devenv.DevOffer | None = None
    """The developer environments the cluster offers (None: none, or not known)."""
    node_architectures: tuple[str, ...] | None = None
    """Architectures the cluster's node pools offer (``amd64``, ``arm64``)."""
    complete: bool = False
    """Every value the checks need is known (the real contract, not facts)."""
    malformed: tuple[str, ...] = ()
    """Contract outputs the checks need that are missing or of the wrong shape."""
    field: str = "cluster"
    """The argument or config key that names this contract, for messages."""
    reference: str | None = None
    """``org/project/stack`` of the cluster stack, when it came from one."""

    @classmethod
    def unknown(
        cls,
        source: str = "the cluster stack",
        *,
        field: str = "cluster",
        reference: str | None = None,
    ) -> ContractView:
        return cls(source=source, field=field, reference=reference)

    @classmethod
    def from_contract(
        cls,
        values: Mapping[str, Any],
        source: str,
        *,
        field: str = "cluster",
        reference: str | None = None,
    ) -> ContractView:
        """From the contract's outputs (camelCase names); a malformed output reads as absent
        and is named in :attr:`malformed`."""
        malformed: list[str] = []

        def text(key: str, pattern: re.Pattern[str]) -> str | None:
            v = values.get(key)
            if isinstance(v, str) and pattern.fullmatch(v):
                return v
            malformed.append(key)
            return None

        def mapping(key: str, keys: re.Pattern[str], items: re.Pattern[str]) -> Mapping[str, str]:
            v = values.get(key)
            if not isinstance(v, Mapping) or not all(
                isinstance(k, str)
                and keys.fullmatch(k)
                and isinstance(x, str)
                and items.fullmatch(x)
                for k, x in v.items()
            ):
                malformed.append(key)
                return {}
            return dict(v)

        def apis() -> tuple[str, ...]:
            # A cluster stack without the output predates it: it served resource metrics only.
            v = values.get("metricsApis")
            if v is None:
                return (RESOURCE_METRICS_API,)
            if (
                isinstance(v, list)
                and v  # every cluster serves metrics.k8s.io (metrics-server)
                and all(isinstance(x, str) and _API.fullmatch(x) for x in v)
            ):
                return tuple(v)
            malformed.append("metricsApis")
            return (RESOURCE_METRICS_API,)

        def site() -> str:
            v = values.get("datadogSite")
            if v is None or v == "":
                return ""  # no agent (or a cluster stack from before the field)
            if isinstance(v, str) and v in SITES:
                return v
            malformed.append("datadogSite")
            return ""

        def channels() -> Mapping[str, str]:
            v = values.get("teamMonitorChannels")
            if v is None:
                return {}  # a cluster stack from before the field
            if isinstance(v, Mapping) and all(
                isinstance(k, str)
                and DNS_LABEL.fullmatch(k)
                and isinstance(x, str)
                and all(HANDLE.fullmatch(h) for h in x.split())
                for k, x in v.items()
            ):
                return dict(v)
            malformed.append("teamMonitorChannels")
            return {}

        def architectures() -> tuple[str, ...]:
            # A cluster stack without the output predates arm64 pools: every node was amd64.
            v = values.get("nodeArchitectures")
            if v is None:
                return (AMD64,)
            if isinstance(v, list) and v and all(x in (AMD64, ARM64) for x in v):
                return tuple(v)
            malformed.append("nodeArchitectures")
            return (AMD64,)

        def topic() -> str:
            v = values.get("prescaleTopicArn")
            if v is None or v == "":
                return ""  # no pre-scaler (or a cluster stack from before it)
            if isinstance(v, str) and _ARN.fullmatch(v):
                return v
            malformed.append("prescaleTopicArn")
            return ""

        def offer() -> devenv.DevOffer | None:
            # A cluster stack without the output predates developer environments: none.
            v = values.get("devEnvironments")
            if v is None:
                return None
            found = devenv.DevOffer.from_contract(v)
            if found is None:
                malformed.append("devEnvironments")
            return found

        return cls(
            source=source,
            metrics_apis=apis(),
            dev_offer=offer(),
            node_architectures=architectures(),
            prescale_topic_arn=topic(),
            datadog_site=site(),
            team_monitor_channels=channels(),
            environment=text("environment", DNS_LABEL),
            team_namespaces=mapping("teamNamespaces", DNS_LABEL, DNS_LABEL),
            team_alert_topic_arns=mapping("teamAlertTopicArns", DNS_LABEL, _ARN),
            region=text("region", _REGION),
            account_id=text("accountId", _ACCOUNT),
            cost_centre=text("costCentre", _TAG_VALUE),
            complete=True,
            malformed=tuple(malformed),
            field=field,
            reference=reference,
        )

    @classmethod
    def from_facts(cls, facts: ClusterFacts) -> ContractView:
        teams = facts.team_namespaces if isinstance(facts.team_namespaces, Mapping) else {}
        env = facts.environment if isinstance(facts.environment, str) else None
        return cls(source="cluster.facts", environment=env, team_namespaces=dict(teams))


@dataclass(frozen=True)
class Subject:
    """What the contract checks need from the validated arguments."""

    name: str
    team: str
    image: ImageRef | None
    create_ecr: bool
    envoy: envoy.EnvoySettings | None
    """Envoy settings as validated (dependency namespaces resolved when the teams were known)."""


def _teams_text(teams: Mapping[str, str]) -> str:
    return ", ".join(sorted(teams)) or "none"


def team_namespace(args: ServiceStackArgs, view: ContractView) -> str | None:
    if view.team_namespaces is None:
        return None
    return view.team_namespaces.get(args.team)


def dependency_namespace(
    dep: Dependency, own_team: str, own_ns: str, teams: Mapping[str, str] | None
) -> str | None:
    if dep.namespace is not None:
        return dep.namespace
    if dep.team is None or dep.team == own_team:
        return own_ns
    return None if teams is None else teams.get(dep.team)


def contract_problems(
    args: ServiceStackArgs,
    subject: Subject,
    view: ContractView,
    target: PlatformSettings | None,
    *,
    facts: ClusterFacts | None = None,
) -> list[Problem]:
    """Every way the arguments disagree with the contract values known in ``view``."""
    problems = Problems()
    if view.malformed:
        problems.add(
            view.field,
            view.reference or "<contract>",
            f"{view.source} lacks or garbles the outputs {', '.join(view.malformed)}: is it the "
            "platform's cluster stack, at this library's contract version? fix the reference "
            "or upgrade the cluster stack",
        )
    teams = view.team_namespaces
    namespace: str | None = None
    if teams is not None:
        namespace = teams.get(args.team)
        if namespace is None:
            problems.add(
                "team",
                args.team,
                f"is not a team of {view.source} (teams: {_teams_text(teams)}): fix the name, "
                "or ask the platform team to add it to platform:teams of the cluster stack",
            )
    if args.namespace is not None:
        if args.namespace in SYSTEM_NAMESPACES or args.namespace.startswith("kube-"):
            problems.add(
                "namespace",
                args.namespace,
                "is a system namespace: a service deploys only into its team's namespace; "
                "remove namespace=",
            )
        elif namespace is not None and args.namespace != namespace:
            problems.add(
                "namespace",
                args.namespace,
                f"is not the namespace of team {args.team!r} ({namespace!r} in {view.source}): "
                "a service deploys only into its team's namespace; remove namespace=",
            )
    for i, dep in enumerate(args.dependencies):
        other_team = dep.namespace is None and dep.team is not None and dep.team != args.team
        if other_team and teams is not None and dep.team not in teams:
            problems.add(
                f"dependencies[{i}].team",
                dep.team,
                f"is not a team of {view.source} (teams: {_teams_text(teams)}): fix the "
                "name, or set the dependency's namespace",
            )
    topics = view.team_alert_topic_arns
    alarms = args.ingress is not None  # alarms exist only with an ALB
    if alarms and topics is not None and namespace is not None and args.team not in topics:
        problems.add(
            "team",
            args.team,
            f"{view.source} exports no alert topic for this team (teamAlertTopicArns: "
            f"{_teams_text(topics)}), and the ALB's alarms need one: ask the platform team "
            "to add the team to the service platform",
        )
    _capability_rules(problems, args, view)
    if view.environment is not None and is_production(view.environment):
        _production_rules(problems, args, view)
    if view.region is not None or view.account_id is not None:
        _placement_rules(problems, args, subject, view, target)
    if facts is not None and view.complete:
        _facts_rules(problems, facts, view)
    return list(problems)


def _capability_rules(problems: Problems, args: ServiceStackArgs, view: ContractView) -> None:
    """What the args need that the cluster says it does not provide: an HPA metric read from a
    metrics API the cluster does not serve (the HPA would never scale on it:
    ``FailedGetExternalMetric`` forever), and pre-scaling on a cluster without a pre-scaler
    (nothing would apply the baseline, see :mod:`eksplatform.service.workload`)."""
    served = view.metrics_apis
    a = args.autoscaling
    if served is not None and a is not None:
        wanted = [
            (f"autoscaling.{attr}", "Resource", attr.split("_")[0], getattr(a, attr))
            for attr in ("cpu_target_percent", "memory_target_percent")
            if getattr(a, attr) is not None
        ] + [
            (f"autoscaling.metrics[{i}].type", m.type, m.name, m.type)
            for i, m in enumerate(a.metrics)
        ]
        for field_name, kind, what, value in wanted:
            api = METRICS_API_OF_TYPE.get(kind)
            if api is not None and api not in served:
                problems.add(
                    field_name,
                    value,
                    f"the {kind} metric {what!r} is read from {api}, which {view.source} does "
                    f"not serve (it serves: {', '.join(served) or 'none'}): scale on "
                    "cpu_target_percent / memory_target_percent, or ask the platform team for "
                    "a metrics adapter that serves it",
                )
    if args.monitors is not None and view.datadog_site == "":
        problems.add(
            "monitors",
            args.monitors,
            f"{view.source} runs no Datadog agent (its datadogSite is empty): the monitors "
            "would never get data; ask the platform team to set platform:datadogApiKey on the "
            "cluster stack, or set monitors=None and alarm the service yourself",
        )
    elif (
        args.monitors is not None
        and view.team_monitor_channels is not None
        and view.team_namespaces is not None
        and args.team in view.team_namespaces
        and not view.team_monitor_channels.get(args.team)
        and not args.monitors.notify
    ):
        problems.add(
            "team",
            args.team,
            f"{view.source} gives this team no monitor channel (teamMonitorChannels) and "
            "monitors.notify names none: the monitors would notify nobody; ask the platform "
            "team for platform:datadog.teamChannels or alertEmails, or set monitors.notify",
        )
    offered = view.node_architectures
    if offered is not None and not set(args.architectures) & set(offered):
        built = ", ".join(args.architectures) or "nothing"
        missing_arch = args.architectures[0] if args.architectures else AMD64
        problems.add(
            "architectures",
            args.architectures,
            f"the image is built for {built}, but {view.source} has node pools for "
            f"{', '.join(offered)} only, so no pod could start: build the image for "
            f"{' or '.join(offered)} too and list it here, or ask the platform team for an "
            f"{missing_arch} node pool",
        )
    if args.prescaling is not None and view.prescale_topic_arn == "":
        problems.add(
            "prescaling",
            args.prescaling,
            f"{view.source} runs no push pre-scaler (platform:preScaler.enabled is false): "
            "drop prescaling, or ask the platform team to enable it",
        )


def _production_rules(problems: Problems, args: ServiceStackArgs, view: ContractView) -> None:
    where = f"{view.environment!r} is production"
    if args.autoscaling is None:
        if isinstance(args.replicas, int) and 1 <= args.replicas < 2:
            problems.add(
                "replicas",
                args.replicas,
                f"prod runs at least 2 pods (one per zone failure; {where})",
            )
    elif isinstance(args.autoscaling.min_replicas, int) and 1 <= args.autoscaling.min_replicas < 2:
        problems.add(
            "autoscaling.min_replicas",
            args.autoscaling.min_replicas,
            f"prod runs at least 2 pods (one per zone failure; {where})",
        )
    if args.ingress is not None and args.ingress.certificate_arn is None:
        problems.add(
            "ingress.certificate_arn",
            None,
            f"prod ALBs serve HTTPS only ({where}): give the ACM certificate ARN of the "
            "service's domain",
        )


def _placement_rules(
    problems: Problems,
    args: ServiceStackArgs,
    subject: Subject,
    view: ContractView,
    target: PlatformSettings | None,
) -> None:
    region, account = view.region, view.account_id
    if target is not None:
        if region is not None and target.region is not None and target.region != region:
            problems.add(
                REGION_KEY,
                target.region,
                f"{view.source} is in {region}: a service's AWS resources live in its "
                f"cluster's region; set 'aws:region: {region}' in the service's stack file",
            )
        accounts = target.account_ids
        if account is not None and accounts is not None and list(accounts) != [account]:
            problems.add(
                ACCOUNTS_KEY,
                list(accounts),
                f"{view.source} is in account {account}: a service deploys only into its "
                f"cluster's account; set 'aws:allowedAccountIds: [\"{account}\"]' in the "
                "service's stack file",
            )
    ing = args.ingress
    if ing is not None and ing.certificate_arn is not None:
        m = ACM_ARN.fullmatch(ing.certificate_arn)
        if m is not None and region is not None and m.group("region") != region:
            problems.add(
                "ingress.certificate_arn",
                ing.certificate_arn,
                f"is a certificate of region {m.group('region')}, but the ALB is in the "
                f"cluster's region {region}: an ALB uses certificates of its own region only; "
                f"request or import the certificate in {region}",
            )
        elif m is not None and account is not None and m.group("account") != account:
            problems.add(
                "ingress.certificate_arn",
                ing.certificate_arn,
                f"is a certificate of account {m.group('account')}, but the cluster is in "
                f"account {account}: use a certificate of the cluster's account",
            )
    image = subject.image
    if subject.create_ecr and image is not None:
        if account is not None and image.ecr_account != account:
            problems.add(
                "image",
                args.image,
                f"its ECR registry is in account {image.ecr_account} but the cluster is in "
                f"{account}: set ecr=False (the repository is managed elsewhere)",
            )
        elif region is not None and image.ecr_region != region:
            problems.add(
                "image",
                args.image,
                f"its ECR registry is in region {image.ecr_region} but the cluster is in "
                f"{region}: set ecr=False (the repository is managed elsewhere), or push to "
                f"the registry of {region}",
            )


def _facts_rules(problems: Problems, facts: ClusterFacts, view: ContractView) -> None:
    if view.environment is not None and facts.environment != view.environment:
        problems.add(
            "cluster.facts.environment",
            facts.environment,
            f"{view.source}'s environment is {view.environment!r}: reference the right cluster "
            "stack, or drop facts= (deprecated: the contract is read from the cluster stack)",
        )
    teams = view.team_namespaces or {}
    for team, ns in sorted(facts.team_namespaces.items()):
        actual = teams.get(team)
        if actual is not None and actual != ns:
            problems.add(
                f"cluster.facts.team_namespaces[{team!r}]",
                ns,
                f"{view.source} says team {team!r} deploys to {actual!r}: drop facts= "
                "(deprecated: the contract is read from the cluster stack)",
            )


@dataclass(frozen=True)
class ServiceContext:
    """Plain values derived from the arguments and the contract: what the children use."""

    namespace: str
    environment: str
    prod: bool
    deletion_protection: bool
    alert_topic_arn: str | None
    envoy: envoy.EnvoySettings
    tags: dict[str, str]
    """AWS tags of every resource: company tags < component tags < the caller's."""
    labels: dict[str, str]
    """Labels of every Kubernetes object."""
    pod_annotations: dict[str, str]
    """Pod annotations other than the config checksum."""
    monitor_channels: str = ""
    """The team's monitor handles from the contract (space-separated)."""
    account_id: str = ""
    region: str = ""
    datadog_site: str = ""
    """The Datadog site of the cluster's agents (``""``: none)."""
    developer: DevPlan | None = None
    """A developer stack's copy (see :mod:`.developer`); None otherwise."""
    dev_trust: bool = False
    """The role also trusts the service's account in developer namespaces (IRSA): the cluster
    offers developer environments and is not production (see :mod:`.iam`)."""


@dataclass(frozen=True)
class ChildInputs:
    """The contract-derived inputs of the children: plain values when the contract was known
    before registration, Outputs of the gate otherwise (the namespace and tags always carry the
    contract's Outputs, so every child depends on the cluster stack's reference)."""

    namespace: pulumi.Input[str]
    tags: pulumi.Input[dict[str, str]]
    labels: pulumi.Input[dict[str, str]]
    envoy_data: pulumi.Input[dict[str, str]]
    """The Envoy ConfigMap's data (the bootstrap with the dependencies' namespaces)."""
    pod_annotations: pulumi.Input[dict[str, str]]
    """Pod annotations other than the config checksum."""
    deletion_protection: pulumi.Input[bool]
    alert_topic_arn: pulumi.Input[str]
    developer: pulumi.Input[DevPlan] | None = None
    """A developer stack's copy (plain or from the gate); None otherwise."""
    dev_trust: pulumi.Input[bool] = False
    """See :attr:`ServiceContext.dev_trust`."""


def service_labels(name: str, team: str, environment: str, version: str) -> dict[str, str]:
    """Recommended labels + ``team`` + Datadog unified service tags (env, service, version)."""
    return kube.recommended_labels(
        name,
        component="service",
        part_of=team,
        version=version,
        extra={
            "team": team,
            "tags.datadoghq.com/env": environment,
            "tags.datadoghq.com/service": name,
            "tags.datadoghq.com/version": version,
        },
    )


def resolve_envoy(
    settings: envoy.EnvoySettings,
    args: ServiceStackArgs,
    namespace: str,
    teams: Mapping[str, str] | None,
) -> envoy.EnvoySettings:
    """``settings`` with every dependency's namespace taken from the contract."""
    deps: list[envoy.EnvoyDependency] = []
    by_name = iter(settings.dependencies)
    for dep in args.dependencies:
        built = next(by_name, None)
        if built is None:
            break
        ns = dependency_namespace(dep, args.team, namespace, teams) or namespace
        deps.append(replace(built, namespace=ns))
    return replace(settings, dependencies=tuple(deps))


def service_context(
    args: ServiceStackArgs,
    *,
    name: str,
    version: str,
    settings: envoy.EnvoySettings,
    view: ContractView,
    developer: DeveloperSettings | None = None,
) -> ServiceContext:
    """The children's plain values, from arguments that passed every check (in a developer
    stack: those of the developer's copy, see :mod:`.developer`)."""
    teams = view.team_namespaces or {}
    namespace = args.namespace or teams.get(args.team) or args.team
    if developer is not None:
        return _developer_context(args, name, version, settings, view, namespace, developer)
    environment = view.environment or ""
    prod = is_production(environment)
    ing = args.ingress
    deletion_protection = (
        bool(ing.deletion_protection)
        if ing is not None and ing.deletion_protection is not None
        else prod
    )
    topic = (view.team_alert_topic_arns or {}).get(args.team) if ing is not None else None
    tags = Tags(team=args.team, environment=environment, cost_centre=view.cost_centre or "")
    merged = tags.merged(
        {"service": name, "kubernetes-namespace": namespace},
        {**args.datadog_tags, **args.tags},
    )
    annotations: dict[str, str] = {}
    if args.datadog_tags:
        annotations["ad.datadoghq.com/tags"] = datadog_annotation(args.datadog_tags)
    resolved = resolve_envoy(settings, args, namespace, teams)
    if resolved.dogstatsd is not None:
        # The agent cannot tell which pod a UDP packet came from: Envoy names the service.
        stat_tags = {**resolved.dogstatsd.tags, "service": name, "kube_namespace": namespace}
        resolved = replace(resolved, dogstatsd=replace(resolved.dogstatsd, tags=stat_tags))
    offer = view.dev_offer
    return ServiceContext(
        dev_trust=offer is not None and offer.enabled and not prod,
        namespace=namespace,
        environment=environment,
        prod=prod,
        deletion_protection=deletion_protection,
        alert_topic_arn=topic,
        envoy=resolved,
        tags=merged,
        labels=service_labels(name, args.team, environment, version),
        pod_annotations=annotations,
        monitor_channels=(view.team_monitor_channels or {}).get(args.team, ""),
        account_id=view.account_id or "",
        region=view.region or "",
        datadog_site=view.datadog_site or "",
    )


def duplicate_problems(
    *,
    resource_name: str,
    name: str,
    team: str,
    node_port: int | None,
    cluster_key: str,
    declared_resources: Mapping[str, str],
    declared_services: Mapping[tuple[str, str, str], str],
    declared_ports: Mapping[tuple[str, int], str],
) -> list[Problem]:
    """Clashes with the ServiceStacks this program declared before (see :mod:`.registry`)."""
    problems = Problems()
    if resource_name in declared_resources:
        problems.add(
            "resource_name",
            resource_name,
            "is already the name of another ServiceStack in this program (Pulumi would refuse "
            "the duplicate URN): give each ServiceStack its own resource name",
        )
    other = declared_services.get((cluster_key, team, name))
    if other is not None:
        problems.add(
            "name",
            name,
            f"is already a service of team {team!r} in this program (ServiceStack {other!r}): "
            "their Kubernetes objects would overwrite each other; rename one",
        )
    if node_port is not None:
        owner = declared_ports.get((cluster_key, node_port))
        if owner is not None:
            problems.add(
                "node_port",
                node_port,
                f"is already the node port of ServiceStack {owner!r} in this program: leave "
                "node_port None (the API server allocates a free one) or pick another",
            )
    return list(problems)


def secret_env_problems(secret_keys: Sequence[str]) -> list[Problem]:
    """``env`` values found to be Pulumi secrets once they resolved."""
    return [
        Problem(
            f"env[{key!r}]",
            _Secret(),
            "is a Pulumi secret: in env it would be written in clear into the Deployment; "
            "pass it in secrets= (a Kubernetes Secret) instead",
        )
        for key in secret_keys
    ]


class _Secret:
    def __repr__(self) -> str:
        return "[secret]"


def _developer_context(
    args: ServiceStackArgs,
    name: str,
    version: str,
    settings: envoy.EnvoySettings,
    view: ContractView,
    team_namespace: str,
    developer: DeveloperSettings,
) -> ServiceContext:
    """A developer's copy: its namespace, dependencies shared unless run by the developer,
    Datadog ``env`` = the namespace, no alert topic, no deletion protection."""
    environment = view.environment or ""
    ns = developer.namespace
    resolved = resolve_envoy(settings, args, team_namespace, view.team_namespaces)
    tags = Tags(team=args.team, environment=environment, cost_centre=view.cost_centre or "")
    return ServiceContext(
        namespace=ns,
        environment=environment,
        prod=False,
        deletion_protection=False,
        alert_topic_arn=None,
        envoy=dev_envoy(resolved, developer, [d.name for d in args.dependencies]),
        tags=tags.merged({"service": name, "kubernetes-namespace": ns}),
        labels=dev_labels(service_labels(name, args.team, environment, version), ns),
        pod_annotations={},
        developer=dev_plan(
            developer,
            team=args.team,
            service=name,
            environment=environment,
            account_id=view.account_id or "",
            region=view.region or "",
            offer=view.dev_offer,
        ),
    )

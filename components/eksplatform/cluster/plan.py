"""The cluster's rules across sections: checked once, together, before anything is registered.

Each section of the stack config checks itself while it is parsed (:mod:`.config` and the
``*Config`` models beside each component). What no single section can see is checked here, as
pure functions of the parsed config plus plain derived values (the zones, the cluster name):

* names AWS derives from ours (the EKS cluster and its log group and key alias, launch template
  and Auto Scaling group prefixes, the boundary policy, the ALB log bucket, the alert key and
  topics, the container log group, node-template tag keys) against each service's rule
  (:mod:`eksplatform.core.naming`), naming the key the user wrote, the derived name and the rule;
* releases pinned to the Kubernetes minor (kube-proxy, Cluster Autoscaler, descheduler);
* scheduling sense: some pool can run the platform's own pods from the start; every platform pod
  fits a node of a pool that admits it; the headroom can be placed; fluentd's buffer fits the
  nodes' disks;
* identity: role ARNs of the stack's own account and partition; a papertrail token that is
  present and encrypted; team ingress peers that are teams of this stack; zones of the region.

Design decision: a rule declares the top-level keys it reads, and runs only when each of them
parsed, so one bad section never hides another's problems and never produces a second, spurious
one. The cost: a rule's ``reads`` must name every section it looks at (a test runs each rule with
its sections failed to keep that honest).

Components keep their own argument checks as a last line of defence (a program that builds
them by hand gets the same protection); the cluster program never reaches them with bad input.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core import naming
from ..core.errors import MISSING, Problem
from ..core.pod_identity import partition_of
from ..core.pulumi_yaml import shown_as_written
from ..core.tags import Tags
from . import control_plane, fluentd, service_platform
from .datadog_config import datadog_problems
from .node_pools import (
    MAX_GROUP_TAGS,
    autoscaler_tags,
    group_name_prefix,
    group_tags,
    launch_template_prefix,
)

if TYPE_CHECKING:
    from .config import ClusterConfig


@dataclass(frozen=True)
class PlanContext:
    """What the rules know besides the config."""

    failed: frozenset[str]
    """Top-level keys (field aliases: ``network``, ``region``) whose own parsing failed."""
    given: frozenset[str]
    """Top-level keys the stack set (aliases)."""
    secret_keys: frozenset[str]
    """Config keys whose value is secret (``platform:papertrailToken``)."""
    zones: tuple[str, ...]
    """The zones the cluster spans (placeholders ``<region>a``... when unresolved)."""
    zones_resolved: bool
    """Whether :attr:`zones` are real (explicit, or read from the region)."""
    available: tuple[str, ...] | None
    """The region's available zones, when they were read."""

    @classmethod
    def build(
        cls,
        cfg: ClusterConfig,
        *,
        failed: frozenset[str],
        given: frozenset[str],
        secret_keys: frozenset[str],
        available_zones: Callable[[str], Iterable[str]] | None,
    ) -> PlanContext:
        available = None
        if available_zones is not None and not {"region", "network"} & failed:
            available = tuple(sorted(available_zones(cfg.region)))
        count = cfg.network.az_count
        explicit = cfg.network.availability_zones
        if explicit:
            zones, resolved = tuple(explicit), True
        elif available is not None and len(available) >= count:
            zones, resolved = available[:count], True
        else:
            zones, resolved = tuple(f"{cfg.region}{c}" for c in "abcdef"[:count]), False
        return cls(failed, given, secret_keys, zones, resolved, available)


Check = Callable[["ClusterConfig", PlanContext], Iterable[Problem]]
RULES: list[tuple[frozenset[str], Check]] = []
"""Every rule with the top-level keys it reads."""


def rule(*reads: str) -> Callable[[Check], Check]:
    """Register a rule reading the top-level keys ``reads`` (field aliases)."""

    def register(check: Check) -> Check:
        RULES.append((frozenset(reads), check))
        return check

    return register


def plan_problems(cfg: ClusterConfig, context: PlanContext) -> list[Problem]:
    """Every problem of every rule whose keys all parsed, in rule order."""
    out: list[Problem] = []
    for reads, check in RULES:
        if reads & context.failed:
            continue
        out.extend(check(cfg, context))
    return out


# --- helpers ------------------------------------------------------------------------------------

_CLUSTER = ("clusterName", "environment")


def _cluster_key(cfg: ClusterConfig, context: PlanContext) -> tuple[str, str, str]:
    """(key, value, fix) of whatever names the cluster: ``platform:clusterName`` when set, else
    ``platform:environment`` (the name defaults to ``eks-<environment>``)."""
    if "clusterName" in context.given:
        return "platform:clusterName", cfg.cluster_name, "shorten or rename platform:clusterName"
    return (
        "platform:environment",
        cfg.environment,
        f"set platform:clusterName (it defaults to eks-{cfg.environment})",
    )


# --- zones and network --------------------------------------------------------------------------


@rule("region", "network")
def _zones(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    explicit = cfg.network.availability_zones
    available = context.available
    if explicit:
        foreign = [z for z in explicit if not z.startswith(cfg.region)]
        if foreign:
            yield Problem(
                "platform:network.availabilityZones",
                list(explicit),
                f"{', '.join(map(repr, foreign))} are not zones of {cfg.region}",
            )
        elif available is not None:
            missing = [z for z in explicit if z not in available]
            if missing:
                yield Problem(
                    "platform:network.availabilityZones",
                    list(explicit),
                    f"{', '.join(map(repr, missing))} not available in {cfg.region} (available: "
                    f"{', '.join(available)})",
                )
    elif available is not None and len(available) < cfg.network.az_count:
        yield Problem(
            "platform:network.azCount",
            cfg.network.az_count,
            f"the region has only {len(available)} available zones "
            f"({', '.join(available)}); lower azCount",
        )


@rule("network")
def _service_cidr(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    vpc = ipaddress.IPv4Network(cfg.network.cidr)
    service = ipaddress.IPv4Network(control_plane.SERVICE_CIDR)
    if vpc.overlaps(service):
        yield Problem(
            "platform:network.cidr",
            cfg.network.cidr,
            f"overlaps the cluster's Kubernetes service range {service}: Service IPs would "
            "shadow VPC addresses; pick another range, like 10.0.0.0/16",
        )


# --- identity and secrets -----------------------------------------------------------------------


def _arn_problems(
    key: str, arns: Iterable[str], account: str, partition: str, account_given: bool
) -> Iterator[Problem]:
    for i, arn in enumerate(arns):
        parts = arn.split(":")
        if parts[1] != partition:
            yield Problem(
                f"{key}[{i}]",
                arn,
                f"is in partition {parts[1]} but the region's partition is {partition}; write "
                f"arn:{partition}:iam::...",
            )
        elif account_given and parts[4] != account:
            yield Problem(
                f"{key}[{i}]",
                arn,
                f"is a role of account {parts[4]}, not of this stack's account {account} "
                "(aws:allowedAccountIds); grant access to roles of this account only",
            )


@rule("controlPlane", "accountId", "region")
def _admin_roles(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    yield from _arn_problems(
        "platform:controlPlane.adminRoleArns",
        cfg.control_plane.admin_role_arns,
        cfg.account_id,
        partition_of(cfg.region),
        "accountId" in context.given,
    )


@rule("teams", "accountId", "region")
def _team_roles(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    for i, team in enumerate(cfg.teams):
        yield from _arn_problems(
            f"platform:teams[{i}].roleArns",
            team.role_arns,
            cfg.account_id,
            partition_of(cfg.region),
            "accountId" in context.given,
        )


TOKEN_KEY = "platform:papertrailToken"
_SECRET_FIX = f"pulumi config set --secret {TOKEN_KEY} <token>"


@rule("logging", "papertrailToken")
def _papertrail_token(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    token = cfg.papertrail_token
    given = "papertrailToken" in context.given
    if given and TOKEN_KEY not in context.secret_keys:
        yield Problem(
            TOKEN_KEY,
            shown_as_written("[not shown]"),
            f"is in plain text in the stack file; encrypt it with `{_SECRET_FIX}` (and rotate "
            "the token: it is in the file's history)",
        )
    if (
        cfg.logging.enabled
        and cfg.logging.output == "papertrail"
        and not (token and token.get_secret_value())
    ):
        yield Problem(
            TOKEN_KEY,
            MISSING,
            f"logging.output is papertrail: set the token as a secret with `{_SECRET_FIX}`",
        )


@rule("datadog", "datadogApiKey", "datadogAppKey", "teams")
def _datadog(cfg: ClusterConfig, context: PlanContext) -> Iterable[Problem]:
    """The agents' switches and keys (:func:`.datadog_config.datadog_problems`): keys that are
    set must be encrypted in the stack file."""
    return datadog_problems(
        cfg.datadog,
        teams=cfg.teams,
        api_key_set=cfg.datadog_api_key is not None,
        app_key_set=cfg.datadog_app_key is not None,
        secret_keys={
            f"platform:{k}": f"platform:{k}" in context.secret_keys
            for k in ("datadogApiKey", "datadogAppKey")
            if k in context.given
        },
        stack_file="the stack file",
    )


DEV_MIN_MINOR = 30
"""Developer environments' boundary is ValidatingAdmissionPolicies, v1 from Kubernetes 1.30."""


@rule("devEnvironments", "environment", "kubernetesVersion", "teams")
def _dev_environments(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    dev = cfg.dev_environments
    if not dev.enabled:
        return
    if cfg.is_production:
        yield Problem(
            "platform:devEnvironments.enabled",
            True,
            f"developer environments run on a staging cluster only, and {cfg.environment!r} "
            "is production: remove it (they are off in production)",
        )
        return
    if cfg.kubernetes_minor < DEV_MIN_MINOR:
        yield Problem(
            "platform:devEnvironments.enabled",
            True,
            f"developer environments need Kubernetes 1.{DEV_MIN_MINOR} or newer (their boundary "
            f"is ValidatingAdmissionPolicies), and this cluster runs {cfg.kubernetes_version}",
        )
    for i, team in enumerate(cfg.teams):
        if team.namespace.startswith("dev-"):
            yield Problem(
                f"platform:teams[{i}].namespace",
                team.namespace,
                f"{team.namespace!r} starts with 'dev-', the prefix of developer namespaces: "
                "pick another namespace",
            )


# --- names AWS derives from ours ----------------------------------------------------------------


@rule(*_CLUSTER)
def _cluster_names(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    key, value, fix = _cluster_key(cfg, context)
    cluster = cfg.cluster_name
    for derived, rule_, how in (
        (cluster, naming.EKS_CLUSTER, "explicit"),
        (control_plane.log_group_name(cluster), naming.LOG_GROUP, "explicit"),
        (control_plane.secrets_key_alias(cluster), naming.KMS_ALIAS, "explicit"),
        (service_platform.boundary_policy_name(cluster), naming.IAM_POLICY, "explicit"),
        (service_platform.alb_log_bucket_prefix(cluster), naming.S3_BUCKET, "prefix"),
        (service_platform.alerts_key_alias(cluster), naming.KMS_ALIAS, "explicit"),
    ):
        problem = naming.derived_name_problem(key, value, derived, rule_, how=how, fix=fix)
        if problem:
            yield problem


@rule(*_CLUSTER, "teams")
def _team_topics(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    for i, team in enumerate(cfg.teams):
        derived = service_platform.alert_topic_name(cfg.cluster_name, team.name)
        problem = naming.derived_name_problem(
            f"platform:teams[{i}].name",
            team.name,
            derived,
            naming.SNS_TOPIC,
            fix=f"shorten platform:teams[{i}].name or the cluster name",
        )
        if problem:
            yield problem


@rule(*_CLUSTER, "logging")
def _log_group(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    if not cfg.logging.enabled or cfg.logging.output != "cloudwatch":
        return
    given = cfg.logging.cloudwatch.log_group_name
    name = fluentd.log_group_name(cfg.logging, cfg.cluster_name)
    if given is not None:
        problem = naming.explicit_name_problem(
            "platform:logging.cloudwatch.logGroupName", given, naming.LOG_GROUP
        )
    else:
        key, value, fix = _cluster_key(cfg, context)
        problem = naming.derived_name_problem(key, value, name, naming.LOG_GROUP, fix=fix)
    if problem:
        yield problem


@rule(*_CLUSTER, "nodePools", "network", "region", "tags", "costCentre", "ownerTeam")
def _pool_names_and_tags(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    cluster = cfg.cluster_name
    tags = Tags(
        team=cfg.owner_team,
        environment=cfg.environment,
        cost_centre=cfg.cost_centre,
        extra=cfg.tags,
    )
    for i, pool in enumerate(cfg.node_pools):
        field = f"platform:nodePools[{i}].name"
        fix = f"shorten {field} or the cluster name"
        derived = [(launch_template_prefix(cluster, pool.name), naming.LAUNCH_TEMPLATE)]
        derived += [
            (group_name_prefix(cluster, pool.name, z), naming.AUTOSCALING_GROUP)
            for z in context.zones
        ]
        for name, rule_ in derived:
            problem = naming.derived_name_problem(
                field, pool.name, name, rule_, how="prefix", fix=fix
            )
            if problem:
                yield problem
                break
        template = autoscaler_tags(cluster, pool)
        for tag_key in template:
            for kind, source in (
                ("label", pool.labels),
                ("taint", {t.key: t for t in pool.taints}),
            ):
                marker = f"/node-template/{kind}/"
                if marker not in tag_key:
                    continue
                written = tag_key.partition(marker)[2]
                if written not in source:
                    continue
                field_key = f"platform:nodePools[{i}].{'labels' if kind == 'label' else 'taints'}"
                problem = naming.derived_name_problem(
                    field_key,
                    written,
                    tag_key,
                    naming.TAG_KEY,
                    fix=f"shorten the {kind} key (the Cluster Autoscaler reads node templates "
                    "from these tags)",
                )
                if problem:
                    yield problem
        total = len(group_tags(cluster, pool, tags)) + len(template)
        if total > MAX_GROUP_TAGS:
            yield Problem(
                f"platform:nodePools[{i}]",
                pool.name,
                f"its Auto Scaling groups would carry {total} tags ({len(cfg.tags)} from "
                f"platform:tags, {len(pool.labels)} labels, {len(pool.taints)} taints, the rest "
                f"the platform's); AWS allows {MAX_GROUP_TAGS}: drop labels, taints or "
                "platform:tags",
            )


# --- releases pinned to the Kubernetes minor ----------------------------------------------------


def release_problems(cfg: ClusterConfig) -> list[Problem]:
    """The minor is one EKS offers; kube-proxy, the other add-ons, Cluster Autoscaler and
    descheduler releases exist for it (:data:`.versions.RELEASES` or an explicit pin). A minor EKS
    does not offer is one problem (plus explicit pins that cannot match it), not one per table."""
    from .autoscaler import autoscaler_image_tag
    from .descheduler import IMAGE_TAGS as DESCHEDULER_TAGS
    from .eks_addons import ADDON_FIELDS, addon_versions, kube_proxy_problem
    from .versions import EKS_CALENDAR

    problems: list[Problem] = []
    version = cfg.kubernetes_version
    offered = cfg.kubernetes_minor in EKS_CALENDAR
    if not offered:
        minors = ", ".join(f"1.{m}" for m in sorted(EKS_CALENDAR))
        problems.append(
            Problem(
                "platform:kubernetesVersion",
                version,
                f"EKS does not offer Kubernetes {version} (EKS release calendar: {minors}); "
                "pick one of those",
            )
        )
    resolved = addon_versions(cfg.eks_addons, version)
    for addon, attr in ADDON_FIELDS.items() if offered else ():
        if resolved[addon] is None:
            head, *rest = attr.split("_")
            key = "platform:eksAddons." + head + "".join(w.capitalize() for w in rest)
            problems.append(
                Problem(
                    key,
                    None,
                    f"no {addon} build is pinned for Kubernetes {version} "
                    "(eksplatform.cluster.versions.RELEASES): set it from aws eks "
                    f"describe-addon-versions --addon-name {addon} --kubernetes-version {version}",
                )
            )
    kube_proxy_version = resolved["kube-proxy"]
    kube_proxy = kube_proxy_problem(version, kube_proxy_version) if kube_proxy_version else None
    if kube_proxy:
        problems.append(Problem("platform:eksAddons.kubeProxy", kube_proxy_version, kube_proxy))
    if not offered and cfg.autoscaler.image_tag is None:
        return problems  # one cause: the tables below have no row for a minor EKS lacks
    try:
        autoscaler_image_tag(version, cfg.autoscaler.image_tag)
    except ValueError as exc:
        tag = cfg.autoscaler.image_tag
        key, value = (
            ("platform:autoscaler.imageTag", tag)
            if tag is not None
            else ("platform:kubernetesVersion", version)
        )
        problems.append(Problem(key, value, str(exc)))
    if offered and cfg.descheduler.enabled and cfg.kubernetes_minor not in DESCHEDULER_TAGS:
        known = ", ".join(f"1.{m}" for m in sorted(DESCHEDULER_TAGS))
        problems.append(
            Problem(
                "platform:kubernetesVersion",
                version,
                f"no descheduler release is pinned for it (known: {known}); add its tag to "
                "eksplatform.cluster.descheduler.IMAGE_TAGS or set platform:descheduler.enabled: false",
            )
        )
    return problems


@rule("kubernetesVersion", "eksAddons", "autoscaler", "descheduler")
def _releases(cfg: ClusterConfig, context: PlanContext) -> Iterable[Problem]:
    return release_problems(cfg)


# --- teams --------------------------------------------------------------------------------------


@rule("teams", "ownerTeam")
def _team_names(cfg: ClusterConfig, context: PlanContext) -> list[Problem]:
    return service_platform.team_name_problems([t.name for t in cfg.teams], cfg.owner_team)


@rule("teams")
def _ingress_peers(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    namespaces = {t.namespace for t in cfg.teams}
    for i, team in enumerate(cfg.teams):
        for j, peer in enumerate(team.allow_ingress_from):
            if peer == team.namespace:
                yield Problem(
                    f"platform:teams[{i}].allowIngressFrom[{j}]",
                    peer,
                    "is the team's own namespace, whose pods already reach each other; remove it",
                )
            elif peer not in namespaces:
                known = ", ".join(sorted(namespaces - {team.namespace})) or "none"
                yield Problem(
                    f"platform:teams[{i}].allowIngressFrom[{j}]",
                    peer,
                    "is not the namespace of another team of this stack (the egress side is "
                    f"built from that team's policies); teams' namespaces: {known}",
                )


# The scheduling rules live in their own module; importing it registers them.
from . import plan_capacity, plan_components  # noqa: E402, F401

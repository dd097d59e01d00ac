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
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core import naming
from ..core.errors import MISSING, Problem
from ..core.kube import parse_cpu, parse_memory
from ..core.pod_identity import partition_of
from ..core.pulumi_yaml import shown_as_written
from ..core.tags import Tags
from . import control_plane, fluentd, service_platform
from .node_pools import (
    MAX_GROUP_TAGS,
    MIN_ROOT_VOLUME_GIB,
    NodePoolConfig,
    allocatable,
    autoscaler_tags,
    group_name_prefix,
    group_tags,
    launch_template_prefix,
)

if TYPE_CHECKING:
    from .config import ClusterConfig

CRITICAL_ADDONS_ONLY = "CriticalAddonsOnly"
"""Taint key the Cluster Autoscaler and the termination handler tolerate (any value/effect)."""
NODEFS_EVICTION_FRACTION = 0.10
"""The kubelet evicts pods when less than 10% of the node's root filesystem is free."""


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


def _gib(size: float) -> str:
    return f"{size / 2**30:.1f}Gi"


def _cores(millis: float) -> str:
    return f"{millis / 1000:.2f}".rstrip("0").rstrip(".") + " CPU"


def _fluentd_load(cfg: ClusterConfig, context: PlanContext) -> tuple[float, int]:
    """CPU (millicores) and memory fluentd requests on every node (0 when it does not run)."""
    if "logging" in context.failed or not cfg.logging.enabled:
        return 0, 0
    return parse_cpu(cfg.logging.resources.cpu), parse_memory(cfg.logging.resources.memory)


def _room(pool: NodePoolConfig, load: tuple[float, int]) -> tuple[float, int]:
    return allocatable(
        pool.instance_types[0], daemonset_cpu_millis=load[0], daemonset_memory=load[1]
    )


def _admits(pool: NodePoolConfig, tolerates_critical: bool) -> bool:
    """Whether pods without tolerations (or with only the CriticalAddonsOnly one) land there."""
    blocking = pool.blocking_taints
    if tolerates_critical:
        return all(t.key == CRITICAL_ADDONS_ONLY for t in blocking)
    return not blocking


@dataclass(frozen=True)
class _Pod:
    """A platform pod: where its size is configured and which pools admit it."""

    what: str
    section: str
    cpu_key: str
    cpu: str
    memory_key: str
    memory: str
    tolerates_critical: bool = False


def _platform_pods(cfg: ClusterConfig, context: PlanContext) -> Iterator[_Pod]:
    """The platform's Deployment pods whose requests come from the stack config."""
    if "autoscaler" not in context.failed:
        a = cfg.autoscaler
        yield _Pod(
            "the Cluster Autoscaler pod", "autoscaler", "cpu", a.cpu, "memory", a.memory, True
        )
    nth = cfg.interruption_handler
    if "interruptionHandler" not in context.failed and nth.enabled:
        yield _Pod(
            "the termination handler pod",
            "interruptionHandler",
            "cpu",
            nth.cpu,
            "memory",
            nth.memory,
            True,
        )
    if "vpa" not in context.failed and cfg.vpa.enabled:
        for key, part in (
            ("recommender", cfg.vpa.recommender),
            ("updater", cfg.vpa.updater),
            ("admissionController", cfg.vpa.admission_controller),
        ):
            if part.enabled:
                yield _Pod(
                    f"the VPA {key} pod",
                    "vpa",
                    f"{key}.cpu",
                    part.cpu,
                    f"{key}.memory",
                    part.memory,
                )
    h = cfg.headroom
    if "headroom" not in context.failed and h.enabled and h.replicas > 0:
        yield _Pod("a headroom pause pod", "headroom", "cpu", h.cpu, "memory", h.memory)


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
                written = tag_key.split(marker, 1)[1]
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
    """kube-proxy, Cluster Autoscaler and descheduler releases for the cluster's minor."""
    from .autoscaler import autoscaler_image_tag
    from .descheduler import IMAGE_TAGS as DESCHEDULER_TAGS
    from .eks_addons import kube_proxy_problem

    problems: list[Problem] = []
    version = cfg.kubernetes_version
    kube_proxy = kube_proxy_problem(version, cfg.eks_addons.kube_proxy)
    if kube_proxy:
        problems.append(
            Problem("platform:eksAddons.kubeProxy", cfg.eks_addons.kube_proxy, kube_proxy)
        )
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
    if cfg.descheduler.enabled and cfg.kubernetes_minor not in DESCHEDULER_TAGS:
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


# --- scheduling ---------------------------------------------------------------------------------


@rule("nodePools")
def _system_pods_schedulable(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    if any(not p.blocking_taints and p.min_size >= 1 for p in cfg.node_pools):
        return
    reasons = []
    for pool in cfg.node_pools:
        if pool.blocking_taints:
            taints = ", ".join(f"{t.key}={t.value}:{t.effect}" for t in pool.blocking_taints)
            reasons.append(f"{pool.name!r} is tainted ({taints})")
        else:
            reasons.append(f"{pool.name!r} starts with no node (minSize 0)")
    yield Problem(
        "platform:nodePools",
        [p.name for p in cfg.node_pools],
        "no pool can run the platform's own pods from the start (CoreDNS, the Cluster "
        f"Autoscaler, VPA, metrics-server): {'; '.join(reasons)}; give one pool without "
        "NoSchedule/NoExecute taints a minSize of 1 or more (the autoscaler cannot add the "
        "first node for itself)",
    )


@rule("nodePools", "logging", "autoscaler", "interruptionHandler", "vpa", "headroom")
def _platform_pods_fit(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    load = _fluentd_load(cfg, context)
    for pod in _platform_pods(cfg, context):
        pools = [p for p in cfg.node_pools if _admits(p, pod.tolerates_critical)]
        if not pools:
            continue  # reported by the schedulability rule
        rooms = [(_room(p, load), p) for p in pools]
        cpu, memory = parse_cpu(pod.cpu), parse_memory(pod.memory)
        best_cpu, cpu_pool = max(((r[0], p) for r, p in rooms), key=lambda x: x[0])
        best_memory, memory_pool = max(((r[1], p) for r, p in rooms), key=lambda x: x[0])
        where = "a node of a pool that admits it"
        if cpu > best_cpu:
            yield Problem(
                f"platform:{pod.section}.{pod.cpu_key}",
                pod.cpu,
                f"{pod.what} would never schedule: {where} offers at most {_cores(best_cpu)} "
                f"({cpu_pool.instance_types[0]} of pool {cpu_pool.name!r}, after the kubelet's "
                "reservation and the DaemonSets); lower it or add a pool of larger nodes",
            )
        if memory > best_memory:
            yield Problem(
                f"platform:{pod.section}.{pod.memory_key}",
                pod.memory,
                f"{pod.what} would never schedule: {where} offers at most {_gib(best_memory)} "
                f"({memory_pool.instance_types[0]} of pool {memory_pool.name!r}, after the "
                "kubelet's reservation and the DaemonSets); lower it or add a pool of larger nodes",
            )


@rule("nodePools", "logging")
def _fluentd_fits_every_node(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    if not cfg.logging.enabled:
        return
    res = cfg.logging.resources
    cpu, memory = parse_cpu(res.cpu), parse_memory(res.memory)
    for pool in cfg.node_pools:
        room_cpu, room_memory = _room(pool, (0, 0))
        node = f"{pool.instance_types[0]} of pool {pool.name!r}"
        if cpu > room_cpu:
            yield Problem(
                "platform:logging.resources.cpu",
                res.cpu,
                f"fluentd runs on every node, but {node} offers at most {_cores(room_cpu)}; "
                "lower it",
            )
        if memory > room_memory:
            yield Problem(
                "platform:logging.resources.memory",
                res.memory,
                f"fluentd runs on every node, but {node} offers at most {_gib(room_memory)}; "
                "lower it",
            )
        free = (pool.root_volume_size_gib - MIN_ROOT_VOLUME_GIB) * 2**30 - int(
            NODEFS_EVICTION_FRACTION * pool.root_volume_size_gib * 2**30
        )
        buffer = fluentd.parse_size(cfg.logging.buffer.total_limit_size)
        if buffer > free:
            yield Problem(
                "platform:logging.buffer.totalLimitSize",
                cfg.logging.buffer.total_limit_size,
                f"the buffer could fill the root volume of pool {pool.name!r} "
                f"({pool.root_volume_size_gib} GiB, of which at most {_gib(max(free, 0))} are "
                f"free once the AMI's {MIN_ROOT_VOLUME_GIB} GiB and the kubelet's 10% eviction "
                "margin are taken); lower it or raise that pool's rootVolumeSizeGib",
            )


@rule("nodePools", "network", "headroom", "logging")
def _headroom_capacity(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    h = cfg.headroom
    if not h.enabled or h.replicas == 0:
        return
    load = _fluentd_load(cfg, context)
    cpu, memory = parse_cpu(h.cpu), parse_memory(h.memory)
    capacity = 0
    for pool in cfg.node_pools:
        if not _admits(pool, False):
            continue
        room_cpu, room_memory = _room(pool, load)
        if room_cpu < cpu or room_memory < memory:
            continue
        per_node = min(math.floor(room_cpu / cpu), math.floor(room_memory / memory))
        capacity += per_node * pool.max_size * cfg.network.az_count
    if 0 < capacity < h.replicas:
        yield Problem(
            "platform:headroom.replicas",
            h.replicas,
            f"at most {capacity} pause pods of {h.cpu} CPU / {h.memory} fit on every untainted "
            "node the pools may ever have (maxSize per zone); lower replicas or raise maxSize",
        )


@rule("teams", "nodePools", "logging")
def _team_defaults_fit(cfg: ClusterConfig, context: PlanContext) -> Iterator[Problem]:
    load = _fluentd_load(cfg, context)
    rooms = [_room(p, load) for p in cfg.node_pools]
    most_cpu = max(r[0] for r in rooms)
    most_memory = max(r[1] for r in rooms)
    for i, team in enumerate(cfg.teams):
        lr = team.limit_range
        if parse_cpu(lr.default_request_cpu) > most_cpu:
            yield Problem(
                f"platform:teams[{i}].limitRange.defaultRequestCpu",
                lr.default_request_cpu,
                f"no node offers that much ({_cores(most_cpu)} at most): every pod left to the "
                "defaults would stay pending; lower it",
            )
        if parse_memory(lr.default_request_memory) > most_memory:
            yield Problem(
                f"platform:teams[{i}].limitRange.defaultRequestMemory",
                lr.default_request_memory,
                f"no node offers that much ({_gib(most_memory)} at most): every pod left to the "
                "defaults would stay pending; lower it",
            )


# --- teams --------------------------------------------------------------------------------------


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

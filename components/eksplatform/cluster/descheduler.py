"""Descheduler: a CronJob that moves pods off hot or unbalanced nodes, about twice a day.

The scheduler places a pod once; nodes come and go (spot interruptions, scale-ups) and the spread
it chose decays. The descheduler (kubernetes-sigs/descheduler) evicts pods that would now be
placed better, through the Eviction API, so PodDisruptionBudgets are honoured, and the scheduler
places their replacements. This module creates, in ``kube-system``:

* a ServiceAccount, a ClusterRole with only what the descheduler reads and the eviction it
  performs, and its ClusterRoleBinding;
* a ConfigMap holding the policy in the current API (``descheduler/v1alpha2``
  ``DeschedulerPolicy``): one profile with the DefaultEvictor, RemoveDuplicates,
  LowNodeUtilization (thresholds from config), RemovePodsViolatingTopologySpreadConstraint and
  RemovePodsHavingTooManyRestarts, eviction limits per node and per namespace, and the system and
  platform namespaces excluded from every strategy;
* a CronJob: schedule and time zone from config, ``concurrencyPolicy: Forbid``, a starting and an
  active deadline, short history, the image matching the cluster's minor version (the
  descheduler's client and policy follow Kubernetes releases one to one), Pod Security
  "restricted", requests, ``system-cluster-critical`` priority and the policy mounted read-only.

The schedule is validated by hand against the grammar Kubernetes accepts (robfig/cron's standard
parser: five fields or an ``@hourly``-style macro) rather than with a cron library: croniter and
friends accept seconds, years, ``L``/``W``/``#`` and other forms the API server refuses, so they
could not say "Kubernetes will reject this" exactly; the grammar is small enough to check
precisely here.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_kubernetes.batch.v1 import CronJobSpecArgs, JobSpecArgs, JobTemplateSpecArgs
from pulumi_kubernetes.core.v1 import (
    ConfigMapVolumeSourceArgs,
    ContainerArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs, SubjectArgs
from pydantic import field_validator, model_validator

from ..core import kube
from ..core.errors import Problems
from ..core.settings import DNS_LABEL, SettingsModel, field_error
from .priority import SYSTEM_CLUSTER_CRITICAL
from .versions import RELEASES

_TOKEN = "eksplatform:addons:Descheduler"

IMAGE_REPOSITORY = "registry.k8s.io/descheduler/descheduler"
IMAGE_TAGS: dict[int, str] = {minor: pin.version for minor, pin in RELEASES["descheduler"].items()}
"""Kubernetes minor -> the newest published descheduler release built for it (descheduler
``v0.N`` is built and tested against Kubernetes ``1.N``), from :data:`.versions.RELEASES` where
each carries its release tag. Add the line there when EKS adds a version."""

POLICY_FILE = "policy.yaml"
_POLICY_DIR = "/policy-dir"

# --- cron ---------------------------------------------------------------------------------------

_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    question: bool = False
    """``?`` is allowed (day-of-month and day-of-week only)."""

    def value(self, text: str) -> int:
        if text.upper() in self.names:
            return self.names.index(text.upper()) + (1 if self.name == "month" else 0)
        if not text.isdigit():
            raise ValueError(f"{self.name} {text!r} is not a number")
        number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(f"{self.name} {number} is outside {self.low}-{self.high}")
        return number


_CRON_FIELDS = (
    _CronField("minute", 0, 59),
    _CronField("hour", 0, 23),
    _CronField("day of month", 1, 31, question=True),
    _CronField("month", 1, 12, _MONTHS),
    _CronField("day of week", 0, 6, _DAYS, question=True),
)


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
"""Longest each month gets (February 29 comes in leap years)."""


def _check_cron_part(part: str, spec: _CronField) -> set[int]:
    """The values one comma-separated item of a field selects (``ValueError`` when invalid)."""
    body, _, step = part.partition("/")
    if "/" in part and (not step.isdigit() or int(step) == 0):
        raise ValueError(f"{spec.name} step {step!r} must be a positive number")
    stride = int(step) if step else 1
    if body in ("*", "?"):
        if body == "?" and not spec.question:
            raise ValueError("'?' is only allowed in the day-of-month and day-of-week fields")
        return set(range(spec.low, spec.high + 1, stride))
    low_text, dash, high_text = body.partition("-")
    if not low_text:
        raise ValueError(
            f"{spec.name} entry {part!r} has no value; write a number, a range like 1-5, or *"
        )
    low = spec.value(low_text)
    high = spec.high if step and not dash else low
    if dash:
        high = spec.value(high_text)
        if low > high:
            raise ValueError(f"{spec.name} range {body!r} runs backwards")
    return set(range(low, high + 1, stride))


def _is_star(field: str) -> bool:
    """Kubernetes' cron parser (robfig/cron) treats ``*``, ``?`` and ``*/1`` as "any"; a
    day-of-month and a day-of-week that are both restricted match either (OR), otherwise both."""
    return field in ("*", "?", "*/1", "?/1")


def check_cron(expression: str) -> str:
    """Check a CronJob schedule as Kubernetes parses it; ``ValueError`` saying what is wrong."""
    text = expression.strip()
    if text != expression:
        raise ValueError(
            f"has {'a line break' if expression.strip(' ') != text else 'spaces'} around it: "
            f"write the schedule alone, like {text or '15 3,15 * * *'!r}"
        )
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise ValueError("do not put TZ= in the schedule; set timeZone instead")
    if text.startswith("@"):
        if text in _MACROS:
            return expression
        raise ValueError(f"unknown macro; use one of {', '.join(_MACROS)} or five fields")
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"has {len(parts)} field{'' if len(parts) == 1 else 's'}; a CronJob schedule has 5: minute hour day-of-month "
            'month day-of-week, like "15 3,15 * * *"'
        )
    selected = []
    for part, spec in zip(parts, _CRON_FIELDS, strict=True):
        values: set[int] = set()
        for item in part.split(","):
            values |= _check_cron_part(item, spec)
        selected.append(values)
    days, months = selected[2], selected[3]
    restricted_day = not _is_star(parts[2]) and _is_star(parts[4])
    if restricted_day and not any(d <= _DAYS_IN_MONTH[m - 1] for m in months for d in days):
        month_names = ", ".join(_MONTHS[m - 1] for m in sorted(months))
        raise ValueError(
            f"never runs: day {', '.join(map(str, sorted(days)))} of {month_names} never "
            "comes; pick a day the month has"
        )
    return expression


# --- configuration ------------------------------------------------------------------------------


class UtilizationThresholds(SettingsModel):
    """Percentages of a node's allocatable capacity taken by pod requests (a node under all of
    them is underutilized)."""

    cpu: int = 20
    """Default: 20."""
    memory: int = 20
    """Default: 20."""
    pods: int = 20
    """Default: 20."""

    @field_validator("cpu", "memory", "pods")
    @classmethod
    def _percentage(cls, v: int) -> int:
        if not 0 <= v <= 100:
            raise ValueError("a percentage: 0 to 100")
        return v


class TargetThresholds(UtilizationThresholds):
    """Percentages above which a node is overutilized (any of them)."""

    cpu: int = 60
    """Default: 60."""
    memory: int = 60
    """Default: 60."""
    pods: int = 60
    """Default: 60."""


class LowNodeUtilizationConfig(SettingsModel):
    """LowNodeUtilization: evict from nodes above ``targetThresholds`` (any resource) when some
    nodes are below ``thresholds`` (every resource), so the pods land on the cold nodes."""

    thresholds: UtilizationThresholds = UtilizationThresholds()
    """A node under all of these is underutilized. Default: cpu 20, memory 20, pods 20 (each
    key keeps its default when the section names others)."""
    target_thresholds: TargetThresholds = TargetThresholds()
    """A node over any of these is overutilized. Default: cpu 60, memory 60, pods 60."""
    number_of_nodes: int = 0
    """Act only when more than this many nodes are underutilized. Default: 0."""

    @model_validator(mode="after")
    def _below_targets(self) -> LowNodeUtilizationConfig:
        bad = [
            f"{r} {getattr(self.thresholds, r)} >= {getattr(self.target_thresholds, r)}"
            for r in ("cpu", "memory", "pods")
            if getattr(self.thresholds, r) >= getattr(self.target_thresholds, r)
        ]
        if bad:
            raise field_error(
                "thresholds",
                f"each threshold must be below its targetThresholds value ({'; '.join(bad)}); "
                "lower the threshold or raise the target",
            )
        return self


class DeschedulerConfig(SettingsModel):
    """``platform:descheduler``: the descheduler CronJob."""

    enabled: bool = True
    """Default: true."""
    schedule: str = "15 3,15 * * *"
    """Cron schedule (five fields or ``@daily``-style). Default: ``15 3,15 * * *`` (twice a
    day, 03:15 and 15:15, away from the full hour when other jobs start)."""
    time_zone: str = "Etc/UTC"
    """IANA time zone the schedule is read in. Default: Etc/UTC."""
    low_node_utilization: LowNodeUtilizationConfig = LowNodeUtilizationConfig()
    """Default: thresholds 20/20/20, targets 60/60/60 (cpu/memory/pods %)."""
    max_pods_to_evict_per_node: int = 5
    """Eviction cap per node per run, all strategies together. Default: 5."""
    max_pods_to_evict_per_namespace: int = 5
    """Eviction cap per namespace per run. Default: 5."""
    pod_restart_threshold: int = 100
    """RemovePodsHavingTooManyRestarts evicts a pod at this many restarts (init containers
    included). Default: 100."""
    excluded_namespaces: tuple[str, ...] = ("kube-system", "kube-public", "kube-node-lease")
    """Namespaces no strategy touches; the platform's own namespaces (``logging``...) are added by
    the cluster program. Default: kube-system, kube-public, kube-node-lease."""
    active_deadline_seconds: int = 900
    """A run is killed after this long. Default: 900."""
    starting_deadline_seconds: int = 600
    """A run missed by more than this (controller down) is skipped. Default: 600."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        return check_cron(v)

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, v: str) -> str:
        if v not in _time_zones():
            raise ValueError(
                "not an IANA time zone name; write it like Etc/UTC or Europe/London "
                "(abbreviations such as PST are not zone names)"
            )
        return v

    @field_validator("max_pods_to_evict_per_node", "max_pods_to_evict_per_namespace")
    @classmethod
    def _limit(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be 1 or more (set enabled: false to stop evictions)")
        return v

    @field_validator("pod_restart_threshold")
    @classmethod
    def _restarts(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be 1 or more")
        return v

    @field_validator("active_deadline_seconds", "starting_deadline_seconds")
    @classmethod
    def _deadline(cls, v: int) -> int:
        if not 60 <= v <= 86400:
            raise ValueError("must be 60 to 86400 seconds")
        return v

    @field_validator("excluded_namespaces")
    @classmethod
    def _namespaces(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [ns for ns in v if not DNS_LABEL.match(ns)]
        if bad:
            raise ValueError(
                f"not namespace names: {', '.join(map(repr, bad))}; "
                "lowercase letters, digits and '-'"
            )
        return v


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# --- policy -------------------------------------------------------------------------------------


def build_policy(
    settings: DeschedulerConfig, excluded_namespaces: tuple[str, ...]
) -> dict[str, Any]:
    """The ``DeschedulerPolicy`` (descheduler/v1alpha2) as a plain dict."""
    lnu = settings.low_node_utilization
    return {
        "apiVersion": "descheduler/v1alpha2",
        "kind": "DeschedulerPolicy",
        "maxNoOfPodsToEvictPerNode": settings.max_pods_to_evict_per_node,
        "maxNoOfPodsToEvictPerNamespace": settings.max_pods_to_evict_per_namespace,
        "profiles": [
            {
                "name": "platform",
                "pluginConfig": [
                    {
                        "name": "DefaultEvictor",
                        "args": {
                            # never system-critical pods, pods with emptyDir/hostPath data, or
                            # bare pods; only move a pod if another node can take it
                            "evictSystemCriticalPods": False,
                            "evictLocalStoragePods": False,
                            "evictFailedBarePods": False,
                            "ignorePvcPods": True,
                            "nodeFit": True,
                        },
                    },
                    {
                        "name": "RemoveDuplicates",
                        "args": {"namespaces": {"exclude": list(excluded_namespaces)}},
                    },
                    {
                        "name": "LowNodeUtilization",
                        "args": {
                            "thresholds": lnu.thresholds.model_dump(),
                            "targetThresholds": lnu.target_thresholds.model_dump(),
                            "numberOfNodes": lnu.number_of_nodes,
                            "evictableNamespaces": {"exclude": list(excluded_namespaces)},
                        },
                    },
                    {
                        "name": "RemovePodsViolatingTopologySpreadConstraint",
                        "args": {
                            "constraints": ["DoNotSchedule"],
                            "namespaces": {"exclude": list(excluded_namespaces)},
                        },
                    },
                    {
                        "name": "RemovePodsHavingTooManyRestarts",
                        "args": {
                            "podRestartThreshold": settings.pod_restart_threshold,
                            "includingInitContainers": True,
                            "namespaces": {"exclude": list(excluded_namespaces)},
                        },
                    },
                ],
                "plugins": {
                    "balance": {
                        "enabled": [
                            "RemoveDuplicates",
                            "LowNodeUtilization",
                            "RemovePodsViolatingTopologySpreadConstraint",
                        ]
                    },
                    "deschedule": {"enabled": ["RemovePodsHavingTooManyRestarts"]},
                },
            }
        ],
    }


def render_policy(policy: dict[str, Any]) -> str:
    return yaml.safe_dump(policy, sort_keys=False, default_flow_style=False)


def descheduler_image(kubernetes_version: str) -> str:
    """The descheduler image for a ``1.MINOR`` cluster; ``KeyError`` when none is known."""
    minor = int(kubernetes_version.split(".")[1])
    return f"{IMAGE_REPOSITORY}:{IMAGE_TAGS[minor]}"


# --- component ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DeschedulerArgs:
    """Inputs of :class:`Descheduler`."""

    kubernetes_version: str
    """``1.MINOR`` of the cluster: picks the image."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster."""
    settings: DeschedulerConfig = field(default_factory=DeschedulerConfig)
    """Default: every :class:`DeschedulerConfig` default."""
    extra_excluded_namespaces: tuple[str, ...] = ()
    """Further namespaces to keep out of every strategy (the platform's). Default: none."""
    namespace: str = "kube-system"
    """Where the CronJob runs. Default: kube-system (critical pods' home)."""
    cpu: str = "100m"
    """CPU request. Default: 100m."""
    memory: str = "256Mi"
    """Memory request and limit. Default: 256Mi."""


def validate_descheduler_args(args: DeschedulerArgs) -> None:
    problems = Problems()
    m = re.match(r"^1\.(\d+)\Z", args.kubernetes_version)
    if not m:
        problems.add("kubernetes_version", args.kubernetes_version, 'write it as "1.MINOR"')
    elif int(m.group(1)) not in IMAGE_TAGS:
        known = ", ".join(f"1.{k}" for k in sorted(IMAGE_TAGS))
        problems.add(
            "kubernetes_version",
            args.kubernetes_version,
            f"no descheduler release is known for this version (known: {known}); add the "
            f"matching {IMAGE_REPOSITORY} tag to IMAGE_TAGS in eksplatform/descheduler.py",
        )
    for ns in (args.namespace, *args.extra_excluded_namespaces):
        if not DNS_LABEL.match(ns):
            problems.add("namespace", ns, "not a namespace name (lowercase letters, digits, '-')")
    for name, value, parse in (
        ("cpu", args.cpu, kube.parse_cpu),
        ("memory", args.memory, kube.parse_memory),
    ):
        try:
            parse(value)
        except ValueError as exc:
            problems.add(name, value, str(exc))
    problems.raise_if_any("Descheduler")


class Descheduler(pulumi.ComponentResource):
    """The descheduler CronJob with its RBAC and policy."""

    namespace: pulumi.Output[str]
    cron_job_name: pulumi.Output[str]
    image: pulumi.Output[str]
    schedule: pulumi.Output[str]
    policy: pulumi.Output[str]
    """The rendered DeschedulerPolicy YAML."""

    def __init__(
        self, name: str, args: DeschedulerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_descheduler_args(args)
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        settings = args.settings
        image = descheduler_image(args.kubernetes_version)
        tag = image.rsplit(":", 1)[1]
        labels = kube.recommended_labels(
            "descheduler", component="descheduler", part_of="eksplatform", version=tag
        )
        selector = kube.selector_labels(labels)
        excluded = tuple(
            dict.fromkeys((*settings.excluded_namespaces, *args.extra_excluded_namespaces))
        )
        policy_text = render_policy(build_policy(settings, excluded))

        def meta(object_name: str, *, namespaced: bool = True) -> ObjectMetaArgs:
            return ObjectMetaArgs(
                name=object_name,
                namespace=args.namespace if namespaced else None,
                labels=labels,
            )

        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=meta("descheduler"),
            automount_service_account_token=True,
            opts=child,
        )
        kube.bound_role(
            f"{name}-role",
            f"{name}-binding",
            name="eksplatform:descheduler",
            labels=labels,
            rules=[
                # read what it balances
                PolicyRuleArgs(
                    api_groups=[""],
                    resources=["nodes", "namespaces", "pods"],
                    verbs=["get", "list", "watch"],
                ),
                # evict through the Eviction API (PDBs honoured); no pod delete
                PolicyRuleArgs(api_groups=[""], resources=["pods/eviction"], verbs=["create"]),
                # DefaultEvictor's priority threshold and PDB checks
                PolicyRuleArgs(
                    api_groups=["scheduling.k8s.io"],
                    resources=["priorityclasses"],
                    verbs=["get", "list", "watch"],
                ),
                PolicyRuleArgs(
                    api_groups=["policy"],
                    resources=["poddisruptionbudgets"],
                    verbs=["get", "list", "watch"],
                ),
                # eviction events
                PolicyRuleArgs(
                    api_groups=["", "events.k8s.io"],
                    resources=["events"],
                    verbs=["create", "update", "patch"],
                ),
                # no leases: a CronJob run is a single pod, leader election stays off
            ],
            subjects=[
                SubjectArgs(
                    kind="ServiceAccount", name=account.metadata.name, namespace=args.namespace
                )
            ],
            opts=child,
            depends_on=[account],
        )
        policy = k8s.core.v1.ConfigMap(
            f"{name}-policy",
            metadata=meta("descheduler-policy"),
            data={POLICY_FILE: policy_text},
            opts=child,
        )
        pod = PodSpecArgs(
            service_account_name=account.metadata.name,
            restart_policy="Never",
            priority_class_name=SYSTEM_CLUSTER_CRITICAL,
            security_context=kube.pod_security_context(),
            containers=[
                ContainerArgs(
                    name="descheduler",
                    image=image,
                    command=["/bin/descheduler"],
                    args=[f"--policy-config-file={_POLICY_DIR}/{POLICY_FILE}", "--v=3"],
                    resources=kube.resources(args.cpu, args.memory),
                    security_context=kube.container_security_context(),
                    volume_mounts=[
                        VolumeMountArgs(name="policy", mount_path=_POLICY_DIR, read_only=True)
                    ],
                )
            ],
            volumes=[
                VolumeArgs(
                    name="policy",
                    config_map=ConfigMapVolumeSourceArgs(name=policy.metadata.name),
                )
            ],
        )
        cron = k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=meta("descheduler"),
            spec=CronJobSpecArgs(
                schedule=settings.schedule,
                time_zone=settings.time_zone,
                concurrency_policy="Forbid",
                starting_deadline_seconds=settings.starting_deadline_seconds,
                successful_jobs_history_limit=1,
                failed_jobs_history_limit=3,
                job_template=JobTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=labels),
                    spec=JobSpecArgs(
                        active_deadline_seconds=settings.active_deadline_seconds,
                        backoff_limit=0,
                        template=PodTemplateSpecArgs(
                            metadata=ObjectMetaArgs(labels={**labels, **selector}),
                            spec=pod,
                        ),
                    ),
                ),
            ),
            opts=child,
        )
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.cron_job_name = cron.metadata.name
        self.image = pulumi.Output.from_input(image)
        self.schedule = pulumi.Output.from_input(settings.schedule)
        self.policy = pulumi.Output.from_input(policy_text)
        self.register_outputs(
            {"cronJobName": self.cron_job_name, "image": self.image, "schedule": self.schedule}
        )

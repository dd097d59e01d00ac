"""Stack guardrails: rules that need several resources at once (a Deployment and its PDB, a
service and its alarms). They read outputs, as CrossGuard's stack policies do, and cannot be
admission policies (admission sees one object at a time)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..core.devenv import DEV_PREFIX
from ._props import as_list, as_map, dig, number, tags_of
from .kubernetes import NAME_LABEL, namespace_of, pod_template
from .model import Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

SCALABLE = frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"})
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPAS = frozenset(
    {
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    }
)


def _name(r: Resource) -> str:
    return str(dig(r.props, "metadata", "name") or r.name)


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    match = as_map(selector.get("matchLabels"))
    if not match and not as_list(selector.get("matchExpressions")):
        return False  # an empty PDB selector selects nothing useful here
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in as_list(selector.get("matchExpressions")):
        e = as_map(expr)
        key, op, values = str(e.get("key")), e.get("operator"), list(as_list(e.get("values")))
        present = key in labels
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and present and labels.get(key) in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


def least_replicas(workload: Resource, hpas: Sequence[Resource]) -> int:
    """The fewest pods the workload runs: its HPA's minReplicas, else spec.replicas (1)."""
    for h in hpas:
        ref = as_map(dig(h.props, "spec", "scaleTargetRef"))
        if (
            ref.get("name") == _name(workload)
            and ref.get("kind") == workload.type.rsplit(":", 1)[-1]
            and namespace_of(h) == namespace_of(workload)
        ):
            return int(number(dig(h.props, "spec", "minReplicas")) or 1)
    return int(number(dig(workload.props, "spec", "replicas")) or 1)


def _check_pdbs(
    resources: Sequence[Resource], s: GuardrailSettings
) -> Iterator[tuple[str | None, str]]:
    pdbs = [r for r in resources if r.type == PDB]
    hpas = [r for r in resources if r.type in HPAS]
    for w in resources:
        if w.type not in SCALABLE:
            continue
        replicas = least_replicas(w, hpas)
        if replicas < 2:
            continue
        labels = as_map(dig(pod_template(w), "metadata", "labels"))
        covered = any(
            namespace_of(p) == namespace_of(w)
            and _selects(as_map(dig(p.props, "spec", "selector")), labels)
            for p in pdbs
        )
        if not covered:
            yield (
                w.urn,
                f"{w.type.rsplit(':', 1)[-1]} {namespace_of(w)}/{_name(w)} runs {replicas} "
                "replicas and no PodDisruptionBudget selects its pods",
            )


PDB_FOR_REPLICATED = Rule(
    id="k8s-pdb-multi-replica",
    title="Every multi-replica Deployment has a PodDisruptionBudget",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="add a policy/v1 PodDisruptionBudget selecting the pods (ServiceStack does)",
    stack_check=_check_pdbs,
)

ALARMS = frozenset({"aws:cloudwatch/metricAlarm:MetricAlarm"})
MONITORS = frozenset({"datadog:index/monitor:Monitor"})


def _service_name(w: Resource) -> str:
    labels = as_map(dig(w.props, "metadata", "labels"))
    return str(labels.get(NAME_LABEL) or _name(w))


def _alarmed_services(resources: Sequence[Resource]) -> set[str]:
    found: set[str] = set()
    for r in resources:
        if r.type in ALARMS and as_list(r.props.get("alarmActions")):
            service = tags_of(r.props).get("service")
            if service:
                found.add(service)
        elif r.type in MONITORS:
            for tag in as_list(r.props.get("tags")):
                if isinstance(tag, str) and tag.startswith("service:"):
                    found.add(tag.removeprefix("service:"))
    return found


def _check_alarms(
    resources: Sequence[Resource], s: GuardrailSettings
) -> Iterator[tuple[str | None, str]]:
    alarmed = _alarmed_services(resources)
    for w in resources:
        if w.type not in SCALABLE or namespace_of(w) in s.platform_namespaces:
            continue
        # A developer's copy (dev-<developer>, issue 15) lives for days and must not page the
        # team: it has no alarms by design.
        if str(namespace_of(w) or "").startswith(DEV_PREFIX):
            continue
        service = _service_name(w)
        if service not in alarmed:
            yield (
                w.urn,
                f"service {service!r} has no CloudWatch alarm with an action (tag service="
                f"{service}) and no Datadog monitor tagged service:{service}",
            )


SERVICE_ALARMS = Rule(
    id="svc-alarms",
    title="Every service has alarms or monitors that notify someone, with an ALB or without "
    "(developer copies in dev-* namespaces excepted)",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="ServiceStack alarms cover ALB services; add an alarm tagged service=<name> with "
    "alarm_actions (a worker: its queue's oldest message age) or a Datadog monitor",
    stack_check=_check_alarms,
    config=("platformNamespaces",),
)

STACK_RULES = (PDB_FOR_REPLICATED, SERVICE_ALARMS)

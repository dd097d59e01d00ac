"""Shared building blocks for the Kubernetes objects the library creates.

Every pod the platform or a service runs gets its security context, resources, labels and zone
spread from here, so the defaults (Pod Security "restricted", memory limit equal to the request,
no CPU limit, the recommended labels) are decided once. Quantities are parsed here too, so a
``"100x"`` CPU value is refused with a clear message before anything is registered.

The objects every component makes the same way are registered here too: a role and its binding
(:func:`bound_role`: the binding after the role and the ServiceAccount it names), a
PodDisruptionBudget (:func:`disruption_budget`) and a restricted platform namespace
(:func:`restricted_namespace`). The caller still passes the logical names, so the URNs stay
each component's own. Cost: these few functions create resources, unlike the rest of the
module, so they take the caller's ``ResourceOptions`` (parent, provider) as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import (
    AffinityArgs,
    CapabilitiesArgs,
    NodeAffinityArgs,
    NodeSelectorRequirementArgs,
    NodeSelectorTermArgs,
    PodSecurityContextArgs,
    PreferredSchedulingTermArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
    TolerationArgs,
    TopologySpreadConstraintArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgs
from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs, RoleRefArgs, SubjectArgs
from pydantic import AfterValidator

MANAGED_BY_LABEL = "eksplatform"
"""Value of ``app.kubernetes.io/managed-by`` on every object the library creates."""

ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"

_CPU = re.compile(r"^(\d+(\.\d+)?|\.\d+)(m)?\Z")
_MEMORY = re.compile(r"^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?\Z")
_MEMORY_FACTORS = {
    None: 1,
    "m": 0.001,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def parse_cpu(quantity: str) -> float:
    """CPU quantity (``"250m"``, ``"0.5"``, ``"2"``) in millicores; ``ValueError`` otherwise."""
    m = _CPU.match(str(quantity).strip())
    if not m:
        raise ValueError(
            f"{quantity!r} is not a CPU quantity; write millicores like '250m' or cores like '0.5'"
        )
    value = float(m.group(1))
    return value if m.group(3) else value * 1000


def parse_memory(quantity: str) -> int:
    """Memory quantity (``"128Mi"``, ``"1Gi"``, ``"500M"``) in bytes; ``ValueError`` otherwise."""
    m = _MEMORY.match(str(quantity).strip())
    if not m:
        raise ValueError(f"{quantity!r} is not a memory quantity; write it like '128Mi' or '1Gi'")
    return int(float(m.group(1)) * _MEMORY_FACTORS[m.group(3)])


def container_security_context(
    *, uid: int | None = None, read_only_root_filesystem: bool = True
) -> SecurityContextArgs:
    """Pod Security "restricted" for one container: non-root, no privilege escalation, every
    capability dropped, RuntimeDefault seccomp, read-only root filesystem."""
    return SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        read_only_root_filesystem=read_only_root_filesystem,
        allow_privilege_escalation=False,
        privileged=False,
        capabilities=CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security_context(
    *, uid: int = 65532, fs_group: int | None = None
) -> PodSecurityContextArgs:
    """Pod Security "restricted" at pod level (non-root uid, RuntimeDefault seccomp).

    Default uid 65532 is the distroless ``nonroot`` user."""
    return PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=fs_group,
        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(cpu: str, memory: str, *, cpu_limit: str | None = None) -> ResourceRequirementsArgs:
    """Requests, with the memory limit equal to the request (no overcommit) and no CPU limit
    unless asked (CPU limits throttle latency-sensitive work even when the node is idle)."""
    limits = {"memory": memory}
    if cpu_limit is not None:
        limits["cpu"] = cpu_limit
    return ResourceRequirementsArgs(requests={"cpu": cpu, "memory": memory}, limits=limits)


def recommended_labels(
    name: str,
    *,
    component: str,
    part_of: str,
    instance: str | None = None,
    version: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Kubernetes recommended labels (``app.kubernetes.io/*``) plus ``extra``."""
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance or name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": part_of,
        "app.kubernetes.io/managed-by": MANAGED_BY_LABEL,
    }
    if version is not None:
        labels["app.kubernetes.io/version"] = version
    labels.update(extra or {})
    return labels


def pod_security_labels(
    enforce: str, *, warn: str | None = None, audit: str | None = None, version: str | None = None
) -> dict[str, str]:
    """A namespace's Pod Security admission labels: the ``enforce`` level, ``warn`` and ``audit``
    (each defaults to ``enforce``), each pinned to ``version`` when given (unpinned: the
    admission controller's own version)."""
    labels: dict[str, str] = {}
    for mode, level in (
        ("enforce", enforce),
        ("warn", warn or enforce),
        ("audit", audit or enforce),
    ):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        if version is not None:
            labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return labels


def selector_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The immutable subset of ``labels`` a Deployment selects on (name and instance)."""
    keys = ("app.kubernetes.io/name", "app.kubernetes.io/instance")
    return {k: labels[k] for k in keys if k in labels}


def zone_spread(
    selector: Mapping[str, str], *, max_skew: int = 1, hard: bool = False
) -> list[TopologySpreadConstraintArgs]:
    """Spread across zones (hard or best effort) and, best effort, across nodes."""
    match = LabelSelectorArgs(match_labels=dict(selector))
    return [
        TopologySpreadConstraintArgs(
            max_skew=max_skew,
            topology_key=ZONE_KEY,
            when_unsatisfiable="DoNotSchedule" if hard else "ScheduleAnyway",
            label_selector=match,
        ),
        TopologySpreadConstraintArgs(
            max_skew=max_skew,
            topology_key=HOST_KEY,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=match,
        ),
    ]


def _valid_cpu(value: str) -> str:
    parse_cpu(value)
    return value


def _valid_memory(value: str) -> str:
    parse_memory(value)
    return value


CpuQuantity = Annotated[str, AfterValidator(_valid_cpu)]
"""A settings field holding a CPU quantity (``"250m"``, ``"0.5"``), checked on parse."""
MemoryQuantity = Annotated[str, AfterValidator(_valid_memory)]
"""A settings field holding a memory quantity (``"256Mi"``, ``"1Gi"``), checked on parse."""


def preferred_affinity(labels: Mapping[str, str]) -> AffinityArgs | None:
    """Soft node affinity for ``labels`` (None when empty)."""
    if not labels:
        return None
    return AffinityArgs(
        node_affinity=NodeAffinityArgs(
            preferred_during_scheduling_ignored_during_execution=[
                PreferredSchedulingTermArgs(
                    weight=100,
                    preference=NodeSelectorTermArgs(
                        match_expressions=[
                            NodeSelectorRequirementArgs(key=k, operator="In", values=[v])
                            for k, v in sorted(labels.items())
                        ]
                    ),
                )
            ]
        )
    )


CRITICAL_ADDONS_TOLERATION = TolerationArgs(key="CriticalAddonsOnly", operator="Exists")
"""Lets platform add-ons onto nodes reserved for critical add-ons."""


def restricted_namespace(
    resource_name: str,
    *,
    name: str,
    opts: pulumi.ResourceOptions,
    labels: Mapping[str, str] | None = None,
) -> k8s.core.v1.Namespace:
    """A namespace the platform manages (``app.kubernetes.io/managed-by``, then ``labels``)
    whose pods must meet Pod Security "restricted" (enforced, warned and audited)."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=ObjectMetaArgs(
            name=name,
            labels={
                "app.kubernetes.io/managed-by": MANAGED_BY_LABEL,
                **(labels or {}),
                **pod_security_labels("restricted"),
            },
        ),
        opts=opts,
    )


RBAC_API_GROUP = "rbac.authorization.k8s.io"


def bound_role(
    role_resource: str,
    binding_resource: str,
    *,
    name: str,
    labels: Mapping[str, str],
    rules: Sequence[PolicyRuleArgs],
    subjects: Sequence[SubjectArgs],
    opts: pulumi.ResourceOptions,
    namespace: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.rbac.v1.ClusterRoleBinding | k8s.rbac.v1.RoleBinding:
    """A role holding ``rules`` and its binding to ``subjects``, both named ``name``: a ClusterRole
    when ``namespace`` is None, else a Role in it. The binding is registered after the role and
    ``depends_on`` (a ServiceAccount subject, say); returns it, for the workload to wait on.

    ``role_resource`` and ``binding_resource`` are the logical names (part of the URNs)."""
    cluster_wide = namespace is None
    role_type: type[k8s.rbac.v1.ClusterRole] | type[k8s.rbac.v1.Role] = (
        k8s.rbac.v1.ClusterRole if cluster_wide else k8s.rbac.v1.Role
    )
    binding_type: type[k8s.rbac.v1.ClusterRoleBinding] | type[k8s.rbac.v1.RoleBinding] = (
        k8s.rbac.v1.ClusterRoleBinding if cluster_wide else k8s.rbac.v1.RoleBinding
    )
    role = role_type(
        role_resource,
        metadata=ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels)),
        rules=rules,
        opts=opts,
    )
    return binding_type(
        binding_resource,
        metadata=ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels)),
        role_ref=RoleRefArgs(
            api_group=RBAC_API_GROUP, kind="ClusterRole" if cluster_wide else "Role", name=name
        ),
        subjects=subjects,
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[role, *depends_on])
        ),
    )


def disruption_budget(
    resource_name: str,
    *,
    metadata: ObjectMetaArgs,
    selector: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    max_unavailable: int = 1,
    unhealthy_pod_eviction_policy: str | None = None,
) -> k8s.policy.v1.PodDisruptionBudget:
    """A PodDisruptionBudget over the pods ``selector`` matches: voluntary evictions (node drains,
    the descheduler, consolidation) take at most ``max_unavailable`` of them at a time.

    ``unhealthy_pod_eviction_policy``: None leaves the API's default (``IfHealthyBudget``)."""
    return k8s.policy.v1.PodDisruptionBudget(
        resource_name,
        metadata=metadata,
        spec=PodDisruptionBudgetSpecArgs(
            max_unavailable=max_unavailable,
            selector=LabelSelectorArgs(match_labels=dict(selector)),
            unhealthy_pod_eviction_policy=unhealthy_pod_eviction_policy,
        ),
        opts=opts,
    )

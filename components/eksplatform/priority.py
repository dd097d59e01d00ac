"""PriorityClasses of the cluster, decided once and used consistently.

From highest to lowest (the built-in ``system-node-critical`` and ``system-cluster-critical``
sit above all of these and are used by the add-ons that keep nodes and the cluster alive):

=====================  ==========  =========================================================
``platform-critical``   1000000    platform add-ons that are not system-critical (VPA, ...)
``service-default``     1000       every service's pods (the cluster's global default)
``overprovisioning``    -5         headroom pause pods: preempted by anything real, yet at or
                                   above the Cluster Autoscaler's expendable cutoff (-10) so
                                   the autoscaler still adds nodes for them
=====================  ==========  =========================================================

:class:`PriorityClasses` creates the three objects; every component whose pods name one of them
depends on it. ``overprovisioning`` is the only class with ``preemptionPolicy: Never`` (see
:data:`PRIORITY_CLASSES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .kube import MANAGED_BY_LABEL

SYSTEM_NODE_CRITICAL = "system-node-critical"
"""Built-in; for DaemonSets every node needs (log shipping, CNI)."""
SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical"
"""Built-in; for add-ons the cluster cannot run without (autoscaler, interruption handler)."""

PLATFORM_CRITICAL = "platform-critical"
PLATFORM_CRITICAL_VALUE = 1_000_000
SERVICE_DEFAULT = "service-default"
SERVICE_DEFAULT_VALUE = 1000
OVERPROVISIONING = "overprovisioning"
OVERPROVISIONING_VALUE = -5

EXPENDABLE_PODS_PRIORITY_CUTOFF = -10
"""Cluster Autoscaler's ``--expendable-pods-priority-cutoff``: pods below it never trigger a
scale-up. The autoscaler is started with this value and headroom pods sit at or above it."""


# --- the PriorityClass objects ------------------------------------------------------------------

_TOKEN = "eksplatform:cluster:PriorityClasses"


@dataclass(frozen=True)
class PriorityClassSpec:
    """One PriorityClass the platform defines."""

    name: str
    value: int
    description: str
    global_default: bool = False
    preemption_policy: str = "PreemptLowerPriority"


PRIORITY_CLASSES: tuple[PriorityClassSpec, ...] = (
    PriorityClassSpec(
        PLATFORM_CRITICAL,
        PLATFORM_CRITICAL_VALUE,
        "Platform add-ons that are not system-critical (VPA, descheduler...): scheduled before "
        "any service pod and preempting them when the cluster is full.",
    ),
    PriorityClassSpec(
        SERVICE_DEFAULT,
        SERVICE_DEFAULT_VALUE,
        "Every service's pods; the cluster's global default, so a pod without a class gets it.",
        global_default=True,
    ),
    PriorityClassSpec(
        OVERPROVISIONING,
        OVERPROVISIONING_VALUE,
        "Headroom pause pods: below every workload so any real pod preempts them, at or above "
        "the Cluster Autoscaler's expendable cutoff so they still make it add nodes. They never "
        "preempt anything themselves.",
        preemption_policy="Never",
    ),
)
"""The platform's classes, highest first.

``overprovisioning`` has ``preemptionPolicy: Never``: a pending pause pod waits for the autoscaler
to add a node instead of evicting anything (preemption only ever goes the other way: a real pod,
``PreemptLowerPriority``, evicts pause pods). The policy only affects what the pause pods do, not
whether they can be preempted."""


@dataclass(frozen=True, kw_only=True)
class PriorityClassesArgs:
    """Inputs of :class:`PriorityClasses`."""

    provider: k8s.Provider
    """Kubernetes provider of the cluster. Required."""
    service_default_is_global: bool = True
    """Make ``service-default`` the cluster's global default (pods without a class get it).
    Default: true."""


class PriorityClasses(pulumi.ComponentResource):
    """The platform's PriorityClass objects (``platform-critical``, ``service-default``,
    ``overprovisioning``). Components whose pods use them depend on this component, so the API
    server never sees a pod naming a class that does not exist yet."""

    names: dict[str, str]
    """Class name -> class name (the physical names are fixed: pods reference them)."""
    values: dict[str, int]
    """Class name -> priority value."""

    def __init__(
        self, name: str, args: PriorityClassesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.names = {}
        self.values = {}
        for spec in PRIORITY_CLASSES:
            k8s.scheduling.v1.PriorityClass(
                f"{name}-{spec.name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=spec.name,
                    labels={"app.kubernetes.io/managed-by": MANAGED_BY_LABEL},
                ),
                value=spec.value,
                global_default=spec.global_default and args.service_default_is_global,
                preemption_policy=spec.preemption_policy,
                description=spec.description,
                opts=child,
            )
            self.names[spec.name] = spec.name
            self.values[spec.name] = spec.value
        self.register_outputs({"names": self.names, "values": self.values})

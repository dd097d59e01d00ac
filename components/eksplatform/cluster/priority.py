"""PriorityClasses of the cluster, decided once and used consistently.

The names, values and their order are in :mod:`eksplatform.core.priorities` (service pods name
them too).

:class:`PriorityClasses` creates the three objects; every component whose pods name one of them
depends on it. ``overprovisioning`` is the only class with ``preemptionPolicy: Never`` (see
:data:`PRIORITY_CLASSES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..core.kube import MANAGED_BY_LABEL

# Re-exported: the cluster components name these through this module.
from ..core.priorities import (
    EXPENDABLE_PODS_PRIORITY_CUTOFF as EXPENDABLE_PODS_PRIORITY_CUTOFF,
)
from ..core.priorities import (
    OVERPROVISIONING as OVERPROVISIONING,
)
from ..core.priorities import (
    OVERPROVISIONING_VALUE as OVERPROVISIONING_VALUE,
)
from ..core.priorities import (
    PLATFORM_CRITICAL as PLATFORM_CRITICAL,
)
from ..core.priorities import (
    PLATFORM_CRITICAL_VALUE as PLATFORM_CRITICAL_VALUE,
)
from ..core.priorities import (
    SERVICE_DEFAULT as SERVICE_DEFAULT,
)
from ..core.priorities import (
    SERVICE_DEFAULT_VALUE as SERVICE_DEFAULT_VALUE,
)
from ..core.priorities import (
    SYSTEM_CLUSTER_CRITICAL as SYSTEM_CLUSTER_CRITICAL,
)
from ..core.priorities import (
    SYSTEM_NODE_CRITICAL as SYSTEM_NODE_CRITICAL,
)

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

"""A developer stack's namespace: ``dev-<developer>`` with its ResourceQuota and LimitRange.

The values come from the cluster's contract (``devEnvironments.quota`` / ``limitRange``, set by
the platform in ``platform:devEnvironments``): the cluster's admission policies accept a
developer namespace's quota and limits only when they equal those values, and refuse pods in a
developer namespace that has no quota, so one developer cannot starve staging
(:mod:`eksplatform.cluster.dev_environments`).

Design decision: **every service a developer runs declares the namespace**, with the same
labels (owner, team, expiry) and one label of its own (``services.eksplatform.io/<service>``),
and all three objects are kept when a stack is destroyed (``retain_on_delete``): two services of
one developer share the namespace without either owning it, and the namespace ends through
``eksplatform dev down`` or the janitor, never as a side effect of destroying one service's
stack. The cost: ``pulumi destroy`` of a developer stack leaves the namespace until then.
Server-side apply lets both stacks write the shared labels (same values) without conflict; the
last deploy sets the expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import LimitRangeItemArgs, LimitRangeSpecArgs, ResourceQuotaSpecArgs
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from ..core import devenv, kube
from .developer import DevPlan


@dataclass(frozen=True)
class DeveloperNamespace:
    namespace: k8s.core.v1.Namespace
    quota: k8s.core.v1.ResourceQuota
    limits: k8s.core.v1.LimitRange


def quota_hard(quota: Mapping[str, str]) -> dict[str, str]:
    """ResourceQuota ``spec.hard`` from the contract's ``quota`` (camelCase keys)."""
    return {devenv.QUOTA_KEYS[k]: v for k, v in sorted(quota.items()) if k in devenv.QUOTA_KEYS}


def limit_items(limits: Mapping[str, str]) -> list[LimitRangeItemArgs]:
    return [
        LimitRangeItemArgs(
            type="Container",
            default_request={
                "cpu": limits["defaultRequestCpu"],
                "memory": limits["defaultRequestMemory"],
            },
            default={"memory": limits["defaultLimitMemory"]},
            max={"memory": limits["maxMemory"]},
        )
    ]


def build_developer_namespace(
    prefix: str,
    *,
    name: str,
    dev: pulumi.Input[DevPlan],
    opts: pulumi.ResourceOptions,
) -> DeveloperNamespace:
    """The namespace ``name`` (known before the contract: it is the stack's) and its quota and
    limits; ``dev`` carries the labels and values (an Output under ``pulumi up``)."""
    plan = pulumi.Output.from_input(dev)
    kept = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True))
    namespace = k8s.core.v1.Namespace(
        f"{prefix}-dev-namespace",
        metadata=ObjectMetaArgs(name=name, labels=plan.apply(lambda d: d.namespace_labels())),
        opts=kept,
    )
    inside = pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[namespace]))
    labels = {"app.kubernetes.io/managed-by": kube.MANAGED_BY_LABEL}
    quota = k8s.core.v1.ResourceQuota(
        f"{prefix}-dev-quota",
        metadata=ObjectMetaArgs(name=devenv.QUOTA_NAME, namespace=name, labels=labels),
        spec=ResourceQuotaSpecArgs(hard=plan.apply(lambda d: quota_hard(d.quota))),
        opts=inside,
    )
    limits = k8s.core.v1.LimitRange(
        f"{prefix}-dev-limits",
        metadata=ObjectMetaArgs(name=devenv.LIMITS_NAME, namespace=name, labels=labels),
        spec=LimitRangeSpecArgs(limits=plan.apply(lambda d: limit_items(d.limit_range))),
        opts=inside,
    )
    return DeveloperNamespace(namespace=namespace, quota=quota, limits=limits)

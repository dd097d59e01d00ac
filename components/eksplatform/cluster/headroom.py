"""Headroom: standing spare capacity, as low-priority pause pods that real pods preempt.

HPA plus the Cluster Autoscaler cannot get ahead of a burst: nodes are only requested once pods
are already pending. The headroom Deployment keeps ``replicas`` pause pods of ``cpu``/``memory``
each on the nodes, spread evenly over the zones. When real pods need room, the scheduler preempts
pause pods (priority ``overprovisioning``, below every workload) and the real pods start at once
on warm nodes; the evicted pause pods go pending and, being at or above the autoscaler's
expendable cutoff, make the Cluster Autoscaler add nodes for them.

What it creates:

* the ``overprovisioning`` namespace (Pod Security "restricted" enforced);
* the Deployment ``headroom`` (a stable name: the push pre-scaler scales it) of
  ``registry.k8s.io/pause`` pods: restricted security context, requests with the memory limit
  equal to the request, ``terminationGracePeriodSeconds: 0`` (a preempted pause pod has nothing
  to drain), no service account token, hard zone spread;

No RBAC of its own: the push pre-scaler (:mod:`.prescaler`) brings the one grant that scales the
Deployment (its Role in this namespace, ``scale`` of exactly this Deployment), so nothing may scale
it when the pre-scaler is off.

Who owns the replica count: Pulumi owns the *baseline* (``platform:headroom.replicas``, also
written to the annotation ``eksplatform.io/baseline-replicas``). The pre-scaler scales up through
the scale subresource ahead of a push and returns to the annotated baseline afterwards. We do not
use ``ignore_changes`` on ``spec.replicas``: Pulumi would then never apply a config change of the
baseline. The cost of this choice: a ``pulumi up`` of the cluster stack during a pre-scale window
resets the count to the baseline until the pre-scaler's next pass re-applies its target; cluster
deployments are rare and pre-scale windows are minutes, so the baseline wins that race.

No PodDisruptionBudget: the pause pods exist to be evicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgs, DeploymentStrategyArgs
from pulumi_kubernetes.core.v1 import ContainerArgs, PodSpecArgs, PodTemplateSpecArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pydantic import field_validator

from ..core import kube
from ..core.errors import Problems
from ..core.settings import (
    CpuRequest,
    MemoryRequest,
    SettingsModel,
    cpu_request_problem,
    memory_request_problem,
)
from . import priority

_TOKEN = "eksplatform:addons:Headroom"

NAMESPACE = "overprovisioning"
"""Namespace of the headroom Deployment (fixed: the cluster contract exports it)."""
DEPLOYMENT_NAME = "headroom"
"""Physical name of the headroom Deployment (fixed: the push pre-scaler scales it by name)."""
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
"""The pause container: does nothing, uses no CPU, a few hundred KiB of memory."""
PAUSE_UID = 65535
"""The pause image's own non-root user."""
BASELINE_ANNOTATION = "eksplatform.io/baseline-replicas"
"""Annotation on the Deployment holding the configured replica count the pre-scaler returns to."""


class HeadroomConfig(SettingsModel):
    """``platform:headroom``: standing spare capacity (pause pods real pods preempt)."""

    enabled: bool = True
    """Create the headroom namespace and Deployment. Default: true."""
    replicas: int = 2
    """Baseline number of pause pods (0 keeps the Deployment for the pre-scaler but reserves
    nothing). Default: 2."""
    cpu: CpuRequest = "500m"
    """CPU each pause pod reserves (its request). Default: 500m."""
    memory: MemoryRequest = "1Gi"
    """Memory each pause pod reserves (request and limit). Default: 1Gi."""

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        if v < 0:
            raise ValueError(
                "must be 0 or more (0 keeps the Deployment for the pre-scaler but reserves "
                "no headroom)"
            )
        return v


@dataclass(frozen=True, kw_only=True)
class HeadroomArgs:
    """Inputs of :class:`Headroom`."""

    provider: k8s.Provider
    """Kubernetes provider of the cluster. Required."""
    replicas: int = 2
    """Baseline pause pods. Default: 2."""
    cpu: str = "500m"
    """CPU per pause pod. Default: 500m."""
    memory: str = "1Gi"
    """Memory per pause pod. Default: 1Gi."""
    image: str = PAUSE_IMAGE
    """Default: ``registry.k8s.io/pause:3.10``."""
    priority_classes: pulumi.Resource | None = None
    """The :class:`~eksplatform.cluster.priority.PriorityClasses` component: the Deployment waits for it
    (the API server refuses pods naming a class that does not exist yet). Default: none (the
    classes already exist)."""


def validate_headroom_args(args: HeadroomArgs) -> None:
    problems = Problems()
    if args.replicas < 0:
        problems.add("replicas", args.replicas, "must be 0 or more")
    for field, check, value in (
        ("cpu", cpu_request_problem, args.cpu),
        ("memory", memory_request_problem, args.memory),
    ):
        problem = check(value)
        if problem:
            problems.add(field, value, problem)
    if ":" not in args.image.rsplit("/", 1)[-1] and "@" not in args.image:
        problems.add("image", args.image, "pin a tag or digest, like registry.k8s.io/pause:3.10")
    problems.raise_if_any("Headroom")


def headroom_labels() -> dict[str, str]:
    """Labels of the headroom Deployment and its pods (exported in the cluster contract)."""
    return kube.recommended_labels(
        DEPLOYMENT_NAME, component="overprovisioning", part_of="eksplatform"
    )


class Headroom(pulumi.ComponentResource):
    """Pause pods that keep warm spare capacity, scaled by config and by the push pre-scaler."""

    namespace: pulumi.Output[str]
    """The ``overprovisioning`` namespace."""
    deployment_name: pulumi.Output[str]
    """``headroom``: what the pre-scaler scales."""
    labels: pulumi.Output[dict[str, str]]
    """Labels of the Deployment and its pods."""

    def __init__(
        self, name: str, args: HeadroomArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_headroom_args(args)
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = headroom_labels()
        selector = kube.selector_labels(labels)

        ns = kube.restricted_namespace(f"{name}-ns", name=NAMESPACE, opts=child)
        classes = [args.priority_classes] if args.priority_classes is not None else []
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=ObjectMetaArgs(
                name=DEPLOYMENT_NAME,
                namespace=NAMESPACE,
                labels=labels,
                annotations={BASELINE_ANNOTATION: str(args.replicas)},
            ),
            spec=DeploymentSpecArgs(
                replicas=args.replicas,
                selector=LabelSelectorArgs(match_labels=selector),
                # Replace pause pods all at once on a size change: they hold nothing.
                strategy=DeploymentStrategyArgs(type="Recreate"),
                revision_history_limit=2,
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=labels),
                    spec=PodSpecArgs(
                        priority_class_name=priority.OVERPROVISIONING,
                        termination_grace_period_seconds=0,
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=kube.pod_security_context(uid=PAUSE_UID),
                        topology_spread_constraints=kube.zone_spread(selector, hard=True),
                        containers=[
                            ContainerArgs(
                                name="pause",
                                image=args.image,
                                image_pull_policy="IfNotPresent",
                                resources=kube.resources(args.cpu, args.memory),
                                security_context=kube.container_security_context(uid=PAUSE_UID),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[ns, *classes]
            ),
        )
        self.namespace = ns.metadata.apply(lambda m: m.name or NAMESPACE)
        self.deployment_name = deployment.metadata.apply(lambda m: m.name or DEPLOYMENT_NAME)
        self.labels = pulumi.Output.from_input(labels)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "deploymentName": self.deployment_name,
                "labels": self.labels,
            }
        )

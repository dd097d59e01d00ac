"""Vpa: the Vertical Pod Autoscaler (recommender, updater, admission controller).

Installed from the upstream chart the Kubernetes autoscaling SIG publishes from
``kubernetes/autoscaler`` (``vertical-pod-autoscaler/charts/vertical-pod-autoscaler``), repository
``https://kubernetes.github.io/autoscaler``, chart ``vertical-pod-autoscaler``, through
``pulumi_kubernetes.helm.v4.Chart`` (rendered by the provider, every object a Pulumi resource; no
chart text vendored here). The version is pinned in config; the default ``0.9.0`` (VPA 1.6.0) is a
released version of that chart. We prefer it to the long-standing Fairwinds chart
(``https://charts.fairwinds.com/stable``, chart ``vpa``) because it is released by the project
that builds VPA, with its CRDs and images in step.

Values are built from typed Python (:func:`vpa_values`), never from YAML text: replicas and
requests per component, the updater's ``--min-replicas``, priority ``platform-critical``, a Pod
Security "restricted" pod and container security context, the chart's own kube-webhook-certgen
Jobs for the admission webhook certificate (in Pulumi, Helm hooks are applied as ordinary
resources; the patch Job retries until the webhook configuration exists). The namespace
``vpa-system`` enforces Pod Security "restricted".

How a service opts in: create a ``VerticalPodAutoscaler`` (``autoscaling.k8s.io/v1``) next to its
Deployment::

    apiVersion: autoscaling.k8s.io/v1
    kind: VerticalPodAutoscaler
    metadata: {name: worker, namespace: media}
    spec:
      targetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
      updatePolicy: {updateMode: "Off"}   # Off: recommend only; Initial: set at pod creation;
                                          # Recreate / InPlaceOrRecreate: apply to running pods
      resourcePolicy:
        containerPolicies:
          - {containerName: "*", controlledResources: [memory], minAllowed: {memory: 128Mi}}

Use it for fixed-count services; never let VPA and an HPA act on the same resource metric
(ServiceStack refuses that combination and creates the object itself when ``vpa`` is set). The
updater only evicts pods of workloads with at least ``updater.minReplicas`` replicas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import field_validator

from ..core import kube
from ..core.errors import Problems
from ..core.settings import CpuRequest, MemoryRequest, SettingsModel
from . import priority

_TOKEN = "eksplatform:addons:Vpa"

CHART = "vertical-pod-autoscaler"
"""Chart name in the upstream repository."""
REPOSITORY = "https://kubernetes.github.io/autoscaler"
"""The kubernetes/autoscaler Helm repository (also serves the cluster-autoscaler chart)."""
DEFAULT_CHART_VERSION = "0.9.0"
"""Released 2026-05 (tag ``vertical-pod-autoscaler-chart-0.9.0``), VPA 1.6.0."""
NAMESPACE = "vpa-system"
RELEASE = "vpa"
_UID = 65534
"""``nobody``: the VPA images run as any non-root user."""


class VpaComponentConfig(SettingsModel):
    """Replicas and requests of one VPA component."""

    enabled: bool = True
    """Default: true."""
    replicas: int = 1
    """Default: 1 (one active recommender/updater is enough; they restart in seconds)."""
    cpu: CpuRequest = "50m"
    """CPU request. Default: 50m."""
    memory: MemoryRequest = "256Mi"
    """Memory request and limit. Default: 256Mi."""

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        if not 1 <= v <= 5:
            raise ValueError("must be 1 to 5")
        return v


class VpaRecommenderConfig(VpaComponentConfig):
    """The recommender: watches usage and writes recommendations into each VPA object."""

    memory: MemoryRequest = "512Mi"
    """Memory request and limit (it keeps usage histograms of every container). Default: 512Mi."""


class VpaAdmissionControllerConfig(VpaComponentConfig):
    """The admission controller: a webhook setting requests on pods as they are created."""

    replicas: int = 2
    """Default: 2 (the webhook stays up through a node drain)."""


class VpaUpdaterConfig(VpaComponentConfig):
    """The updater: evicts (or resizes) pods whose requests drift from the recommendation."""

    min_replicas: int = 2
    """Only act on workloads with at least this many replicas, so an eviction never takes a
    service's last pod. Default: 2."""

    @field_validator("min_replicas")
    @classmethod
    def _min_replicas(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be 1 or more (2 keeps single-pod workloads untouched)")
        return v


class VpaConfig(SettingsModel):
    """``platform:vpa``: the Vertical Pod Autoscaler."""

    enabled: bool = True
    """Default: true."""
    chart_version: str = DEFAULT_CHART_VERSION
    """Pinned version of the upstream chart. Default: 0.9.0."""
    recommender: VpaRecommenderConfig = VpaRecommenderConfig()
    """Default: 1 replica, 50m CPU, 512Mi."""
    updater: VpaUpdaterConfig = VpaUpdaterConfig()
    """Default: 1 replica, 50m CPU, 256Mi, minReplicas 2."""
    admission_controller: VpaAdmissionControllerConfig = VpaAdmissionControllerConfig()
    """Default: 2 replicas, 50m CPU, 256Mi."""

    @field_validator("chart_version")
    @classmethod
    def _version(cls, v: str) -> str:
        parts = v.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError("pin an exact chart version like 0.9.0 (no ranges)")
        return v


def _component_values(c: VpaComponentConfig) -> dict[str, Any]:
    return {
        "enabled": c.enabled,
        "replicas": c.replicas,
        # As kube.resources: memory limit equal to the request, no CPU limit.
        "resources": {
            "requests": {"cpu": c.cpu, "memory": c.memory},
            "limits": {"memory": c.memory},
        },
        "priorityClassName": priority.PLATFORM_CRITICAL,
        "podDisruptionBudget": {"enabled": c.replicas > 1},
    }


def vpa_values(cfg: VpaConfig) -> dict[str, Any]:
    """Chart values from the typed config (the only place chart keys are spelled)."""
    updater = _component_values(cfg.updater)
    updater["extraArgs"] = [f"--min-replicas={cfg.updater.min_replicas}"]
    return {
        "podSecurityContext": {
            "runAsNonRoot": True,
            "runAsUser": _UID,
            "runAsGroup": _UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "recommender": _component_values(cfg.recommender),
        "updater": updater,
        "admissionController": {
            **_component_values(cfg.admission_controller),
            # The chart's kube-webhook-certgen Jobs (webhook certificate): small requests, and
            # the same priority so they are not starved on a full cluster.
            "certGen": {
                "priorityClassName": priority.PLATFORM_CRITICAL,
                "resources": {
                    "requests": {"cpu": "10m", "memory": "64Mi"},
                    "limits": {"memory": "64Mi"},
                },
            },
        },
    }


@dataclass(frozen=True, kw_only=True)
class VpaArgs:
    """Inputs of :class:`Vpa`."""

    provider: k8s.Provider
    """Kubernetes provider of the cluster. Required."""
    config: VpaConfig = field(default_factory=VpaConfig)
    """Default: :class:`VpaConfig` defaults."""
    priority_classes: pulumi.Resource | None = None
    """The :class:`~eksplatform.cluster.priority.PriorityClasses` component: the chart waits for it (its
    pods use ``platform-critical``). Default: none (the classes already exist)."""
    repository: str = REPOSITORY
    """Helm repository URL. Default: https://kubernetes.github.io/autoscaler."""


def validate_vpa_args(args: VpaArgs) -> None:
    problems = Problems()
    if not args.repository.startswith("https://"):
        problems.add("repository", args.repository, "use an https:// chart repository")
    problems.raise_if_any("Vpa")


class Vpa(pulumi.ComponentResource):
    """The VPA chart in its own restricted namespace."""

    namespace: pulumi.Output[str]
    chart_version: str
    values: dict[str, Any]
    """The chart values, as passed."""

    def __init__(
        self, name: str, args: VpaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_vpa_args(args)
        super().__init__(_TOKEN, name, None, opts)
        ns = kube.restricted_namespace(
            f"{name}-ns",
            name=NAMESPACE,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.values = vpa_values(args.config)
        self.chart_version = args.config.chart_version
        k8s.helm.v4.Chart(
            f"{name}-chart",
            chart=CHART,
            version=args.config.chart_version,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=args.repository),
            name=RELEASE,
            namespace=NAMESPACE,
            values=self.values,
            opts=pulumi.ResourceOptions(
                parent=self,
                providers={"kubernetes": args.provider},
                depends_on=[ns, *([args.priority_classes] if args.priority_classes else [])],
            ),
        )
        self.namespace = ns.metadata.apply(lambda m: m.name or NAMESPACE)
        self.register_outputs({"namespace": self.namespace, "chartVersion": self.chart_version})

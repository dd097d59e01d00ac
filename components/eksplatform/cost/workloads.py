"""What runs on the nodes, read from rendered previews: each service's pods (requests, replicas at
its minimum and maximum, where it may schedule) and the platform's own pods.

The offline preview writes every Kubernetes object as ``kubectl apply -f`` takes it
(``build/<program>/<stack>/manifests/...``); this module reads Deployments, their
HorizontalPodAutoscalers and the cluster's DaemonSets from there. A pod's request is what the
scheduler reserves for it: its containers plus its native sidecars (init containers with
``restartPolicy: Always``, such as the Envoy sidecar), or its largest ordinary init container if
that is larger. Replicas at minimum and maximum come from the HPA (``minReplicas`` /
``maxReplicas``) or, without one, from ``spec.replicas`` for both.

The EKS managed add-ons (vpc-cni and kube-proxy on every node, CoreDNS and metrics-server) are
installed by EKS, not rendered, so :data:`EKS_ADDON_PODS` lists their default requests.

Design decision: read the rendered objects, not ServiceStack arguments, so the report prices
exactly what the preview would apply (defaults, Envoy sizing and the pre-scaler's HPA included)
and works for service repos the platform repo has never seen; the cost is that the previews must
be current (the command runs them when they are missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.kube import parse_cpu, parse_memory

ARCH_LABEL = "kubernetes.io/arch"


@dataclass(frozen=True)
class Toleration:
    key: str | None
    operator: str
    value: str | None
    effect: str | None

    def tolerates(self, key: str, value: str, effect: str) -> bool:
        if self.effect and self.effect != effect:
            return False
        if self.key is None:
            return self.operator == "Exists"
        if self.key != key:
            return False
        return self.operator == "Exists" or (self.value or "") == value


@dataclass(frozen=True)
class PodSpec:
    """What one pod asks of a node."""

    cpu_millis: float
    memory_bytes: int
    sidecar_cpu_millis: float = 0.0
    """Part of ``cpu_millis`` that is native sidecars (the Envoy proxy)."""
    sidecar_memory_bytes: int = 0
    node_selector: Mapping[str, str] = field(default_factory=dict)
    required_architectures: frozenset[str] | None = None
    """Architectures the pod's required node affinity on ``kubernetes.io/arch`` allows (None:
    no such term; ``nodeSelector`` is in :attr:`node_selector`)."""
    tolerations: tuple[Toleration, ...] = ()


@dataclass(frozen=True)
class Workload:
    """A set of identical pods: a service's Deployment, or a platform component."""

    name: str
    namespace: str
    pod: PodSpec
    min_replicas: int
    max_replicas: int
    kind: str = "Deployment"
    program: str = ""
    """The program that renders it (``services/news-feed``, ``cluster``)."""


@dataclass(frozen=True)
class DaemonPod:
    """A pod every node runs (per node, on every pool it tolerates)."""

    name: str
    namespace: str
    pod: PodSpec


EKS_ADDON_PODS: tuple[Workload | DaemonPod, ...] = (
    DaemonPod("aws-node (vpc-cni)", "kube-system", PodSpec(cpu_millis=25, memory_bytes=0)),
    DaemonPod("kube-proxy", "kube-system", PodSpec(cpu_millis=100, memory_bytes=0)),
    Workload(
        "coredns",
        "kube-system",
        PodSpec(cpu_millis=100, memory_bytes=70 * 2**20),
        2,
        2,
        program="EKS add-on",
    ),
    Workload(
        "metrics-server",
        "kube-system",
        PodSpec(cpu_millis=100, memory_bytes=200 * 2**20),
        1,
        1,
        program="EKS add-on",
    ),
)
"""The EKS managed add-ons' own default requests (aws-node 25m and kube-proxy 100m CPU on every
node; CoreDNS 2 x 100m/70Mi; metrics-server 100m/200Mi)."""


class ManifestError(Exception):
    """A rendered object the report cannot read (names the file and the field)."""


def _requests(container: Mapping[str, Any], where: str) -> tuple[float, int]:
    req = (container.get("resources") or {}).get("requests") or {}
    try:
        cpu = parse_cpu(str(req["cpu"])) if "cpu" in req else 0.0
        mem = parse_memory(str(req["memory"])) if "memory" in req else 0
    except ValueError as exc:
        raise ManifestError(f"{where}: {exc}") from None
    return cpu, mem


def _architectures(affinity: Mapping[str, Any] | None) -> frozenset[str] | None:
    """Architectures allowed by the required node affinity (terms are ORed; a term without an
    arch expression allows any)."""
    required = ((affinity or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    allowed: set[str] = set()
    for term in terms:
        exprs = [e for e in term.get("matchExpressions") or [] if e.get("key") == ARCH_LABEL]
        if not exprs:
            return None
        values: set[str] | None = None
        for e in exprs:
            if e.get("operator") == "In":
                got = set(e.get("values") or [])
                values = got if values is None else values & got
        if values is None:
            return None
        allowed |= values
    return frozenset(allowed) if terms else None


def pod_spec(spec: Mapping[str, Any], where: str) -> PodSpec:
    """The request of a pod with ``spec`` (see the module docstring)."""
    cpu = 0.0
    mem = 0
    side_cpu = 0.0
    side_mem = 0
    for c in spec.get("containers") or []:
        c_cpu, c_mem = _requests(c, f"{where} container {c.get('name')!r}")
        cpu += c_cpu
        mem += c_mem
    init_cpu = 0.0
    init_mem = 0
    for c in spec.get("initContainers") or []:
        c_cpu, c_mem = _requests(c, f"{where} initContainer {c.get('name')!r}")
        if c.get("restartPolicy") == "Always":
            side_cpu += c_cpu
            side_mem += c_mem
        else:
            init_cpu = max(init_cpu, c_cpu + side_cpu)
            init_mem = max(init_mem, c_mem + side_mem)
    tolerations = tuple(
        Toleration(t.get("key"), t.get("operator", "Equal"), t.get("value"), t.get("effect"))
        for t in spec.get("tolerations") or []
    )
    return PodSpec(
        cpu_millis=max(cpu + side_cpu, init_cpu),
        memory_bytes=max(mem + side_mem, init_mem),
        sidecar_cpu_millis=side_cpu,
        sidecar_memory_bytes=side_mem,
        node_selector=dict(spec.get("nodeSelector") or {}),
        required_architectures=_architectures(spec.get("affinity")),
        tolerations=tolerations,
    )


def _load(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: not a Kubernetes object")
    return data


def _objects(manifests: Path, kind: str) -> Iterable[tuple[Path, Mapping[str, Any]]]:
    for path in sorted(manifests.glob(f"namespaces/*/{kind}/*.yaml")):
        yield path, _load(path)


def _hpas(manifests: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(namespace, Deployment name) -> (minReplicas, maxReplicas)."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for _, obj in _objects(manifests, "HorizontalPodAutoscaler"):
        spec = obj.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        if target.get("kind") != "Deployment":
            continue
        ns = (obj.get("metadata") or {}).get("namespace", "default")
        out[(ns, target.get("name", ""))] = (
            int(spec.get("minReplicas", 1)),
            int(spec.get("maxReplicas", 1)),
        )
    return out


def read_deployments(manifests: Path, *, program: str) -> list[Workload]:
    """Every Deployment under ``manifests`` with its replica range."""
    hpas = _hpas(manifests)
    out = []
    for path, obj in _objects(manifests, "Deployment"):
        meta = obj.get("metadata") or {}
        ns, name = meta.get("namespace", "default"), meta.get("name", path.stem)
        spec = obj.get("spec") or {}
        pod = pod_spec(((spec.get("template") or {}).get("spec")) or {}, f"{path}")
        replicas = int(spec.get("replicas", 1))
        low, high = hpas.get((ns, name), (replicas, replicas))
        out.append(Workload(name, ns, pod, low, high, program=program))
    return out


def read_daemonsets(manifests: Path) -> list[DaemonPod]:
    out = []
    for path, obj in _objects(manifests, "DaemonSet"):
        meta = obj.get("metadata") or {}
        spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        out.append(
            DaemonPod(
                meta.get("name", path.stem), meta.get("namespace", ""), pod_spec(spec, f"{path}")
            )
        )
    return out


@dataclass(frozen=True)
class ClusterWorkloads:
    """Everything the cost report places on the nodes of one stack."""

    services: Sequence[Workload]
    platform: Sequence[Workload]
    """The platform's Deployments (controllers, headroom) and the EKS add-on Deployments."""
    daemons: Sequence[DaemonPod]
    headroom_namespace: str = "overprovisioning"


def read_cluster_platform(manifests: Path) -> tuple[list[Workload], list[DaemonPod]]:
    """The platform's pods: the cluster program's Deployments and DaemonSets plus the EKS
    add-ons (:data:`EKS_ADDON_PODS`)."""
    platform = read_deployments(manifests, program="cluster")
    daemons = read_daemonsets(manifests)
    for extra in EKS_ADDON_PODS:
        if isinstance(extra, DaemonPod):
            daemons.append(extra)
        else:
            platform.append(extra)
    return platform, daemons

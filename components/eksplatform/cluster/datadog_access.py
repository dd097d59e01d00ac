"""What the Datadog agents may touch: host access of the node agent, and RBAC of both agents.

Written as data, once: :mod:`.datadog` builds the pod specs and roles from it, the README's
"Datadog" section lists it, and ``tests/addons/test_datadog.py`` asserts that the rendered
DaemonSet holds exactly the host access listed here (no other host path, port, namespace or
privilege) and that every entry is in the README with its reason.

Host access is the node agent's only (the Cluster Agent's pod passes Pod Security "restricted").
What the node agent does NOT get, on purpose: ``hostPID`` (the host's process table is read from
the read-only ``/proc`` mount; DogStatsD origin detection, which needs it, only works over a Unix
socket, and application pods may not mount host sockets), ``hostNetwork`` (DogStatsD is a host
port instead), ``privileged`` or any added capability (all are dropped), the node's log
directories (fluentd ships logs; one shipper), and any writable host path (its state lives in
emptyDirs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs

DOGSTATSD_PORT = 8125
"""DogStatsD's UDP port, a host port on every node: the Envoy sidecar's sink
(:class:`eksplatform.envoy.DogStatsd`, node IP from ``status.hostIP``) and the team namespaces'
NetworkPolicies (:data:`eksplatform.cluster.teams.DATADOG_PORTS`) expect exactly this port."""
CLUSTER_AGENT_PORT = 5005
"""The Cluster Agent's API for node agents (metadata: pod -> service, node labels)."""
METRICS_API_PORT = 8443
"""The Cluster Agent's external metrics API server (behind the APIService)."""
LEADER_LEASE = "datadog-leader-election"
"""The Cluster Agent's leader-election Lease (its default ``leader_lease_name``)."""
METRICS_CONFIGMAP = "datadog-custom-metrics"
"""Where the Cluster Agent keeps the external metrics HPAs ask for (its default)."""


@dataclass(frozen=True)
class HostAccess:
    """One way the node agent's pod reaches into its node."""

    kind: Literal["hostPath", "hostPort", "user"]
    """``hostPath`` (a volume), ``hostPort`` (a container port bound on the node) or ``user``
    (the uid the containers run as)."""
    host: str
    """The host path, ``<port>/<protocol>``, or ``uid 0``."""
    mount_path: str | None
    """Where a host path is mounted in the containers (None for the others)."""
    volume: str | None
    """Pod volume (or port) name."""
    read_only: bool
    """Mounted read-only (always, for host paths)."""
    reason: str
    """Why the agent needs it (the README and the module docstring say the same)."""


HOST_ACCESS: tuple[HostAccess, ...] = (
    HostAccess(
        kind="hostPath",
        host="/proc",
        mount_path="/host/proc",
        volume="procdir",
        read_only=True,
        reason="host CPU, memory, load, network and process counts: the system checks read "
        "the node's /proc (the container's own would describe the container)",
    ),
    HostAccess(
        kind="hostPath",
        host="/sys/fs/cgroup",
        mount_path="/host/sys/fs/cgroup",
        volume="cgroups",
        read_only=True,
        reason="per-container CPU, memory and I/O from the cgroup v2 files, and which "
        "container a process belongs to",
    ),
    HostAccess(
        kind="hostPath",
        host="/var/run/containerd",
        mount_path="/host/var/run/containerd",
        volume="runtimesocketdir",
        read_only=True,
        reason="the container runtime socket (containerd.sock): container names, images and "
        "lifecycle for the container metrics and their tags. A read-only mount does not make "
        "the API read-only: whoever holds the socket can start containers on the node, so only "
        "the two agents run in the datadog namespace and only cluster admins may change it",
    ),
    HostAccess(
        kind="hostPort",
        host=f"{DOGSTATSD_PORT}/UDP",
        mount_path=None,
        volume="dogstatsd",
        read_only=True,
        reason="DogStatsD for the pods of the node: Envoy sidecars send their stats to the "
        "node IP on this port (a host port, because application pods may not mount the "
        "agent's socket)",
    ),
    HostAccess(
        kind="user",
        host="uid 0",
        mount_path=None,
        volume=None,
        read_only=True,
        reason="containerd.sock is root:root 0660 and /proc entries of other users' processes "
        "are readable by root only; every capability is still dropped, privilege escalation "
        "is off and the root filesystem is read-only",
    ),
)
"""Every host-level permission of the node agent, with its reason."""

HOST_PATHS: Mapping[str, HostAccess] = {a.host: a for a in HOST_ACCESS if a.kind == "hostPath"}


# --- RBAC ----------------------------------------------------------------------------------------

READ = ["get", "list", "watch"]


def node_agent_rules(kubernetes_minor: int) -> list[PolicyRuleArgs]:
    """The node agent reads its own node's kubelet (its token is the kubelet's client
    credential) and the API server's version; pod metadata comes from the Cluster Agent.

    The kubelet API authorises ``/stats`` as ``nodes/stats``, ``/metrics`` as ``nodes/metrics``
    and ``/spec`` as ``nodes/spec``. Before 1.33, ``/pods`` and ``/healthz`` fall under the broad
    ``nodes/proxy``; from 1.33 (fine-grained kubelet authorisation, on by default) they are
    ``nodes/pods`` and ``nodes/healthz``, so ``nodes/proxy`` is not granted there."""
    kubelet = ["nodes/metrics", "nodes/spec", "nodes/stats"]
    kubelet += ["nodes/healthz", "nodes/pods"] if kubernetes_minor >= 33 else ["nodes/proxy"]
    return [
        PolicyRuleArgs(api_groups=[""], resources=sorted(kubelet), verbs=["get"]),
        PolicyRuleArgs(non_resource_urls=["/healthz", "/version"], verbs=["get"]),
    ]


KSM_COLLECTORS: Mapping[str, tuple[str, str]] = {
    "cronjobs": ("batch", "cronjobs"),
    "daemonsets": ("apps", "daemonsets"),
    "deployments": ("apps", "deployments"),
    "horizontalpodautoscalers": ("autoscaling", "horizontalpodautoscalers"),
    "jobs": ("batch", "jobs"),
    "namespaces": ("", "namespaces"),
    "nodes": ("", "nodes"),
    "poddisruptionbudgets": ("policy", "poddisruptionbudgets"),
    "pods": ("", "pods"),
    "replicasets": ("apps", "replicasets"),
    "statefulsets": ("apps", "statefulsets"),
}
"""The kube-state-metrics collectors the Cluster Agent runs (``kubernetes_state_core``) and
the resource each lists and watches: the monitors need deployments and HPAs; the rest are the
workload and node health the platform reads. No secrets, configmaps or RBAC objects."""

METADATA_RESOURCES = ("endpoints", "namespaces", "nodes", "pods", "services")
"""What the Cluster Agent watches to answer node agents: pod -> service (``kube_service``
tags), node and namespace labels."""


def cluster_agent_rules(*, external_metrics: bool) -> list[PolicyRuleArgs]:
    """Cluster-wide: list/watch what the collectors and the metadata need, HPAs (to know which
    external metrics to fetch), and the API server's version."""
    by_group: dict[str, set[str]] = {}
    for group, resource in KSM_COLLECTORS.values():
        by_group.setdefault(group, set()).add(resource)
    by_group[""].update(METADATA_RESOURCES)
    if external_metrics:
        by_group.setdefault("autoscaling", set()).add("horizontalpodautoscalers")
    rules = [
        PolicyRuleArgs(api_groups=[group], resources=sorted(resources), verbs=READ)
        for group, resources in sorted(by_group.items())
    ]
    rules.append(PolicyRuleArgs(non_resource_urls=["/healthz", "/version"], verbs=["get"]))
    return rules


def cluster_agent_namespace_rules(*, external_metrics: bool) -> list[PolicyRuleArgs]:
    """In the datadog namespace only: its leader Lease and, with external metrics, the
    ConfigMap where it keeps them (``create`` cannot be limited to a name; the rest is)."""
    rules = [
        PolicyRuleArgs(api_groups=["coordination.k8s.io"], resources=["leases"], verbs=["create"]),
        PolicyRuleArgs(
            api_groups=["coordination.k8s.io"],
            resources=["leases"],
            resource_names=[LEADER_LEASE],
            verbs=["get", "update"],
        ),
    ]
    if external_metrics:
        rules += [
            PolicyRuleArgs(api_groups=[""], resources=["configmaps"], verbs=["create"]),
            PolicyRuleArgs(
                api_groups=[""],
                resources=["configmaps"],
                resource_names=[METRICS_CONFIGMAP],
                verbs=["get", "update"],
            ),
        ]
    return rules


EXTERNAL_METRICS_READER = PolicyRuleArgs(
    api_groups=["external.metrics.k8s.io"], resources=["*"], verbs=["get", "list"]
)
"""Granted to the HPA controller (``kube-system/horizontal-pod-autoscaler``) only: read the
external metrics the Cluster Agent serves."""

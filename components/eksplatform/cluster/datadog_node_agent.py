"""The Datadog node agent: its settings, its host access as volumes, and its DaemonSet.

Split from :mod:`.datadog` by concern; the design and its costs are documented there, the host
access in :mod:`.datadog_access`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import (
    DaemonSetSpecArgs,
    DaemonSetUpdateStrategyArgs,
    RollingUpdateDaemonSetArgs,
)
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    HostPathVolumeSourceArgs,
    HTTPGetActionArgs,
    ObjectFieldSelectorArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    SeccompProfileArgs,
    SecretKeySelectorArgs,
    SecurityContextArgs,
    TolerationArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyPortArgs,
)
from pulumi_kubernetes.rbac.v1 import SubjectArgs

from ..core import kube
from ..core.priorities import SYSTEM_NODE_CRITICAL
from .datadog_access import (
    DOGSTATSD_PORT,
    HOST_ACCESS,
    node_agent_rules,
)

if TYPE_CHECKING:
    from .datadog import DatadogArgs

from .datadog_names import (
    AGENT,
    AGENT_HEALTH_PORT,
    CLUSTER_AGENT,
    HISTOGRAM_PERCENTILES,
    NAMESPACE,
)


def env_value(name: str, value: str) -> EnvVarArgs:
    return EnvVarArgs(name=name, value=value)


def env_secret(name: str, secret: pulumi.Input[str], key: str) -> EnvVarArgs:
    return EnvVarArgs(
        name=name,
        value_from=EnvVarSourceArgs(secret_key_ref=SecretKeySelectorArgs(name=secret, key=key)),
    )


def env_field(name: str, path: str) -> EnvVarArgs:
    return EnvVarArgs(
        name=name,
        value_from=EnvVarSourceArgs(field_ref=ObjectFieldSelectorArgs(field_path=path)),
    )


def health_probe(path: str, port: int, *, failures: int = 6) -> ProbeArgs:
    return ProbeArgs(
        http_get=HTTPGetActionArgs(path=path, port=port),
        initial_delay_seconds=15,
        period_seconds=15,
        timeout_seconds=5,
        failure_threshold=failures,
    )


def tcp_port(port: int) -> NetworkPolicyPortArgs:
    return NetworkPolicyPortArgs(protocol="TCP", port=port)


def dns_ports() -> list[NetworkPolicyPortArgs]:
    return [NetworkPolicyPortArgs(protocol=p, port=53) for p in ("UDP", "TCP")]


def node_agent_env(
    args: DatadogArgs, *, api_key_secret: pulumi.Input[str], token_secret: pulumi.Input[str]
) -> list[EnvVarArgs]:
    """The node agent's settings (the same in its init containers: the image's init scripts
    read them)."""
    return [
        env_secret("DD_API_KEY", api_key_secret, "api-key"),
        env_value("DD_SITE", args.config.site),
        env_value("DD_CLUSTER_NAME", args.cluster_name),
        env_value("DD_ENV", args.environment),
        env_field("DD_KUBERNETES_KUBELET_HOST", "status.hostIP"),
        env_value("DD_KUBELET_TLS_VERIFY", str(args.config.agent.kubelet_tls_verify).lower()),
        env_value("DD_KUBELET_CLIENT_CA", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"),
        env_value("DD_CRI_SOCKET_PATH", "/host/var/run/containerd/containerd.sock"),
        env_value("DD_CLUSTER_AGENT_ENABLED", "true"),
        env_value("DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME", CLUSTER_AGENT),
        env_secret("DD_CLUSTER_AGENT_AUTH_TOKEN", token_secret, "token"),
        env_value("DD_DOGSTATSD_PORT", str(DOGSTATSD_PORT)),
        env_value("DD_DOGSTATSD_NON_LOCAL_TRAFFIC", "true"),
        env_value(
            "DD_DOGSTATSD_TAGS", f"env:{args.environment} kube_cluster_name:{args.cluster_name}"
        ),
        env_value("DD_HISTOGRAM_PERCENTILES", " ".join(HISTOGRAM_PERCENTILES)),
        env_value("DD_LOGS_ENABLED", "false"),
        env_value("DD_APM_ENABLED", "false"),
        env_value("DD_PROCESS_CONFIG_PROCESS_COLLECTION_ENABLED", "false"),
        env_value("DD_REMOTE_CONFIGURATION_ENABLED", "false"),
        env_value("DD_COLLECT_KUBERNETES_EVENTS", "false"),
        env_value("DD_LEADER_ELECTION", "false"),
        # the legacy kube-state-metrics check: the Cluster Agent runs kubernetes_state_core
        env_value("DD_IGNORE_AUTOCONF", "kubernetes_state"),
        env_value("DD_HEALTH_PORT", str(AGENT_HEALTH_PORT)),
    ]


def node_agent_security_context() -> SecurityContextArgs:
    """uid 0 (see :data:`.datadog_access.HOST_ACCESS`), nothing else: no capability, no
    privilege escalation, read-only root filesystem, RuntimeDefault seccomp."""
    return SecurityContextArgs(
        run_as_user=0,
        run_as_group=0,
        run_as_non_root=False,
        privileged=False,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
    )


def host_volumes() -> tuple[list[VolumeArgs], list[VolumeMountArgs]]:
    """The host paths of :data:`.datadog_access.HOST_ACCESS` as volumes and read-only mounts."""
    volumes: list[VolumeArgs] = []
    mounts: list[VolumeMountArgs] = []
    for access in HOST_ACCESS:
        if access.kind != "hostPath":
            continue
        assert access.volume is not None and access.mount_path is not None
        volumes.append(
            VolumeArgs(
                name=access.volume,
                host_path=HostPathVolumeSourceArgs(path=access.host, type="Directory"),
            )
        )
        mounts.append(
            VolumeMountArgs(name=access.volume, mount_path=access.mount_path, read_only=True)
        )
    return volumes, mounts


def build_node_agent(
    parent: pulumi.Resource,
    image_ref: str,
    name: str,
    args: DatadogArgs,
    minor: int,
    labels: dict[str, str],
    *,
    api_secret: k8s.core.v1.Secret,
    token_secret: k8s.core.v1.Secret,
    in_ns: pulumi.ResourceOptions,
) -> None:
    """The node agent's ServiceAccount, ClusterRole (its kubelet only), binding and DaemonSet,
    children of ``parent``."""
    cfg = args.config.agent
    account = k8s.core.v1.ServiceAccount(
        f"{name}-agent-sa",
        metadata=ObjectMetaArgs(name=AGENT, namespace=NAMESPACE, labels=labels),
        opts=in_ns,
    )
    binding = kube.bound_role(
        f"{name}-agent-clusterrole",
        f"{name}-agent-clusterrolebinding",
        name=AGENT,
        labels=labels,
        rules=node_agent_rules(minor),
        subjects=[SubjectArgs(kind="ServiceAccount", name=AGENT, namespace=NAMESPACE)],
        opts=pulumi.ResourceOptions(parent=parent, provider=in_ns.provider),
        depends_on=[account],
    )
    env = node_agent_env(
        args,
        api_key_secret=api_secret.metadata.apply(lambda m: str(m.name)),
        token_secret=token_secret.metadata.apply(lambda m: str(m.name)),
    )
    host_vols, host_mounts = host_volumes()
    state_mounts = [
        VolumeMountArgs(name="config", mount_path="/etc/datadog-agent"),
        VolumeMountArgs(name="logdatadog", mount_path="/var/log/datadog"),
        VolumeMountArgs(name="tmpdir", mount_path="/tmp"),
        VolumeMountArgs(name="run", mount_path="/opt/datadog-agent/run"),
    ]
    security = node_agent_security_context()
    resources = kube.resources(cfg.cpu, cfg.memory)
    init_containers = [
        # The image keeps its default configuration in /etc/datadog-agent; the root
        # filesystem is read-only, so it is copied to a writable emptyDir first ...
        ContainerArgs(
            name="init-volume",
            image=image_ref,
            command=["bash", "-c"],
            args=["cp -r /etc/datadog-agent /opt"],
            resources=resources,
            security_context=security,
            volume_mounts=[VolumeMountArgs(name="config", mount_path="/opt/datadog-agent")],
        ),
        # ... then the image's own init scripts adapt it to the environment (Kubernetes,
        # containerd), as its entrypoint would.
        ContainerArgs(
            name="init-config",
            image=image_ref,
            command=["bash", "-c"],
            args=[
                "for script in $(find /etc/cont-init.d/ -type f -name '*.sh' | sort); "
                "do bash $script; done"
            ],
            env=env,
            resources=resources,
            security_context=security,
            volume_mounts=[
                VolumeMountArgs(name="config", mount_path="/etc/datadog-agent"),
                VolumeMountArgs(name="logdatadog", mount_path="/var/log/datadog"),
                *host_mounts,
            ],
        ),
    ]
    agent = ContainerArgs(
        name="agent",
        image=image_ref,
        command=["agent", "run"],
        env=env,
        ports=[
            ContainerPortArgs(
                name="dogstatsd",
                container_port=DOGSTATSD_PORT,
                host_port=DOGSTATSD_PORT,
                protocol="UDP",
            )
        ],
        resources=resources,
        security_context=security,
        liveness_probe=health_probe("/live", AGENT_HEALTH_PORT),
        readiness_probe=health_probe("/ready", AGENT_HEALTH_PORT),
        startup_probe=health_probe("/startup", AGENT_HEALTH_PORT, failures=12),
        volume_mounts=[*state_mounts, *host_mounts],
    )
    empty = EmptyDirVolumeSourceArgs(size_limit="256Mi")
    volumes = [
        VolumeArgs(name=v, empty_dir=empty) for v in ("config", "logdatadog", "tmpdir", "run")
    ] + host_vols
    k8s.apps.v1.DaemonSet(
        f"{name}-agent",
        metadata=ObjectMetaArgs(name=AGENT, namespace=NAMESPACE, labels=labels),
        spec=DaemonSetSpecArgs(
            selector=LabelSelectorArgs(match_labels=kube.selector_labels(labels)),
            update_strategy=DaemonSetUpdateStrategyArgs(
                type="RollingUpdate",
                rolling_update=RollingUpdateDaemonSetArgs(max_unavailable="10%"),
            ),
            template=PodTemplateSpecArgs(
                metadata=ObjectMetaArgs(labels=labels),
                spec=PodSpecArgs(
                    service_account_name=AGENT,
                    automount_service_account_token=True,  # the kubelet's client credential
                    priority_class_name=SYSTEM_NODE_CRITICAL,
                    tolerations=[TolerationArgs(operator="Exists")],
                    node_selector={"kubernetes.io/os": "linux"},
                    security_context=PodSecurityContextArgs(
                        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault")
                    ),
                    termination_grace_period_seconds=30,
                    init_containers=init_containers,
                    containers=[agent],
                    volumes=volumes,
                ),
            ),
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            provider=in_ns.provider,
            depends_on=[binding, api_secret, token_secret, *args.depends_on],
        ),
    )


# --- the Cluster Agent -------------------------------------------------------------------

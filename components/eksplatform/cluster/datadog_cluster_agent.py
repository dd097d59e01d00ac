"""The Datadog Cluster Agent: its settings, kube-state-metrics check, Deployment, and the
external metrics API it serves to HPAs.

Split from :mod:`.datadog` by concern; the design and its costs are documented there, the RBAC
in :mod:`.datadog_access`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_kubernetes.apiregistration.v1 import APIServiceSpecArgs, ServiceReferenceArgs
from pulumi_kubernetes.apps.v1 import (
    DeploymentSpecArgs,
)
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ConfigMapVolumeSourceArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
    ServicePortArgs,
    ServiceSpecArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import RoleRefArgs, SubjectArgs

from ..core import kube
from ..core.priorities import SYSTEM_CLUSTER_CRITICAL
from .datadog_access import (
    CLUSTER_AGENT_PORT,
    EXTERNAL_METRICS_READER,
    KSM_COLLECTORS,
    LEADER_LEASE,
    METRICS_API_PORT,
    cluster_agent_namespace_rules,
    cluster_agent_rules,
)

if TYPE_CHECKING:
    from .datadog import DatadogArgs

from .datadog_names import (
    APISERVICE,
    CLUSTER_AGENT,
    CLUSTER_AGENT_HEALTH_PORT,
    CLUSTER_AGENT_UID,
    CONFD_CONFIGMAP,
    HPA_CONTROLLER,
    METRICS_SERVICE,
    NAMESPACE,
)
from .datadog_node_agent import env_field, env_secret, env_value, health_probe


def ksm_check_config(*, environment: str, cluster_name: str) -> str:
    """``kubernetes_state_core`` check config of the Cluster Agent: the collectors listed in
    :data:`.datadog_access.KSM_COLLECTORS` and ``env`` / ``kube_cluster_name`` on every metric
    (cluster-level metrics have no host, so host tags never reach them; the service monitors
    filter on ``env``)."""
    doc = {
        "init_config": {},
        "instances": [
            {
                "collectors": sorted(KSM_COLLECTORS),
                "tags": [f"env:{environment}", f"kube_cluster_name:{cluster_name}"],
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=True)


def cluster_agent_env(
    args: DatadogArgs,
    *,
    api_key_secret: pulumi.Input[str],
    app_key_secret: pulumi.Input[str] | None,
    token_secret: pulumi.Input[str],
) -> list[EnvVarArgs]:
    """The Cluster Agent's settings."""
    env = [
        env_secret("DD_API_KEY", api_key_secret, "api-key"),
        env_value("DD_SITE", args.config.site),
        env_value("DD_CLUSTER_NAME", args.cluster_name),
        env_value("DD_ENV", args.environment),
        env_field("DD_POD_NAME", "metadata.name"),
        env_secret("DD_CLUSTER_AGENT_AUTH_TOKEN", token_secret, "token"),
        env_value("DD_CLUSTER_AGENT_KUBERNETES_SERVICE_NAME", CLUSTER_AGENT),
        env_value("DD_KUBE_RESOURCES_NAMESPACE", NAMESPACE),
        env_value("DD_LEADER_ELECTION", "true"),
        env_value("DD_LEADER_ELECTION_DEFAULT_RESOURCE", "lease"),
        env_value("DD_LEADER_LEASE_NAME", LEADER_LEASE),
        env_value("DD_COLLECT_KUBERNETES_EVENTS", "false"),
        env_value("DD_CLUSTER_CHECKS_ENABLED", "false"),
        env_value("DD_ADMISSION_CONTROLLER_ENABLED", "false"),
        env_value("DD_ORCHESTRATOR_EXPLORER_ENABLED", "false"),
        env_value("DD_REMOTE_CONFIGURATION_ENABLED", "false"),
        env_value("DD_EXTERNAL_METRICS_PROVIDER_ENABLED", str(args.external_metrics).lower()),
        env_value("DD_HEALTH_PORT", str(CLUSTER_AGENT_HEALTH_PORT)),
    ]
    if args.external_metrics:
        assert app_key_secret is not None
        env += [
            env_secret("DD_APP_KEY", app_key_secret, "app-key"),
            env_value("DD_EXTERNAL_METRICS_PROVIDER_PORT", str(METRICS_API_PORT)),
            env_value("DD_EXTERNAL_METRICS_PROVIDER_USE_DATADOGMETRIC_CRD", "false"),
            env_value("DD_EXTERNAL_METRICS_PROVIDER_WPA_CONTROLLER", "false"),
        ]
    return env


def build_cluster_agent(
    parent: pulumi.Resource,
    image_ref: str,
    name: str,
    args: DatadogArgs,
    labels: dict[str, str],
    *,
    api_secret: k8s.core.v1.Secret,
    app_secret: k8s.core.v1.Secret | None,
    token_secret: k8s.core.v1.Secret,
    in_ns: pulumi.ResourceOptions,
) -> None:
    """The Cluster Agent's ServiceAccount, roles and bindings, Service, check ConfigMap,
    Deployment and PDB (and the external metrics API when on), children of ``parent``."""
    cfg = args.config.cluster_agent
    external = args.external_metrics
    cluster_opts = pulumi.ResourceOptions(parent=parent, provider=in_ns.provider)
    selector = kube.selector_labels(labels)
    account = k8s.core.v1.ServiceAccount(
        f"{name}-cluster-agent-sa",
        metadata=ObjectMetaArgs(name=CLUSTER_AGENT, namespace=NAMESPACE, labels=labels),
        opts=in_ns,
    )
    subject = SubjectArgs(kind="ServiceAccount", name=CLUSTER_AGENT, namespace=NAMESPACE)
    bindings: list[pulumi.Resource] = [
        kube.bound_role(
            f"{name}-cluster-agent-clusterrole",
            f"{name}-cluster-agent-clusterrolebinding",
            name=CLUSTER_AGENT,
            labels=labels,
            rules=cluster_agent_rules(external_metrics=external),
            subjects=[subject],
            opts=cluster_opts,
            depends_on=[account],
        ),
        kube.bound_role(
            f"{name}-cluster-agent-role",
            f"{name}-cluster-agent-rolebinding",
            name=CLUSTER_AGENT,
            namespace=NAMESPACE,
            labels=labels,
            rules=cluster_agent_namespace_rules(external_metrics=external),
            subjects=[subject],
            opts=in_ns,
            depends_on=[account],
        ),
    ]
    k8s.core.v1.Service(
        f"{name}-cluster-agent-svc",
        metadata=ObjectMetaArgs(name=CLUSTER_AGENT, namespace=NAMESPACE, labels=labels),
        spec=ServiceSpecArgs(
            type="ClusterIP",
            selector=selector,
            ports=[
                ServicePortArgs(
                    name="agentport",
                    port=CLUSTER_AGENT_PORT,
                    target_port=CLUSTER_AGENT_PORT,
                    protocol="TCP",
                )
            ],
        ),
        opts=in_ns,
    )
    confd = k8s.core.v1.ConfigMap(
        f"{name}-cluster-agent-confd",
        metadata=ObjectMetaArgs(name=CONFD_CONFIGMAP, namespace=NAMESPACE, labels=labels),
        data={
            "kubernetes_state_core.yaml": ksm_check_config(
                environment=args.environment, cluster_name=args.cluster_name
            )
        },
        opts=in_ns,
    )
    if external:
        build_external_metrics(parent, name, labels, selector, subject, cluster_opts, in_ns)

    env = cluster_agent_env(
        args,
        api_key_secret=api_secret.metadata.apply(lambda m: str(m.name)),
        app_key_secret=app_secret.metadata.apply(lambda m: str(m.name))
        if app_secret is not None
        else None,
        token_secret=token_secret.metadata.apply(lambda m: str(m.name)),
    )
    ports = [ContainerPortArgs(name="agentport", container_port=CLUSTER_AGENT_PORT)]
    if external:
        ports.append(ContainerPortArgs(name="metricsapi", container_port=METRICS_API_PORT))
    security = SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=CLUSTER_AGENT_UID,
        run_as_group=0,  # the image's files are group-root (see CLUSTER_AGENT_UID)
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        privileged=False,
        capabilities=CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
    )
    resources = kube.resources(cfg.cpu, cfg.memory)
    container = ContainerArgs(
        name="cluster-agent",
        image=image_ref,
        env=env,
        ports=ports,
        resources=resources,
        security_context=security,
        liveness_probe=health_probe("/live", CLUSTER_AGENT_HEALTH_PORT),
        readiness_probe=health_probe("/ready", CLUSTER_AGENT_HEALTH_PORT),
        startup_probe=health_probe("/startup", CLUSTER_AGENT_HEALTH_PORT),
        volume_mounts=[
            VolumeMountArgs(name="config", mount_path="/etc/datadog-agent"),
            VolumeMountArgs(name="confd", mount_path="/conf.d", read_only=True),
            VolumeMountArgs(name="logdatadog", mount_path="/var/log/datadog"),
            VolumeMountArgs(name="tmpdir", mount_path="/tmp"),
            VolumeMountArgs(name="run", mount_path="/opt/datadog-agent/run"),
        ],
    )
    init = ContainerArgs(
        name="init-volume",
        image=image_ref,
        command=["cp", "-r"],
        args=["/etc/datadog-agent", "/opt"],
        resources=resources,
        security_context=security,
        volume_mounts=[VolumeMountArgs(name="config", mount_path="/opt/datadog-agent")],
    )
    empty = EmptyDirVolumeSourceArgs(size_limit="128Mi")
    k8s.apps.v1.Deployment(
        f"{name}-cluster-agent",
        metadata=ObjectMetaArgs(name=CLUSTER_AGENT, namespace=NAMESPACE, labels=labels),
        spec=DeploymentSpecArgs(
            replicas=cfg.replicas,
            selector=LabelSelectorArgs(match_labels=selector),
            template=PodTemplateSpecArgs(
                metadata=ObjectMetaArgs(labels=labels),
                spec=PodSpecArgs(
                    service_account_name=CLUSTER_AGENT,
                    priority_class_name=SYSTEM_CLUSTER_CRITICAL,
                    security_context=PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=CLUSTER_AGENT_UID,
                        run_as_group=0,
                        fs_group=0,
                        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    topology_spread_constraints=kube.zone_spread(selector),
                    tolerations=[kube.CRITICAL_ADDONS_TOLERATION],
                    node_selector={"kubernetes.io/os": "linux"},
                    init_containers=[init],
                    containers=[container],
                    volumes=[
                        VolumeArgs(name="config", empty_dir=empty),
                        VolumeArgs(
                            name="confd",
                            config_map=ConfigMapVolumeSourceArgs(
                                name=confd.metadata.apply(lambda m: str(m.name))
                            ),
                        ),
                        VolumeArgs(name="logdatadog", empty_dir=empty),
                        VolumeArgs(name="tmpdir", empty_dir=empty),
                        VolumeArgs(name="run", empty_dir=empty),
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            provider=in_ns.provider,
            depends_on=[
                *bindings,
                api_secret,
                token_secret,
                *([app_secret] if app_secret is not None else []),
                *args.depends_on,
            ],
        ),
    )
    kube.disruption_budget(
        f"{name}-cluster-agent-pdb",
        metadata=ObjectMetaArgs(name=CLUSTER_AGENT, namespace=NAMESPACE, labels=labels),
        selector=selector,
        opts=in_ns,
    )


def build_external_metrics(
    parent: pulumi.Resource,
    name: str,
    labels: dict[str, str],
    selector: dict[str, str],
    subject: SubjectArgs,
    cluster_opts: pulumi.ResourceOptions,
    in_ns: pulumi.ResourceOptions,
) -> None:
    """The APIService, its Service and the RBAC an aggregated API server needs."""
    service = k8s.core.v1.Service(
        f"{name}-metrics-api-svc",
        metadata=ObjectMetaArgs(name=METRICS_SERVICE, namespace=NAMESPACE, labels=labels),
        spec=ServiceSpecArgs(
            type="ClusterIP",
            selector=selector,
            ports=[
                ServicePortArgs(
                    name="metricsapi",
                    port=METRICS_API_PORT,
                    target_port=METRICS_API_PORT,
                    protocol="TCP",
                )
            ],
        ),
        opts=in_ns,
    )
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-cluster-agent-auth-delegator",
        metadata=ObjectMetaArgs(name=f"{CLUSTER_AGENT}:auth-delegator", labels=labels),
        role_ref=RoleRefArgs(
            api_group="rbac.authorization.k8s.io",
            kind="ClusterRole",
            name="system:auth-delegator",
        ),
        subjects=[subject],
        opts=cluster_opts,
    )
    k8s.rbac.v1.RoleBinding(
        f"{name}-cluster-agent-auth-reader",
        metadata=ObjectMetaArgs(
            name=f"{CLUSTER_AGENT}:auth-reader", namespace="kube-system", labels=labels
        ),
        role_ref=RoleRefArgs(
            api_group="rbac.authorization.k8s.io",
            kind="Role",
            name="extension-apiserver-authentication-reader",
        ),
        subjects=[subject],
        opts=cluster_opts,
    )
    kube.bound_role(
        f"{name}-external-metrics-reader",
        f"{name}-external-metrics-reader",
        name="eksplatform:external-metrics-reader",
        labels=labels,
        rules=[EXTERNAL_METRICS_READER],
        subjects=[
            SubjectArgs(kind="ServiceAccount", name=HPA_CONTROLLER[1], namespace=HPA_CONTROLLER[0])
        ],
        opts=cluster_opts,
    )
    k8s.apiregistration.v1.APIService(
        f"{name}-external-metrics-apiservice",
        metadata=ObjectMetaArgs(name=APISERVICE, labels=labels),
        spec=APIServiceSpecArgs(
            group="external.metrics.k8s.io",
            version="v1beta1",
            service=ServiceReferenceArgs(
                name=METRICS_SERVICE, namespace=NAMESPACE, port=METRICS_API_PORT
            ),
            insecure_skip_tls_verify=True,  # see the module docstring
            group_priority_minimum=100,
            version_priority=100,
        ),
        opts=pulumi.ResourceOptions.merge(
            cluster_opts, pulumi.ResourceOptions(depends_on=[service])
        ),
    )


# --- network policies --------------------------------------------------------------------

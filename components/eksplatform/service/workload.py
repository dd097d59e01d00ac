"""The service's Kubernetes objects: ServiceAccount, ConfigMaps, Secret, Deployment (app + Envoy
native sidecar), NodePort Service, HPA, PDB and the optional VPA.

In a developer stack (:mod:`.developer`) the same builder makes the developer's copy: the
ServiceAccount ``<team>.<service>`` names the staging service role (IRSA annotation), the Service
is ClusterIP (no ALB, so no node port), and there is no PDB (one replica).

Names are the service's name (``feed``, ``feed-config``, ``feed-envoy``, ``feed-secrets``), so
other services and dashboards can rely on them. Every object carries the same labels: the
Kubernetes recommended labels, ``team`` and Datadog's unified service tags.

Node ports: the Service leaves ``nodePort`` to the API server, which allocates a free port of the
cluster's range, and the ALB's target group and security group rules take the port the Service
really got (:attr:`Workload.node_port`). Two services of independent repos can therefore never
ask for the same port (the old scheme hashed ``namespace/name`` into ~2,700 ports: a 25% chance of
a clash with 40 services, found only at apply time). An existing Service keeps its port across
the change: an update that omits ``nodePort`` keeps the allocated one. The cost: a new service's
port, and so its target group's, is unknown until the Service exists (``pulumi preview`` shows
it as unknown); ``node_port=`` still pins one when a fixed port is needed.

The config checksum annotation (a change rolls the pods) hashes the config files, the plain
``env`` values and the Envoy bootstrap; never a secret value (``secrets`` are not part of it, and
a Pulumi secret in ``env`` is refused), so the annotation reveals nothing about them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import (
    DeploymentSpecArgs,
    DeploymentStrategyArgs,
    RollingUpdateDeploymentArgs,
)
from pulumi_kubernetes.autoscaling.v2 import (
    CrossVersionObjectReferenceArgs,
    ExternalMetricSourceArgs,
    HorizontalPodAutoscalerBehaviorArgs,
    HorizontalPodAutoscalerSpecArgs,
    HPAScalingPolicyArgs,
    HPAScalingRulesArgs,
    MetricIdentifierArgs,
    MetricSpecArgs,
    MetricTargetArgs,
    PodsMetricSourceArgs,
    ResourceMetricSourceArgs,
)
from pulumi_kubernetes.core.v1 import (
    AffinityArgs,
    ConfigMapVolumeSourceArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    HTTPGetActionArgs,
    LifecycleArgs,
    LifecycleHandlerArgs,
    NodeAffinityArgs,
    NodeSelectorArgs,
    NodeSelectorRequirementArgs,
    NodeSelectorTermArgs,
    ObjectFieldSelectorArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    SecretKeySelectorArgs,
    ServicePortArgs,
    ServiceSpecArgs,
    SleepActionArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs

from .. import envoy
from ..core import devenv, kube
from ..core import priorities as priority
from ..core.contract import ARCH_LABEL
from .args import ServiceStackArgs
from .contract_checks import ChildInputs, service_labels
from .developer import DevPlan
from .validate import ServicePlan

APP_CONTAINER = "app"
ENVOY_CONTAINER = "envoy"
ENVOY_VOLUME = "envoy-config"
CONFIG_VOLUME = "app-config"
TMP_VOLUME = "tmp"
CHECKSUM_ANNOTATION = "eksplatform.io/config-checksum"
"""Pod annotation: hash of the app config files, plain env and Envoy bootstrap (rolls pods)."""
PRESCALE_LABEL = "eksplatform.io/prescale"
PRESCALE_FACTOR_LABEL = "eksplatform.io/prescale-factor"
BASELINE_ANNOTATION = "eksplatform.io/baseline-min-replicas"
"""HPA annotation: the floor this program declares (``autoscaling.min_replicas``)."""
POD_REQUESTS_ANNOTATION = "eksplatform.io/pod-requests"
"""HPA annotation: one pod's requests (app + Envoy), ``{"cpuMillis": n, "memoryBytes": n}``: the
pre-scaler sizes the headroom it adds by it."""


@dataclass(frozen=True)
class Workload:
    """What the Kubernetes part created (for outputs and tests)."""

    service_account: k8s.core.v1.ServiceAccount
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    pdb: k8s.policy.v1.PodDisruptionBudget | None
    """None in a developer stack (one replica)."""
    hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
    vpa: k8s.apiextensions.CustomResource | None
    node_port: pulumi.Output[int]
    """The node port the Service has (allocated by the API server unless pinned); 0 in a
    developer stack (a ClusterIP Service)."""
    pod_dependencies: tuple[pulumi.Resource, ...] = ()
    """What the pods need before they start (ConfigMaps, Secret, ServiceAccount, IAM)."""
    secret_name: str | None = None
    """The Secret holding ``secrets`` (None: no secrets)."""


def selector_for(plan: ServicePlan) -> dict[str, str]:
    """The Deployment's selector (name and instance: the same in every environment)."""
    return kube.selector_labels(service_labels(plan.name, plan.team, "", plan.version))


def service_spec(args: ServiceStackArgs, plan: ServicePlan) -> ServiceSpecArgs:
    """The NodePort Service's spec: ``nodePort`` only when the program pinned one (a developer
    stack's copy: ClusterIP, nothing reaches it through a node)."""
    if plan.developer is not None:
        return ServiceSpecArgs(
            type="ClusterIP",
            selector=selector_for(plan),
            ports=[
                ServicePortArgs(
                    name="http", port=args.service_port, target_port="envoy-http", protocol="TCP"
                )
            ],
        )
    return ServiceSpecArgs(
        type="NodePort",
        selector=selector_for(plan),
        external_traffic_policy="Cluster",
        ports=[
            ServicePortArgs(
                name="http",
                port=args.service_port,
                target_port="envoy-http",
                node_port=plan.node_port,
                protocol="TCP",
            )
        ],
    )


def allocated_node_port(spec: Any) -> int:
    """The node port of the Service's only port, once the API server allocated it."""
    return int(spec.ports[0].node_port)


def termination_grace_seconds(args: ServiceStackArgs, plan: ServicePlan) -> int:
    """The app's preStop sleep and shutdown, then the Envoy sidecar's drain: the kubelet counts
    the whole pod against one grace period, and stops the sidecar only after the app."""
    return (
        args.prestop_sleep_s + args.shutdown_timeout_s + envoy.shutdown_budget_seconds(plan.envoy)
    )


def config_checksum(
    args: ServiceStackArgs,
    envoy_data: Mapping[str, str],
    env: Mapping[str, str] | None = None,
) -> str:
    """sha256 of everything mounted or passed in plain text; a change rolls the pods.

    ``envoy_data`` is the Envoy ConfigMap data; ``env`` the resolved environment when some
    values were Outputs (default: ``args.env``, all plain). Secret values are not part of it
    (they must not leak into a plain annotation): after rotating a secret, restart the
    Deployment."""
    material = {
        "config_files": dict(sorted(args.config_files.items())),
        "env": dict(sorted((env if env is not None else args.env).items())),
        "secret_keys": sorted(args.secrets),
        "envoy": dict(envoy_data),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def checksum_annotation(
    args: ServiceStackArgs, envoy_data: pulumi.Input[dict[str, str]]
) -> pulumi.Input[str]:
    """:func:`config_checksum`, once the Envoy data and the Output values of ``env`` are known
    (a plain string when both are plain)."""
    if isinstance(envoy_data, dict) and all(isinstance(v, str) for v in args.env.values()):
        return config_checksum(args, envoy_data)
    env = pulumi.Output.from_input(dict(args.env))
    data = pulumi.Output.from_input(envoy_data)
    return pulumi.Output.all(data, env).apply(lambda v: config_checksum(args, v[0], v[1]))


def _env(args: ServiceStackArgs, secret_name: str | None) -> list[EnvVarArgs]:
    def label_ref(key: str) -> EnvVarSourceArgs:
        return EnvVarSourceArgs(
            field_ref=ObjectFieldSelectorArgs(field_path=f"metadata.labels['{key}']")
        )

    env = [
        EnvVarArgs(name="DD_ENV", value_from=label_ref("tags.datadoghq.com/env")),
        EnvVarArgs(name="DD_SERVICE", value_from=label_ref("tags.datadoghq.com/service")),
        EnvVarArgs(name="DD_VERSION", value_from=label_ref("tags.datadoghq.com/version")),
        EnvVarArgs(
            name="DD_AGENT_HOST",
            value_from=EnvVarSourceArgs(
                field_ref=ObjectFieldSelectorArgs(field_path="status.hostIP")
            ),
        ),
    ]
    env += [EnvVarArgs(name=k, value=v) for k, v in sorted(args.env.items())]
    if secret_name is not None:
        env += [
            EnvVarArgs(
                name=k,
                value_from=EnvVarSourceArgs(
                    secret_key_ref=SecretKeySelectorArgs(name=secret_name, key=k)
                ),
            )
            for k in sorted(args.secrets)
        ]
    return env


def _app_container(args: ServiceStackArgs, plan: ServicePlan, secret_name: str | None) -> Any:
    p = args.probes
    probe_port = p.port if p.port is not None else args.port
    r = args.resources
    resources = kube.resources(r.cpu, r.memory, cpu_limit=r.cpu_limit)
    if r.memory_limit is not None:
        resources = k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": r.cpu, "memory": r.memory},
            limits={"memory": r.memory_limit, **({"cpu": r.cpu_limit} if r.cpu_limit else {})},
        )
    mounts = [VolumeMountArgs(name=TMP_VOLUME, mount_path="/tmp")]
    if args.config_files:
        mounts.append(
            VolumeMountArgs(name=CONFIG_VOLUME, mount_path=args.config_mount_path, read_only=True)
        )
    startup_period = 2
    return ContainerArgs(
        name=APP_CONTAINER,
        image=args.image,
        command=list(args.command) if args.command is not None else None,
        args=list(args.args) if args.args is not None else None,
        ports=[ContainerPortArgs(name="http", container_port=args.port, protocol="TCP")],
        env=_env(args, secret_name),
        resources=resources,
        security_context=kube.container_security_context(
            uid=args.run_as_user, read_only_root_filesystem=args.read_only_root_filesystem
        ),
        startup_probe=ProbeArgs(
            http_get=HTTPGetActionArgs(path=p.startup_path or p.liveness_path, port=probe_port),
            period_seconds=startup_period,
            timeout_seconds=1,
            failure_threshold=math.ceil(p.startup_timeout_s / startup_period),
        ),
        readiness_probe=ProbeArgs(
            http_get=HTTPGetActionArgs(path=p.readiness_path, port=probe_port),
            period_seconds=p.period_s,
            timeout_seconds=1,
            failure_threshold=2,
        ),
        liveness_probe=ProbeArgs(
            http_get=HTTPGetActionArgs(path=p.liveness_path, port=probe_port),
            period_seconds=p.period_s,
            timeout_seconds=2,
            failure_threshold=3,
        ),
        lifecycle=(
            LifecycleArgs(
                pre_stop=LifecycleHandlerArgs(sleep=SleepActionArgs(seconds=args.prestop_sleep_s))
            )
            if args.prestop_sleep_s > 0
            else None
        ),
        volume_mounts=mounts,
        termination_message_policy="FallbackToLogsOnError",
    )


def _hpa_metrics(args: ServiceStackArgs) -> list[MetricSpecArgs]:
    a = args.autoscaling
    assert a is not None
    metrics: list[MetricSpecArgs] = []
    for resource, target in (("cpu", a.cpu_target_percent), ("memory", a.memory_target_percent)):
        if target is not None:
            metrics.append(
                MetricSpecArgs(
                    type="Resource",
                    resource=ResourceMetricSourceArgs(
                        name=resource,
                        target=MetricTargetArgs(type="Utilization", average_utilization=target),
                    ),
                )
            )
    for m in a.metrics:
        ident = MetricIdentifierArgs(
            name=m.name,
            selector=LabelSelectorArgs(match_labels=dict(m.selector)) if m.selector else None,
        )
        value = MetricTargetArgs(type="AverageValue", average_value=m.average_value)
        if m.type == "Pods":
            metrics.append(
                MetricSpecArgs(type="Pods", pods=PodsMetricSourceArgs(metric=ident, target=value))
            )
        else:
            metrics.append(
                MetricSpecArgs(
                    type="External",
                    external=ExternalMetricSourceArgs(metric=ident, target=value),
                )
            )
    return metrics


def pod_requests(args: ServiceStackArgs) -> dict[str, int]:
    """One pod's CPU (millicores) and memory (bytes) requests, app and Envoy sidecar (whose
    memory request is its limit: ``envoy.memory``, or the measured default)."""
    cpu = kube.parse_cpu(args.resources.cpu) + kube.parse_cpu(args.envoy.cpu)
    sidecar = (
        kube.parse_memory(args.envoy.memory)
        if args.envoy.memory is not None
        else envoy.DEFAULT_MEMORY_LIMIT_MIB * 2**20
    )
    memory = kube.parse_memory(args.resources.memory) + sidecar
    return {"cpuMillis": math.ceil(cpu), "memoryBytes": memory}


def pod_annotations(
    checksum: pulumi.Input[str], extra: pulumi.Input[dict[str, str]]
) -> pulumi.Input[dict[str, str]]:
    """The pod template's annotations: the config checksum and ``extra`` (plain when both are)."""
    if isinstance(checksum, str) and isinstance(extra, dict):
        return {CHECKSUM_ANNOTATION: checksum, **extra}
    return pulumi.Output.all(checksum, extra).apply(lambda v: {CHECKSUM_ANNOTATION: v[0], **v[1]})


def pod_template(
    args: ServiceStackArgs,
    plan: ServicePlan,
    *,
    labels: pulumi.Input[dict[str, str]],
    selector: dict[str, str],
    annotations: pulumi.Input[dict[str, str]],
    config_map: str | None,
    secret_name: str | None,
    service_account: str | None = None,
) -> PodTemplateSpecArgs:
    """The pods of ``args`` (app + Envoy native sidecar): ``config_map`` holds the app's config
    files (None: none), ``secret_name`` its secrets (None: none); ``service_account`` is the
    service's name unless given (a developer copy's ``<team>.<service>``)."""
    name = plan.name
    volumes = [
        VolumeArgs(name=ENVOY_VOLUME, config_map=ConfigMapVolumeSourceArgs(name=f"{name}-envoy")),
        VolumeArgs(name=TMP_VOLUME, empty_dir=EmptyDirVolumeSourceArgs(size_limit="256Mi")),
    ]
    if config_map is not None:
        volumes.append(
            VolumeArgs(name=CONFIG_VOLUME, config_map=ConfigMapVolumeSourceArgs(name=config_map))
        )
    e = args.envoy
    sidecar = envoy.sidecar_container(
        plan.envoy,
        name=ENVOY_CONTAINER,
        image=e.image or envoy.ENVOY_IMAGE,
        config_volume=ENVOY_VOLUME,
        cpu_request=e.cpu,
        memory=e.memory,
    )
    return PodTemplateSpecArgs(
        metadata=ObjectMetaArgs(labels=labels, annotations=annotations),
        spec=PodSpecArgs(
            service_account_name=service_account or name,
            automount_service_account_token=args.automount_service_account_token,
            priority_class_name=priority.SERVICE_DEFAULT,
            security_context=kube.pod_security_context(uid=args.run_as_user),
            termination_grace_period_seconds=termination_grace_seconds(args, plan),
            topology_spread_constraints=kube.zone_spread(selector),
            affinity=architecture_affinity(args.architectures),
            init_containers=[sidecar],
            containers=[_app_container(args, plan, secret_name)],
            volumes=volumes,
            enable_service_links=False,
        ),
    )


def architecture_affinity(architectures: Sequence[str]) -> AffinityArgs:
    """Pods only on nodes of an architecture the image is built for (``kubernetes.io/arch``,
    which the kubelet sets): an amd64-only image on an arm64 node fails with ``exec format
    error`` in a crash loop, so this is a requirement, not a preference."""
    return AffinityArgs(
        node_affinity=NodeAffinityArgs(
            required_during_scheduling_ignored_during_execution=NodeSelectorArgs(
                node_selector_terms=[
                    NodeSelectorTermArgs(
                        match_expressions=[
                            NodeSelectorRequirementArgs(
                                key=ARCH_LABEL, operator="In", values=list(architectures)
                            )
                        ]
                    )
                ]
            )
        )
    )


def deployment_spec(
    args: ServiceStackArgs,
    *,
    replicas: int,
    selector: dict[str, str],
    template: PodTemplateSpecArgs,
) -> DeploymentSpecArgs:
    """A rolling update that never removes a ready pod before its replacement is ready."""
    return DeploymentSpecArgs(
        replicas=replicas,
        revision_history_limit=5,
        selector=LabelSelectorArgs(match_labels=selector),
        strategy=DeploymentStrategyArgs(
            type="RollingUpdate",
            rolling_update=RollingUpdateDeploymentArgs(max_unavailable=0, max_surge="25%"),
        ),
        template=template,
    )


def hpa_spec(
    args: ServiceStackArgs, *, deployment: str, min_replicas: int, max_replicas: int
) -> HorizontalPodAutoscalerSpecArgs:
    """``args.autoscaling``'s metrics and behaviour (scale up fast, down slowly) for the
    Deployment ``deployment``, between ``min_replicas`` and ``max_replicas``."""
    a = args.autoscaling
    assert a is not None
    return HorizontalPodAutoscalerSpecArgs(
        scale_target_ref=CrossVersionObjectReferenceArgs(
            api_version="apps/v1", kind="Deployment", name=deployment
        ),
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        metrics=_hpa_metrics(args),
        behavior=HorizontalPodAutoscalerBehaviorArgs(
            scale_up=HPAScalingRulesArgs(
                stabilization_window_seconds=a.scale_up_stabilization_s,
                select_policy="Max",
                policies=[
                    HPAScalingPolicyArgs(
                        type="Percent", value=a.scale_up_percent, period_seconds=15
                    ),
                    HPAScalingPolicyArgs(type="Pods", value=a.scale_up_pods, period_seconds=15),
                ],
            ),
            scale_down=HPAScalingRulesArgs(
                stabilization_window_seconds=a.scale_down_stabilization_s,
                select_policy="Min",
                policies=[
                    HPAScalingPolicyArgs(
                        type="Percent", value=a.scale_down_percent, period_seconds=60
                    )
                ],
            ),
        ),
    )


def build_workload(
    args: ServiceStackArgs,
    plan: ServicePlan,
    ctx: ChildInputs,
    *,
    start_after: Sequence[pulumi.Resource],
    prefix: str,
    opts: pulumi.ResourceOptions,
) -> Workload:
    """Create the Kubernetes objects (``opts`` carries parent and provider); logical names start
    with ``prefix`` (the component's name), object names with the service's name. ``ctx`` holds
    the namespace, labels and Envoy data derived from the contract."""
    name = plan.name
    namespace = ctx.namespace
    labels = ctx.labels
    selector = selector_for(plan)

    def meta(obj_name: str, **extra: Any) -> ObjectMetaArgs:
        return ObjectMetaArgs(name=obj_name, namespace=namespace, labels=labels, **extra)

    account_name = name
    account_annotations: pulumi.Input[dict[str, str]] | None = None
    if ctx.developer is not None:
        # The staging role trusts this account in dev-* namespaces (IRSA, see core.devenv).
        account_name = devenv.developer_service_account(plan.team, name)
        account_annotations = pulumi.Output.from_input(ctx.developer).apply(_irsa_annotations)
    service_account = k8s.core.v1.ServiceAccount(
        f"{prefix}-sa",
        metadata=meta(account_name, annotations=account_annotations),
        automount_service_account_token=args.automount_service_account_token,
        opts=opts,
    )
    envoy_data = ctx.envoy_data
    envoy_cm = k8s.core.v1.ConfigMap(
        f"{prefix}-envoy",
        metadata=meta(f"{name}-envoy"),
        data=envoy_data,
        opts=opts,
    )
    depends: list[pulumi.Resource] = [envoy_cm, service_account, *start_after]
    if args.config_files:
        app_cm = k8s.core.v1.ConfigMap(
            f"{prefix}-config",
            metadata=meta(f"{name}-config"),
            data=dict(args.config_files),
            opts=opts,
        )
        depends.append(app_cm)
    secret_name: str | None = None
    if args.secrets:
        secret_name = f"{name}-secrets"
        secret = k8s.core.v1.Secret(
            f"{prefix}-secrets",
            metadata=meta(secret_name),
            type="Opaque",
            string_data={k: pulumi.Output.secret(v) for k, v in sorted(args.secrets.items())},
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
            ),
        )
        depends.append(secret)

    checksum = checksum_annotation(args, envoy_data)
    autoscaling = args.autoscaling
    count = autoscaling.min_replicas if autoscaling is not None else args.replicas
    template = pod_template(
        args,
        plan,
        labels=labels,
        selector=selector,
        annotations=pod_annotations(checksum, ctx.pod_annotations),
        config_map=f"{name}-config" if args.config_files else None,
        secret_name=secret_name,
        service_account=account_name,
    )
    deployment = k8s.apps.v1.Deployment(
        f"{prefix}-deployment",
        metadata=meta(name),
        spec=deployment_spec(args, replicas=count, selector=selector, template=template),
        # With an HPA the replica count is the HPA's: never reset it on the next `pulumi up`.
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                depends_on=depends,
                ignore_changes=["spec.replicas"] if autoscaling is not None else None,
            ),
        ),
    )
    service = k8s.core.v1.Service(
        f"{prefix}-service",
        metadata=meta(name),
        spec=service_spec(args, plan),
        opts=opts,
    )
    # One pod at a time may be evicted (node drains, descheduler, VPA); 10% for large fleets.
    pdb = (
        kube.disruption_budget(
            f"{prefix}-pdb",
            metadata=meta(name),
            selector=selector,
            max_unavailable=max(1, count // 10),
            unhealthy_pod_eviction_policy="AlwaysAllow",
            opts=opts,
        )
        if ctx.developer is None
        else None
    )
    hpa = None
    if autoscaling is not None:
        a = autoscaling
        # Who owns spec.minReplicas with push pre-scaling on: this program declares the
        # baseline (the annotation, applied on every `pulumi up`); the pre-scaler writes
        # spec.minReplicas (its own field manager): the raised floor in a push window, the
        # baseline otherwise. ignore_changes keeps `pulumi up` from undoing a pre-scale: with
        # server-side apply pulumi-kubernetes leaves an ignored field another manager owns out
        # of its apply. The cost: a new min_replicas reaches spec.minReplicas through the
        # pre-scaler (its reconcile pass, within platform:preScaler.reconcileIntervalMinutes),
        # not at `pulumi up`; ServiceStack refuses prescaling on a cluster without a pre-scaler.
        prescale: dict[str, str] = {}
        hpa_annotations: dict[str, str] | None = None
        hpa_ignore: list[str] | None = None
        if args.prescaling is not None:
            prescale[PRESCALE_LABEL] = "true"
            prescale[PRESCALE_FACTOR_LABEL] = str(args.prescaling.factor)
            hpa_annotations = {
                BASELINE_ANNOTATION: str(a.min_replicas),
                POD_REQUESTS_ANNOTATION: json.dumps(pod_requests(args), sort_keys=True),
            }
            hpa_ignore = ["spec.minReplicas"]
        hpa_labels: pulumi.Input[dict[str, str]] = (
            {**labels, **prescale}
            if isinstance(labels, dict)
            else pulumi.Output.from_input(labels).apply(  # type: ignore[arg-type]
                lambda base: {**base, **prescale}
            )
        )
        hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{prefix}-hpa",
            metadata=ObjectMetaArgs(
                name=name, namespace=namespace, labels=hpa_labels, annotations=hpa_annotations
            ),
            spec=hpa_spec(
                args, deployment=name, min_replicas=a.min_replicas, max_replicas=a.max_replicas
            ),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[deployment], ignore_changes=hpa_ignore)
            ),
        )
    vpa = None
    if args.vpa is not None:
        v = args.vpa
        app_policy: dict[str, Any] = {
            "containerName": APP_CONTAINER,
            "controlledResources": list(v.controlled_resources),
            "controlledValues": "RequestsAndLimits",
        }
        bounds: Mapping[str, tuple[str | None, str | None]] = {
            "minAllowed": (v.min_cpu, v.min_memory),
            "maxAllowed": (v.max_cpu, v.max_memory),
        }
        for key, (cpu, memory) in bounds.items():
            values = {k: q for k, q in (("cpu", cpu), ("memory", memory)) if q is not None}
            if values:
                app_policy[key] = values
        vpa = k8s.apiextensions.CustomResource(
            f"{prefix}-vpa",
            api_version="autoscaling.k8s.io/v1",
            kind="VerticalPodAutoscaler",
            metadata=meta(name),
            spec={
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "updatePolicy": {"updateMode": v.update_mode},
                "resourcePolicy": {
                    "containerPolicies": [
                        app_policy,
                        # The sidecar is sized by the platform; the VPA leaves it alone.
                        {"containerName": ENVOY_CONTAINER, "mode": "Off"},
                    ]
                },
            },
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[deployment])
            ),
        )
    node_port = (
        service.spec.apply(allocated_node_port)
        if ctx.developer is None
        else pulumi.Output.from_input(0)
    )
    return Workload(
        service_account,
        deployment,
        service,
        pdb,
        hpa,
        vpa,
        node_port,
        pod_dependencies=tuple(depends),
        secret_name=secret_name,
    )


def _irsa_annotations(dev: DevPlan) -> dict[str, str]:
    return {devenv.ROLE_ARN_ANNOTATION: dev.role_arn, devenv.STS_REGIONAL_ANNOTATION: "true"}

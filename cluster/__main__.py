"""The cluster program: read the stack config, wire the components, export the contract."""

import pulumi
from eksplatform.cluster import (
    ClusterOutputs,
    ControlPlane,
    ControlPlaneArgs,
    Network,
    NetworkArgs,
    Tags,
    load_cluster_config,
)
from eksplatform.cluster import headroom as headroom_mod
from eksplatform.cluster import vpa as vpa_mod
from eksplatform.cluster.admission import AdmissionPolicies, AdmissionPoliciesArgs
from eksplatform.cluster.autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from eksplatform.cluster.datadog import Datadog, DatadogArgs
from eksplatform.cluster.datadog_config import team_channels
from eksplatform.cluster.datadog_names import NAMESPACE as DATADOG_NAMESPACE
from eksplatform.cluster.descheduler import Descheduler, DeschedulerArgs
from eksplatform.cluster.dev_environments import DevEnvironments, DevEnvironmentsArgs
from eksplatform.cluster.eks_addons import EksAddons, EksAddonsArgs
from eksplatform.cluster.fluentd import LogShipping, LogShippingArgs
from eksplatform.cluster.headroom import Headroom, HeadroomArgs
from eksplatform.cluster.interruption import InterruptionHandler, InterruptionHandlerArgs
from eksplatform.cluster.node_pools import CAPACITY_ON_DEMAND, NodePools, NodePoolsArgs
from eksplatform.cluster.prescaler import HeadroomTarget, PreScaler, PreScalerArgs
from eksplatform.cluster.priority import PriorityClasses, PriorityClassesArgs
from eksplatform.cluster.service_platform import ServicePlatform, ServicePlatformArgs
from eksplatform.cluster.teams import TeamNamespaces, TeamNamespacesArgs
from eksplatform.cluster.vpa import Vpa, VpaArgs
from eksplatform.core.contract import EXTERNAL_METRICS_API, RESOURCE_METRICS_API
from eksplatform.core.tags import OWNER_TAG, PLATFORM_OWNER
from eksplatform.guardrails.admission import team_group

cfg = load_cluster_config()
# The secure config values (API keys, tokens), read where they are wired, kept secret.
platform_config = pulumi.Config("platform")
# Every resource of this stack is the platform's: the service roles' boundary denies them all.
tags = Tags(
    team=cfg.owner_team,
    environment=cfg.environment,
    cost_centre=cfg.cost_centre,
    extra={**cfg.tags, OWNER_TAG: PLATFORM_OWNER},
)
zones = cfg.zones

network = Network(
    "network",
    NetworkArgs(
        cidr=cfg.network.cidr,
        availability_zones=zones,
        cluster_name=cfg.cluster_name,
        tags=tags,
        nat_gateways=cfg.network.nat_gateways,
        interface_endpoints=cfg.network.interface_endpoints,
        flow_logs=cfg.network.flow_logs.enabled,
        flow_logs_retention_days=cfg.network.flow_logs.retention_days,
        flow_logs_traffic_type=cfg.network.flow_logs.traffic_type,
    ),
)

control_plane = ControlPlane(
    "eks",
    ControlPlaneArgs(
        cluster_name=cfg.cluster_name,
        kubernetes_version=cfg.kubernetes_version,
        vpc_id=network.vpc_id,
        vpc_cidr=cfg.network.cidr,
        private_subnet_ids=network.private_subnet_ids,
        public_subnet_ids=network.public_subnet_ids,
        tags=tags,
        endpoint_public_access=cfg.control_plane.endpoint_public_access,
        public_access_cidrs=cfg.control_plane.public_access_cidrs,
        admin_role_arns=cfg.control_plane.admin_role_arns,
        log_types=cfg.control_plane.log_types,
        log_retention_days=cfg.control_plane.log_retention_days,
        deletion_protection=bool(cfg.control_plane.deletion_protection),
        support_type=cfg.control_plane.support_type,
    ),
)

# --- compute: node pools and EKS managed add-ons (issue 3) ----------------------------------------
node_pools = NodePools(
    "nodes",
    NodePoolsArgs(
        cluster_name=cfg.cluster_name,
        kubernetes_version=cfg.kubernetes_version,
        cluster_endpoint=control_plane.endpoint,
        certificate_authority=control_plane.certificate_authority,
        service_cidr=control_plane.service_cidr,
        availability_zones=zones,
        private_subnet_ids=network.private_subnet_ids,
        node_security_group_id=control_plane.node_security_group_id,
        tags=tags,
        pools=cfg.node_pools,
        ssm_sessions=cfg.node_access.ssm_sessions,
    ),
)
eks_addons = EksAddons(
    "addons",
    EksAddonsArgs(
        cluster_name=control_plane.cluster_name,
        kubernetes_version=cfg.kubernetes_version,
        oidc_provider_arn=control_plane.oidc_provider_arn,
        oidc_provider_url=control_plane.oidc_provider_url,
        tags=tags,
        config=cfg.eks_addons,
        node_groups=node_pools.groups,
    ),
)

# --- compute: spot interruption handling and the Cluster Autoscaler (issue 3) --------------------
pod_identity_agent = eks_addons.addons["eks-pod-identity-agent"]
prefer_on_demand = {node_pools.capacity_type_label: CAPACITY_ON_DEMAND}
if cfg.interruption_handler.enabled:
    InterruptionHandler(
        "nth",
        InterruptionHandlerArgs(
            cluster_name=cfg.cluster_name,
            eks_cluster_name=control_plane.cluster_name,
            region=cfg.region,
            account_id=cfg.account_id,
            asg_names={
                f"{pool}-{zone}": asg
                for pool, asgs in node_pools.asgs_by_pool.items()
                for zone, asg in zip(zones, asgs, strict=True)
            },
            k8s_provider=control_plane.provider,
            tags=tags,
            config=cfg.interruption_handler,
            preferred_node_labels=prefer_on_demand,
            depends_on=[pod_identity_agent, *node_pools.groups],
        ),
    )
ClusterAutoscaler(
    "autoscaler",
    ClusterAutoscalerArgs(
        cluster_name=cfg.cluster_name,
        eks_cluster_name=control_plane.cluster_name,
        kubernetes_version=cfg.kubernetes_version,
        region=cfg.region,
        account_id=cfg.account_id,
        pools=node_pools.pools,
        k8s_provider=control_plane.provider,
        tags=tags,
        config=cfg.autoscaler,
        balancing_ignore_labels=[node_pools.capacity_type_label],
        preferred_node_labels=prefer_on_demand,
        depends_on=[pod_identity_agent, *node_pools.groups],
    ),
)

services = ServicePlatform(
    "services",
    ServicePlatformArgs(
        cluster_name=cfg.cluster_name,
        environment=cfg.environment,
        account_id=cfg.account_id,
        region=cfg.region,
        tags=tags,
        team_alert_emails={t.name: t.alert_emails for t in cfg.teams},
        config=cfg.service_platform,
    ),
)

# --- add-ons: priority classes, VPA, headroom, team namespaces (issue 4) ------------------------
priority_classes = PriorityClasses(
    "priorities", PriorityClassesArgs(provider=control_plane.provider)
)
if cfg.vpa.enabled:
    Vpa(
        "vpa",
        VpaArgs(provider=control_plane.provider, config=cfg.vpa, priority_classes=priority_classes),
    )
headroom = (
    Headroom(
        "headroom",
        HeadroomArgs(
            provider=control_plane.provider,
            replicas=cfg.headroom.replicas,
            cpu=cfg.headroom.cpu,
            memory=cfg.headroom.memory,
            priority_classes=priority_classes,
        ),
    )
    if cfg.headroom.enabled
    else None
)
team_namespaces = TeamNamespaces(
    "teams",
    TeamNamespacesArgs(
        provider=control_plane.provider,
        teams=cfg.teams,
        cluster_name=control_plane.cluster_name,
        vpc_cidr=cfg.network.cidr,
        tags=tags,
        admin_role_arns=cfg.control_plane.admin_role_arns,
        developer_namespaces=bool(cfg.dev_environments.enabled),
    ),
)
team_groups = {t.name: team_group(t.namespace) for t in cfg.teams}

# --- guardrails at admission: rule policies and the team namespace boundary (issues 11, 12) ----
AdmissionPolicies(
    "admission",
    AdmissionPoliciesArgs(
        provider=control_plane.provider,
        environment=cfg.environment,
        kubernetes_version=cfg.kubernetes_version,
        developer_teams=team_groups if cfg.dev_environments.enabled else None,
    ),
)

# --- developer environments on staging: RBAC, admission, janitor, image template (issue 15) ---
dev_offer = cfg.dev_environments.offer(bool(cfg.dev_environments.enabled))
if cfg.dev_environments.enabled:
    DevEnvironments(
        "devenv",
        DevEnvironmentsArgs(
            provider=control_plane.provider,
            config=cfg.dev_environments,
            team_groups=team_groups,
            kubernetes_version=cfg.kubernetes_version,
        ),
    )

# --- push pre-scaler (issue 14) ----------------------------------------------------------------
pre_scaler = (
    PreScaler(
        "prescaler",
        PreScalerArgs(
            cluster_name=cfg.cluster_name,
            eks_cluster_name=control_plane.cluster_name,
            region=cfg.region,
            account_id=cfg.account_id,
            endpoint=control_plane.endpoint,
            certificate_authority=control_plane.certificate_authority,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            cluster_security_group_id=control_plane.cluster_security_group_id,
            k8s_provider=control_plane.provider,
            tags=tags,
            config=cfg.pre_scaler,
            admin_role_arns=cfg.control_plane.admin_role_arns,
            headroom=HeadroomTarget(
                namespace=headroom_mod.NAMESPACE,
                deployment=headroom_mod.DEPLOYMENT_NAME,
                baseline=cfg.headroom.replicas,
                cpu=cfg.headroom.cpu,
                memory=cfg.headroom.memory,
            )
            if cfg.headroom.enabled
            else None,
        ),
    )
    if cfg.pre_scaler.enabled
    else None
)

# --- Datadog: node agent, Cluster Agent, external metrics for HPAs (issue 19) -------------------
datadog = (
    Datadog(
        "datadog",
        DatadogArgs(
            cluster_name=cfg.cluster_name,
            environment=cfg.environment,
            kubernetes_version=cfg.kubernetes_version,
            vpc_cidr=cfg.network.cidr,
            provider=control_plane.provider,
            # secure config values, kept secret: they reach only Kubernetes Secrets
            api_key=platform_config.require_secret("datadogApiKey"),
            app_key=platform_config.require_secret("datadogAppKey")
            if cfg.datadog_external_metrics
            else None,
            external_metrics=cfg.datadog_external_metrics,
            config=cfg.datadog,
            depends_on=[priority_classes],
        ),
    )
    if cfg.datadog_enabled
    else None
)

# --- add-ons: descheduler and log shipping (issue 4) --------------------------------------------
log_shipping = (
    LogShipping(
        "logging",
        LogShippingArgs(
            cluster_name=cfg.cluster_name,
            eks_cluster_name=control_plane.cluster_name,
            region=cfg.region,
            account_id=cfg.account_id,
            provider=control_plane.provider,
            tags=tags,
            settings=cfg.logging,
            # the secure config value, kept secret: it reaches only a Kubernetes Secret
            papertrail_token=platform_config.require_secret("papertrailToken")
            if cfg.logging.output == "papertrail"
            else None,
        ),
    )
    if cfg.logging.enabled
    else None
)
if cfg.descheduler.enabled:
    Descheduler(
        "descheduler",
        DeschedulerArgs(
            kubernetes_version=cfg.kubernetes_version,
            provider=control_plane.provider,
            settings=cfg.descheduler,
            extra_excluded_namespaces=(
                "logging",
                vpa_mod.NAMESPACE,
                headroom_mod.NAMESPACE,
                DATADOG_NAMESPACE,
            ),
        ),
    )

ClusterOutputs(
    cluster_name=control_plane.cluster_name,
    region=pulumi.Output.from_input(cfg.region),
    account_id=pulumi.Output.from_input(cfg.account_id),
    environment=pulumi.Output.from_input(cfg.environment),
    kubernetes_version=pulumi.Output.from_input(cfg.kubernetes_version),
    endpoint=control_plane.endpoint,
    certificate_authority=control_plane.certificate_authority,
    kubeconfig=control_plane.kubeconfig,
    oidc_provider_arn=control_plane.oidc_provider_arn,
    oidc_provider_url=control_plane.oidc_provider_url,
    vpc_id=network.vpc_id,
    vpc_cidr=pulumi.Output.from_input(cfg.network.cidr),
    availability_zones=pulumi.Output.from_input(list(zones)),
    public_subnet_ids=pulumi.Output.all(*network.public_subnet_ids),
    private_subnet_ids=pulumi.Output.all(*network.private_subnet_ids),
    cluster_security_group_id=control_plane.cluster_security_group_id,
    node_security_group_id=control_plane.node_security_group_id,
    cost_centre=pulumi.Output.from_input(cfg.cost_centre),
    node_pool_asg_names=pulumi.Output.all(*node_pools.asg_names),
    capacity_type_label=pulumi.Output.from_input(node_pools.capacity_type_label),
    node_pool_label=pulumi.Output.from_input(node_pools.node_pool_label),
    headroom_namespace=headroom.namespace if headroom else pulumi.Output.from_input(""),
    headroom_deployment_name=(
        headroom.deployment_name if headroom else pulumi.Output.from_input("")
    ),
    headroom_labels=headroom.labels if headroom else pulumi.Output.from_input({}),
    team_namespaces=team_namespaces.namespaces,
    permissions_boundary_arn=services.permissions_boundary_arn,
    alb_log_bucket=services.alb_log_bucket,
    team_alert_topic_arns=services.alert_topics,
    prescale_topic_arn=pre_scaler.topic_arn if pre_scaler else pulumi.Output.from_input(""),
    # metrics-server, an EKS managed add-on (EksAddons), serves the resource metrics API; the
    # Datadog Cluster Agent the external metrics API when it has an application key
    metrics_apis=pulumi.Output.from_input(
        [RESOURCE_METRICS_API]
        + ([EXTERNAL_METRICS_API] if datadog is not None and datadog.external_metrics else [])
    ),
    datadog_site=pulumi.Output.from_input(cfg.datadog.site if datadog is not None else ""),
    team_monitor_channels=pulumi.Output.from_input(team_channels(cfg.datadog, cfg.teams)),
    dev_environments=pulumi.Output.from_input(dev_offer.to_contract()),
    node_architectures=pulumi.Output.from_input(
        list(dict.fromkeys(p.arch for p in cfg.node_pools))
    ),
).export()

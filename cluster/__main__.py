"""The cluster program: read the stack config, wire the components, export the contract."""

import pulumi
from eksplatform import (
    ClusterOutputs,
    ControlPlane,
    ControlPlaneArgs,
    Network,
    NetworkArgs,
    Tags,
    load_cluster_config,
)
from eksplatform.network import resolve_zones

cfg = load_cluster_config()
tags = Tags(
    team=cfg.owner_team, environment=cfg.environment, cost_centre=cfg.cost_centre, extra=cfg.tags
)
zones = resolve_zones(cfg.network.availability_zones, cfg.network.az_count)

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
        private_subnet_ids=network.private_subnet_ids,
        public_subnet_ids=network.public_subnet_ids,
        tags=tags,
        endpoint_public_access=cfg.control_plane.endpoint_public_access,
        public_access_cidrs=cfg.control_plane.public_access_cidrs,
        admin_role_arns=cfg.control_plane.admin_role_arns,
        log_types=cfg.control_plane.log_types,
        log_retention_days=cfg.control_plane.log_retention_days,
        deletion_protection=bool(cfg.control_plane.deletion_protection),
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
    # WIRE(issue 3): node pools replace these placeholders.
    node_pool_asg_names=pulumi.Output.from_input([]),
    capacity_type_label=pulumi.Output.from_input(""),
    node_pool_label=pulumi.Output.from_input(""),
    # WIRE(issue 4): headroom and team namespaces replace these placeholders.
    headroom_namespace=pulumi.Output.from_input(""),
    headroom_deployment_name=pulumi.Output.from_input(""),
    headroom_labels=pulumi.Output.from_input({}),
    team_namespaces=pulumi.Output.from_input({}),
    # WIRE(issue 5): the service platform replaces these placeholders.
    permissions_boundary_arn=pulumi.Output.from_input(""),
    alb_log_bucket=pulumi.Output.from_input(""),
    team_alert_topic_arns=pulumi.Output.from_input({}),
).export()

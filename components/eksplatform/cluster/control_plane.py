"""ControlPlane: the EKS control plane, through ``pulumi_eks.Cluster``.

API authentication mode with access entries (no aws-auth ConfigMap to lock anyone out), no
default node group (node pools are separate, self-managed), private endpoint always on and the
public one limited to given CIDRs or off, secrets envelope-encrypted with a customer-managed KMS
key that rotates, control plane logs in a log group whose retention we own, an OIDC provider for
IRSA, and a Kubernetes provider for everything the platform installs into the cluster.

Add-ons have one owner: :mod:`eksplatform.cluster.eks_addons` installs vpc-cni, kube-proxy, CoreDNS, the
Pod Identity agent and metrics-server as EKS managed add-ons with pinned versions. So EKS is told
not to bootstrap its self-managed copies (``bootstrap_self_managed_addons=False``; a creation-time
setting that pulumi-eks ignores on existing clusters) and pulumi-eks not to create its own
add-ons: no kube-proxy or CoreDNS ``aws.eks.Addon``, no ``VpcCniAddon`` (``use_default_vpc_cni``
means "create none": with no self-managed CNI bootstrapped, the managed add-on is the only one).

Cluster-admin comes only from the declared ``adminRoleArns`` (access entries). pulumi-eks hard-codes
``bootstrapClusterCreatorAdminPermissions: true`` on the ``aws.eks.Cluster`` it creates, which
leaves a hidden, permanent cluster-admin access entry for whoever ran the first ``pulumi up``;
the :func:`no_creator_admin` transform (Pulumi ``transforms`` reach the children of packaged
components) sets it false. The cost: the identity that runs ``pulumi up`` for this stack must be
one of the admin roles (it deploys the platform's Kubernetes objects), and the setting is
create-time only: a cluster created before keeps its creator entry until someone deletes it
(``aws eks delete-access-entry --cluster-name <name> --principal-arn <creator>``).

The Kubernetes service CIDR is set explicitly (``service_cidr``) rather than left to EKS's choice,
because every node's nodeadm configuration must name it.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from ..core.errors import Problems
from ..core.tags import Tags

_TOKEN = "eksplatform:cluster:ControlPlane"
_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
SERVICE_CIDR = "172.20.0.0/16"
"""The Kubernetes service CIDR the platform gives every cluster (the VPC must not overlap it)."""

_EKS_CLUSTER = "aws:eks/cluster:Cluster"


def _creator_admin_off(access: Any) -> dict[str, Any]:
    return {**(access or {}), "bootstrapClusterCreatorAdminPermissions": False}


def no_creator_admin(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Transform of the pulumi-eks component: its ``aws.eks.Cluster`` gets
    ``accessConfig.bootstrapClusterCreatorAdminPermissions: false`` (engine property names)."""
    if args.type_ != _EKS_CLUSTER:
        return None
    props = dict(args.props)
    access = props.get("accessConfig") or {}
    props["accessConfig"] = (
        _creator_admin_off(access)
        if isinstance(access, dict)
        else pulumi.Output.from_input(access).apply(_creator_admin_off)
    )
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


@dataclass(frozen=True, kw_only=True)
class ControlPlaneArgs:
    """Inputs of :class:`ControlPlane`."""

    cluster_name: str
    """Physical EKS cluster name (autoscaler discovery tags and log group names use it)."""
    kubernetes_version: str
    """``1.MINOR``, 1.29 or newer."""
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """The control plane's ENIs and the nodes go here."""
    public_subnet_ids: Sequence[pulumi.Input[str]]
    """For internet-facing load balancers."""
    tags: Tags
    endpoint_public_access: bool = False
    """Default: false (private endpoint only)."""
    public_access_cidrs: tuple[str, ...] = ()
    """Required when the public endpoint is on."""
    admin_role_arns: tuple[str, ...] = ()
    """Roles given cluster-admin through access entries, the only cluster-admins (the creator
    gets no bootstrap entry): list the role that runs ``pulumi up``. Default: none (warned)."""
    log_types: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
    """Default: all five."""
    log_retention_days: int = 90
    """Default: 90."""
    deletion_protection: bool = False
    """Default: false."""
    service_cidr: str = SERVICE_CIDR
    """Kubernetes service CIDR (a /12 to /24 private range that overlaps neither the VPC nor
    any network the pods reach). Default: 172.20.0.0/16 (one of the two EKS picks itself)."""
    vpc_cidr: str | None = None
    """The VPC's CIDR, to check that ``service_cidr`` does not overlap it. Default: unchecked."""


def log_group_name(cluster_name: str) -> str:
    """The log group EKS writes control plane logs to (fixed by EKS)."""
    return f"/aws/eks/{cluster_name}/cluster"


def secrets_key_alias(cluster_name: str) -> str:
    """KMS alias of the key that envelope-encrypts the cluster's Secrets."""
    return f"alias/eks/{cluster_name}-secrets"


def validate_control_plane_args(args: ControlPlaneArgs) -> None:
    problems = Problems()
    parts = args.kubernetes_version.split(".")
    if (
        len(parts) != 2
        or not all(p.isdigit() for p in parts)
        or int(parts[0]) != 1
        or int(parts[1]) < 29
    ):
        problems.add(
            "kubernetes_version",
            args.kubernetes_version,
            'use "1.MINOR" with MINOR 29 or newer (native sidecars)',
        )
    if args.endpoint_public_access and not args.public_access_cidrs:
        problems.add(
            "public_access_cidrs",
            list(args.public_access_cidrs),
            "the public endpoint is on: list the CIDRs allowed to reach it",
        )
    try:
        service = ipaddress.IPv4Network(args.service_cidr)
        if not (12 <= service.prefixlen <= 24 and service.is_private):
            raise ValueError
    except ValueError:
        problems.add(
            "service_cidr",
            args.service_cidr,
            "use a private IPv4 range from /12 to /24, like 172.20.0.0/16",
        )
    else:
        if args.vpc_cidr and service.overlaps(ipaddress.IPv4Network(args.vpc_cidr, strict=False)):
            problems.add(
                "service_cidr",
                args.service_cidr,
                f"overlaps the VPC ({args.vpc_cidr}): Service IPs would shadow VPC addresses; "
                "pick another range, like 10.100.0.0/16",
            )
    if not args.private_subnet_ids:
        problems.add("private_subnet_ids", [], "give at least one private subnet per zone")
    problems.raise_if_any(f"ControlPlane '{args.cluster_name}'")


class ControlPlane(pulumi.ComponentResource):
    """The EKS control plane and a Kubernetes provider for it."""

    cluster: eks.Cluster
    """The pulumi-eks component."""
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    """Base64 PEM of the cluster CA."""
    kubeconfig: pulumi.Output[str]
    """JSON kubeconfig (secret) using ``aws eks get-token``."""
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    """Issuer URL without ``https://`` (IRSA trust condition keys use it)."""
    cluster_security_group_id: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    service_cidr: str
    """Kubernetes service CIDR (nodeadm's ``cidr``)."""
    secrets_key_arn: pulumi.Output[str]
    provider: k8s.Provider
    """Kubernetes provider for objects the platform installs."""

    def __init__(
        self, name: str, args: ControlPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_control_plane_args(args)
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags.merged()
        if not args.admin_role_arns:
            pulumi.log.warn(
                "controlPlane.adminRoleArns is empty: nobody gets cluster-admin (the creator's "
                "bootstrap entry is off), so the platform's Kubernetes objects cannot be "
                "deployed; list the role that runs `pulumi up` for this stack",
                self,
            )

        key = aws.kms.Key(
            f"{name}-secrets",
            description=f"EKS secrets encryption for {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-secrets",
            name=secrets_key_alias(args.cluster_name),
            target_key_id=key.key_id,
            opts=child,
        )
        # EKS writes to exactly this group; creating it first lets us own its retention.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(args.cluster_name),
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )

        access_entries = {
            f"admin-{i}": eks.AccessEntryArgs(
                principal_arn=arn,
                type=eks.AccessEntryType.STANDARD,
                access_policies={
                    "cluster-admin": eks.AccessPolicyAssociationArgs(
                        policy_arn=_ADMIN_POLICY,
                        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    )
                },
            )
            for i, arn in enumerate(args.admin_role_arns)
        }
        self.cluster = eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            private_subnet_ids=list(args.private_subnet_ids),
            public_subnet_ids=list(args.public_subnet_ids),
            node_associate_public_ip_address=False,
            skip_default_node_group=True,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries,
            endpoint_private_access=True,
            endpoint_public_access=args.endpoint_public_access,
            public_access_cidrs=list(args.public_access_cidrs)
            if args.endpoint_public_access
            else None,
            encryption_config_key_arn=key.arn,
            enabled_cluster_log_types=list(args.log_types),
            create_oidc_provider=True,
            deletion_protection=args.deletion_protection,
            kubernetes_service_ip_address_range=args.service_cidr,
            # One owner per add-on: eks_addons.EksAddons installs them as managed add-ons.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[logs], transforms=[no_creator_admin]
            ),
        )
        cluster = self.cluster
        self.cluster_name = cluster.eks_cluster.apply(lambda c: c.name)
        self.endpoint = cluster.eks_cluster.apply(lambda c: c.endpoint)
        self.certificate_authority = cluster.eks_cluster.apply(
            lambda c: c.certificate_authority.apply(lambda ca: ca.data or "")
        )
        self.kubeconfig = pulumi.Output.secret(
            cluster.kubeconfig_json.apply(lambda k: k if isinstance(k, str) else json.dumps(k))
        )
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_provider_url = cluster.oidc_provider_url
        self.cluster_security_group_id = cluster.cluster_security_group_id
        self.node_security_group_id = cluster.node_security_group_id
        self.service_cidr = args.service_cidr
        self.secrets_key_arn = key.arn
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True, opts=child
        )
        self.register_outputs({"clusterName": self.cluster_name, "endpoint": self.endpoint})

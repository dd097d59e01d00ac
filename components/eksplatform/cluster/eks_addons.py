"""EksAddons: the cluster's EKS managed add-ons, at versions pinned in stack config.

Creates ``aws.eks.Addon`` for vpc-cni, kube-proxy, coredns, eks-pod-identity-agent and
metrics-server (an EKS community add-on; the HPA needs it). This component is their only owner:
:class:`~eksplatform.cluster.control_plane.ControlPlane` stops EKS and pulumi-eks from installing their own
copies. Versions are pinned (never "latest") so an upgrade is a reviewed config change; list the
versions a cluster accepts with::

    aws eks describe-addon-versions --kubernetes-version 1.31 --addon-name vpc-cni \\
        --query 'addons[].addonVersions[].addonVersion'

- vpc-cni runs with its own IAM role holding AmazonEKS_CNI_Policy (the node role does not have
  it), bound to the ``kube-system/aws-node`` service account through **IRSA** on the cluster's
  OIDC provider rather than EKS Pod Identity: the CNI is what gives every pod, the Pod Identity
  agent's clients included, its network, so its credentials must not depend on another DaemonSet
  being up; IRSA trades the projected token with STS directly (through the VPC's STS endpoint).
  Kubernetes NetworkPolicy enforcement is turned on (``enableNetworkPolicy``: the CNI's eBPF
  network policy agent).
- coredns and metrics-server are Deployments: they are created after the node pools' groups
  (``depends_on``), so the add-on never sits DEGRADED waiting for nodes that do not exist yet.
  The DaemonSet add-ons (vpc-cni, kube-proxy, the Pod Identity agent) do not wait: nodes need
  them to become Ready.
- vpc-cni, kube-proxy and coredns are ``preserve``-d: deleting the resource leaves the software
  running rather than cutting every pod's network and DNS.
- Conflicts resolve with OVERWRITE on create and update: the values here are the truth, and a
  hand edit in the cluster is put back on the next ``pulumi up``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import field_validator

from ..core.errors import Problems
from ..core.settings import SettingsModel
from ..core.tags import Tags

_TOKEN = "eksplatform:compute:EksAddons"
_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+\Z")

CNI_NAMESPACE = "kube-system"
CNI_SERVICE_ACCOUNT = "aws-node"
CNI_POLICY = "AmazonEKS_CNI_Policy"


class EksAddonsConfig(SettingsModel):
    """``platform:eksAddons``: the version of each EKS managed add-on.

    Defaults are valid for Kubernetes 1.31 (the default cluster version); when you change
    ``platform:kubernetesVersion``, pick versions from ``aws eks describe-addon-versions``."""

    vpc_cni: str = "v1.19.3-eksbuild.1"
    """Amazon VPC CNI. Default: v1.19.3-eksbuild.1."""
    kube_proxy: str = "v1.31.3-eksbuild.2"
    """kube-proxy; its minor version must be the cluster's. Default: v1.31.3-eksbuild.2."""
    coredns: str = "v1.11.4-eksbuild.2"
    """CoreDNS. Default: v1.11.4-eksbuild.2."""
    pod_identity_agent: str = "v1.3.5-eksbuild.2"
    """EKS Pod Identity agent. Default: v1.3.5-eksbuild.2."""
    metrics_server: str = "v0.7.2-eksbuild.1"
    """metrics-server (EKS community add-on). Default: v0.7.2-eksbuild.1."""
    network_policy: bool = True
    """Enforce Kubernetes NetworkPolicy with the VPC CNI's network policy agent. Default: true."""

    @field_validator("vpc_cni", "kube_proxy", "coredns", "pod_identity_agent", "metrics_server")
    @classmethod
    def _version(cls, v: str) -> str:
        if not _VERSION.match(v):
            raise ValueError(
                "not an EKS add-on version; write it like v1.19.3-eksbuild.1 (aws eks "
                "describe-addon-versions lists them)"
            )
        return v


@dataclass(frozen=True, kw_only=True)
class EksAddonsArgs:
    """Inputs of :class:`EksAddons`."""

    cluster_name: pulumi.Input[str]
    """EKS cluster name (``ControlPlane.cluster_name``, so the add-ons wait for the cluster)."""
    kubernetes_version: str
    """``1.MINOR`` of the cluster (kube-proxy must match it)."""
    oidc_provider_arn: pulumi.Input[str]
    """IAM OIDC provider of the cluster (IRSA trust of the CNI role)."""
    oidc_provider_url: pulumi.Input[str]
    """Issuer without ``https://`` (IRSA condition keys)."""
    tags: Tags
    config: EksAddonsConfig = field(default_factory=EksAddonsConfig)
    """Default: the versions of :class:`EksAddonsConfig`."""
    node_groups: Sequence[pulumi.Resource] = ()
    """Resources CoreDNS and metrics-server wait for (``NodePools.groups``). Default: none."""


def kube_proxy_problem(kubernetes_version: str, kube_proxy: str) -> str | None:
    """Why ``kube_proxy`` does not fit a ``kubernetes_version`` cluster, or None."""
    if kube_proxy.startswith(f"v{kubernetes_version}."):
        return None
    return (
        f"kube-proxy must match the cluster's minor version {kubernetes_version}; pick a "
        f"v{kubernetes_version}.x build from aws eks describe-addon-versions --addon-name "
        f"kube-proxy --kubernetes-version {kubernetes_version}"
    )


def validate_eks_addons_args(args: EksAddonsArgs) -> None:
    problems = Problems()
    problem = kube_proxy_problem(args.kubernetes_version, args.config.kube_proxy)
    if problem:
        problems.add("config.kube_proxy", args.config.kube_proxy, problem)
    problems.raise_if_any("EksAddons")


def cni_trust_policy(oidc_provider_arn: str, oidc_provider_url: str) -> str:
    """IRSA trust: only ``kube-system/aws-node`` of this cluster may assume the CNI role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{oidc_provider_url}:sub": (
                                f"system:serviceaccount:{CNI_NAMESPACE}:{CNI_SERVICE_ACCOUNT}"
                            ),
                            f"{oidc_provider_url}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        indent=2,
    )


def vpc_cni_configuration(config: EksAddonsConfig) -> str:
    """``configuration_values`` of the vpc-cni add-on (its schema wants the string "true")."""
    return json.dumps({"enableNetworkPolicy": "true" if config.network_policy else "false"})


class EksAddons(pulumi.ComponentResource):
    """The EKS managed add-ons and the VPC CNI's IAM role."""

    addons: dict[str, aws.eks.Addon]
    """Add-on name (``vpc-cni``, ``coredns``...) -> its resource."""
    cni_role_arn: pulumi.Output[str]
    """Role the aws-node service account assumes (IRSA)."""

    def __init__(
        self, name: str, args: EksAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_eks_addons_args(args)
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags.merged()
        cfg = args.config

        def trust(values: list[Any]) -> str:
            return cni_trust_policy(str(values[0]), str(values[1]))

        role = aws.iam.Role(
            f"{name}-vpc-cni",
            description="Amazon VPC CNI (kube-system/aws-node) through IRSA",
            assume_role_policy=pulumi.Output.all(
                args.oidc_provider_arn, args.oidc_provider_url
            ).apply(trust),
            tags=tags,
            opts=child,
        )
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-vpc-cni",
            role=role.name,
            policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", CNI_POLICY),
            opts=child,
        )
        self.cni_role_arn = role.arn

        def addon(
            addon_name: str,
            version: str,
            *,
            preserve: bool,
            depends_on: Sequence[pulumi.Resource] = (),
            **extra: Any,
        ) -> aws.eks.Addon:
            return aws.eks.Addon(
                f"{name}-{addon_name}",
                cluster_name=args.cluster_name,
                addon_name=addon_name,
                addon_version=version,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                preserve=preserve,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
                **extra,
            )

        nodes = list(args.node_groups)
        self.addons = {
            "vpc-cni": addon(
                "vpc-cni",
                cfg.vpc_cni,
                preserve=True,
                service_account_role_arn=role.arn,
                configuration_values=vpc_cni_configuration(cfg),
                depends_on=[attachment],
            ),
            "kube-proxy": addon("kube-proxy", cfg.kube_proxy, preserve=True),
            "eks-pod-identity-agent": addon(
                "eks-pod-identity-agent", cfg.pod_identity_agent, preserve=False
            ),
            "coredns": addon("coredns", cfg.coredns, preserve=True, depends_on=nodes),
            "metrics-server": addon(
                "metrics-server", cfg.metrics_server, preserve=False, depends_on=nodes
            ),
        }
        self.register_outputs(
            {
                "cniRoleArn": self.cni_role_arn,
                "addons": {k: a.addon_version for k, a in self.addons.items()},
            }
        )

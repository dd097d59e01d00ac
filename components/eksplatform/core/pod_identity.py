"""IAM roles for platform pods through EKS Pod Identity.

The cluster add-ons that call AWS (the Cluster Autoscaler, the interruption handler) get their
credentials from EKS Pod Identity rather than IRSA:

- the role trusts one AWS service principal (``pods.eks.amazonaws.com``), not the cluster's OIDC
  provider, so the trust policy does not change when a cluster is rebuilt or when the role is
  reused by a second cluster;
- the service stamps session tags (cluster name, namespace, service account) on every session;
  the trust policy requires them, so only this cluster's one service account can assume the role
  even though the principal is shared by every cluster in the account;
- the binding lives in the EKS API (an ``aws.eks.PodIdentityAssociation``), not in a ServiceAccount
  annotation that anyone with edit rights on the namespace could change.

The ``eks-pod-identity-agent`` add-on must run on the nodes (it serves the credentials); the
association must exist before the pods start, because the EKS admission webhook injects the
credential variables only at pod creation. Components therefore make their Deployment depend on
the association (and on the agent add-on when the caller passes it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\Z")


def partition_of(region: str) -> str:
    """AWS partition of a region (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def is_region(value: str) -> bool:
    return bool(_REGION.match(value))


def trust_policy(
    *, account_id: str, cluster_name: str, namespace: str, service_account: str
) -> dict[str, Any]:
    """Trust policy letting only ``namespace/service_account`` of ``cluster_name`` assume a role
    through EKS Pod Identity (session tags checked, same account only)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": account_id,
                        "aws:RequestTag/eks-cluster-name": cluster_name,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    }
                },
            }
        ],
    }


@dataclass(frozen=True)
class PodIdentityRole:
    """What :func:`pod_identity_role` created."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    association: aws.eks.PodIdentityAssociation


def pod_identity_role(
    name: str,
    *,
    cluster_name: str,
    eks_cluster_name: pulumi.Input[str],
    account_id: str,
    namespace: str,
    service_account: str,
    statements: Sequence[Mapping[str, Any]],
    tags: Mapping[str, str],
    description: str,
    parent: pulumi.Resource,
) -> PodIdentityRole:
    """A role with one inline policy (``statements``) and its Pod Identity association.

    ``cluster_name`` is the physical name (trust policy condition); ``eks_cluster_name`` the same
    name as the control plane's output, so the association waits for the cluster. Statements may hold
    Outputs (a queue ARN); they are rendered with ``Output.json_dumps``.
    """
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-role",
        description=description,
        assume_role_policy=json.dumps(
            trust_policy(
                account_id=account_id,
                cluster_name=cluster_name,
                namespace=namespace,
                service_account=service_account,
            ),
            sort_keys=True,
        ),
        max_session_duration=3600,
        tags=dict(tags),
        opts=child,
    )
    policy = aws.iam.RolePolicy(
        f"{name}-policy",
        role=role.id,
        policy=pulumi.Output.json_dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True
        ),
        opts=child,
    )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-pod-identity",
        cluster_name=eks_cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=dict(tags),
        # The role must carry its permissions before a pod can use it.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
    )
    return PodIdentityRole(role=role, policy=policy, association=association)

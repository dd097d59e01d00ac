"""The service's IAM role through EKS Pod Identity: trust scoped to exactly this cluster's
``<namespace>/<service account>``, the cluster's permissions boundary always attached, the team's
statements as one inline policy, and the ``aws.eks.PodIdentityAssociation`` binding them.

Pod Identity rather than IRSA, as for the platform's own add-ons (:mod:`eksplatform.core.pod_identity`,
whose trust policy this reuses): the binding lives in the EKS API, not in a ServiceAccount
annotation that anyone with edit rights in the team namespace could point at another role, and
the trust does not name the cluster's OIDC provider, so it survives a cluster rebuild. The trust
requires the session tags EKS stamps (cluster, namespace, service account) and the account.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.contract import ClusterOutputs
from ..core.pod_identity import trust_policy
from .args import IamStatement


@dataclass(frozen=True)
class ServiceRole:
    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation
    """Pods must start after it (EKS injects credentials at pod creation only)."""


def _statement(st: IamStatement, resources: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Effect": st.effect,
        "Action": sorted(st.actions),
        "Resource": resources,
    }
    if st.conditions:
        out["Condition"] = {k: dict(v) for k, v in st.conditions.items()}
    return out


def inline_policy(statements: Sequence[IamStatement]) -> pulumi.Output[str]:
    """The policy document (resources may be Outputs, e.g. a table ARN)."""

    def resolved(st: IamStatement) -> pulumi.Output[dict[str, Any]]:
        def build(resources: list[Any]) -> dict[str, Any]:
            return _statement(st, [str(r) for r in resources])

        return pulumi.Output.all(*st.resources).apply(build)

    parts = [resolved(st) for st in statements]
    return pulumi.Output.all(*parts).apply(
        lambda sts: json.dumps({"Version": "2012-10-17", "Statement": list(sts)}, sort_keys=True)
    )


def build_role(
    name: str,
    *,
    service: str,
    namespace: pulumi.Output[str],
    service_account: str,
    cluster: ClusterOutputs,
    statements: Sequence[IamStatement],
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
) -> ServiceRole:
    """Create the role, its inline policy (when there are statements) and the association."""

    def trust(values: list[Any]) -> str:
        account_id, cluster_name, ns = (str(v) for v in values)
        return json.dumps(
            trust_policy(
                account_id=account_id,
                cluster_name=cluster_name,
                namespace=ns,
                service_account=service_account,
            ),
            sort_keys=True,
        )

    role = aws.iam.Role(
        f"{name}-role",
        description=f"Service {service}: its pods' AWS identity (EKS Pod Identity)",
        assume_role_policy=pulumi.Output.all(
            cluster.account_id, cluster.cluster_name, namespace
        ).apply(trust),
        permissions_boundary=cluster.permissions_boundary_arn,
        max_session_duration=3600,
        tags=tags,
        opts=opts,
    )
    after: list[pulumi.Resource] = []
    if statements:
        after.append(
            aws.iam.RolePolicy(
                f"{name}-policy",
                role=role.id,
                policy=inline_policy(statements),
                opts=opts,
            )
        )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-pod-identity",
        cluster_name=cluster.cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=tags,
        # The role carries its permissions before a pod can assume it.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=after)),
    )
    return ServiceRole(role=role, association=association)

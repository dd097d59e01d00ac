"""The service's IAM role through EKS Pod Identity: trust scoped to exactly this cluster's
``<namespace>/<service account>``, the cluster's permissions boundary always attached, the team's
statements as one inline policy, and the ``aws.eks.PodIdentityAssociation`` binding them.

Pod Identity rather than IRSA, as for the platform's own add-ons (:mod:`eksplatform.core.pod_identity`,
whose trust policy this reuses): the binding lives in the EKS API, not in a ServiceAccount
annotation that anyone with edit rights in the team namespace could point at another role, and
the trust does not name the cluster's OIDC provider, so it survives a cluster rebuild. The trust
requires the session tags EKS stamps (cluster, namespace, service account) and the account.

**Developer environments** (:mod:`eksplatform.core.devenv`): in an environment that offers them
(not production), the role also trusts the service's ServiceAccount ``<team>.<service>`` in any
``dev-*`` namespace of this cluster through the cluster's OIDC provider (IRSA,
``sts:AssumeRoleWithWebIdentity``, audience ``sts.amazonaws.com``), and gets the fixed name
:func:`~eksplatform.core.devenv.staging_role_name` so a developer stack can name it. Why IRSA
here and not Pod Identity: an association is per namespace, an AWS resource per developer;
IRSA trust takes a namespace pattern, so a developer namespace needs nothing outside
Kubernetes. The cost: that binding is a ServiceAccount annotation, so the cluster's admission
policy lets a team create service accounts in developer namespaces only under its own team
prefix (``news.`` for team news: :mod:`eksplatform.cluster.dev_environments`), and the trust
names the team in the account name; another team cannot borrow the role. Switching an existing
role to the fixed name replaces it (create before delete; the association follows).

The role carries the company ``team`` tag (from the ServiceStack's tags): the permissions
boundary reads it as ``${aws:PrincipalTag/team}`` to confine the role to its team's resources.
The statements arrive checked: plain values before registration, Outputs (a table's ARN) in
ServiceStack's gate once they resolve (:mod:`.output_checks`), which the role and its policy
wait on; this module only writes them down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core import devenv
from ..core.contract import ClusterOutputs
from ..core.pod_identity import trust_policy
from .args import IamStatement


@dataclass(frozen=True)
class ServiceRole:
    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation
    """Pods must start after it (EKS injects credentials at pod creation only)."""


def _statement(
    st: IamStatement, resources: list[str], conditions: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Effect": st.effect,
        "Action": sorted(st.actions),
        "Resource": resources,
    }
    if conditions:
        out["Condition"] = {k: dict(v) for k, v in conditions.items()}
    return out


def inline_policy(statements: Sequence[IamStatement]) -> pulumi.Output[str]:
    """The policy document, once every resource (and condition value) has resolved. The
    statements were checked before (see the module docstring): nothing is judged here."""

    def build(values: list[Any]) -> str:
        out = [
            _statement(st, [str(r) for r in values[2 * i]], values[2 * i + 1])
            for i, st in enumerate(statements)
        ]
        return json.dumps({"Version": "2012-10-17", "Statement": out}, sort_keys=True)

    parts: list[Any] = []
    for st in statements:
        parts.append(pulumi.Output.all(*st.resources))
        parts.append(pulumi.Output.from_input({k: dict(v) for k, v in st.conditions.items()}))
    return pulumi.Output.all(*parts).apply(build)


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
    team: str = "",
    dev_trust: pulumi.Input[bool] = False,
    environment: pulumi.Input[str] = "",
) -> ServiceRole:
    """Create the role, its inline policy (when there are statements) and the association.

    ``dev_trust`` (with ``team`` and ``environment``): also trust the service's account in
    developer namespaces, under the fixed name (see the module docstring)."""

    def trust(values: list[Any]) -> str:
        account_id, cluster_name, ns, oidc_arn, oidc_url, developers = values
        policy = trust_policy(
            account_id=str(account_id),
            cluster_name=str(cluster_name),
            namespace=str(ns),
            service_account=service_account,
        )
        if developers:
            policy["Statement"].append(
                developer_trust_statement(
                    str(oidc_arn), str(oidc_url), devenv.developer_service_account(team, service)
                )
            )
        return json.dumps(policy, sort_keys=True)

    def role_name(values: list[Any]) -> str | None:
        developers, env = values
        return devenv.staging_role_name(team, service, str(env)) if developers else None

    role = aws.iam.Role(
        f"{name}-role",
        name=pulumi.Output.all(dev_trust, environment).apply(role_name),
        description=f"Service {service}: its pods' AWS identity (EKS Pod Identity)",
        assume_role_policy=pulumi.Output.all(
            cluster.account_id,
            cluster.cluster_name,
            namespace,
            cluster.oidc_provider_arn,
            cluster.oidc_provider_url,
            dev_trust,
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


def developer_trust_statement(
    oidc_provider_arn: str, oidc_provider_url: str, service_account: str
) -> dict[str, Any]:
    """IRSA trust for ``service_account`` in any developer namespace (``dev-*``) of the cluster
    whose OIDC issuer is ``oidc_provider_url`` (without ``https://``)."""
    issuer = oidc_provider_url.removeprefix("https://")
    return {
        "Sid": "DeveloperNamespaces",
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"},
            "StringLike": {
                f"{issuer}:sub": f"system:serviceaccount:{devenv.DEV_PREFIX}*:{service_account}"
            },
        },
    }

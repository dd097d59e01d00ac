"""DevEnvironments: what the staging cluster needs so developers can run their own copies.

A developer stack (``dev-<developer>``, :mod:`eksplatform.service.developer`) creates only
Kubernetes objects: the namespace ``dev-<developer>`` with its quota and limits, and the
service's objects. This component makes that safe and self-cleaning:

* **who may do what** (RBAC + ValidatingAdmissionPolicies, ``admissionregistration.k8s.io/v1``):
  every team identity (group ``eksplatform:team:<namespace>``) may create, change and delete
  namespaces (a ClusterRole: RBAC cannot narrow a create by name or label) and gets edit rights
  in ``dev-*`` namespaces (its EKS access policy's namespace scope, :mod:`.teams`); the policies
  narrow that to its own team's developer namespaces:

  - ``eksplatform-dev-namespaces``: a namespace named ``dev-*`` is created by a team identity
    only as a developer namespace: ``eksplatform.io/developer`` = the name after ``dev-``, an
    expiry label in ``20261224T180000Z`` form, Pod Security "restricted" enforced; its developer
    and team labels never change. (That the team is the requester's own is the team namespace
    boundary's job, which now admits a team's own developer namespaces:
    :func:`eksplatform.guardrails.admission.namespace_boundary`.)
  - ``eksplatform-dev-service-accounts``: in a developer namespace, a team identity creates
    service accounts only named ``<its team>.<service>``: the staging roles trust exactly
    ``<team>.<service>`` in ``dev-*`` (IRSA, :mod:`eksplatform.service.iam`), so no team can
    borrow another's role;
  - ``eksplatform-dev-quota``: a developer namespace's ResourceQuota and LimitRange are
    ``dev-quota`` / ``dev-limits`` with exactly the values of ``platform:devEnvironments``
    (compared as quantities), and a team identity cannot delete them;
  - ``eksplatform-dev-pods-need-quota``: a pod is admitted into a developer namespace only when
    its ``dev-quota`` exists (a parameter that is not found denies), so skipping the quota does
    not escape it;
  - ``eksplatform-dev-janitor-scope``: the janitor's ServiceAccount deletes only namespaces named
    ``dev-<developer>`` that carry the developer label.

* **expiry**: the janitor CronJob (:mod:`.dev_janitor.janitor`, standard library, run by a
  pinned Python image from a ConfigMap) in ``devenv-system``, every 15 minutes by default,
  deletes developer namespaces past their expiry (``dryRun`` logs instead);
* **images**: an ECR repository creation template for ``dev/``: the first ``docker push`` of
  ``dev/<team>/<service>`` creates a mutable repository whose images expire after
  ``imageRetentionDays`` (:func:`eksplatform.core.devenv.developer_repository`).

Design decision: admission policies, not a namespace-provisioning controller: nothing runs
between a developer and the API server, so ``skaffold dev`` works at the first deploy, and the
rules hold for ``kubectl`` as much as for Pulumi. The cost: a developer's own namespace objects
(quota, limits) are written by the developer and therefore checked field by field here, and
NetworkPolicies in developer namespaces are the developer's (none by default: a developer
namespace's pods are reachable within the cluster and their egress is open; the team
namespaces' own policies still decide what reaches them, and admit their team's developer
namespaces on the Envoy port).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.batch.v1 import CronJobSpecArgs, JobSpecArgs, JobTemplateSpecArgs
from pulumi_kubernetes.core.v1 import (
    ConfigMapProjectionArgs,
    ConfigMapVolumeSourceArgs,
    ContainerArgs,
    EnvVarArgs,
    KeyToPathArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProjectedVolumeSourceArgs,
    ServiceAccountTokenProjectionArgs,
    VolumeArgs,
    VolumeMountArgs,
    VolumeProjectionArgs,
)
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs, RoleRefArgs, SubjectArgs
from pydantic import field_validator, model_validator

from ..core import devenv, kube
from ..core.errors import Problems
from ..core.kube import CpuQuantity, MemoryQuantity
from ..core.priorities import SYSTEM_CLUSTER_CRITICAL
from ..core.settings import SettingsModel, field_error
from ..guardrails.admission import TEAM_GROUP_PREFIX, cel_string
from .descheduler import check_cron
from .teams import LimitRangeConfig

_TOKEN = "eksplatform:addons:DevEnvironments"
NAMESPACE = "devenv-system"
"""The janitor's namespace (not ``dev-*``: that prefix is the developers')."""
JANITOR = "dev-janitor"
JANITOR_USER = f"system:serviceaccount:{NAMESPACE}:{JANITOR}"
NAMESPACES_ROLE = "eksplatform:dev-namespaces"
JANITOR_ROLE = "eksplatform:dev-janitor"
JANITOR_IMAGE = "public.ecr.aws/docker/library/python:3.13.1-alpine3.21"
"""The janitor's interpreter: Docker's official Python image through ECR Public (an allowed
registry), pinned to a patch release and Alpine version; the script needs the standard library
only."""
MIN_MINOR = 30
"""ValidatingAdmissionPolicy (v1) is GA from 1.30: without it the boundary above does not hold."""
JANITOR_SOURCE = "janitor.py"


class DevQuotaConfig(SettingsModel):
    """Every developer namespace's ResourceQuota."""

    requests_cpu: CpuQuantity = "4"
    """Sum of CPU requests. Default: 4."""
    requests_memory: MemoryQuantity = "8Gi"
    """Sum of memory requests. Default: 8Gi."""
    limits_memory: MemoryQuantity = "8Gi"
    """Sum of memory limits. Default: 8Gi."""
    pods: int = 20
    """Default: 20."""
    services: int = 10
    """Default: 10 (ClusterIP only: node ports and load balancers are 0)."""

    @field_validator("pods", "services")
    @classmethod
    def _count(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be 1 or more")
        return v

    def hard(self) -> dict[str, str]:
        """The contract's ``quota`` (camelCase keys, :data:`devenv.QUOTA_KEYS`)."""
        return {
            "requestsCpu": self.requests_cpu,
            "requestsMemory": self.requests_memory,
            "limitsMemory": self.limits_memory,
            "pods": str(self.pods),
            "services": str(self.services),
            "servicesNodePorts": "0",
            "servicesLoadBalancers": "0",
        }


class DevLimitRangeConfig(LimitRangeConfig):
    """Every developer namespace's LimitRange (per container)."""

    default_request_cpu: CpuQuantity = "50m"
    """Default: 50m."""
    default_request_memory: MemoryQuantity = "128Mi"
    """Default: 128Mi."""
    default_limit_memory: MemoryQuantity = "128Mi"
    """Default: 128Mi."""
    max_memory: MemoryQuantity = "4Gi"
    """Default: 4Gi."""


class DevJanitorConfig(SettingsModel):
    """The janitor CronJob."""

    schedule: str = "*/15 * * * *"
    """Cron schedule. Default: every 15 minutes."""
    dry_run: bool = False
    """Log what would be deleted, delete nothing. Default: false."""
    image: str = JANITOR_IMAGE
    """Python image running the script. Default: :data:`JANITOR_IMAGE`."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        return check_cron(v)

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        tag = v.rsplit("/", 1)[-1]
        if "@sha256:" not in v and (":" not in tag or tag.endswith(":latest")):
            raise ValueError("pin the image by a version tag or a digest")
        return v


class DevEnvironmentsConfig(SettingsModel):
    """``platform:devEnvironments``: developer namespaces on this (non-production) cluster."""

    enabled: bool | None = None
    """Default: on in a non-production environment, off in production (where it cannot be
    turned on)."""
    max_ttl_hours: int = 168
    """Longest a developer environment may live ahead (devExpires, ``dev extend``), hours
    (1-720). Default: 168 (a week)."""
    default_ttl_hours: int = 24
    """Expiry of a deploy that names none, hours (at most ``maxTtlHours``). Default: 24."""
    image_retention_days: int = 7
    """Developer images (``dev/<team>/<service>``) expire after this many days (1-90).
    Default: 7."""
    quota: DevQuotaConfig = DevQuotaConfig()
    """Default: 4 CPU, 8Gi requests and limits, 20 pods, 10 Services."""
    limit_range: DevLimitRangeConfig = DevLimitRangeConfig()
    """Default: 50m / 128Mi requests, 128Mi limit, 4Gi max."""
    janitor: DevJanitorConfig = DevJanitorConfig()
    """Default: every 15 minutes, deleting."""

    @field_validator("max_ttl_hours")
    @classmethod
    def _max(cls, v: int) -> int:
        if not 1 <= v <= 720:
            raise ValueError("must be 1-720 (30 days)")
        return v

    @field_validator("image_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if not 1 <= v <= 90:
            raise ValueError("must be 1-90")
        return v

    @model_validator(mode="after")
    def _default_fits(self) -> DevEnvironmentsConfig:
        if not 1 <= self.default_ttl_hours <= self.max_ttl_hours:
            raise field_error(
                "defaultTtlHours",
                f"must be 1 to maxTtlHours ({self.max_ttl_hours}): a deploy's default expiry "
                "cannot be beyond what the cluster allows",
            )
        return self

    def offer(self, enabled: bool) -> devenv.DevOffer:
        """What the contract's ``devEnvironments`` says."""
        lr = self.limit_range
        return devenv.DevOffer(
            enabled=enabled,
            max_ttl_hours=self.max_ttl_hours,
            default_ttl_hours=self.default_ttl_hours,
            quota=self.quota.hard(),
            limit_range={
                "defaultRequestCpu": lr.default_request_cpu,
                "defaultRequestMemory": lr.default_request_memory,
                "defaultLimitMemory": lr.default_limit_memory,
                "maxMemory": lr.max_memory,
            },
            admission=enabled,
        )


# --- the admission policies, as plain manifests (deployed below, evaluated by the tests) -------


@dataclass(frozen=True)
class PolicyManifests:
    policy: dict[str, Any]
    binding: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.policy["metadata"]["name"])


def _team_identity() -> str:
    return f"request.userInfo.groups.exists(g, g.startsWith('{TEAM_GROUP_PREFIX}'))"


_DEV_SELECTOR = {
    "matchExpressions": [{"key": devenv.DEVELOPER_LABEL, "operator": "Exists"}],
}


def _policy(
    name: str,
    *,
    resources: Sequence[tuple[str, str]],
    operations: Sequence[str],
    validations: Sequence[tuple[str, str]],
    match_conditions: Sequence[tuple[str, str]] = (),
    variables: Sequence[tuple[str, str]] = (),
    developer_namespaces_only: bool = False,
    param_kind: Mapping[str, str] | None = None,
    param_ref: Mapping[str, str] | None = None,
) -> PolicyManifests:
    groups: dict[str, list[str]] = {}
    for group, plural in resources:
        groups.setdefault(group, []).append(plural)
    constraints: dict[str, Any] = {
        "resourceRules": [
            {
                "apiGroups": [group],
                "apiVersions": ["v1"],
                "resources": plurals,
                "operations": list(operations),
                "scope": "*",
            }
            for group, plurals in groups.items()
        ]
    }
    if developer_namespaces_only:
        constraints["namespaceSelector"] = _DEV_SELECTOR
    spec: dict[str, Any] = {"failurePolicy": "Fail", "matchConstraints": constraints}
    if param_kind is not None:
        spec["paramKind"] = dict(param_kind)
    if match_conditions:
        spec["matchConditions"] = [{"name": n, "expression": e} for n, e in match_conditions]
    if variables:
        spec["variables"] = [{"name": n, "expression": e} for n, e in variables]
    spec["validations"] = [{"expression": e, "messageExpression": m} for e, m in validations]
    labels = {"app.kubernetes.io/managed-by": kube.MANAGED_BY_LABEL}
    binding_spec: dict[str, Any] = {"policyName": name, "validationActions": ["Deny"]}
    if param_ref is not None:
        binding_spec["paramRef"] = dict(param_ref)
    return PolicyManifests(
        policy={
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name, "labels": labels},
            "spec": spec,
        },
        binding={
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name, "labels": labels},
            "spec": binding_spec,
        },
    )


def _labels_of(obj: str) -> str:
    return f"(has({obj}.metadata.labels) ? {obj}.metadata.labels : {{}})"


def namespaces_policy() -> PolicyManifests:
    new, old = _labels_of("object"), _labels_of("oldObject")
    dev, team, exp = devenv.DEVELOPER_LABEL, devenv.TEAM_LABEL, devenv.EXPIRES_LABEL
    pss = "pod-security.kubernetes.io/enforce"
    return _policy(
        "eksplatform-dev-namespaces",
        resources=[("", "namespaces")],
        operations=["CREATE", "UPDATE"],
        match_conditions=[
            ("team-identity", _team_identity()),
            ("developer-namespace", f"object.metadata.name.startsWith('{devenv.DEV_PREFIX}')"),
        ],
        variables=[("labels", new)],
        validations=[
            (
                f"'{dev}' in variables.labels && variables.labels['{dev}'] == "
                f"object.metadata.name.substring({len(devenv.DEV_PREFIX)})",
                cel_string(
                    f"a namespace named dev-<developer> is a developer namespace: label it "
                    f"{dev}=<developer> (the name after 'dev-')"
                ),
            ),
            (
                f"'{team}' in variables.labels",
                cel_string(f"a developer namespace names its team: label it {team}=<team>"),
            ),
            (
                f"'{exp}' in variables.labels && variables.labels['{exp}'].matches("
                f"'^[0-9]{{8}}T[0-9]{{6}}Z$')",
                cel_string(
                    f"a developer namespace expires: label it {exp}=<YYYYMMDDTHHMMSSZ, UTC> "
                    "(eksplatform dev extend sets it)"
                ),
            ),
            (
                f"'{pss}' in variables.labels && variables.labels['{pss}'] == 'restricted'",
                cel_string(
                    f"a developer namespace enforces Pod Security 'restricted': label it {pss}"
                ),
            ),
            (
                # An absent label reads as '<absent>', which no label value can be (so adding
                # or removing a label is a change, even an empty one).
                "request.operation != 'UPDATE' || ("
                + " && ".join(
                    f"(('{k}' in {old}) ? {old}['{k}'] : '<absent>') == "
                    f"(('{k}' in variables.labels) ? variables.labels['{k}'] : '<absent>')"
                    for k in (dev, team)
                )
                + ")",
                cel_string(f"the {dev} and {team} labels of a developer namespace never change"),
            ),
        ],
    )


def service_accounts_policy() -> PolicyManifests:
    team = devenv.TEAM_LABEL
    return _policy(
        "eksplatform-dev-service-accounts",
        resources=[("", "serviceaccounts")],
        operations=["CREATE", "UPDATE"],
        developer_namespaces_only=True,
        match_conditions=[("team-identity", _team_identity())],
        validations=[
            (
                f"'{team}' in {_labels_of('namespaceObject')} && object.metadata.name.startsWith("
                f"namespaceObject.metadata.labels['{team}'] + '.')",
                "'in a developer namespace, service accounts are named <team>.<service> for the "
                f"namespace\\'s team (' + (('{team}' in {_labels_of('namespaceObject')}) ? "
                f"namespaceObject.metadata.labels['{team}'] : 'none') + '): the staging roles "
                "trust exactly that name'",
            )
        ],
    )


def _quantity_equal(expr: str, value: str) -> str:
    return f"quantity(string({expr})).compareTo(quantity('{value}')) == 0"


def quota_policy(offer: devenv.DevOffer) -> PolicyManifests:
    hard = {devenv.QUOTA_KEYS[k]: v for k, v in sorted(offer.quota.items())}
    quota_checks = " && ".join(
        f"('{k}' in object.spec.hard && " + _quantity_equal(f"object.spec.hard['{k}']", v) + ")"
        for k, v in hard.items()
    )
    lr = offer.limit_range
    item = "object.spec.limits[0]"
    limit_checks = " && ".join(
        [
            f"size(object.spec.limits) == 1 && {item}.type == 'Container'",
            f"!has({item}.min) && !has({item}.maxLimitRequestRatio)",
            f"has({item}.defaultRequest) && size({item}.defaultRequest) == 2",
            _quantity_equal(f"{item}.defaultRequest['cpu']", lr["defaultRequestCpu"]),
            _quantity_equal(f"{item}.defaultRequest['memory']", lr["defaultRequestMemory"]),
            f"has({item}.default) && size({item}.default) == 1",
            _quantity_equal(f"{item}.default['memory']", lr["defaultLimitMemory"]),
            f"has({item}.max) && size({item}.max) == 1",
            _quantity_equal(f"{item}.max['memory']", lr["maxMemory"]),
        ]
    )
    is_quota = "request.resource.resource == 'resourcequotas'"
    shown_quota = ", ".join(f"{k}={v}" for k, v in hard.items())
    shown_limits = ", ".join(f"{k}={v}" for k, v in sorted(lr.items()))
    return _policy(
        "eksplatform-dev-quota",
        resources=[("", "resourcequotas"), ("", "limitranges")],
        operations=["CREATE", "UPDATE", "DELETE"],
        developer_namespaces_only=True,
        match_conditions=[("team-identity", _team_identity())],
        validations=[
            (
                "request.operation != 'DELETE'",
                "'the quota and limits of a developer namespace stay until the namespace goes "
                "(eksplatform dev down)'",
            ),
            (
                f"request.operation == 'DELETE' || ({is_quota} ? object.metadata.name == "
                f"'{devenv.QUOTA_NAME}' : object.metadata.name == '{devenv.LIMITS_NAME}')",
                f"'a developer namespace has one ResourceQuota {devenv.QUOTA_NAME} and one "
                f"LimitRange {devenv.LIMITS_NAME}'",
            ),
            (
                f"request.operation == 'DELETE' || !({is_quota}) || (!has(object.spec.scopes) && "
                f"!has(object.spec.scopeSelector) && size(object.spec.hard) == {len(hard)} && "
                f"{quota_checks})",
                cel_string(
                    f"a developer namespace's quota is the platform's "
                    f"(platform:devEnvironments.quota): {shown_quota}"
                ),
            ),
            (
                f"request.operation == 'DELETE' || {is_quota} || ({limit_checks})",
                cel_string(
                    f"a developer namespace's limits are the platform's "
                    f"(platform:devEnvironments.limitRange): {shown_limits}"
                ),
            ),
        ],
    )


def pods_need_quota_policy() -> PolicyManifests:
    return _policy(
        "eksplatform-dev-pods-need-quota",
        resources=[("", "pods")],
        operations=["CREATE"],
        developer_namespaces_only=True,
        param_kind={"apiVersion": "v1", "kind": "ResourceQuota"},
        # No namespace: the quota is looked up in the pod's own namespace; none found denies.
        param_ref={"name": devenv.QUOTA_NAME, "parameterNotFoundAction": "Deny"},
        validations=[
            (
                "has(params.spec.hard) && 'pods' in params.spec.hard",
                f"'a developer namespace runs pods only under the platform\\'s ResourceQuota "
                f"{devenv.QUOTA_NAME}: deploy the namespace objects first'",
            )
        ],
    )


def janitor_scope_policy() -> PolicyManifests:
    labels = _labels_of("oldObject")
    dev = devenv.DEVELOPER_LABEL
    return _policy(
        "eksplatform-dev-janitor-scope",
        resources=[("", "namespaces")],
        operations=["DELETE"],
        match_conditions=[("janitor", f"request.userInfo.username == '{JANITOR_USER}'")],
        validations=[
            (
                f"'{dev}' in {labels} && oldObject.metadata.name == "
                f"'{devenv.DEV_PREFIX}' + {labels}['{dev}']",
                "'the developer namespace janitor deletes only namespaces named dev-<developer> "
                f"that carry {dev}, not ' + oldObject.metadata.name",
            )
        ],
    )


def dev_policies(offer: devenv.DevOffer) -> list[PolicyManifests]:
    return [
        namespaces_policy(),
        service_accounts_policy(),
        quota_policy(offer),
        pods_need_quota_policy(),
        janitor_scope_policy(),
    ]


# --- the component ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DevEnvironmentsArgs:
    """Inputs of :class:`DevEnvironments`."""

    provider: k8s.Provider
    """Kubernetes provider of the cluster. Required."""
    config: DevEnvironmentsConfig
    """``platform:devEnvironments`` (enabled). Required."""
    team_groups: Mapping[str, str]
    """Team name -> its Kubernetes group (``eksplatform:team:<namespace>``). Required."""
    kubernetes_version: str
    """``1.MINOR``; 1.30 or newer (the admission policies). Required."""


def validate_dev_environments_args(args: DevEnvironmentsArgs) -> None:
    problems = Problems()
    parts = str(args.kubernetes_version).split(".")
    if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < MIN_MINOR:
        problems.add(
            "kubernetes_version",
            args.kubernetes_version,
            "developer environments need Kubernetes 1.30 or newer (their boundary is "
            "ValidatingAdmissionPolicies)",
        )
    for team, group in args.team_groups.items():
        if not group.startswith(TEAM_GROUP_PREFIX):
            problems.add(f"team_groups[{team!r}]", group, f"must start with {TEAM_GROUP_PREFIX}")
    problems.raise_if_any("DevEnvironments")


def janitor_source() -> str:
    return (
        importlib_resources.files("eksplatform.cluster.dev_janitor")
        .joinpath(JANITOR_SOURCE)
        .read_text(encoding="utf-8")
    )


def image_lifecycle_policy(days: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Developer builds expire after {days} days",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": days,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )


class DevEnvironments(pulumi.ComponentResource):
    """RBAC, admission policies, the janitor and the image template of developer namespaces."""

    policy_names: list[str]
    offer: devenv.DevOffer

    def __init__(
        self, name: str, args: DevEnvironmentsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_dev_environments_args(args)
        super().__init__(_TOKEN, name, None, opts)
        cfg = args.config
        self.offer = cfg.offer(True)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = {
            "app.kubernetes.io/managed-by": kube.MANAGED_BY_LABEL,
            "app.kubernetes.io/name": JANITOR,
            "app.kubernetes.io/part-of": "platform",
        }

        # Team identities: namespaces (narrowed by the policies below and the boundary).
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-namespaces-role",
            metadata=ObjectMetaArgs(name=NAMESPACES_ROLE, labels=labels),
            rules=[
                PolicyRuleArgs(
                    api_groups=[""],
                    resources=["namespaces"],
                    verbs=["get", "create", "update", "patch", "delete"],
                )
            ],
            opts=k8s_opts,
        )
        groups = sorted(set(args.team_groups.values()))
        if groups:
            k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-namespaces-binding",
                metadata=ObjectMetaArgs(name=NAMESPACES_ROLE, labels=labels),
                role_ref=RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=NAMESPACES_ROLE
                ),
                subjects=[
                    SubjectArgs(kind="Group", name=g, api_group="rbac.authorization.k8s.io")
                    for g in groups
                ],
                opts=pulumi.ResourceOptions.merge(
                    k8s_opts, pulumi.ResourceOptions(depends_on=[role])
                ),
            )

        self.policy_names = []
        policies: list[pulumi.Resource] = []
        for p in dev_policies(self.offer):
            policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                f"{name}-{p.name}",
                metadata=p.policy["metadata"],
                spec=p.policy["spec"],
                opts=k8s_opts,
            )
            policies.append(
                k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                    f"{name}-{p.name}",
                    metadata=p.binding["metadata"],
                    spec=p.binding["spec"],
                    opts=pulumi.ResourceOptions.merge(
                        k8s_opts, pulumi.ResourceOptions(depends_on=[policy])
                    ),
                )
            )
            self.policy_names.append(p.name)

        self._janitor(name, cfg, labels, k8s_opts, policies)

        self.image_template = aws.ecr.RepositoryCreationTemplate(
            f"{name}-images",
            prefix=devenv.DEVELOPER_REPOSITORY_PREFIX,
            description="Developer builds (dev/<team>/<service>), created on first push",
            applied_fors=["CREATE_ON_PUSH"],
            image_tag_mutability="MUTABLE",
            # AES256 and no resource tags: either would need a custom role for ECR to assume.
            encryption_configurations=[
                aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                    encryption_type="AES256"
                )
            ],
            lifecycle_policy=image_lifecycle_policy(cfg.image_retention_days),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"policyNames": self.policy_names})

    def _janitor(
        self,
        name: str,
        cfg: DevEnvironmentsConfig,
        labels: dict[str, str],
        k8s_opts: pulumi.ResourceOptions,
        policies: list[pulumi.Resource],
    ) -> None:
        ns = kube.restricted_namespace(f"{name}-namespace", name=NAMESPACE, opts=k8s_opts)
        inside = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[ns]))

        def meta(obj: str) -> ObjectMetaArgs:
            return ObjectMetaArgs(name=obj, namespace=NAMESPACE, labels=labels)

        account = k8s.core.v1.ServiceAccount(
            f"{name}-janitor-sa",
            metadata=meta(JANITOR),
            automount_service_account_token=False,
            opts=inside,
        )
        binding = kube.bound_role(
            f"{name}-janitor-role",
            f"{name}-janitor-binding",
            name=JANITOR_ROLE,
            labels=labels,
            # list to find developer namespaces (label-selected by the API server), delete to
            # remove them; eksplatform-dev-janitor-scope limits the delete to dev-<developer>.
            rules=[
                PolicyRuleArgs(api_groups=[""], resources=["namespaces"], verbs=["list", "delete"])
            ],
            subjects=[SubjectArgs(kind="ServiceAccount", name=JANITOR, namespace=NAMESPACE)],
            opts=k8s_opts,
            depends_on=[account],
        )
        script = k8s.core.v1.ConfigMap(
            f"{name}-janitor-script",
            metadata=meta(JANITOR),
            data={JANITOR_SOURCE: janitor_source()},
            opts=inside,
        )
        token_volume = VolumeArgs(
            name="api-token",
            projected=ProjectedVolumeSourceArgs(
                sources=[
                    VolumeProjectionArgs(
                        service_account_token=ServiceAccountTokenProjectionArgs(
                            path="token", expiration_seconds=3600
                        )
                    ),
                    VolumeProjectionArgs(
                        config_map=ConfigMapProjectionArgs(
                            name="kube-root-ca.crt",
                            items=[KeyToPathArgs(key="ca.crt", path="ca.crt")],
                        )
                    ),
                ]
            ),
        )
        pod = PodSpecArgs(
            service_account_name=JANITOR,
            # The token is mounted explicitly (below) and only into the janitor container.
            automount_service_account_token=False,
            restart_policy="Never",
            priority_class_name=SYSTEM_CLUSTER_CRITICAL,
            security_context=kube.pod_security_context(uid=65532),
            containers=[
                ContainerArgs(
                    name="janitor",
                    image=cfg.janitor.image,
                    command=["python3", f"/janitor/{JANITOR_SOURCE}"],
                    env=[
                        EnvVarArgs(
                            name="DRY_RUN", value="true" if cfg.janitor.dry_run else "false"
                        ),
                        EnvVarArgs(name="MAX_TTL_HOURS", value=str(cfg.max_ttl_hours)),
                        EnvVarArgs(name="PYTHONDONTWRITEBYTECODE", value="1"),
                    ],
                    resources=kube.resources("20m", "64Mi"),
                    security_context=kube.container_security_context(
                        uid=65532, read_only_root_filesystem=True
                    ),
                    volume_mounts=[
                        VolumeMountArgs(name="script", mount_path="/janitor", read_only=True),
                        VolumeMountArgs(
                            name="api-token",
                            mount_path="/var/run/secrets/kubernetes.io/serviceaccount",
                            read_only=True,
                        ),
                    ],
                )
            ],
            volumes=[
                VolumeArgs(name="script", config_map=ConfigMapVolumeSourceArgs(name=JANITOR)),
                token_volume,
            ],
        )
        k8s.batch.v1.CronJob(
            f"{name}-janitor",
            metadata=meta(JANITOR),
            spec=CronJobSpecArgs(
                schedule=cfg.janitor.schedule,
                time_zone="Etc/UTC",
                concurrency_policy="Forbid",
                starting_deadline_seconds=300,
                successful_jobs_history_limit=1,
                failed_jobs_history_limit=3,
                job_template=JobTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=labels),
                    spec=JobSpecArgs(
                        active_deadline_seconds=300,
                        backoff_limit=1,
                        template=PodTemplateSpecArgs(
                            metadata=ObjectMetaArgs(labels=labels), spec=pod
                        ),
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                inside, pulumi.ResourceOptions(depends_on=[binding, script, *policies])
            ),
        )

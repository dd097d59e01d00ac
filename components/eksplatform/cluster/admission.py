"""AdmissionPolicies: the guardrails and the team namespace boundary, enforced by the API server.

Deploys every :class:`~eksplatform.guardrails.admission.AdmissionPolicy` of the cluster's
environment as a ``ValidatingAdmissionPolicy`` plus its ``ValidatingAdmissionPolicyBinding``
(``admissionregistration.k8s.io/v1``): the guardrail rules that have a CEL form (resources and
memory limits, probes, registries and pinned images, Pod Security fields, labels, no
LoadBalancer Services, nothing in ``default``, the environment's HPA floor) and the boundary
that keeps a team's deploy identity (Kubernetes group ``eksplatform:team:<namespace>`` on its
EKS access entries, see :mod:`.teams`) inside its namespace and away from the platform's
objects there.

Design decision: CEL in the API server, not a webhook: nothing to run, scale or keep available,
and the policies cannot fail open because a pod is down (``failurePolicy: Fail``; a CEL error
denies). Cost: a rule needing several objects (a PDB for every Deployment) cannot be written
in CEL; it stays in the policy pack. ``admissionregistration.k8s.io/v1`` policies need
Kubernetes 1.30 or newer: on 1.29 the component creates nothing and says so at every preview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.admissionregistration.v1 import (
    MatchConditionArgs,
    MatchResourcesArgs,
    NamedRuleWithOperationsArgs,
    ValidatingAdmissionPolicyBindingSpecArgs,
    ValidatingAdmissionPolicySpecArgs,
    ValidationArgs,
    VariableArgs,
)
from pulumi_kubernetes.meta.v1 import (
    LabelSelectorArgs,
    LabelSelectorRequirementArgs,
    ObjectMetaArgs,
)

from ..core import kube
from ..core.errors import Problems
from ..guardrails import RULES, Enforcement, GuardrailSettings
from ..guardrails import admission as gadm

_TOKEN = "eksplatform:addons:AdmissionPolicies"
MIN_MINOR = 30
"""``admissionregistration.k8s.io/v1`` ValidatingAdmissionPolicy is GA (on by default) from 1.30."""


@dataclass(frozen=True, kw_only=True)
class AdmissionPoliciesArgs:
    """Inputs of :class:`AdmissionPolicies`."""

    provider: k8s.Provider
    """Kubernetes provider of the cluster. Required."""
    environment: str
    """The cluster's environment (picks per-environment thresholds). Required."""
    kubernetes_version: str
    """``1.MINOR`` of the cluster. Required."""
    settings: GuardrailSettings = field(default_factory=GuardrailSettings)
    """Guardrail settings (registries, exempt namespaces, thresholds). Default: the defaults."""
    levels: Mapping[str, Enforcement] = field(default_factory=dict)
    """Enforcement level per rule id, over the rules' defaults. Default: none."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first. Default: nothing."""
    developer_teams: Mapping[str, str] | None = None
    """Team name -> its group when the cluster offers developer namespaces (the boundary then
    admits each team's own: :func:`eksplatform.guardrails.admission.namespace_boundary`).
    Default: None (no developer namespaces)."""


def validate_admission_args(args: AdmissionPoliciesArgs) -> int:
    """Check the args; return the Kubernetes minor version."""
    problems = Problems()
    minor = -1
    parts = args.kubernetes_version.split(".") if isinstance(args.kubernetes_version, str) else []
    if len(parts) == 2 and parts[0] == "1" and parts[1].isdigit():
        minor = int(parts[1])
    else:
        problems.add(
            "kubernetes_version", args.kubernetes_version, "must be '1.MINOR', like '1.31'"
        )
    for rule_id in args.levels:
        if rule_id not in RULES:
            problems.add(f"levels.{rule_id}", args.levels[rule_id], "not a guardrail rule id")
    if not isinstance(args.environment, str) or not args.environment:
        problems.add("environment", args.environment, "must name the environment, like 'prod'")
    problems.raise_if_any("AdmissionPolicies")
    return minor


class AdmissionPolicies(pulumi.ComponentResource):
    """The cluster's ValidatingAdmissionPolicies and bindings."""

    policy_names: list[str]
    """Names of the policies deployed (empty below Kubernetes 1.30)."""

    def __init__(
        self, name: str, args: AdmissionPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        minor = validate_admission_args(args)
        super().__init__(_TOKEN, name, None, opts)
        self.policy_names = []
        if minor < MIN_MINOR:
            pulumi.log.warn(
                f"Kubernetes 1.{minor} has no admissionregistration.k8s.io/v1 "
                "ValidatingAdmissionPolicy: guardrails and the team namespace boundary are not "
                "enforced at admission (upgrade to 1.30+); the policy pack still runs",
                resource=self,
            )
        else:
            child = pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=list(args.depends_on)
            )
            for policy in gadm.policies(
                RULES,
                args.settings,
                args.environment,
                dict(args.levels),
                developer_teams=args.developer_teams,
            ):
                self._deploy(name, policy, child)
                self.policy_names.append(policy.name)
        self.register_outputs({"policyNames": self.policy_names})

    def _deploy(self, name: str, p: gadm.AdmissionPolicy, opts: pulumi.ResourceOptions) -> None:
        labels = {
            "app.kubernetes.io/managed-by": kube.MANAGED_BY_LABEL,
            "eksplatform.io/guardrail": p.rule,
        }
        selector = None
        if p.exempt_namespaces:
            selector = LabelSelectorArgs(
                match_expressions=[
                    LabelSelectorRequirementArgs(
                        key=gadm.NAMESPACE_LABEL,
                        operator="NotIn",
                        values=sorted(set(p.exempt_namespaces)),
                    )
                ]
            )
        rules = [
            NamedRuleWithOperationsArgs(
                api_groups=r["apiGroups"],
                api_versions=r["apiVersions"],
                resources=r["resources"],
                operations=r["operations"],
                scope=r["scope"],
            )
            for r in p.resource_rules()
        ]
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{name}-{p.rule}",
            metadata=ObjectMetaArgs(name=p.name, labels=labels),
            spec=ValidatingAdmissionPolicySpecArgs(
                failure_policy="Fail",
                match_constraints=MatchResourcesArgs(
                    resource_rules=rules, namespace_selector=selector
                ),
                match_conditions=[
                    MatchConditionArgs(name=n, expression=e) for n, e in p.match_conditions
                ]
                or None,
                variables=[VariableArgs(name=n, expression=e) for n, e in p.variables] or None,
                validations=[
                    ValidationArgs(expression=e, message_expression=m) for e, m in p.validations
                ],
            ),
            opts=opts,
        )
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{name}-{p.rule}",
            metadata=ObjectMetaArgs(name=p.name, labels=labels),
            spec=ValidatingAdmissionPolicyBindingSpecArgs(
                policy_name=p.name, validation_actions=list(p.actions)
            ),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[policy])),
        )

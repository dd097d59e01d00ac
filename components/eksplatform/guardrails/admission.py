"""ValidatingAdmissionPolicies (``admissionregistration.k8s.io/v1``, CEL) from the rules.

Two kinds of policy, both plain data here (:class:`AdmissionPolicy`); the cluster stack deploys
them with :class:`eksplatform.cluster.admission.AdmissionPolicies`:

* one per rule that has a CEL form (:attr:`Rule.admission`): the same guardrail for a
  ``kubectl`` user as for a Pulumi program. Mandatory rules deny, advisory ones warn and audit,
  disabled ones are not deployed. Namespaces the rule exempts, plus the settings'
  ``admissionExemptNamespaces`` (EKS's own add-ons in kube-system), are skipped through the
  policy's namespace selector;
* the team namespace boundary: a request from a team's deploy identity (its EKS access entries
  carry the Kubernetes group ``eksplatform:team:<namespace>``) may only touch objects in its own
  namespaces, and never the platform's objects there (NetworkPolicies, ResourceQuotas,
  LimitRanges) nor any Namespace (its labels carry Pod Security and the team). RBAC already
  scopes the access entries to the namespace; this holds even if a wider grant slips in.

Design decision: CEL expressions are written beside the Python checks of each rule, not
generated from them, because CEL has no library for our messages (which container, which
value). Cost: two forms per rule; the tests evaluate both on the same compliant and violating
objects with ``cel-python`` (with Kubernetes' ``join`` string function added, as the API
server has it), so they cannot drift apart unseen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Enforcement, Rule
from .settings import GuardrailSettings

TEAM_GROUP_PREFIX = "eksplatform:team:"
"""Kubernetes group of a team's access entries: ``eksplatform:team:<namespace>``."""
POLICY_PREFIX = "eksplatform-"
BOUNDARY_NAME = "eksplatform-team-namespace-boundary"
PLATFORM_OWNED = (
    ("networking.k8s.io", "networkpolicies"),
    ("", "resourcequotas"),
    ("", "limitranges"),
)
"""(API group, resource) of the objects in a team namespace that only the platform changes."""
NAMESPACE_LABEL = "kubernetes.io/metadata.name"


def cel_string(text: str) -> str:
    """``text`` as a CEL string literal: single-quoted, its backslashes and quotes escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def team_group(namespace: str) -> str:
    return f"{TEAM_GROUP_PREFIX}{namespace}"


@dataclass(frozen=True)
class AdmissionPolicy:
    """One ValidatingAdmissionPolicy and its binding, as plain values."""

    name: str
    rule: str
    """The rule id (or ``namespace-boundary``)."""
    resources: tuple[tuple[str, str, str], ...]
    operations: tuple[str, ...]
    validations: tuple[tuple[str, str], ...]
    variables: tuple[tuple[str, str], ...] = ()
    match_conditions: tuple[tuple[str, str], ...] = ()
    exempt_namespaces: tuple[str, ...] = ()
    actions: tuple[str, ...] = ("Deny",)
    """The binding's validationActions: ``Deny`` (mandatory) or ``Warn`` + ``Audit``."""
    scope: str = "*"

    def resource_rules(self) -> list[dict[str, Any]]:
        """``matchConstraints.resourceRules``: one per API group."""
        groups: dict[str, tuple[list[str], list[str]]] = {}
        for group, version, plural in self.resources:
            versions, plurals = groups.setdefault(group, ([], []))
            if version not in versions:
                versions.append(version)
            if plural not in plurals:
                plurals.append(plural)
        return [
            {
                "apiGroups": [group],
                "apiVersions": versions,
                "resources": plurals,
                "operations": list(self.operations),
                "scope": self.scope,
            }
            for group, (versions, plurals) in groups.items()
        ]

    def manifest(self) -> dict[str, Any]:
        """The ValidatingAdmissionPolicy as ``kubectl apply`` takes it."""
        constraints: dict[str, Any] = {"resourceRules": self.resource_rules()}
        if self.exempt_namespaces:
            constraints["namespaceSelector"] = {
                "matchExpressions": [
                    {
                        "key": NAMESPACE_LABEL,
                        "operator": "NotIn",
                        "values": sorted(set(self.exempt_namespaces)),
                    }
                ]
            }
        spec: dict[str, Any] = {"failurePolicy": "Fail", "matchConstraints": constraints}
        if self.match_conditions:
            spec["matchConditions"] = [
                {"name": n, "expression": e} for n, e in self.match_conditions
            ]
        if self.variables:
            spec["variables"] = [{"name": n, "expression": e} for n, e in self.variables]
        spec["validations"] = [
            {"expression": e, "messageExpression": m} for e, m in self.validations
        ]
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": self.name, "labels": {"eksplatform.io/guardrail": self.rule}},
            "spec": spec,
        }

    def binding_manifest(self) -> dict[str, Any]:
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": self.name, "labels": {"eksplatform.io/guardrail": self.rule}},
            "spec": {"policyName": self.name, "validationActions": list(self.actions)},
        }


def rule_policy(
    rule: Rule,
    settings: GuardrailSettings,
    environment: str,
    enforcement: Enforcement | None = None,
) -> AdmissionPolicy | None:
    """The admission form of ``rule`` for a cluster of ``environment`` (None: it has none, or
    it is disabled, or it does not apply there)."""
    level = enforcement or rule.enforcement
    adm = rule.admission
    if adm is None or level is Enforcement.DISABLED or not adm.only_if(settings, environment):
        return None
    exempt = (*settings.admission_exempt_namespaces, *adm.exempt_namespaces(settings))
    return AdmissionPolicy(
        name=POLICY_PREFIX + rule.id,
        rule=rule.id,
        resources=adm.resources,
        operations=adm.operations,
        validations=adm.resolved(settings, environment),
        variables=adm.variables,
        exempt_namespaces=tuple(dict.fromkeys(exempt)),
        actions=("Deny",) if level is Enforcement.MANDATORY else ("Warn", "Audit"),
        scope="Namespaced" if adm.resources == (("*", "*", "*"),) else "*",
    )


def namespace_boundary(developer_teams: Mapping[str, str] | None = None) -> AdmissionPolicy:
    """The team namespace boundary (issue 11): see the module docstring.

    ``developer_teams`` (team name -> its group; None when the cluster offers no developer
    environments, issue 15) also admits a team's own developer namespaces: a namespace named
    ``dev-*`` whose ``eksplatform.io/developer`` label is set and whose ``eksplatform.io/team``
    label is a team the identity belongs to may be created, changed and deleted by it, and
    everything inside it written, quota and limits included (their values are checked by the
    developer environment policies, :mod:`eksplatform.cluster.dev_environments`)."""
    owned = " || ".join(
        f"(request.resource.group == '{g}' && request.resource.resource == '{r}')"
        for g, r in PLATFORM_OWNED
    )
    is_namespace = "request.resource.group == '' && request.resource.resource == 'namespaces'"
    own_namespace = (
        f"request.namespace != '' && ('{TEAM_GROUP_PREFIX}' + request.namespace) in "
        "request.userInfo.groups"
    )
    variables: tuple[tuple[str, str], ...] = ()
    namespaces_ok = f"!({is_namespace})"
    inside_ok = own_namespace
    owned_ok = f"!({owned})"
    namespaces_message = (
        "'namespaces and their labels belong to the platform: ask the platform team'"
    )
    if developer_teams is not None:
        groups = ", ".join(f"'{t}': '{g}'" for t, g in sorted(developer_teams.items()))
        target = (
            f"({is_namespace}) ? (request.operation == 'DELETE' ? oldObject : object) : "
            "namespaceObject"
        )
        labels = "variables.target.metadata.labels"
        variables = (
            ("target", target),
            (
                "devTeam",
                "variables.target != null && variables.target.metadata.name.startsWith('dev-') "
                f"&& has(variables.target.metadata.labels) && "
                f"'eksplatform.io/developer' in {labels} && 'eksplatform.io/team' in {labels} "
                f"? {labels}['eksplatform.io/team'] : ''",
            ),
            (
                "ownDeveloperNamespace",
                f"variables.devTeam in {{{groups}}} && "
                f"{{{groups}}}[variables.devTeam] in request.userInfo.groups",
            ),
        )
        namespaces_ok = f"!({is_namespace}) || variables.ownDeveloperNamespace"
        inside_ok = f"({is_namespace}) || {own_namespace} || variables.ownDeveloperNamespace"
        owned_ok = f"!({owned}) || variables.ownDeveloperNamespace"
        namespaces_message = (
            "'namespaces and their labels belong to the platform; a team creates, changes and "
            "deletes only its own developer namespaces (dev-<developer>, labelled "
            "eksplatform.io/developer and eksplatform.io/team with its team)'"
        )
    return AdmissionPolicy(
        name=BOUNDARY_NAME,
        rule="namespace-boundary",
        resources=(("*", "*", "*"), ("*", "*", "*/*")),
        operations=("CREATE", "UPDATE", "DELETE"),
        match_conditions=(
            (
                "team-identity",
                f"request.userInfo.groups.exists(g, g.startsWith('{TEAM_GROUP_PREFIX}'))",
            ),
        ),
        variables=variables,
        validations=(
            (namespaces_ok, namespaces_message),
            (
                inside_ok,
                "'a team identity changes objects in its own namespace only, not in ' + "
                "(request.namespace == '' ? 'cluster scope' : request.namespace)",
            ),
            (
                owned_ok,
                "'the ' + request.resource.resource + ' of a team namespace belong to the "
                "platform (platform:teams in the cluster stack)'",
            ),
        ),
    )


def policies(
    rules: Iterable[Rule],
    settings: GuardrailSettings,
    environment: str,
    levels: dict[str, Enforcement] | None = None,
    developer_teams: Mapping[str, str] | None = None,
) -> list[AdmissionPolicy]:
    """Every admission policy of a cluster: the rules' and the namespace boundary."""
    out: list[AdmissionPolicy] = []
    for rule in rules:
        policy = rule_policy(rule, settings, environment, (levels or {}).get(rule.id))
        if policy is not None:
            out.append(policy)
    out.append(namespace_boundary(developer_teams))
    return out


def exempt_from(policy: AdmissionPolicy, namespace: str) -> bool:
    """Whether the policy's namespace selector skips ``namespace``."""
    return namespace in policy.exempt_namespaces


def sorted_names(policies_: Sequence[AdmissionPolicy]) -> list[str]:
    return sorted(p.name for p in policies_)

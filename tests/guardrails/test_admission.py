"""Admission: the ValidatingAdmissionPolicies the cluster stack deploys, evaluated offline with
cel-python on the same compliant and violating objects as the policy pack (tests/guardrails/
cases.py), plus the team namespace boundary; the policies are the cluster preview's rendered
manifests, which the preview checked against the schema of the cluster's Kubernetes version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eksplatform.cluster.admission import AdmissionPoliciesArgs, validate_admission_args
from eksplatform.core.errors import ValidationError
from eksplatform.guardrails import RULES, Enforcement, GuardrailSettings
from eksplatform.guardrails import admission as gadm
from eksplatform.preview.engine import PreviewResult

from .cases import KUBE_CASES, Case
from .celeval import Request, admit

CEL_MESSAGES: dict[str, list[str]] = {
    "k8s-resources-Deployment": [
        "containers without CPU and memory requests and a memory limit: app"
    ],
    "k8s-resources-CronJob": [
        "containers without CPU and memory requests and a memory limit: report"
    ],
    "k8s-probes-Deployment": ["containers without readiness and liveness probes: app"],
    "k8s-probes-Pod": ["containers without readiness and liveness probes: app"],
    "k8s-image-registry-Deployment": ["images from registries that are not allowed: app"],
    "k8s-image-registry-lookalike-host": ["images from registries that are not allowed: app"],
    "k8s-image-pinned-Deployment": ["images without a version tag or digest: app"],
    "k8s-image-pinned-registry-port": ["images without a version tag or digest: app"],
    "k8s-pod-security-Deployment": [
        "host namespaces (hostNetwork, hostPID, hostIPC) are not allowed",
        "volumes of a type restricted pods may not use: host",
        "containers without allowPrivilegeEscalation: false: app",
        "containers that do not drop ALL capabilities (or add one besides NET_BIND_SERVICE): app",
        "privileged containers: app",
        "containers without runAsNonRoot: true: app",
        "containers that run as user 0: app",
        "containers without seccompProfile RuntimeDefault: app",
    ],
    "k8s-pod-security-inherited": [
        "containers that do not drop ALL capabilities (or add one besides NET_BIND_SERVICE): app",
        "containers without runAsNonRoot: true: app",
        "containers without seccompProfile RuntimeDefault: app",
        "containers with host ports: app",
    ],
    "k8s-labels-Deployment": [
        "the object needs the labels app.kubernetes.io/name and team",
        "the pod template needs the labels app.kubernetes.io/name and team",
    ],
    "k8s-no-loadbalancer-service-Service": [
        "Services of type LoadBalancer are not allowed: use NodePort behind the ServiceStack ALB"
    ],
    "k8s-no-default-namespace-ConfigMap": [
        "nothing may be created in the default namespace: use your team namespace"
    ],
    "k8s-no-default-namespace-explicit": [
        "nothing may be created in the default namespace: use your team namespace"
    ],
    "k8s-hpa-min-replicas-HorizontalPodAutoscaler": ["minReplicas must be at least 2 in prod"],
}
"""The admission message of each violating case (the Python check's details, in CEL)."""


@pytest.fixture(scope="module")
def deployed(cluster_preview: Callable[[str], PreviewResult]) -> dict[str, dict[str, Any]]:
    """The prod cluster's rendered ValidatingAdmissionPolicies (and bindings), by name."""
    result = cluster_preview("prod")
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    found = {}
    for m in result.manifests:
        if m.api_version == "admissionregistration.k8s.io/v1":
            found[f"{m.kind}/{m.name}"] = m.body
    return found


def _request(case: Case, obj: dict[str, Any], **extra: Any) -> Request:
    _, groupversion, kind = case.type.split(":")
    group, version = groupversion.split("/")
    ns = (obj.get("metadata") or {}).get("namespace") or "default"
    return Request(
        "" if group == "core" else group,
        version,
        kind.lower() + "s",
        kind,
        namespace=ns,
        object={**obj, "kind": kind},
        **extra,
    )


@pytest.mark.parametrize("case", KUBE_CASES, ids=lambda c: c.id)
def test_rule_at_admission(case: Case, deployed: dict[str, dict[str, Any]]) -> None:
    policy = deployed[f"ValidatingAdmissionPolicy/eksplatform-{case.rule}"]
    good = admit(policy, _request(case, case.good))
    assert good.matched and good.allowed, good.messages
    bad = admit(policy, _request(case, case.bad))
    assert bad.matched
    assert bad.messages == CEL_MESSAGES[case.id]
    binding = deployed[f"ValidatingAdmissionPolicyBinding/eksplatform-{case.rule}"]
    assert binding["spec"] == {
        "policyName": f"eksplatform-{case.rule}",
        "validationActions": ["Deny"],
    }


def test_every_rule_with_a_cel_form_is_deployed_and_tested(
    deployed: dict[str, dict[str, Any]],
) -> None:
    with_cel = {r.id for r in RULES if r.admission is not None}
    assert {c.rule for c in KUBE_CASES} == with_cel
    names = {k.split("/", 1)[1] for k in deployed if k.startswith("ValidatingAdmissionPolicy/")}
    assert names == {f"eksplatform-{r}" for r in with_cel} | {gadm.BOUNDARY_NAME}


def test_exempt_namespaces_are_skipped_explicitly(deployed: dict[str, dict[str, Any]]) -> None:
    case = next(c for c in KUBE_CASES if c.id == "k8s-pod-security-Deployment")
    policy = deployed["ValidatingAdmissionPolicy/eksplatform-k8s-pod-security"]
    for ns in ("logging", "kube-system"):  # the log shipper's DaemonSet; EKS's add-ons
        obj = {**case.bad, "metadata": {**case.bad["metadata"], "namespace": ns}}
        assert not admit(policy, _request(case, obj)).matched
    obj = {**case.bad, "metadata": {**case.bad["metadata"], "namespace": "vpa-system"}}
    assert not admit(policy, _request(case, obj)).allowed  # platform pods are restricted too
    probes = deployed["ValidatingAdmissionPolicy/eksplatform-k8s-probes"]
    probe_case = next(c for c in KUBE_CASES if c.id == "k8s-probes-Deployment")
    obj = {
        **probe_case.bad,
        "metadata": {**probe_case.bad["metadata"], "namespace": "overprovisioning"},
    }
    assert not admit(
        probes, _request(probe_case, obj)
    ).matched  # platform workloads: no probes rule


def test_system_users_may_still_write_to_default(deployed: dict[str, dict[str, Any]]) -> None:
    case = next(c for c in KUBE_CASES if c.id == "k8s-no-default-namespace-ConfigMap")
    policy = deployed["ValidatingAdmissionPolicy/eksplatform-k8s-no-default-namespace"]
    req = _request(case, case.bad, username="system:apiserver")
    assert admit(policy, req).allowed
    update = _request(case, case.bad, operation="UPDATE")
    assert not admit(policy, update).matched  # existing objects are not touched


def test_advisory_and_disabled_levels() -> None:
    rule = RULES["k8s-probes"]
    advisory = gadm.rule_policy(rule, GuardrailSettings(), "prod", Enforcement.ADVISORY)
    assert advisory is not None and advisory.binding_manifest()["spec"]["validationActions"] == [
        "Warn",
        "Audit",
    ]
    assert gadm.rule_policy(rule, GuardrailSettings(), "prod", Enforcement.DISABLED) is None
    # The HPA floor exists only where the environment has one above 1.
    assert gadm.rule_policy(RULES["k8s-hpa-min-replicas"], GuardrailSettings(), "staging") is None


TEAM = ("system:authenticated", "eksplatform:team:news")
SHARED = ("system:authenticated", "eksplatform:team:news", "eksplatform:team:media")
DEPLOY = {"metadata": {"name": "feed"}}
BOUNDARY_CASES = [
    (
        "own namespace",
        Request(
            "apps", "v1", "deployments", "Deployment", namespace="news", object=DEPLOY, groups=TEAM
        ),
        [],
    ),
    (
        "shared role, second namespace",
        Request(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            namespace="media",
            object=DEPLOY,
            groups=SHARED,
        ),
        [],
    ),
    (
        "scale subresource at home",
        Request(
            "apps",
            "v1",
            "deployments/scale",
            "Scale",
            operation="UPDATE",
            namespace="news",
            groups=TEAM,
        ),
        [],
    ),
    (
        "another team's namespace",
        Request(
            "apps", "v1", "deployments", "Deployment", namespace="media", object=DEPLOY, groups=TEAM
        ),
        ["a team identity changes objects in its own namespace only, not in media"],
    ),
    (
        "kube-system",
        Request("", "v1", "pods", "Pod", namespace="kube-system", object=DEPLOY, groups=TEAM),
        ["a team identity changes objects in its own namespace only, not in kube-system"],
    ),
    (
        "cluster-scoped object",
        Request(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            object=DEPLOY,
            groups=TEAM,
        ),
        ["a team identity changes objects in its own namespace only, not in cluster scope"],
    ),
    (
        "own NetworkPolicy",
        Request(
            "networking.k8s.io",
            "v1",
            "networkpolicies",
            "NetworkPolicy",
            operation="UPDATE",
            namespace="news",
            object=DEPLOY,
            groups=TEAM,
        ),
        [
            "the networkpolicies of a team namespace belong to the platform (platform:teams in the cluster stack)"
        ],
    ),
    (
        "delete own ResourceQuota",
        Request(
            "",
            "v1",
            "resourcequotas",
            "ResourceQuota",
            operation="DELETE",
            namespace="news",
            groups=TEAM,
        ),
        [
            "the resourcequotas of a team namespace belong to the platform (platform:teams in the cluster stack)"
        ],
    ),
    (
        "own LimitRange",
        Request(
            "", "v1", "limitranges", "LimitRange", namespace="news", object=DEPLOY, groups=TEAM
        ),
        [
            "the limitranges of a team namespace belong to the platform (platform:teams in the cluster stack)"
        ],
    ),
    (
        "own namespace's labels",
        Request(
            "",
            "v1",
            "namespaces",
            "Namespace",
            operation="UPDATE",
            namespace="news",
            name="news",
            object={"metadata": {"name": "news", "labels": {}}},
            groups=TEAM,
        ),
        ["namespaces and their labels belong to the platform: ask the platform team"],
    ),
]


@pytest.mark.parametrize("label,req,messages", BOUNDARY_CASES, ids=[c[0] for c in BOUNDARY_CASES])
def test_namespace_boundary(
    label: str, req: Request, messages: list[str], deployed: dict[str, dict[str, Any]]
) -> None:
    policy = deployed[f"ValidatingAdmissionPolicy/{gadm.BOUNDARY_NAME}"]
    decision = admit(policy, req)
    assert decision.matched
    assert decision.messages == messages


def test_the_boundary_ignores_identities_that_are_not_a_team(
    deployed: dict[str, dict[str, Any]],
) -> None:
    policy = deployed[f"ValidatingAdmissionPolicy/{gadm.BOUNDARY_NAME}"]
    admin = Request(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        namespace="news",
        object=DEPLOY,
        groups=("system:authenticated", "platform-admins"),
    )
    assert not admit(policy, admin).matched


def test_team_access_entries_carry_the_team_group(
    cluster_preview: Callable[[str], PreviewResult],
) -> None:
    entries = [
        r
        for r in cluster_preview("prod").by_type("aws:eks/accessEntry:AccessEntry")
        if "teams-" in r.urn
    ]
    groups = {r.inputs["principalArn"]: r.inputs["kubernetesGroups"] for r in entries}
    assert groups == {
        "arn:aws:iam::222222222222:role/news-developers": ["eksplatform:team:news"],
        "arn:aws:iam::222222222222:role/media-developers": ["eksplatform:team:media"],
    }


def test_bad_component_args_are_refused_before_anything() -> None:
    with pytest.raises(ValidationError) as err:
        validate_admission_args(
            AdmissionPoliciesArgs(
                provider=None,  # type: ignore[arg-type]
                environment="",
                kubernetes_version="1.x",
                levels={"no-such-rule": Enforcement.ADVISORY},
            )
        )
    assert str(err.value) == (
        "AdmissionPolicies: 3 problems:\n"
        "  - kubernetes_version: got '1.x': must be '1.MINOR', like '1.31'\n"
        "  - levels.no-such-rule: got <Enforcement.ADVISORY: 'advisory'>: not a guardrail rule id\n"
        "  - environment: got '': must name the environment, like 'prod'"
    )

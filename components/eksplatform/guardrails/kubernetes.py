"""Guardrails on Kubernetes objects, each in Python (CrossGuard, inputs) and in CEL (admission).

The Python check reads the object as the Pulumi engine hands it to a policy (camelCase, as in
the manifest); the CEL form is the same rule for a ValidatingAdmissionPolicy, so a ``kubectl``
user meets it too. Both are tested on the same compliant and violating objects
(``tests/guardrails``), the CEL form with ``cel-python``.

Kinds with a pod template: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod.
Pod Security "restricted" is in :mod:`.pod_security`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..core.kinds import CLUSTER_SCOPED_KINDS
from ._props import as_list, as_map, dig, environment_of, number
from .admission import cel_string
from .model import AdmissionRule, Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec", "template"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template"),
    "kubernetes:batch/v1:Job": ("spec", "template"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template"),
    "kubernetes:core/v1:Pod": (),
}
"""Type -> path to the pod template (``()``: the object is the pod)."""
WORKLOADS = frozenset(POD_TEMPLATE_PATHS)
LONG_RUNNING = WORKLOADS - {"kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"}

WORKLOAD_RESOURCES = (
    ("apps", "v1", "deployments"),
    ("apps", "v1", "statefulsets"),
    ("apps", "v1", "daemonsets"),
    ("apps", "v1", "replicasets"),
    ("batch", "v1", "jobs"),
    ("batch", "v1", "cronjobs"),
    ("", "v1", "pods"),
)
LONG_RUNNING_RESOURCES = tuple(r for r in WORKLOAD_RESOURCES if r[0] != "batch")


NAME_LABEL = "app.kubernetes.io/name"
TEAM_LABEL = "team"
RECOMMENDED_LABELS = (NAME_LABEL, TEAM_LABEL)

# --- reading a workload -------------------------------------------------------------------------


def pod_template(r: Resource) -> Mapping[str, Any]:
    path = POD_TEMPLATE_PATHS[r.type]
    return as_map(dig(r.props, *path)) if path else r.props


def pod_spec(r: Resource) -> Mapping[str, Any]:
    return as_map(pod_template(r).get("spec"))


def containers(spec: Mapping[str, Any], *, init: bool = True) -> list[Mapping[str, Any]]:
    found = [as_map(c) for c in as_list(spec.get("containers"))]
    if init:
        found += [as_map(c) for c in as_list(spec.get("initContainers"))]
    return found


def namespace_of(r: Resource) -> str:
    """``metadata.namespace``; an object without one lands in ``default``."""
    return str(dig(r.props, "metadata", "namespace") or "default")


def container_name(c: Mapping[str, Any]) -> str:
    return str(c.get("name") or "?")


# CEL: the pod spec, its containers and the pod's labels of any workload kind.
CEL_POD_SPEC = (
    "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? "
    "object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"
)
CEL_CONTAINERS = (
    "variables.podSpec.containers + (has(variables.podSpec.initContainers) ? "
    "variables.podSpec.initContainers : [])"
)
CEL_POD_LABELS = (
    "object.kind == 'Pod' ? (has(object.metadata.labels) ? object.metadata.labels : {}) : "
    "(object.kind == 'CronJob' ? (has(object.spec.jobTemplate.spec.template.metadata) && "
    "has(object.spec.jobTemplate.spec.template.metadata.labels) ? "
    "object.spec.jobTemplate.spec.template.metadata.labels : {}) : "
    "(has(object.spec.template.metadata) && has(object.spec.template.metadata.labels) ? "
    "object.spec.template.metadata.labels : {}))"
)
WORKLOAD_VARIABLES = (
    ("podSpec", CEL_POD_SPEC),
    ("containers", CEL_CONTAINERS),
    ("podLabels", CEL_POD_LABELS),
)
"""VAP variables every workload policy declares (in this order: later ones use earlier ones)."""


def each_container(condition: str, what: str) -> tuple[str, str]:
    """A validation that every container meets ``condition``, naming those that do not."""
    return (
        f"variables.containers.all(c, {condition})",
        f"'{what}: ' + variables.containers.filter(c, !({condition})).map(c, c.name).join(', ')",
    )


# --- requests and limits ------------------------------------------------------------------------


def resources_problem(c: Mapping[str, Any]) -> str | None:
    res = as_map(c.get("resources"))
    requests, limits = as_map(res.get("requests")), as_map(res.get("limits"))
    missing = [f"requests.{k}" for k in ("cpu", "memory") if k not in requests]
    missing += ["limits.memory"] if "memory" not in limits else []
    return f"container {container_name(c)!r} has no {', '.join(missing)}" if missing else None


def _check_resources(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    for c in containers(pod_spec(r)):
        reason = resources_problem(c)
        if reason:
            yield reason


_CEL_RESOURCES = (
    "has(c.resources) && has(c.resources.requests) && 'cpu' in c.resources.requests && "
    "'memory' in c.resources.requests && has(c.resources.limits) && "
    "'memory' in c.resources.limits"
)
RESOURCES = Rule(
    id="k8s-resources",
    title="Every container requests CPU and memory and has a memory limit",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="set resources.requests.cpu, resources.requests.memory and resources.limits.memory",
    types=WORKLOADS,
    check=_check_resources,
    admission=AdmissionRule(
        resources=WORKLOAD_RESOURCES,
        variables=WORKLOAD_VARIABLES,
        validations=(
            each_container(
                _CEL_RESOURCES, "containers without CPU and memory requests and a memory limit"
            ),
        ),
    ),
)

# --- probes -------------------------------------------------------------------------------------


def probes_problem(c: Mapping[str, Any]) -> str | None:
    missing = [p for p in ("readinessProbe", "livenessProbe") if p not in c]
    return f"container {container_name(c)!r} has no {' or '.join(missing)}" if missing else None


def _application(r: Resource, s: GuardrailSettings) -> bool:
    return namespace_of(r) not in s.platform_namespaces


def _check_probes(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if not _application(r, s):
        return
    for c in containers(pod_spec(r), init=False):
        reason = probes_problem(c)
        if reason:
            yield reason


PROBES = Rule(
    id="k8s-probes",
    title="Application containers have readiness and liveness probes",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    fix="add readinessProbe and livenessProbe (ServiceStack probes=)",
    types=LONG_RUNNING,
    check=_check_probes,
    config=("platformNamespaces",),
    admission=AdmissionRule(
        resources=LONG_RUNNING_RESOURCES,
        variables=WORKLOAD_VARIABLES,
        validations=(
            (
                "variables.podSpec.containers.all(c, has(c.readinessProbe) && has(c.livenessProbe))",
                "'containers without readiness and liveness probes: ' + "
                "variables.podSpec.containers.filter(c, !(has(c.readinessProbe) && "
                "has(c.livenessProbe))).map(c, c.name).join(', ')",
            ),
        ),
        exempt_namespaces=lambda s: s.platform_namespaces,
    ),
)

# --- images -------------------------------------------------------------------------------------

_DIGEST = r"@sha256:[0-9a-f]{64}$"
_TAGGED = r"^(?:[^/@]+/)*[^/:@]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[0-9a-f]{64})?$"
_LATEST = r":latest(?:@|$)"


def cel_regex_to_python(pattern: str) -> re.Pattern[str]:
    """A CEL (RE2) pattern as Python compiles it with the same meaning: RE2's ``$`` is the end of
    the text, Python's also matches before a final newline, so ``$`` becomes ``\\Z``."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _escape(text: str) -> str:
    return re.sub(r"([.+?()\[\]{}|^$\\])", r"\\\1", text)


def registry_regex(allowed: Sequence[str]) -> str:
    """One RE2/Python pattern matching images under any allowed prefix (``*``: one host label
    or path part; Docker Hub short names, such as ``envoyproxy/envoy``, count as
    ``docker.io/...``)."""
    alternatives = []
    for prefix in allowed:
        alternatives.append(_escape(prefix).replace("*", "[^./]+"))
        if prefix.startswith("docker.io/"):
            rest = prefix.removeprefix("docker.io/")
            if rest.startswith("library/"):
                alternatives.append(r"[^./:@]+(?:[:@]|$)")
            elif rest:
                alternatives.append(_escape(rest).replace("*", "[^./]+"))
    return "^(?:" + "|".join(alternatives) + ")" if alternatives else "^$never"


def image_registry_problem(image: Any, allowed: Sequence[str]) -> str | None:
    if not isinstance(image, str):
        return f"image {image!r} is not a string"
    if cel_regex_to_python(registry_regex(allowed)).search(image):
        return None
    return f"image {image!r} is not from an allowed registry ({', '.join(allowed)})"


def image_pin_problem(image: Any) -> str | None:
    if not isinstance(image, str):
        return f"image {image!r} is not a string"
    if cel_regex_to_python(_DIGEST).search(image):
        return None
    if not cel_regex_to_python(_TAGGED).search(image):
        return f"image {image!r} has no tag or digest"
    if cel_regex_to_python(_LATEST).search(image):
        return f"image {image!r} uses the moving tag 'latest'"
    return None


def _images(r: Resource) -> Iterator[Any]:
    spec = pod_spec(r)
    for c in [*containers(spec), *(as_map(c) for c in as_list(spec.get("ephemeralContainers")))]:
        yield c.get("image")


def _check_registry(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    for image in _images(r):
        reason = image_registry_problem(image, s.allowed_registries)
        if reason:
            yield reason


def _cel_registry(s: GuardrailSettings, environment: str) -> tuple[tuple[str, str], ...]:
    condition = f"c.image.matches({cel_string(registry_regex(s.allowed_registries))})"
    return (each_container(condition, "images from registries that are not allowed"),)


IMAGE_REGISTRY = Rule(
    id="k8s-image-registry",
    title="Images come from the allowed registries",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="push the image to the team's ECR repository (or add the registry to allowedRegistries)",
    types=WORKLOADS,
    check=_check_registry,
    config=("allowedRegistries",),
    admission=AdmissionRule(
        resources=WORKLOAD_RESOURCES,
        variables=WORKLOAD_VARIABLES,
        validations=(),
        expressions=_cel_registry,
    ),
)


def _check_pinned(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    for image in _images(r):
        reason = image_pin_problem(image)
        if reason:
            yield reason


_CEL_PINNED = (
    f"c.image.matches({cel_string(_DIGEST)}) || (c.image.matches({cel_string(_TAGGED)}) && "
    f"!c.image.matches({cel_string(_LATEST)}))"
)
IMAGE_PINNED = Rule(
    id="k8s-image-pinned",
    title="Images are pinned by a version tag (not 'latest') or a digest",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="use a version tag (app:1.4.2) or a digest (app@sha256:...)",
    types=WORKLOADS,
    check=_check_pinned,
    admission=AdmissionRule(
        resources=WORKLOAD_RESOURCES,
        variables=WORKLOAD_VARIABLES,
        validations=(each_container(_CEL_PINNED, "images without a version tag or digest"),),
    ),
)

# --- labels -------------------------------------------------------------------------------------


def missing_labels(labels: Mapping[str, Any]) -> list[str]:
    return [k for k in RECOMMENDED_LABELS if not labels.get(k)]


def _check_labels(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if not _application(r, s):
        return
    own = missing_labels(as_map(dig(r.props, "metadata", "labels")))
    if own:
        yield f"the object has no {', '.join(own)} label"
    if POD_TEMPLATE_PATHS[r.type]:
        pod = missing_labels(as_map(dig(pod_template(r), "metadata", "labels")))
        if pod:
            yield f"the pod template has no {', '.join(pod)} label"


_LABELS_CEL = " && ".join(f"'{k}' in L && L['{k}'] != ''" for k in RECOMMENDED_LABELS)
LABELS = Rule(
    id="k8s-labels",
    title=f"Application workloads carry the {NAME_LABEL} and {TEAM_LABEL} labels",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    fix=f"label the object and its pod template with {NAME_LABEL} and {TEAM_LABEL} "
    "(ServiceStack does)",
    types=WORKLOADS,
    check=_check_labels,
    config=("platformNamespaces",),
    admission=AdmissionRule(
        resources=WORKLOAD_RESOURCES,
        variables=WORKLOAD_VARIABLES,
        validations=(
            (
                "has(object.metadata.labels) && "
                + _LABELS_CEL.replace("L", "object.metadata.labels"),
                f"'the object needs the labels {NAME_LABEL} and {TEAM_LABEL}'",
            ),
            (
                _LABELS_CEL.replace("L", "variables.podLabels"),
                f"'the pod template needs the labels {NAME_LABEL} and {TEAM_LABEL}'",
            ),
        ),
        exempt_namespaces=lambda s: s.platform_namespaces,
    ),
)

# --- Services, namespaces, HPAs -----------------------------------------------------------------


def _check_service_type(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if dig(r.props, "spec", "type") == "LoadBalancer":
        yield "the Service is of type LoadBalancer (a cloud load balancer outside ServiceStack)"


NO_LOADBALANCER_SERVICE = Rule(
    id="k8s-no-loadbalancer-service",
    title="No Service of type LoadBalancer",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="use type NodePort behind the ServiceStack ALB (ingress=), or ClusterIP",
    types=frozenset({"kubernetes:core/v1:Service"}),
    check=_check_service_type,
    admission=AdmissionRule(
        resources=(("", "v1", "services"),),
        validations=(
            (
                "!has(object.spec.type) || object.spec.type != 'LoadBalancer'",
                "'Services of type LoadBalancer are not allowed: use NodePort behind the "
                "ServiceStack ALB'",
            ),
        ),
    ),
)


def is_namespaced(type_token: str) -> bool:
    """Whether a ``kubernetes:`` type is a namespaced object (not a provider, chart or
    cluster-scoped kind)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return False
    group = parts[1]
    if group.startswith(("helm.sh", "yaml", "kustomize")) or parts[2].endswith("List"):
        return False
    return parts[2] not in CLUSTER_SCOPED_KINDS and not parts[2].endswith("Patch")


def _check_default_namespace(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if is_namespaced(r.type) and namespace_of(r) == "default":
        given = dig(r.props, "metadata", "namespace")
        how = "is in" if given else "has no metadata.namespace, so it lands in"
        yield f"the {r.type.rsplit(':', 1)[-1]} {how} the 'default' namespace"


NO_DEFAULT_NAMESPACE = Rule(
    id="k8s-no-default-namespace",
    title="Nothing is deployed to the 'default' namespace",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    fix="set metadata.namespace to the team's namespace",
    check=_check_default_namespace,
    admission=AdmissionRule(
        resources=(("*", "*", "*"),),
        operations=("CREATE",),
        validations=(
            (
                "request.namespace != 'default' || request.userInfo.username.startsWith('system:')",
                "'nothing may be created in the default namespace: use your team namespace'",
            ),
        ),
    ),
)

HPA_TYPES = frozenset(
    {
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    }
)


def min_replicas_problem(value: Any, minimum: int, environment: str) -> str | None:
    got = number(value)
    got = 1 if got is None else got
    if got >= minimum:
        return None
    return f"minReplicas is {got:g}; {environment!r} runs at least {minimum} (one pod per zone failure)"


def _check_hpa(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    env = environment_of(r)
    reason = min_replicas_problem(dig(r.props, "spec", "minReplicas"), s.min_replicas(env), env)
    if reason:
        yield reason


def _cel_hpa(s: GuardrailSettings, environment: str) -> tuple[tuple[str, str], ...]:
    n = s.min_replicas(environment)
    return (
        (
            f"has(object.spec.minReplicas) && object.spec.minReplicas >= {n}",
            f"'minReplicas must be at least {n} in {environment}'",
        ),
    )


PROD_HPA_MIN_REPLICAS = Rule(
    id="k8s-hpa-min-replicas",
    title="HPAs keep the environment's minimum replicas (prod: 2)",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="raise minReplicas (ServiceStack autoscaling.min_replicas)",
    types=HPA_TYPES,
    check=_check_hpa,
    config=("minReplicasByEnvironment",),
    admission=AdmissionRule(
        resources=(("autoscaling", "v2", "horizontalpodautoscalers"),),
        validations=(),
        expressions=_cel_hpa,
        only_if=lambda s, env: s.min_replicas(env) > 1,
    ),
)

KUBERNETES_RULES = (
    RESOURCES,
    PROBES,
    IMAGE_REGISTRY,
    IMAGE_PINNED,
    LABELS,
    NO_LOADBALANCER_SERVICE,
    NO_DEFAULT_NAMESPACE,
    PROD_HPA_MIN_REPLICAS,
)

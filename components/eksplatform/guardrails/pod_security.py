"""Guardrail: Pod Security "restricted" for application pods, in Python and CEL.

Checked on the fields that matter for escaping the container: host namespaces, host ports,
volume types, privilege, privilege escalation, capabilities, a non-root user and seccomp.
AppArmor, SELinux options, sysctls and procMount are left to the namespace's Pod Security
admission label (``enforce: restricted`` on every team namespace). The namespaces whose pods may
break it are explicit settings (``podSecurityExemptNamespaces``: EKS's own DaemonSets in
kube-system, the log shipper in logging that reads node files as root), never a silent skip.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._props import as_list, as_map, number
from .kubernetes import (
    WORKLOAD_RESOURCES,
    WORKLOAD_VARIABLES,
    WORKLOADS,
    container_name,
    containers,
    each_container,
    namespace_of,
    pod_spec,
)
from .model import AdmissionRule, Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

# --- Pod Security "restricted" ------------------------------------------------------------------

ALLOWED_VOLUME_TYPES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
"""Volume types Pod Security "restricted" allows."""
_SECCOMP = ("RuntimeDefault", "Localhost")


def _inherited(c: Mapping[str, Any], pod: Mapping[str, Any], key: str) -> Any:
    """A security setting of the container, else the pod's."""
    own = as_map(c.get("securityContext"))
    return own[key] if key in own else as_map(pod.get("securityContext")).get(key)


def pod_security_problems(spec: Mapping[str, Any]) -> list[str]:
    """What breaks Pod Security "restricted" in a pod spec."""
    found: list[str] = []
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key) is True:
            found.append(f"{key} is true")
    for v in as_list(spec.get("volumes")):
        v = as_map(v)
        kinds = [k for k in v if k != "name"]
        if not any(k in ALLOWED_VOLUME_TYPES for k in kinds):
            found.append(f"volume {v.get('name')!r} is of type {', '.join(kinds) or '?'}")
    for c in containers(spec):
        sc, name = as_map(c.get("securityContext")), container_name(c)
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"container {name!r} does not set allowPrivilegeEscalation: false")
        caps = as_map(sc.get("capabilities"))
        if "ALL" not in as_list(caps.get("drop")):
            found.append(f"container {name!r} does not drop ALL capabilities")
        added = [a for a in as_list(caps.get("add")) if a != "NET_BIND_SERVICE"]
        if added:
            found.append(f"container {name!r} adds capabilities {', '.join(map(str, added))}")
        if sc.get("privileged") is True:
            found.append(f"container {name!r} is privileged")
        if _inherited(c, spec, "runAsNonRoot") is not True:
            found.append(f"container {name!r} does not set runAsNonRoot: true")
        uid = number(_inherited(c, spec, "runAsUser"))
        if uid == 0:
            found.append(f"container {name!r} runs as user 0")
        seccomp = as_map(_inherited(c, spec, "seccompProfile")).get("type")
        if seccomp not in _SECCOMP:
            found.append(f"container {name!r} has seccompProfile {seccomp!r}, not RuntimeDefault")
        for p in as_list(c.get("ports")):
            host_port = number(as_map(p).get("hostPort"))
            if host_port:
                found.append(f"container {name!r} uses hostPort {host_port:g}")
    return found


def _check_pod_security(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if namespace_of(r) in s.pod_security_exempt_namespaces:
        return
    yield from pod_security_problems(pod_spec(r))


_PS = "variables.podSpec"
_SC = "c.securityContext"


def _pod_or_container(key: str, test: str) -> str:
    """CEL: the container's setting ``key`` passes ``test`` (``{v}`` is the value), else the
    pod's does."""
    own = test.format(v=f"{_SC}.{key}")
    pod = test.format(v=f"{_PS}.securityContext.{key}")
    return (
        f"(has({_SC}) && has({_SC}.{key})) ? ({own}) : "
        f"(has({_PS}.securityContext) && has({_PS}.securityContext.{key}) && ({pod}))"
    )


_VOLUME_OK = " || ".join(f"has(v.{t})" for t in ALLOWED_VOLUME_TYPES)
POD_SECURITY_CEL: tuple[tuple[str, str], ...] = (
    (
        f"!(has({_PS}.hostNetwork) && {_PS}.hostNetwork) && !(has({_PS}.hostPID) && "
        f"{_PS}.hostPID) && !(has({_PS}.hostIPC) && {_PS}.hostIPC)",
        "'host namespaces (hostNetwork, hostPID, hostIPC) are not allowed'",
    ),
    (
        f"!has({_PS}.volumes) || {_PS}.volumes.all(v, {_VOLUME_OK})",
        f"'volumes of a type restricted pods may not use: ' + {_PS}.volumes.filter(v, "
        f"!({_VOLUME_OK})).map(v, v.name).join(', ')",
    ),
    each_container(
        f"has({_SC}) && has({_SC}.allowPrivilegeEscalation) && "
        f"{_SC}.allowPrivilegeEscalation == false",
        "containers without allowPrivilegeEscalation: false",
    ),
    each_container(
        f"has({_SC}) && has({_SC}.capabilities) && has({_SC}.capabilities.drop) && "
        f"{_SC}.capabilities.drop.exists(d, d == 'ALL') && (!has({_SC}.capabilities.add) || "
        f"{_SC}.capabilities.add.all(a, a == 'NET_BIND_SERVICE'))",
        "containers that do not drop ALL capabilities (or add one besides NET_BIND_SERVICE)",
    ),
    each_container(
        f"!has({_SC}) || !has({_SC}.privileged) || {_SC}.privileged == false",
        "privileged containers",
    ),
    each_container(
        _pod_or_container("runAsNonRoot", "{v} == true"), "containers without runAsNonRoot: true"
    ),
    each_container(
        f"!(({_pod_or_container('runAsUser', '{v} == 0')}))",
        "containers that run as user 0",
    ),
    each_container(
        _pod_or_container(
            "seccompProfile", "{v}.type == 'RuntimeDefault' || {v}.type == 'Localhost'"
        ),
        "containers without seccompProfile RuntimeDefault",
    ),
    each_container(
        "!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)",
        "containers with host ports",
    ),
)

POD_SECURITY = Rule(
    id="k8s-pod-security",
    title='Pods meet Pod Security "restricted" (platform DaemonSet namespaces exempt)',
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="run as non-root with seccomp RuntimeDefault, drop ALL capabilities, no privilege "
    "escalation, no host namespaces, ports or paths (ServiceStack does all of this)",
    types=WORKLOADS,
    check=_check_pod_security,
    config=("podSecurityExemptNamespaces",),
    admission=AdmissionRule(
        resources=WORKLOAD_RESOURCES,
        variables=WORKLOAD_VARIABLES,
        validations=POD_SECURITY_CEL,
        exempt_namespaces=lambda s: s.pod_security_exempt_namespaces,
    ),
)

POD_SECURITY_RULES = (POD_SECURITY,)

"""Render recorded Kubernetes resources to plain manifests (as ``kubectl apply -f`` takes them)
and check them against the Kubernetes OpenAPI schema of the cluster's version.

Two objects of one preview with the same group, kind, namespace and name are an error: in the
cluster the second apply overwrites the first (and here the second file would overwrite the
first), so the preview refuses them and writes both, the later one with a ``~2`` suffix.
Fields the API server allocates (a Service's ``nodePort``) are shown only when the program set
them: the mocks answer with an allocated port, but applying a manifest that names it would pin
it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..core import yamltext
from ..core.kinds import CLUSTER_SCOPED_KINDS
from .mocks import Recorded, is_secret
from .outfiles import sync_tree

if TYPE_CHECKING:
    from .engine import Diagnostic

SECRET_PLACEHOLDER = "offline-secret-placeholder"
"""What a secret value reads as in a rendered manifest (base64-encoded inside Secret.data)."""

# Pulumi-kubernetes types that are components or tooling, not API objects.
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


@dataclass(frozen=True)
class Manifest:
    urn: str
    api_version: str
    kind: str
    name: str
    namespace: str
    body: dict[str, Any]

    @property
    def relpath(self) -> str:
        if self.namespace:
            return f"namespaces/{self.namespace}/{self.kind}/{self.name}.yaml"
        return f"cluster/{self.kind}/{self.name}.yaml"

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def is_kubernetes_object(r: Recorded) -> bool:
    return r.custom and r.type.startswith("kubernetes:") and not r.type.startswith(_NOT_OBJECTS)


def _api_version(token: str) -> str:
    """``kubernetes:apps/v1:Deployment`` -> ``apps/v1``; ``kubernetes:core/v1:Pod`` -> ``v1``."""
    group_version = token.split(":")[1]
    group, _, version = group_version.partition("/")
    return version if group == "core" else group_version


def _clean(value: Any, *, in_secret_data: bool = False, secret: bool = False) -> Any:
    """Plain manifest value: secret leaves become the placeholder (base64 in Secret.data),
    integral floats become ints, nulls are dropped."""
    if is_secret(value):
        return _clean(value.get("value"), in_secret_data=in_secret_data, secret=True)
    if isinstance(value, dict):
        return {
            str(k): _clean(v, in_secret_data=in_secret_data, secret=secret)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [_clean(v, in_secret_data=in_secret_data, secret=secret) for v in value]
    if secret:
        if in_secret_data:
            return base64.b64encode(SECRET_PLACEHOLDER.encode()).decode()
        return SECRET_PLACEHOLDER
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def render(r: Recorded) -> Manifest:
    state = r.outputs or r.inputs
    api_version = str(state.get("apiVersion") or _api_version(r.type))
    kind = str(state.get("kind") or r.type.rsplit(":", 1)[-1])
    body: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    for key in sorted(state):
        if key in ("apiVersion", "kind", "id", "urn") or key.startswith("__"):
            continue
        value = state[key]
        if kind == "Secret" and key == "data":
            body[key] = _clean(value, in_secret_data=True)
        else:
            body[key] = _clean(value)
    if kind == "Service":
        _drop_allocated_node_ports(body, r.inputs)
    meta = body.setdefault("metadata", {})
    meta.pop("uid", None)
    if kind in CLUSTER_SCOPED_KINDS:
        meta.pop("namespace", None)
    ordered = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    ordered.update({k: v for k, v in body.items() if k not in ordered})
    return Manifest(
        urn=r.urn,
        api_version=api_version,
        kind=kind,
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        body=ordered,
    )


def _drop_allocated_node_ports(body: dict[str, Any], inputs: dict[str, Any]) -> None:
    spec = body.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("ports"), list):
        return
    given = (inputs.get("spec") or {}).get("ports") or []
    for i, port in enumerate(spec["ports"]):
        asked = given[i] if i < len(given) and isinstance(given[i], dict) else {}
        if isinstance(port, dict) and asked.get("nodePort") is None:
            port.pop("nodePort", None)


def render_all(resources: list[Recorded]) -> list[Manifest]:
    return [render(r) for r in resources if is_kubernetes_object(r)]


def _identity(m: Manifest) -> tuple[str, str, str, str]:
    """What the API server identifies an object by: group (not version), kind, namespace, name."""
    group = m.api_version.rpartition("/")[0]
    return group, m.kind, m.namespace, m.name


def duplicate_objects(manifests: list[Manifest]) -> list[Diagnostic]:
    """An error for each object declared again under the same group, kind, namespace and name."""
    from .engine import Diagnostic

    first: dict[tuple[str, str, str, str], Manifest] = {}
    diags: list[Diagnostic] = []
    for m in manifests:
        seen = first.setdefault(_identity(m), m)
        if seen is not m:
            diags.append(
                Diagnostic(
                    "error",
                    f"{m.label} is declared twice, by {seen.urn} and {m.urn}: in the cluster "
                    "the second would overwrite the first; give one of them another name or "
                    "namespace",
                    m.urn,
                )
            )
    return diags


def validate_all(manifests: list[Manifest], kubernetes_version: str) -> list[Diagnostic]:
    if not manifests:
        return []
    from .engine import Diagnostic

    duplicates = duplicate_objects(manifests)
    from .kube_schema import KubeSchemaValidator

    try:
        validator = KubeSchemaValidator.for_version(kubernetes_version)
    except ValueError as exc:
        return [*duplicates, Diagnostic("error", f"cannot schema-check Kubernetes objects: {exc}")]
    diags: list[Diagnostic] = list(duplicates)
    unchecked: dict[str, int] = {}
    for m in manifests:
        errors = validator.validate(m.body)
        if not errors and not validator.has_schema(m.api_version, m.kind):
            key = f"{m.api_version} {m.kind}"
            unchecked[key] = unchecked.get(key, 0) + 1
            continue
        for err in errors:
            diags.append(
                Diagnostic(
                    "error",
                    f"{m.label} ({m.api_version}) is invalid for Kubernetes "
                    f"{kubernetes_version}: {err.path or '<root>'}: {err.message}",
                    m.urn,
                )
            )
    for key, count in sorted(unchecked.items()):
        diags.append(
            Diagnostic(
                "info",
                f"{count} {key} object(s) not schema-checked (custom resource: no built-in schema)",
            )
        )
    return diags


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when PyYAML has it (several times faster, same text)."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def _literal_when_multiline(text: str) -> str | None:
    return "|" if "\n" in text else None


def to_yaml(body: dict[str, Any]) -> str:
    """The manifest's text: ``yaml.dump(body, Dumper=_Dumper, sort_keys=False,
    default_flow_style=False, width=100)``, nodes built directly (:mod:`eksplatform.core.yamltext`)."""
    return yamltext.dump(
        body, _Dumper, sort_keys=False, width=100, str_style=_literal_when_multiline
    )


def _reference_yaml(body: Any) -> str:
    """PyYAML's own path (what :func:`to_yaml` must equal)."""
    return yamltext.reference_dump(body, _Dumper, sort_keys=False, width=100)


def write_all(directory: Path, manifests: list[Manifest]) -> None:
    """One file per object, and no other file in ``directory`` (see :mod:`.outfiles`: unchanged
    files are not rewritten); a path taken already (a duplicate object, reported as an error by
    :func:`validate_all`) gets ``~2``, ``~3``... instead of overwriting it."""

    def rendered() -> Iterator[tuple[str, bytes]]:  # written while the next is rendered
        taken: set[str] = set()
        for m in manifests:
            relpath = m.relpath
            n = 1
            while relpath in taken:
                n += 1
                relpath = f"{m.relpath.removesuffix('.yaml')}~{n}.yaml"
            taken.add(relpath)
            yield relpath, to_yaml(m.body).encode()

    sync_tree(directory, rendered())

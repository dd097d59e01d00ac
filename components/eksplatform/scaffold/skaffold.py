"""``skaffold.yaml`` of a service repo: a developer's build, rendered manifests and deploy loop.

:func:`skaffold_yaml` writes it (``eksplatform new-service``, and the examples in ``services/``):

* **build**: the app's Dockerfile at the repo root, pushed to the developer repository
  ``dev/<team>/<service>`` of the staging account (created on the first push by the cluster's
  ECR template; tags mutable, images expire: release repositories stay immutable), tagged
  ``dev-<$USER>-<input digest>``: per developer, and a new tag whenever the sources change;
* **manifests**: a render hook runs ``eksplatform dev render`` (the developer stack, offline:
  the same objects ``pulumi up -s dev-<developer>`` creates) into ``.dev/manifests``, which
  ``rawYaml`` reads; Skaffold replaces the image in them with the one it built;
* **deploy**: ``kubectl apply --server-side`` into the developer namespace (the objects carry
  it): server-side apply, so two services of one developer share the namespace object without
  overwriting each other's labels.

:func:`skaffold_problems` checks a document against Skaffold's configuration structure for its
``apiVersion`` (``skaffold/v4beta13``, Skaffold 2.15): every key known at each level (from the
reference of that schema version: SkaffoldConfig, BuildConfig, Artifact, DockerArtifact,
TagPolicy and its taggers, LocalBuild, RenderConfig and its hooks, DeployConfig, KubectlDeploy
and its flags and hooks), required keys, value types, one tagger per policy and one builder per
artifact. Written from the reference documentation, not a copy of Skaffold's JSON schema: no
pinned package ships it. Sections this platform does not write (profiles, test, verify,
customActions...) are checked for their type only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from ..core.errors import Problem, Problems

API_VERSION = "skaffold/v4beta13"
"""The Skaffold config version written (Skaffold 2.15, the current release)."""
SUPPORTED_VERSIONS = frozenset({API_VERSION})
RENDER_DIR = ".dev/manifests"
"""Where ``eksplatform dev render`` writes and ``rawYaml`` reads."""

_S, _B, _I, _O = "string", "boolean", "integer", "object"
# Structure per definition: key -> type name ("string", "boolean", "integer", "object" for a
# free mapping, "[X]" for a list of X, or another definition's name).
DEFINITIONS: dict[str, dict[str, str]] = {
    "SkaffoldConfig": {
        "apiVersion": _S,
        "kind": _S,
        "metadata": "Metadata",
        "requires": "[object]",
        "build": "BuildConfig",
        "test": "[object]",
        "manifests": "RenderConfig",
        "deploy": "DeployConfig",
        "portForward": "[object]",
        "resourceSelector": _O,
        "verify": "[object]",
        "customActions": "[object]",
        "profiles": "[object]",
    },
    "Metadata": {"name": _S, "labels": _O, "annotations": _O},
    "BuildConfig": {
        "artifacts": "[Artifact]",
        "insecureRegistries": "[string]",
        "tagPolicy": "TagPolicy",
        "platforms": "[string]",
        "hooks": _O,
        "local": "LocalBuild",
        "googleCloudBuild": _O,
        "cluster": _O,
    },
    "Artifact": {
        "image": _S,
        "context": _S,
        "sync": _O,
        "requires": "[object]",
        "hooks": _O,
        "platforms": "[string]",
        "runtimeType": _S,
        "docker": "DockerArtifact",
        "bazel": _O,
        "ko": _O,
        "jib": _O,
        "kaniko": _O,
        "buildpacks": _O,
        "custom": _O,
    },
    "DockerArtifact": {
        "dockerfile": _S,
        "target": _S,
        "buildArgs": _O,
        "network": _S,
        "addHost": "[string]",
        "cacheFrom": "[string]",
        "cliFlags": "[string]",
        "pullParent": _B,
        "noCache": _B,
        "squash": _B,
        "secrets": "[object]",
        "ssh": _S,
    },
    "TagPolicy": {
        "gitCommit": "GitTagger",
        "sha256": _O,
        "envTemplate": "EnvTemplateTagger",
        "dateTime": "DateTimeTagger",
        "customTemplate": "CustomTemplateTagger",
        "inputDigest": _O,
    },
    "GitTagger": {"variant": _S, "prefix": _S, "ignoreChanges": _B},
    "EnvTemplateTagger": {"template": _S},
    "DateTimeTagger": {"format": _S, "timezone": _S},
    "CustomTemplateTagger": {"template": _S, "components": "[TaggerComponent]"},
    "TaggerComponent": {
        "name": _S,
        "gitCommit": "GitTagger",
        "sha256": _O,
        "envTemplate": "EnvTemplateTagger",
        "dateTime": "DateTimeTagger",
        "customTemplate": "CustomTemplateTagger",
        "inputDigest": _O,
    },
    "LocalBuild": {
        "push": _B,
        "tryImportMissing": _B,
        "useDockerCLI": _B,
        "useBuildkit": _B,
        "concurrency": _I,
    },
    "RenderConfig": {
        "rawYaml": "[string]",
        "remoteManifests": "[object]",
        "kustomize": _O,
        "helm": _O,
        "kpt": "[string]",
        "transform": "[object]",
        "validate": "[object]",
        "output": _S,
        "hooks": "RenderHooks",
    },
    "RenderHooks": {"before": "[HookItem]", "after": "[HookItem]"},
    "HookItem": {"host": "HostHook"},
    "DeployHookItem": {"host": "HostHook", "container": _O},
    "HostHook": {"command": "[string]", "os": "[string]", "dir": _S},
    "DeployConfig": {
        "docker": _O,
        "helm": _O,
        "kpt": _O,
        "kubectl": "KubectlDeploy",
        "cloudrun": _O,
        "statusCheck": _B,
        "statusCheckDeadlineSeconds": _I,
        "tolerateFailuresUntilDeadline": _B,
        "kubeContext": _S,
        "logs": _O,
    },
    "KubectlDeploy": {
        "remoteManifests": "[string]",
        "flags": "KubectlFlags",
        "defaultNamespace": _S,
        "hooks": "DeployHooks",
    },
    "KubectlFlags": {
        "global": "[string]",
        "apply": "[string]",
        "delete": "[string]",
        "disableValidation": _B,
    },
    "DeployHooks": {"before": "[DeployHookItem]", "after": "[DeployHookItem]"},
}
REQUIRED = {
    "SkaffoldConfig": ("apiVersion", "kind"),
    "Artifact": ("image",),
    "EnvTemplateTagger": ("template",),
    "CustomTemplateTagger": ("template",),
    "HostHook": ("command",),
}
ONE_OF = {
    "TagPolicy": tuple(DEFINITIONS["TagPolicy"]),
    "TaggerComponent": (
        "gitCommit",
        "sha256",
        "envTemplate",
        "dateTime",
        "customTemplate",
        "inputDigest",
    ),
    "Artifact": ("docker", "bazel", "ko", "jib", "kaniko", "buildpacks", "custom"),
    "BuildConfig": ("local", "googleCloudBuild", "cluster"),
    "DeployHookItem": ("host", "container"),
}
"""At most one of these keys (Skaffold's ``oneOf`` groups)."""
GIT_VARIANTS = ("Tags", "CommitSha", "AbbrevCommitSha", "TreeSha", "AbbrevTreeSha")

_PYTYPES: dict[str, type | tuple[type, ...]] = {
    _S: str,
    _B: bool,
    _I: int,
    _O: dict,
}


def _check(problems: Problems, path: str, value: Any, kind: str) -> None:
    if kind.startswith("["):
        if not isinstance(value, list):
            problems.add(path, value, f"must be a list ({kind})")
            return
        for i, item in enumerate(value):
            _check(problems, f"{path}[{i}]", item, kind[1:-1])
        return
    if kind in _PYTYPES:
        ok = isinstance(value, _PYTYPES[kind]) and not (kind == _I and isinstance(value, bool))
        if not ok:
            problems.add(path, value, f"must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}")
        return
    if not isinstance(value, dict):
        problems.add(path, value, f"must be a mapping ({kind})")
        return
    known = DEFINITIONS[kind]
    where = path or "<top>"
    for key in value:
        if key not in known:
            problems.add(
                f"{path}.{key}".lstrip("."),
                value[key],
                f"is not a field of {kind} in {API_VERSION} (fields: {', '.join(known)})",
            )
    for key in REQUIRED.get(kind, ()):
        if key not in value:
            problems.add(f"{path}.{key}".lstrip("."), None, f"is required in {kind}")
    group = [k for k in ONE_OF.get(kind, ()) if k in value]
    if len(group) > 1:
        problems.add(where, sorted(group), f"{kind} takes only one of {', '.join(group)}")
    if kind == "GitTagger" and "variant" in value and value["variant"] not in GIT_VARIANTS:
        problems.add(f"{path}.variant", value["variant"], f"must be one of {GIT_VARIANTS}")
    for key, item in value.items():
        if key in known:
            _check(problems, f"{path}.{key}".lstrip("."), item, known[key])


def skaffold_problems(doc: Any) -> list[Problem]:
    """Every way ``doc`` (a parsed skaffold.yaml) departs from Skaffold's structure."""
    problems = Problems()
    if not isinstance(doc, Mapping):
        problems.add("<top>", doc, "a skaffold.yaml is a mapping")
        return list(problems)
    version = doc.get("apiVersion")
    if version not in SUPPORTED_VERSIONS:
        problems.add("apiVersion", version, f"must be {API_VERSION} (the structure checked here)")
    if doc.get("kind") != "Config":
        problems.add("kind", doc.get("kind"), "must be Config")
    _check(problems, "", dict(doc), "SkaffoldConfig")
    return list(problems)


_TEMPLATE_VAR = re.compile(r"\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def developer_loop_problems(doc: Mapping[str, Any]) -> list[Problem]:
    """What a service repo's skaffold.yaml must do for developer environments: render with
    ``eksplatform dev render`` into the directory ``rawYaml`` reads, deploy with ``kubectl
    apply --server-side``, build into ``dev/<team>/<service>`` with a per-developer tag."""
    problems = Problems()
    manifests = doc.get("manifests") or {}
    hooks = ((manifests.get("hooks") or {}).get("before")) or []
    commands = [h.get("host", {}).get("command") or [] for h in hooks if isinstance(h, dict)]
    render = [c for c in commands if c[:3] == ["eksplatform", "dev", "render"]]
    if not render:
        problems.add("manifests.hooks.before", hooks, "must run 'eksplatform dev render'")
    else:
        command = render[0]
        out = command[command.index("--out") + 1] if "--out" in command[:-1] else RENDER_DIR
        raw = manifests.get("rawYaml") or []
        if f"{out.rstrip('/')}/*.yaml" not in raw:
            problems.add(
                "manifests.rawYaml", raw, f"must read the rendered manifests: '{out}/*.yaml'"
            )
    flags = (((doc.get("deploy") or {}).get("kubectl") or {}).get("flags") or {}).get("apply")
    if not isinstance(flags, list) or "--server-side" not in flags:
        problems.add("deploy.kubectl.flags.apply", flags, "must apply with --server-side")
    artifacts = (doc.get("build") or {}).get("artifacts") or []
    for i, artifact in enumerate(artifacts):
        image = str(artifact.get("image", "")) if isinstance(artifact, dict) else ""
        if "/dev/" not in image:
            problems.add(
                f"build.artifacts[{i}].image",
                image,
                "must be the developer repository <registry>/dev/<team>/<service>",
            )
    policy = (doc.get("build") or {}).get("tagPolicy") or {}
    text = yaml.safe_dump(policy)
    if not {"USER", "EKSPLATFORM_DEVELOPER"} & set(_TEMPLATE_VAR.findall(text)):
        problems.add("build.tagPolicy", policy, "must tag per developer ({{.USER}})")
    return list(problems)


def skaffold_yaml(
    *,
    service: str,
    team: str,
    registry: str,
    render_args: tuple[str, ...] = (),
) -> str:
    """The skaffold.yaml text of a service repo (see the module docstring). ``registry`` is
    the staging account's ECR registry (``<account>.dkr.ecr.<region>.amazonaws.com``);
    ``render_args`` are extra ``eksplatform dev render`` options (``--root``, ``--program``
    for a program that is not at the repo root)."""
    command = ["eksplatform", "dev", "render", *render_args, "--out", RENDER_DIR]
    doc = {
        "apiVersion": API_VERSION,
        "kind": "Config",
        "metadata": {"name": service},
        "build": {
            "artifacts": [
                {
                    "image": f"{registry}/dev/{team}/{service}",
                    "context": ".",
                    "docker": {"dockerfile": "Dockerfile"},
                }
            ],
            "tagPolicy": {
                "customTemplate": {
                    "template": "dev-{{.DEVELOPER}}-{{.DIGEST}}",
                    "components": [
                        {"name": "DEVELOPER", "envTemplate": {"template": "{{.USER}}"}},
                        {"name": "DIGEST", "inputDigest": {}},
                    ],
                }
            },
            "local": {"push": True, "useBuildkit": True},
        },
        "manifests": {
            "hooks": {"before": [{"host": {"command": command}}]},
            "rawYaml": [f"{RENDER_DIR}/*.yaml"],
        },
        "deploy": {
            "kubectl": {
                "flags": {
                    "apply": [
                        "--server-side",
                        "--force-conflicts",
                        "--field-manager=skaffold-eksplatform-dev",
                    ]
                }
            },
            "statusCheckDeadlineSeconds": 300,
        },
    }
    header = (
        f"# Skaffold: your own copy of {service} on the staging cluster, in dev-<developer>.\n"
        "#   1. a developer stack: Pulumi.dev-<developer>.yaml (clusterStack: the staging cluster)\n"
        "#   2. export EKSPLATFORM_DEVELOPER=<developer>   (default: $USER)\n"
        "#   3. skaffold dev   (build, push to dev/<team>/<service>, render, deploy, watch)\n"
        "# `eksplatform dev extend` keeps it past its expiry, `eksplatform dev down` removes it.\n"
        f"# Generated by eksplatform; the structure is Skaffold's {API_VERSION}.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, width=100)

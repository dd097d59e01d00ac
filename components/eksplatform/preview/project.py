"""Read a Pulumi program directory the way the Pulumi CLI does: ``Pulumi.yaml`` (project name,
``main``, project-level config) and ``Pulumi.<stack>.yaml`` (stack config, ``secure:`` values).

The files are read as the CLI reads them (YAML 1.2 through yaml.v3, scalars handed over as their
text, structured values as JSON): see :mod:`eksplatform.core.pulumi_yaml`. The program then sees
offline exactly the strings ``pulumi up`` would give it; only ``secure:`` values differ (they are
unknown offline and read as a marked placeholder, still secret).

Project-level config follows the CLI's rules: a key of the project's own namespace takes a
``default``, a key of another namespace (``aws:region``) a ``value``; a declared ``type`` is
checked against the stack's value; a declared key with neither a default nor a stack value is
missing; a ``secret: true`` key must be ``secure:`` in the stack file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.pulumi_yaml import (
    ConfigFile,
    YamlFileError,
    load_yaml,
    project_config_value,
    qualify,
    read_stack_config,
)


class ProjectError(Exception):
    """The program directory or a stack file cannot be read."""


SECRET_PLACEHOLDER = "[secret {key}: unknown offline]"
"""What a ``secure:`` config value reads as offline (it stays marked secret)."""

_STACK_TOP_LEVEL = frozenset(
    {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
)
_DECLARATION_KEYS = frozenset({"type", "description", "default", "value", "secret", "items"})
_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


@dataclass(frozen=True)
class StackSpec:
    """Everything needed to run one stack of one program offline."""

    project: str
    program_dir: Path
    """Directory holding Pulumi.yaml."""
    main_dir: Path
    """Directory holding the program's ``__main__.py`` (``main:`` of Pulumi.yaml)."""
    stack: str
    stack_file: Path
    config: dict[str, str] = field(default_factory=dict)
    """Config as the Pulumi CLI hands it to a program: ``namespace:key`` -> string
    (objects and lists JSON-encoded)."""
    secret_keys: tuple[str, ...] = ()
    source: ConfigFile | None = None
    """The stack file as read (plain scalars with their text), for messages."""


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        return load_yaml(path)
    except YamlFileError as exc:
        raise ProjectError(str(exc)) from None


def project_name(program_dir: Path) -> str:
    data = _load_yaml(program_dir / "Pulumi.yaml")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{program_dir / 'Pulumi.yaml'}: 'name' is required")
    return name


def stack_config_dir(program_dir: Path) -> Path:
    """Where the stack files live (``stackConfigDir`` of Pulumi.yaml, else beside it)."""
    data = _load_yaml(program_dir / "Pulumi.yaml")
    configured = data.get("stackConfigDir")
    return program_dir / configured if isinstance(configured, str) and configured else program_dir


def list_stacks(program_dir: Path) -> list[str]:
    """Stacks that have a stack file, sorted."""
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")]
        for p in stack_config_dir(program_dir).glob("Pulumi.*.yaml")
    )


def _declarations(project: dict[str, Any], name: str, file: str) -> dict[str, dict[str, Any]]:
    """``config:`` of Pulumi.yaml as ``qualified key -> declaration`` (shorthand values become
    ``{value: ...}`` or ``{default: ...}``)."""
    raw = project.get("config") or {}
    if not isinstance(raw, dict):
        raise ProjectError(f"{file}: 'config' must be a mapping of keys to declarations")
    out: dict[str, dict[str, Any]] = {}
    for key, decl in raw.items():
        qualified = qualify(key, name)
        own = ":" not in key or key.startswith(f"{name}:")
        if isinstance(decl, dict) and decl and set(decl) <= _DECLARATION_KEYS:
            if own and "value" in decl:
                raise ProjectError(
                    f"{file}: config key {key!r} belongs to the project: give it a 'default', "
                    "not a 'value'"
                )
            if not own and "default" in decl:
                raise ProjectError(
                    f"{file}: config key {key!r} is not namespaced by the project and cannot "
                    "have a 'default'; use 'value' instead"
                )
            kind = decl.get("type")
            if kind is not None and kind not in _TYPES:
                raise ProjectError(
                    f"{file}: config key {key!r}: type {kind!r} is not one of {', '.join(_TYPES)}"
                )
            out[qualified] = decl
        else:
            out[qualified] = {"default" if own else "value": decl}
    return out


def _type_ok(kind: str, text: str, is_object: bool) -> bool:
    expected = _TYPES[kind]
    if expected is str:
        return not is_object
    if is_object:
        return expected is list and isinstance(json.loads(text), list)
    if expected is bool:
        return text in ("true", "false")
    if expected is int:
        try:
            int(text, 10)
        except ValueError:
            return False
        return True
    return False


def load_stack(program_dir: Path, stack: str) -> StackSpec:
    program_dir = program_dir.resolve()
    project_file = program_dir / "Pulumi.yaml"
    project = _load_yaml(project_file)
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{project_file.name}: 'name' is required")
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectError(f"{project_file.name}: runtime must be python (got {runtime_name!r})")
    main_dir = (program_dir / str(project.get("main") or ".")).resolve()
    if not (main_dir / "__main__.py").is_file():
        raise ProjectError(f"{project_file.name}: main {project.get('main')!r} has no __main__.py")
    declarations = _declarations(project, name, project_file.name)

    stack_file = stack_config_dir(program_dir) / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = ", ".join(list_stacks(program_dir)) or "none"
        raise ProjectError(f"{stack_file.name}: no such stack file (stacks here: {known})")
    try:
        top, source = read_stack_config(
            stack_file, name, reveal=lambda key, _: SECRET_PLACEHOLDER.format(key=key)
        )
    except YamlFileError as exc:
        raise ProjectError(str(exc)) from None
    unknown_top = sorted(set(top) - _STACK_TOP_LEVEL)
    if unknown_top:
        raise ProjectError(
            f"{stack_file.name}: unknown top-level keys {unknown_top}; "
            "stack settings go under 'config:'"
        )

    config = dict(source.config)
    secret_keys = set(source.secret_keys)
    objects = {k for k, v in config.items() if k not in secret_keys and v[:1] in "[{"}
    missing = []
    for key, decl in sorted(declarations.items()):
        if key in config:
            if decl.get("secret") and key not in secret_keys:
                raise ProjectError(
                    f"{stack_file.name}: config key {key!r} is declared secret in "
                    f"{project_file.name}; store it encrypted: pulumi config set --secret {key} "
                    "<value>"
                )
            kind = decl.get("type")
            if kind and key not in secret_keys and not _type_ok(kind, config[key], key in objects):
                raise ProjectError(
                    f"{stack_file.name}: config key {key!r} must be of type {kind} (declared "
                    f"in {project_file.name}); got {config[key]!r}"
                )
            continue
        if "value" in decl:
            config[key] = project_config_value(decl["value"])
        elif "default" in decl:
            config[key] = project_config_value(decl["default"])
        elif "type" in decl:
            missing.append(key)
            continue
        if decl.get("secret"):
            secret_keys.add(key)
    if missing:
        raise ProjectError(
            f"{stack_file.name}: missing required configuration "
            f"{', '.join(repr(k) for k in missing)} (declared in {project_file.name} without a "
            f"default); set {'it' if len(missing) == 1 else 'each'} with pulumi config set"
        )
    return StackSpec(
        project=name,
        program_dir=program_dir,
        main_dir=main_dir,
        stack=stack,
        stack_file=stack_file,
        config=config,
        secret_keys=tuple(sorted(secret_keys)),
        source=source,
    )

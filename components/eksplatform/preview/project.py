"""Read a Pulumi program directory the way the Pulumi CLI does: ``Pulumi.yaml`` (project name,
``main``, project-level config defaults) and ``Pulumi.<stack>.yaml`` (stack config, ``secure:``
values)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ProjectError(Exception):
    """The program directory or a stack file cannot be read."""


SECRET_PLACEHOLDER = "[secret {key}: unknown offline]"
"""What a ``secure:`` config value reads as offline (it stays marked secret)."""


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


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=False)
    return str(value)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ProjectError(f"{path.name}: not found in {path.parent.name or '.'}/") from None
    except yaml.YAMLError as exc:
        raise ProjectError(f"{path.name}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProjectError(f"{path.name}: expected a mapping at the top level")
    return data


def project_name(program_dir: Path) -> str:
    data = _load_yaml(program_dir / "Pulumi.yaml")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{program_dir / 'Pulumi.yaml'}: 'name' is required")
    return name


def list_stacks(program_dir: Path) -> list[str]:
    """Stacks that have a stack file, sorted."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in program_dir.glob("Pulumi.*.yaml"))


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

    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    # Project-level defaults: `key: value` or `key: {type, description, default|value, secret}`.
    for key, decl in (project.get("config") or {}).items():
        qualified = _qualify(str(key), name)
        if isinstance(decl, dict) and (
            {"default", "value", "type", "description", "secret"} & set(decl)
        ):
            if "value" in decl:
                config[qualified] = _as_config_string(decl["value"])
            elif "default" in decl:
                config[qualified] = _as_config_string(decl["default"])
            if decl.get("secret"):
                secret_keys.add(qualified)
        else:
            config[qualified] = _as_config_string(decl)

    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = ", ".join(list_stacks(program_dir)) or "none"
        raise ProjectError(f"{stack_file.name}: no such stack file (stacks here: {known})")
    stack_data = _load_yaml(stack_file)
    unknown_top = sorted(
        set(stack_data)
        - {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
    )
    if unknown_top:
        raise ProjectError(
            f"{stack_file.name}: unknown top-level keys {unknown_top}; "
            "stack settings go under 'config:'"
        )
    for key, value in (stack_data.get("config") or {}).items():
        qualified = _qualify(str(key), name)
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[qualified] = SECRET_PLACEHOLDER.format(key=qualified)
            secret_keys.add(qualified)
        else:
            config[qualified] = _as_config_string(
                _reveal_nested_secure(value, qualified, secret_keys)
            )
    return StackSpec(
        project=name,
        program_dir=program_dir,
        main_dir=main_dir,
        stack=stack,
        stack_file=stack_file,
        config=config,
        secret_keys=tuple(sorted(secret_keys)),
    )


def _reveal_nested_secure(value: Any, key: str, secret_keys: set[str]) -> Any:
    """Structured values may hold ``{secure: ...}`` leaves: replace them with the placeholder and
    mark the whole key secret (as the CLI does)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secret_keys.add(key)
            return SECRET_PLACEHOLDER.format(key=key)
        return {k: _reveal_nested_secure(v, key, secret_keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal_nested_secure(v, key, secret_keys) for v in value]
    return value

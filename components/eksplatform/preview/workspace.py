"""Where the offline preview finds programs, where it writes them, and how it answers a
StackReference.

Two layouts are previewed the same way, each writing ``<root>/build/<program>/<stack>/``:

* the platform repo: ``Pulumi.yaml`` at the root (the cluster project, ``main: cluster/``) and
  one project per ``services/<name>/``: programs ``cluster`` and ``services/<name>``;
* a service repo: its own ``Pulumi.yaml`` at the root and no ``services/``: one program, named
  after its project (``eksplatform preview --stack staging`` at the root, or ``--root DIR``).

A ``StackReference`` (and :func:`eksplatform.core.contract.known_contract`, which asks the same
resolver) is answered, in this order, from:

1. a file given as ``--stack-reference <org>/<project>/<stack>=<file>``: what
   ``pulumi stack output --json`` printed for that stack (see :mod:`.stack_output`); in a
   service repo, the cluster's contract file;
2. a program of this workspace with that project name: its offline outputs
   (``stack-output.json``), previewed first in a child process when missing or older than its
   sources, the stack files or the library.

Anything else is bad input (exit 2, nothing registered) naming the flag that fixes it. Design
decision: a program previewed against another stack must name its own region and account
(``aws:region``, ``aws:allowedAccountIds``); offline nothing else would, and the preview would
quietly run in a default region and a made-up account. The cost: a stack file needs two lines
it could leave out under ``pulumi up`` (where the AWS profile fills them in); they belong there
anyway, since ``allowedAccountIds`` is what stops a deploy with the wrong credentials.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.errors import MISSING, Problems
from . import stack_output
from .project import ProjectError, StackSpec, project_name
from .stack_output import StackOutputError, StackOutputs

STACK_OUTPUT_FILE = "stack-output.json"
"""Per program and stack: its outputs as ``pulumi stack output --json`` prints them."""
OFFLINE_ORGANIZATION = "organization"
"""The organization the offline preview runs in (``pulumi.get_organization()``)."""

_NAME_PART = re.compile(r"[A-Za-z0-9_.-]+")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_ACCOUNT = re.compile(r"[0-9]{12}")


class Workspace:
    """The repo previewed: where programs live, where previews are written, and the stack
    output files given for references it cannot answer itself."""

    def __init__(
        self,
        root: Path,
        build_dir: Path | None = None,
        stack_references: Mapping[str, Path] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.build_dir = (build_dir or self.root / "build").resolve()
        self.stack_references: dict[str, Path] = {
            name: Path(path).resolve() for name, path in (stack_references or {}).items()
        }
        """``org/project/stack`` -> its ``pulumi stack output --json`` file."""
        self._files: dict[Path, StackOutputs] = {}

    def programs(self) -> list[str]:
        """Program ids: the root program (``cluster`` here) then ``services/<name>`` sorted."""
        found = []
        if (self.root / "Pulumi.yaml").is_file():
            found.append(self.program_id(self.root))
        services = self.root / "services"
        if services.is_dir():
            found += [
                f"services/{p.name}"
                for p in sorted(services.iterdir())
                if (p / "Pulumi.yaml").is_file()
            ]
        return found

    def program_dir(self, program_id: str) -> Path:
        """Directory holding the Pulumi.yaml of a program id."""
        candidate = self.root / program_id
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
        if (self.root / "Pulumi.yaml").is_file() and self.program_id(self.root) == program_id:
            return self.root
        known = ", ".join(self.programs()) or "none"
        raise ProjectError(f"no program {program_id!r} (programs here: {known})")

    def program_id(self, program_dir: Path) -> str:
        """``main:`` relative to the root (``cluster``), or the project name for a program
        whose code sits at the root (a service repo), so the id does not depend on the name
        of the directory a repo was cloned into."""
        spec_main = main_dir(program_dir)
        if spec_main != self.root:
            return spec_main.relative_to(self.root).as_posix()
        return project_name(program_dir) if program_dir == self.root else program_dir.name

    def out_dir(self, program_id: str, stack: str) -> Path:
        return self.build_dir / program_id / stack

    def find_project(self, project: str) -> str | None:
        for pid in self.programs():
            if project_name(self.program_dir(pid)) == project:
                return pid
        return None

    # --- stack references ---------------------------------------------------------------------

    def resolve_stack_reference(self, name: str, referrer: StackSpec) -> StackOutputs:
        """The outputs ``StackReference(name)`` reads in a program of stack ``referrer``.

        ``name`` is ``org/project/stack``, ``project/stack`` or ``stack`` (the referrer's
        project), as Pulumi accepts them. Raises ``ValidationError`` when nothing can
        answer it (bad input) and :class:`ProjectError` when the program that would answer it
        fails to preview."""
        org, project, stack = qualify(name, referrer.project)
        full = f"{org}/{project}/{stack}"
        for given, path in self.stack_references.items():
            if given == full:
                return self.read_stack_output_file(path)
        program_id = self.find_project(project)
        if program_id is None:
            given_names = ", ".join(sorted(self.stack_references)) or "none"
            problems = Problems()
            problems.add(
                "--stack-reference",
                MISSING,
                f"no file answers it (given: {given_names}) and no program here has project "
                f"name {project!r}: pass --stack-reference {full}=<file>, the output of "
                f"`pulumi stack output --json --stack {full}` (the platform pipeline publishes "
                "it for each cluster stack)",
            )
            problems.raise_if_any(f"StackReference {name!r}")
        assert program_id is not None
        path = self.out_dir(program_id, stack) / STACK_OUTPUT_FILE
        if not path.is_file() or _is_stale(path, self.program_dir(program_id)):
            synthesize(self, program_id, stack)
        if not path.is_file():
            raise ProjectError(
                f"StackReference {name!r}: the preview of {program_id} ({stack}) failed; "
                f"run `eksplatform preview --program {program_id} --stack {stack}` to see why"
            )
        return stack_output.read(path)

    def read_stack_output_file(self, path: Path) -> StackOutputs:
        """A ``--stack-reference`` file, read once per workspace."""
        if path not in self._files:
            self._files[path] = stack_output.read(path)
        return self._files[path]


def main_dir(program_dir: Path) -> Path:
    """The directory of a program's ``__main__.py`` (``main:`` of its Pulumi.yaml)."""
    import yaml

    data = yaml.safe_load((program_dir / "Pulumi.yaml").read_text()) or {}
    return (program_dir / str(data.get("main") or ".")).resolve()


def qualify(name: str, project: str) -> tuple[str, str, str]:
    """``(org, project, stack)`` of a StackReference name as Pulumi reads it: a missing
    organization is the current one, a missing project the referrer's."""
    parts = name.split("/")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return OFFLINE_ORGANIZATION, parts[0], parts[1]
    return OFFLINE_ORGANIZATION, project, name


def parse_stack_references(values: list[str]) -> tuple[dict[str, Path], Problems]:
    """``--stack-reference <org>/<project>/<stack>=<file>`` values: the mapping, and every
    problem with them (each file is read and checked, so a bad one stops the run before any
    program runs)."""
    problems = Problems()
    found: dict[str, Path] = {}
    field = "--stack-reference"
    for value in values:
        name, sep, file = value.partition("=")
        if not sep or not name or not file:
            problems.add(
                field,
                value,
                "must be <org>/<project>/<stack>=<file>, "
                "e.g. organization/eks-platform/prod=contract-prod.json",
            )
            continue
        parts = name.split("/")
        if len(parts) != 3 or not all(_NAME_PART.fullmatch(p) for p in parts):
            problems.add(
                field,
                value,
                f"{name!r} is not <org>/<project>/<stack> (three parts of letters, digits, "
                "'-', '_' or '.'): name the stack as the program's StackReference does, "
                "e.g. organization/eks-platform/prod",
            )
            continue
        path = Path(file)
        if name in found:
            problems.add(
                field,
                value,
                f"{name} is already answered from {found[name]}: give each stack one file",
            )
            continue
        try:
            stack_output.read(path)
        except StackOutputError as exc:
            problems.add(
                field,
                value,
                f"{exc}: write it with `pulumi stack output --json --stack {name} > {file}`",
            )
            continue
        found[name] = path
    return found, problems


def referrer_problems(spec: StackSpec, name: str, answered: StackOutputs) -> Problems:
    """What a stack previewed against ``name`` lacks: its own region and account.

    The fix quotes the referenced stack's ``region`` and ``accountId`` when it exports them
    (the cluster contract does)."""
    problems = Problems()
    their_region = answered.outputs.get("region")
    their_account = answered.outputs.get("accountId")
    where = f"under config: in {spec.stack_file.name}"
    region = spec.config.get("aws:region")
    if region is None:
        example = their_region if isinstance(their_region, str) else "<region>"
        problems.add(
            "aws:region",
            MISSING,
            f"a stack previewed against {name} must name its region (offline nothing else "
            f"does): add `aws:region: {example}` {where}"
            + (f" (the region {name} exports)" if isinstance(their_region, str) else ""),
        )
    elif not _REGION.fullmatch(region):
        problems.add("aws:region", region, "must be an AWS region code such as 'eu-west-1'")
    raw = spec.config.get("aws:allowedAccountIds")
    example = f'["{their_account}"]' if isinstance(their_account, str) else '["<account id>"]'
    if raw is None:
        problems.add(
            "aws:allowedAccountIds",
            MISSING,
            f"a stack previewed against {name} must name its AWS account (offline it would be "
            f"made up; under `pulumi up` it stops a deploy with the wrong credentials): add "
            f"`aws:allowedAccountIds: {example}` {where}"
            + (f" (the account {name} exports)" if isinstance(their_account, str) else ""),
        )
    else:
        accounts = _json_or_none(raw)
        if (
            not isinstance(accounts, list)
            or not accounts
            or not all(isinstance(a, str) and _ACCOUNT.fullmatch(a) for a in accounts)
        ):
            problems.add(
                "aws:allowedAccountIds",
                accounts if isinstance(accounts, list) else raw,  # as written
                "must be a list of 12-digit account IDs, each in quotes (unquoted, an ID with "
                f"a leading 0 loses it): e.g. `aws:allowedAccountIds: {example}`",
            )
    return problems


def check_referrer(spec: StackSpec, name: str, answered: StackOutputs) -> None:
    """Raise :class:`~eksplatform.core.errors.ValidationError` when :func:`referrer_problems` finds any."""
    problems = referrer_problems(spec, name, answered)
    problems.raise_if_any(f"{spec.stack_file.name}: invalid stack configuration")


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _is_stale(outputs: Path, program_dir: Path) -> bool:
    """Whether a program's offline outputs predate its sources, stack files or the library
    (a service preview must never read a cluster contract older than the cluster's code)."""
    written = outputs.stat().st_mtime
    library = Path(__file__).resolve().parents[1]
    sources = [
        *program_dir.glob("Pulumi*.yaml"),
        *_python_files(main_dir(program_dir)),
        *_python_files(library),
    ]
    return any(f.stat().st_mtime > written for f in sources)


def _python_files(directory: Path) -> list[Path]:
    """``*.py`` under ``directory``, skipping hidden directories (virtualenvs) and caches."""
    found: list[Path] = []
    for path in directory.iterdir():
        if path.is_dir() and not path.name.startswith((".", "__pycache__")):
            found += _python_files(path)
        elif path.suffix == ".py":
            found.append(path)
    return found


def synthesize(workspace: Workspace, program_id: str, stack: str) -> int:
    """Preview another program in a child process (the Pulumi runtime is process-global)."""
    cmd = [
        sys.executable,
        "-m",
        "eksplatform.preview",
        "--root",
        str(workspace.root),
        "--build-dir",
        str(workspace.build_dir),
        "--program",
        program_id,
        "--stack",
        stack,
        "--quiet",
    ]
    for name, path in sorted(workspace.stack_references.items()):
        cmd += ["--stack-reference", f"{name}={path}"]
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run(cmd, env=env, check=False, capture_output=True, timeout=300).returncode

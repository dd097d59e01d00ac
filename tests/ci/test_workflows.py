"""The CI workflows (.github/workflows) cannot run here: check them against the GitHub Actions
workflow schema (check-jsonschema's bundled copy, pinned), check that every action is pinned to
an exact version, that every command they run exists in the repo (make targets, eksplatform
commands, the policy pack, program directories) and that the preview matrix covers every stack
of every program."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.cli import COMMANDS

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"[\w.-]+/[\w.-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    # PyYAML (YAML 1.1) reads the key `on` as True; GitHub reads YAML 1.2.
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def _make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, flags=re.M))


def _commands(script: str) -> list[list[str]]:
    """Shell commands of a run script, with ${{ }} expressions as placeholders."""
    text = re.sub(r"\$\{\{[^}]*\}\}", "EXPR", script)
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        for part in re.split(r"\|\||&&|;", line):
            words = shlex.split(part.strip())
            if words and words[0] not in ("for", "done", "do", "fi", "then", "if"):
                commands.append(words[1:] if words[0] == "do" else words)
    return [c for c in commands if c]


def test_there_are_pull_request_and_deploy_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "pull-request.yml"]


def test_workflows_match_the_github_actions_schema() -> None:
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_broken_workflow_fails_the_schema_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4.2.2\n        run: echo both\n"
    )
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.github-workflows",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 1


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_an_exact_version(path: Path) -> None:
    uses = [s["uses"] for s in _steps(_load(path)) if "uses" in s]
    assert uses and [u for u in uses if not PINNED.fullmatch(u)] == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_command_they_run_exists_in_the_repo(path: Path) -> None:
    targets = _make_targets()
    seen = set()
    for step in _steps(_load(path)):
        for words in _commands(step.get("run", "")):
            if words[0] == "make":
                args = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
                if "-C" in words:
                    args = args[1:]  # the directory after -C
                assert args and set(args) <= targets, words
                seen.add("make")
            elif words[0].endswith("python") and words[1:3] == ["-m", "eksplatform"]:
                assert words[3] in COMMANDS, words
                seen.add(f"eksplatform {words[3]}")
            elif words[0] == "pulumi":
                assert words[1] in ("preview", "up"), words
                policy = words[words.index("--policy-pack") + 1]
                assert (
                    policy.endswith("/policy") and (REPO / "policy" / "PulumiPolicy.yaml").is_file()
                )
                cwd = words[words.index("--cwd") + 1]
                assert cwd in ("EXPR", "$dir") or (REPO / cwd / "Pulumi.yaml").is_file(), cwd
                seen.add(f"pulumi {words[1]}")
            elif words[0] == "true":
                continue
            else:
                pytest.fail(f"{path.name}: unexpected command {words}")
    expected = {
        "pull-request.yml": {"make", "pulumi preview", "eksplatform diff"},
        "deploy.yml": {"make", "pulumi up"},
    }
    assert seen == expected[path.name]


def _programs_and_stacks() -> set[tuple[str, str]]:
    """Every stack CI previews with Pulumi: all but developer stacks (``dev-<developer>``: a
    developer's own, previewed offline by make test and deployed by the developer)."""
    found = {("cluster", p.name.split(".")[1]) for p in REPO.glob("Pulumi.*.yaml")}
    for project in REPO.glob("services/*/Pulumi.yaml"):
        found |= {
            (f"services/{project.parent.name}", p.name.split(".")[1])
            for p in project.parent.glob("Pulumi.*.yaml")
            if not p.name.startswith("Pulumi.dev-")
        }
    return found


def test_the_pull_request_preview_covers_every_stack_of_every_program() -> None:
    job = _load(REPO / ".github" / "workflows" / "pull-request.yml")["jobs"]["pulumi-preview"]
    matrix = job["strategy"]["matrix"]["include"]
    assert {(m["program"], m["stack"]) for m in matrix} == _programs_and_stacks()
    for m in matrix:
        assert (REPO / m["dir"] / "Pulumi.yaml").is_file()
        assert (REPO / m["dir"] / f"Pulumi.{m['stack']}.yaml").is_file()
    assert job["permissions"]["id-token"] == "write"  # OIDC, no stored AWS keys


def test_deploy_goes_staging_then_prod_behind_an_environment() -> None:
    jobs = _load(REPO / ".github" / "workflows" / "deploy.yml")["jobs"]
    assert jobs["staging"]["environment"] == "staging" and jobs["staging"]["needs"] == "test"
    assert jobs["prod"]["environment"] == "prod" and jobs["prod"]["needs"] == "staging"
    services = sorted(p.parent.as_posix() for p in (REPO / "services").glob("*/Pulumi.yaml"))
    for job in ("staging", "prod"):
        script = next(s["run"] for s in jobs[job]["steps"] if s.get("name") == "Services")
        assert sorted(re.findall(r"services/[\w-]+", script)) == [
            Path(s).relative_to(REPO).as_posix() for s in services
        ]

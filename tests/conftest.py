"""Shared fixtures: the repo as a preview workspace, with previews written to a temp dir."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview, write_result

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The real repo's programs; previews go to a temp build dir (never the checkout's)."""
    return Workspace(REPO, tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def cluster_preview(repo_workspace: Workspace) -> Callable[[str], PreviewResult]:
    """Preview of the cluster program per stack, computed once per session."""
    cache: dict[str, PreviewResult] = {}

    def get(stack: str) -> PreviewResult:
        if stack not in cache:
            result = run_preview(repo_workspace, "cluster", stack)
            write_result(repo_workspace, result)
            cache[stack] = result
        return cache[stack]

    return get


def make_workspace(root: Path, *, with_cluster: bool = True) -> Workspace:
    """A scratch workspace: optionally a copy of the real cluster project, plus whatever the test
    writes under services/."""
    root.mkdir(parents=True, exist_ok=True)
    if with_cluster:
        for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
            shutil.copy(REPO / name, root / name)
        shutil.copytree(
            REPO / "cluster", root / "cluster", ignore=shutil.ignore_patterns("__pycache__")
        )
    return Workspace(root)


def write_program(directory: Path, *, project: str, main: str, stacks: dict[str, str]) -> None:
    """Write a small Pulumi program (Pulumi.yaml, stack files, __main__.py)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(
        f"name: {project}\nruntime:\n  name: python\n  options:\n    virtualenv: .venv\n"
    )
    for stack, text in stacks.items():
        (directory / f"Pulumi.{stack}.yaml").write_text(text)
    (directory / "__main__.py").write_text(main)

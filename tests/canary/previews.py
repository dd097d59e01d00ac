"""Scratch copies of the example services, previewed offline against the repo's cluster
previews (their contract files), and what the canary tests read back from ``preview.json``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eksplatform.preview.engine import PreviewResult, Workspace, run_preview, write_result
from eksplatform.preview.workspace import STACK_OUTPUT_FILE

from tests.conftest import REPO

STACKS = ("staging", "prod")


def service_workspace(
    root: Path,
    service: str,
    repo_workspace: Workspace,
    cluster_preview: Callable[[str], PreviewResult],
) -> Workspace:
    """A workspace holding a copy of ``services/<service>``; its StackReferences are answered
    by the cluster previews of the repo (computed once per test session)."""
    (root / "services").mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        REPO / "services" / service,
        root / "services" / service,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    refs = {}
    for stack in STACKS:
        cluster_preview(stack)
        refs[f"organization/eks-platform/{stack}"] = (
            repo_workspace.out_dir("cluster", stack) / STACK_OUTPUT_FILE
        )
    return Workspace(root, root / "build", stack_references=refs)


def preview(ws: Workspace, service: str, stack: str, into: str = "build") -> PreviewResult:
    """Preview and write the result under ``<root>/<into>/`` (so two builds can be diffed)."""
    result = run_preview(ws, f"services/{service}", stack)
    target = Workspace(ws.root, ws.root / into, stack_references=ws.stack_references)
    write_result(target, result)
    return result


def document(ws: Workspace, service: str, stack: str, into: str = "build") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (ws.root / into / "services" / service / stack / "preview.json").read_text()
    )
    return data


def states(doc: dict[str, Any], type_token: str) -> dict[str, dict[str, Any]]:
    """Logical name -> recorded state of every resource of ``type_token``."""
    return {
        step["newState"]["urn"].rsplit("::", 1)[1]: step["newState"]
        for step in doc["steps"]
        if step["newState"]["type"] == type_token
    }


def errors(result: PreviewResult) -> list[str]:
    return [d.message for d in result.diagnostics if d.severity == "error"]

"""``eksplatform preview``: the offline preview of a repo's Pulumi programs.

    eksplatform preview                               every program, every stack
    eksplatform preview --program cluster --stack prod
    eksplatform preview --program services/feed-api

In a service repo (its own Pulumi.yaml at the root), against the cluster's contract files::

    eksplatform preview --stack staging \
        --stack-reference organization/eks-platform/staging=contract-staging.json

``eksplatform-preview`` and ``python -m eksplatform.preview`` are kept as aliases.

Exit status: 0 clean; 1 a program failed; 2 invalid configuration or arguments (nothing
registered); 3 a rendered Kubernetes object is invalid; 4 the guardrail policy pack found a
mandatory violation (see :mod:`eksplatform.preview.policy`).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from ..core.errors import ValidationError
from .engine import (
    EXIT_INVALID_CONFIG,
    PreviewResult,
    Workspace,
    preview_document,
    run_preview,
    write_result,
)
from .project import ProjectError, list_stacks
from .workspace import parse_stack_references

DESCRIPTION = (
    "Offline preview of the repo's Pulumi programs under mocks: what each stack would create, "
    "its Kubernetes manifests (schema-checked), preview.json and stack-output.json. "
    "Exit status: 0 clean, 1 a program failed, 2 invalid configuration or arguments (nothing "
    "registered), 3 a rendered Kubernetes object is invalid."
)


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``eksplatform preview`` (see :mod:`eksplatform.cli`)."""
    p.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="repo root: the platform repo (Pulumi.yaml and services/) or a service repo "
        "(its own Pulumi.yaml) (default: .)",
    )
    p.add_argument(
        "--build-dir",
        type=Path,
        default=None,
        help="where to write previews (default: <root>/build)",
    )
    p.add_argument(
        "--stack-reference",
        action="append",
        default=None,
        metavar="ORG/PROJECT/STACK=FILE",
        help="answer StackReference(ORG/PROJECT/STACK) from FILE, the output of "
        "`pulumi stack output --json --stack ORG/PROJECT/STACK` (the contract file of a "
        "cluster stack; the cluster preview writes it as build/cluster/<stack>/"
        "stack-output.json) (repeatable)",
    )
    p.add_argument(
        "--program",
        action="append",
        default=None,
        help="program id: 'cluster' or 'services/<name>', or a service repo's project name "
        "(repeatable; default: all)",
    )
    p.add_argument(
        "--stack",
        action="append",
        default=None,
        help="stack name (repeatable; default: every Pulumi.<stack>.yaml)",
    )
    p.add_argument("--quiet", action="store_true", help="print only failures")


def summarize(result: PreviewResult, out: TextIO) -> None:
    title = f"{result.program_id} ({result.spec.stack})"
    print(f"== {title} " + "=" * max(0, 72 - len(title)), file=out)
    resources = result.resources
    by_urn = {r.urn: r for r in resources}
    top = [r for r in resources if not r.custom and (r.parent not in by_urn)]
    top_urns = {c.urn for c in top}

    def root_of(urn: str) -> str:
        while by_urn.get(urn) and by_urn[urn].parent in by_urn:
            urn = by_urn[urn].parent
        return urn

    groups: dict[str, Counter[str]] = {c.urn: Counter() for c in top}
    loose: Counter[str] = Counter()
    for r in resources:
        if r.urn in top_urns:
            continue
        root = root_of(r.urn)
        if root in groups:
            groups[root][r.type] += 1
        else:
            loose[r.type] += 1
    if resources:
        print(f"Resources to create: {len(resources)}", file=out)
    for comp in top:
        counts = groups[comp.urn]
        print(f"  {comp.type} '{comp.name}': {sum(counts.values())} resources", file=out)
        for typ, n in sorted(counts.items()):
            print(f"      {n:3d} x {typ}", file=out)
    if loose:
        print("  (top-level resources)", file=out)
        for typ, n in sorted(loose.items()):
            print(f"      {n:3d} x {typ}", file=out)
    doc_outputs = preview_document(result)["outputs"]
    if doc_outputs:
        print("Stack outputs:", file=out)
        for key in sorted(doc_outputs):
            print(f"  {key}: {_brief(doc_outputs[key])}", file=out)
    if result.manifests:
        invalid = {d.urn for d in result.diagnostics if d.severity == "error" and d.urn}
        print(
            f"Kubernetes objects: {len(result.manifests)} rendered, "
            f"{sum(1 for m in result.manifests if m.urn in invalid)} invalid "
            f"(schema of Kubernetes {result.kubernetes_version})",
            file=out,
        )
    shown = [d for d in result.diagnostics if d.severity in ("error", "warning", "info")]
    if shown:
        print("Diagnostics:", file=out)
        for d in shown:
            text = d.message.replace("\n", "\n      ")
            print(f"  {d.severity}: {text}", file=out)
    status = "ok" if result.ok else f"FAILED (exit {result.exit_code})"
    print(f"Result: {status}", file=out)


def _brief(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."


def main(argv: list[str] | None = None) -> int:
    """``eksplatform-preview`` / ``python -m eksplatform.preview``: the same as
    ``eksplatform preview``."""
    p = argparse.ArgumentParser(prog="eksplatform-preview", description=DESCRIPTION)
    configure(p)
    return run(p.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    references, problems = parse_stack_references(args.stack_reference or [])
    if problems:
        print(ValidationError("eksplatform preview", problems).render(), file=sys.stderr)
        return EXIT_INVALID_CONFIG
    workspace = Workspace(args.root, args.build_dir, references)
    programs = args.program or workspace.programs()
    if not programs:
        print(f"eksplatform preview: no Pulumi programs under {args.root}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    worst = 0
    for program_id in programs:
        program_id = program_id.rstrip("/")
        try:
            stacks = args.stack or list_stacks(workspace.program_dir(program_id))
        except ProjectError as exc:
            print(f"eksplatform preview: {exc}", file=sys.stderr)
            return EXIT_INVALID_CONFIG
        for stack in stacks:
            result = run_preview(workspace, program_id, stack)
            path = write_result(workspace, result)
            if not args.quiet or not result.ok:
                summarize(result, sys.stdout)
                try:
                    shown = path.relative_to(Path.cwd())
                except ValueError:
                    shown = path
                print(f"Wrote {shown}/preview.json and {len(result.manifests)} manifests\n")
            worst = max(worst, result.exit_code)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())

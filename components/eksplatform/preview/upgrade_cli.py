"""``eksplatform upgrade-plan``: plan a Kubernetes upgrade of a cluster stack, one minor at a time.

    eksplatform upgrade-plan --stack prod --to 1.35 [--format text|markdown] [--write]
                             [--root DIR] [--build-dir DIR] [--manifests DIR]...
                             [--contract FILE]... [--today YYYY-MM-DD]

Reads the stack config and the manifests ``eksplatform preview`` rendered for the cluster and
every ``services/<name>`` program of the repo (``build/<program>/<stack>/manifests``), plus any
``--manifests`` directory (a service repo's build) and ``--contract`` file (a cluster's
``stack-output.json``: its ``kubernetesVersion`` must be the stack's). The plan itself is
:mod:`.upgrade_plan`.

``--write`` edits ``Pulumi.<stack>.yaml`` for the first step only (the version and every pin that
must change), keeping its comments and layout (ruamel.yaml round trip), so that ``make preview``
shows the step and ``eksplatform diff`` reviews it. Refused while that step has a blocker.

Exit status: 0 the plan has no blocker (or ``--write`` wrote the step); 2 bad input (unknown
stack, a target EKS does not offer, a downgrade, a missing preview: nothing written); 3 the plan
has a blocker (a rendered object uses an API removed at some step, or a release no table pins).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .upgrade_plan import (
    Plan,
    PlanInputError,
    RenderedObject,
    make_plan,
    read_manifests,
    read_stack,
    render,
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_BLOCKED = 3


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "exit status: 0 no blocker (or the step was written); 2 bad input, nothing written; "
        "3 the plan has a blocker (removed API in a rendered object, or no pinned release)"
    )
    parser.add_argument("--stack", required=True, help="cluster stack, e.g. prod")
    parser.add_argument("--to", required=True, metavar="1.MINOR", help="target Kubernetes minor")
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root (default .)")
    parser.add_argument(
        "--build-dir", type=Path, default=None, help="preview output (default ROOT/build)"
    )
    parser.add_argument(
        "--manifests",
        type=Path,
        action="append",
        default=[],
        help="more rendered manifests to check (a service repo's build/<program>/<stack>)",
    )
    parser.add_argument(
        "--contract",
        type=Path,
        action="append",
        default=[],
        help="a cluster stack-output.json whose kubernetesVersion must match the stack",
    )
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--today", default=None, help="date of the support check (YYYY-MM-DD)")
    parser.add_argument(
        "--write",
        action="store_true",
        help="edit Pulumi.<stack>.yaml for the first step (version and pins), keeping comments",
    )


def _minor(text: str) -> int:
    parts = text.split(".")
    if len(parts) != 2 or parts[0] != "1" or not parts[1].isdigit() or len(parts[1]) > 3:
        raise PlanInputError(f"--to: got {text!r}: write the target as 1.MINOR, like 1.35")
    return int(parts[1])


def _gather(
    root: Path, build: Path, stack: str, extra: list[Path]
) -> tuple[list[RenderedObject], list[str]]:
    services = sorted(
        f"services/{p.name}"
        for p in (root / "services").glob("*")
        if (p / f"Pulumi.{stack}.yaml").is_file()
    )
    programs = ["cluster", *services]
    objects: list[RenderedObject] = []
    sources: list[str] = []
    missing: list[str] = []
    for program in programs:
        directory = build / program / stack / "manifests"
        if not directory.is_dir():
            missing.append(program)
            continue
        objects.extend(read_manifests(directory, f"{program}/{stack}"))
        sources.append(f"{program}/{stack}")
    if missing:
        raise PlanInputError(
            f"no rendered preview of {', '.join(missing)} for stack {stack} under {build}: run "
            f"eksplatform preview --stack {stack} first (the plan checks what the code renders)"
        )
    for directory in extra:
        if not directory.is_dir():
            raise PlanInputError(f"--manifests: got '{directory}': not a directory")
        objects.extend(read_manifests(directory, str(directory)))
        sources.append(str(directory))
    return objects, sources


def _check_contracts(paths: list[Path], version: str) -> None:
    for path in paths:
        try:
            outputs = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PlanInputError(
                f"--contract: got '{path}': not a readable JSON file ({exc})"
            ) from None
        found = outputs.get("kubernetesVersion") if isinstance(outputs, dict) else None
        if found != version:
            raise PlanInputError(
                f"--contract: got '{path}': its kubernetesVersion is {found!r} but the stack "
                f"config says {version!r}; preview or deploy the cluster first"
            )


def write_step(stack_file: Path, plan: Plan) -> list[str]:
    """Apply the first step's config changes to the stack file (round trip: comments and layout
    kept). Returns the keys written."""
    step = plan.steps[0]
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(stack_file.read_text(encoding="utf-8"))
    if not isinstance(data, CommentedMap):
        data = CommentedMap()
    config = data.get("config")
    if not isinstance(config, CommentedMap):
        config = CommentedMap()
        data["config"] = config
    written: list[str] = []
    for change in step.config:
        key, _, sub = change.key.partition(".")
        value = (
            DoubleQuotedScalarString(change.new)
            if key == "platform:kubernetesVersion"
            else change.new
        )
        if not sub:
            if key in config:
                config[key] = value
            else:
                # After aws:allowedAccountIds (or first): the version reads near the account.
                position = 2 if len(config) >= 2 else len(config)
                config.insert(position, key, value)
        else:
            section = config.get(key)
            if not isinstance(section, CommentedMap):
                section = CommentedMap()
                config[key] = section
            section[sub] = value
        written.append(f"{change.key}: {change.new}")
    with stack_file.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return written


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    try:
        target = _minor(args.to)
        today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
        stack = read_stack(root, args.stack)
        _check_contracts(args.contract, stack.version)
        objects, sources = _gather(
            root, args.build_dir or root / "build", args.stack, args.manifests
        )
        plan = make_plan(stack, target, objects, today, sources)
    except PlanInputError as exc:
        print(f"eksplatform upgrade-plan: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:  # --today
        print(f"eksplatform upgrade-plan: --today: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sys.stdout.write(render(plan, args.format == "markdown"))
    if args.write:
        if not plan.steps:
            print("nothing to write: the stack already runs the target", file=sys.stderr)
            return EXIT_OK
        if plan.steps[0].blockers:
            print(
                f"not written: step 1.{plan.steps[0].old} -> 1.{plan.steps[0].new} has "
                f"{len(plan.steps[0].blockers)} blocker(s); fix them first",
                file=sys.stderr,
            )
            return EXIT_BLOCKED
        stack_file = root / f"Pulumi.{args.stack}.yaml"
        for line in write_step(stack_file, plan):
            print(f"wrote {stack_file.name}: {line}")
        return EXIT_OK
    return EXIT_BLOCKED if plan.blockers else EXIT_OK

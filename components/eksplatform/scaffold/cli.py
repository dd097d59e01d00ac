"""``eksplatform new-service DIR --name N --team T``: write a ready service repo.

    eksplatform new-service ../feed --name feed --team news \\
        --contract staging=contract-staging.json --contract prod=contract-prod.json

The repo: ``Pulumi.yaml`` (its own virtualenv), ``Pulumi.staging.yaml`` and
``Pulumi.prod.yaml`` (region and account of each cluster, the cluster stack, the image), a
program of one ServiceStack, ``requirements.txt`` (eksplatform pinned to this release) with this
release's ``constraints.txt``, a GitHub Actions preview workflow, a README and ``.gitignore``;
the contract files given are copied to ``contracts/``, so ``eksplatform preview`` works at once.

Exit status: 0 written; 1 writing failed; 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import ValidationError
from . import service_repo as sr


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``eksplatform new-service`` (see :mod:`eksplatform.cli`)."""
    p.description = (
        "Write a ready service repo: Pulumi project with its own virtualenv, staging and prod "
        "stacks, a ServiceStack program, pinned requirements and constraints, a GitHub Actions "
        "preview workflow and a README. Exit status: 0 written, 1 writing failed, 2 bad input "
        "(nothing written)."
    )
    p.add_argument("directory", metavar="DIR", type=Path, help="a new or empty directory")
    p.add_argument("--name", required=True, help="service name (DNS label, the Pulumi project)")
    p.add_argument("--team", required=True, help="owning team: one of the cluster's teams")
    p.add_argument(
        "--contract",
        action="append",
        default=[],
        metavar="STACK=FILE",
        help="the cluster contract of a stack (staging, prod): `pulumi stack output --json` of "
        "the cluster stack; gives region, account and the team's namespace (repeatable)",
    )
    p.add_argument(
        "--cluster-stack",
        action="append",
        default=[],
        metavar="STACK=ORG/PROJECT/STACK",
        help=f"the cluster stack a stack deploys into "
        f"(default: {sr.DEFAULT_CLUSTER_STACK.format(stack='STACK')}) (repeatable)",
    )
    p.add_argument("--region", help="AWS region of both stacks, when no --contract gives it")
    p.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="STACK=ACCOUNT_ID",
        help="AWS account of a stack, when no --contract gives it (repeatable)",
    )
    p.add_argument(
        "--image",
        help="container image of both stacks (default: ACCOUNT.dkr.ecr.REGION.amazonaws.com/"
        f"TEAM/NAME:{sr.INITIAL_TAG} per stack; CI sets the tag it built)",
    )
    p.add_argument(
        "--port", default=str(sr.DEFAULT_PORT), help=f"app port (default: {sr.DEFAULT_PORT})"
    )
    p.add_argument(
        "--platform-repo",
        default=sr.DEFAULT_PLATFORM_REPO,
        metavar="OWNER/NAME",
        help="GitHub repo whose `contracts` release holds the contract files "
        f"(default: {sr.DEFAULT_PLATFORM_REPO})",
    )
    p.add_argument(
        "--library-url",
        metavar="GIT_URL",
        help="install eksplatform from this git URL at the release tag "
        "(default: eksplatform==VERSION from the package index)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        repo = sr.plan(
            args.directory,
            name=args.name,
            team=args.team,
            contracts=args.contract,
            cluster_stacks=args.cluster_stack,
            region=args.region,
            accounts=args.account,
            image=args.image,
            port=args.port,
            platform_repo=args.platform_repo,
            library_url=args.library_url,
        )
    except ValidationError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    files = sr.render(repo)
    try:
        written = sr.write(repo, files)
    except OSError as exc:
        print(f"eksplatform new-service: writing {args.directory} failed: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {len(written)} files to {repo.directory}:")
    for path in written:
        print(f"  {path.relative_to(repo.directory)}")
    contracts = [s for s in repo.stacks if s.contract is not None]
    print("\nNext:")
    print(f"  cd {repo.directory}")
    print("  python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt")
    if len(contracts) < len(repo.stacks):
        print("  fetch contracts/contract-<stack>.json (README, 'Preview offline')")
    refs = " ".join(
        f"--stack-reference {s.cluster_stack}=contracts/contract-{s.stack}.json"
        for s in repo.stacks
    )
    print(f"  .venv/bin/eksplatform preview {refs}")
    return 0

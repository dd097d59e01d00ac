"""``eksplatform``: the one command line of the library (``python -m eksplatform``).

    eksplatform preview [--program P] [--stack S] ...    offline preview under Pulumi mocks
    eksplatform <command> --help                         each command's own options

Each subcommand lives beside the code it drives (``eksplatform.preview.cli`` for ``preview``)
and exposes two functions:

* ``configure(parser: argparse.ArgumentParser) -> None`` adds its options;
* ``run(args: argparse.Namespace) -> int`` does the work and returns the exit status.

:data:`COMMANDS` maps each name to that module, imported only when the command runs, so
``eksplatform --help`` and every command start without importing the Pulumi SDKs they do not
use. A new command is one line here plus its module.

Exit status, shared by every command: 0 success; 1 the work itself failed (a program raised, a
request failed); 2 bad input (arguments, configuration: nothing was changed); commands add
their own codes above 2 and document them in their help.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Protocol

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

COMMANDS: dict[str, tuple[str, str]] = {
    "preview": (
        "eksplatform.preview.cli",
        "offline preview of Pulumi programs under mocks (manifests, schema check, preview.json)",
    ),
    "new-service": ("eksplatform.scaffold.cli", "write a ready service repo (program, stacks, CI)"),
    "policy": ("eksplatform.preview.policy", "run the guardrail policy pack on saved previews"),
    "diff": ("eksplatform.preview.diff", "what changes between two previews (text or Markdown)"),
    "prescale": (
        "eksplatform.cluster.prescale_cli",
        "push pre-scaler: send a pre-scale event (or print its plan with --dry-run)",
    ),
    "capacity-model": (
        "eksplatform.cluster.capacity_cli",
        "capacity timeline of a push spike: reactive vs pre-scaled, recommended lead time",
    ),
    "canary": (
        "eksplatform.canary.cli",
        "canary releases on a service's ALB: analyze, step, promote, roll back",
    ),
}
"""Subcommand -> (module defining ``configure`` and ``run``, one-line help)."""


class _Command(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Command:
    module: _Command = importlib.import_module(COMMANDS[name][0])
    return module


def parser() -> argparse.ArgumentParser:
    """The top-level parser; a subcommand's options are added only when it is named."""
    p = argparse.ArgumentParser(
        prog="eksplatform",
        description="Platform tooling for the eks-platform library: offline previews, "
        "policy checks, plan diffs and service scaffolding.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="<command>", required=True)
    for name, (_, summary) in COMMANDS.items():
        sub.add_parser(name, help=summary, add_help=False)
    return p


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = parser()
    # Parse only the command name first: the command's own parser owns everything after it.
    known, rest = top.parse_known_args(argv[:1])
    name: str = known.command
    command = _load(name)
    sub = argparse.ArgumentParser(prog=f"eksplatform {name}", description=COMMANDS[name][1])
    command.configure(sub)
    args = sub.parse_args(argv[1:] + rest)
    return command.run(args)


if __name__ == "__main__":
    raise SystemExit(main())

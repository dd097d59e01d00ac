"""The ``eksplatform`` command: one entry point, subcommands loaded on demand."""

from __future__ import annotations

import subprocess
import sys

from eksplatform import cli


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eksplatform", *argv], capture_output=True, text=True, timeout=120
    )


def test_every_command_module_has_configure_and_run() -> None:
    for name in cli.COMMANDS:
        module = cli._load(name)
        assert callable(module.configure), name
        assert callable(module.run), name


def test_no_command_is_bad_input() -> None:
    out = _run()
    assert out.returncode == 2
    assert "the following arguments are required: <command>" in out.stderr


def test_unknown_command_is_bad_input() -> None:
    out = _run("prevue")
    assert out.returncode == 2
    assert "invalid choice: 'prevue'" in out.stderr


def test_help_lists_commands_without_importing_them() -> None:
    code = (
        "import sys; from eksplatform import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('SDK', 'pulumi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "preview" in out.stdout
    assert "SDK False" in out.stdout


def test_preview_subcommand_and_alias_share_options() -> None:
    a = _run("preview", "--help")
    b = subprocess.run(
        [sys.executable, "-m", "eksplatform.preview", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert a.returncode == b.returncode == 0
    for option in ("--root", "--build-dir", "--program", "--stack", "--quiet"):
        assert option in a.stdout and option in b.stdout

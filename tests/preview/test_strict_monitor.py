"""The strict monitor bad-input tests run under: the first resource registration fails the run,
as it would have started creating something under ``pulumi up``."""

from __future__ import annotations

from pathlib import Path

from eksplatform.preview.engine import (
    EXIT_INVALID_CONFIG,
    EXIT_PROGRAM_FAILED,
    Workspace,
    run_preview,
)

from tests.conftest import make_workspace, write_program

LATE_CHECK = """
import pulumi
import pulumi_aws as aws
from eksplatform.core.errors import Problems

aws.get_availability_zones(state="available")  # a read: allowed
aws.s3.Bucket("logs")
problems = Problems()
problems.add("replicas", 0, "must be 1 or more")
problems.raise_if_any("late")
"""

EARLY_CHECK = """
import pulumi_aws as aws
from eksplatform.core.errors import Problems

aws.get_availability_zones(state="available")
problems = Problems()
problems.add("replicas", 0, "must be 1 or more")
problems.raise_if_any("early")
aws.s3.Bucket("logs")
"""


def _workspace(tmp_path: Path, main: str) -> Workspace:
    root = tmp_path / "ws"
    ws = make_workspace(root, with_cluster=False)
    write_program(
        root / "services" / "demo",
        project="demo",
        main=main,
        stacks={"dev": "config:\n  aws:region: eu-west-1\n"},
    )
    return ws


def test_a_registration_before_the_validation_error_is_refused_and_reported(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path, LATE_CHECK)
    result = run_preview(ws, "services/demo", "dev", fail_on_register=True)
    assert result.registered_before_error == [
        "urn:pulumi:dev::demo::pulumi:pulumi:Stack$aws:s3/bucket:Bucket::logs"
    ]
    assert result.resources == []
    assert result.exit_code == EXIT_PROGRAM_FAILED  # the refused registration ends the run
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert (
        "strict monitor: 1 registration was refused, first "
        "urn:pulumi:dev::demo::pulumi:pulumi:Stack$aws:s3/bucket:Bucket::logs"
    ) in errors


def test_validation_before_any_registration_passes_the_strict_monitor(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, EARLY_CHECK)
    result = run_preview(ws, "services/demo", "dev", fail_on_register=True)
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "early: 1 problem:\n  - replicas: got 0: must be 1 or more"
    ]


def test_without_strict_mode_the_same_program_registers(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, LATE_CHECK)
    result = run_preview(ws, "services/demo", "dev")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == [
        "urn:pulumi:dev::demo::pulumi:pulumi:Stack$aws:s3/bucket:Bucket::logs"
    ]

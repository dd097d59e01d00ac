"""``eksplatform upgrade-plan``: steps from 1.31 to the default for both example stacks, a removed
API found at the right step, exact refusals, and ``--write`` keeping the stack file's layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from eksplatform.cli import main
from eksplatform.cluster.versions import DEFAULT_KUBERNETES_VERSION, RELEASES

from tests.conftest import make_workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy-flowschema"
TODAY = "2026-12-03"
TARGET = DEFAULT_KUBERNETES_VERSION


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real cluster project at 1.31 plus the legacy fixture program, previewed."""
    root = tmp_path_factory.mktemp("upgrade")
    make_workspace(root)
    project = root / "Pulumi.yaml"
    text = project.read_text()
    assert f'value: "{TARGET}"' in text
    project.write_text(text.replace(f'value: "{TARGET}"', 'value: "1.31"'))
    shutil.copytree(FIXTURE, root / "services" / "legacy-flow")
    assert main(["preview", "--root", str(root), "--quiet"]) == 0
    return root


def plan(ws: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["upgrade-plan", "--root", str(ws), "--today", TODAY, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_staging_plans_one_minor_at_a_time_to_the_default(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = plan(ws, capsys, "--stack", "staging", "--to", TARGET)
    assert code == 0, err
    steps = [line for line in out.splitlines() if line.startswith("Step ")]
    assert steps == [
        "Step 1: 1.31 -> 1.32",
        "Step 2: 1.32 -> 1.33",
        "Step 3: 1.33 -> 1.34",
        "Step 4: 1.34 -> 1.35",
    ]
    for minor in (32, 33, 34, 35):
        proxy = RELEASES["kube-proxy"][minor].version
        ca = RELEASES["cluster-autoscaler"][minor].version
        assert f"kube-proxy: {RELEASES['kube-proxy'][minor - 1].version} -> {proxy}" in out
        assert (
            f"cluster-autoscaler: {RELEASES['cluster-autoscaler'][minor - 1].version} -> {ca}"
            in out
        )
        assert f"/aws/service/eks/optimized-ami/1.{minor}/amazon-linux-2023/" in out
    # Order inside a step: control plane, then add-ons, then node pools, then skew.
    first = out.split("Step 1:")[1].split("Step 2:")[0]
    order = [first.index(h) for h in ("Control plane", "Add-ons", "Node pools", "Skew")]
    assert order == sorted(order)
    assert "pool general: rolling instance refresh" in first
    assert (
        "1.31: EKS release 2024-09-26, standard support to 2025-11-26, extended to 2026-11-26"
        in out
    )
    assert "PAST the end of extended support" in out
    assert "$438.00 a month per cluster instead of $73.00 ($365.00 more" in out
    assert "Result: 0 blocker(s)" in out


def test_prod_plan_blocks_at_the_step_that_removes_the_fixture_api(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = plan(ws, capsys, "--stack", "prod", "--to", TARGET, "--format", "markdown")
    assert code == 3
    assert "## Step 1: 1.31 -> 1.32" in out and "pool memory" in out
    step1 = out.split("## Step 1:")[1].split("## Step 2:")[0]
    assert (
        "BLOCKER: services/legacy-flow/prod FlowSchema legacy-batch: "
        "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is removed in 1.32; 1.32 serves "
        "FlowSchema as flowcontrol.apiserver.k8s.io/v1"
    ) in step1
    later = out.split("## Step 2:")[1]
    assert "legacy-batch" not in later  # reported once, at the step that removes it
    assert "Result: 1 blocker(s)" in out
    # The cluster's own objects are all served through 1.35: no finding names them.
    assert "cluster/prod" not in "".join(
        line for line in out.splitlines() if "BLOCKER" in line or "deprecated:" in line
    )


def test_deprecated_api_is_a_warning_not_a_blocker(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Planning to 1.31 itself is empty; the fixture's API is deprecated at 1.31 (v1 served).
    from eksplatform.preview.upgrade_plan import RenderedObject, _api_findings

    obj = RenderedObject(
        source="x",
        path="p",
        api_version="flowcontrol.apiserver.k8s.io/v1beta3",
        kind="FlowSchema",
        name="f",
        namespace=None,
    )
    (finding,) = _api_findings([obj], 30, 31)
    assert not finding.removed and "deprecated" in finding.detail
    crd = RenderedObject(
        source="x",
        path="p",
        api_version="autoscaling.k8s.io/v1",
        kind="VerticalPodAutoscaler",
        name="v",
        namespace="n",
    )
    assert _api_findings([crd], 31, 32) == []


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "1.37",
            "eksplatform upgrade-plan: --to: got '1.37': EKS does not offer Kubernetes 1.37 (EKS "
            "release calendar, checked 2026-12-03: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36)",
        ),
        (
            "1.30",
            "eksplatform upgrade-plan: --to: got '1.30': EKS support for 1.30 ended on 2026-07-23; "
            "pick a minor still offered on 2026-12-03",
        ),
        (
            "latest",
            "eksplatform upgrade-plan: --to: got 'latest': write the target as 1.MINOR, like 1.35",
        ),
    ],
)
def test_refusals_are_exact(
    ws: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    code, out, err = plan(ws, capsys, "--stack", "staging", "--to", target)
    assert (code, out, err.strip()) == (2, "", message)


def test_unknown_stack_and_missing_preview_are_bad_input(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = plan(ws, capsys, "--stack", "qa", "--to", TARGET)
    assert code == 2 and "--stack: got 'qa': no Pulumi.qa.yaml" in err
    code, _, err = plan(
        ws, capsys, "--stack", "staging", "--to", TARGET, "--build-dir", str(tmp_path)
    )
    assert code == 2 and "no rendered preview of cluster for stack staging" in err


def test_write_edits_one_step_and_keeps_comments(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(ws / name, root / name)
    shutil.copytree(ws / "cluster", root / "cluster")
    shutil.copytree(ws / "build" / "cluster" / "staging", root / "build" / "cluster" / "staging")
    stack = root / "Pulumi.staging.yaml"
    stack.write_text(
        stack.read_text().replace(
            "  platform:autoscaler:\n", "  platform:autoscaler:\n    imageTag: v1.31.3  # pinned\n"
        )
    )
    before = stack.read_text()
    code = main(
        [
            "upgrade-plan",
            "--root",
            str(root),
            "--stack",
            "staging",
            "--to",
            TARGET,
            "--today",
            TODAY,
            "--write",
        ]
    )
    assert code == 0
    after = stack.read_text()
    assert 'platform:kubernetesVersion: "1.32"' in after
    assert "imageTag: v1.32.5  # pinned" in after
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert removed == ["    imageTag: v1.31.3  # pinned"]
    assert added == ['  platform:kubernetesVersion: "1.32"', "    imageTag: v1.32.5  # pinned"]
    assert (
        "wrote Pulumi.staging.yaml: platform:autoscaler.imageTag: v1.32.5"
        in capsys.readouterr().out
    )


def test_an_invalid_stack_is_bad_input_with_the_validation_message(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(ws, root, ignore=shutil.ignore_patterns("build", "services"))
    stack = root / "Pulumi.staging.yaml"
    before = stack.read_text().replace(
        "  platform:controlPlane:\n", "  platform:controlPlane:\n    supportType: FOREVER\n"
    )
    stack.write_text(before)
    code = main(["upgrade-plan", "--root", str(root), "--stack", "staging", "--to", TARGET])
    err = capsys.readouterr().err
    assert code == 2
    assert "Pulumi.staging.yaml: invalid stack configuration: 1 problem:" in err
    assert "platform:controlPlane.supportType: got 'FOREVER'" in err
    assert stack.read_text() == before

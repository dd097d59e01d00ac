"""``eksplatform cost`` on the repo's own stacks: the prod and staging reports (savings ratio,
per-service table, the source's claim from the shipped price table, how prod compares), the
chart, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eksplatform.cost.report import SOURCE_CLAIM
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview, write_result

from tests.conftest import REPO

SERVICES = ("news-feed", "transcode-worker", "user-profiles")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from eksplatform.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def build(cluster_preview: Callable[[str], PreviewResult], repo_workspace: Workspace) -> Path:
    """The repo's previews (cluster and every service, both stacks) in the session's build dir."""
    for stack in ("staging", "prod"):
        cluster_preview(stack)
        for name in SERVICES:
            if not (repo_workspace.out_dir(f"services/{name}", stack) / "preview.json").is_file():
                write_result(repo_workspace, run_preview(repo_workspace, f"services/{name}", stack))
    return repo_workspace.out_dir("cluster", "prod").parents[1]


def _report(capsys: pytest.CaptureFixture[str], build: Path, stack: str) -> dict[str, Any]:
    code, out, err = cli(
        capsys,
        "cost",
        "--stack",
        stack,
        "--root",
        str(REPO),
        "--build-dir",
        str(build),
        "--format",
        "json",
    )
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def test_prod_report(capsys: pytest.CaptureFixture[str], build: Path) -> None:
    r = _report(capsys, build, "prod")
    general, memory = r["pools"]
    sizes = {s["size"]: s for s in general["sizes"]}
    # 3 zones x 2 nodes over a base of 1 with 30% on-demand above it: no spot at the minimum
    assert (sizes["min"]["nodes"], sizes["min"]["spot"], sizes["min"]["savings"]) == (6, 0, 0)
    # 3 x 20 at the maximum: 3 x (1 + ceil(5.7)) = 21 on-demand, 39 spot
    assert (sizes["max"]["onDemand"], sizes["max"]["spot"]) == (21, 39)
    assert 0.3 < sizes["max"]["savings"] < 0.5
    assert {s["size"]: s["nodes"] for s in memory["sizes"]} == {"min": 0, "typical": 0, "max": 30}
    rows = {s["service"]: s for s in r["services"]}
    assert set(rows) == set(SERVICES)
    for row in rows.values():
        assert row["pool"] == "general"
        assert (row["sidecarCpuPerPod"], row["sidecarMemoryPerPod"]) == (100, 128 * 2**20)
        assert row["monthlyAtMin"] > 0 and row["monthlyAtMax"] > 0
    assert (rows["news-feed"]["minReplicas"], rows["news-feed"]["maxReplicas"]) == (6, 120)
    overhead = [o for o in r["overhead"] if o["pool"] == "general" and o["size"] == "typical"]
    assert overhead[0]["headroom"] > 0 and overhead[0]["daemonsAndReserve"] > 0
    assert r["advisories"] == [
        "pool 'general' [aws-spot-share]: effective spot share at the minimum size is 0% per "
        "zone group (0 of 2 nodes: 1 on-demand base, 30% on-demand above it), below 50-90% for "
        "'prod': lower the on-demand base or raise the minimum size (0 of 6 nodes over 3 zones)"
    ]


def test_the_source_claim_from_the_shipped_price_table(
    capsys: pytest.CaptureFixture[str], build: Path
) -> None:
    """60-70% spot cuts "about a third" (the source): the shipped table gives a cut in that
    range at 60% spot for prod's pools; prod as configured runs below that mix at its minimum
    and typical size and above it at its maximum."""
    r = _report(capsys, build, "prod")
    low, high = SOURCE_CLAIM
    for pool in r["pools"]:
        mix = pool["sourceMix"]
        assert low <= mix["60%"] <= high, (pool["name"], mix)
        assert mix["60%"] < mix["65%"] < mix["70%"] < 0.45
    t = r["totals"]
    assert t["min"]["spotShare"] == 0 and t["min"]["savings"] == 0
    assert t["max"]["spotShare"] > 0.6 and t["max"]["savings"] > low


def test_staging_report_and_graviton_comparison(
    capsys: pytest.CaptureFixture[str], build: Path
) -> None:
    r = _report(capsys, build, "staging")
    (general,) = r["pools"]
    assert all(s["spotShare"] == 1 for s in general["sizes"] if s["nodes"])
    assert r["totals"]["min"]["savings"] == pytest.approx(
        1 - general["spotPrice"] / general["onDemandPrice"]
    )
    other = general["otherArchitecture"]
    assert other["architecture"] == "arm64" and other["instanceTypes"] == ["m6g.large"]
    assert all(change < 0 for change in other["change"].values())  # Graviton is cheaper
    assert r["advisories"] == []  # staging's band is 0-100%


def test_text_report_and_chart(
    capsys: pytest.CaptureFixture[str], build: Path, tmp_path: Path
) -> None:
    png = tmp_path / "cost.png"
    code, out, err = cli(
        capsys,
        "cost",
        "--stack",
        "prod",
        "--root",
        str(REPO),
        "--build-dir",
        str(build),
        "--png",
        str(png),
    )
    assert code == 0, err
    assert "Totals for prod:" in out and "news/news-feed" in out and "Advisories:" in out
    assert "Source's claim (about a third off, 28-38%) on general: 60% spot:" in out
    from PIL import Image

    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1300, 540)


def test_missing_previews_are_run_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(
        capsys,
        "cost",
        "--stack",
        "staging",
        "--root",
        str(REPO),
        "--build-dir",
        str(tmp_path),
        "--format",
        "json",
    )
    assert code == 0, err
    assert (tmp_path / "services" / "news-feed" / "staging" / "preview.json").is_file()
    assert len(json.loads(out)["services"]) == len(SERVICES)


def test_bad_options_are_all_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(
        capsys,
        "cost",
        "--stack",
        "prod",
        "--typical",
        "general:4",
        "--spot-days",
        "91",
        "--save-prices",
        str(tmp_path / "p.json"),
    )
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "eksplatform cost: bad options:",
        "  --typical: got 'general:4': write POOL=N (N nodes per zone)",
        "  --spot-days: got 91: must be 1 to 90 (AWS keeps 90 days)",
        "  --save-prices: only with --live (it writes the measured prices)",
    ]
    assert not (tmp_path / "p.json").exists()


def test_bad_stack_config_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(
        REPO / "cluster", root / "cluster", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "Pulumi.prod.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  platform:nodePools:\n"
        "    - {name: general, instanceTypes: [m6i.large, m6g.large]}\n"
    )
    code, out, err = cli(capsys, "cost", "--stack", "prod", "--root", str(root))
    assert code == 2 and out == ""
    assert "platform:nodePools[0].instanceTypes: got ['m6i.large', 'm6g.large']: mixes amd64" in err
    assert not (root / "build").exists()
    code, _, err = cli(capsys, "cost", "--stack", "qa", "--root", str(root))
    assert code == 2 and "Pulumi.qa.yaml: no such stack file" in err


def test_a_price_file_laid_over_and_a_bad_discount(
    capsys: pytest.CaptureFixture[str], build: Path, tmp_path: Path
) -> None:
    prices = tmp_path / "p.json"
    prices.write_text('{"regions": {"eu-west-1": {"spotDiscount": {"m6i": 0.99}}}}')
    code, out, err = cli(
        capsys,
        "cost",
        "--stack",
        "staging",
        "--root",
        str(REPO),
        "--build-dir",
        str(build),
        "--prices",
        str(prices),
        "--format",
        "json",
    )
    assert code == 0, err  # a discount below 1 is a price; the file is laid over the table
    # m6i at 99% off, the other types at the shipped eu-west-1 discounts (m6a 57%, m5 62%,
    # m5a 60%); on-demand at m6i.large's $0.107
    spot = (0.107 * 0.01 + 0.0963 * 0.43 + 0.107 * 0.38 + 0.096 * 0.40) / 4
    assert json.loads(out)["pools"][0]["sizes"][0]["savings"] == pytest.approx(1 - spot / 0.107)
    prices.write_text('{"regions": {"eu-west-1": {"spotDiscount": {"m6i": 1}}}}')
    code, out, err = cli(
        capsys,
        "cost",
        "--stack",
        "staging",
        "--root",
        str(REPO),
        "--build-dir",
        str(build),
        "--prices",
        str(prices),
    )
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "eksplatform cost: p.json: 1 problem:",
        "  - regions.eu-west-1.spotDiscount.m6i: got 1: a spot discount is a fraction below "
        "on-demand: 0 to under 1 (0.6 = 60% off)",
    ]


def test_a_region_without_prices_exits_2_before_any_preview(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(
        REPO / "cluster", root / "cluster", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "Pulumi.dev.yaml").write_text("config:\n  aws:region: ap-south-1\n")
    code, out, err = cli(capsys, "cost", "--stack", "dev", "--root", str(root))
    assert code == 2 and out == ""
    assert err == (
        "eksplatform cost: no price for m5.xlarge, m5a.xlarge, m6a.xlarge, m6i.xlarge in "
        "ap-south-1: add them to a --prices file (regions.<region>.onDemand and spotDiscount) "
        "or use --live\n"
    )
    assert not (root / "build").exists()

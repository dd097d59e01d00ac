"""The capacity timeline model: with the source's numbers it reproduces the reactive lag (3 to 3.5
minutes) and finds the least lead time at which pre-scaling plus headroom leaves no request over
capacity; it responds to its inputs in the right direction; the command prints, writes JSON and
the chart, and refuses impossible inputs."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from eksplatform.cli import main
from eksplatform.cluster.capacity import (
    PRESCALED,
    PRESCALED_HEADROOM,
    REACTIVE,
    CapacityParams,
    initial_pods,
    recommend_lead,
    run_all,
    simulate,
)

from tests.conftest import REPO

DEFAULTS = CapacityParams()


def test_reactive_lag_matches_the_source() -> None:
    reactive = simulate(DEFAULTS, REACTIVE)
    assert reactive.ready_at is not None
    assert 180 <= reactive.ready_at <= 210, reactive.ready_at  # "about 3 to 3.5 minutes"
    assert reactive.requests_over_capacity > 0
    # the HPA ends where the spike needs it: ceil(20000 / (50 x 0.7)) pods
    assert reactive.peak_pods == 572


def test_at_the_recommended_lead_prescaling_with_headroom_drops_nothing() -> None:
    lead = recommend_lead(DEFAULTS)
    assert lead is not None
    step = DEFAULTS.lead_step_seconds
    for extra in range(0, 121, step):  # at the recommendation and every longer lead
        at = replace(DEFAULTS, lead_seconds=lead + extra)
        assert simulate(at, PRESCALED_HEADROOM).requests_over_capacity == 0, lead + extra
    shorter = replace(DEFAULTS, lead_seconds=lead - step)
    assert simulate(shorter, PRESCALED_HEADROOM).requests_over_capacity > 0  # it is the least
    outcomes = run_all(replace(DEFAULTS, lead_seconds=lead))
    assert outcomes[PRESCALED_HEADROOM].ready_at == 0
    # the reactive path loses requests whatever the lead; raising the headroom too saves an
    # HPA sync period (nodes are requested before the HPA acts on the new floor)
    assert outcomes[REACTIVE].requests_over_capacity > 0
    assert outcomes[PRESCALED].requests_over_capacity > 0
    assert recommend_lead(replace(DEFAULTS, headroom_ratio=0)) == lead + 10


def test_the_lead_covers_the_path_a_pod_takes() -> None:
    lead = recommend_lead(DEFAULTS)
    assert lead is not None
    p = DEFAULTS
    path = p.lambda_seconds + p.node_provision_seconds + p.image_pull_seconds + p.pod_ready_seconds
    assert path <= lead <= path + p.hpa_sync_seconds + p.ca_scan_seconds


@pytest.mark.parametrize(
    ("change", "direction"),
    [
        ({"node_provision_seconds": 150}, +1),
        ({"image_pull_seconds": 60}, +1),
        ({"node_provision_seconds": 60}, -1),
    ],
)
def test_slower_nodes_need_more_lead_and_lag_more(change: dict[str, int], direction: int) -> None:
    base_lead = recommend_lead(DEFAULTS)
    base_lag = simulate(DEFAULTS, REACTIVE).ready_at
    other = replace(DEFAULTS, **change)
    lead, lag = recommend_lead(other), simulate(other, REACTIVE).ready_at
    assert lead is not None and base_lead is not None and lag is not None and base_lag is not None
    assert (lead - base_lead) * direction > 0
    assert (lag - base_lag) * direction > 0


def test_a_spike_the_floor_cannot_carry_has_no_recommendation() -> None:
    assert recommend_lead(replace(DEFAULTS, spike=40)) is None
    assert recommend_lead(replace(DEFAULTS, spike=40, prescale_factor=40)) is not None


def test_more_standing_headroom_means_fewer_requests_lost_reactively() -> None:
    few = simulate(DEFAULTS, REACTIVE).requests_over_capacity
    many = simulate(replace(DEFAULTS, headroom_slots=200), REACTIVE).requests_over_capacity
    assert many < few


def test_initial_pods_are_sized_at_the_target() -> None:
    assert initial_pods(DEFAULTS) == 29  # ceil(1000 / (50 x 0.7))


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity-model"]) == 0
    out = capsys.readouterr().out
    lead = recommend_lead(DEFAULTS)
    assert f"recommended lead time: {lead} s" in out
    lines = out.splitlines()
    rows = {line.split()[0]: line for line in lines if line.startswith("  ") and "send" in line}
    reactive = simulate(replace(DEFAULTS, lead_seconds=lead or 0), REACTIVE)
    assert f"{reactive.ready_at} s after the send" in rows["reactive"]
    assert re.search(r"at the send\s+0\s+580", rows["prescaled+headroom"])


def test_json_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity-model", "--json", "--spike", "10", "--pods-per-node", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["params"]["spike"] == 10.0 and result["params"]["pods_per_node"] == 20
    assert [s["scenario"] for s in result["scenarios"]] == [REACTIVE, PRESCALED, PRESCALED_HEADROOM]
    assert result["recommendedLeadSeconds"] == recommend_lead(
        replace(DEFAULTS, spike=10, pods_per_node=20)
    )


def test_impossible_inputs_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["capacity-model", "--target-utilization", "1.5", "--hpa-sync-seconds", "0"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "eksplatform capacity-model: --target-utilization: got 1.5: must be above 0, at most 1",
        "eksplatform capacity-model: --hpa-sync-seconds: got 0: must be 1 or more",
    ]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_written_and_the_committed_one_is_shown(tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    assert main(["capacity-model", "--png", str(out)]) == 0
    assert _png_size(out) == (1000, 520)
    committed = REPO / "docs" / "prescale-timeline.png"
    assert _png_size(committed) == (1000, 520)
    assert "docs/prescale-timeline.png" in (REPO / "README.md").read_text()
    assert "capacity-model --png docs/prescale-timeline.png" in (REPO / "Makefile").read_text()

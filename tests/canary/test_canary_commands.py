"""``eksplatform canary start|step|promote|rollback`` end to end on a copy of news-feed: each
command's edit of the stack file (comments kept, nothing else touched), then the offline preview
of the edited stack and ``eksplatform diff`` between the previews before and after it. AWS is
botocore's Stubber with recorded answers; the clock moves only when a command waits."""

from __future__ import annotations

import difflib
import stat
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from eksplatform import cli
from eksplatform.canary import cli as canary_cli
from eksplatform.preview.diff import StackDiff, diff_paths
from eksplatform.preview.engine import PreviewResult, Workspace

from tests.canary.previews import errors, preview, service_workspace
from tests.canary.stubs import (
    CANARY_ARN,
    CANARY_DIM,
    STABLE_ARN,
    STABLE_DIM,
    FakeClock,
    StubbedAws,
    stubbed_aws,
)

SERVICE = "news-feed"
STACK = "staging"
STABLE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/news/news-feed:1.42.0-rc.3"
CANARY = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/news/news-feed:1.43.0"
POLICY = """  # how eksplatform canary moves releases of this stack
  news-feed:canaryPolicy:
    schedule: [5, 50, 100]   # short: staging
    analysis: {windowMinutes: 5, minRequests: 100}
    rampDownWaitSeconds: 60
"""


@pytest.fixture(scope="module")
def ws(
    tmp_path_factory: pytest.TempPathFactory,
    repo_workspace: Workspace,
    cluster_preview: Callable[[str], PreviewResult],
) -> Workspace:
    workspace = service_workspace(
        tmp_path_factory.mktemp("commands"), SERVICE, repo_workspace, cluster_preview
    )
    stack_file = workspace.root / "services" / SERVICE / f"Pulumi.{STACK}.yaml"
    stack_file.write_text(stack_file.read_text() + POLICY)
    return workspace


@pytest.fixture(scope="module")
def timeline() -> FakeClock:
    """One clock for the promotion path's tests, which run in order on one stack file."""
    return FakeClock()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fresh clock (at NOW) for a test of its own."""
    fake = FakeClock()
    monkeypatch.setattr(canary_cli, "CLOCK", fake)
    return fake


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch, timeline: FakeClock) -> FakeClock:
    monkeypatch.setattr(canary_cli, "CLOCK", timeline)
    return timeline


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedAws]:
    with stubbed_aws() as stubbed:
        monkeypatch.setattr(canary_cli, "make_clients", lambda region: stubbed.clients)
        yield stubbed
        stubbed.assert_all_used()


def _file(ws: Workspace) -> Path:
    return ws.root / "services" / SERVICE / f"Pulumi.{STACK}.yaml"


def _canary(ws: Workspace, action: str, *extra: str) -> int:
    return cli.main(
        ["canary", action, "--dir", str(ws.root / "services" / SERVICE), "--stack", STACK, *extra]
    )


def _edit(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines) between two versions of the stack file."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def _preview(ws: Workspace, into: str) -> None:
    result = preview(ws, SERVICE, STACK, into=into)
    assert result.exit_code == 0, errors(result)


def _diff(ws: Workspace, base: str, head: str) -> StackDiff:
    [d] = diff_paths(
        ws.root / base / "services" / SERVICE / STACK / "preview.json",
        ws.root / head / "services" / SERVICE / STACK / "preview.json",
    )
    return d


def _changes(d: StackDiff) -> dict[str, Any]:
    """op and changed paths per resource (attachments, named per ASG, aside)."""
    return {
        r.name: (r.op, {c.path: (c.old, c.new) for c in r.changes})
        for r in d.resources
        if "-tg-eks-" not in r.name
    }


def _weights(stable: int, canary: int) -> dict[str, Any]:
    return {
        "actions[0].forward.targetGroups[0].weight": (100 - stable, 100 - canary),
        "actions[0].forward.targetGroups[1].weight": (stable, canary),
    }


def _passing(aws: StubbedAws, *, canary_requests: float = 1_000) -> None:
    aws.metrics(STABLE_DIM, requests=10_000, target_5xx=5, p99=0.3, window_s=300)
    aws.metrics(CANARY_DIM, requests=canary_requests, p99=0.3, window_s=300)


# --- the promotion path: start, step, step, promote to the end --------------------------------------


def test_1_start_writes_a_warm_canary_and_adds_only_its_resources(
    ws: Workspace, shared: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    _preview(ws, "build-0")
    before = _file(ws).read_text()
    assert _canary(ws, "start", "--image", CANARY, "--header", "x-canary=always") == 0
    after = _file(ws).read_text()
    assert after == before + (
        "  news-feed:canary:\n"
        f"    image: {CANARY}\n"
        "    weight: 0\n"
        "    header: {name: x-canary, value: always}\n"
        "    changedAt: '2026-12-01T10:00:30Z'\n"
    )
    out = capsys.readouterr().out
    assert f"next: cd {ws.root / 'services' / SERVICE} && pulumi up --yes --stack staging" in out
    _preview(ws, "build-1")
    changes = _changes(_diff(ws, "build-0", "build-1"))
    assert {op for op, _ in changes.values()} == {"create"}
    assert "news-feed-canary-weighted" in changes and "news-feed-canary-header" in changes


def test_2_step_from_0_needs_a_healthy_canary_then_moves_to_5(
    ws: Workspace, shared: FakeClock, aws: StubbedAws
) -> None:
    before = _file(ws).read_text()
    aws.target_groups()
    _passing(aws, canary_requests=0)  # weight 0: no traffic yet, inconclusive is fine
    aws.health(CANARY_ARN, ["healthy", "healthy", "unhealthy"])
    shared.current += timedelta(minutes=2)
    assert _canary(ws, "step") == 0
    assert _edit(before, _file(ws).read_text()) == (
        ["    weight: 0", "    changedAt: '2026-12-01T10:00:30Z'"],
        ["    weight: 5", "    changedAt: '2026-12-01T10:02:30Z'"],
    )
    _preview(ws, "build-2")
    assert _changes(_diff(ws, "build-1", "build-2")) == {
        "news-feed-canary-weighted": ("update", _weights(0, 5)),
    }


def test_3_step_again_within_the_window_is_not_yet(
    ws: Workspace, shared: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _file(ws).read_text()
    shared.current += timedelta(minutes=4)
    assert _canary(ws, "step") == 4
    assert _file(ws).read_text() == before
    assert capsys.readouterr().err == (
        "eksplatform canary step: not yet: the weight changed at 2026-12-01T10:02:30Z: the "
        "analysis window (5 min) must hold the current weight only; run step again after "
        "2026-12-01T10:07:30Z\n"
    )


def test_4_a_failing_analysis_refuses_the_step(
    ws: Workspace, shared: FakeClock, aws: StubbedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _file(ws).read_text()
    shared.current += timedelta(minutes=2)
    aws.target_groups()
    aws.metrics(STABLE_DIM, requests=10_000, target_5xx=5, p99=0.3, window_s=300)
    aws.metrics(CANARY_DIM, requests=500, target_5xx=25, p99=0.3, window_s=300)
    assert _canary(ws, "step") == 3
    assert _file(ws).read_text() == before
    assert capsys.readouterr().err.endswith(
        "the analysis failed: roll back ('eksplatform canary rollback')\n"
    )


def test_5_an_unhealthy_canary_gets_no_more_traffic(
    ws: Workspace, shared: FakeClock, aws: StubbedAws
) -> None:
    before = _file(ws).read_text()
    aws.target_groups()
    _passing(aws)
    aws.health(CANARY_ARN, ["unhealthy", "draining"])
    assert _canary(ws, "step") == 5
    assert _file(ws).read_text() == before


def test_6_steps_to_50_and_100_then_the_schedule_ends(
    ws: Workspace, shared: FakeClock, aws: StubbedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    for weight in (50, 100):
        shared.current += timedelta(minutes=5)
        aws.target_groups()
        _passing(aws)
        aws.health(CANARY_ARN, ["healthy"])
        aws.clients.target_groups = None  # a new command looks them up again
        assert _canary(ws, "step") == 0
        assert f"    weight: {weight}\n" in _file(ws).read_text()
        if weight == 50:
            _preview(ws, "build-3")
            assert _changes(_diff(ws, "build-2", "build-3")) == {
                "news-feed-canary-weighted": ("update", _weights(5, 50)),
                # staging's stable HPA is 2-6 pods: the canary's follows, 2-3 at 50%.
                "news-feed-canary-hpa": ("update", {"spec.maxReplicas": (2, 3)}),
            }
    _preview(ws, "build-3b")
    capsys.readouterr()
    shared.current += timedelta(minutes=5)
    assert _canary(ws, "step") == 2
    assert capsys.readouterr().err == (
        "eksplatform canary step: Pulumi.staging.yaml: the canary is at weight 100, the end of "
        "the schedule [5, 50, 100]: promote it ('eksplatform canary promote')\n"
    )


def test_7_promote_makes_the_canary_image_the_stable_one(
    ws: Workspace, shared: FakeClock, aws: StubbedAws
) -> None:
    before = _file(ws).read_text()
    aws.target_groups()
    _passing(aws)
    assert _canary(ws, "promote") == 0
    removed, added = _edit(before, _file(ws).read_text())
    assert removed == [f"  news-feed:image: {STABLE}", "    changedAt: '2026-12-01T10:18:30Z'"]
    assert added == [
        f"  news-feed:image: {CANARY}",
        "    changedAt: '2026-12-01T10:23:30Z'",
        "    promoting: true",
        f"    previousImage: {STABLE}",
    ]
    _preview(ws, "build-4")
    d = _diff(ws, "build-3b", "build-4")
    ops = {r.name: r.op for r in d.resources}
    assert set(ops.values()) == {"update"}  # nothing created, deleted or replaced
    deployment = next(r for r in d.resources if r.name == "news-feed-deployment")
    paths = {c.path: (c.old, c.new) for c in deployment.changes}
    assert paths["spec.template.spec.containers[0].image"] == (STABLE, CANARY)
    assert paths["spec.template.metadata.labels.tags.datadoghq.com/version"] == (
        "1.42.0-rc.3",
        "1.43.0",
    )
    assert "news-feed-canary-weighted" not in ops  # the weight moves in the next runs


def test_8_promote_brings_the_weight_down_only_to_a_healthy_stable_group(
    ws: Workspace, shared: FakeClock, aws: StubbedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _file(ws).read_text()
    assert _canary(ws, "promote") == 4  # rampDownWaitSeconds since the image change
    assert "the stable HPA gets rampDownWaitSeconds (60) to scale up" in capsys.readouterr().err
    shared.current += timedelta(seconds=60)
    aws.target_groups()
    aws.health(STABLE_ARN, [])
    assert _canary(ws, "promote") == 5
    assert _file(ws).read_text() == before
    aws.clients.target_groups = None
    aws.target_groups()
    aws.health(STABLE_ARN, ["healthy", "healthy"])
    assert _canary(ws, "promote") == 0
    assert _edit(before, _file(ws).read_text())[1] == [
        "    weight: 50",
        "    changedAt: '2026-12-01T10:24:30Z'",
    ]


def test_9_promote_to_the_end_with_apply_runs_pulumi_and_waits(
    ws: Workspace, shared: FakeClock, aws: StubbedAws, tmp_path: Path
) -> None:
    log = tmp_path / "pulumi.log"
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/bin/sh\necho "$PWD $*" >> {log}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    aws.target_groups()
    aws.health(STABLE_ARN, ["healthy"])  # 50 -> 5
    aws.health(STABLE_ARN, ["healthy"])  # 5 -> 0, draining
    aws.deregistration_delay(CANARY_ARN, 20)
    start = shared.current
    assert _canary(ws, "promote", "--apply", "--pulumi", str(fake)) == 0
    program = ws.root / "services" / SERVICE
    assert log.read_text().splitlines() == [f"{program} up --yes --stack staging"] * 3
    assert shared.slept == [60, 60, 20]  # ramp, ramp, deregistration delay
    assert shared.current - start == timedelta(seconds=140)
    text = _file(ws).read_text()
    assert "news-feed:canary:" not in text
    assert f"  news-feed:image: {CANARY}\n" in text
    assert "# how eksplatform canary moves releases of this stack" in text  # comments kept
    assert "schedule: [5, 50, 100]   # short: staging" in text
    _preview(ws, "build-5")
    d = _diff(ws, "build-4", "build-5")
    assert {r.op for r in d.resources} == {"delete"}
    assert all(r.name.startswith(("news-feed-canary", "news-feed-ctg")) for r in d.resources)
    # The release is done: against the start, only the stable image (and its version) moved.
    final = _diff(ws, "build-0", "build-5")
    assert {r.op for r in final.resources} == {"update"}
    paths = {c.path for r in final.resources for c in r.changes}
    assert "spec.template.spec.containers[0].image" in paths
    assert all("version" in p or p.endswith(".image") for p in paths), paths


# --- the way back: rollback -------------------------------------------------------------------------


def test_rollback_stops_the_traffic_at_once_then_removes_the_canary(
    ws: Workspace, clock: FakeClock, aws: StubbedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # A release at 50% with its header.
    _preview(ws, "build-r0")
    base = _file(ws).read_text()
    _file(ws).write_text(
        base
        + "  news-feed:canary:\n"
        + "    image: 111111111111.dkr.ecr.eu-west-1.amazonaws.com/news/news-feed:1.44.0\n"
        + "    weight: 50   # CI moved it here\n"
        + "    header: {name: x-canary, value: always}\n"
    )
    _preview(ws, "build-r1")
    before = _file(ws).read_text()
    aws.target_groups()
    aws.health(STABLE_ARN, ["unhealthy"])
    assert _canary(ws, "rollback") == 5  # the stable group would get everything: refused
    assert _file(ws).read_text() == before
    assert _canary(ws, "rollback", "--force") == 0
    assert _edit(before, _file(ws).read_text()) == (
        ["    weight: 50   # CI moved it here", "    header: {name: x-canary, value: always}"],
        [
            "    weight: 0    # CI moved it here",
            "    draining: true",
            "    changedAt: '2026-12-01T10:00:30Z'",
        ],
    )
    _preview(ws, "build-r2")
    changes = _changes(_diff(ws, "build-r1", "build-r2"))
    assert changes == {
        "news-feed-canary-weighted": ("update", _weights(50, 0)),
        "news-feed-canary-header": ("delete", {}),
        "news-feed-canary-hpa": ("update", {"spec.maxReplicas": (3, 2)}),
    }
    # The canary target group drains for its deregistration delay before it goes.
    aws.deregistration_delay(CANARY_ARN, 20)
    capsys.readouterr()
    clock.current += timedelta(seconds=10)
    assert _canary(ws, "rollback") == 4
    assert "deregistration delay (20 s)" in capsys.readouterr().err
    clock.current += timedelta(seconds=10)
    aws.deregistration_delay(CANARY_ARN, 20)
    assert _canary(ws, "rollback") == 0
    after = _file(ws).read_text()
    assert "news-feed:canary:" not in after
    assert after.startswith(base)
    _preview(ws, "build-r3")
    assert _diff(ws, "build-r0", "build-r3").empty  # removed cleanly: the stack as before


def test_rollback_during_a_promotion_restores_the_stable_image(
    tmp_path: Path, clock: FakeClock, aws: StubbedAws
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: news-feed\n")
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n"
        f"  news-feed:image: {CANARY}\n"
        f"  news-feed:canary:\n    image: {CANARY}\n    weight: 50\n"
        f"    promoting: true\n    previousImage: {STABLE}\n"
    )
    aws.target_groups()
    aws.health(STABLE_ARN, ["healthy"])
    code = cli.main(["canary", "rollback", "--dir", str(tmp_path), "--stack", STACK])
    assert code == 0
    text = (tmp_path / f"Pulumi.{STACK}.yaml").read_text()
    assert f"  news-feed:image: {STABLE}\n" in text
    assert "promoting" not in text and "previousImage" not in text
    assert "    weight: 0\n    draining: true\n" in text


# --- bad input: nothing changed ------------------------------------------------------------------


def test_commands_refuse_a_bad_stack_file_with_the_servicestack_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: news-feed\n")
    text = (
        "config:\n  aws:region: eu-west-1\n"
        f"  news-feed:image: {STABLE}\n"
        f"  news-feed:canary:\n    image: {STABLE}\n    weight: 120\n"
        "  news-feed:canaryPolicy:\n    schedule: [5, 25]\n"
    )
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(text)
    code = cli.main(["canary", "step", "--dir", str(tmp_path), "--stack", STACK])
    assert code == 2
    assert (tmp_path / f"Pulumi.{STACK}.yaml").read_text() == text
    assert capsys.readouterr().err.splitlines() == [
        "eksplatform canary step: Pulumi.staging.yaml: invalid canary configuration: 3 problems:",
        "  - news-feed:canary.weight: got 120: must be a whole percentage from 0 to 100: the "
        "canary's share of the ALB's requests (0 keeps it running without traffic)",
        "  - news-feed:canaryPolicy.schedule: got [5, 25]: ends at 25, not 100: the last step "
        "sends the canary every request before promotion; list rising weights from 1 to 100 "
        "that end at 100, e.g. [5, 25, 50, 100]",
        f"  - news-feed:canary.image: got {STABLE!r}: is the stable image: a canary compares a "
        "new version with the running one; give the image to release, or remove the canary",
    ]


def test_start_refuses_bad_input_before_writing(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: news-feed\n")
    text = f"config:\n  aws:region: eu-west-1\n  news-feed:image: {STABLE}\n"
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(text)
    code = cli.main(
        [
            "canary",
            "start",
            "--dir",
            str(tmp_path),
            "--stack",
            STACK,
            "--image",
            STABLE,
            "--header",
            "x-canary",
        ]
    )
    assert code == 2
    assert (tmp_path / f"Pulumi.{STACK}.yaml").read_text() == text
    assert capsys.readouterr().err.splitlines() == [
        "eksplatform canary start: eksplatform canary start: refused: 1 problem:",
        "  - news-feed:canary.header.value: missing: is required: add value: <value>",
    ]
    assert cli.main(["canary", "step", "--dir", str(tmp_path), "--stack", STACK]) == 2
    assert (
        "no canary runs (news-feed:canary is not set): nothing to step" in capsys.readouterr().err
    )

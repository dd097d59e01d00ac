"""``eksplatform prescale send``: the dry-run plan from the offline preview's manifests (no
kubeconfig), bad input refused with exit 2 and nothing published, and a real publish through
boto3 to a fake SNS on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eksplatform.cli import main
from eksplatform.preview.engine import Workspace, run_preview, write_result

from tests.conftest import REPO
from tests.prescaler.fakes import FakeSns, serve

TOPIC = "arn:aws:sns:eu-west-1:222222222222:eks-prod-prescale"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The news-feed example and the cluster, previewed offline (manifests written)."""
    out = tmp_path_factory.mktemp("build")
    ws = Workspace(REPO, out)
    for program in ("cluster", "services/news-feed"):
        result = run_preview(ws, program, "prod")
        assert result.ok, [d.message for d in result.diagnostics]
        write_result(ws, result)
    return out


@pytest.fixture
def contract(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"prescaleTopicArn": TOPIC, "region": "eu-west-1"}))
    return path


def _send(*args: str) -> list[str]:
    return ["prescale", "send", *args]


def test_a_send_time_beyond_a_day_is_refused(
    build: Path, contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        _send(
            "--contract",
            str(contract),
            "--push-id",
            "evening-1",
            "--send-time",
            "2099-01-01T18:00:00Z",
            "--duration",
            "30m",
            "--multiplier",
            "0.25",
            "--dry-run",
            "--hpas",
            str(build / "services"),
            "--replicas",
            "news/news-feed=8",
        )
    )
    out = capsys.readouterr()
    assert code == 2  # 2099 is more than 24 h ahead: refused like the Lambda would
    assert "more than 86400 s ahead" in out.err


def test_dry_run_table(build: Path, contract: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        _send(
            "--contract",
            str(contract),
            "--push-id",
            "evening-1",
            "--send-in",
            "10m",
            "--duration",
            "30m",
            "--multiplier",
            "0.25",
            "--service",
            "news-feed",
            "--dry-run",
            "--hpas",
            str(build / "services"),
            "--replicas",
            "news/news-feed=8",
        )
    )
    out = capsys.readouterr().out
    assert code == 0
    event = json.loads(out[: out.index("}\n") + 1])
    assert event["services"] == ["news-feed"] and event["durationSeconds"] == 1800
    table = out[out.index("}\n") + 2 :].splitlines()
    # ceil(8 x 20 x 0.25) = 40; news-feed's pod: 500m + Envoy
    assert table[0].split() == ["HPA", "current", "factor", "floor", "max", "added", "pods", "note"]
    assert table[1].split() == ["news/news-feed", "8", "20", "40", "120", "32", "raised"]
    assert table[2].startswith("pre-scale evening-1: multiplier 0.25, window until ")


def test_dry_run_clamps_like_the_lambda(
    build: Path, contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--contract", str(contract), "--push-id", "p", "--send-in", "5m", "--duration", "1h"]
    args += ["--multiplier", "1", "--dry-run", "--hpas", str(build / "services")]
    assert main(_send(*args, "--replicas", "news/news-feed=30")) == 0
    row = capsys.readouterr().out.splitlines()[-2].split()
    assert row == ["news/news-feed", "30", "20", "120", "120", "90", "clamped"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--multiplier", "1.5"],
            "  - multiplier: 1.5 is greater than the maximum of 1",
        ),
        (["--multiplier", "0.5", "--duration", "30"], "--duration: got '30': write a duration"),
        (
            ["--multiplier", "0.5", "--service", "News/Feed"],
            "  - services: ['News/Feed'] is not valid under any of the given schemas",
        ),
        (
            ["--multiplier", "0.5", "--dry-run"],
            "--dry-run needs --hpas: a preview build directory",
        ),
        (
            ["--multiplier", "0.5", "--dry-run", "--replicas", "feed=3"],
            "--dry-run needs --hpas",
        ),
    ],
)
def test_bad_input_exits_2_and_publishes_nothing(
    contract: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    base = ["--contract", str(contract), "--push-id", "p1", "--send-in", "10m"]
    if "--duration" not in extra:
        base += ["--duration", "30m"]
    assert main(_send(*base, *extra)) == 2
    assert message in capsys.readouterr().err


def test_unknown_service_in_a_dry_run(
    build: Path, contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--contract", str(contract), "--push-id", "p", "--send-in", "5m", "--duration", "1h"]
    args += ["--multiplier", "1", "--service", "news/nope", "--dry-run"]
    assert main(_send(*args, "--hpas", str(build / "services"))) == 2
    assert "news/nope: no HPA labelled eksplatform.io/prescale=true is named" in (
        capsys.readouterr().err
    )


@pytest.fixture
def sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSns, str]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTONLY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    fake = FakeSns()
    with serve(fake) as url:
        yield fake, url


def test_send_publishes_the_event(
    sns: tuple[FakeSns, str], contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = sns
    args = ["--contract", str(contract), "--push-id", "evening-1", "--send-in", "10m"]
    args += ["--duration", "30m", "--target-rps", "40000", "--requested-by", "push-service"]
    assert main(_send(*args, "--endpoint-url", url)) == 0
    (published,) = fake.published
    assert published["TopicArn"] == TOPIC
    message: dict[str, Any] = json.loads(published["Message"])
    assert message["targetRate"] == {"requestsPerSecond": 40000.0}
    assert message["requestedBy"] == "push-service"
    assert message["schemaVersion"] == 1 and message["services"] == "all"
    assert capsys.readouterr().out == (
        f"published pre-scale event evening-1 to {TOPIC}: 00000000-0000-0000-0000-000000000001\n"
    )


def test_send_failure_exits_1(
    sns: tuple[FakeSns, str], contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = sns
    fake.fail_with = 400
    args = ["--contract", str(contract), "--push-id", "p", "--send-in", "10m", "--duration", "30m"]
    assert main(_send(*args, "--multiplier", "0.5", "--endpoint-url", url)) == 1
    assert f"publishing to {TOPIC} failed" in capsys.readouterr().err


def test_a_cluster_without_a_prescaler_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = tmp_path / "c.json"
    contract.write_text(json.dumps({"prescaleTopicArn": "", "region": "eu-west-1"}))
    args = ["--contract", str(contract), "--push-id", "p", "--send-in", "10m", "--duration", "30m"]
    assert main(_send(*args, "--multiplier", "0.5")) == 2
    assert "prescaleTopicArn is empty or missing" in capsys.readouterr().err

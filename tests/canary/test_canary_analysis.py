"""``eksplatform canary analyze`` against recorded CloudWatch answers (botocore's Stubber): the
queries it sends, each verdict with its figures, throttling retried, and the command's exit
status and output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eksplatform import cli
from eksplatform.canary import analysis, aws
from eksplatform.canary import cli as canary_cli
from eksplatform.service import CanaryAnalysis

from tests.canary.stubs import (
    CANARY_ARN,
    CANARY_DIM,
    LB_ARN,
    NOW,
    STABLE_ARN,
    STABLE_DIM,
    FakeClock,
    StubbedAws,
    stubbed_aws,
)

GROUPS = aws.TargetGroups(LB_ARN, STABLE_ARN, CANARY_ARN)
THRESHOLDS = CanaryAnalysis()  # 10 min, 200 requests, 5%, +1 point, 1 s, 1.5x, 1 host


def _verdict(a: StubbedAws, t: CanaryAnalysis = THRESHOLDS) -> analysis.Verdict:
    verdict = analysis.analyze(a.clients, GROUPS, t, NOW)
    a.assert_all_used()
    return verdict


def test_pass_with_the_figures_of_both_target_groups() -> None:
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=20_000, target_5xx=20, p99=0.40)
        a.metrics(CANARY_DIM, requests=1_000, target_5xx=2, connection_errors=1, p99=0.45)
        v = _verdict(a)
    assert v.result == "pass"
    assert v.reasons == []
    assert v.window_start == datetime(2026, 12, 1, 9, 50, tzinfo=UTC)
    assert v.window_end == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert v.canary is not None and v.stable is not None
    assert (v.canary.requests, v.canary.errors, v.canary.error_rate) == (1000, 3, 0.3)
    assert v.stable.error_rate == 0.1
    assert v.canary.healthy_hosts_min == 3


def test_fail_on_the_5xx_rate_relative_to_stable() -> None:
    # 2.5% is under the absolute 5% but 2.4 points above the stable 0.1%.
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=20_000, target_5xx=20, p99=0.40)
        a.metrics(CANARY_DIM, requests=1_000, target_5xx=20, connection_errors=5, p99=0.41)
        v = _verdict(a)
    assert v.result == "fail"
    assert v.reasons == [
        "canary 5xx rate 2.50% is 2.40 points above the stable 0.10% (maxErrorRateIncrease 1)"
    ]


def test_fail_on_the_absolute_5xx_rate() -> None:
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=20_000, target_5xx=1_100, p99=0.40)
        a.metrics(CANARY_DIM, requests=1_000, target_5xx=60, p99=0.40)
        v = _verdict(a)
    assert v.result == "fail"
    assert v.reasons == ["canary 5xx rate 6.00% is above maxErrorRatePercent 5%"]


def test_fail_on_latency_absolute_and_relative() -> None:
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=20_000, p99=0.30)
        a.metrics(CANARY_DIM, requests=1_000, p99=1.20)
        v = _verdict(a)
    assert v.result == "fail"
    assert v.reasons == [
        "canary p99 1.200s is above maxP99LatencySeconds 1s",
        "canary p99 1.200s is 4.00x the stable 0.300s (maxP99LatencyRatio 1.5)",
    ]


def test_latency_ratio_at_its_edge_passes_and_just_above_fails() -> None:
    for canary_p99, result in ((0.45, "pass"), (0.4501, "fail")):
        with stubbed_aws() as a:
            a.metrics(STABLE_DIM, requests=20_000, p99=0.30)
            a.metrics(CANARY_DIM, requests=1_000, p99=canary_p99)
            assert _verdict(a).result == result, canary_p99


def test_inconclusive_on_too_few_requests_even_with_errors() -> None:
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=20_000, p99=0.30)
        a.metrics(CANARY_DIM, requests=199, target_5xx=100, p99=3.0)
        v = _verdict(a)
    assert v.result == "inconclusive"
    assert v.reasons == [
        "the canary served 199 requests in the window, fewer than minRequests 200: wait for "
        "more traffic (or a higher weight)"
    ]


def test_min_requests_edge_gives_a_verdict() -> None:
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=20_000, p99=0.30)
        a.metrics(CANARY_DIM, requests=200, p99=0.30)
        assert _verdict(a).result == "pass"


def test_fail_when_the_canary_had_no_healthy_target() -> None:
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=20_000, p99=0.30)
        a.metrics(CANARY_DIM, requests=5_000, p99=0.30, healthy=[2, 2, 0, 1, 2, 2, 2, 2, 2, 2])
        v = _verdict(a)
    assert v.result == "fail"
    assert v.reasons == [
        "the canary target group had 0 healthy target(s) at its lowest, below minHealthyHosts 1"
    ]


def test_at_weight_100_only_the_absolute_thresholds_judge() -> None:
    with stubbed_aws() as a:
        a.metrics(STABLE_DIM, requests=0, p99=None)
        a.metrics(CANARY_DIM, requests=20_000, target_5xx=100, p99=0.5)
        v = _verdict(a)
    assert v.result == "pass"
    assert v.notes == [
        "the stable target group served 0 requests (< minRequests 200): relative thresholds "
        "not judged"
    ]


def test_throttling_is_retried_with_backoff_then_answered() -> None:
    with stubbed_aws() as a:
        a.throttled(a.cloudwatch, "get_metric_data")
        a.throttled(a.cloudwatch, "get_metric_data", code="ThrottlingException")
        a.metrics(STABLE_DIM, requests=20_000, p99=0.30)
        a.throttled(a.cloudwatch, "get_metric_data")
        a.metrics(CANARY_DIM, requests=1_000, p99=0.30)
        v = _verdict(a)
        backoffs = a.backoffs
    assert v.result == "pass"
    assert len(backoffs) == 3
    # Full jitter under an exponential cap: 0.5 s, then 1 s, then 0.5 s again (a new call).
    assert 0 <= backoffs[0] <= 0.5 and 0 <= backoffs[1] <= 1.0 and 0 <= backoffs[2] <= 0.5


def test_throttling_gives_up_after_its_attempts_and_other_errors_at_once() -> None:
    with stubbed_aws() as a:
        for _ in range(aws.MAX_ATTEMPTS):
            a.throttled(a.cloudwatch, "get_metric_data")
        with pytest.raises(aws.AwsError, match=r"get_metric_data failed after 6 tries: Throttling"):
            analysis.analyze(a.clients, GROUPS, THRESHOLDS, NOW)
        assert len(a.backoffs) == aws.MAX_ATTEMPTS - 1
    with stubbed_aws() as a:
        a.cloudwatch.add_client_error(
            "get_metric_data",
            service_error_code="AccessDenied",
            service_message="no",
            http_status_code=403,
        )
        with pytest.raises(aws.AwsError, match=r"^get_metric_data failed: AccessDenied: no$"):
            analysis.analyze(a.clients, GROUPS, THRESHOLDS, NOW)
        assert a.backoffs == []


def test_pages_of_get_metric_data_are_all_read() -> None:
    with stubbed_aws() as a:
        a.cloudwatch.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [{"Id": "healthy", "Values": [3.0] * 5}],
                "NextToken": "page-2",
            },
        )
        a.cloudwatch.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {"Id": "requests", "Values": [500.0]},
                    {"Id": "healthy", "Values": [1.0] * 5},
                ]
            },
        )
        figures = analysis.fetch(a.clients, "app/x/1", "targetgroup/y/2", *analysis.window(NOW, 10))
        a.assert_all_used()
    assert figures.requests == 500
    assert figures.healthy_hosts_min == 1


# --- the command ----------------------------------------------------------------------------------

STACK = """config:
  aws:region: eu-west-1
  aws:allowedAccountIds: ["111111111111"]
  news-feed:clusterStack: organization/eks-platform/staging
  news-feed:image: 111111111111.dkr.ecr.eu-west-1.amazonaws.com/news/news-feed:1.42.0
  news-feed:canary:
    image: 111111111111.dkr.ecr.eu-west-1.amazonaws.com/news/news-feed:1.43.0
    weight: 25
  news-feed:canaryPolicy:
    analysis: {windowMinutes: 5, minRequests: 100}
"""


def _program(tmp: Path) -> Path:
    (tmp / "Pulumi.yaml").write_text("name: news-feed\nruntime: python\n")
    (tmp / "Pulumi.staging.yaml").write_text(STACK)
    return tmp


@pytest.mark.parametrize(
    ("canary_5xx", "canary_requests", "status", "result"),
    [(0, 1_000, 0, "pass"), (100, 1_000, 3, "fail"), (0, 99, 4, "inconclusive")],
)
def test_analyze_command_exit_status_and_json(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    canary_5xx: int,
    canary_requests: int,
    status: int,
    result: str,
) -> None:
    program = _program(tmp_path)
    with stubbed_aws() as a:
        a.target_groups()
        a.metrics(STABLE_DIM, requests=10_000, target_5xx=10, p99=0.3, window_s=300)
        a.metrics(
            CANARY_DIM, requests=canary_requests, target_5xx=canary_5xx, p99=0.3, window_s=300
        )
        monkeypatch.setattr(canary_cli, "make_clients", lambda region: a.clients)
        monkeypatch.setattr(canary_cli, "CLOCK", FakeClock())
        code = cli.main(
            ["canary", "analyze", "--dir", str(program), "--stack", "staging", "--json"]
        )
        a.assert_all_used()
    out = json.loads(capsys.readouterr().out)
    assert code == status
    assert out["result"] == result
    assert out["canary"]["requests"] == canary_requests
    assert out["windowStart"] == "2026-12-01T09:55:00+00:00"


def test_analyze_command_prints_the_figures_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    program = _program(tmp_path)
    with stubbed_aws() as a:
        a.target_groups()
        a.metrics(STABLE_DIM, requests=10_000, target_5xx=10, p99=0.3, window_s=300)
        a.metrics(CANARY_DIM, requests=1_000, target_5xx=50, p99=0.35, window_s=300)
        monkeypatch.setattr(canary_cli, "make_clients", lambda region: a.clients)
        monkeypatch.setattr(canary_cli, "CLOCK", FakeClock())
        code = cli.main(["canary", "analyze", "--dir", str(program), "--stack", "staging"])
    assert code == 3
    assert capsys.readouterr().out.splitlines() == [
        "canary analysis of news-feed (staging)",
        "window: 2026-12-01T09:55Z to 10:00Z",
        "                                              stable        canary",
        "  requests                                     10000          1000",
        "  5xx (targets + connection errors)               10            50",
        "  5xx rate                                     0.10%         5.00%",
        "  target response time p99                    0.300s        0.350s",
        "  healthy targets (lowest)                         3             3",
        "verdict: fail",
        "  - canary 5xx rate 5.00% is 4.90 points above the stable 0.10% (maxErrorRateIncrease 1)",
    ]


def test_analyze_without_a_target_group_tagged_for_the_service_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    program = _program(tmp_path)
    with stubbed_aws() as a:
        a.tagging.add_response("get_resources", {"ResourceTagMappingList": []})
        monkeypatch.setattr(canary_cli, "make_clients", lambda region: a.clients)
        code = cli.main(["canary", "analyze", "--dir", str(program), "--stack", "staging"])
    assert code == 1
    assert capsys.readouterr().err == (
        "eksplatform canary analyze: no target group tagged service=news-feed "
        "(managed-by=pulumi-eksplatform) in this account and region: is the stack deployed, "
        "with an ALB, and are the credentials the stack's?\n"
    )

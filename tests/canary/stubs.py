"""AWS for the canary tests: real boto3 clients of botocore's Stubber (no network: every call
must have been queued with its expected parameters and AWS's recorded answer), and a clock
that only moves when the command sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
from botocore.stub import ANY, Stubber
from eksplatform.canary import aws

REGION = "eu-west-1"
ACCOUNT = "111111111111"
LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/news-feed-alb-a263097/a263097a1b2c3d4e"
STABLE_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/news-feed-tg-539946d/539946d4fa68df55"
CANARY_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/news-feed-ctg-a7f0c58/a7f0c5882a72eafa"
LB_DIM = "app/news-feed-alb-a263097/a263097a1b2c3d4e"
STABLE_DIM = "targetgroup/news-feed-tg-539946d/539946d4fa68df55"
CANARY_DIM = "targetgroup/news-feed-ctg-a7f0c58/a7f0c5882a72eafa"
NOW = datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC)


@dataclass
class FakeClock:
    """``now()`` starts at ``start`` and advances only by ``sleep``."""

    current: datetime = NOW
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


@dataclass
class StubbedAws:
    clients: aws.Clients
    cloudwatch: Stubber
    elbv2: Stubber
    tagging: Stubber
    backoffs: list[float]

    def assert_all_used(self) -> None:
        for s in (self.cloudwatch, self.elbv2, self.tagging):
            s.assert_no_pending_responses()

    # --- recorded answers -------------------------------------------------------------------

    def target_groups(self, *, canary: bool = True, service: str = "news-feed") -> None:
        """The tag lookup and DescribeTargetGroups of the service's target groups."""
        tags = [
            {"Key": "service", "Value": service},
            {"Key": "managed-by", "Value": "pulumi-eksplatform"},
            {"Key": "kubernetes-namespace", "Value": "news"},
            {"Key": "environment", "Value": "staging"},
        ]
        found = [{"ResourceARN": STABLE_ARN, "Tags": tags}]
        if canary:
            found.append(
                {
                    "ResourceARN": CANARY_ARN,
                    "Tags": [*tags, {"Key": "eksplatform-release", "Value": "canary"}],
                }
            )
        self.tagging.add_response(
            "get_resources",
            {"ResourceTagMappingList": found},
            {
                "TagFilters": [
                    {"Key": "service", "Values": [service]},
                    {"Key": "managed-by", "Values": ["pulumi-eksplatform"]},
                ],
                "ResourceTypeFilters": ["elasticloadbalancing:targetgroup"],
            },
        )
        arns = [STABLE_ARN, CANARY_ARN] if canary else [STABLE_ARN]
        self.elbv2.add_response(
            "describe_target_groups",
            {"TargetGroups": [{"TargetGroupArn": a, "LoadBalancerArns": [LB_ARN]} for a in arns]},
            {"TargetGroupArns": arns},
        )

    def metrics(
        self,
        target_group: str,
        *,
        requests: float,
        target_5xx: float = 0,
        connection_errors: float = 0,
        p99: float | None = 0.2,
        healthy: list[float] | None = None,
        window_s: int = 600,
    ) -> None:
        """One target group's GetMetricData answer (one datapoint per sum, per-minute health)."""
        minutes = window_s // 60
        healthy = [3.0] * minutes if healthy is None else healthy
        results = [
            {"Id": "requests", "Values": [requests] if requests else [], "StatusCode": "Complete"},
            {
                "Id": "target5xx",
                "Values": [target_5xx] if target_5xx else [],
                "StatusCode": "Complete",
            },
            {
                "Id": "connerrors",
                "Values": [connection_errors] if connection_errors else [],
                "StatusCode": "Complete",
            },
            {"Id": "p99", "Values": [p99] if p99 is not None else [], "StatusCode": "Complete"},
            {"Id": "healthy", "Values": healthy, "StatusCode": "Complete"},
        ]
        dims = [
            {"Name": "LoadBalancer", "Value": LB_DIM},
            {"Name": "TargetGroup", "Value": target_group},
        ]
        queries = [
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": name,
                        "Dimensions": dims,
                    },
                    "Period": 60 if qid == "healthy" else window_s,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
            for qid, name, stat in (
                ("requests", "RequestCount", "Sum"),
                ("target5xx", "HTTPCode_Target_5XX_Count", "Sum"),
                ("connerrors", "TargetConnectionErrorCount", "Sum"),
                ("p99", "TargetResponseTime", "p99"),
                ("healthy", "HealthyHostCount", "Minimum"),
            )
        ]
        self.cloudwatch.add_response(
            "get_metric_data",
            {"MetricDataResults": results},
            {
                "MetricDataQueries": queries,
                "StartTime": ANY,
                "EndTime": ANY,
                "ScanBy": "TimestampAscending",
            },
        )

    def throttled(self, stubber: Stubber, operation: str, code: str = "Throttling") -> None:
        stubber.add_client_error(
            operation,
            service_error_code=code,
            service_message="Rate exceeded",
            http_status_code=400,
        )

    def health(self, target_group: str, states: list[str]) -> None:
        self.elbv2.add_response(
            "describe_target_health",
            {
                "TargetHealthDescriptions": [
                    {"Target": {"Id": f"i-{i:017x}", "Port": 31000}, "TargetHealth": {"State": s}}
                    for i, s in enumerate(states)
                ]
            },
            {"TargetGroupArn": target_group},
        )

    def deregistration_delay(self, target_group: str, seconds: int) -> None:
        self.elbv2.add_response(
            "describe_target_group_attributes",
            {
                "Attributes": [
                    {"Key": "stickiness.enabled", "Value": "false"},
                    {"Key": "deregistration_delay.timeout_seconds", "Value": str(seconds)},
                ]
            },
            {"TargetGroupArn": target_group},
        )


@contextmanager
def stubbed_aws() -> Iterator[StubbedAws]:
    """Stubbed clients of eu-west-1 with fake credentials (nothing leaves the process)."""
    session = boto3.Session(
        aws_access_key_id="AKIAEXAMPLEEXAMPLE00",
        aws_secret_access_key="example-secret-not-a-real-one",
        region_name=REGION,
    )
    backoffs: list[float] = []
    clients = aws.Clients(
        cloudwatch=session.client("cloudwatch"),
        elbv2=session.client("elbv2"),
        tagging=session.client("resourcegroupstaggingapi"),
        sleep=backoffs.append,
    )
    cloudwatch, elbv2, tagging = (
        Stubber(c) for c in (clients.cloudwatch, clients.elbv2, clients.tagging)
    )
    stubs = (cloudwatch, elbv2, tagging)
    for s in stubs:
        s.activate()
    try:
        yield StubbedAws(clients, cloudwatch, elbv2, tagging, backoffs=backoffs)
    finally:
        for s in stubs:
            s.deactivate()

"""Fixtures of the pre-scaler handler tests: the fake API server and Scheduler on 127.0.0.1, and
a factory for the handler's dependencies around them (real kube client, real boto3 client)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import boto3
import pytest
from eksplatform.cluster.prescaler_lambda import handler, kube, plan

from tests.prescaler.fakes import FakeCluster, FakeScheduler, serve

NOW = datetime(2026, 12, 1, 17, 50, tzinfo=UTC)
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:eks-test-prescaler"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:eks-test-prescaler-dlq"
SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/eksplatform/eks-test-prescaler-scheduler"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sns(message: Any) -> dict[str, Any]:
    """An SNS notification as Lambda delivers it."""
    text = message if isinstance(message, str) else json.dumps(message)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:eks-test-prescale:1",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:eks-test-prescale",
                    "Message": text,
                    "Timestamp": iso(NOW),
                },
            }
        ]
    }


def push(
    push_id: str = "push-1",
    *,
    send_in: timedelta = timedelta(minutes=10),
    duration: int = 1800,
    multiplier: float = 0.5,
    services: Any = "all",
    now: datetime = NOW,
) -> dict[str, Any]:
    return {
        "schemaVersion": 1,
        "pushId": push_id,
        "sendTime": iso(now + send_in),
        "durationSeconds": duration,
        "multiplier": multiplier,
        "services": services,
    }


@dataclass
class Harness:
    """One fake cluster + Scheduler and the handler's dependencies around them."""

    cluster: FakeCluster
    scheduler: FakeScheduler
    kube_url: str
    scheduler_url: str
    now: datetime = NOW
    lines: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    budget: float = 10.0
    headroom_baseline: int = 6

    def deps(self) -> handler.Deps:
        settings = handler.Settings(
            cluster_name="eks-test",
            endpoint=self.kube_url,
            ca_pem=None,
            region="eu-west-1",
            headroom_namespace="overprovisioning",
            headroom_deployment="headroom",
            headroom=plan.HeadroomSettings(
                baseline=self.headroom_baseline,
                cpu_millis=1000,
                memory_bytes=2 * 2**30,
                ratio=Fraction(1),
                max_replicas=100,
            ),
            schedule_group="eks-test-prescaler",
            scheduler_role_arn=SCHEDULER_ROLE,
            dead_letter_arn=DLQ_ARN,
        )

        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            time.sleep(seconds)

        client = kube.Client(
            self.kube_url,
            lambda: "k8s-aws-v1.dGVzdA",
            kube.Deadline(time.monotonic() + self.budget),
            max_attempts=5,
            backoff_base=0.01,
            backoff_cap=0.05,
            request_timeout=2.0,
            sleep=sleep,
            rand=lambda: 0.5,
        )
        scheduler = handler.scheduler_client(
            boto3.Session(),
            "eu-west-1",
            endpoint_url=self.scheduler_url,
            aws_access_key_id="AKIDTESTONLY",
            aws_secret_access_key="not-a-secret",
        )
        return handler.Deps(
            settings=settings,
            kube=client,
            scheduler=scheduler,
            function_arn=FUNCTION_ARN,
            now=lambda: self.now,
            log=self.lines.append,
        )

    def run(self, event: Any) -> tuple[dict[str, Any] | BaseException, dict[str, Any]]:
        """Invoke the handler; returns (its result or the exception raised, the summary)."""
        before = len(self.lines)
        deps = self.deps()
        try:
            result: dict[str, Any] | BaseException = handler.handle(event, deps)
        except Exception as exc:  # the handler's way to fail an invocation
            result = exc
        assert len(self.lines) == before + 1, "exactly one summary line per invocation"
        summary: dict[str, Any] = json.loads(self.lines[-1])
        self.last_attempts = list(deps.kube.attempts)
        return result, summary

    last_attempts: list[tuple[str, str, int]] = field(default_factory=list)


@pytest.fixture
def harness() -> Iterator[Harness]:
    cluster = FakeCluster()
    scheduler = FakeScheduler()
    cluster.add_deployment("overprovisioning", "headroom", replicas=6)
    with serve(cluster) as kube_url, serve(scheduler) as scheduler_url:
        yield Harness(cluster, scheduler, kube_url, scheduler_url)


Factory = Callable[..., Harness]

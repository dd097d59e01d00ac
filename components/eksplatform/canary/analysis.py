"""``eksplatform canary analyze``: the canary's target group against the stable one, over one
window of the ALB's CloudWatch metrics, judged by the service's thresholds.

Per target group (dimensions ``LoadBalancer`` + ``TargetGroup``), one ``GetMetricData`` call
reads over the window: ``RequestCount``, ``HTTPCode_Target_5XX_Count`` and
``TargetConnectionErrorCount`` (sums: the 5xx count is the targets' 5xx plus the connections the
ALB could not open, which it answers with 502; CloudWatch attributes the ALB's own 5xx to no
target group), ``TargetResponseTime`` p99 (one period as long as the window, so the percentile
is over every request of the window, not an average of per-minute percentiles) and
``HealthyHostCount`` (its minimum over one-minute periods).

The verdict, in this order (:func:`judge`):

1. **fail** when the canary's target group had fewer healthy hosts than ``minHealthyHosts``;
2. **inconclusive** when the canary served fewer than ``minRequests`` requests (a handful of
   requests proves nothing either way: wait, or raise the weight's window);
3. **fail** on any threshold: 5xx rate above ``maxErrorRatePercent`` (absolute) or more than
   ``maxErrorRateIncrease`` points above the stable rate (relative), p99 above
   ``maxP99LatencySeconds`` or above ``maxP99LatencyRatio`` x the stable p99; the relative checks
   need the stable target group to have served ``minRequests`` too (at weight 100 it serves
   nothing: the absolute thresholds decide alone, and the report says so);
4. **pass** otherwise. Every failing threshold is listed, with the figures.

Cost: CloudWatch publishes ALB metrics per minute, a minute or two late; the window ends at
the last whole minute, so right after a weight change the first minutes still mix the old
weight in (``step`` waits a whole window after each change for that reason).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from ..service.args import CanaryAnalysis
from .aws import Clients, TargetGroups, call

Result = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class Figures:
    """One target group's metrics over the window."""

    requests: float
    target_5xx: float
    connection_errors: float
    p99_s: float | None
    """None: no request had a response time (no traffic)."""
    healthy_hosts_min: float | None
    """None: CloudWatch had no HealthyHostCount for the window."""

    @property
    def errors(self) -> float:
        return self.target_5xx + self.connection_errors

    @property
    def error_rate(self) -> float | None:
        """5xx (targets and connection errors) as % of requests; None without requests."""
        return 100 * self.errors / self.requests if self.requests > 0 else None


@dataclass(frozen=True)
class Verdict:
    result: Result
    reasons: list[str] = field(default_factory=list)
    """Why it failed or is inconclusive (every failing threshold)."""
    notes: list[str] = field(default_factory=list)
    """What was not judged and why."""
    stable: Figures | None = None
    canary: Figures | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        def fig(f: Figures | None) -> dict[str, Any] | None:
            if f is None:
                return None
            return {**asdict(f), "errors": f.errors, "errorRatePercent": f.error_rate}

        return {
            "result": self.result,
            "reasons": self.reasons,
            "notes": self.notes,
            "windowStart": self.window_start.isoformat() if self.window_start else None,
            "windowEnd": self.window_end.isoformat() if self.window_end else None,
            "stable": fig(self.stable),
            "canary": fig(self.canary),
        }


_METRICS = (
    ("requests", "RequestCount", "Sum"),
    ("target5xx", "HTTPCode_Target_5XX_Count", "Sum"),
    ("connerrors", "TargetConnectionErrorCount", "Sum"),
    ("p99", "TargetResponseTime", "p99"),
    ("healthy", "HealthyHostCount", "Minimum"),
)


def window(now: datetime, minutes: int) -> tuple[datetime, datetime]:
    """``minutes`` ending at the last whole minute before ``now``."""
    end = now.replace(second=0, microsecond=0)
    return end - timedelta(minutes=minutes), end


def metric_queries(load_balancer: str, target_group: str, window_s: int) -> list[dict[str, Any]]:
    """The GetMetricData queries of one target group (ids as in :data:`_METRICS`)."""
    dims = [
        {"Name": "LoadBalancer", "Value": load_balancer},
        {"Name": "TargetGroup", "Value": target_group},
    ]
    return [
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
        for qid, name, stat in _METRICS
    ]


def fetch(
    clients: Clients, load_balancer: str, target_group: str, start: datetime, end: datetime
) -> Figures:
    """One target group's figures over ``[start, end)`` (all pages of GetMetricData)."""
    window_s = int((end - start).total_seconds())
    values: dict[str, list[float]] = {qid: [] for qid, _, _ in _METRICS}
    params: dict[str, Any] = {
        "MetricDataQueries": metric_queries(load_balancer, target_group, window_s),
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    for _ in range(100):
        page = call(clients, clients.cloudwatch, "get_metric_data", **params)
        for result in page.get("MetricDataResults", []):
            values.setdefault(result["Id"], []).extend(float(v) for v in result.get("Values", []))
        token = page.get("NextToken")
        if not token:
            break
        params["NextToken"] = token
    p99 = values["p99"]
    healthy = values["healthy"]
    return Figures(
        requests=sum(values["requests"]),
        target_5xx=sum(values["target5xx"]),
        connection_errors=sum(values["connerrors"]),
        p99_s=max(p99) if p99 else None,
        healthy_hosts_min=min(healthy) if healthy else None,
    )


def judge(
    stable: Figures, canary: Figures, t: CanaryAnalysis
) -> tuple[Result, list[str], list[str]]:
    """(result, reasons, notes) of the canary against the stable target group (module docs)."""
    notes: list[str] = []
    if canary.healthy_hosts_min is None:
        notes.append("CloudWatch had no HealthyHostCount for the canary: health not judged")
    elif canary.healthy_hosts_min < t.min_healthy_hosts:
        return (
            "fail",
            [
                f"the canary target group had {canary.healthy_hosts_min:g} healthy target(s) at "
                f"its lowest, below minHealthyHosts {t.min_healthy_hosts}"
            ],
            notes,
        )
    if canary.requests < t.min_requests:
        return (
            "inconclusive",
            [
                f"the canary served {canary.requests:g} requests in the window, fewer than "
                f"minRequests {t.min_requests}: wait for more traffic (or a higher weight)"
            ],
            notes,
        )
    reasons: list[str] = []
    rate = canary.error_rate or 0.0
    if rate > t.max_error_rate_percent:
        reasons.append(
            f"canary 5xx rate {rate:.2f}% is above maxErrorRatePercent "
            f"{t.max_error_rate_percent:g}%"
        )
    comparable = stable.requests >= t.min_requests
    if comparable:
        base = stable.error_rate or 0.0
        if rate - base > t.max_error_rate_increase:
            reasons.append(
                f"canary 5xx rate {rate:.2f}% is {rate - base:.2f} points above the stable "
                f"{base:.2f}% (maxErrorRateIncrease {t.max_error_rate_increase:g})"
            )
    else:
        notes.append(
            f"the stable target group served {stable.requests:g} requests (< minRequests "
            f"{t.min_requests}): relative thresholds not judged"
        )
    p99 = canary.p99_s
    if p99 is not None and p99 > t.max_p99_latency_s:
        reasons.append(
            f"canary p99 {p99:.3f}s is above maxP99LatencySeconds {t.max_p99_latency_s:g}s"
        )
    if p99 is not None and comparable and stable.p99_s is not None and stable.p99_s > 0:
        ratio = p99 / stable.p99_s
        if ratio > t.max_p99_latency_ratio and not math.isclose(ratio, t.max_p99_latency_ratio):
            reasons.append(
                f"canary p99 {p99:.3f}s is {ratio:.2f}x the stable {stable.p99_s:.3f}s "
                f"(maxP99LatencyRatio {t.max_p99_latency_ratio:g})"
            )
    return ("fail" if reasons else "pass"), reasons, notes


def analyze(
    clients: Clients, groups: TargetGroups, thresholds: CanaryAnalysis, now: datetime
) -> Verdict:
    """Read both target groups over the window ending now and judge the canary."""
    assert groups.canary_arn is not None
    start, end = window(now, thresholds.window_minutes)
    lb = groups.load_balancer
    stable = fetch(clients, lb, groups.dimension(groups.stable_arn), start, end)
    canary = fetch(clients, lb, groups.dimension(groups.canary_arn), start, end)
    result, reasons, notes = judge(stable, canary, thresholds)
    return Verdict(result, reasons, notes, stable, canary, start, end)


def render(verdict: Verdict, title: str) -> str:
    """The verdict and the figures side by side, for people and CI logs."""

    def cell(f: Figures | None, what: str) -> str:
        if f is None:
            return "-"
        value: float | None = {
            "requests": f.requests,
            "errors": f.errors,
            "rate": f.error_rate,
            "p99": f.p99_s,
            "healthy": f.healthy_hosts_min,
        }[what]
        if value is None:
            return "no data"
        if what == "rate":
            return f"{value:.2f}%"
        if what == "p99":
            return f"{value:.3f}s"
        return f"{value:g}"

    rows = [
        ("requests", "requests"),
        ("5xx (targets + connection errors)", "errors"),
        ("5xx rate", "rate"),
        ("target response time p99", "p99"),
        ("healthy targets (lowest)", "healthy"),
    ]
    lines = [title]
    if verdict.window_start and verdict.window_end:
        lines.append(
            f"window: {verdict.window_start:%Y-%m-%dT%H:%M}Z to {verdict.window_end:%H:%M}Z"
        )
    lines.append(f"  {'':36}{'stable':>14}{'canary':>14}")
    for label, what in rows:
        lines.append(
            f"  {label:36}{cell(verdict.stable, what):>14}{cell(verdict.canary, what):>14}"
        )
    lines.append(f"verdict: {verdict.result}")
    lines += [f"  - {r}" for r in verdict.reasons]
    lines += [f"  (note: {n})" for n in verdict.notes]
    return "\n".join(lines)

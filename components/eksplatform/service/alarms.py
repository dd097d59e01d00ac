"""CloudWatch alarms nobody can forget: ALB 5xx rate, target p99 latency, unhealthy targets,
each notifying (and clearing to) the team's SNS topic from the cluster contract.

The canary's target group gets the same alarms from the same function (``build_alarms(...,
canary=True)``); only its 5xx rate differs (its own targets' errors, not the ALB's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from .args import Alarms

CANARY_ERROR_RATE_EXPRESSION = (
    "IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(connerrors, 0)) / requests, 0)"
)
"""A target group's 5xx rate (%): its targets' 5xx and the connections the ALB could not open
to them (each answered 502), per request routed to it. Shared with ``eksplatform canary
analyze``."""


def alb_sum_query(
    qid: str, metric_name: str, dimensions: pulumi.Input[dict[str, Any]], period_s: int
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    """One ``Sum`` of an ALB metric as a metric-math input (not returned itself)."""
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=qid,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions=dimensions,
            period=period_s,
            stat="Sum",
        ),
    )


def _service_alarm(
    resource_name: str,
    alarms: Alarms,
    *,
    description: str,
    comparison_operator: str,
    threshold: float,
    topic_arn: pulumi.Input[str],
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
    metric_queries: Sequence[aws.cloudwatch.MetricAlarmMetricQueryArgs] | None = None,
    metric_name: str | None = None,
    dimensions: pulumi.Input[dict[str, Any]] | None = None,
    statistic: str | None = None,
    extended_statistic: str | None = None,
) -> aws.cloudwatch.MetricAlarm:
    """One alarm of a service on its alarm window (``alarms``: evaluation periods, datapoints to
    alarm; no data is not a breach), notifying and clearing to ``topic_arn``. It measures
    either ``metric_queries`` (metric math) or the ALB metric ``metric_name`` over
    ``dimensions``, per ``alarms.period_s``."""
    single = metric_name is not None
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        alarm_description=description,
        comparison_operator=comparison_operator,
        threshold=threshold,
        metric_queries=metric_queries,
        namespace="AWS/ApplicationELB" if single else None,
        metric_name=metric_name,
        statistic=statistic,
        extended_statistic=extended_statistic,
        dimensions=dimensions,
        period=alarms.period_s if single else None,
        treat_missing_data="notBreaching",
        evaluation_periods=alarms.evaluation_periods,
        datapoints_to_alarm=alarms.datapoints_to_alarm,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=tags,
        opts=opts,
    )


def _error_rate_alarm(
    resource_name: str,
    alarms: Alarms,
    *,
    description: str,
    errors: Sequence[tuple[str, str]],
    dimensions: pulumi.Input[dict[str, Any]],
    expression: str,
    label: str,
    topic_arn: pulumi.Input[str],
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """Errors as a percentage of requests above ``alarms.error_rate_percent``: ``expression``
    (query ``rate``, shown as ``label``) over the ``Sum`` of each of ``errors`` (query id, ALB
    metric) and of ``RequestCount`` (query ``requests``), all over ``dimensions``."""
    sums = [
        alb_sum_query(qid, metric_name, dimensions, alarms.period_s)
        for qid, metric_name in (*errors, ("requests", "RequestCount"))
    ]
    rate = aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id="rate", label=label, return_data=True, expression=expression
    )
    return _service_alarm(
        resource_name,
        alarms,
        description=description,
        comparison_operator="GreaterThanThreshold",
        threshold=alarms.error_rate_percent,
        metric_queries=[*sums, rate],
        topic_arn=topic_arn,
        tags=tags,
        opts=opts,
    )


def _target_group_alarms(
    name: str,
    alarms: Alarms,
    *,
    subject: str,
    dimensions: pulumi.Input[dict[str, Any]],
    topic_arn: pulumi.Input[str],
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
) -> list[aws.cloudwatch.MetricAlarm]:
    """The p99 response time and unhealthy-host alarms of one target group (``dimensions``);
    ``subject`` opens each description (the service, or its canary)."""
    latency = _service_alarm(
        f"{name}-p99-latency",
        alarms,
        description=f"{subject}: target response time p99 above {alarms.p99_latency_s}s",
        comparison_operator="GreaterThanThreshold",
        threshold=alarms.p99_latency_s,
        metric_name="TargetResponseTime",
        extended_statistic="p99",
        dimensions=dimensions,
        topic_arn=topic_arn,
        tags=tags,
        opts=opts,
    )
    unhealthy = _service_alarm(
        f"{name}-unhealthy-hosts",
        alarms,
        description=f"{subject}: at least {alarms.unhealthy_hosts} unhealthy target(s)",
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=alarms.unhealthy_hosts,
        metric_name="UnHealthyHostCount",
        statistic="Maximum",
        dimensions=dimensions,
        topic_arn=topic_arn,
        tags=tags,
        opts=opts,
    )
    return [latency, unhealthy]


def build_alarms(
    name: str,
    alarms: Alarms,
    *,
    service: str,
    load_balancer: aws.lb.LoadBalancer,
    target_group: aws.lb.TargetGroup,
    topic_arn: pulumi.Input[str],
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
    canary: bool = False,
) -> list[aws.cloudwatch.MetricAlarm]:
    """The alarms of one of the service's target groups: 5xx rate, p99 and unhealthy hosts.

    The stable target group's 5xx rate is the whole load balancer's (the ALB's own 5xx too); a
    canary's (``canary=True``) only its targets' 5xx and the connections the ALB could not open
    to them (:data:`CANARY_ERROR_RATE_EXPRESSION`)."""
    tg_dims = {"LoadBalancer": load_balancer.arn_suffix, "TargetGroup": target_group.arn_suffix}
    if canary:
        error_rate = _error_rate_alarm(
            f"{name}-5xx-rate",
            alarms,
            description=(
                f"{service} canary: target 5xx and connection errors above "
                f"{alarms.error_rate_percent}% of its requests"
            ),
            errors=(
                ("target5xx", "HTTPCode_Target_5XX_Count"),
                ("connerrors", "TargetConnectionErrorCount"),
            ),
            dimensions=tg_dims,
            expression=CANARY_ERROR_RATE_EXPRESSION,
            label="canary 5xx % of requests",
            topic_arn=topic_arn,
            tags=tags,
            opts=opts,
        )
    else:
        error_rate = _error_rate_alarm(
            f"{name}-5xx-rate",
            alarms,
            description=f"{service}: ALB + target 5xx above {alarms.error_rate_percent}% of requests",
            errors=(
                ("elb5xx", "HTTPCode_ELB_5XX_Count"),
                ("target5xx", "HTTPCode_Target_5XX_Count"),
            ),
            dimensions={"LoadBalancer": load_balancer.arn_suffix},
            expression=(
                "IF(requests > 0, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)"
            ),
            label="5xx % of requests",
            topic_arn=topic_arn,
            tags=tags,
            opts=opts,
        )
    return [
        error_rate,
        *_target_group_alarms(
            name,
            alarms,
            subject=f"{service} canary" if canary else service,
            dimensions=tg_dims,
            topic_arn=topic_arn,
            tags=tags,
            opts=opts,
        ),
    ]

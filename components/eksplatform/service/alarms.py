"""CloudWatch alarms nobody can forget: ALB 5xx rate, target p99 latency, unhealthy targets,
each notifying (and clearing to) the team's SNS topic from the cluster contract."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from .args import Alarms


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
) -> list[aws.cloudwatch.MetricAlarm]:
    lb_dim = {"LoadBalancer": load_balancer.arn_suffix}
    tg_dims = {"LoadBalancer": load_balancer.arn_suffix, "TargetGroup": target_group.arn_suffix}

    def metric(qid: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
        return alb_sum_query(qid, metric_name, lb_dim, alarms.period_s)

    error_rate = aws.cloudwatch.MetricAlarm(
        f"{name}-5xx-rate",
        alarm_description=(
            f"{service}: ALB + target 5xx above {alarms.error_rate_percent}% of requests"
        ),
        comparison_operator="GreaterThanThreshold",
        threshold=alarms.error_rate_percent,
        treat_missing_data="notBreaching",
        metric_queries=[
            metric("elb5xx", "HTTPCode_ELB_5XX_Count"),
            metric("target5xx", "HTTPCode_Target_5XX_Count"),
            metric("requests", "RequestCount"),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="rate",
                label="5xx % of requests",
                return_data=True,
                expression=(
                    "IF(requests > 0, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)"
                ),
            ),
        ],
        evaluation_periods=alarms.evaluation_periods,
        datapoints_to_alarm=alarms.datapoints_to_alarm,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=tags,
        opts=opts,
    )
    latency = aws.cloudwatch.MetricAlarm(
        f"{name}-p99-latency",
        alarm_description=f"{service}: target response time p99 above {alarms.p99_latency_s}s",
        comparison_operator="GreaterThanThreshold",
        threshold=alarms.p99_latency_s,
        namespace="AWS/ApplicationELB",
        metric_name="TargetResponseTime",
        extended_statistic="p99",
        dimensions=tg_dims,
        period=alarms.period_s,
        treat_missing_data="notBreaching",
        evaluation_periods=alarms.evaluation_periods,
        datapoints_to_alarm=alarms.datapoints_to_alarm,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=tags,
        opts=opts,
    )
    unhealthy = aws.cloudwatch.MetricAlarm(
        f"{name}-unhealthy-hosts",
        alarm_description=f"{service}: at least {alarms.unhealthy_hosts} unhealthy target(s)",
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=alarms.unhealthy_hosts,
        namespace="AWS/ApplicationELB",
        metric_name="UnHealthyHostCount",
        statistic="Maximum",
        dimensions=tg_dims,
        period=alarms.period_s,
        treat_missing_data="notBreaching",
        evaluation_periods=alarms.evaluation_periods,
        datapoints_to_alarm=alarms.datapoints_to_alarm,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=tags,
        opts=opts,
    )
    return [error_rate, latency, unhealthy]

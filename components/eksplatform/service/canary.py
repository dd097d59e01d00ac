"""A canary release on the service's ALB (``ServiceStackArgs.canary``), a child component of the
ServiceStack: a second Deployment with its own NodePort Service, HPA, PDB and target group, two
listener rules on the ALB's forwarding listener, and alarms on its target group.

The ALB shares the traffic. A rule (priority :data:`WEIGHTED_RULE_PRIORITY`) matching every path
forwards to both target groups, weighted ``100 - weight`` (stable) and ``weight`` (canary); a rule
ahead of it (:data:`HEADER_RULE_PRIORITY`) forwards requests carrying the canary header to the
canary alone. The listener's default action (the stable target group) is never touched, so
adding, moving or removing a canary creates, updates or deletes only the canary's own resources:
no stable logical name, URN or input changes, and nothing stable is replaced. In-cluster callers
(``<name>.<namespace>.svc``) always reach the stable pods: the canary's pods carry the instance
label ``<name>-canary``, which the stable Service and PDB do not select.

The canary's pods are the stable pods but for the image, ``env`` and ``config_files``
overrides, and the labels: ``app.kubernetes.io/instance`` and the Datadog ``version`` (its image
tag) tell the two apart in dashboards. They share the service account (so the IAM role), the
Envoy bootstrap and the Secret. Its HPA follows the weight (:func:`.canary_checks.canary_replicas`);
the push pre-scaler does not raise it (it is not labelled), so a push during a canary at weight
w lands on the canary's HPA reactively.

The listener rules wait for the canary's Deployment to be ready (pulumi-kubernetes awaits the
rollout), so a new canary is never sent traffic before its pods answer; ``eksplatform canary``
also checks the target group's health before raising the weight. Removing the canary deletes
the rules first (they depend on everything else), so the ALB stops sending to the canary before
its target group and pods go: ``eksplatform canary`` sets the weight to 0 and waits the target
group's deregistration delay before it removes the block, so in-flight requests finish.

Alarms: the stable 5xx alarm is on the whole ALB and sees the canary's share too; the canary's
own alarms are on its target group (target 5xx and connection errors per request: CloudWatch
attributes the ALB's own 5xx to no target group), target response time p99 and unhealthy hosts,
with the service's thresholds, notifying the team's topic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from ..core import kube
from ..core.contract import ClusterOutputs
from .alarms import CANARY_ERROR_RATE_EXPRESSION, build_alarms
from .args import ServiceStackArgs
from .canary_checks import RELEASE_TAG, CanaryPlan, merged_env, merged_files
from .contract_checks import ChildInputs
from .ingress import IngressResources, attach_to_node_pools, node_port_rules, target_group
from .validate import CANARY_TARGET_GROUP_SUFFIX, ServicePlan
from .workload import (
    Workload,
    allocated_node_port,
    checksum_annotation,
    deployment_spec,
    hpa_spec,
    pod_annotations,
    pod_template,
    selector_for,
)

TOKEN = "eksplatform:service:Canary"
HEADER_RULE_PRIORITY = 10
"""Listener rule priority of the canary header rule (evaluated first: lowest number)."""
WEIGHTED_RULE_PRIORITY = 20
"""Listener rule priority of the weighted rule (after the header rule)."""
ALL_PATHS = "/*"
"""The weighted rule's path pattern: every request path."""
ERROR_RATE_EXPRESSION = CANARY_ERROR_RATE_EXPRESSION
"""The canary target group's 5xx rate (%) (:data:`.alarms.CANARY_ERROR_RATE_EXPRESSION`)."""


def canary_name(service: str) -> str:
    """The canary's Kubernetes object names (Deployment, Service, HPA, PDB)."""
    return f"{service}-canary"


def canary_labels(labels: Mapping[str, str], service: str, version: str) -> dict[str, str]:
    """The stable labels with the canary's instance and version."""
    return {
        **labels,
        "app.kubernetes.io/instance": canary_name(service),
        "app.kubernetes.io/version": version,
        "tags.datadoghq.com/version": version,
    }


def _derive(value: pulumi.Input[Any], f: Any) -> pulumi.Input[Any]:
    """``f(value)``, plain when ``value`` is plain (a dict), else inside ``apply``."""
    if isinstance(value, dict):
        return f(value)
    return pulumi.Output.from_input(value).apply(f)


class CanaryRelease(pulumi.ComponentResource):
    """The canary's resources; a child of the ServiceStack, built by it (see the module docs)."""

    target_group_arn: pulumi.Output[str]
    """The canary's target group."""
    deployment_name: pulumi.Output[str]
    """The canary's Deployment (``<name>-canary``)."""

    def __init__(
        self,
        name: str,
        *,
        args: ServiceStackArgs,
        plan: ServicePlan,
        canary: CanaryPlan,
        ctx: ChildInputs,
        workload: Workload,
        ingress: IngressResources,
        cluster: ClusterOutputs,
        provider: pulumi.ProviderResource,
        tags: pulumi.Input[dict[str, str]],
        prefix: str,
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        c = canary.canary
        assert args.ingress is not None
        service = plan.name
        obj = canary_name(service)
        namespace = ctx.namespace
        cargs = dataclasses.replace(
            args,
            image=c.image,
            env=merged_env(args, c),
            config_files=merged_files(args, c),
        )
        labels = _derive(ctx.labels, lambda v: canary_labels(v, service, canary.version))
        # Disjoint from the stable selector (same name, other instance): the stable Service and
        # PDB never select a canary pod.
        selector = {**selector_for(plan), "app.kubernetes.io/instance": obj}
        aws_tags = _derive(tags, lambda v: {**v, RELEASE_TAG: "canary"})

        def meta(obj_name: str) -> ObjectMetaArgs:
            return ObjectMetaArgs(name=obj_name, namespace=namespace, labels=labels)

        depends = list(workload.pod_dependencies)
        config_map = f"{service}-config" if args.config_files else None
        if c.config_files:
            config_map = f"{obj}-config"
            depends.append(
                k8s.core.v1.ConfigMap(
                    f"{prefix}-canary-config",
                    metadata=meta(config_map),
                    data=dict(cargs.config_files),
                    opts=k8s_opts,
                )
            )
        template = pod_template(
            cargs,
            plan,
            labels=labels,
            selector=selector,
            annotations=pod_annotations(
                checksum_annotation(cargs, ctx.envoy_data), ctx.pod_annotations
            ),
            config_map=config_map,
            secret_name=workload.secret_name,
        )
        autoscaled = args.autoscaling is not None
        deployment = k8s.apps.v1.Deployment(
            f"{prefix}-canary-deployment",
            metadata=meta(obj),
            spec=deployment_spec(
                cargs, replicas=canary.min_replicas, selector=selector, template=template
            ),
            # With an HPA the replica count is the HPA's (as for the stable Deployment).
            opts=pulumi.ResourceOptions.merge(
                k8s_opts,
                pulumi.ResourceOptions(
                    depends_on=depends,
                    ignore_changes=["spec.replicas"] if autoscaled else None,
                ),
            ),
        )
        svc = k8s.core.v1.Service(
            f"{prefix}-canary-service",
            metadata=meta(obj),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="NodePort",
                selector=selector,
                external_traffic_policy="Cluster",
                ports=_ports(args),
            ),
            opts=k8s_opts,
        )
        kube.disruption_budget(
            f"{prefix}-canary-pdb",
            metadata=meta(obj),
            selector=selector,
            unhealthy_pod_eviction_policy="AlwaysAllow",
            opts=k8s_opts,
        )
        if autoscaled:
            assert canary.max_replicas is not None
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{prefix}-canary-hpa",
                metadata=meta(obj),
                spec=hpa_spec(
                    cargs,
                    deployment=obj,
                    min_replicas=canary.min_replicas,
                    max_replicas=canary.max_replicas,
                ),
                opts=pulumi.ResourceOptions.merge(
                    k8s_opts, pulumi.ResourceOptions(depends_on=[deployment])
                ),
            )
        node_port = svc.spec.apply(allocated_node_port)

        node_port_rules(
            f"{prefix}-canary",
            service=service,
            port_name="canary node port",
            security_group=ingress.security_group,
            cluster=cluster,
            node_port=node_port,
            tags=aws_tags,
            opts=child,
        )
        tg = target_group(
            f"{prefix}{CANARY_TARGET_GROUP_SUFFIX}",
            plan,
            args.ingress,
            cluster=cluster,
            node_port=node_port,
            tags=aws_tags,
            opts=child,
        )
        attach_to_node_pools(f"{prefix}-canary", tg.arn, cluster.node_pool_asg_names, child)
        rules_opts = pulumi.ResourceOptions(parent=self, depends_on=[deployment, svc])
        if c.header is not None:
            aws.lb.ListenerRule(
                f"{prefix}-canary-header",
                listener_arn=ingress.listener.arn,
                priority=HEADER_RULE_PRIORITY,
                conditions=[
                    aws.lb.ListenerRuleConditionArgs(
                        http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                            http_header_name=c.header.name, values=[c.header.value]
                        )
                    )
                ],
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=tg.arn)],
                tags=aws_tags,
                opts=rules_opts,
            )
        aws.lb.ListenerRule(
            f"{prefix}-canary-weighted",
            listener_arn=ingress.listener.arn,
            priority=WEIGHTED_RULE_PRIORITY,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=[ALL_PATHS])
                )
            ],
            actions=[
                aws.lb.ListenerRuleActionArgs(
                    type="forward",
                    forward=aws.lb.ListenerRuleActionForwardArgs(
                        target_groups=[
                            aws.lb.ListenerRuleActionForwardTargetGroupArgs(
                                arn=ingress.target_group.arn, weight=canary.stable_weight
                            ),
                            aws.lb.ListenerRuleActionForwardTargetGroupArgs(
                                arn=tg.arn, weight=canary.weight
                            ),
                        ]
                    ),
                )
            ],
            tags=aws_tags,
            opts=rules_opts,
        )
        build_alarms(
            f"{prefix}-canary",
            args.alarms,
            service=service,
            load_balancer=ingress.load_balancer,
            target_group=tg,
            topic_arn=ctx.alert_topic_arn,
            tags=aws_tags,
            opts=child,
            canary=True,
        )
        self.target_group_arn = tg.arn
        self.deployment_name = deployment.metadata.apply(lambda m: str(m.name))
        self.register_outputs(
            {"targetGroupArn": self.target_group_arn, "deploymentName": self.deployment_name}
        )


def _ports(args: ServiceStackArgs) -> list[k8s.core.v1.ServicePortArgs]:
    """The stable Service's port, its node port always allocated (a pinned ``node_port`` is
    the stable Service's)."""
    return [
        k8s.core.v1.ServicePortArgs(
            name="http", port=args.service_port, target_port="envoy-http", protocol="TCP"
        )
    ]

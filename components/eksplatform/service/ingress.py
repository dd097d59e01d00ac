"""The service's ALB: its own security group, HTTPS listener (HTTP redirected), a target group of
type instance on the Service's node port, attachments to every node pool ASG, and one rule on the
node security group letting this ALB (and nothing else) reach that node port.

The node port is the one the Kubernetes Service really has (allocated by the API server, see
:mod:`.workload`): the target group and both security group rules follow it, so they can never
disagree with the Service.

The ALB health check asks Envoy's health route (``/healthz/envoy``) on the traffic port: 200
only while the app is ready and Envoy is not draining, so a pod going away leaves the target
group's rotation before Envoy closes its listeners; the short deregistration delay (default 20 s)
then covers Envoy's drain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..core.contract import ClusterOutputs
from .args import Ingress
from .validate import ServicePlan


@dataclass(frozen=True)
class IngressResources:
    security_group: aws.ec2.SecurityGroup
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    node_rule: aws.vpc.SecurityGroupIngressRule
    listener: aws.lb.Listener
    """The listener that forwards to the service (HTTPS, or HTTP without a certificate): where
    a canary's listener rules go."""


def _allowed_cidrs(ingress: Ingress, cluster: ClusterOutputs) -> Sequence[pulumi.Input[str]]:
    if ingress.allowed_cidrs is not None:
        return list(ingress.allowed_cidrs)
    return ["0.0.0.0/0"] if ingress.public else [cluster.vpc_cidr]


def attach_to_node_pools(
    name: str,
    target_group_arn: pulumi.Output[str],
    asg_names: pulumi.Output[list[str]],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[list[str]]:
    """One ``aws.autoscaling.Attachment`` per node pool ASG of the contract.

    The ASG list is an Output (it comes from the cluster stack), so its length is only known
    once it resolves: the attachments are created inside ``apply``. That is the one exception to
    "no resources in apply" in this library, taken knowingly: a StackReference's values are known
    during ``pulumi preview`` (the cluster stack already exists), so the attachments still show up
    in every preview; the cost is that a node pool added to the cluster is attached only on the
    service's next ``pulumi up``. Taking the ASG names as plain strings instead would make every
    service repo restate the cluster's pools, which drifts silently.
    """

    def create(names: list[str]) -> list[str]:
        for asg in sorted(set(names)):
            aws.autoscaling.Attachment(
                f"{name}-tg-{asg}",
                autoscaling_group_name=asg,
                lb_target_group_arn=target_group_arn,
                opts=opts,
            )
        return sorted(set(names))

    return asg_names.apply(create)


def node_port_rules(
    prefix: str,
    *,
    service: str,
    port_name: str,
    security_group: aws.ec2.SecurityGroup,
    cluster: ClusterOutputs,
    node_port: pulumi.Output[int],
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
) -> aws.vpc.SecurityGroupIngressRule:
    """The ALB's egress to the nodes on ``node_port`` (``<prefix>-alb-out``) and the node
    security group's ingress from this ALB, and nothing else, on it (``<prefix>-nodeport``);
    ``port_name`` says which port in their descriptions (``node port``)."""
    port_text = node_port.apply(str)
    aws.vpc.SecurityGroupEgressRule(
        f"{prefix}-alb-out",
        security_group_id=security_group.id,
        ip_protocol="tcp",
        from_port=node_port,
        to_port=node_port,
        referenced_security_group_id=cluster.node_security_group_id,
        description=pulumi.Output.concat(f"ALB to the nodes on {port_name} ", port_text),
        tags=tags,
        opts=opts,
    )
    return aws.vpc.SecurityGroupIngressRule(
        f"{prefix}-nodeport",
        security_group_id=cluster.node_security_group_id,
        ip_protocol="tcp",
        from_port=node_port,
        to_port=node_port,
        referenced_security_group_id=security_group.id,
        description=pulumi.Output.concat(
            f"ALB of service {service} to its {port_name} ", port_text
        ),
        tags=tags,
        opts=opts,
    )


def target_group(
    logical_name: str,
    plan: ServicePlan,
    ingress: Ingress,
    *,
    cluster: ClusterOutputs,
    node_port: pulumi.Output[int],
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
) -> aws.lb.TargetGroup:
    """An instance target group on ``node_port``, health-checked on Envoy's health route."""
    return aws.lb.TargetGroup(
        logical_name,
        target_type="instance",
        port=node_port,
        protocol="HTTP",
        protocol_version="HTTP1",
        vpc_id=cluster.vpc_id,
        deregistration_delay=ingress.deregistration_delay_s,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            path=plan.envoy.health_path,
            port="traffic-port",
            protocol="HTTP",
            matcher="200",
            interval=10,
            timeout=5,
            healthy_threshold=2,
            unhealthy_threshold=2,
        ),
        tags=tags,
        opts=opts,
    )


def build_ingress(
    plan: ServicePlan,
    ingress: Ingress,
    *,
    cluster: ClusterOutputs,
    namespace: pulumi.Input[str],
    tags: pulumi.Input[dict[str, str]],
    deletion_protection: pulumi.Input[bool],
    node_port: pulumi.Output[int],
    prefix: str,
    opts: pulumi.ResourceOptions,
) -> IngressResources:
    name = plan.name
    sg = aws.ec2.SecurityGroup(
        f"{prefix}-alb",
        description=f"ALB of service {name}: 80/443 from allowed CIDRs, out to the node port only",
        vpc_id=cluster.vpc_id,
        tags=tags,
        opts=opts,
    )
    ports = (443, 80) if ingress.certificate_arn is not None else (80,)
    for i, cidr in enumerate(_allowed_cidrs(ingress, cluster)):
        for port in ports:
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-alb-in-{port}-{i}",
                security_group_id=sg.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=cidr,
                description=f"Clients to the ALB on {port}",
                tags=tags,
                opts=opts,
            )
    node_rule = node_port_rules(
        prefix,
        service=name,
        port_name="node port",
        security_group=sg,
        cluster=cluster,
        node_port=node_port,
        tags=tags,
        opts=opts,
    )
    lb = aws.lb.LoadBalancer(
        f"{prefix}-alb",
        load_balancer_type="application",
        internal=not ingress.public,
        security_groups=[sg.id],
        subnets=cluster.public_subnet_ids if ingress.public else cluster.private_subnet_ids,
        drop_invalid_header_fields=True,
        desync_mitigation_mode="defensive",
        enable_http2=True,
        idle_timeout=ingress.idle_timeout_s,
        enable_deletion_protection=deletion_protection,
        access_logs=aws.lb.LoadBalancerAccessLogsArgs(
            bucket=cluster.alb_log_bucket,
            prefix=pulumi.Output.concat(namespace, "/", name),
            enabled=True,
        ),
        tags=tags,
        opts=opts,
    )
    tg = target_group(
        f"{prefix}-tg",
        plan,
        ingress,
        cluster=cluster,
        node_port=node_port,
        tags=tags,
        opts=opts,
    )
    forward = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=tg.arn)
    if ingress.certificate_arn is not None:
        forwarding = aws.lb.Listener(
            f"{prefix}-https",
            load_balancer_arn=lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=ingress.ssl_policy,
            certificate_arn=ingress.certificate_arn,
            default_actions=[forward],
            tags=tags,
            opts=opts,
        )
        http_action = aws.lb.ListenerDefaultActionArgs(
            type="redirect",
            redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                protocol="HTTPS", port="443", status_code="HTTP_301"
            ),
        )
    else:
        http_action = forward  # no certificate (allowed outside prod): plain HTTP
    http = aws.lb.Listener(
        f"{prefix}-http",
        load_balancer_arn=lb.arn,
        port=80,
        protocol="HTTP",
        default_actions=[http_action],
        tags=tags,
        opts=opts,
    )
    attach_to_node_pools(prefix, tg.arn, cluster.node_pool_asg_names, opts)
    if ingress.certificate_arn is None:
        forwarding = http
    return IngressResources(sg, lb, tg, node_rule, forwarding)

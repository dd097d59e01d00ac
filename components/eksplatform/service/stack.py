"""ServiceStack: everything a production service needs, from a few typed lines.

Order of work:

1. :func:`~eksplatform.service.validate.plan_service` checks every argument (Envoy's checks
   included) and raises one error listing every problem: nothing is registered on bad input.
2. The contract cross-check: the plain ``cluster.facts`` the checks relied on are compared with
   the contract's Outputs when they resolve (environment, the team's namespace and alert topic,
   the ECR account). Every child takes its namespace (Kubernetes) or its tags (AWS) from that
   check, so a mismatch fails the run before any child is registered.
3. IAM role (EKS Pod Identity) -> Kubernetes objects -> ECR -> ALB -> alarms, all children of this component.
"""

from __future__ import annotations

from typing import Any

import pulumi

from ..core.tags import Tags
from .alarms import build_alarms
from .args import ServiceStackArgs
from .ecr import build_repository
from .iam import build_role
from .iam_checks import Owner
from .ingress import build_ingress
from .validate import ServicePlan, cluster_capability_problems, plan_service
from .workload import build_workload

TOKEN = "eksplatform:service:ServiceStack"


def verify_contract(
    plan: ServicePlan,
    args: ServiceStackArgs,
    environment: Any,
    team_namespaces: Any,
    alert_topics: Any,
    account_id: Any,
    metrics_apis: Any = None,
    prescale_topic_arn: Any = "",
) -> str:
    """The facts validation relied on must match the cluster stack; returns the namespace."""
    wrong: list[str] = cluster_capability_problems(
        args, metrics_apis=metrics_apis, prescale_topic_arn=prescale_topic_arn
    )
    if environment != plan.environment:
        wrong.append(
            f"cluster.facts.environment is {plan.environment!r} but the cluster stack's "
            f"environment is {environment!r}: reference the right cluster stack or fix the facts"
        )
    namespaces = team_namespaces if isinstance(team_namespaces, dict) else {}
    if args.namespace is None:
        actual = namespaces.get(plan.team)
        if actual is None:
            wrong.append(
                f"the cluster stack has no namespace for team {plan.team!r} "
                f"(teams: {', '.join(sorted(namespaces)) or 'none'}): add the team to the "
                "cluster's team namespaces"
            )
        elif actual != plan.namespace:
            wrong.append(
                f"cluster.facts says team {plan.team!r} deploys to {plan.namespace!r} but the "
                f"cluster stack says {actual!r}: fix the facts"
            )
    topics = alert_topics if isinstance(alert_topics, dict) else {}
    if args.ingress is not None and plan.team not in topics:  # alarms exist only with an ALB
        wrong.append(
            f"the cluster stack has no alert topic for team {plan.team!r}: add the team to "
            "the cluster's service platform"
        )
    if plan.create_ecr and plan.image.ecr_account != account_id:
        wrong.append(
            f"the image's ECR registry is in account {plan.image.ecr_account} but the cluster "
            f"is in {account_id}: set ecr=False (the repository is managed elsewhere)"
        )
    if wrong:
        raise pulumi.RunError(
            f"ServiceStack {plan.name!r} does not match the cluster stack:\n"
            + "\n".join(f"  - {w}" for w in wrong)
        )
    return plan.namespace


class ServiceStack(pulumi.ComponentResource):
    """One service: Deployment with the Envoy sidecar, Service, HPA/VPA, PDB, config, secrets,
    IAM role, optional ALB, alarms and ECR repository. See the package docs for the defaults."""

    namespace: pulumi.Output[str]
    """The team namespace the Kubernetes objects live in."""
    service_account_name: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    """Kubernetes Service (``<name>.<namespace>.svc.cluster.local``, port ``service_port``)."""
    node_port: pulumi.Output[int]
    """The Service's node port, equal to the target group's port."""
    role_arn: pulumi.Output[str]
    """IAM role of the pods (EKS Pod Identity)."""
    alb_dns_name: pulumi.Output[str] | None
    """ALB DNS name (point the service's DNS record at it); None without ingress."""
    target_group_arn: pulumi.Output[str] | None
    """None without ingress."""
    ecr_repository_url: pulumi.Output[str] | None
    """Where CI pushes the image; None when the image lives outside this account's ECR."""
    plan: ServicePlan
    """The validated, derived plain values (namespace, version, node port, Envoy settings)."""

    def __init__(
        self, name: str, args: ServiceStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        plan = plan_service(args)  # raises before anything is registered
        super().__init__(TOKEN, name, None, opts)
        self.plan = plan
        cluster = args.cluster
        child = pulumi.ResourceOptions(parent=self)

        checked_namespace = pulumi.Output.all(
            cluster.environment,
            cluster.team_namespaces,
            cluster.team_alert_topic_arns,
            cluster.account_id,
            cluster.metrics_apis,
            cluster.prescale_topic_arn,
        ).apply(lambda v: verify_contract(plan, args, *v))

        def aws_tags(values: list[Any]) -> dict[str, str]:
            tags = Tags(team=plan.team, environment=plan.environment, cost_centre=str(values[1]))
            return tags.merged(
                {"service": plan.name, "kubernetes-namespace": plan.namespace},
                {**args.datadog_tags, **args.tags},
            )

        tags = pulumi.Output.all(checked_namespace, cluster.cost_centre).apply(aws_tags)

        provider = args.kubernetes_provider or cluster.kubernetes_provider()
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)

        identity = build_role(
            name,
            service=plan.name,
            namespace=checked_namespace,
            service_account=plan.name,
            cluster=cluster,
            statements=args.iam_statements,
            tags=tags,
            opts=child,
            owner=Owner(
                team=plan.team,
                other_teams=tuple(
                    t
                    for t in (cluster.facts.team_namespaces if cluster.facts else {})
                    if t != plan.team
                ),
                environment=plan.environment,
            ),
        )
        workload = build_workload(
            args,
            plan,
            namespace=checked_namespace,
            start_after=[identity.association],
            prefix=name,
            opts=k8s_opts,
        )

        self.ecr_repository_url = None
        if plan.create_ecr:
            repo = build_repository(
                name,
                repository=plan.image.repository,
                keep_images=args.ecr_keep_images,
                tags=tags,
                opts=child,
            )
            self.ecr_repository_url = repo.repository_url

        self.alb_dns_name = None
        self.target_group_arn = None
        if args.ingress is not None:
            ing = build_ingress(
                plan,
                args.ingress,
                cluster=cluster,
                namespace=checked_namespace,
                tags=tags,
                prefix=name,
                opts=child,
            )
            self.alb_dns_name = ing.load_balancer.dns_name
            self.target_group_arn = ing.target_group.arn
            topic = cluster.team_alert_topic_arns.apply(lambda m: str(m[plan.team]))
            build_alarms(
                name,
                args.alarms,
                service=plan.name,
                load_balancer=ing.load_balancer,
                target_group=ing.target_group,
                topic_arn=topic,
                tags=tags,
                opts=child,
            )

        self.namespace = checked_namespace
        self.service_account_name = workload.service_account.metadata.apply(lambda m: str(m.name))
        self.deployment_name = workload.deployment.metadata.apply(lambda m: str(m.name))
        self.service_name = workload.service.metadata.apply(lambda m: str(m.name))
        self.node_port = pulumi.Output.from_input(plan.node_port)
        self.role_arn = identity.role.arn
        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceAccountName": self.service_account_name,
                "deploymentName": self.deployment_name,
                "serviceName": self.service_name,
                "nodePort": self.node_port,
                "roleArn": self.role_arn,
                "albDnsName": self.alb_dns_name,
                "targetGroupArn": self.target_group_arn,
                "ecrRepositoryUrl": self.ecr_repository_url,
            }
        )

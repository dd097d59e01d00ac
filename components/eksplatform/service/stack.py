"""ServiceStack: everything a production service needs, from a few typed lines.

Order of work:

1. Read the stack's platform keys (``clusterStack``, ``aws:region``, ``aws:allowedAccountIds``:
   :func:`~eksplatform.service.config.platform_settings`) and what is known of the contract
   before registration (the offline preview knows all of it; ``pulumi up`` none).
2. :func:`~eksplatform.service.validate.plan_service` checks every argument (shape, values,
   derived names, Envoy), the contract as far as it is known, the platform keys and the
   ServiceStacks the program declared before, and raises one error listing every problem:
   nothing is registered on bad input.
3. The gate: the component itself registers only once the same contract checks pass over the
   resolved contract (the first time it exists under ``pulumi up``), the ``env`` values that are
   Outputs turn out not to be secrets, the IAM statements' resources and conditions and the
   queue monitor's name that are Outputs pass the checks of plain values once they resolve
   (:mod:`.output_checks`), and the contract version matches. Every child needs the
   component's URN (its parent), so a mismatch fails the run before any of them is sent. The
   children's plain values (namespace, tags, labels, Envoy's dependency namespaces) come from
   the same gate (:class:`~eksplatform.service.contract_checks.ServiceContext`).
4. IAM role (EKS Pod Identity) -> Kubernetes objects -> ECR -> ALB -> alarms -> monitors ->
   the canary release (:mod:`.canary`), all children of this component. In a developer
   stack (``dev-<developer>``, :mod:`.developer`): the developer namespace with its quota
   and limits -> the Kubernetes objects of the developer's copy, and nothing in AWS or
   Datadog.

The cost of step 3: under ``pulumi up`` the component waits for the cluster stack's outputs and
for the ``env``, IAM and queue-name Outputs before it registers (a queue URL in ``env`` or a
table ARN in ``iam_statements`` means the queue or table is created first). The program's shared Kubernetes provider, created by the first ServiceStack, waits for
that ServiceStack's gate as well.
"""

from __future__ import annotations

import dataclasses

import pulumi

from .. import envoy
from ..core.contract import ClusterOutputs, check_contract_version, known_contract
from ..core.errors import Problem, ValidationError
from .alarms import build_alarms
from .args import Monitors, ServiceStackArgs
from .canary import CanaryRelease
from .canary_config import unread_canary_problem
from .checks import env_output_values
from .config import PlatformSettings, default_cluster, platform_settings
from .contract_checks import (
    ChildInputs,
    ContractView,
    ServiceContext,
    Subject,
    contract_problems,
    secret_env_problems,
    service_context,
)
from .dev_namespace import build_developer_namespace
from .developer import developer_args, developer_problems, developer_settings
from .ecr import build_repository
from .iam import build_role
from .ingress import build_ingress
from .monitors import MonitorContext, build_monitors, provider_config_problems
from .output_checks import output_arguments, placement_problems, resolved_problems
from .registry import RunRegistry, current_run
from .validate import (
    ServicePlan,
    cluster_key,
    contract_source,
    contract_view,
    plan_service,
)
from .workload import Workload, build_workload

TOKEN = "eksplatform:service:ServiceStack"

_GATE_FIELDS = (
    "environment",
    "team_namespaces",
    "team_alert_topic_arns",
    "region",
    "account_id",
    "cost_centre",
    "metrics_apis",
    "prescale_topic_arn",
    "datadog_site",
    "team_monitor_channels",
    "dev_environments",
    "node_architectures",
)
_CAMEL = {
    "environment": "environment",
    "team_namespaces": "teamNamespaces",
    "team_alert_topic_arns": "teamAlertTopicArns",
    "region": "region",
    "account_id": "accountId",
    "cost_centre": "costCentre",
    "metrics_apis": "metricsApis",
    "node_architectures": "nodeArchitectures",
    "prescale_topic_arn": "prescaleTopicArn",
    "datadog_site": "datadogSite",
    "team_monitor_channels": "teamMonitorChannels",
    "dev_environments": "devEnvironments",
}


def _view_of_stack(
    target: PlatformSettings, run: RunRegistry
) -> tuple[ContractView, PlatformSettings]:
    """The contract named by ``clusterStack`` as far as it is known now (and its problems)."""
    ref = target.cluster_stack
    if ref is None:
        return ContractView.unknown(), target
    source = f"the cluster stack {ref!r}"
    key = f"{pulumi.get_project()}:clusterStack"
    try:
        if ref not in run.known:  # the answer is the same for every ServiceStack of the run
            run.known[ref] = known_contract(ref)
        known = run.known[ref]
        if known is not None:
            check_contract_version(known.get("contractVersion"))
    except Exception as exc:  # the resolver's own error type belongs to the preview engine
        problem = Problem(key, ref, f"cannot be read: {exc}")
        return ContractView.unknown(source, field=key, reference=ref), dataclasses.replace(
            target, problems=(*target.problems, problem)
        )
    if known is None:
        return ContractView.unknown(source, field=key, reference=ref), target
    return ContractView.from_contract(known, source, field=key, reference=ref), target


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
    """The Service's node port (allocated by the API server unless ``node_port`` was given),
    equal to the target group's port."""
    role_arn: pulumi.Output[str]
    """IAM role of the pods (EKS Pod Identity)."""
    alb_dns_name: pulumi.Output[str] | None
    """ALB DNS name (point the service's DNS record at it); None without ingress."""
    target_group_arn: pulumi.Output[str] | None
    """None without ingress."""
    canary_target_group_arn: pulumi.Output[str] | None
    """The canary's target group; None without a canary."""
    ecr_repository_url: pulumi.Output[str] | None
    """Where CI pushes the image; None when the image lives outside this account's ECR."""
    plan: ServicePlan
    """The validated, derived plain values (name, version, Envoy settings, ...)."""

    def __init__(
        self, name: str, args: ServiceStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not isinstance(args, ServiceStackArgs):
            raise ValidationError(
                f"ServiceStack {name!r}",
                [Problem("args", args, "must be ServiceStackArgs(team=..., image=..., port=...)")],
            )
        run = current_run()
        explicit = args.cluster if isinstance(args.cluster, ClusterOutputs) else None
        target = platform_settings(need_cluster_stack=args.cluster is None)
        unread = unread_canary_problem(run)
        if unread is not None:
            target = dataclasses.replace(target, problems=(*target.problems, unread))
        if explicit is not None:
            view = contract_view(explicit)
        else:
            view, target = _view_of_stack(target, run)
        developer = developer_settings()
        if isinstance(args.monitors, Monitors) and developer is None:
            # the program's Datadog provider, checked with the rest (see .monitors)
            dd_problems = provider_config_problems(view.datadog_site)
            target = dataclasses.replace(target, problems=(*target.problems, *dd_problems))
        # The cluster account and region of plain IAM ARNs, reported with everything else
        # (the gate checks them when the contract is known only later; see .output_checks).
        placed = placement_problems(args, view)
        if placed:
            target = dataclasses.replace(target, problems=(*target.problems, *placed))
        plan = plan_service(
            args, resource_name=name, view=view, target=target, registry=run, developer=developer
        )
        if explicit is not None and explicit.facts is not None:
            pulumi.log.warn(
                f"ServiceStack {name!r}: cluster.facts (ClusterFacts) is deprecated and no "
                "longer needed: the contract is checked against the cluster stack itself; "
                "remove facts= from ClusterOutputs.from_stack_reference"
            )
        assert explicit is not None or target.cluster_stack is not None
        cluster = explicit or default_cluster(str(target.cluster_stack))
        _record(run, plan, cluster)

        checked = plan.args
        # The gate is needed when something is only known once Outputs resolve: the contract
        # (pulumi up), an env value's secrecy, an IAM statement's resources or conditions, or
        # the queue monitor's name. Otherwise every check has run already.
        gate = None
        if plan.context is None or env_output_values(checked) or output_arguments(checked):
            gate = _gate(name, plan, checked, cluster)
        gated = pulumi.ResourceOptions(depends_on=gate.apply(lambda _: [])) if gate else None
        super().__init__(TOKEN, name, None, pulumi.ResourceOptions.merge(opts, gated))
        self.plan = plan
        child = pulumi.ResourceOptions(parent=self)
        ctx = _child_inputs(plan, cluster, gate)
        namespace = pulumi.Output.from_input(ctx.namespace)
        tags = ctx.tags

        # The shared provider waits for the first ServiceStack's gate too: when that fails, the
        # run fails without registering anything of ours.
        provider = checked.kubernetes_provider or cluster.kubernetes_provider(
            after=gate.apply(lambda _: []) if gate else None
        )
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)

        if plan.developer is not None:
            self._developer_copy(name, plan, checked, ctx, k8s_opts)
            return

        identity = build_role(
            name,
            service=plan.name,
            namespace=namespace,
            service_account=plan.name,
            cluster=cluster,
            statements=checked.iam_statements,
            tags=tags,
            opts=child,
            team=plan.team,
            dev_trust=ctx.dev_trust,
            environment=pulumi.Output.from_input(cluster.environment),
        )
        workload = build_workload(
            checked,
            plan,
            ctx,
            start_after=[identity.association],
            prefix=name,
            opts=k8s_opts,
        )

        self.ecr_repository_url = None
        if plan.create_ecr:
            repo = build_repository(
                name,
                repository=plan.image.repository,
                keep_images=checked.ecr_keep_images,
                tags=tags,
                opts=child,
            )
            self.ecr_repository_url = repo.repository_url

        self.alb_dns_name = None
        self.target_group_arn = None
        self.canary_target_group_arn = None
        if checked.ingress is not None:
            ing = build_ingress(
                plan,
                checked.ingress,
                cluster=cluster,
                namespace=namespace,
                tags=tags,
                deletion_protection=ctx.deletion_protection,
                node_port=workload.node_port,
                prefix=name,
                opts=child,
            )
            self.alb_dns_name = ing.load_balancer.dns_name
            self.target_group_arn = ing.target_group.arn
            build_alarms(
                name,
                checked.alarms,
                service=plan.name,
                load_balancer=ing.load_balancer,
                target_group=ing.target_group,
                topic_arn=ctx.alert_topic_arn,
                tags=tags,
                opts=child,
            )
            if plan.canary is not None:
                release = CanaryRelease(
                    f"{name}-canary",
                    args=checked,
                    plan=plan,
                    canary=plan.canary,
                    ctx=ctx,
                    workload=workload,
                    ingress=ing,
                    cluster=cluster,
                    provider=provider,
                    tags=tags,
                    prefix=name,
                    opts=child,
                )
                self.canary_target_group_arn = release.target_group_arn

        if checked.monitors is not None:
            monitor_ctx: pulumi.Input[MonitorContext] = (
                gate.apply(lambda c: _monitor_context(plan, c))
                if gate is not None
                else _monitor_context(plan, plan.context)
            )
            build_monitors(name, checked.monitors, monitor_ctx, opts=child)

        self._publish(workload, namespace, identity.role.arn)

    def _publish(
        self, workload: Workload, namespace: pulumi.Output[str], role_arn: pulumi.Output[str]
    ) -> None:
        """Set the outputs the workload gives, then register every output (the last step of
        both the service and its developer copy)."""
        self.namespace = namespace
        self.service_account_name = workload.service_account.metadata.apply(lambda m: str(m.name))
        self.deployment_name = workload.deployment.metadata.apply(lambda m: str(m.name))
        self.service_name = workload.service.metadata.apply(lambda m: str(m.name))
        self.node_port = workload.node_port
        self.role_arn = role_arn
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
                # Only with a canary: the outputs of a service without one stay as they were.
                **(
                    {"canaryTargetGroupArn": self.canary_target_group_arn}
                    if self.canary_target_group_arn is not None
                    else {}
                ),
            }
        )

    def _developer_copy(
        self,
        name: str,
        plan: ServicePlan,
        args: ServiceStackArgs,
        ctx: ChildInputs,
        k8s_opts: pulumi.ResourceOptions,
    ) -> None:
        """A developer stack: the developer namespace and the copy's Kubernetes objects, no
        AWS resource (see :mod:`.developer`)."""
        assert plan.developer is not None and ctx.developer is not None
        space = build_developer_namespace(
            name, name=plan.developer.namespace, dev=ctx.developer, opts=k8s_opts
        )
        workload = build_workload(
            developer_args(args),
            plan,
            ctx,
            start_after=[space.namespace, space.quota, space.limits],
            prefix=name,
            opts=k8s_opts,
        )
        self.ecr_repository_url = None
        self.alb_dns_name = None
        self.target_group_arn = None
        self.canary_target_group_arn = None
        self._publish(
            workload,
            pulumi.Output.from_input(ctx.namespace),
            pulumi.Output.from_input(ctx.developer).apply(lambda d: d.role_arn),
        )


def _child_inputs(
    plan: ServicePlan, cluster: ClusterOutputs, gate: pulumi.Output[ServiceContext] | None
) -> ChildInputs:
    """The children's contract-derived inputs: plain when the plan knows them (only the
    namespace and tags are Outputs, carrying the contract's dependencies), else from the gate."""
    contract = pulumi.Output.all(*[getattr(cluster, f) for f in _GATE_FIELDS])
    if gate is None:
        assert plan.context is not None
        known = plan.context
        namespace = contract.apply(lambda _: known.namespace)
        return ChildInputs(
            namespace=namespace,
            tags=namespace.apply(lambda _: known.tags),
            labels=known.labels,
            envoy_data=envoy.config_map_data(known.envoy),
            pod_annotations=known.pod_annotations,
            deletion_protection=known.deletion_protection,
            alert_topic_arn=str(known.alert_topic_arn),
            developer=known.developer,
            dev_trust=known.dev_trust,
        )
    # Carries the contract's Outputs (dependencies) and the gate's values.
    ctx = pulumi.Output.all(gate, contract).apply(lambda v: v[0])
    return ChildInputs(
        namespace=ctx.apply(lambda c: c.namespace),
        tags=ctx.apply(lambda c: c.tags),
        labels=ctx.apply(lambda c: c.labels),
        envoy_data=ctx.apply(lambda c: envoy.config_map_data(c.envoy)),
        pod_annotations=ctx.apply(lambda c: c.pod_annotations),
        deletion_protection=ctx.apply(lambda c: c.deletion_protection),
        alert_topic_arn=ctx.apply(lambda c: str(c.alert_topic_arn)),
        developer=ctx.apply(lambda c: c.developer) if plan.developer is not None else None,
        dev_trust=ctx.apply(lambda c: c.dev_trust),
    )


def _monitor_context(plan: ServicePlan, ctx: ServiceContext | None) -> MonitorContext:
    """The monitors' plain values from the children's context."""
    assert ctx is not None
    return MonitorContext(
        service=plan.name,
        team=plan.team,
        environment=ctx.environment,
        namespace=ctx.namespace,
        channels=ctx.monitor_channels,
        account_id=ctx.account_id,
        region=ctx.region,
        autoscaled=plan.args.autoscaling is not None,
    )


def _record(run: RunRegistry, plan: ServicePlan, cluster: ClusterOutputs) -> None:
    """Remember this ServiceStack for the duplicate checks of the ones declared after it."""
    key = cluster_key(cluster, plan.target)
    run.resource_names[plan.resource_name] = plan.name
    run.services[(key, plan.team, plan.name)] = plan.resource_name
    if plan.node_port is not None:
        run.node_ports[(key, plan.node_port)] = plan.resource_name


def _gate(
    name: str, plan: ServicePlan, args: ServiceStackArgs, cluster: ClusterOutputs
) -> pulumi.Output[ServiceContext]:
    """The contract checks over the resolved contract, the secrecy of ``env`` Outputs, and the
    checks of the IAM and queue-name Outputs (:func:`.output_checks.resolved_problems`).

    Returns the children's plain values; raises the same ValidationError as before registration
    when the resolved contract disagrees. The Output carries no resources (dependencies are
    given by the contract's own Outputs where the children use them)."""
    env_outputs = env_output_values(args)

    async def check() -> ServiceContext:
        values = await pulumi.Output.all(
            **{_CAMEL[f]: getattr(cluster, f) for f in _GATE_FIELDS}
        ).future()
        if cluster.contract_version is not None:
            check_contract_version(await cluster.contract_version.future())
        view = plan.view
        if isinstance(values, dict):
            source = view.source if view.reference else contract_source(cluster)
            view = ContractView.from_contract(
                values, source, field=view.field, reference=view.reference
            )
        subject = Subject(
            name=plan.name,
            team=plan.team,
            image=plan.image,
            create_ecr=plan.create_ecr,
            envoy=plan.envoy,
        )
        problems = contract_problems(args, subject, view, plan.target, facts=cluster.facts)
        if args.monitors is not None and plan.developer is None and plan.view.datadog_site is None:
            # the site was not known before registration: the provider's apiUrl is checked now
            problems += [
                p
                for p in provider_config_problems(view.datadog_site)
                if p.field == "datadog:apiUrl"
            ]
        if plan.developer is not None:
            reported = {p.field for p in problems}
            problems += [
                p
                for p in developer_problems(
                    plan.developer,
                    args,
                    environment=view.environment,
                    offer=view.dev_offer,
                    offer_known=view.complete,
                    source=view.source,
                    reference=view.reference,
                )
                if p.field not in reported
            ]
        secret_keys = [k for k, v in sorted(env_outputs.items()) if await v.is_secret()]
        problems += secret_env_problems(secret_keys)
        problems += await resolved_problems(args, team=plan.team, view=view)
        if problems:
            raise ValidationError(f"ServiceStack {name!r}", problems)
        return service_context(
            args,
            name=plan.name,
            version=plan.version,
            settings=plan.envoy,
            view=view,
            developer=plan.developer,
        )

    return pulumi.Output.from_input(check())

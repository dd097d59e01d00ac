"""PreScaler: capacity ready before a push goes out.

A push notification brings 10-30x the normal request rate within seconds, while HPA plus the
Cluster Autoscaler need about 3 to 3.5 minutes to add capacity (``eksplatform capacity-model``
shows where the time goes). The push system therefore announces each push ahead of time, and
this component raises the floors of the labelled HPAs (``prescaling=PreScaling(factor=...)`` in
a ServiceStack) and the headroom before the push, and restores them after its window.

**SNS, not EventBridge.** Push senders publish one message to an SNS topic. SNS is the smaller
surface: one ``sns:Publish`` permission naming one topic, a topic policy listing the publishers
(the event bus alternative needs a bus, a rule, a pattern and the same policy), delivery to the
Lambda with retries and a dead-letter queue for what cannot be delivered, and the same topic
can fan out to other consumers (dashboards, a game-day recorder) later. The cost: no content
filtering at the source (the Lambda validates every event itself) and no archive/replay (the
DLQ keeps what failed; the summary log line records what succeeded).

What it creates (logical names ``<name>-<role>``):

* the topic (encrypted with the AWS-managed SNS key; same-account publishers only) and its
  policy: ``sns:Publish`` for ``publisherRoleArns`` and the cluster admin roles, denied to every
  other principal and to non-TLS requests;
* the dead-letter queue (SSE-SQS, 14 days): events the Lambda rejected or failed after its
  retry, schedule invocations Scheduler could not deliver, SNS deliveries that failed;
* the Lambda (Python 3.13, arm64, the standard library plus boto3, shipped from
  :mod:`eksplatform.cluster.prescaler_lambda` as an archive Pulumi builds: no packaging step),
  in the private subnets (the API endpoint is private), with its log group (retention set),
  reserved concurrency, one retry of a failed invocation, an error alarm and a DLQ-depth alarm;
* its IAM role, least privilege: write its own log streams, send to the DLQ, manage its VPC
  network interfaces (what Lambda needs in a VPC), create schedules in its own schedule group,
  pass the scheduler role to Scheduler only; nothing else (no EKS API permission: the API server
  authenticates the role through the access entry);
* an EventBridge Scheduler group for the one-time restore/check schedules the Lambda creates,
  a role Scheduler uses to invoke the Lambda (and write its DLQ), and a recurring ``reconcile``
  schedule (``reconcileIntervalMinutes``) that closes windows whose restore was lost and applies
  baseline changes;
* an EKS access entry for the Lambda's role with the Kubernetes group ``eksplatform:prescaler``,
  and its RBAC: a ClusterRole with ``list``/``get``/``patch`` on HorizontalPodAutoscalers and
  ``get`` on ``deployments/status`` (the readiness check reads ready replicas, which no HPA
  reports: the one read beyond raising floors), and a Role in the headroom namespace with
  ``get``/``patch`` on the ``scale`` of the headroom Deployment only (``resourceNames``).

Who owns what at run time: the service's Pulumi program owns each HPA's baseline floor (the
annotation ``eksplatform.io/baseline-min-replicas``) and ignores ``spec.minReplicas`` drift;
the pre-scaler owns ``spec.minReplicas`` and its state annotation. See
:mod:`eksplatform.service.workload` for the Pulumi side and
:mod:`eksplatform.cluster.prescaler_lambda.plan` for the state.

Configured by ``platform:preScaler`` (:class:`~eksplatform.cluster.prescaler_config.
PreScalerConfig`); the IAM documents and RBAC rules are in :mod:`.prescaler_access`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.rbac.v1 import SubjectArgs

from ..core import kube, naming
from ..core.errors import Problems
from ..core.pod_identity import is_region, partition_of
from ..core.tags import Tags
from .prescaler_access import (
    cluster_rules,
    dlq_policy,
    headroom_rules,
    lambda_statements,
    scheduler_statements,
    topic_policy,
    trust,
)
from .prescaler_config import ROLE_ARN, PreScalerConfig

_TOKEN = "eksplatform:addons:PreScaler"

GROUP = "eksplatform:prescaler"
"""Kubernetes group of the Lambda's access entry (bound to the RBAC below)."""
RBAC_NAME = "eksplatform-prescaler"
RUNTIME = "python3.13"
HANDLER = "prescaler_lambda.handler.handler"
LAMBDA_PACKAGE = "eksplatform.cluster.prescaler_lambda"
LAMBDA_FILES = (
    "__init__.py",
    "eks_token.py",
    "events.py",
    "handler.py",
    "kube.py",
    "plan.py",
    "schedules.py",
    "prescale-event.v1.schema.json",
)
"""What the function's archive holds (under ``prescaler_lambda/``)."""
DLQ_RETENTION_SECONDS = 1_209_600
"""14 days, SQS's maximum: time to read what failed."""
INVOKE_RETRIES = 1
"""Lambda's own retry of a failed asynchronous invocation (every step is idempotent)."""
MAX_EVENT_AGE_SECONDS = 3600
"""An event older than this is not retried: its push is long out."""


@dataclass(frozen=True, kw_only=True)
class HeadroomTarget:
    """The headroom Deployment the pre-scaler raises (values from ``platform:headroom``)."""

    namespace: str
    deployment: str
    baseline: int
    """Pulumi's replica count, which the last restore returns to."""
    cpu: str
    """CPU request of one pause pod."""
    memory: str
    """Memory request of one pause pod."""


@dataclass(frozen=True, kw_only=True)
class PreScalerArgs:
    """Inputs of :class:`PreScaler`."""

    cluster_name: str
    """Physical EKS cluster name: names every resource (``<cluster>-prescaler``...)."""
    region: str
    account_id: str
    endpoint: pulumi.Input[str]
    """API server URL (the control plane's output)."""
    certificate_authority: pulumi.Input[str]
    """Base64 PEM of the cluster CA."""
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets the Lambda runs in (it reaches the private API endpoint from there)."""
    cluster_security_group_id: pulumi.Input[str]
    """Security group of the control plane ENIs: gains one rule, 443 from the Lambda."""
    k8s_provider: k8s.Provider
    tags: Tags
    config: PreScalerConfig = field(default_factory=PreScalerConfig)
    """Default: :class:`PreScalerConfig` defaults."""
    headroom: HeadroomTarget | None = None
    """The headroom Deployment to raise. Default: none (HPA floors only)."""
    admin_role_arns: Sequence[str] = ()
    """Cluster admin roles: they may publish too (game days). Default: none."""
    eks_cluster_name: pulumi.Input[str] | None = None
    """The control plane's cluster name output: orders the access entry after the cluster.
    Default: ``cluster_name``."""


@dataclass(frozen=True)
class PhysicalNames:
    """The names the component gives AWS resources, each within its service's rule."""

    function: str
    """Lambda function and its role (both at most 64 characters)."""
    topic: str
    dead_letter_queue: str
    scheduler_role: str
    schedule_group: str
    errors_alarm: str
    dead_letters_alarm: str


def _fit(name: str, rule: naming.NameRule) -> str:
    """``name``, or when too long for ``rule`` its head plus a hash of the whole (stable)."""
    if len(name) <= rule.max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: rule.max_length - 9]}-{digest}"


def physical_names(cluster_name: str) -> PhysicalNames:
    """``<cluster>-prescaler...``, shortened with a hash where a long cluster name would break
    a service's length limit (derived, so any valid cluster name works)."""
    function = _fit(f"{cluster_name}-prescaler", naming.LAMBDA_FUNCTION)
    return PhysicalNames(
        function=function,
        topic=_fit(f"{cluster_name}-prescale", naming.SNS_TOPIC),
        dead_letter_queue=_fit(f"{cluster_name}-prescaler-dlq", naming.SQS_QUEUE),
        scheduler_role=_fit(f"{cluster_name}-prescaler-scheduler", naming.IAM_ROLE),
        schedule_group=_fit(f"{cluster_name}-prescaler", naming.SCHEDULER_NAME),
        errors_alarm=_fit(f"{cluster_name}-prescaler-errors", naming.CLOUDWATCH_ALARM),
        dead_letters_alarm=_fit(f"{cluster_name}-prescaler-dead-letters", naming.CLOUDWATCH_ALARM),
    )


def validate_prescaler_args(args: PreScalerArgs) -> None:
    """Every problem at once, before anything is registered."""
    problems = Problems()
    if not is_region(args.region):
        problems.add("region", args.region, "not an AWS region name; write it like eu-west-1")
    if not re.fullmatch(r"\d{12}", args.account_id):
        problems.add("account_id", args.account_id, "an AWS account id is 12 digits")
    if not args.subnet_ids:
        problems.add("subnet_ids", [], "give the private subnets the Lambda runs in")
    names = physical_names(args.cluster_name)
    for derived, rule in (
        (names.function, naming.LAMBDA_FUNCTION),
        (names.function, naming.IAM_ROLE),
        (names.topic, naming.SNS_TOPIC),
        (names.dead_letter_queue, naming.SQS_QUEUE),
        (names.scheduler_role, naming.IAM_ROLE),
        (names.schedule_group, naming.SCHEDULER_NAME),
        (names.errors_alarm, naming.CLOUDWATCH_ALARM),
    ):
        problem = naming.derived_name_problem(
            "cluster_name",
            args.cluster_name,
            derived,
            rule,
            fix="use letters, digits, '-' and '_' only (an EKS cluster name)",
        )
        if problem is not None:
            problems.add(problem.field, problem.value, problem.message)
    for i, arn in enumerate(args.admin_role_arns):
        if not ROLE_ARN.fullmatch(arn):
            problems.add(f"admin_role_arns[{i}]", arn, "not an IAM role ARN")
    h = args.headroom
    if h is not None:
        for name, check in (("cpu", kube.parse_cpu), ("memory", kube.parse_memory)):
            try:
                if check(getattr(h, name)) <= 0:
                    problems.add(f"headroom.{name}", getattr(h, name), "must be more than 0")
            except ValueError as exc:
                problems.add(f"headroom.{name}", getattr(h, name), str(exc))
        if h.baseline < 0:
            problems.add("headroom.baseline", h.baseline, "must be 0 or more")
    problems.raise_if_any(f"PreScaler '{args.cluster_name}'")


def lambda_archive() -> pulumi.AssetArchive:
    """The function's code: the handler package read from the installed library (its text, so
    the archive and the preview do not depend on where the library lives)."""
    package = resources.files(LAMBDA_PACKAGE)
    return pulumi.AssetArchive(
        {
            f"prescaler_lambda/{name}": pulumi.StringAsset(package.joinpath(name).read_text())
            for name in LAMBDA_FILES
        }
    )


def _environment(args: PreScalerArgs, dlq_arn: Any, group: Any, scheduler_role: Any) -> Any:
    cfg = args.config
    h = args.headroom
    variables: dict[str, pulumi.Input[str]] = {
        "PRESCALER_CLUSTER_NAME": args.cluster_name,
        "PRESCALER_CLUSTER_ENDPOINT": args.endpoint,
        "PRESCALER_CLUSTER_CA": args.certificate_authority,
        "PRESCALER_SCHEDULE_GROUP": group,
        "PRESCALER_SCHEDULER_ROLE_ARN": scheduler_role,
        "PRESCALER_DEAD_LETTER_ARN": dlq_arn,
        "PRESCALER_MAX_LEAD_SECONDS": str(cfg.max_lead_seconds),
        "PRESCALER_BUDGET_MARGIN_SECONDS": "5",
        "PRESCALER_HEADROOM_NAMESPACE": h.namespace if h else "",
        "PRESCALER_HEADROOM_DEPLOYMENT": h.deployment if h else "",
        "PRESCALER_HEADROOM_BASELINE": str(h.baseline if h else 0),
        "PRESCALER_HEADROOM_CPU_MILLIS": str(round(kube.parse_cpu(h.cpu)) if h else 1),
        "PRESCALER_HEADROOM_MEMORY_BYTES": str(kube.parse_memory(h.memory) if h else 1),
        "PRESCALER_HEADROOM_RATIO": str(Fraction(str(cfg.headroom_ratio))),
        "PRESCALER_HEADROOM_MAX_REPLICAS": str(
            max(cfg.headroom_max_replicas, h.baseline if h else 0)
        ),
    }
    if cfg.full_push_requests_per_second is not None:
        variables["PRESCALER_FULL_PUSH_RPS"] = str(cfg.full_push_requests_per_second)
    return aws.lambda_.FunctionEnvironmentArgs(variables=variables)


def _alarm_on_any(
    resource_name: str,
    *,
    alarm_name: str,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: pulumi.Input[dict[str, pulumi.Input[str]]],
    statistic: str,
    actions: Sequence[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """An alarm that fires on any non-zero minute of the metric (a failure or a dead letter is
    never normal) and clears when a minute is back at zero; no data is not a breach."""
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=alarm_name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic=statistic,
        period=60,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=actions,
        ok_actions=actions,
        tags=tags,
        opts=opts,
    )


class PreScaler(pulumi.ComponentResource):
    """Topic, Lambda, schedules and RBAC of the push pre-scaler (see the module docstring)."""

    topic_arn: pulumi.Output[str]
    """Where push senders publish (exported in the cluster contract)."""
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    """The Lambda's role (its EKS access entry's principal)."""
    dead_letter_queue_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: PreScalerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_prescaler_args(args)
        super().__init__(_TOKEN, name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        partition = partition_of(args.region)
        tags = args.tags.merged({"component": "prescaler"})
        names = physical_names(args.cluster_name)
        function = names.function
        group_name = names.schedule_group
        function_arn = f"arn:{partition}:lambda:{args.region}:{args.account_id}:function:{function}"

        # --- topic and dead letters ------------------------------------------------------------
        dlq = aws.sqs.Queue(
            f"{name}-dlq",
            name=names.dead_letter_queue,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=tags,
            opts=child,
        )
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=names.topic,
            kms_master_key_id="alias/aws/sns",
            tags=tags,
            opts=child,
        )
        publishers = sorted({*cfg.publisher_role_arns, *args.admin_role_arns})
        aws.sns.TopicPolicy(
            f"{name}-topic",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: json.dumps(topic_policy(arn, publishers))),
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-dlq",
            queue_url=dlq.url,
            policy=pulumi.Output.all(dlq.arn, topic.arn).apply(
                lambda v: json.dumps(dlq_policy(v[0], v[1]))
            ),
            opts=child,
        )

        # --- roles -----------------------------------------------------------------------------
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler",
            name=names.scheduler_role,
            path="/eksplatform/",
            description=f"EventBridge Scheduler invoking the pre-scaler of {args.cluster_name}",
            assume_role_policy=json.dumps(
                trust(
                    "scheduler.amazonaws.com",
                    {
                        "StringEquals": {"aws:SourceAccount": args.account_id},
                        "ArnLike": {
                            "aws:SourceArn": f"arn:{partition}:scheduler:{args.region}:"
                            f"{args.account_id}:schedule/{group_name}/*"
                        },
                    },
                )
            ),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler",
            role=scheduler_role.id,
            policy=dlq.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": scheduler_statements(function_arn=function_arn, dlq_arn=arn),
                    }
                )
            ),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=function,
            path="/eksplatform/",
            description=f"Push pre-scaler Lambda of {args.cluster_name}",
            assume_role_policy=json.dumps(trust("lambda.amazonaws.com")),
            tags=tags,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role",
            role=role.id,
            policy=pulumi.Output.all(dlq.arn, scheduler_role.arn).apply(
                lambda v: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": lambda_statements(
                            partition=partition,
                            region=args.region,
                            account_id=args.account_id,
                            function=function,
                            dlq_arn=v[0],
                            schedule_group=group_name,
                            scheduler_role_arn=v[1],
                        ),
                    }
                )
            ),
            opts=child,
        )

        # --- network: the Lambda reaches the private API endpoint --------------------------------
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=f"Push pre-scaler Lambda of {args.cluster_name}: out on 443 only",
            vpc_id=args.vpc_id,
            tags=tags,
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out-https",
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description="Kubernetes API, STS, Scheduler (HTTPS)",
            tags=tags,
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-api",
            security_group_id=args.cluster_security_group_id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=sg.id,
            description="Push pre-scaler Lambda to the Kubernetes API",
            tags=tags,
            opts=child,
        )

        # --- the function ------------------------------------------------------------------------
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function}",
            retention_in_days=cfg.log_retention_days,
            tags=tags,
            opts=child,
        )
        group = aws.scheduler.ScheduleGroup(
            f"{name}-schedules", name=group_name, tags=tags, opts=child
        )
        fn = aws.lambda_.Function(
            f"{name}-function",
            name=function,
            description=f"Push pre-scaler of {args.cluster_name}: raises HPA floors before pushes",
            runtime=RUNTIME,
            architectures=["arm64"],
            handler=HANDLER,
            code=lambda_archive(),
            role=role.arn,
            timeout=cfg.timeout_seconds,
            memory_size=cfg.memory_mb,
            reserved_concurrent_executions=cfg.reserved_concurrency,
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=dlq.arn),
            environment=_environment(args, dlq.arn, group.name, scheduler_role.arn),
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(args.subnet_ids), security_group_ids=[sg.id]
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="Text", log_group=logs.name
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs, role_policy]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-invoke",
            function_name=fn.name,
            maximum_retry_attempts=INVOKE_RETRIES,
            maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-sns",
            action="lambda:InvokeFunction",
            function=fn.name,
            principal="sns.amazonaws.com",
            source_arn=topic.arn,
            opts=child,
        )
        aws.sns.TopicSubscription(
            f"{name}-subscription",
            topic=topic.arn,
            protocol="lambda",
            endpoint=fn.arn,
            redrive_policy=dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn})),
            opts=child,
        )
        aws.scheduler.Schedule(
            f"{name}-reconcile",
            name="reconcile",
            group_name=group.name,
            description="Close pre-scale windows whose restore was lost; apply baselines",
            schedule_expression=f"rate({cfg.reconcile_interval_minutes} minutes)",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=fn.arn,
                role_arn=scheduler_role.arn,
                input=json.dumps({"kind": "reconcile"}),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=dlq.arn),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=0, maximum_event_age_in_seconds=300
                ),
            ),
            opts=child,
        )

        # --- alarms --------------------------------------------------------------------------------
        actions = list(cfg.alarm_topic_arns)
        _alarm_on_any(
            f"{name}-errors",
            alarm_name=names.errors_alarm,
            description="The push pre-scaler failed or rejected an event: read its "
            f"summary line in /aws/lambda/{function} and the dead-letter queue",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": fn.name},
            statistic="Sum",
            actions=actions,
            tags=tags,
            opts=child,
        )
        _alarm_on_any(
            f"{name}-dead-letters",
            alarm_name=names.dead_letters_alarm,
            description="Pre-scale events or schedules landed in the dead-letter queue",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dlq.name},
            statistic="Maximum",
            actions=actions,
            tags=tags,
            opts=child,
        )

        # --- Kubernetes identity and RBAC --------------------------------------------------------
        aws.eks.AccessEntry(
            f"{name}-access",
            cluster_name=args.eks_cluster_name or args.cluster_name,
            principal_arn=role.arn,
            kubernetes_groups=[GROUP],
            type="STANDARD",
            tags=tags,
            opts=child,
        )
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        labels = kube.recommended_labels(RBAC_NAME, component="prescaler", part_of="eksplatform")
        subject = SubjectArgs(kind="Group", name=GROUP, api_group=kube.RBAC_API_GROUP)
        kube.bound_role(
            f"{name}-clusterrole",
            f"{name}-clusterrolebinding",
            name=RBAC_NAME,
            labels=labels,
            rules=cluster_rules(),
            subjects=[subject],
            opts=k8s_opts,
        )
        if args.headroom is not None:
            kube.bound_role(
                f"{name}-headroom",
                f"{name}-headroom",
                name=f"{RBAC_NAME}-headroom",
                namespace=args.headroom.namespace,
                labels=labels,
                rules=headroom_rules(args.headroom.deployment),
                subjects=[subject],
                opts=k8s_opts,
            )

        self.topic_arn = topic.arn
        self.function_arn = fn.arn
        self.role_arn = role.arn
        self.dead_letter_queue_url = dlq.url
        self.register_outputs(
            {
                "topicArn": self.topic_arn,
                "functionArn": self.function_arn,
                "roleArn": self.role_arn,
                "deadLetterQueueUrl": self.dead_letter_queue_url,
            }
        )

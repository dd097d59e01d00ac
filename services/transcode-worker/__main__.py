"""transcode-worker: pulls upload events from an SQS queue and transcodes the media.

No ingress (nothing calls it), a fixed number of workers sized by a VerticalPodAutoscaler
instead of an HPA: its load is a queue, and its CPU and memory needs depend on the media mix.
Failed messages go to a dead-letter queue after five attempts. Its monitors watch the queue's
oldest message instead of requests.
"""

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from eksplatform.service import (
    IamStatement,
    Monitors,
    Probes,
    QueueMonitor,
    Resources,
    ServiceStack,
    ServiceStackArgs,
    Vpa,
    cluster_contract,
    load_config,
)


@dataclass(frozen=True)
class Config:
    image: str
    replicas: int


config = load_config(Config)
cluster = cluster_contract()
tags = cluster.company_tags("media", service="transcode-worker")

dead_letters = aws.sqs.Queue(
    "uploads-dlq",
    name=pulumi.Output.concat("transcode-uploads-", cluster.environment, "-dlq"),
    message_retention_seconds=14 * 24 * 3600,
    sqs_managed_sse_enabled=True,
    tags=tags,
)
uploads = aws.sqs.Queue(
    "uploads",
    name=pulumi.Output.concat("transcode-uploads-", cluster.environment),
    visibility_timeout_seconds=900,  # longer than the slowest transcode
    sqs_managed_sse_enabled=True,
    redrive_policy=dead_letters.arn.apply(
        lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})
    ),
    tags=tags,
)

worker = ServiceStack(
    "transcode-worker",
    ServiceStackArgs(
        team="media",
        image=config.image,
        port=9090,  # health and metrics only
        env={"UPLOADS_QUEUE_URL": uploads.url, "MAX_PARALLEL_JOBS": "2"},
        resources=Resources(cpu="1", memory="2Gi"),
        probes=Probes(startup_timeout_s=60),
        autoscaling=None,
        replicas=config.replicas,
        vpa=Vpa(max_cpu="4", max_memory="8Gi"),
        shutdown_timeout_s=120,  # finish the current job before exiting
        # A worker has no requests to watch: its queue is its health. Uploads waiting more than
        # 30 minutes mean the workers are stuck or too few (Datadog's AWS integration reads
        # the queue's CloudWatch metrics).
        monitors=Monitors(
            http=False,
            queue=QueueMonitor(name=uploads.name, max_age_s=1800),
            runbook_url="https://runbooks.example.com/media/transcode-worker",
        ),
        iam_statements=[
            IamStatement(
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                resources=[uploads.arn],
            )
        ],
    ),
)

pulumi.export("queueUrl", uploads.url)
pulumi.export("deadLetterQueueUrl", dead_letters.url)
pulumi.export("roleArn", worker.role_arn)

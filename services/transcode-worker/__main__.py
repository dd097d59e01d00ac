"""transcode-worker: pulls upload events from an SQS queue and transcodes the media.

No ingress (nothing calls it), a fixed number of workers sized by a VerticalPodAutoscaler
instead of an HPA: its load is a queue, and its CPU and memory needs depend on the media mix.
Failed messages go to a dead-letter queue after five attempts. Its monitors watch the queue's
oldest message instead of requests.

A developer stack (``Pulumi.dev-<developer>.yaml``) creates no AWS resource: the developer's
worker reads staging's upload queue through the staging role (it takes its share of staging's
uploads while it runs; scale it to 0 with ``replicas`` when you only need it idle), and the
queues and their monitors stay staging's.

The queues are declared after the ServiceStack (see the README, "Service repos: ServiceStack"):
bad ServiceStack arguments stop the program before a queue is created.
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
    developer_environment,
    load_config,
)


@dataclass(frozen=True)
class Config:
    image: str
    replicas: int = 1


config = load_config(Config)
cluster = cluster_contract()
tags = cluster.company_tags("media", service="transcode-worker")

uploads_name = pulumi.Output.concat("transcode-uploads-", cluster.environment)


def upload_queues() -> tuple[aws.sqs.Queue, aws.sqs.Queue]:
    """The upload queue and its dead-letter queue."""
    dead_letters = aws.sqs.Queue(
        "uploads-dlq",
        name=pulumi.Output.concat("transcode-uploads-", cluster.environment, "-dlq"),
        message_retention_seconds=14 * 24 * 3600,
        sqs_managed_sse_enabled=True,
        tags=tags,
    )
    uploads = aws.sqs.Queue(
        "uploads",
        name=uploads_name,
        visibility_timeout_seconds=900,  # longer than the slowest transcode
        sqs_managed_sse_enabled=True,
        redrive_policy=dead_letters.arn.apply(
            lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})
        ),
        tags=tags,
    )
    return uploads, dead_letters


# Both queue addresses follow from the name, so the ServiceStack below (which checks every argument
# before it registers anything) is declared before the queues: bad arguments stop the program
# before any AWS resource of its own is registered. A developer stack shares staging's queue (its
# environment is staging's) and creates no AWS resource.
uploads_url = pulumi.Output.concat(
    "https://sqs.", cluster.region, ".amazonaws.com/", cluster.account_id, "/", uploads_name
)
uploads_arn = pulumi.Output.concat(
    "arn:aws:sqs:", cluster.region, ":", cluster.account_id, ":", uploads_name
)

worker = ServiceStack(
    "transcode-worker",
    ServiceStackArgs(
        team="media",
        image=config.image,
        port=9090,  # health and metrics only
        env={"UPLOADS_QUEUE_URL": uploads_url, "MAX_PARALLEL_JOBS": "2"},
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
            queue=QueueMonitor(name=uploads_name, max_age_s=1800),
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
                resources=[uploads_arn],
            )
        ],
    ),
)

if developer_environment() is None:
    uploads, dead_letters = upload_queues()
    pulumi.export("queueUrl", uploads.url)
    pulumi.export("deadLetterQueueUrl", dead_letters.url)
    pulumi.export("roleArn", worker.role_arn)

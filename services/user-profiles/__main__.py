"""user-profiles: the internal user profile API, backed by a DynamoDB table.

Reached in-cluster through its Service (news-feed calls it via Envoy) and by other VPC clients
through an internal ALB. The table belongs to this stack; the service role may read and write
exactly this table and its indexes (and the cluster's permissions boundary caps it anyway).
"""

import pulumi
import pulumi_aws as aws
from eksplatform.service import (
    Autoscaling,
    ClusterFacts,
    ClusterOutputs,
    IamStatement,
    Ingress,
    Probes,
    ServiceStack,
    ServiceStackArgs,
    Tags,
)

config = pulumi.Config()
environment = pulumi.get_stack()
cluster = ClusterOutputs.from_stack_reference(
    config.require("clusterStack"),
    facts=ClusterFacts(environment=environment, team_namespaces={"news": "news"}),
)
# The table carries the company tags too: the boundary denies access to resources tagged for
# another environment, and policy checks every resource for them.
tags = Tags(team="news", environment=environment, cost_centre="media-platform")

table_name = f"user-profiles-{environment}"
table = aws.dynamodb.Table(
    "profiles",
    name=table_name,
    billing_mode="PAY_PER_REQUEST",
    hash_key="userId",
    attributes=[
        aws.dynamodb.TableAttributeArgs(name="userId", type="S"),
        aws.dynamodb.TableAttributeArgs(name="email", type="S"),
    ],
    global_secondary_indexes=[
        aws.dynamodb.TableGlobalSecondaryIndexArgs(
            name="by-email",
            key_schemas=[
                aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                    attribute_name="email", key_type="HASH"
                )
            ],
            projection_type="KEYS_ONLY",
        )
    ],
    server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
    point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
    deletion_protection_enabled=environment == "prod",
    tags=tags.merged({"service": "user-profiles"}),
)

profiles = ServiceStack(
    "user-profiles",
    ServiceStackArgs(
        name="user-profiles",
        team="news",
        image=config.require("image"),
        port=8080,
        cluster=cluster,
        env={"PROFILES_TABLE": table_name},
        probes=Probes(readiness_path="/ready", liveness_path="/live"),
        autoscaling=Autoscaling(min_replicas=2, max_replicas=config.require_int("maxReplicas")),
        iam_statements=[
            IamStatement(
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ],
                resources=[table.arn, table.arn.apply(lambda arn: f"{arn}/index/*")],
            )
        ],
        ingress=Ingress(public=False, certificate_arn=config.get("certificateArn")),
    ),
)

pulumi.export("tableName", table.name)
pulumi.export("internalUrl", profiles.alb_dns_name)
pulumi.export(
    "serviceDns",
    pulumi.Output.concat(profiles.service_name, ".", profiles.namespace, ".svc.cluster.local"),
)

"""user-profiles: the internal user profile API, backed by a DynamoDB table.

Reached in-cluster through its Service (news-feed calls it via Envoy) and by other VPC clients
through an internal ALB. The table belongs to this stack; the service role may read and write
exactly this table and its indexes (and the cluster's permissions boundary caps it anyway).

A developer stack (``Pulumi.dev-<developer>.yaml``) creates no AWS resource: the developer's copy
uses staging's table, through the staging role that already trusts it (see the README's
"Developer environments").

The table is declared after the ServiceStack (see the README, "Service repos: ServiceStack"):
bad ServiceStack arguments stop the program before the table is created.
"""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from eksplatform.service import (
    Autoscaling,
    IamStatement,
    Ingress,
    Monitors,
    Probes,
    ServiceStack,
    ServiceStackArgs,
    canary_config,
    cluster_contract,
    developer_environment,
    is_production,
    load_config,
)


@dataclass(frozen=True)
class Config:
    image: str
    max_replicas: int = 4
    certificate_arn: str | None = None  # internal callers use TLS in production


config = load_config(Config)
cluster = cluster_contract()
table_name = pulumi.Output.concat("user-profiles-", cluster.environment)


def profiles_table() -> aws.dynamodb.Table:
    """The table carries the company tags too (environment and cost centre from the cluster):
    the boundary denies access to resources tagged for another environment, and policy checks
    them."""
    return aws.dynamodb.Table(
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
        deletion_protection_enabled=cluster.environment.apply(is_production),
        tags=cluster.company_tags("news", service="user-profiles"),
    )


# The table's ARN follows from its name, so the ServiceStack below (which checks every argument
# before it registers anything) is declared before the table: bad arguments stop the program
# before any AWS resource of its own is registered. A developer stack (dev-<developer>) shares
# staging's table: its environment is staging's, so the name is the same.
table_arn = pulumi.Output.concat(
    "arn:aws:dynamodb:", cluster.region, ":", cluster.account_id, ":table/", table_name
)

profiles = ServiceStack(
    "user-profiles",
    ServiceStackArgs(
        team="news",
        image=config.image,
        port=8080,
        env={"PROFILES_TABLE": table_name},
        probes=Probes(liveness_path="/live"),
        autoscaling=Autoscaling(max_replicas=config.max_replicas),
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
                resources=[table_arn, table_arn.apply(lambda arn: f"{arn}/index/*")],
            )
        ],
        ingress=Ingress(certificate_arn=config.certificate_arn),
        canary=canary_config(),  # the stack config's canary: `eksplatform canary` moves it
        # a tighter latency budget than the default: news-feed calls it with a 2 s timeout
        monitors=Monitors(
            p99_latency_ms=300, runbook_url="https://runbooks.example.com/news/user-profiles"
        ),
    ),
)

if developer_environment() is None:
    table = profiles_table()
    table_name = table.name  # the export waits for the table

pulumi.export("tableName", table_name)
pulumi.export("internalUrl", profiles.alb_dns_name)
pulumi.export(
    "serviceDns",
    pulumi.Output.concat(profiles.service_name, ".", profiles.namespace, ".svc.cluster.local"),
)

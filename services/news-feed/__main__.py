"""news-feed: the public news feed API.

An internet-facing ALB in front of it, calls user-profiles through its Envoy sidecar, and opts
in to push pre-scaling: a push notification brings 10-30x the normal request rate, so the
pre-scaler may raise the HPA floor to 20x before the push goes out.
"""

import pulumi
from eksplatform.service import (
    Autoscaling,
    ClusterFacts,
    ClusterOutputs,
    Dependency,
    Ingress,
    PreScaling,
    Resources,
    ServiceStack,
    ServiceStackArgs,
)

config = pulumi.Config()
environment = pulumi.get_stack()  # stacks are named after the cluster's environments
cluster = ClusterOutputs.from_stack_reference(
    config.require("clusterStack"),
    facts=ClusterFacts(environment=environment, team_namespaces={"news": "news"}),
)

feed = ServiceStack(
    "news-feed",
    ServiceStackArgs(
        name="news-feed",
        team="news",
        image=config.require("image"),  # CI sets the tag it built: `pulumi config set image ...`
        port=8080,
        cluster=cluster,
        env={"FEED_PAGE_SIZE": "50", "LOG_FORMAT": "json"},
        secrets={"FEED_SIGNING_KEY": config.require_secret("signingKey")},
        resources=Resources(cpu="500m", memory="512Mi"),
        autoscaling=Autoscaling(
            min_replicas=config.require_int("minReplicas"),
            max_replicas=config.require_int("maxReplicas"),
            cpu_target_percent=60,
        ),
        prescaling=PreScaling(factor=20),
        dependencies=[Dependency(name="user-profiles", timeout_s=2.0)],
        ingress=Ingress(public=True, certificate_arn=config.require("certificateArn")),
    ),
)

pulumi.export("url", feed.alb_dns_name)
pulumi.export("nodePort", feed.node_port)
pulumi.export("imageRepository", feed.ecr_repository_url)

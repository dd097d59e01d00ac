"""news-feed: the public news feed API.

An internet-facing ALB in front of it, calls user-profiles through its Envoy sidecar, and opts
in to push pre-scaling: a push notification brings 10-30x the normal request rate, so the
pre-scaler may raise the HPA floor to 20x before the push goes out.
"""

from dataclasses import dataclass

import pulumi
from eksplatform.service import (
    Autoscaling,
    Dependency,
    Ingress,
    Monitors,
    PreScaling,
    Resources,
    ServiceStack,
    ServiceStackArgs,
    canary_config,
    load_config,
)


@dataclass(frozen=True)
class Config:
    image: str  # CI sets the tag it built: `pulumi config set image ...`
    min_replicas: int
    max_replicas: int
    certificate_arn: str
    signing_key: pulumi.Output[str]


config = load_config(Config)
feed = ServiceStack(
    "news-feed",
    ServiceStackArgs(
        team="news",
        image=config.image,
        port=8080,
        env={"FEED_PAGE_SIZE": "50", "LOG_FORMAT": "json"},
        secrets={"FEED_SIGNING_KEY": config.signing_key},
        resources=Resources(cpu="500m", memory="512Mi"),
        autoscaling=Autoscaling(
            min_replicas=config.min_replicas,
            max_replicas=config.max_replicas,
            cpu_target_percent=60,
        ),
        prescaling=PreScaling(factor=20),
        dependencies=[Dependency(name="user-profiles", timeout_s=2.0)],
        ingress=Ingress(public=True, certificate_arn=config.certificate_arn),
        canary=canary_config(),  # the stack config's canary: `eksplatform canary` moves it
        monitors=Monitors(runbook_url="https://runbooks.example.com/news/news-feed"),
    ),
)

pulumi.export("url", feed.alb_dns_name)
pulumi.export("nodePort", feed.node_port)
pulumi.export("imageRepository", feed.ecr_repository_url)

"""ServiceStack rules that no other test pinned down (found by ``make mutation``): each asserts
the exact problems, or that a valid input is accepted, on both sides of the rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eksplatform.core.contract import ClusterFacts
from eksplatform.core.errors import ValidationError
from eksplatform.service import (
    Autoscaling,
    EnvoyOptions,
    IamStatement,
    MetricTarget,
    Resources,
    ServiceStackArgs,
    plan_service,
)
from eksplatform.service.config import PlatformSettings
from eksplatform.service.registry import RunRegistry
from eksplatform.service.validate import cluster_key

from tests.service.programs import ACCOUNT, ECR_IMAGE, known_contract_for

SHORT_REPO = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/a:1"


def _args(environment: str = "prod", **changes: Any) -> ServiceStackArgs:
    base = ServiceStackArgs(
        name="feed",
        team="news",
        image=ECR_IMAGE,
        port=8080,
        cluster=known_contract_for(environment),
    )
    return dataclasses.replace(base, **changes)


def _error(args: ServiceStackArgs, **kw: Any) -> str:
    """The whole message of the ValidationError ``plan_service`` raises."""
    with pytest.raises(ValidationError) as info:
        plan_service(args, **kw)
    return str(info.value)


def _problems(**changes: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        plan_service(_args(**changes))
    return [str(p) for p in info.value.problems]


def test_the_ecr_repository_name_is_checked_only_when_the_stack_creates_it() -> None:
    assert _error(_args(image=SHORT_REPO)) == (
        "ServiceStack 'feed': 1 problem:\n"
        f"  - image: got {SHORT_REPO!r}: derives the ECR repository name 'a', which is 1 "
        "characters long; 2-256 allowed; rename the image's repository, or set ecr=False"
    )
    assert plan_service(_args(image=SHORT_REPO, ecr=False)).create_ecr is False


def test_an_empty_resource_name_is_refused_and_the_name_is_used_instead() -> None:
    assert _error(_args(), resource_name="") == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - resource_name: got '': must be a non-empty string (the ServiceStack's first "
        "argument)"
    )
    assert _error(_args(name=None), resource_name="") == (
        "ServiceStack '': 2 problems:\n"
        "  - resource_name: got '': must be a non-empty string (the ServiceStack's first "
        "argument)\n"
        "  - name: got '': must be a DNS label: 1-40 lowercase letters, digits or '-', starting "
        "with a letter (name defaults to the ServiceStack's resource name)"
    )


def test_a_wrong_type_hides_only_the_problems_of_its_own_field() -> None:
    assert _error(_args(port="8080", resources=Resources(cpu="0"))) == (
        "ServiceStack 'feed': 2 problems:\n"
        "  - port: got '8080': must be an integer\n"
        "  - resources.cpu: got '0': is no CPU at all: request at least '1m' (typically '100m' "
        "or more)"
    )


def test_deprecated_facts_that_disagree_with_the_contract_are_refused() -> None:
    facts = ClusterFacts(environment="staging", team_namespaces={"news": "other", "ads": "ads"})
    cluster = dataclasses.replace(known_contract_for(), facts=facts)
    assert _error(_args(cluster=cluster)) == (
        "ServiceStack 'feed': 2 problems:\n"
        "  - cluster.facts.environment: got 'staging': the cluster contract's environment is "
        "'prod': reference the right cluster stack, or drop facts= (deprecated: the contract is "
        "read from the cluster stack)\n"
        "  - cluster.facts.team_namespaces['news']: got 'other': the cluster contract says team "
        "'news' deploys to 'news': drop facts= (deprecated: the contract is read from the "
        "cluster stack)"
    )
    agreeing = ClusterFacts(environment="prod", team_namespaces={"news": "news"})
    assert plan_service(_args(cluster=dataclasses.replace(known_contract_for(), facts=agreeing)))


def test_the_guardrail_rules_run_on_the_envoy_image() -> None:
    assert _error(_args(envoy=EnvoyOptions(image="envoyproxy/envoy:latest"))) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - envoy.image: got 'envoyproxy/envoy:latest': [k8s-image-pinned] image "
        "'envoyproxy/envoy:latest' uses the moving tag 'latest'; fix: use a version tag "
        "(app:1.4.2) or a digest (app@sha256:...)"
    )
    pinned = "envoyproxy/envoy:v1.31.2"
    assert plan_service(_args(envoy=EnvoyOptions(image=pinned))).args.envoy.image == pinned


def _reads(*resources: str) -> ServiceStackArgs:
    return _args(iam_statements=[IamStatement(actions=["s3:GetObject"], resources=list(resources))])


def test_iam_statements_reach_the_own_teams_resources_and_no_other_teams() -> None:
    plan_service(_reads("arn:aws:s3:::news-feed-data/*", "arn:aws:s3:::prod-news-feed/*"))
    assert _error(_reads("arn:aws:s3:::prod-search-index/*")) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - iam_statements[0].resources[0]: got 'arn:aws:s3:::prod-search-index/*': follows the "
        "naming convention of team 'search' (buckets <env>-<team>-*, secrets <team>/*, "
        "parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and "
        "alarms <team>-*): a service of team 'news' reaches only its own team's resources (the "
        "permissions boundary denies the rest)"
    )


@pytest.mark.parametrize(
    "image",
    ["localhost/app:1", "registry:5000/app:1", "ghcr.io/acme/app:1", "a.b/app@sha256:" + "0" * 64],
)
def test_images_of_other_registries_are_accepted(image: str) -> None:
    plan = plan_service(_args(image=image))
    assert (plan.create_ecr, plan.image.ecr_account) == (False, None)


def test_an_image_without_a_registry_host_is_refused() -> None:
    # Docker would read 'acme' as a Docker Hub namespace: the platform pulls from registries only.
    assert _problems(image="acme/app:1") == [
        "image: got 'acme/app:1': must be 'registry/repository:tag' or "
        "'registry/repository@sha256:<64 hex>' (e.g. "
        "'123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2')"
    ]


MEMORY_LOW = "below the 16Mi minimum: the container would be OOM-killed at start; raise it"
MEMORY_HIGH = (
    "above the 512Gi maximum of one container (no node is larger): request less and scale out "
    "with replicas"
)


@pytest.mark.parametrize(
    ("memory", "shown"),
    [
        ("1Mi", f"is 1Mi, {MEMORY_LOW}"),
        ("1000Ki", f"is 1000Ki, {MEMORY_LOW}"),
        ("1Ki", f"is 1Ki, {MEMORY_LOW}"),
        ("1000", f"is 1000 bytes, {MEMORY_LOW}"),
        ("1025Gi", f"is 1025Gi, {MEMORY_HIGH}"),
        ("1Ti", f"is 1024Gi, {MEMORY_HIGH}"),
    ],
)
def test_memory_out_of_range_is_shown_in_the_largest_whole_unit(memory: str, shown: str) -> None:
    assert _problems(resources=Resources(memory=memory)) == [
        f"resources.memory: got {memory!r}: {shown}"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "must be a Kubernetes quantity such as '100', '500m' or '2k'"),
        ("0k", "must be more than 0 (an HPA cannot aim at zero per pod)"),
        ("0.0", "must be more than 0 (an HPA cannot aim at zero per pod)"),
    ],
)
def test_a_metric_target_must_be_a_positive_quantity(value: str, message: str) -> None:
    metrics = [MetricTarget(name="rps", average_value=value)]
    assert _problems(autoscaling=Autoscaling(metrics=metrics)) == [
        f"autoscaling.metrics[0].average_value: got {value!r}: {message}"
    ]
    ok = [MetricTarget(name="rps", average_value="2k")]
    plan_service(_args(autoscaling=Autoscaling(metrics=ok)))


def test_duplicates_are_keyed_on_the_cluster_the_stack_deploys_into() -> None:
    named = dataclasses.replace(known_contract_for(), stack_reference="acme/cluster/prod")
    assert cluster_key(named, None) == "acme/cluster/prod"
    anonymous = known_contract_for()
    assert cluster_key(anonymous, None) == f"contract-{id(anonymous)}"
    target = PlatformSettings(cluster_stack="acme/cluster/staging", region=None, account_ids=None,
                              problems=())  # fmt: skip
    assert cluster_key(None, target) == "acme/cluster/staging"
    assert cluster_key(named, target) == "acme/cluster/prod"  # the contract given wins
    assert cluster_key(None, dataclasses.replace(target, cluster_stack=None)) == "default"
    assert cluster_key(None, None) == "default"


def test_the_same_service_in_another_cluster_is_no_duplicate() -> None:
    prod = dataclasses.replace(known_contract_for(), stack_reference="acme/cluster/prod")
    other = dataclasses.replace(known_contract_for(), stack_reference="acme/cluster/eu")
    registry = RunRegistry(
        resource_names={"feed-prod": "feed"},
        services={("acme/cluster/prod", "news", "feed"): "feed-prod"},
        node_ports={("acme/cluster/prod", 30080): "feed-prod"},
    )
    plan_service(_args(cluster=other, node_port=30080), resource_name="feed-eu", registry=registry)
    assert _error(
        _args(cluster=prod, node_port=30080), resource_name="feed-2", registry=registry
    ) == (
        "ServiceStack 'feed-2': 2 problems:\n"
        "  - name: got 'feed': is already a service of team 'news' in this program (ServiceStack "
        "'feed-prod'): their Kubernetes objects would overwrite each other; rename one\n"
        "  - node_port: got 30080: is already the node port of ServiceStack 'feed-prod' in this "
        "program: leave node_port None (the API server allocates a free one) or pick another"
    )

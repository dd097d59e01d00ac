"""ServiceStack rules that no other test pinned down (found by ``make mutation``): each asserts
the exact problems, or that a valid input is accepted, on both sides of the rule."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import UserList
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest
from eksplatform.core.contract import (
    CUSTOM_METRICS_API,
    RESOURCE_METRICS_API,
    ClusterFacts,
)
from eksplatform.core.errors import Problem, Problems, ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, run_preview
from eksplatform.service import (
    Alarms,
    Autoscaling,
    Canary,
    CanaryAnalysis,
    CanaryHeader,
    Dependency,
    EnvoyOptions,
    IamStatement,
    Ingress,
    MetricTarget,
    PreScaling,
    Probes,
    Resources,
    ServiceStackArgs,
    Vpa,
    load_config,
    plan_service,
)
from eksplatform.service import config as service_config
from eksplatform.service.canary_checks import _version as canary_version
from eksplatform.service.canary_checks import canary_replicas
from eksplatform.service.canary_config import (
    CanaryState,
    config_field,
    config_source,
    parse_canary,
)
from eksplatform.service.canary_config import _value as canary_value
from eksplatform.service.checks import is_int, parse_image
from eksplatform.service.config import (
    PlatformSettings,
    _account_ids,
    _bounds_problem,
    _kind,
    _parse,
)
from eksplatform.service.contract_checks import ContractView, team_namespace
from eksplatform.service.iam_checks import (
    Owner,
    _data_version,
    check_resolved_statement,
    check_statement,
)
from eksplatform.service.registry import RunRegistry
from eksplatform.service.shapes import shape_problems
from eksplatform.service.validate import cluster_key

from tests.conftest import make_workspace, write_program
from tests.service.programs import (
    ACCOUNT,
    CERT,
    ECR_IMAGE,
    STACK_CONFIG,
    contract_values,
    known_contract_for,
)

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
    assert plan_service(_args(ecr=True)).create_ecr is True


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


# (id, environment, changes, the fields refused; [] at the edge)
RULE_EDGES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("min 1000", "prod", {"autoscaling": Autoscaling(min_replicas=1000, max_replicas=1000)}, []),
    (
        "min 1001",
        "prod",
        {"autoscaling": Autoscaling(min_replicas=1001, max_replicas=1000)},
        ["autoscaling.min_replicas"],
    ),
    ("min = max = 1", "staging", {"autoscaling": Autoscaling(min_replicas=1, max_replicas=1)}, []),
    ("max 0", "staging", {"autoscaling": Autoscaling(min_replicas=1, max_replicas=0)},
     ["autoscaling.max_replicas"]),
    ("min above max", "prod", {"autoscaling": Autoscaling(min_replicas=5, max_replicas=4)},
     ["autoscaling.min_replicas"]),
    ("replicas 1 staging", "staging", {"autoscaling": None, "replicas": 1}, []),
    ("memory target 1", "prod", {"autoscaling": Autoscaling(memory_target_percent=1)}, []),
    ("memory target 0", "prod", {"autoscaling": Autoscaling(memory_target_percent=0)},
     ["autoscaling.memory_target_percent"]),
    ("scale up 1%", "prod", {"autoscaling": Autoscaling(scale_up_percent=1)}, []),
    ("scale down 1%", "prod", {"autoscaling": Autoscaling(scale_down_percent=1)}, []),
    ("scale up pods 1000", "prod", {"autoscaling": Autoscaling(scale_up_pods=1000)}, []),
    ("scale up pods 0", "prod", {"autoscaling": Autoscaling(scale_up_pods=0)},
     ["autoscaling.scale_up_pods"]),
    ("scale up window 0", "prod", {"autoscaling": Autoscaling(scale_up_stabilization_s=0)}, []),
    ("scale down window 3600", "prod",
     {"autoscaling": Autoscaling(scale_down_stabilization_s=3600)}, []),
    ("scale down window -1", "prod",
     {"autoscaling": Autoscaling(scale_down_stabilization_s=-1)},
     ["autoscaling.scale_down_stabilization_s"]),
    ("vpa memory min = max", "prod",
     {"autoscaling": None, "vpa": Vpa(min_memory="1Gi", max_memory="1Gi")}, []),
    ("vpa memory min above max", "prod",
     {"autoscaling": None, "vpa": Vpa(min_memory="2Gi", max_memory="1Gi")}, ["vpa.min_memory"]),
    ("vpa cpu min only", "prod", {"autoscaling": None, "vpa": Vpa(min_cpu="100m")}, []),
    ("vpa memory beside cpu hpa", "prod", {"vpa": Vpa(controlled_resources=("memory",))}, []),
    ("vpa cpu beside cpu hpa", "prod", {"vpa": Vpa(controlled_resources=("cpu",))},
     ["vpa.controlled_resources"]),
    ("vpa memory beside memory hpa", "prod",
     {"autoscaling": Autoscaling(cpu_target_percent=None, memory_target_percent=80),
      "vpa": Vpa(controlled_resources=("memory",))}, ["vpa.controlled_resources"]),
    ("prescale 1", "prod", {"prescaling": PreScaling(factor=1)}, ["prescaling.factor"]),
    ("prescale without hpa", "prod", {"autoscaling": None, "prescaling": PreScaling(factor=2)},
     ["prescaling"]),
    ("memory limit above request", "prod",
     {"resources": Resources(memory="256Mi", memory_limit="1Gi")}, []),
    ("cpu limit above request", "prod", {"resources": Resources(cpu="250m", cpu_limit="2")}, []),
    ("cpu limit 0", "prod", {"resources": Resources(cpu_limit="0")}, ["resources.cpu_limit"]),
    ("memory limit bad", "prod", {"resources": Resources(memory_limit="1m")},
     ["resources.memory_limit"]),
    ("envoy memory 1Gi", "prod", {"envoy": EnvoyOptions(memory="1Gi")}, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("environment", "changes", "refused"),
    [(e, c, f) for _, e, c, f in RULE_EDGES],
    ids=[i for i, _, _, _ in RULE_EDGES],
)
def test_each_rule_on_both_sides(
    environment: str, changes: dict[str, Any], refused: list[str]
) -> None:
    try:
        plan_service(_args(environment, **changes))
        fields = []
    except ValidationError as exc:
        fields = [p.field for p in exc.problems]
    assert fields == refused


REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed"


@pytest.mark.parametrize(
    ("image", "version"),
    [
        (f"{REPO}:{'a' * 70}", "a" * 63),  # a label value holds 63 characters
        (f"{REPO}:1.0-", "1.0"),  # and ends alphanumeric
        (f"{REPO}:_x", "unknown"),  # a tag no label can carry
        (f"{REPO}@sha256:{'ab' * 32}", "abababababab"),  # a digest: its first 12 hex digits
        (f"{REPO}:v1@sha256:{'ab' * 32}", "v1"),  # the tag beside a digest
    ],
)
def test_the_version_label_derives_from_the_image(image: str, version: str) -> None:
    assert plan_service(_args(image=image)).version == version


# (changes, the exact problems)
MESSAGES: list[tuple[dict[str, Any], list[str]]] = [
    ({"env": {"AWS_CONTAINER_X": "1"}}, [
        "env['AWS_CONTAINER_X']: got 'AWS_CONTAINER_X': is reserved: EKS Pod Identity sets it to "
        "hand the pod its role's credentials; remove it"]),
    ({"env": {"AWS_ACCESS_KEY_ID": "x"}}, [
        "env['AWS_ACCESS_KEY_ID']: got 'AWS_ACCESS_KEY_ID': is refused: static AWS credentials "
        "take precedence over the pod's role and its permissions boundary; grant the access "
        "with iam_statements instead"]),
    ({"env": {"A": "1"}, "secrets": {"A": "s"}}, [
        "secrets['A']: got 'A': is also in env: a variable comes from one place; remove one of "
        "them"]),
    ({"secrets": {"1A": "x"}}, [
        "secrets['1A']: got '1A': must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*"]),
    ({"config_files": {"..": "x"}}, [
        "config_files['..']: got '..': must be a file name of letters, digits, '-', '_' or '.' "
        "(no '/')"]),
    ({"config_mount_path": "/a/../b"}, [
        "config_mount_path: got '/a/../b': must be an absolute directory such as '/etc/app'"]),
    ({"config_mount_path": "/tmp"}, [
        "config_mount_path: got '/tmp': is reserved (/tmp, /etc/envoy are mounted already): pick "
        "another path"]),
    ({"config_mount_path": "/tmp/x/"}, [
        "config_mount_path: got '/tmp/x/': is reserved (/tmp, /etc/envoy are mounted already): "
        "pick another path"]),
    ({"config_mount_path": "/tmpx"}, []),
    ({"config_mount_path": "/etc/app/"}, []),
    ({"autoscaling": Autoscaling(min_replicas=1001, max_replicas=1000)}, [
        "autoscaling.min_replicas: got 1001: must be an integer from 1 to 1000"]),
    ({"namespace": "kube-x"}, [
        "namespace: got 'kube-x': is a system namespace: a service deploys only into its team's "
        "namespace; remove namespace="]),
    ({"namespace": "default"}, [
        "namespace: got 'default': is a system namespace: a service deploys only into its "
        "team's namespace; remove namespace="]),
    ({"namespace": "search-apps"}, [
        "namespace: got 'search-apps': is not the namespace of team 'news' ('news' in the "
        "cluster contract): a service deploys only into its team's namespace; remove "
        "namespace="]),
    ({"namespace": "news"}, []),
    ({"args": ["a\x00"]}, ["args[0]: got 'a\\x00': must not contain a NUL character"]),
    ({"run_as_user": 0}, [
        "run_as_user: got 0: must be a non-root uid (1 to 2147483647): Pod Security "
        "'restricted' refuses root"]),
    ({"version": "v" * 64}, ["version: got '" + "v" * 64 + "': must be a label value: 1-63 characters"]),
    ({"version": "-a"}, [
        "version: got '-a': must be a label value: letters, digits, '-', '_', '.', "
        "alphanumeric at both ends"]),
    ({"probes": Probes(liveness_path="x")}, [
        "probes.liveness_path: got 'x': must be a URL path starting with '/' without spaces, "
        "'?' or '#'"]),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), MESSAGES)
def test_each_rule_says_what_is_wrong_and_the_fix(
    changes: dict[str, Any], expected: list[str]
) -> None:
    if expected:
        assert _problems(**changes) == expected
    else:
        plan_service(_args(**changes))


def test_a_config_secret_in_env_is_refused_before_any_output_resolves() -> None:
    loop = asyncio.new_event_loop()  # an Output needs one; no Pulumi run here
    asyncio.set_event_loop(loop)
    try:
        # What load_config does with a secure value it read: the Output is known to be secret.
        secret = pulumi.Output.secret("signing-key")
        service_config._SECRET_OUTPUTS.add(secret)
        plain = pulumi.Output.from_input("info")
        assert _problems(env={"KEY": secret, "LOG_LEVEL": plain}) == [
            "env['KEY']: got [secret]: is a Pulumi secret: in env it would be written in clear "
            "into the Deployment; pass it in secrets= (a Kubernetes Secret) instead"
        ]
        plan_service(_args(env={"LOG_LEVEL": plain}, secrets={"KEY": secret}))
    finally:
        pending = asyncio.all_tasks(loop)  # let the Outputs settle before the loop goes
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()


# A wrong type in a field of each kind of annotation: the message says the type in words.
TYPES: list[tuple[dict[str, Any], list[str]]] = [
    ({"autoscaling": None, "vpa": Vpa(controlled_resources="cpu")},  # type: ignore[arg-type]
     ["vpa.controlled_resources: got 'cpu': must be a tuple of one of 'cpu', 'memory'"]),
    ({"autoscaling": None, "vpa": Vpa(controlled_resources=("cpu", "gpu"))},  # type: ignore[arg-type]
     ["vpa.controlled_resources: got ('cpu', 'gpu'): must be a tuple of one of 'cpu', 'memory'"]),
    ({"autoscaling": None, "vpa": Vpa(controlled_resources=["memory"])}, []),  # type: ignore[arg-type]
    ({"dependencies": [Dependency(name="geo", protocol="grpc")]},  # type: ignore[arg-type]
     ["dependencies[0].protocol: got 'grpc': must be one of 'http1', 'http2'"]),
    ({"dependencies": [Dependency(name="geo", protocol=1)]},  # type: ignore[arg-type]
     ["dependencies[0].protocol: got 1: must be one of 'http1', 'http2'"]),
    ({"dependencies": (Dependency(name="geo"),)}, []),
    ({"dependencies": Dependency(name="geo")},
     ["dependencies: got Dependency(name='geo', team=None, namespace=None, port=80, "
      "egress_port=None, protocol='http1', timeout_s=5.0, idle_ti...: must be a list of "
      "Dependency objects"]),
    ({"iam_statements": [IamStatement(actions=["s3:GetObject"], resources=[5])]},  # type: ignore[list-item]
     ["iam_statements[0].resources: got [5]: must be a list of strings or pulumi Outputs of "
      "them"]),
    ({"iam_statements": [IamStatement(actions=["s3:GetObject"], resources="arn:aws:s3:::x/*")]},
     ["iam_statements[0].resources: got 'arn:aws:s3:::x/*': must be a list of strings or "
      "pulumi Outputs of them"]),
    ({"iam_statements": [IamStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::x/*"],
                                      conditions={"StringEquals": "x"})]},  # type: ignore[dict-item]
     ["iam_statements[0].conditions: got {'StringEquals': 'x'}: must be a mapping of strings "
      "to a mapping of strings to values"]),
    ({"env": {"A": 1}},
     ["env: got {'A': 1}: must be a mapping of strings to strings or pulumi Outputs of them"]),
    ({"env": {1: "x"}},
     ["env: got {1: 'x'}: must be a mapping of strings to strings or pulumi Outputs of them"]),
    ({"env": [("A", "1")]},
     ["env: got [('A', '1')]: must be a mapping of strings to strings or pulumi Outputs of "
      "them"]),
    ({"alarms": Alarms(error_rate_percent="5")},  # type: ignore[arg-type]
     ["alarms.error_rate_percent: got '5': must be a number"]),
    ({"alarms": Alarms(error_rate_percent=5)}, []),
    ({"envoy": EnvoyOptions(stream_idle_timeout_s="5")},  # type: ignore[arg-type]
     ["envoy.stream_idle_timeout_s: got '5': must be a number or None"]),
    ({"autoscaling": Autoscaling(cpu_target_percent=70.0)},  # type: ignore[arg-type]
     ["autoscaling.cpu_target_percent: got 70.0: must be an integer or None"]),
    ({"command": "run"},
     ["command: got 'run': must be a list of strings or None"]),
    ({"autoscaling": None, "vpa": Vpa(update_mode="Auto")},  # type: ignore[arg-type]
     ["vpa.update_mode: got 'Auto': must be one of 'Off', 'Initial', 'Recreate', "
      "'InPlaceOrRecreate'"]),
    ({"autoscaling": None, "vpa": Vpa(update_mode="Off")}, []),
    ({"iam_statements": [IamStatement(
        actions=["dynamodb:GetItem"],
        resources=["arn:aws:dynamodb:eu-west-1:123456789012:table/news-feed"],
        conditions={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})]}, []),
    # A tuple field takes a tuple or a list, no other sequence; a list field any sequence.
    ({"autoscaling": None, "vpa": Vpa(controlled_resources=UserList(["cpu"]))},  # type: ignore[arg-type]
     ["vpa.controlled_resources: got ['cpu']: must be a tuple of one of 'cpu', 'memory'"]),
    ({"command": UserList(["run"])}, []),
    ({"iam_statements": [IamStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::x/*"],
                                      effect="allow")]},  # type: ignore[arg-type]
     ["iam_statements[0].effect: got 'allow': must be one of 'Allow', 'Deny'"]),
    ({"autoscaling": Autoscaling(metrics=[MetricTarget(name="rps", average_value="1",
                                                       type="Object")])},  # type: ignore[arg-type]
     ["autoscaling.metrics[0].type: got 'Object': must be one of 'Pods', 'External'"]),
    ({"autoscaling": Autoscaling(metrics=[MetricTarget(name="rps", average_value="1",
                                                       type="External")])}, []),
    # A required field of the wrong type: one problem, and the checks after it do not trip.
    ({"team": 5}, ["team: got 5: must be a string"]),
    ({"image": 5}, ["image: got 5: must be a string"]),
    ({"port": 1.5}, ["port: got 1.5: must be an integer"]),
    ({"dependencies": [Dependency(name=5)]},  # type: ignore[arg-type]
     ["dependencies[0].name: got 5: must be a string"]),
    ({"iam_statements": [IamStatement(actions="s3:GetObject", resources=5)]},  # type: ignore[arg-type]
     ["iam_statements[0].actions: got 's3:GetObject': must be a list of strings",
      "iam_statements[0].resources: got 5: must be a list of strings or pulumi Outputs of them"]),
    ({"autoscaling": Autoscaling(metrics=[MetricTarget(name=5, average_value=5)])},  # type: ignore[arg-type]
     ["autoscaling.metrics[0].name: got 5: must be a string",
      "autoscaling.metrics[0].average_value: got 5: must be a string"]),
    # The other items and fields beside an unusable one are still checked.
    ({"dependencies": [Dependency(name=5), Dependency(name="geo", port=0)]},  # type: ignore[arg-type]
     ["dependencies[0].name: got 5: must be a string",
      "dependencies[1].port: got 0: must be an integer port 1-65535"]),
    ({"autoscaling": Autoscaling(min_replicas="2", max_replicas=0)},  # type: ignore[arg-type]
     ["autoscaling.min_replicas: got '2': must be an integer",
      "autoscaling.max_replicas: got 0: must be an integer from 1 to 1000"]),
    ({"kubernetes_provider": "p"},
     ["kubernetes_provider: got 'p': must be a Provider or None"]),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), TYPES)
def test_a_wrong_type_names_the_type_in_words(changes: dict[str, Any], expected: list[str]) -> None:
    if expected:
        assert _problems(**changes) == expected
    else:
        plan_service(_args(**changes))


@pytest.mark.parametrize(
    ("argument", "suggestion"),
    [
        ("nme", "did you mean 'name'? "),  # its own argument before any nested one
        ("prestop_sleep", "did you mean 'prestop_sleep_s'? "),
        ("min_replica", "did you mean autoscaling=Autoscaling(min_replicas=...)? "),
        ("Scale-Up-Percent", "did you mean autoscaling=Autoscaling(scale_up_percent=...)? "),
        ("SCALEUPPERCENT", "did you mean autoscaling=Autoscaling(scale_up_percent=...)? "),
        ("zzz", ""),
    ],
)
def test_a_misspelt_argument_gets_the_closest_one(argument: str, suggestion: str) -> None:
    given: dict[str, Any] = {argument: 1}
    with pytest.raises(ValidationError) as info:
        plan_service(
            ServiceStackArgs(
                name="feed", team="news", image=ECR_IMAGE, port=8080, cluster=known_contract_for(),
                **given,
            )
        )  # fmt: skip
    (problem,) = info.value.problems
    assert str(problem).startswith(
        f"{argument}: got 1: ServiceStackArgs has no argument {argument!r}: {suggestion}"
        "(arguments: team, image, port, name, "
    )


def _alb(**kw: Any) -> Ingress:
    return Ingress(certificate_arn=CERT, **kw)


DD_RESERVED = (
    "is reserved: the platform sets Datadog's env, service and version tags (and Datadog "
    "reserves host, device, source); remove it"
)
AWS_TAGS: list[tuple[dict[str, Any], list[str]]] = [
    ({"ingress": _alb(idle_timeout_s=99), "envoy": EnvoyOptions(idle_timeout_s=100)}, []),
    ({"ingress": _alb(idle_timeout_s=100), "envoy": EnvoyOptions(idle_timeout_s=100)}, [
        "ingress.idle_timeout_s: got 100: must be below envoy.idle_timeout_s (100): the ALB must "
        "close idle connections before Envoy does, or clients get 502s"]),
    ({"ingress": _alb(idle_timeout_s=75), "envoy": EnvoyOptions(idle_timeout_s=75.5)}, []),
    ({"ingress": _alb(idle_timeout_s=1)}, []),
    ({"ingress": _alb(idle_timeout_s=4001)}, [
        "ingress.idle_timeout_s: got 4001: must be an integer from 1 to 4000"]),
    ({"ingress": _alb(deregistration_delay_s=-1)}, [
        "ingress.deregistration_delay_s: got -1: must be an integer from 0 to 3600"]),
    ({"ingress": Ingress(certificate_arn="arn:aws:acm:eu-west-1:123:certificate/x")}, [
        "ingress.certificate_arn: got 'arn:aws:acm:eu-west-1:123:certificate/x': must be an ACM "
        "certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>"]),
    ({"ingress": _alb(allowed_cidrs=["10.0.0.1/8"])}, [
        "ingress.allowed_cidrs[0]: got '10.0.0.1/8': must be an IPv4 CIDR with no host bits "
        "set, e.g. '10.0.0.0/8'"]),
    ({"ingress": _alb(allowed_cidrs=["10.0.0.0/8", "10.0.0.0/08"])}, [
        "ingress.allowed_cidrs[1]: got '10.0.0.0/08': is listed twice: a security group "
        "refuses duplicate rules"]),
    ({"ingress": _alb(allowed_cidrs=["10.0.0.0/8", "192.168.0.0/16"])}, []),
    ({"alarms": Alarms(p99_latency_s=0.001, error_rate_percent=0.01)}, []),
    ({"alarms": Alarms(period_s=60)}, []),
    ({"alarms": Alarms(period_s=61)}, [
        "alarms.period_s: got 61: must be a multiple of 60 seconds, at most 86400"]),
    ({"alarms": Alarms(period_s=0)}, [
        "alarms.period_s: got 0: must be a multiple of 60 seconds, at most 86400"]),
    ({"alarms": Alarms(unhealthy_hosts=1001)}, [
        "alarms.unhealthy_hosts: got 1001: must be an integer from 1 to 1000"]),
    ({"alarms": Alarms(evaluation_periods=3, datapoints_to_alarm=4)}, [
        "alarms.datapoints_to_alarm: got 4: must not exceed alarms.evaluation_periods (3)"]),
    ({"alarms": Alarms(evaluation_periods=1, datapoints_to_alarm=1)}, []),
    ({"alarms": Alarms(evaluation_periods=100, datapoints_to_alarm=101)}, [
        "alarms.datapoints_to_alarm: got 101: must be an integer from 1 to 100"]),
    ({"alarms": Alarms(evaluation_periods=0)}, [
        "alarms.evaluation_periods: got 0: must be an integer from 1 to 100"]),
    ({"tags": {"aws:x": "v"}}, [
        "tags['aws:x']: got 'v': the 'aws:' prefix is reserved by AWS: rename the key"]),
    ({"tags": {"AWS:x": "v"}}, [
        "tags['AWS:x']: got 'v': the 'aws:' prefix is reserved by AWS: rename the key"]),
    ({"tags": {"team": "v"}}, [
        "tags['team']: got 'v': is a company tag the platform sets: remove it"]),
    ({"tags": {"service": "v"}}, [
        "tags['service']: got 'v': is set by ServiceStack on every resource: remove it"]),
    ({"tags": {"": "v"}}, [
        "tags['']: got 'v': must be an AWS tag key: 1-128 letters, digits, spaces or _.:/=+-@"]),
    ({"tags": {"k\n": "v"}}, [
        "tags['k\\n']: got 'v': must be an AWS tag key: 1-128 letters, digits, spaces or "
        "_.:/=+-@"]),
    ({"tags": {"cost centre": "a b:c/d=e+f-g@h_i.j"}}, []),
    ({"datadog_tags": {"Product": "v"}}, [
        "datadog_tags['Product']: got 'v': must be a Datadog tag key: a lowercase letter, then "
        "lowercase letters, digits or _.:/- (Datadog lowercases keys, so 'Product' would become "
        "another tag)"]),
    ({"datadog_tags": {"k" * 128: "v"}}, []),
    ({"datadog_tags": {"k" * 129: "v"}}, [
        f"datadog_tags[{'k' * 129!r}]: got 'v': must be a Datadog tag key: a lowercase letter, "
        "then lowercase letters, digits or _.:/- (Datadog lowercases keys, so 'Product' would "
        "become another tag)"]),
    ({"datadog_tags": {"env": "v"}}, [f"datadog_tags['env']: got 'v': {DD_RESERVED}"]),
    ({"datadog_tags": {"kubernetes-namespace": "v"}}, [
        f"datadog_tags['kubernetes-namespace']: got 'v': {DD_RESERVED}"]),
    ({"datadog_tags": {"team": "v"}}, [
        "datadog_tags['team']: got 'v': is a company tag the platform sets: remove it"]),
    ({"datadog_tags": {"k": "v"}, "tags": {"k": "w"}}, [
        "datadog_tags['k']: got 'v': disagrees with tags['k'] ('w'): both become AWS tags; give "
        "the key once"]),
    ({"datadog_tags": {"k": "a\nb"}}, [
        "datadog_tags['k']: got 'a\\nb': must be a non-empty tag value of letters, digits or "
        "_.:/=+-@ (key:value at most 200 characters)"]),
    ({"tags": {f"k{i}": "v" for i in range(40)}, "datadog_tags": {f"d{i}": "v" for i in range(4)}},
     []),
    ({"tags": {f"k{i}": "v" for i in range(40)}, "datadog_tags": {f"d{i}": "v" for i in range(5)}},
     ["tags: got 45: tags and datadog_tags give 45 AWS tags; with the platform's 6 a resource "
      "may carry 50: keep at most 44"]),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), AWS_TAGS)
def test_each_alb_alarm_and_tag_rule(changes: dict[str, Any], expected: list[str]) -> None:
    if expected:
        assert _problems(**changes) == expected
    else:
        plan_service(_args(**changes))


def test_is_int_takes_integers_only() -> None:
    assert [is_int(v) for v in (0, -3, 2**40)] == [True, True, True]
    assert [is_int(v) for v in (True, False, 1.0, "1", None)] == [False] * 5


def test_team_namespace_reads_the_contract() -> None:
    args = _args()
    assert (
        team_namespace(args, ContractView.from_contract(contract_values(), "the cluster contract"))
        == "news"
    )
    search = dataclasses.replace(args, team="search")
    assert (
        team_namespace(
            search, ContractView.from_contract(contract_values(), "the cluster contract")
        )
        == "search-apps"
    )
    assert team_namespace(args, ContractView.unknown("the cluster contract")) is None


def _partly_known(**known: Any) -> ContractView:
    return dataclasses.replace(ContractView.unknown("the cluster contract"), **known)


def _placement(view: ContractView, **changes: Any) -> list[str]:
    args = dataclasses.replace(_args(cluster=None), **changes)
    try:
        plan_service(args, view=view)
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


ECR_ELSEWHERE = f"image: got {ECR_IMAGE!r}: its ECR registry is in "


def test_the_placement_rules_run_on_the_account_alone_and_on_the_region_alone() -> None:
    account = _partly_known(account_id="210987654321")
    region = _partly_known(region="us-east-1")
    assert _placement(ContractView.unknown("the cluster contract")) == []
    assert _placement(account) == [
        f"{ECR_ELSEWHERE}account 123456789012 but the cluster is in 210987654321: set ecr=False "
        "(the repository is managed elsewhere)"
    ]
    assert _placement(region) == [
        f"{ECR_ELSEWHERE}region eu-west-1 but the cluster is in us-east-1: set ecr=False (the "
        "repository is managed elsewhere), or push to the registry of us-east-1"
    ]
    assert _placement(account, ingress=Ingress(certificate_arn=CERT), ecr=False) == [
        f"ingress.certificate_arn: got {CERT!r}: is a certificate of account 123456789012, but "
        "the cluster is in account 210987654321: use a certificate of the cluster's account"
    ]
    assert _placement(region, ingress=Ingress(certificate_arn=CERT), ecr=False) == [
        f"ingress.certificate_arn: got {CERT!r}: is a certificate of region eu-west-1, but the "
        "ALB is in the cluster's region us-east-1: an ALB uses certificates of its own region "
        "only; request or import the certificate in us-east-1"
    ]


def test_an_hpa_metric_the_cluster_does_not_serve_is_refused() -> None:
    only_resource = ContractView.from_contract(
        contract_values(metricsApis=[RESOURCE_METRICS_API]), "the cluster contract"
    )
    only_custom = ContractView.from_contract(
        contract_values(metricsApis=[CUSTOM_METRICS_API]), "the cluster contract"
    )
    rps = [MetricTarget(name="rps", average_value="1")]
    assert _placement(only_resource) == []
    assert _placement(only_resource, autoscaling=Autoscaling(metrics=rps)) == [
        "autoscaling.metrics[0].type: got 'Pods': the Pods metric 'rps' is read from "
        "custom.metrics.k8s.io, which the cluster contract does not serve (it serves: "
        "metrics.k8s.io): scale on cpu_target_percent / memory_target_percent, or ask the "
        "platform team for a metrics adapter that serves it"
    ]
    assert (
        _placement(only_custom, autoscaling=Autoscaling(cpu_target_percent=None, metrics=rps)) == []
    )
    assert _placement(only_custom) == [
        "autoscaling.cpu_target_percent: got 70: the Resource metric 'cpu' is read from "
        "metrics.k8s.io, which the cluster contract does not serve (it serves: "
        "custom.metrics.k8s.io): scale on cpu_target_percent / memory_target_percent, or ask the "
        "platform team for a metrics adapter that serves it"
    ]


def test_pre_scaling_needs_a_cluster_with_a_pre_scaler() -> None:
    none = ContractView.from_contract(contract_values(prescaleTopicArn=""), "the cluster contract")
    assert _placement(none, prescaling=PreScaling(factor=2)) == [
        "prescaling: got PreScaling(factor=2): the cluster contract runs no push pre-scaler "
        "(platform:preScaler.enabled is false): drop prescaling, or ask the platform team to "
        "enable it"
    ]
    assert _placement(none) == []


@pytest.mark.parametrize(
    ("output", "garbled"),
    [
        ({"teamNamespaces": {1: "news"}}, "teamNamespaces"),
        ({"teamNamespaces": {"news": 1}}, "teamNamespaces"),
        ({"metricsApis": [5]}, "metricsApis"),
        ({"metricsApis": []}, "metricsApis"),
    ],
)
def test_a_garbled_contract_output_reads_as_absent(output: dict[str, Any], garbled: str) -> None:
    view = ContractView.from_contract(contract_values(**output), "the cluster contract")
    assert view.malformed == (garbled,)


def test_the_deprecated_facts_read_as_a_contract_view() -> None:
    view = ContractView.from_facts(ClusterFacts(environment="prod", team_namespaces={"a": "b"}))
    assert (view.environment, view.team_namespaces) == ("prod", {"a": "b"})
    garbled = ClusterFacts(environment=5, team_namespaces="a")  # type: ignore[arg-type]
    view = ContractView.from_facts(garbled)
    assert (view.environment, view.team_namespaces) == (None, {})


ACCOUNT_FIX = (
    "add 'aws:allowedAccountIds: [\"<12-digit account id>\"]' under config: in Pulumi.dev.yaml "
    "(quote the id: YAML reads a leading zero or a long number differently)"
)
LOST_ZERO = "has fewer than 12 digits: a leading zero was lost because the id is not quoted"
NOT_ACCOUNT = "must be a 12-digit account id"


@pytest.mark.parametrize(
    ("raw", "read", "why"),
    [
        ([100000000000], ("100000000000",), None),  # unquoted, and still 12 digits
        (["012345678901"], ("012345678901",), None),
        ('["123456789012"]', ("123456789012",), None),  # as the CLI hands a list over
        ([0], None, LOST_ZERO),
        ([99999999999], None, LOST_ZERO),
        ([-1], None, NOT_ACCOUNT),
        ([True], None, NOT_ACCOUNT),
        (["abc"], None, NOT_ACCOUNT),
    ],
)
def test_allowed_account_ids_as_the_stack_file_gives_them(
    raw: Any, read: tuple[str, ...] | None, why: str | None
) -> None:
    problems: list[Problem] = []
    assert _account_ids(raw, "Pulumi.dev.yaml", problems) == read
    expected = (
        [] if why is None else [f"aws:allowedAccountIds[0]: got {raw[0]!r}: {why}: {ACCOUNT_FIX}"]
    )
    assert [str(p) for p in problems] == expected


def test_load_config_refuses_a_union_it_cannot_read() -> None:
    assert _kind("when", int | None).optional is True
    assert _kind("when", int).optional is False
    with pytest.raises(TypeError, match=r"load_config: field 'when': unsupported type int \| str"):
        _kind("when", int | str)


def _kind_of(base: Any) -> Any:
    return _kind("value", base)


@pytest.mark.parametrize(
    ("base", "raw", "parsed"),
    [
        (str, "x", ("x", None)),
        (str, 5, (None, "must be a string")),
        (bool, "true", (True, None)),
        (bool, "True", (True, None)),
        (bool, "false", (False, None)),
        (bool, False, (False, None)),
        (bool, "on", (None, "must be true or false (YAML 1.2, which Pulumi reads, takes 'on' as "
                             "a string, not a boolean)")),
        (bool, "maybe", (None, "must be true or false")),
        (int, "+3", (3, None)),
        (int, -3, (-3, None)),
        (int, "3.0", (None, "must be a whole number")),
        (float, ".5", (0.5, None)),
        (float, 2, (2.0, None)),
        (float, "1e3", (1000.0, None)),
        (float, "x", (None, "must be a number")),
        (list[str], '["a", "b"]', (["a", "b"], None)),
        (list[str], ["a", 1], (None, "must be a list of strings (a YAML list, or JSON)")),
        (list[str], "a", (None, "must be a list of strings (a YAML list, or JSON)")),
        (dict[str, str], {"k": "v"}, ({"k": "v"}, None)),
        (dict[str, str], '{"k": 1}',
         (None, "must be a mapping of strings to strings (a YAML mapping, or JSON)")),
        (dict[str, str], "[]",
         (None, "must be a mapping of strings to strings (a YAML mapping, or JSON)")),
    ],
)  # fmt: skip
def test_each_config_type_reads_what_the_cli_hands_over(base: Any, raw: Any, parsed: Any) -> None:
    assert _parse(_kind_of(base), raw) == parsed


@pytest.mark.parametrize(
    ("tp", "message"),
    [
        (pulumi.Output[int], "load_config: field 'value': secrets are pulumi.Output[str]"),
        (dict[str, int], "load_config: field 'value' has type dict[str, int]; supported: "),
        (list[int], "load_config: field 'value' has type list[int]; supported: "),
    ],
)
def test_load_config_refuses_types_it_cannot_read(tp: Any, message: str) -> None:
    with pytest.raises(TypeError) as info:
        _kind_of(tp)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("meta", "value", "problem"),
    [
        ({"choices": ("a", "b")}, "b", None),
        ({"choices": ("a", "b")}, "c", "must be one of 'a', 'b'"),
        ({"minimum": 1, "maximum": 10}, 1, None),
        ({"minimum": 1, "maximum": 10}, 10, None),
        ({"minimum": 1, "maximum": 10}, 0, "must be from 1 to 10"),
        ({"minimum": 1, "maximum": 10}, 10.5, "must be from 1 to 10"),
        ({"minimum": 1}, 1, None),
        ({"minimum": 1}, 0.5, "must be at least 1"),
        ({"maximum": 10}, 10, None),
        ({"maximum": 10}, 11, "must be at most 10"),
        ({"maximum": 0}, True, None),  # a bool is not a number here
    ],
)
def test_config_bounds_at_their_edges(
    meta: dict[str, Any], value: Any, problem: str | None
) -> None:
    assert _bounds_problem(meta, value) == problem


@pytest.mark.parametrize(
    ("changes", "weight", "replicas"),
    [
        ({"autoscaling": None, "replicas": 1}, 10, (1, None)),  # never above the stable's count
        ({"autoscaling": None, "replicas": 3}, 10, (2, None)),  # at least 2
        ({"autoscaling": None, "replicas": 1000}, 50, (500, None)),  # in proportion
        ({"autoscaling": Autoscaling(min_replicas=3, max_replicas=10)}, 10, (2, 2)),
        ({"autoscaling": Autoscaling(min_replicas=2, max_replicas=1000)}, 50, (2, 500)),
        ({"autoscaling": Autoscaling(min_replicas=1000, max_replicas=1000)}, 50, (500, 500)),
    ],
)
def test_the_canary_runs_in_proportion_to_its_weight(
    changes: dict[str, Any], weight: int, replicas: tuple[int, int | None]
) -> None:
    assert canary_replicas(_args(**changes), weight) == replicas


def test_the_canary_version_label_derives_from_its_image() -> None:
    def version(image: str) -> str | None:
        ref = parse_image(image)
        assert ref is not None
        return canary_version(ref)

    assert version(f"{REPO}:{'a' * 70}") == "a" * 63
    assert version(f"{REPO}:_x") is None
    assert version(f"{REPO}@sha256:{'ab' * 32}") == "abababababab"


@pytest.mark.parametrize(
    "spec", [int, "Config", ServiceStackArgs(name="a", team="b", image="c", port=1)]
)
def test_load_config_takes_a_dataclass_type(spec: Any) -> None:
    with pytest.raises(TypeError, match="load_config takes a dataclass type"):
        load_config(spec)


R = REPO
"""The stable image's repository (the canary's too)."""


def C(**changes: Any) -> Canary:  # noqa: N802 - short, like the table it fills
    """A canary of the next version, with ``changes``."""
    return Canary(**{"image": f"{R}:1.5.0", **changes})


CANARY: list[tuple[dict[str, Any], list[str]]] = [
    (dict(canary=C(image="acme/app:1")),
     ["canary.image: got 'acme/app:1': must be 'registry/repository:tag' or 'registry/repository@sha256:<64 hex>' (e.g. '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.5.0')"]),
    (dict(canary=C(image=R)),
     ["canary.image: got '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed': has no tag: pin a version tag or a digest (never a moving tag)"]),
    (dict(canary=C(image=R+":latest")),
     ["canary.image: got '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:latest': 'latest' is a moving tag (the canary and the stable pods could run other code than the one analysed): pin a version tag or a digest"]),
    (dict(canary=C(image=R+":_x")),
     ["canary.image: got '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:_x': its tag is not a Kubernetes label value (the canary's version label): use a tag of letters, digits, '-', '_', '.' starting with a letter or digit"]),
    (dict(canary=C(image=R+"@sha256:"+"ab"*32)),
     []),
    (dict(canary=C(image=ECR_IMAGE)),
     ["canary.image: got '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2': is the stable image: a canary compares a new version with the running one; give the image to release, or remove the canary"]),
    (dict(canary=C(image=ECR_IMAGE, promoting=True)),
     []),
    (dict(canary=C(promoting=True)),
     ["canary.promoting: got True: says the stable image is the canary's, but image is '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2': let 'eksplatform canary promote' finish (or 'eksplatform canary rollback'), or remove promoting"]),
    (dict(canary=C(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/other:2")),
     ["canary.image: got '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/other:2': is not in the stable image's repository (123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed), which this stack manages: promotion would replace that ECR repository and delete its images; push the canary there, or set ecr=False"]),
    (dict(canary=C(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/other:2"), ecr=False),
     []),
    (dict(canary=C(weight=0)),
     []),
    (dict(canary=C(weight=100)),
     []),
    (dict(canary=C(weight=101)),
     ["canary.weight: got 101: must be a whole percentage from 0 to 100: the canary's share of the ALB's requests (0 keeps it running without traffic)"]),
    (dict(canary=C(weight=-1)),
     ["canary.weight: got -1: must be a whole percentage from 0 to 100: the canary's share of the ALB's requests (0 keeps it running without traffic)"]),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value="always"))),
     []),
    (dict(canary=C(header=CanaryHeader(name="", value="always"))),
     ["canary.header.name: got '': must be an HTTP header name of 1-40 letters, digits or !#$%&'+-.^_`|~ (no '*': the ALB takes no wildcard in a header name), e.g. 'x-canary'"]),
    (dict(canary=C(header=CanaryHeader(name="x", value="a"))),
     []),
    (dict(canary=C(header=CanaryHeader(name="x"*40, value="always"))),
     []),
    (dict(canary=C(header=CanaryHeader(name="x"*41, value="always"))),
     ["canary.header.name: got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx': must be an HTTP header name of 1-40 letters, digits or !#$%&'+-.^_`|~ (no '*': the ALB takes no wildcard in a header name), e.g. 'x-canary'"]),
    (dict(canary=C(header=CanaryHeader(name="Host", value="always"))),
     ["canary.header.name: got 'Host': is the Host header, which an ALB header condition does not match: pick a header of your own such as 'x-canary'"]),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value=""))),
     ["canary.header.value: got '': is empty: give the value that sends a request to the canary, e.g. 'always'"]),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value="a"*128))),
     []),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value="a*"))),
     ["canary.header.value: got 'a*': contains '*' or '?', which the ALB reads as wildcards (any value would match): use a literal value"]),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value="a?"))),
     ["canary.header.value: got 'a?': contains '*' or '?', which the ALB reads as wildcards (any value would match): use a literal value"]),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value="a b"))),
     []),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value=" a"))),
     ["canary.header.value: got ' a': must be 1-128 visible ASCII characters (spaces inside only)"]),
    (dict(canary=C(env={"DD_ENV": "x"})),
     ["canary.env['DD_ENV']: got 'DD_ENV': is reserved: the platform sets Datadog's DD_* variables (DD_ENV, DD_SERVICE, DD_VERSION, DD_AGENT_HOST) from the pod's labels and node; set tags with datadog_tags and the version with version="]),
    (dict(canary=C(env={"A": "x"}), secrets={"A": "s"}),
     ["canary.env['A']: got 'A': is one of the service's secrets: a variable comes from one place; give the canary's value in secrets, or use another name"]),
    (dict(canary=C(config_files={"..": "x"})),
     ["canary.config_files['..']: got '..': must be a file name of letters, digits, '-', '_' or '.' (no '/')"]),
    (dict(canary=C(config_files={"a": "x"*999_999})),
     []),
    (dict(canary=C(config_files={"a": "x"*1_000_000})),
     ["canary.config_files: got '1 files, 1000001 bytes': with the service's config_files exceeds 1000000 bytes: a ConfigMap holds at most 1 MiB; ship large files in the image"]),
    (dict(canary=C(config_files={"b": "x"*500_000}), config_files={"a": "x"*500_000}),
     ["canary.config_files: got '2 files, 1000002 bytes': with the service's config_files exceeds 1000000 bytes: a ConfigMap holds at most 1 MiB; ship large files in the image"]),
    (dict(canary=C(schedule=[])),
     ['canary.schedule: got []: must hold 1-20 weights: list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]']),
    (dict(canary=C(schedule=[*range(1, 11), 100])),
     []),
    (dict(canary=C(schedule=[100])),
     []),
    (dict(canary=C(schedule=[0, 100])),
     ['canary.schedule[0]: got 0: must be a weight from 1 to 100: list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]']),
    (dict(canary=C(schedule=[5, 5, 100])),
     ['canary.schedule[1]: got 5: is not above the weight before it (5): list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]']),
    (dict(canary=C(schedule=[5, 50])),
     ['canary.schedule: got [5, 50]: ends at 50, not 100: the last step sends the canary every request before promotion; list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]']),
    (dict(canary=C(schedule=[1, 101])),
     ['canary.schedule[1]: got 101: must be a weight from 1 to 100: list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]']),
    (dict(canary=C(analysis=CanaryAnalysis(window_minutes=180, min_requests=1, min_healthy_hosts=1000))),
     []),
    (dict(canary=C(analysis=CanaryAnalysis(window_minutes=181))),
     ['canary.analysis.window_minutes: got 181: must be an integer from 1 to 180']),
    (dict(canary=C(analysis=CanaryAnalysis(max_error_rate_percent=0))),
     ['canary.analysis.max_error_rate_percent: got 0: must be in (0, 100]']),
    (dict(canary=C(analysis=CanaryAnalysis(max_error_rate_percent=100, max_error_rate_increase=0, max_p99_latency_s=600, max_p99_latency_ratio=1))),
     []),
    (dict(canary=C(analysis=CanaryAnalysis(max_error_rate_increase=100.5))),
     ['canary.analysis.max_error_rate_increase: got 100.5: must be in [0, 100]']),
    (dict(canary=C(analysis=CanaryAnalysis(max_p99_latency_ratio=0.99))),
     ['canary.analysis.max_p99_latency_ratio: got 0.99: must be in [1, 100]']),
    (dict(canary=C(analysis=CanaryAnalysis(max_p99_latency_s=float("nan")))),
     ['canary.analysis.max_p99_latency_s: got nan: must be in (0, 600]']),
    (dict(canary=C(ramp_down_wait_s=3600)),
     []),
    (dict(canary=C(ramp_down_wait_s=3601)),
     ['canary.ramp_down_wait_s: got 3601: must be an integer from 0 to 3600']),
    (dict(canary=C(), ingress=None),
     ["canary: got '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.5.0': needs ingress=Ingress(...): a canary receives a share of the service's ALB requests, and this service has no ALB (in-cluster callers always reach the stable pods); add an ALB, or remove the canary"]),
    (dict(canary=C(), tags={"eksplatform-release": "x"}),
     ["tags['eksplatform-release']: got 'x': is set by ServiceStack on the canary's resources (eksplatform canary finds them by it): remove it"]),
    (dict(canary=C(schedule=[*range(1, 21), 100])),
     ['canary.schedule: got [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 100]: must hold 1-20 weights: list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]']),
    (dict(canary=C(header=CanaryHeader(name="x-canary", value="a\x01"))),
     ["canary.header.value: got 'a\\x01': must be 1-128 visible ASCII characters (spaces inside only)"]),
    (dict(canary=C(), tags={f"k{i}": "v" for i in range(44)}),
     ["tags: got 44: tags and datadog_tags give 44 AWS tags; the canary's resources carry eksplatform-release too, and a resource may carry 50: keep at most 43"]),
    (dict(canary=C(), tags={f"k{i}": "v" for i in range(43)}),
     []),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), CANARY)
def test_each_canary_rule(changes: dict[str, Any], expected: list[str]) -> None:
    args = _args(**{"ingress": Ingress(certificate_arn=CERT), **changes})
    if expected:
        with pytest.raises(ValidationError) as info:
            plan_service(args)
        assert [str(p) for p in info.value.problems] == expected
    else:
        plan_service(args)


@pytest.mark.parametrize(
    ("path", "spelt"),
    [
        ("canary", "news-feed:canary"),
        ("image", "image"),
        ("canary.image", "news-feed:canary.image"),
        ("canary.config_files['a']", "news-feed:canary.configFiles['a']"),
        ("canary.analysis.min_requests", "news-feed:canaryPolicy.analysis.minRequests"),
        ("canary.analysis", "news-feed:canaryPolicy.analysis"),
        ("canary.schedule[2]", "news-feed:canaryPolicy.schedule[2]"),
        ("canary.ramp_down_wait_s", "news-feed:canaryPolicy.rampDownWaitSeconds"),
        ("canary.weird", "news-feed:canary.weird"),
    ],
)
def test_canary_fields_are_named_as_the_stack_file_spells_them(path: str, spelt: str) -> None:
    assert config_field(path, "news-feed") == spelt


WHEN = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TIME = "must be a UTC time like '2026-12-01T10:00:00Z' (written by eksplatform canary)"


@pytest.mark.parametrize(
    ("kind", "value", "parsed", "problems"),
    [
        ("str", "x", (True, "x"), []),
        ("str", 5, (False, None), ["v: got 5: must be a string (quote it)"]),
        ("int", 5, (True, 5), []),
        ("int", True, (False, None), ["v: got True: must be a whole number"]),
        ("int", 5.0, (False, None), ["v: got 5.0: must be a whole number"]),
        ("number", 5, (True, 5.0), []),
        ("number", 0.5, (True, 0.5), []),
        ("number", True, (False, None), ["v: got True: must be a number"]),
        ("number", "5", (False, None), ["v: got '5': must be a number"]),
        ("bool", False, (True, False), []),
        ("bool", "false", (False, None), ["v: got 'false': must be true or false"]),
        ("timestamp", "2026-12-01T10:00:00Z", (True, WHEN), []),
        ("timestamp", "2026-13-01T10:00:00Z", (False, None),
         [f"v: got '2026-13-01T10:00:00Z': {TIME}"]),
        ("timestamp", "2026-12-01 10:00", (False, None), [f"v: got '2026-12-01 10:00': {TIME}"]),
        ("timestamp", 5, (False, None), [f"v: got 5: {TIME}"]),
        ("strmap", {"A": "1"}, (True, {"A": "1"}), []),
        ("strmap", {"A": 1, "B": "2"}, (False, {"A": 1, "B": "2"}),
         ["v['A']: got 1: must be a string (quote it)"]),
        ("strmap", ["A"], (False, None), ["v: got ['A']: must be a mapping of names to strings"]),
        ("intlist", [5, 100], (True, (5, 100)), []),
        ("intlist", [5, True, "x"], (False, (5, True, "x")),
         ["v[1]: got True: must be a whole number", "v[2]: got 'x': must be a whole number"]),
        ("intlist", 5, (False, None),
         ["v: got 5: must be a list of weights, e.g. [5, 25, 50, 100]"]),
    ],
)  # fmt: skip
def test_each_canary_config_value_kind(
    kind: str, value: Any, parsed: tuple[bool, Any], problems: list[str]
) -> None:
    found = Problems()
    assert canary_value(kind, value, "v", found) == parsed
    assert [str(p) for p in found] == problems


CANARY_KEYS_TEXT = (
    "image, weight, header, env, configFiles, promoting, draining, previousImage, changedAt"
)


@pytest.mark.parametrize(
    ("raw_canary", "raw_policy", "problems"),
    [
        ("x", None, [f"news-feed:canary: got 'x': must be a mapping with the keys {CANARY_KEYS_TEXT}"]),
        ({"image": "r.io/a:1"}, "x", [
            "news-feed:canaryPolicy: got 'x': must be a mapping with the keys schedule, analysis, "
            "rampDownWaitSeconds"]),
        ({"image": "r.io/a:1", "header": "x"}, None, [
            "news-feed:canary.header: got 'x': must be a mapping with the keys name, value"]),
        ({"image": "r.io/a:1", "header": {"name": "x"}}, None, [
            "news-feed:canary.header.value: missing: is required: add value: <value>"]),
        ({"image": "r.io/a:1", "imge": 1}, None, [
            "news-feed:canary.imge: got 1: unknown key: did you mean 'image'? (keys: "
            f"{CANARY_KEYS_TEXT})"]),
        ({"image": "r.io/a:1"}, {"analysis": 5}, [
            "news-feed:canaryPolicy.analysis: got 5: must be a mapping with the keys windowMinutes, "
            "minRequests, maxErrorRatePercent, maxErrorRateIncrease, maxP99LatencySeconds, "
            "maxP99LatencyRatio, minHealthyHosts"]),
        ({"image": "r.io/a:1", "PREVIOUS_IMAGE": "x"}, None, [
            "news-feed:canary.PREVIOUS_IMAGE: got 'x': unknown key: did you mean 'previousImage'? "
            f"(keys: {CANARY_KEYS_TEXT})"]),
        ({"image": "r.io/a:1", "RAMPDOWN": 1}, None, [
            f"news-feed:canary.RAMPDOWN: got 1: unknown key: (keys: {CANARY_KEYS_TEXT})"]),
        ({}, None, ["news-feed:canary.image: missing: is required: add image: <value>"]),
    ],
)  # fmt: skip
def test_a_canary_stack_config_of_the_wrong_shape(
    raw_canary: Any, raw_policy: Any, problems: list[str]
) -> None:
    parsed = parse_canary(raw_canary, raw_policy, project="news-feed")
    assert [str(p) for p in parsed.problems] == problems


def test_a_canary_stack_config_with_every_part() -> None:
    parsed = parse_canary(
        {"image": "r.io/a:1", "header": None, "weight": 5, "env": {"A": "1"}},
        {"schedule": [5, 100], "analysis": {"minRequests": 10}, "rampDownWaitSeconds": 0},
        project="news-feed",
    )
    assert parsed.problems == ()
    assert parsed.canary == Canary(
        image="r.io/a:1",
        weight=5,
        env={"A": "1"},
        schedule=(5, 100),
        analysis=CanaryAnalysis(min_requests=10),
        ramp_down_wait_s=0,
    )
    assert config_source(parsed.canary) == "news-feed"
    assert config_source(Canary(image="r.io/a:1")) is None


def test_a_bad_port_never_collides_with_another_port() -> None:
    assert _problems(port="x", dependencies=[Dependency(name="geo", egress_port=1)]) == [
        "port: got 'x': must be an integer"
    ]


@pytest.mark.parametrize(
    ("statement", "problems"),
    [
        (IamStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::news-x/*"],
                      effect="allow"),  # type: ignore[arg-type]
         ["s.effect: got 'allow': must be 'Allow' or 'Deny'"]),
        (IamStatement(actions=["s3:GetObject"], resources=[]),
         ["s.resources: got []: must be a non-empty list of ARNs"]),
        (IamStatement(actions=["s3:GetObject"], resources="arn:aws:s3:::news-x/*"),
         ["s.resources: got 'arn:aws:s3:::news-x/*': must be a non-empty list of ARNs"]),
        (IamStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::news-x/*"]), []),
    ],
)  # fmt: skip
def test_a_statement_checked_on_its_own(statement: IamStatement, problems: list[str]) -> None:
    found = Problems()
    check_statement(found, "s", statement)
    assert [str(p) for p in found] == problems


def test_the_canary_state_defaults_to_not_draining() -> None:
    plain = parse_canary({"image": "r.io/a:1"}, None, project="news-feed")
    assert plain.state.draining is False
    state = {"draining": True, "previousImage": "r.io/a:0", "changedAt": "2026-12-01T10:00:00Z"}
    draining = parse_canary({"image": "r.io/a:1", **state}, None, project="news-feed")
    assert draining.state == CanaryState(draining=True, previous_image="r.io/a:0", changed_at=WHEN)
    assert draining.canary is not None and shape_problems(draining.canary) == []


def test_a_canary_policy_without_a_canary_is_checked_on_its_own(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main="from eksplatform.service import canary_config\n\ncanary_config()\n",
        stacks={"dev": STACK_CONFIG + "  svc:canaryPolicy:\n    schedule: [5, 50]\n"},
    )
    result = run_preview(ws, "services/svc", "dev")
    assert result.exit_code == EXIT_INVALID_CONFIG and result.registered_before_error == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.dev.yaml: invalid canary configuration: 1 problem:\n"
        "  - svc:canaryPolicy.schedule: got [5, 50]: ends at 50, not 100: the last step sends "
        "the canary every request before promotion; list rising weights from 1 to 100 that end "
        "at 100, e.g. [5, 25, 50, 100]"
    ]


ACTS_ON_BUCKETS = (
    "s.actions[0]: got 's3:ListBucket': acts on accesspoint / bucket resources and no resource "
    "of this statement is one: add its ARN, or move the action to the statement that names it"
)


@pytest.mark.parametrize(
    ("statement", "problems"),
    [
        (IamStatement(actions=[], resources=["arn:aws:s3:::news-x/*"]),
         ["s.actions: got []: must be a non-empty list of IAM actions"]),
        (IamStatement(actions=["iam:CreateRole"], resources=["*"]),
         ["s.actions[0]: got 'iam:CreateRole': service roles may not change IAM, STS, accounts or "
          "organizations (the permissions boundary denies it anyway): ask the platform team"]),
        (IamStatement(actions=["sts:AssumeRole"], resources=["*"]),
         ["s.actions[0]: got 'sts:AssumeRole': service roles may not change IAM, STS, accounts or "
          "organizations (the permissions boundary denies it anyway): ask the platform team"]),
        (IamStatement(actions=["nosuch:GetThing"], resources=["*"]),
         ["s.actions[0]: got 'nosuch:GetThing': 'nosuch' is not an AWS service prefix in the AWS "
          f"action list ({_data_version()}): check the spelling"]),
        (IamStatement(actions=["s3:GetObjectt"], resources=["arn:aws:s3:::news-x/*"]),
         ["s.actions[0]: got 's3:GetObjectt': is not an action of s3 in the AWS action list "
          f"({_data_version()}) (did you mean s3:GetObject?): check the spelling"]),
        (IamStatement(actions=["s3:Zq*"], resources=["arn:aws:s3:::news-x/*"]),
         ["s.actions[0]: got 's3:Zq*': matches no action of s3 in the AWS action list "
          f"({_data_version()}): check the spelling"]),
        (IamStatement(actions=["s3:Zqzqzq"], resources=["arn:aws:s3:::news-x/*"]),
         ["s.actions[0]: got 's3:Zqzqzq': is not an action of s3 in the AWS action list "
          f"({_data_version()}): check the spelling"]),
    ],
)  # fmt: skip
def test_each_action_rule(statement: IamStatement, problems: list[str]) -> None:
    found = Problems()
    check_statement(found, "s", statement)
    assert [str(p) for p in found] == problems


def test_resolved_resources_are_matched_with_the_actions_once() -> None:
    loop = asyncio.new_event_loop()  # an Output needs one; no Pulumi run here
    asyncio.set_event_loop(loop)
    try:
        later = pulumi.Output.from_input("arn:aws:s3:::news-x/*")
        objects = "arn:aws:s3:::news-x/*"

        def resolved(*resources: Any) -> list[str]:
            st = IamStatement(actions=["s3:ListBucket"], resources=list(resources))
            found = Problems()
            check_resolved_statement(
                found, "s", st, [objects] * len(resources), account=ACCOUNT, region="eu-west-1"
            )
            return [str(p) for p in found]

        assert resolved(later) == [ACTS_ON_BUCKETS]
        assert resolved(later, objects) == [ACTS_ON_BUCKETS]
        assert resolved(objects) == []  # plain ARNs were matched before registration
        st = IamStatement(actions=["s3:GetObject"], resources=[later])
        found = Problems()
        check_resolved_statement(found, "s", st, [5], account=ACCOUNT, region="eu-west-1")
        assert [str(p) for p in found] == ["s.resources[0]: got 5: must resolve to an ARN string"]
    finally:
        pending = asyncio.all_tasks(loop)
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()


@pytest.mark.parametrize(
    ("actions", "resource", "message"),
    [
        (["s3:Get*"], "arn:aws:s3:::news-x/*", None),  # a wildcard of reads
        (["kms:Decrypt"], f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/abc", None),
        (["ssm:SendCommand"], f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-123",
         "runs commands on, or opens a session to, instances: services never get node access "
         "(the permissions boundary denies it)"),
        (["s3:PutBucketPolicy"], "arn:aws:s3:::news-x",
         "manages permissions (AWS access level 'Permissions management': resource policies, "
         "ACLs, grants): the deploy sets them, never a service role (the permissions boundary "
         "denies it)"),
        (["kms:ScheduleKeyDeletion"], f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/abc",
         "destroys, disables or re-points a KMS key (the permissions boundary denies it): ask "
         "the platform team"),
    ],
)  # fmt: skip
def test_each_allowed_action_rule(actions: list[str], resource: str, message: str | None) -> None:
    found = Problems()
    check_statement(found, "s", IamStatement(actions=actions, resources=[resource]))
    expected = [] if message is None else [f"s.actions[0]: got {actions[0]!r}: {message}"]
    assert [str(p) for p in found] == expected


def test_a_wildcard_with_writes_lists_the_first_three() -> None:
    found = Problems()
    check_statement(found, "s", IamStatement(actions=["s3:Put*"], resources=["arn:aws:s3:::x/*"]))
    (problem,) = [str(p) for p in found]
    assert problem.startswith("s.actions[0]: got 's3:Put*': expands to ")
    assert " of them Permissions management / Tagging / Write (s3:Put" in problem
    assert problem.endswith(", ...): list the actions the service calls (wildcards only for reads)")


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (f"arn:aws:sqs:eu-west-1:{ACCOUNT}:news-q", None),
        ("arn:aws:s3:::news-x/*", None),  # a global resource names no account or region
        ("arn:aws:sqs:eu-west-1:210987654321:news-q",
         "is in account 210987654321, not the cluster's account 123456789012: a service role "
         "acts only on its own account's resources"),
        (f"arn:aws:sqs:us-east-1:{ACCOUNT}:news-q",
         "is in region us-east-1, not the cluster's region eu-west-1: name the resource of this "
         "region"),
    ],
)  # fmt: skip
def test_a_resolved_resource_lies_in_the_clusters_account_and_region(
    resource: str, message: str | None
) -> None:
    st = IamStatement(actions=["sqs:SendMessage"], resources=[resource])
    found = Problems()
    check_resolved_statement(found, "s", st, [resource], account=ACCOUNT, region="eu-west-1")
    expected = [] if message is None else [f"s.resources[0]: got {resource!r}: {message}"]
    assert [str(p) for p in found] == expected


def test_a_wildcard_of_three_writes_names_all_three() -> None:
    found = Problems()
    table = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/news-feed"
    check_statement(found, "s", IamStatement(actions=["dynamodb:Res*"], resources=[table]))
    assert [str(p) for p in found] == [
        "s.actions[0]: got 'dynamodb:Res*': expands to 3 actions, 3 of them Write "
        "(dynamodb:RestoreTableFromAwsBackup, dynamodb:RestoreTableFromBackup, "
        "dynamodb:RestoreTableToPointInTime): list the actions the service calls (wildcards "
        "only for reads)"
    ]


def test_a_wildcard_of_four_writes_names_three_and_more() -> None:
    found = Problems()
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:news-alerts"
    check_statement(found, "s", IamStatement(actions=["sns:Cre*"], resources=[topic]))
    (problem, *_) = [str(p) for p in found]
    assert problem == (
        "s.actions[0]: got 'sns:Cre*': expands to 4 actions, 4 of them Permissions management / "
        "Write (sns:CreatePlatformApplication, sns:CreatePlatformEndpoint, "
        "sns:CreateSMSSandboxPhoneNumber, ...): list the actions the service calls (wildcards "
        "only for reads)"
    )


@pytest.mark.parametrize("action", ["cloudwatch:GetMetricData", "s3:ListBucket"])
def test_star_serves_actions_without_a_resource_and_listings(action: str) -> None:
    found = Problems()
    check_statement(found, "s", IamStatement(actions=[action], resources=["*"]))
    assert list(found) == []


def _resource_problems(action: str, resource: str) -> list[str]:
    owner = Owner(team="news", other_teams=("search",), environment="prod")
    found = Problems()
    check_statement(found, "s", IamStatement(actions=[action], resources=[resource]), owner)
    prefix = f"s.resources[0]: got {resource!r}: "
    return [str(p).removeprefix(prefix) for p in found if p.field == "s.resources[0]"]


SEARCH_CONVENTION = (
    "follows the naming convention of team 'search' (buckets <env>-<team>-*, secrets <team>/*, "
    "parameters /<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and "
    "alarms <team>-*): a service of team 'news' reaches only its own team's resources (the "
    "permissions boundary denies the rest)"
)
SM = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret"


@pytest.mark.parametrize(
    ("action", "resource", "problems"),
    [
        ("s3:GetObject", "not-an-arn", ["must be an ARN ('arn:...') or '*'"]),
        ("s3:GetObject", "arn:foo:s3:::x/*",
         ["partition 'foo' is not an AWS partition (aws, aws-cn, aws-us-gov)"]),
        ("s3:GetObject", "arn:aws:nosuch:::x",
         [f"'nosuch' is not one AWS service in the AWS action list ({_data_version()}): name the "
          "service of the resource"]),
        ("sqs:SendMessage", f"arn:aws:sqs:*:{ACCOUNT}:news-q",
         ["region '*' means other regions too: name the cluster's region"]),
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:*:news-q",
         ["account '*' means other accounts too: name the cluster's account"]),
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:123:news-q",
         ["account '123' is not a 12-digit AWS account id"]),
        ("kinesis:PutRecord", f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:foo/x",
         ["is not the ARN of any kinesis resource (formats: "
          "arn:${Partition}:kinesis:${Region}:${Account}:${StreamType}/${StreamName}/consumer/"
          "${ConsumerName}:${ConsumerCreationTimpstamp}; "
          "arn:${Partition}:kinesis:${Region}:${Account}:stream/${StreamName}; "
          "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId})"]),
        ("logs:CreateLogStream", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/news/*",
         ["is not specific: the log-group name '/news/*' has a wildcard, so it covers resources "
          "of other services and teams: name the log-group (wildcards only below it, like "
          "objects in a bucket)"]),
        ("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/news/x*", []),
        ("secretsmanager:GetSecretValue", f"{SM}:news-db-*", []),
        ("athena:GetWorkGroup", f"arn:aws:athena:eu-west-1:{ACCOUNT}:nothing/x",
         ["is not the ARN of any athena resource (formats: "
          "arn:${Partition}:athena:${Region}:${Account}:capacity-reservation/"
          "${CapacityReservationName}; "
          "arn:${Partition}:athena:${Region}:${Account}:datacatalog/${DataCatalogName}; "
          "arn:${Partition}:athena:${Region}:${Account}:workgroup/${WorkGroupName}; ...)"]),
        ("logs:CreateLogStream", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/news/app:*", []),
        ("logs:CreateLogStream", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/search/app:*",
         [SEARCH_CONVENTION]),
        ("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/news/x", []),
        ("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/search/x",
         [SEARCH_CONVENTION]),
        ("secretsmanager:GetSecretValue", f"{SM}:news/db-??????", []),
        ("secretsmanager:GetSecretValue", f"{SM}:search/db-*", [SEARCH_CONVENTION]),
        ("secretsmanager:GetSecretValue", f"{SM}:search-db-AbCdEf", [SEARCH_CONVENTION]),
        ("secretsmanager:GetSecretValue", f"{SM}:*",
         ["is not specific: the Secret name '*' has a wildcard, so it covers resources of other "
          "services and teams: name the Secret (wildcards only below it, like objects in a "
          "bucket)"]),
    ],
)  # fmt: skip
def test_each_resource_rule(action: str, resource: str, problems: list[str]) -> None:
    assert _resource_problems(action, resource) == problems


def test_an_arn_of_no_resource_lists_three_formats_and_more() -> None:
    (problem,) = _resource_problems("s3:GetObject", f"arn:aws:s3:eu-west-1:{ACCOUNT}:x")
    assert problem.startswith("is not the ARN of any s3 resource (formats: arn:")
    assert problem.count("; ") == 3 and problem.endswith("; ...)")


TABLE = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/news-feed"
OPERATOR = (
    "unknown condition operator: use an IAM operator like StringEquals, StringLike, ArnLike, "
    "Bool, NumericLessThan or Null, optionally with IfExists or a ForAnyValue:/ForAllValues: "
    "prefix"
)
REGION_KEY = "aws:RequestedRegion"


@pytest.mark.parametrize(
    ("conditions", "problems"),
    [
        ({"StringEqualz": {REGION_KEY: "eu-west-1"}},
         [f"s.conditions['StringEqualz']: got 'StringEqualz': {OPERATOR}"]),
        ({5: {"a": "b"}}, [f"s.conditions[5]: got 5: {OPERATOR}"]),
        ({"NullIfExists": {REGION_KEY: "true"}},
         [f"s.conditions['NullIfExists']: got 'NullIfExists': {OPERATOR}"]),
        ({"StringEquals": {}}, [
            "s.conditions['StringEquals']: got {}: must map condition keys to a value or a list "
            "of values"]),
        ({"StringEquals": {"nosuch:key": "x"}}, [
            "s.conditions['StringEquals']['nosuch:key']: got 'nosuch:key': unknown condition key: "
            "neither a global aws: key nor a key of dynamodb in the AWS action list "
            f"({_data_version()})"]),
        ({"StringEquals": {REGION_KEY: []}}, [
            f"s.conditions['StringEquals']['{REGION_KEY}']: got []: must be a value or a "
            "non-empty list of values"]),
        ({"Null": {REGION_KEY: "true"}}, []),
        ({"Null": {REGION_KEY: "maybe"}}, [
            f"s.conditions['Null']['{REGION_KEY}']: got 'maybe': Null takes one value, 'true' or "
            "'false'"]),
        ({"Null": {REGION_KEY: ["true", "false"]}}, [
            f"s.conditions['Null']['{REGION_KEY}']: got ['true', 'false']: Null takes one value, "
            "'true' or 'false'"]),
        ({"NumericLessThan": {REGION_KEY: "1"}}, [
            f"s.conditions['NumericLessThan']['{REGION_KEY}']: got '{REGION_KEY}': "
            f"NumericLessThan compares Numeric values but {REGION_KEY} is a String key: use an "
            "operator for String values"]),
        ({"StringEquals": {"aws:TagKeys": "a"}}, [
            "s.conditions['StringEquals']['aws:TagKeys']: got 'aws:TagKeys': aws:TagKeys holds "
            "several values: write ForAnyValue:StringEquals or ForAllValues:StringEquals"]),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}, []),
        ({"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["x"]}}, []),
        ({"ForAllValues:StringEquals": {REGION_KEY: "eu-west-1"}}, [
            f"s.conditions['ForAllValues:StringEquals']['{REGION_KEY}']: got '{REGION_KEY}': "
            f"{REGION_KEY} holds one value: drop ForAllValues: (ForAllValues: matches when the key "
            "is absent, which turns a check into a bypass)"]),
        ({"Bool": {"aws:SecureTransport": "true"}}, []),
        ({"Bool": {"aws:SecureTransport": "yes"}}, [
            "s.conditions['Bool']['aws:SecureTransport']: got 'yes': Bool takes 'true' or "
            "'false'"]),
        ("x", ["s.conditions: got 'x': must map operators to {key: values}"]),
    ],
)  # fmt: skip
def test_each_condition_rule(conditions: Any, problems: list[str]) -> None:
    found = Problems()
    statement = IamStatement(actions=["dynamodb:GetItem"], resources=[TABLE], conditions=conditions)
    check_statement(found, "s", statement)
    assert [str(p) for p in found] == problems


def test_an_action_without_a_resource_goes_with_star() -> None:
    found = Problems()
    check_statement(
        found, "s", IamStatement(actions=["cloudwatch:GetMetricData"], resources=[TABLE])
    )
    assert [str(p) for p in found] == [
        "s.actions[0]: got 'cloudwatch:GetMetricData': takes no resource (AWS authorizes it on "
        "'*' only): put it in a statement with resources ['*']"
    ]


def test_a_service_key_needs_an_action_of_its_service() -> None:
    found = Problems()
    statement = IamStatement(
        actions=["s3:Zq*"],
        resources=["arn:aws:s3:::news-x/*"],
        conditions={"StringEquals": {"s3:prefix": "a"}},
    )
    check_statement(found, "s", statement)
    assert [str(p) for p in found][1:] == [
        "s.conditions['StringEquals']['s3:prefix']: got 's3:prefix': unknown condition key: "
        "neither a global aws: key nor a key of the statement services in the AWS action list "
        f"({_data_version()})"
    ]


def test_a_resource_of_the_wrong_type_in_a_statement_checked_on_its_own() -> None:
    found = Problems()
    statement = IamStatement(actions=["s3:GetObject"], resources=[5])  # type: ignore[list-item]
    check_statement(found, "s", statement)
    assert [str(p) for p in found] == [
        "s.resources[0]: got 5: must be an ARN string or an Output of one"
    ]


def test_actions_are_matched_with_resources_only_when_every_resource_is_known() -> None:
    loop = asyncio.new_event_loop()  # an Output needs one; no Pulumi run here
    asyncio.set_event_loop(loop)
    try:
        later = pulumi.Output.from_input("arn:aws:s3:::news-y")
        found = Problems()
        statement = IamStatement(actions=["s3:ListBucket"], resources=[later, "arn:aws:s3:::x/*"])
        check_statement(found, "s", statement)
        assert list(found) == []  # checked once the Output resolves (check_resolved_statement)
    finally:
        pending = asyncio.all_tasks(loop)
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()


# --- a developer stack's own problems, beside the arguments' -------------------------------------


def _developer(*problems: Problem) -> Any:
    from eksplatform.service.developer import DeveloperSettings

    return DeveloperSettings(
        stack="dev-alice",
        developer="alice",
        namespace="dev-alice",
        now=datetime(2026, 12, 3, tzinfo=UTC),
        expires=None,
        expires_raw=None,
        run=(),
        problems=problems,
    )


def test_a_developer_stack_against_production_is_refused() -> None:
    assert _error(_args(environment="prod"), developer=_developer()) == (
        "ServiceStack 'feed': 1 problem:\n"
        f"  - {pulumi.get_project()}:clusterStack: got '<cluster contract>': a developer stack "
        "(dev-alice) "
        "deploys only to a non-production cluster, and the cluster contract is 'prod', which is "
        "production: point clusterStack at the staging cluster stack"
    )


def test_a_developer_problem_on_a_field_already_refused_is_not_repeated() -> None:
    developer = _developer(
        Problem("port", 1, "from the developer settings"), Problem("devExpires", "x", "bad")
    )
    assert _error(_args(environment="prod", port=0), developer=developer) == (
        "ServiceStack 'feed': 3 problems:\n"
        "  - port: got 0: must be an integer port 1-65535\n"
        "  - devExpires: got 'x': bad\n"
        f"  - {pulumi.get_project()}:clusterStack: got '<cluster contract>': a developer stack "
        "(dev-alice) "
        "deploys only to a non-production cluster, and the cluster contract is 'prod', which is "
        "production: point clusterStack at the staging cluster stack"
    )


def test_an_architecture_listed_twice_is_refused() -> None:
    assert _error(_args(architectures=("amd64", "amd64"))) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - architectures: got ('amd64', 'amd64'): lists amd64 more than once"
    )


def test_a_developer_copy_keeps_the_clusters_environment_and_cost_centre() -> None:
    from eksplatform.core import devenv

    offer = devenv.DevOffer(enabled=True, max_ttl_hours=168, default_ttl_hours=24)
    contract = known_contract_for("staging")
    known = dict(contract.known, devEnvironments=offer.to_contract())
    args = _args(environment="staging", cluster=dataclasses.replace(contract, known=known))
    plan = plan_service(args, developer=_developer())
    context = plan.context
    assert context is not None
    assert (plan.namespace, context.environment) == ("dev-alice", "staging")
    assert (context.prod, context.deletion_protection) == (False, False)
    assert context.alert_topic_arn is None
    assert context.developer is not None
    assert context.developer.role_arn == "arn:aws:iam::123456789012:role/news-feed-staging"
    in_govcloud = dict(known, region="us-gov-west-1")
    args = _args(
        environment="staging",
        cluster=dataclasses.replace(contract, known=in_govcloud),
        image="123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/news/feed:1.4.2",
    )
    govcloud = plan_service(args, developer=_developer()).context
    assert govcloud is not None
    developer = govcloud.developer
    assert developer is not None
    assert developer.role_arn == "arn:aws-us-gov:iam::123456789012:role/news-feed-staging"
    assert context.tags == {
        "cost-centre": "cc-4242",
        "environment": "staging",
        "kubernetes-namespace": "dev-alice",
        "managed-by": "pulumi-eksplatform",
        "service": "feed",
        "team": "news",
    }


def test_an_image_of_an_architecture_no_pool_has_is_refused() -> None:
    assert _error(_args(architectures=("arm64",))) == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - architectures: got ('arm64',): the image is built for arm64, but the cluster "
        "contract has node pools for amd64 only, so no pod could start: build the image for "
        "amd64 too and list it here, or ask the platform team for an arm64 node pool"
    )


@pytest.mark.parametrize(
    "channels",
    [{"News": "@news-oncall@example.com"}, {"news": 5}, {"news": "not a handle"}, ["news"]],
)
def test_a_garbled_team_channel_map_in_the_contract_is_named(channels: Any) -> None:
    contract = known_contract_for("prod")
    known = dict(contract.known, teamMonitorChannels=channels)
    message = _error(_args(cluster=dataclasses.replace(contract, known=known)))
    assert (
        "  - cluster: got '<contract>': the cluster contract lacks or garbles the outputs "
        "teamMonitorChannels: is it the platform's cluster stack" in message
    )

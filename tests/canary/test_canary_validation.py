"""The canary's bad inputs: refused before anything is registered, each with its exact message,
under the argument's name (Python) or the stack file's key (``canary_config()``); each limit at
its edge on both sides, each optional argument once with a valid value."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from eksplatform.preview.engine import EXIT_INVALID_CONFIG
from eksplatform.service import (
    Autoscaling,
    Canary,
    CanaryAnalysis,
    CanaryHeader,
    Ingress,
    Problem,
    ServiceStackArgs,
    ValidationError,
    plan_service,
)
from eksplatform.service.canary_config import config_field, parse_canary

from tests.service.programs import CERT, ECR_IMAGE, known_contract_for, preview_service

CANARY_IMAGE = ECR_IMAGE.replace(":1.4.2", ":1.5.0")
NO_ALB = (
    "needs ingress=Ingress(...): a canary receives a share of the service's ALB requests, and "
    "this service has no ALB (in-cluster callers always reach the stable pods); add an ALB, or "
    "remove the canary"
)
WEIGHT = (
    "must be a whole percentage from 0 to 100: the canary's share of the ALB's requests (0 "
    "keeps it running without traffic)"
)
SAME_IMAGE = (
    "is the stable image: a canary compares a new version with the running one; give the image "
    "to release, or remove the canary"
)
SCHEDULE_FIX = "list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]"


def _args(canary: Any = None, **changes: Any) -> ServiceStackArgs:
    args = ServiceStackArgs(
        name="feed",
        team="news",
        image=ECR_IMAGE,
        port=8080,
        cluster=known_contract_for(),
        ingress=Ingress(public=True, certificate_arn=CERT),
        autoscaling=Autoscaling(min_replicas=6, max_replicas=120),
        canary=canary,
    )
    return dataclasses.replace(args, **changes)


def _problems(args: ServiceStackArgs, resource_name: str = "feed") -> list[str]:
    with pytest.raises(ValidationError) as info:
        plan_service(args, resource_name=resource_name)
    return [str(p) for p in info.value.problems]


def _canary(**changes: Any) -> Canary:
    return dataclasses.replace(Canary(image=CANARY_IMAGE), **changes)


# --- the five named in the issue, exact -------------------------------------------------------


def test_weight_120() -> None:
    assert _problems(_args(_canary(weight=120))) == [f"canary.weight: got 120: {WEIGHT}"]


def test_canary_image_equal_to_the_stable_one() -> None:
    assert _problems(_args(Canary(image=ECR_IMAGE))) == [
        f"canary.image: got {ECR_IMAGE!r}: {SAME_IMAGE}"
    ]


def test_header_without_value() -> None:
    assert _problems(_args(_canary(header=CanaryHeader(name="x-canary")))) == [  # type: ignore[call-arg]
        "canary.header.value: missing: CanaryHeader requires it: give value=..."
    ]
    assert _problems(_args(_canary(header=CanaryHeader(name="x-canary", value="")))) == [
        "canary.header.value: got '': is empty: give the value that sends a request to the "
        "canary, e.g. 'always'"
    ]


def test_schedule_that_does_not_end_at_100() -> None:
    assert _problems(_args(_canary(schedule=(5, 25, 50)))) == [
        "canary.schedule: got [5, 25, 50]: ends at 50, not 100: the last step sends the canary "
        f"every request before promotion; {SCHEDULE_FIX}"
    ]


def test_canary_on_a_service_without_an_alb() -> None:
    assert _problems(_args(_canary(), ingress=None)) == [f"canary: got {CANARY_IMAGE!r}: {NO_ALB}"]


# --- edges on both sides ---------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0, 1, 99, 100])
def test_weights_from_0_to_100_are_accepted(weight: int) -> None:
    plan = plan_service(_args(_canary(weight=weight)), resource_name="feed")
    assert plan.canary is not None
    assert (plan.canary.weight, plan.canary.stable_weight) == (weight, 100 - weight)


@pytest.mark.parametrize("weight", [-1, 101])
def test_weights_outside_0_to_100_are_refused(weight: int) -> None:
    assert _problems(_args(_canary(weight=weight))) == [f"canary.weight: got {weight}: {WEIGHT}"]


@pytest.mark.parametrize(
    ("weight", "expected"), [(0, (2, 2)), (5, (2, 6)), (50, (3, 60)), (100, (6, 120))]
)
def test_the_canary_hpa_follows_the_weight(weight: int, expected: tuple[int, int]) -> None:
    plan = plan_service(_args(_canary(weight=weight)), resource_name="feed")
    assert plan.canary is not None
    assert (plan.canary.min_replicas, plan.canary.max_replicas) == expected


def test_the_canary_floor_is_never_above_the_stable_floor() -> None:
    args = _args(
        _canary(weight=0),
        autoscaling=Autoscaling(min_replicas=1, max_replicas=4),
        cluster=known_contract_for("staging"),
    )
    plan = plan_service(args, resource_name="feed")
    assert plan.canary is not None
    assert (plan.canary.min_replicas, plan.canary.max_replicas) == (1, 1)
    fixed = plan_service(
        _args(_canary(weight=30), autoscaling=None, replicas=10), resource_name="feed"
    )
    assert fixed.canary is not None
    assert (fixed.canary.min_replicas, fixed.canary.max_replicas) == (3, None)


def test_header_name_edges() -> None:
    ok = "x-" + "c" * 38
    plan = plan_service(
        _args(_canary(header=CanaryHeader(name=ok, value="always"))), resource_name="feed"
    )
    assert plan.canary is not None and plan.canary.canary.header is not None
    fix = (
        "must be an HTTP header name of 1-40 letters, digits or !#$%&'+-.^_`|~ (no '*': the ALB "
        "takes no wildcard in a header name), e.g. 'x-canary'"
    )
    for bad in (ok + "c", "x canary", "x-can*", ""):
        assert _problems(_args(_canary(header=CanaryHeader(name=bad, value="1")))) == [
            f"canary.header.name: got {bad!r}: {fix}"
        ]
    assert _problems(_args(_canary(header=CanaryHeader(name="Host", value="1")))) == [
        "canary.header.name: got 'Host': is the Host header, which an ALB header condition does "
        "not match: pick a header of your own such as 'x-canary'"
    ]


def test_header_value_edges() -> None:
    plan_service(
        _args(_canary(header=CanaryHeader(name="x-canary", value="v" * 128))), resource_name="feed"
    )
    plan_service(
        _args(_canary(header=CanaryHeader(name="x-canary", value="team qa"))), resource_name="feed"
    )
    visible = "must be 1-128 visible ASCII characters (spaces inside only)"
    for bad in ("v" * 129, " lead", "tab\there", "é"):
        assert _problems(_args(_canary(header=CanaryHeader(name="x-canary", value=bad)))) == [
            str(Problem("canary.header.value", bad, visible))
        ]
    for wild in ("*", "qa?"):
        assert _problems(_args(_canary(header=CanaryHeader(name="x-canary", value=wild)))) == [
            f"canary.header.value: got {wild!r}: contains '*' or '?', which the ALB reads as "
            "wildcards (any value would match): use a literal value"
        ]


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ((), f"canary.schedule: got []: must hold 1-20 weights: {SCHEDULE_FIX}"),
        (
            tuple(range(81, 102)),
            f"canary.schedule: got {list(range(81, 102))}: must hold 1-20 weights: {SCHEDULE_FIX}",
        ),
        ((0, 100), f"canary.schedule[0]: got 0: must be a weight from 1 to 100: {SCHEDULE_FIX}"),
        ((5, 101), f"canary.schedule[1]: got 101: must be a weight from 1 to 100: {SCHEDULE_FIX}"),
        (
            (5, 5, 100),
            f"canary.schedule[1]: got 5: is not above the weight before it (5): {SCHEDULE_FIX}",
        ),
    ],
)
def test_schedule_shapes(schedule: tuple[int, ...], expected: str) -> None:
    assert _problems(_args(_canary(schedule=schedule))) == [expected]


def test_schedules_at_the_edges_are_accepted() -> None:
    for schedule in ((100,), (1, 100), tuple(range(81, 101))):
        plan_service(_args(_canary(schedule=schedule)), resource_name="feed")


@pytest.mark.parametrize(
    ("field", "good", "bad", "message"),
    [
        ("window_minutes", 180, 181, "must be an integer from 1 to 180"),
        ("window_minutes", 1, 0, "must be an integer from 1 to 180"),
        ("min_requests", 1, 0, "must be an integer from 1 to 1000000000"),
        ("min_healthy_hosts", 1000, 1001, "must be an integer from 1 to 1000"),
        ("max_error_rate_percent", 100.0, 0.0, "must be in (0, 100]"),
        ("max_error_rate_increase", 0.0, -0.5, "must be in [0, 100]"),
        ("max_p99_latency_s", 600.0, 600.5, "must be in (0, 600]"),
        ("max_p99_latency_ratio", 1.0, 0.99, "must be in [1, 100]"),
    ],
)
def test_analysis_thresholds_at_their_edges(field: str, good: Any, bad: Any, message: str) -> None:
    plan_service(_args(_canary(analysis=CanaryAnalysis(**{field: good}))), resource_name="feed")
    assert _problems(_args(_canary(analysis=CanaryAnalysis(**{field: bad})))) == [
        f"canary.analysis.{field}: got {bad!r}: {message}"
    ]


def test_ramp_down_wait_edges() -> None:
    plan_service(_args(_canary(ramp_down_wait_s=3600)), resource_name="feed")
    assert _problems(_args(_canary(ramp_down_wait_s=3601))) == [
        "canary.ramp_down_wait_s: got 3601: must be an integer from 0 to 3600"
    ]


def test_unpinned_canary_images() -> None:
    latest = ECR_IMAGE.replace(":1.4.2", ":latest")
    untagged = ECR_IMAGE.replace(":1.4.2", "")
    assert _problems(_args(Canary(image=latest))) == [
        f"canary.image: got {latest!r}: 'latest' is a moving tag (the canary and the stable pods "
        "could run other code than the one analysed): pin a version tag or a digest"
    ]
    assert _problems(_args(Canary(image=untagged))) == [
        f"canary.image: got {untagged!r}: has no tag: pin a version tag or a digest (never a "
        "moving tag)"
    ]


def test_a_canary_from_another_repository_only_without_the_stacks_ecr_repository() -> None:
    other = "ghcr.io/news/feed:1.5.0"
    assert _problems(_args(Canary(image=other))) == [
        f"canary.image: got {other!r}: is not in the stable image's repository "
        "(123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed), which this stack manages: "
        "promotion would replace that ECR repository and delete its images; push the canary "
        "there, or set ecr=False"
    ]
    plan_service(_args(Canary(image=other), ecr=False), resource_name="feed")


def test_env_overrides_and_files() -> None:
    good = _canary(env={"FEED_RANKER": "v2"}, config_files={"ranker.yaml": "v: 2\n"})
    plan = plan_service(_args(good), resource_name="feed")
    assert plan.canary is not None
    assert _problems(
        _args(_canary(env={"DD_VERSION": "x", "TOKEN": "y"}), secrets={"TOKEN": "s"})
    ) == [
        "canary.env['DD_VERSION']: got 'DD_VERSION': is reserved: the platform sets Datadog's "
        "DD_* variables (DD_ENV, DD_SERVICE, DD_VERSION, DD_AGENT_HOST) from the pod's labels "
        "and node; set tags with datadog_tags and the version with version=",
        "canary.env['TOKEN']: got 'TOKEN': is one of the service's secrets: a variable comes "
        "from one place; give the canary's value in secrets, or use another name",
    ]
    assert _problems(_args(_canary(config_files={"a/b": "x"}))) == [
        "canary.config_files['a/b']: got 'a/b': must be a file name of letters, digits, '-', "
        "'_' or '.' (no '/')"
    ]


def test_the_release_tag_is_reserved_while_a_canary_runs() -> None:
    assert _problems(_args(_canary(), tags={"eksplatform-release": "x"})) == [
        "tags['eksplatform-release']: got 'x': is set by ServiceStack on the canary's resources "
        "(eksplatform canary finds them by it): remove it"
    ]
    plan_service(_args(None, tags={"eksplatform-release": "x"}), resource_name="feed")


def test_promoting_allows_the_stable_image_and_only_it() -> None:
    plan_service(_args(Canary(image=ECR_IMAGE, promoting=True)), resource_name="feed")
    assert _problems(_args(_canary(promoting=True))) == [
        f"canary.promoting: got True: says the stable image is the canary's, but image is "
        f"{ECR_IMAGE!r}: let 'eksplatform canary promote' finish (or 'eksplatform canary "
        "rollback'), or remove promoting"
    ]


def test_derived_names_fit_at_20_characters() -> None:
    plan_service(_args(_canary(), name=None), resource_name="f" * 20)
    problems = _problems(_args(_canary(), name=None), resource_name="f" * 21)
    assert any(
        "derives the target group name 'fffffffffffffffffffff-ctg', which is 33 characters" in p
        for p in problems
    ), problems


def test_misspelt_canary_argument_gets_the_closest_name() -> None:
    assert _problems(_args(Canary(image=CANARY_IMAGE, wieght=5)))[0].startswith(  # type: ignore[call-arg]
        "canary.wieght: got 5: Canary has no argument 'wieght': did you mean 'weight'?"
    )


# --- the stack config's keys ----------------------------------------------------------------------


def test_config_fields_are_named_as_the_stack_file_spells_them() -> None:
    assert config_field("canary", "news-feed") == "news-feed:canary"
    assert config_field("canary.weight", "news-feed") == "news-feed:canary.weight"
    assert config_field("canary.config_files['a']", "p") == "p:canary.configFiles['a']"
    assert config_field("canary.env['A']", "p") == "p:canary.env['A']"
    assert config_field("canary.schedule[2]", "p") == "p:canaryPolicy.schedule[2]"
    assert config_field("canary.analysis.max_p99_latency_s", "p") == (
        "p:canaryPolicy.analysis.maxP99LatencySeconds"
    )
    assert config_field("canary.ramp_down_wait_s", "p") == "p:canaryPolicy.rampDownWaitSeconds"
    assert config_field("image", "p") == "image"


def test_config_shape_problems() -> None:
    parsed = parse_canary(
        {
            "image": CANARY_IMAGE,
            "wieght": 5,
            "header": {"name": "x-canary"},
            "env": {"PAGE": 50},
            "promoting": "yes",
        },
        {"schedule": [5, "25", 100], "analysis": {"windowMinutes": 5.5, "minRequest": 10}},
        project="news-feed",
    )
    assert [str(p) for p in parsed.shape_problems] == [
        "news-feed:canaryPolicy.schedule[1]: got '25': must be a whole number",
        "news-feed:canaryPolicy.analysis.windowMinutes: got 5.5: must be a whole number",
        "news-feed:canaryPolicy.analysis.minRequest: got 10: unknown key: did you mean "
        "'minRequests'? (keys: windowMinutes, minRequests, maxErrorRatePercent, "
        "maxErrorRateIncrease, maxP99LatencySeconds, maxP99LatencyRatio, minHealthyHosts)",
        "news-feed:canary.wieght: got 5: unknown key: did you mean 'weight'? (keys: image, "
        "weight, header, env, configFiles, promoting, draining, previousImage, changedAt)",
        "news-feed:canary.header.value: missing: is required: add value: <value>",
        "news-feed:canary.env['PAGE']: got 50: must be a string (quote it)",
        "news-feed:canary.promoting: got 'yes': must be true or false",
    ]


def test_a_policy_without_a_canary_is_checked_too() -> None:
    parsed = parse_canary(None, {"schedule": [10, 50]}, project="news-feed")
    assert parsed.canary is None
    assert [str(p) for p in parsed.value_problems] == [
        "news-feed:canaryPolicy.schedule: got [10, 50]: ends at 50, not 100: the last step "
        f"sends the canary every request before promotion; {SCHEDULE_FIX}"
    ]


# --- in the preview: exit 2, nothing registered ----------------------------------------------------

PROGRAM = """
ServiceStack("feed", ServiceStackArgs(
    team="news", image={image!r}, port=8080, cluster=cluster,
    autoscaling=Autoscaling(min_replicas=2, max_replicas=10),
    {ingress}canary=canary_config(),
))
"""
INGRESS = f"ingress=Ingress(public=True, certificate_arn={CERT!r}),\n    "


def _preview(tmp: Path, config: str, *, ingress: bool = True, body: str | None = None) -> Any:
    text = body or PROGRAM.format(image=ECR_IMAGE, ingress=INGRESS if ingress else "")
    _, result = preview_service(tmp, text, config=config)
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert result.exit_code == EXIT_INVALID_CONFIG, errors
    assert result.registered_before_error == []
    assert result.resources == []
    return errors


def test_the_issue_cases_from_the_stack_file_all_at_once(tmp_path: Path) -> None:
    errors = _preview(
        tmp_path,
        f"  svc:canary:\n    image: {ECR_IMAGE}\n    weight: 120\n"
        "    header: {name: x-canary, value: ''}\n"
        "  svc:canaryPolicy:\n    schedule: [5, 25, 50]\n",
    )
    assert errors == [
        "ServiceStack 'feed': 4 problems:\n"
        f"  - svc:canary.weight: got 120: {WEIGHT}\n"
        "  - svc:canary.header.value: got '': is empty: give the value that sends a request to "
        "the canary, e.g. 'always'\n"
        "  - svc:canaryPolicy.schedule: got [5, 25, 50]: ends at 50, not 100: the last step "
        f"sends the canary every request before promotion; {SCHEDULE_FIX}\n"
        f"  - svc:canary.image: got {ECR_IMAGE!r}: {SAME_IMAGE}"
    ]


def test_header_without_value_in_the_stack_file(tmp_path: Path) -> None:
    errors = _preview(
        tmp_path,
        f"  svc:canary:\n    image: {CANARY_IMAGE}\n    header:\n      name: x-canary\n",
    )
    assert errors == [
        "Pulumi.prod.yaml: invalid canary configuration: 1 problem:\n"
        "  - svc:canary.header.value: missing: is required: add value: <value>"
    ]


def test_no_alb_from_the_stack_file(tmp_path: Path) -> None:
    errors = _preview(tmp_path, f"  svc:canary:\n    image: {CANARY_IMAGE}\n", ingress=False)
    assert errors == [
        f"ServiceStack 'feed': 1 problem:\n  - svc:canary: got {CANARY_IMAGE!r}: {NO_ALB}"
    ]


def test_a_canary_the_program_never_reads_is_refused(tmp_path: Path) -> None:
    body = (
        f'ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, port=8080, '
        f"cluster=cluster, ingress=Ingress(public=True, certificate_arn={CERT!r})))\n"
    )
    errors = _preview(tmp_path, f"  svc:canary:\n    image: {CANARY_IMAGE}\n", body=body)
    assert errors == [
        "ServiceStack 'feed': 1 problem:\n  - svc:canary: got '<set>': Pulumi.prod.yaml runs a "
        "canary, but the program does not read it: pass canary=canary_config() to the "
        "ServiceStack with the ALB (from eksplatform.service), or remove the key"
    ]


def test_an_encrypted_canary_is_refused(tmp_path: Path) -> None:
    errors = _preview(tmp_path, "  svc:canary:\n    secure: v1:abc:def\n")
    assert errors == [
        "Pulumi.prod.yaml: invalid canary configuration: 1 problem:\n"
        "  - svc:canary: got '[secret]': must not be encrypted (it holds no secret, and the "
        "commands edit it): give a secret the canary needs in the ServiceStack's secrets"
    ]

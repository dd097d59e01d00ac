"""Guardrails on compute: the EKS control plane, instances (IMDSv2, encrypted volumes) and node
groups (spot share band, above the base and effective at the minimum size, and instance type
spread, advisory: a pool outside them still works, only less cheaply or less safely)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..core.spot import group_split
from ._props import as_list, as_map, dig, environment_of, is_true, number
from .model import Enforcement, Resource, Rule, Severity
from .network import is_world
from .settings import GuardrailSettings

# --- EKS ----------------------------------------------------------------------------------------

EKS_CLUSTER = frozenset({"aws:eks/cluster:Cluster"})


def _check_eks_encryption(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    config = r.props.get("encryptionConfig")
    resources = as_list(as_map(config).get("resources"))
    if "secrets" not in resources or not dig(config, "provider", "keyArn"):
        yield "the cluster does not encrypt Kubernetes secrets with a KMS key"


EKS_SECRETS_ENCRYPTION = Rule(
    id="aws-eks-secrets-encryption",
    title="EKS encrypts Kubernetes secrets with a KMS key",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="set encryptionConfig {resources: [secrets], provider.keyArn} (eksplatform ControlPlane does)",
    types=EKS_CLUSTER,
    check=_check_eks_encryption,
)


def endpoint_problem(public: Any, cidrs: Sequence[Any]) -> str | None:
    """Why an EKS API endpoint is not restricted, or None."""
    if not is_true(public):
        return None
    if not cidrs:
        return "the public API endpoint accepts every address (no publicAccessCidrs)"
    world = [c for c in cidrs if isinstance(c, str) and is_world(c)]
    if world:
        return f"the public API endpoint is open to {', '.join(world)}"
    return None


def _check_eks_endpoint(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    vpc = as_map(r.props.get("vpcConfig"))
    reason = endpoint_problem(
        vpc.get("endpointPublicAccess", True), as_list(vpc.get("publicAccessCidrs"))
    )
    if reason:
        yield reason


EKS_ENDPOINT = Rule(
    id="aws-eks-endpoint",
    title="The EKS API endpoint is private, or public only to listed CIDRs",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="set endpointPublicAccess false, or list the office/CI CIDRs in publicAccessCidrs",
    types=EKS_CLUSTER,
    check=_check_eks_endpoint,
)


def missing_log_types(enabled: Sequence[Any], required: Sequence[str]) -> list[str]:
    return [t for t in required if t not in enabled]


def _check_eks_logs(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    missing = missing_log_types(
        as_list(r.props.get("enabledClusterLogTypes")), s.required_log_types
    )
    if missing:
        yield f"control plane logs {', '.join(missing)} are off"


EKS_LOGS = Rule(
    id="aws-eks-logs",
    title="EKS control plane logs (api, audit, authenticator) are on",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    fix="add the missing types to enabledClusterLogTypes (platform:controlPlane.logTypes)",
    types=EKS_CLUSTER,
    check=_check_eks_logs,
    config=("requiredLogTypes",),
)

# --- EC2: IMDSv2 and volumes --------------------------------------------------------------------

EC2_LAUNCH = frozenset({"aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"})


def _check_imdsv2(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    tokens = dig(r.props, "metadataOptions", "httpTokens")
    if tokens != "required":
        yield f"metadataOptions.httpTokens is {tokens!r}: IMDSv1 answers without a token"


IMDSV2 = Rule(
    id="aws-imdsv2",
    title="Instances require IMDSv2 (session tokens)",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="set metadataOptions.httpTokens to 'required'",
    types=EC2_LAUNCH,
    check=_check_imdsv2,
)


def _check_volumes(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    p = r.props
    if r.type == "aws:ebs/volume:Volume":
        if not is_true(p.get("encrypted")):
            yield "the volume is not encrypted"
        return
    if r.type == "aws:ec2/instance:Instance":
        devices = [("rootBlockDevice", p.get("rootBlockDevice"))] + [
            (f"ebsBlockDevices[{i}]", d) for i, d in enumerate(as_list(p.get("ebsBlockDevices")))
        ]
        for where, device in devices:
            if device is None and where == "rootBlockDevice":
                yield "rootBlockDevice is not set: the AMI's default may be unencrypted"
            elif device is not None and not is_true(as_map(device).get("encrypted")):
                yield f"{where} is not encrypted"
        return
    mappings = as_list(p.get("blockDeviceMappings"))
    if not mappings:
        yield "no blockDeviceMappings: the root volume takes the AMI's (possibly unencrypted) default"
    for i, mapping in enumerate(mappings):
        ebs = as_map(mapping).get("ebs")
        if ebs is not None and not is_true(as_map(ebs).get("encrypted")):
            yield f"blockDeviceMappings[{i}] ({as_map(mapping).get('deviceName')}) is not encrypted"


ENCRYPTED_VOLUMES = Rule(
    id="aws-encrypted-volumes",
    title="EBS volumes are encrypted",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="map the root device with ebs.encrypted true (eksplatform NodePools does)",
    types=EC2_LAUNCH | {"aws:ebs/volume:Volume"},
    check=_check_volumes,
)

# --- node pools (advisory) ----------------------------------------------------------------------

ASG = frozenset({"aws:autoscaling/group:Group"})


def spot_share_problem(
    on_demand_above_base: Any, band: tuple[int, int], environment: str
) -> str | None:
    pct = number(on_demand_above_base)
    spot = 100 - (100 if pct is None else pct)
    low, high = band
    if low <= spot <= high:
        return None
    return f"spot share above the base is {spot:g}%, outside {low}-{high}% for {environment!r}"


def effective_spot_share_problem(
    min_size: Any, base: Any, on_demand_above_base: Any, band: tuple[int, int], environment: str
) -> str | None:
    """Why a group's spot share *at its minimum size* (base included) is below the band, or
    None. The percentage above the base can sit in the band while the base leaves the group all
    on-demand at its minimum (prod's 2 nodes per zone over a base of 1 run no spot at all); the
    split is :func:`eksplatform.core.spot.group_split`, the one the cost report uses."""
    size, floor, pct = number(min_size), number(base), number(on_demand_above_base)
    if size is None or floor is None or size < 1:
        return None
    pct = 100 if pct is None else pct
    if not (0 <= pct <= 100 and floor >= 0):
        return None
    split = group_split(int(size), int(floor), int(pct))
    low, high = band
    if split.spot_share * 100 >= low:
        return None
    return (
        f"effective spot share at the minimum size is {split.spot_share:.0%} per zone group "
        f"({split.spot} of {split.total} nodes: {int(floor)} on-demand base, {pct:g}% on-demand "
        f"above it), below {low}-{high}% for {environment!r}: lower the on-demand base or raise "
        "the minimum size"
    )


def _check_spot_share(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    env = environment_of(r)
    dist = dig(r.props, "mixedInstancesPolicy", "instancesDistribution")
    value = as_map(dist).get("onDemandPercentageAboveBaseCapacity", 100) if dist else 100
    reason = spot_share_problem(value, s.spot_band(env), env)
    if reason:
        yield reason
    if dist:
        base = as_map(dist).get("onDemandBaseCapacity", 0)
        effective = effective_spot_share_problem(
            r.props.get("minSize"), base, value, s.spot_band(env), env
        )
        if effective:
            yield effective


SPOT_SHARE = Rule(
    id="aws-spot-share",
    title="Node groups keep their spot share within the environment's band",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.ADVISORY,
    fix="set onDemandPercentageAboveBase so 100 minus it falls in the band, and keep "
    "onDemandBaseCapacity below minSize so the minimum size runs spot (platform:nodePools)",
    types=ASG,
    check=_check_spot_share,
    config=("spotShareBandByEnvironment",),
)


def instance_types_problem(types: Sequence[Any], minimum: int) -> str | None:
    distinct = sorted({str(t) for t in types if t})
    if len(distinct) >= minimum:
        return None
    return f"{len(distinct)} instance type(s) ({', '.join(distinct) or 'none'}); at least {minimum} keep spot capacity available"


def _check_instance_types(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    overrides = as_list(dig(r.props, "mixedInstancesPolicy", "launchTemplate", "overrides"))
    types = [as_map(o).get("instanceType") for o in overrides]
    reason = instance_types_problem(types, s.min_instance_types)
    if reason:
        yield reason


INSTANCE_TYPES = Rule(
    id="aws-instance-types",
    title="Each node group can use at least 3 instance types",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.ADVISORY,
    fix="list 3 or more same-shape instance types (platform:nodePools[].instanceTypes)",
    types=ASG,
    check=_check_instance_types,
    config=("minInstanceTypes",),
)

COMPUTE_RULES = (
    EKS_SECRETS_ENCRYPTION,
    EKS_ENDPOINT,
    EKS_LOGS,
    IMDSV2,
    ENCRYPTED_VOLUMES,
    SPOT_SHARE,
    INSTANCE_TYPES,
)

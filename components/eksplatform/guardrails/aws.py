"""Guardrails on AWS leaf resources: tags, names, network exposure, IAM, EKS, EC2, S3, ELB, ECR.

Each check reads the engine's property names (camelCase) of the pulumi-aws resource types named
in its ``types``; values the engine does not know yet raise through the SDK's proxy, and the
policy is then skipped for that resource with an advisory note, as ``pulumi preview`` does.

The value checks (``*_problem`` functions) are public: component input validation calls them
with the fields the user wrote (:mod:`eksplatform.guardrails.inputs`).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from ..core import naming
from ._props import as_list, as_map, dig, environment_of, is_true, number, tags_of
from .model import Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

# --- required tags ------------------------------------------------------------------------------


@functools.cache
def is_taggable(type_token: str) -> bool:
    """Whether a pulumi-aws resource type takes ``tags`` (read from the SDK's own signature)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return False
    module = parts[1].split("/")[0]
    try:
        mod = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
        cls = getattr(mod, parts[2])
        return "tags" in inspect.signature(cls._internal_init).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return False


def missing_tags(tags: Mapping[str, str], required: Sequence[str]) -> list[str]:
    """Required keys absent or empty in ``tags``."""
    return [k for k in required if not str(tags.get(k) or "").strip()]


def _check_tags(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if not is_taggable(r.type):
        return
    missing = missing_tags(tags_of(r.props), s.required_tag_keys)
    if missing:
        yield f"{r.type} has no value for the required tag(s) {', '.join(missing)}"


REQUIRED_TAGS = Rule(
    id="aws-required-tags",
    title="Every taggable AWS resource carries the company tags",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="build tags with eksplatform Tags(...).merged() (or pass every required key in tags=)",
    check=_check_tags,
    config=("requiredTagKeys",),
)

# --- names --------------------------------------------------------------------------------------

NAME_RULES: dict[str, tuple[str, str | None, naming.NameRule]] = {
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", naming.S3_BUCKET),
    "aws:s3/bucketV2:BucketV2": ("bucket", "bucketPrefix", naming.S3_BUCKET),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "namePrefix", naming.LOAD_BALANCER),
    "aws:alb/loadBalancer:LoadBalancer": ("name", "namePrefix", naming.LOAD_BALANCER),
    "aws:lb/targetGroup:TargetGroup": ("name", "namePrefix", naming.TARGET_GROUP),
    "aws:alb/targetGroup:TargetGroup": ("name", "namePrefix", naming.TARGET_GROUP),
    "aws:iam/role:Role": ("name", "namePrefix", naming.IAM_ROLE),
    "aws:iam/policy:Policy": ("name", "namePrefix", naming.IAM_POLICY),
    "aws:iam/instanceProfile:InstanceProfile": ("name", "namePrefix", naming.IAM_INSTANCE_PROFILE),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix", naming.LAUNCH_TEMPLATE),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", naming.LOG_GROUP),
    "aws:sqs/queue:Queue": ("name", "namePrefix", naming.SQS_QUEUE),
    "aws:sns/topic:Topic": ("name", "namePrefix", naming.SNS_TOPIC),
    "aws:ecr/repository:Repository": ("name", None, naming.ECR_REPOSITORY),
    "aws:eks/cluster:Cluster": ("name", None, naming.EKS_CLUSTER),
    "aws:autoscaling/group:Group": ("name", "namePrefix", naming.AUTOSCALING_GROUP),
    "aws:cloudwatch/eventRule:EventRule": ("name", "namePrefix", naming.EVENTBRIDGE_RULE),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", None, naming.CLOUDWATCH_ALARM),
    "aws:lambda/function:Function": ("name", None, naming.LAMBDA_FUNCTION),
    "aws:kms/alias:Alias": ("name", "namePrefix", naming.KMS_ALIAS),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", naming.SECURITY_GROUP),
    "aws:dynamodb/table:Table": ("name", None, naming.DYNAMODB_TABLE),
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix", naming.SECRETS_MANAGER_SECRET),
    "aws:ssm/parameter:Parameter": ("name", None, naming.SSM_PARAMETER),
}
"""Type -> (name property, name prefix property, the service's name rule)."""


def _check_name_limits(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    name_key, prefix_key, rule = NAME_RULES[r.type]
    name = r.props.get(name_key)
    if isinstance(name, str):
        reason = naming.name_problem(rule, name)
        if reason:
            yield f"{name_key} {name!r} is not a valid {rule.what}: it {reason}"
    prefix = r.props.get(prefix_key) if prefix_key else None
    if isinstance(prefix, str):
        reason = naming.name_prefix_problem(rule, prefix)
        if reason:
            yield f"{prefix_key} {prefix!r} gives no valid {rule.what}: it {reason}"


NAME_LIMITS = Rule(
    id="aws-name-limits",
    title="Physical names fit the AWS service's length limit and character rules",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="shorten or rename it (limits per service in eksplatform.core.naming), or let Pulumi "
    "auto-name the resource",
    types=frozenset(NAME_RULES),
    check=_check_name_limits,
)


def expected_prefix(template: str, tags: Mapping[str, str]) -> str | None:
    """A naming-convention prefix filled from the resource's tags (None when a tag is missing)."""
    try:
        return template.format(team=tags["team"], environment=tags["environment"])
    except KeyError:
        return None


def convention_problem(
    type_token: str, name: str, tags: Mapping[str, str], s: GuardrailSettings
) -> str | None:
    """Why ``name`` breaks the team naming convention of ``type_token``, or None."""
    template = s.name_prefixes.get(type_token)
    team = tags.get("team")
    if template is None or not team or team in s.platform_teams:
        return None
    prefix = expected_prefix(template, tags)
    if prefix is None or name.startswith(prefix):
        return None
    return f"{name!r} does not start with {prefix!r} (convention {template!r})"


def _check_convention(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    name_key, prefix_key, _ = NAME_RULES[r.type]
    tags = tags_of(r.props)
    for key in (name_key, prefix_key):
        value = r.props.get(key) if key else None
        if isinstance(value, str):
            reason = convention_problem(r.type, value, tags, s)
            if reason:
                yield f"{key} {reason}"


NAMING_CONVENTION = Rule(
    id="aws-naming-convention",
    title="Team resources are named by the team convention (so the boundary recognises them)",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    fix="start the name with the team prefix (ECR and secrets '<team>/', SSM '/<team>/', "
    "buckets '<environment>-<team>-')",
    types=frozenset(t for t in NAME_RULES if t in GuardrailSettings().name_prefixes)
    | frozenset({"aws:s3/bucketV2:BucketV2"}),
    check=_check_convention,
    config=("namePrefixes", "platformTeams"),
)

# --- security groups ----------------------------------------------------------------------------

_SSH = 22


def is_world(cidr: str) -> bool:
    """Whether a CIDR opens to the internet at large: any public range of /8 or wider (IPv4) or
    /16 or wider (IPv6); ``0.0.0.0/1`` + ``128.0.0.0/1`` count as the world."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    wide = net.prefixlen <= (8 if net.version == 4 else 16)
    return wide and not net.is_private


def _ports(protocol: Any, low: Any, high: Any) -> tuple[int, int]:
    if str(protocol) in ("-1", "all"):
        return 0, 65535
    lo, hi = number(low), number(high)
    if lo is None or hi is None or lo < 0:
        return 0, 65535
    return int(lo), int(hi)


def world_ingress_problem(
    cidrs: Iterable[str], protocol: Any, low: Any, high: Any, allowed_ports: Sequence[int]
) -> str | None:
    """Why an ingress permission from ``cidrs`` is refused, or None."""
    world = [c for c in cidrs if isinstance(c, str) and is_world(c)]
    if not world:
        return None
    lo, hi = _ports(protocol, low, high)
    span = f"port {lo}" if lo == hi else f"ports {lo}-{hi}"
    if lo <= _SSH <= hi:
        return f"opens {span} (SSH) to {', '.join(world)}; SSH is never open to the internet"
    if lo == hi and lo in allowed_ports and str(protocol).lower() in ("tcp", "6"):
        return None
    ok = ", ".join(str(p) for p in allowed_ports)
    return f"opens {span} ({protocol}) to {', '.join(world)}; only TCP {ok} may be"


def _ingress_permissions(r: Resource) -> Iterator[tuple[str, list[str], Any, Any, Any]]:
    """(where, cidrs, protocol, from, to) of every ingress permission of the resource."""
    p = r.props
    if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        cidrs = [c for c in (p.get("cidrIpv4"), p.get("cidrIpv6")) if c]
        yield "rule", cidrs, p.get("ipProtocol"), p.get("fromPort"), p.get("toPort")
    elif r.type == "aws:ec2/securityGroupRule:SecurityGroupRule":
        if p.get("type") == "ingress":
            cidrs = [*as_list(p.get("cidrBlocks")), *as_list(p.get("ipv6CidrBlocks"))]
            yield "rule", cidrs, p.get("protocol"), p.get("fromPort"), p.get("toPort")
    else:
        for i, block in enumerate(as_list(p.get("ingress"))):
            b = as_map(block)
            cidrs = [*as_list(b.get("cidrBlocks")), *as_list(b.get("ipv6CidrBlocks"))]
            yield f"ingress[{i}]", cidrs, b.get("protocol"), b.get("fromPort"), b.get("toPort")


INGRESS_TYPES = frozenset(
    {
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:ec2/securityGroup:SecurityGroup",
    }
)


def _check_world_ingress(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    for where, cidrs, proto, low, high in _ingress_permissions(r):
        reason = world_ingress_problem(cidrs, proto, low, high, s.world_open_ports)
        if reason:
            yield f"{where} {reason}"


NO_WORLD_INGRESS = Rule(
    id="aws-no-world-ingress",
    title="No ingress from 0.0.0.0/0 or ::/0 except TCP 80/443, never SSH",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    fix="allow a specific CIDR or security group; only a load balancer opens 80/443 to the world",
    types=INGRESS_TYPES,
    check=_check_world_ingress,
    config=("worldOpenPorts",),
)


def _check_world_ingress_on_lbs(
    resources: Sequence[Resource], s: GuardrailSettings
) -> Iterator[tuple[str | None, str]]:
    lb_groups: set[str] = set()
    for r in resources:
        if r.type in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
            lb_groups.update(str(g) for g in as_list(r.props.get("securityGroups")))
    for r in resources:
        if r.type not in INGRESS_TYPES:
            continue
        group = r.props.get("id") if r.type.endswith(":SecurityGroup") else None
        group = group or r.props.get("securityGroupId")
        for where, cidrs, _, _, _ in _ingress_permissions(r):
            world = [c for c in cidrs if isinstance(c, str) and is_world(c)]
            if world and str(group) not in lb_groups:
                yield (
                    r.urn,
                    f"{where} opens {', '.join(world)} on security group {group}, which no "
                    "load balancer of this stack uses",
                )


WORLD_INGRESS_LB_ONLY = Rule(
    id="aws-world-ingress-lb-only",
    title="Only load balancer security groups accept traffic from the internet",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    fix="put the workload behind an ALB (ServiceStack ingress=) and allow the ALB's group",
    stack_check=_check_world_ingress_on_lbs,
)

# --- IAM ----------------------------------------------------------------------------------------


def _team_of(r: Resource) -> str:
    return tags_of(r.props).get("team", "")


def _check_boundary(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    team = _team_of(r)
    if team in s.platform_teams:
        return
    boundary = r.props.get("permissionsBoundary")
    owner = f"team {team!r}" if team else "no team tag"
    if not boundary:
        yield f"service role ({owner}) has no permissions boundary"
    elif not re.fullmatch(s.boundary_policy_pattern, str(boundary)):
        yield (
            f"service role ({owner}) has the boundary {boundary!r}, not the cluster's service "
            f"boundary (pattern {s.boundary_policy_pattern!r})"
        )


ROLE_BOUNDARY = Rule(
    id="aws-role-boundary",
    title="Every service role carries the cluster's permissions boundary",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    fix="set permissions_boundary to the contract's permissions_boundary_arn (ServiceStack does)",
    types=frozenset({"aws:iam/role:Role"}),
    check=_check_boundary,
    config=("platformTeams", "boundaryPolicyPattern"),
)


def wildcard_action_problem(action: Any) -> str | None:
    """Why an allowed action is refused: ``*``, ``iam:*`` or a pattern covering either."""
    if not isinstance(action, str):
        return None
    pattern = action.strip().lower()
    if fnmatchcase("*", pattern) or fnmatchcase("anything:anything", pattern):
        return f"allows {action!r}: every action of every service"
    if fnmatchcase("iam:*", pattern):
        return f"allows {action!r}: every IAM action (permission management)"
    return None


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    stmts = as_map(document).get("Statement")
    if isinstance(stmts, Mapping):
        return [stmts]
    return [as_map(x) for x in as_list(stmts)]


def policy_document_problems(document: Any) -> list[str]:
    """Wildcard problems of every Allow statement of a policy document (JSON or dict)."""
    found: list[str] = []
    for i, st in enumerate(_statements(document)):
        if st.get("Effect") != "Allow":
            continue
        label = f"Statement[{i}]" + (f" ({st['Sid']})" if st.get("Sid") else "")
        if "NotAction" in st:
            found.append(f"{label} allows NotAction: every action but a few")
        actions = st.get("Action")
        for action in [actions] if isinstance(actions, str) else as_list(actions):
            reason = wildcard_action_problem(action)
            if reason:
                found.append(f"{label} {reason}")
    return found


POLICY_PROPS: dict[str, tuple[str, ...]] = {
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:iam/role:Role": ("inlinePolicies",),
}


def _check_wildcards(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    for key in POLICY_PROPS[r.type]:
        value = r.props.get(key)
        if key == "inlinePolicies":
            for j, inline in enumerate(as_list(value)):
                for problem in policy_document_problems(as_map(inline).get("policy")):
                    yield f"inlinePolicies[{j}] {problem}"
        else:
            yield from policy_document_problems(value)


NO_WILDCARD_ACTIONS = Rule(
    id="aws-iam-no-wildcard-actions",
    title="No IAM policy allows '*' or 'iam:*' (or NotAction)",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    fix="list the exact actions the workload calls",
    types=frozenset(POLICY_PROPS),
    check=_check_wildcards,
)

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

# --- S3 (stack: each setting is its own resource in pulumi-aws 7) -------------------------------

BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
_PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _bucket_name(r: Resource) -> str:
    return str(r.props.get("bucket") or r.props.get("id") or "")


def _check_s3_public(
    resources: Sequence[Resource], s: GuardrailSettings
) -> Iterator[tuple[str | None, str]]:
    blocked: set[str] = set()
    for r in resources:
        if r.type != "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
            continue
        off = [f for f in _PAB_FLAGS if not is_true(r.props.get(f))]
        if off:
            yield (
                r.urn,
                f"public access block of bucket {r.props.get('bucket')!r} leaves {', '.join(off)} off",
            )
        else:
            blocked.add(str(r.props.get("bucket")))
    for r in resources:
        if r.type in BUCKETS and _bucket_name(r) not in blocked:
            yield (
                r.urn,
                f"bucket {_bucket_name(r)!r} has no public access block with all four flags on",
            )


S3_PUBLIC_ACCESS = Rule(
    id="aws-s3-public-access",
    title="Every S3 bucket blocks public access (all four settings)",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    fix="add an aws.s3.BucketPublicAccessBlock for the bucket with all four flags true",
    stack_check=_check_s3_public,
)

SSE_TYPES = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)


def _check_s3_encryption(
    resources: Sequence[Resource], s: GuardrailSettings
) -> Iterator[tuple[str | None, str]]:
    encrypted = set()
    for r in resources:
        if r.type in SSE_TYPES:
            algos = [
                dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                for rule in as_list(r.props.get("rules"))
            ]
            if algos and all(algos):
                encrypted.add(str(r.props.get("bucket")))
            else:
                yield r.urn, "the encryption configuration has a rule without an algorithm"
    for r in resources:
        if r.type in BUCKETS and _bucket_name(r) not in encrypted:
            inline = as_list(r.props.get("serverSideEncryptionConfigurations"))
            if not inline:
                yield r.urn, f"bucket {_bucket_name(r)!r} has no default encryption configuration"


S3_ENCRYPTION = Rule(
    id="aws-s3-encryption",
    title="Every S3 bucket has default encryption configured",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="add an aws.s3.BucketServerSideEncryptionConfiguration (aws:kms or AES256) for the bucket",
    stack_check=_check_s3_encryption,
)

# --- ELB ----------------------------------------------------------------------------------------


def http_listener_problem(protocol: Any, actions: Sequence[Any]) -> str | None:
    if str(protocol).upper() != "HTTP":
        return None
    for i, action in enumerate(actions):
        a = as_map(action)
        if a.get("type") != "redirect" or str(dig(a, "redirect", "protocol")).upper() != "HTTPS":
            return f"the HTTP listener's defaultActions[{i}] is {a.get('type')!r}, not a redirect to HTTPS"
    if not actions:
        return "the HTTP listener has no default action"
    return None


def _check_http_listener(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    reason = http_listener_problem(r.props.get("protocol"), as_list(r.props.get("defaultActions")))
    if reason:
        yield reason


HTTP_REDIRECT_ONLY = Rule(
    id="aws-lb-http-redirect",
    title="Plain HTTP listeners only redirect to HTTPS",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    fix="make the port 80 listener's default action a redirect to HTTPS (443, HTTP_301)",
    types=frozenset({"aws:lb/listener:Listener", "aws:alb/listener:Listener"}),
    check=_check_http_listener,
)

# --- ECR ----------------------------------------------------------------------------------------


def _check_ecr(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    if not is_true(dig(r.props, "imageScanningConfiguration", "scanOnPush")):
        yield "images are not scanned on push"
    mutability = r.props.get("imageTagMutability") or "MUTABLE"
    if mutability != "IMMUTABLE":
        yield f"imageTagMutability is {mutability!r}: a pushed tag can be overwritten"


ECR_SCAN_IMMUTABLE = Rule(
    id="aws-ecr-scan-immutable",
    title="ECR repositories scan on push and have immutable tags",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    fix="set imageScanningConfiguration.scanOnPush true and imageTagMutability 'IMMUTABLE'",
    types=frozenset({"aws:ecr/repository:Repository"}),
    check=_check_ecr,
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


def _check_spot_share(r: Resource, s: GuardrailSettings) -> Iterator[str]:
    env = environment_of(r)
    dist = dig(r.props, "mixedInstancesPolicy", "instancesDistribution")
    value = as_map(dist).get("onDemandPercentageAboveBaseCapacity", 100) if dist else 100
    reason = spot_share_problem(value, s.spot_band(env), env)
    if reason:
        yield reason


SPOT_SHARE = Rule(
    id="aws-spot-share",
    title="Node groups keep their spot share within the environment's band",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.ADVISORY,
    fix="set onDemandPercentageAboveBase so 100 minus it falls in the band (platform:nodePools)",
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

AWS_RULES = (
    REQUIRED_TAGS,
    NAME_LIMITS,
    NAMING_CONVENTION,
    NO_WORLD_INGRESS,
    WORLD_INGRESS_LB_ONLY,
    ROLE_BOUNDARY,
    NO_WILDCARD_ACTIONS,
    EKS_SECRETS_ENCRYPTION,
    EKS_ENDPOINT,
    EKS_LOGS,
    IMDSV2,
    ENCRYPTED_VOLUMES,
    S3_PUBLIC_ACCESS,
    S3_ENCRYPTION,
    HTTP_REDIRECT_ONLY,
    ECR_SCAN_IMMUTABLE,
    SPOT_SHARE,
    INSTANCE_TYPES,
)

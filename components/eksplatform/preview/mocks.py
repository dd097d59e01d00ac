"""Pulumi mocks that answer like AWS and Kubernetes would, deterministically.

Every id and ARN is derived from the resource's type and URN, the stack's region and its account
id, so the same program and config always give the same preview. Invokes the platform uses are
answered as AWS answers them (zones of the region, the EKS-optimized AMI parameter, caller
identity, partition, IAM policy documents rendered from their statements). ``pulumi_eks.Cluster``,
a remote component that is one opaque resource under mocks, is answered the way the real
component would: its children are synthesized and registered, and its resource-typed outputs are
returned as resource references to them.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from ..core.kinds import CLUSTER_SCOPED_KINDS
from .datadog_mocks import datadog_resource
from .runtime import PlainResponse, needs_own_loop, on_inline_thread, serialize_now

SECRET_SIG = rpc._special_secret_sig
SIG_KEY = rpc._special_sig_key
RESOURCE_SIG = rpc._special_resource_sig


_EC2_ID_PREFIX = {
    "Vpc": "vpc",
    "Subnet": "subnet",
    "SecurityGroup": "sg",
    "DefaultSecurityGroup": "sg",
    "InternetGateway": "igw",
    "NatGateway": "nat",
    "Eip": "eipalloc",
    "RouteTable": "rtb",
    "VpcEndpoint": "vpce",
    "FlowLog": "fl",
    "LaunchTemplate": "lt",
    "NetworkAcl": "acl",
    "RouteTableAssociation": "rtbassoc",
    "SecurityGroupRule": "sgrule",
    "Instance": "i",
}
_EC2_ARN_KIND = {
    "Vpc": "vpc",
    "Subnet": "subnet",
    "SecurityGroup": "security-group",
    "DefaultSecurityGroup": "security-group",
    "InternetGateway": "internet-gateway",
    "NatGateway": "natgateway",
    "Eip": "elastic-ip",
    "RouteTable": "route-table",
    "VpcEndpoint": "vpc-endpoint",
    "FlowLog": "vpc-flow-log",
    "LaunchTemplate": "launch-template",
    "NetworkAcl": "network-acl",
    "Instance": "instance",
}
NODE_PORT_RANGE = (30000, 32767)
"""Kubernetes' default ``--service-node-port-range``."""
_SECURITY_GROUP_RULE_TYPES = ("SecurityGroupIngressRule", "SecurityGroupEgressRule")


def digest(*parts: str, length: int = 17) -> str:
    """Deterministic lowercase hex of ``length`` characters."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def det_uuid(*parts: str) -> str:
    return str(uuid.UUID(hex=hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]))


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def unwrap(value: Any) -> Any:
    """Remove secret wrappers (keeping their values)."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def _split_token(typ: str) -> tuple[str, str, str]:
    """``aws:ec2/vpc:Vpc`` -> (``aws``, ``ec2``, ``Vpc``)."""
    parts = typ.split(":")
    pkg = parts[0]
    module = parts[1].split("/")[0] if len(parts) > 1 else ""
    name = parts[2] if len(parts) > 2 else ""
    return pkg, module, name


@dataclass
class MockAccount:
    """Where the offline stack lives."""

    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"
    zone_count: int = 4
    """How many zones ``getAvailabilityZones`` reports (AWS regions have 3 to 6)."""


StackOutputsResolver = Callable[[str], tuple[dict[str, Any], list[str]]]
"""Given a stack reference name, return (outputs, secret output names)."""


@dataclass
class Recorded:
    """One registered resource, as the preview reports it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    """The ``ignore_changes`` resource option (engine property names)."""


class PreviewMocks(Mocks):
    """Answers resource registrations and invokes for the offline preview."""

    def __init__(self, account: MockAccount, resolve_stack: StackOutputsResolver | None = None):
        self.account = account
        self.resolve_stack = resolve_stack
        self.monitor: RecordingMonitor | None = None
        self.unknown_invokes: list[str] = []
        self.kubeconfigs: dict[str, str] = {}
        """Offline kubeconfig JSON per synthesized EKS cluster URN (for getKubeconfig calls)."""
        self.node_ports: dict[int, str] = {}
        """Node ports allocated in this run -> the Service (``namespace/name``) holding it."""

    # --- ids and ARNs ---------------------------------------------------------------------------

    def digest(self, *parts: str, length: int = 17) -> str:
        """Like :func:`digest`, scoped to this stack's account and region."""
        return digest(self.account.account_id, self.account.region, *parts, length=length)

    def arn(
        self, service: str, resource: str, *, regional: bool = True, account: bool = True
    ) -> str:
        region = self.account.region if regional else ""
        acct = self.account.account_id if account else ""
        return f"arn:{self.account.partition}:{service}:{region}:{acct}:{resource}"

    def _physical_name(self, args: MockResourceArgs, key: str = "name", max_len: int = 64) -> str:
        given = args.inputs.get(key)
        if isinstance(given, str) and given:
            return given
        prefix = args.inputs.get(f"{key}Prefix")
        if isinstance(prefix, str) and prefix:
            return prefix + self.digest(args.typ, args.name, length=26)
        # Pulumi auto-naming: logical name plus 7 random characters (here: derived).
        return args.name[: max_len - 8] + "-" + self.digest(args.typ, args.name, length=7)

    # --- resources ------------------------------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        typ = args.typ
        if typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(args)
        if typ == "eks:index:Cluster":
            return self._eks_cluster(args)
        pkg, module, kind = _split_token(typ)
        if pkg == "kubernetes":
            return self._kubernetes(args)
        if typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", dict(args.inputs)
        if pkg == "aws":
            return self._aws(args, module, kind)
        if pkg == "datadog":
            return datadog_resource(typ, args.name, dict(args.inputs))
        return f"{args.name}-{digest(typ, args.name, length=8)}", dict(args.inputs)

    def _aws(self, args: MockResourceArgs, module: str, kind: str) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        out: dict[str, Any] = dict(inputs)
        h = self.digest(args.typ, args.name)
        if "tags" in inputs:
            out["tagsAll"] = inputs["tags"]
        rid: str
        if module == "ec2" and kind in _EC2_ID_PREFIX:
            rid = f"{_EC2_ID_PREFIX[kind]}-{h}"
            if kind in _EC2_ARN_KIND:
                out["arn"] = self.arn("ec2", f"{_EC2_ARN_KIND[kind]}/{rid}")
            out["ownerId"] = self.account.account_id
            if kind == "Vpc":
                out.update(
                    defaultSecurityGroupId=f"sg-{digest(h, 'default')}",
                    mainRouteTableId=f"rtb-{digest(h, 'main')}",
                    defaultRouteTableId=f"rtb-{digest(h, 'main')}",
                    defaultNetworkAclId=f"acl-{digest(h, 'acl')}",
                )
            if kind in ("SecurityGroup",):
                out["name"] = self._physical_name(args, max_len=255)
            if kind == "Eip":
                out["publicIp"] = "198.51.100." + str(int(h[:4], 16) % 250 + 1)
                out["allocationId"] = rid
            if kind == "LaunchTemplate":
                out["latestVersion"] = 1
                out["defaultVersion"] = 1
                out["name"] = self._physical_name(args, max_len=125)
            if kind == "Subnet":
                out["availabilityZoneId"] = _zone_id(
                    self.account.region, str(inputs.get("availabilityZone", ""))
                )
        elif module == "vpc" and kind in _SECURITY_GROUP_RULE_TYPES:
            rid = f"sgr-{h}"
            out["arn"] = self.arn("ec2", f"security-group-rule/{rid}")
            out["securityGroupRuleId"] = rid
        elif module == "iam":
            rid, out = self._iam(args, kind, out)
        elif module == "kms" and kind == "Key":
            rid = det_uuid(self.account.account_id, self.account.region, args.typ, args.name)
            out.update(keyId=rid, arn=self.arn("kms", f"key/{rid}"))
        elif module == "kms" and kind == "Alias":
            rid = str(inputs.get("name") or f"alias/{args.name}")
            out.update(
                arn=self.arn("kms", rid),
                name=rid,
                targetKeyArn=self.arn("kms", f"key/{inputs.get('targetKeyId', '')}"),
            )
        elif module == "cloudwatch" and kind == "LogGroup":
            rid = self._physical_name(args, max_len=512)
            out.update(name=rid, arn=self.arn("logs", f"log-group:{rid}"))
        elif module == "cloudwatch" and kind == "MetricAlarm":
            rid = self._physical_name(args, key="name", max_len=255)
            out.update(name=rid, arn=self.arn("cloudwatch", f"alarm:{rid}"))
        elif module == "cloudwatch" and kind == "EventRule":
            rid = self._physical_name(args)
            out.update(name=rid, arn=self.arn("events", f"rule/{rid}"))
        elif module == "s3" and kind in ("Bucket", "BucketV2"):
            prefix = inputs.get("bucketPrefix")
            rid = str(
                inputs.get("bucket")
                or (prefix + self.digest(args.typ, args.name, length=26) if prefix else "")
                or f"{args.name[:40]}-{self.digest(args.typ, args.name, length=7)}"
            )
            out.update(
                bucket=rid,
                arn=f"arn:{self.account.partition}:s3:::{rid}",
                bucketDomainName=f"{rid}.s3.amazonaws.com",
                bucketRegionalDomainName=f"{rid}.s3.{self.account.region}.amazonaws.com",
            )
        elif module == "dynamodb" and kind == "Table":
            rid = self._physical_name(args, max_len=255)
            out.update(
                name=rid,
                arn=self.arn("dynamodb", f"table/{rid}"),
                streamArn="",
            )
        elif module == "sqs" and kind == "Queue":
            rid_name = self._physical_name(args, max_len=80)
            rid = f"https://sqs.{self.account.region}.amazonaws.com/{self.account.account_id}/{rid_name}"
            out.update(name=rid_name, url=rid, arn=self.arn("sqs", rid_name))
        elif module == "sns" and kind == "Topic":
            name = self._physical_name(args, max_len=256)
            rid = self.arn("sns", name)
            out.update(name=name, arn=rid)
        elif module == "lambda" and kind == "Function":
            rid = self._physical_name(args)
            out.update(
                name=rid,
                arn=self.arn("lambda", f"function:{rid}"),
                invokeArn=f"arn:aws:apigateway:{self.account.region}:lambda:path/"
                f"2015-03-31/functions/{self.arn('lambda', f'function:{rid}')}/invocations",
            )
        elif module == "ecr" and kind == "Repository":
            rid = self._physical_name(args, max_len=256)
            out.update(
                name=rid,
                arn=self.arn("ecr", f"repository/{rid}"),
                repositoryUrl=f"{self.account.account_id}.dkr.ecr.{self.account.region}"
                f".amazonaws.com/{rid}",
                registryId=self.account.account_id,
            )
        elif module in ("lb", "alb") and kind in ("LoadBalancer", "TargetGroup", "Listener"):
            name = self._physical_name(args, max_len=32)
            kind_path = {
                "LoadBalancer": "loadbalancer/app",
                "TargetGroup": "targetgroup",
                "Listener": "listener/app",
            }[kind]
            rid = self.arn("elasticloadbalancing", f"{kind_path}/{name}/{h[:16]}")
            out.update(arn=rid, name=name)
            if kind == "LoadBalancer":
                out.update(
                    dnsName=f"{name}-{int(h[:8], 16)}.{self.account.region}.elb.amazonaws.com",
                    zoneId="Z35SXDOTRQ7X7K",
                    arnSuffix=f"app/{name}/{h[:16]}",
                )
            if kind == "TargetGroup":
                out["arnSuffix"] = f"targetgroup/{name}/{h[:16]}"
        elif module == "autoscaling" and kind == "Group":
            rid = self._physical_name(args, max_len=255)
            out.update(
                name=rid,
                arn=self.arn(
                    "autoscaling", f"autoScalingGroup:{det_uuid(h)}:autoScalingGroupName/{rid}"
                ),
            )
        elif module == "eks" and kind == "Cluster":
            rid = self._physical_name(args, max_len=100)
            out.update(name=rid, arn=self.arn("eks", f"cluster/{rid}"))
        elif module == "eks" and kind in ("Addon", "AccessEntry", "PodIdentityAssociation"):
            rid = f"{inputs.get('clusterName', '')}:{inputs.get('addonName') or inputs.get('principalArn') or args.name}"
            out["arn"] = self.arn("eks", f"{kind.lower()}/{rid}")
        else:
            rid = f"{args.name}-{h[:8]}"
            out.setdefault("arn", self.arn(module, f"{kind[0].lower()}{kind[1:]}/{rid}"))
        return rid, out

    def _iam(
        self, args: MockResourceArgs, kind: str, out: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if kind == "Role":
            name = self._physical_name(args)
            path = str(args.inputs.get("path") or "/")
            out.update(
                name=name,
                arn=self.arn("iam", f"role{path}{name}", regional=False),
                uniqueId="AROA" + self.digest(args.typ, args.name, length=17).upper(),
            )
            return name, out
        if kind == "Policy":
            name = self._physical_name(args, max_len=128)
            path = str(args.inputs.get("path") or "/")
            arn = self.arn("iam", f"policy{path}{name}", regional=False)
            out.update(
                name=name, arn=arn, policyId="ANPA" + self.digest(args.typ, args.name).upper()
            )
            return arn, out
        if kind == "InstanceProfile":
            name = self._physical_name(args, max_len=128)
            out.update(name=name, arn=self.arn("iam", f"instance-profile/{name}", regional=False))
            return name, out
        if kind == "OpenIdConnectProvider":
            url = str(args.inputs.get("url", "")).removeprefix("https://")
            arn = self.arn("iam", f"oidc-provider/{url}", regional=False)
            out["arn"] = arn
            return arn, out
        if kind == "RolePolicyAttachment":
            return (
                f"{args.inputs.get('role', '')}-{self.digest(args.typ, args.name, length=20)}",
                out,
            )
        name = f"{args.name}-{self.digest(args.typ, args.name, length=8)}"
        return name, out

    def _kubernetes(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "kubernetes:helm.sh/v4:Chart":
            # A remote component the provider renders from the chart repository (not fetched
            # offline): its state is its inputs (chart, version, repository, values), no objects.
            return f"{args.name}-chart", {**args.inputs, "resources": []}
        out = dict(args.inputs)
        kind = str(out.get("kind") or _split_token(args.typ)[2])
        meta = dict(out.get("metadata") or {})
        if not meta.get("name"):
            # pulumi-kubernetes auto-names with the logical name plus a random suffix.
            meta["name"] = f"{args.name}-{self.digest(args.typ, args.name, length=8)}"
        if (
            kind not in CLUSTER_SCOPED_KINDS
            and args.typ.startswith("kubernetes:")
            and not meta.get("namespace")
            and not args.typ.startswith("kubernetes:helm")
        ):
            meta["namespace"] = "default"
        meta.setdefault(
            "uid", det_uuid(self.account.account_id, self.account.region, args.typ, args.name)
        )
        out["metadata"] = meta
        ns = meta.get("namespace")
        rid = f"{ns}/{meta['name']}" if ns else str(meta["name"])
        if kind == "Service" and isinstance(out.get("spec"), dict):
            out["spec"] = self._allocate_node_ports(rid, out["spec"])
        return rid, out

    def _allocate_node_ports(self, service: str, spec: dict[str, Any]) -> dict[str, Any]:
        """A NodePort or LoadBalancer Service's ports as the API server answers them: a port
        without ``nodePort`` gets a free one of 30000-32767, a taken one is refused.

        Like the API server's allocator, it never hands out a port twice in one cluster; unlike
        it (random), the first port tried is derived from the Service's name, so a preview is
        the same for the same program and a new service does not move the others' ports."""
        if spec.get("type") not in ("NodePort", "LoadBalancer"):
            return spec
        low, high = NODE_PORT_RANGE
        size = high - low + 1
        ports = []
        for i, port in enumerate(spec.get("ports") or []):
            port = dict(port)
            given = port.get("nodePort")
            if given is not None:
                wanted = int(given)
                owner = self.node_ports.get(wanted)
                if owner is not None and owner != service:
                    raise ValueError(
                        f'Service "{service}" is invalid: spec.ports[{i}].nodePort: Invalid '
                        f"value: {wanted}: provided port is already allocated"
                    )
            else:
                start = int(digest(service, str(port.get("name") or i), length=12), 16) % size
                wanted = next(
                    (
                        low + (start + k) % size
                        for k in range(size)
                        if low + (start + k) % size not in self.node_ports
                    ),
                    0,
                )
                if not wanted:
                    raise ValueError(f'Service "{service}": no free node port in {low}-{high}')
            self.node_ports[wanted] = service
            port["nodePort"] = wanted
            ports.append(port)
        return {**spec, "ports": ports}

    def _stack_reference(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name = str(args.inputs.get("name") or args.resource_id or args.name)
        if self.resolve_stack is None:
            raise RuntimeError(f"StackReference {name!r}: no resolver configured")
        outputs, secret_names = self.resolve_stack(name)
        wrapped = {
            k: ({SIG_KEY: SECRET_SIG, "value": v} if k in secret_names else v)
            for k, v in outputs.items()
        }
        return name, {"name": name, "outputs": wrapped, "secretOutputNames": sorted(secret_names)}

    # --- pulumi_eks.Cluster ---------------------------------------------------------------------

    def _eks_cluster(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if self.monitor is None:
            raise RuntimeError("PreviewMocks.monitor must be set to answer eks:index:Cluster")
        return synthesize_eks_cluster(self, self.monitor, args)

    # --- invokes --------------------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        token = args.token
        a = args.args
        region = self.account.region
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abcdef"[: self.account.zone_count]
            names = [f"{region}{c}" for c in letters]
            excluded = set(a.get("excludeNames") or [])
            names = [n for n in names if n not in excluded]
            return {
                "id": region,
                "names": names,
                "zoneIds": [_zone_id(region, n) for n in names],
                "groupNames": [region] * len(names),
                "state": a.get("state"),
                "region": region,
            }, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            acct = self.account.account_id
            return {
                "id": acct,
                "accountId": acct,
                "arn": f"arn:{self.account.partition}:sts::{acct}:assumed-role/offline-preview/session",
                "userId": "AROAOFFLINEPREVIEW:session",
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {
                "id": self.account.partition,
                "partition": self.account.partition,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {
                "id": region,
                "name": region,
                "region": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": f"offline {region}",
            }, []
        if token == "aws:ssm/getParameter:getParameter":
            name = str(a.get("name", ""))
            value = _ssm_parameter(name)
            return {
                "id": name,
                "name": name,
                "value": value,
                "insecureValue": value,
                "type": "String",
                "version": 1,
                "withDecryption": True,
                "arn": self.arn("ssm", f"parameter{name}"),
            }, []
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            doc = render_policy_document(a)
            text = json.dumps(doc, indent=2)
            return {
                "id": digest(text, length=10),
                "json": text,
                "minifiedJson": json.dumps(doc, separators=(",", ":")),
            }, []
        if token == "aws:iam/getPolicy:getPolicy":
            arn = str(
                a.get("arn") or self.arn("iam", f"policy/{a.get('name', '')}", regional=False)
            )
            return {"id": arn, "arn": arn, "name": arn.rsplit("/", 1)[-1]}, []
        if token == "aws:eks/getAddonVersion:getAddonVersion":
            return {
                "id": str(a.get("addonName")),
                "addonName": a.get("addonName"),
                "kubernetesVersion": a.get("kubernetesVersion"),
                "version": "v1.0.0-eksbuild.1",
            }, []
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            # Elastic Load Balancing's log-delivery account of the region (AWS documentation).
            elb_account = _ELB_ACCOUNTS.get(region, "000000000000")
            return {
                "id": elb_account,
                "arn": f"arn:{self.account.partition}:iam::{elb_account}:root",
                "region": region,
            }, []
        if token == "eks:index:Cluster/getKubeconfig":
            # Component method (answered through RecordingMonitor.Call): the cluster's kubeconfig.
            urn = str(a.get("__self_urn__", ""))
            kubeconfig = self.kubeconfigs.get(urn, "")
            return {"result": kubeconfig}, []
        self.unknown_invokes.append(token)
        return {}, []


_ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-central-1": "054676820928",
}
"""Elastic Load Balancing account per region, for regions older than August 2022 (documented by
AWS for ALB access log bucket policies); newer regions use the log-delivery service principal."""


def _zone_id(region: str, zone: str) -> str:
    short = "".join(p[0] for p in region.split("-")[:2]) + region.split("-")[-1]
    letter = zone[-1:] or "a"
    return f"{short}-az{'abcdef'.index(letter) + 1 if letter in 'abcdef' else 1}"


def _ssm_parameter(name: str) -> str:
    if name.startswith("/aws/service/eks/optimized-ami/") and name.endswith("/image_id"):
        return "ami-" + digest(name)
    if name.startswith("/aws/service/eks/optimized-ami/"):
        return json.dumps(
            {
                "image_id": "ami-" + digest(name),
                "image_name": "offline",
                "release_version": "offline",
            }
        )
    return f"offline-value-of-{name.strip('/').replace('/', '-')}"


def render_policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """Render ``iam.get_policy_document`` arguments the way the AWS provider does."""
    statements = []
    for st in args.get("statements") or []:
        out: dict[str, Any] = {}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        out["Effect"] = st.get("effect") or "Allow"
        for src, dst in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            values = st.get(src)
            if values:
                out[dst] = values[0] if len(values) == 1 else sorted(values, reverse=True)
        for src, dst in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            principals = st.get(src)
            if principals:
                block: dict[str, Any] = {}
                for p in principals:
                    ids = p.get("identifiers") or []
                    block[p["type"]] = ids[0] if len(ids) == 1 else sorted(ids)
                out[dst] = "*" if block == {"*": "*"} else block
        conditions = st.get("conditions")
        if conditions:
            cond: dict[str, dict[str, Any]] = {}
            for c in conditions:
                values = c.get("values") or []
                cond.setdefault(c["test"], {})[c["variable"]] = (
                    values[0] if len(values) == 1 else values
                )
            out["Condition"] = cond
        statements.append(out)
    doc: dict[str, Any] = {"Version": args.get("version") or "2012-10-17"}
    if args.get("policyId"):
        doc["Id"] = args["policyId"]
    doc["Statement"] = statements
    return doc


# --- the recording monitor -----------------------------------------------------------------------


class RegistrationRefusedError(RuntimeError):
    """Raised by a strict :class:`RecordingMonitor` on the first resource registration."""


class RecordingMonitor(MockMonitor):
    """A MockMonitor that records parent, provider, dependencies and inputs of every resource,
    answers ``Call`` (component methods), and keeps the stack's registered outputs.

    With ``fail_on_register`` it refuses every registration but the stack's own (reads and
    invokes still answer): the monitor a bad-input test runs under, so a program that registers
    anything before its validation error fails the way ``pulumi up`` would have started
    creating it. Refused registrations are listed in :attr:`refused`."""

    def __init__(self, mocks: PreviewMocks, *, fail_on_register: bool = False) -> None:
        super().__init__(mocks)
        mocks.monitor = self
        self.preview_mocks = mocks
        self.fail_on_register = fail_on_register
        self.refused: list[str] = []
        self.recorded: dict[str, Recorded] = {}
        self.order: list[str] = []
        self.stack_urn: str = ""
        self.stack_outputs: dict[str, Any] = {}
        self._local = threading.local()
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Stop the worker thread, if one was needed (see :meth:`_on_worker`)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None

    def _on_worker(self, method: Callable[[Any], Any], request: Any, payload: Any) -> Any:
        """``None`` when ``method`` may answer ``request`` here; otherwise its answer, computed
        on a worker thread with an event loop of its own, as Pulumi's executor would have (the
        engine answers RPCs inline on the program's event loop thread, see
        :mod:`eksplatform.preview.runtime`; a payload holding resource references, assets or
        output values must not be rehydrated on that loop). Blocks until answered."""
        if not on_inline_thread() or not needs_own_loop(payload):
            return None
        if self._worker is None:
            self._worker = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="preview-rpc"
            )
        context = contextvars.copy_context()
        return self._worker.submit(context.run, method, request).result()

    @staticmethod
    def _serialize(value: dict[str, Any]) -> Any:
        """A mock answer as a protobuf Struct: without the event loop when answering inline."""
        if on_inline_thread():
            return serialize_now(value)
        from pulumi.runtime.sync_await import _sync_await

        return _sync_await(rpc.serialize_properties(value, {}))

    def current_parent(self) -> str:
        """Parent URN of the registration being answered on this thread (MockResourceArgs has
        none, but remote components need it to name their children)."""
        return str(getattr(self._local, "parent", ""))

    def register_synthesized(self, rec: Recorded) -> None:
        """Record a resource the mocks made up (children of remote components)."""
        self.resources[rec.urn] = MockMonitor.ResourceRegistration(rec.urn, rec.id, rec.outputs)
        self.recorded[rec.urn] = rec
        self.order.append(rec.urn)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        elsewhere = self._on_worker(self.RegisterResource, request, request.object)
        if elsewhere is not None:
            return elsewhere
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = self.make_urn(request.parent, request.type, request.name)
            return super().RegisterResource(request)
        if self.fail_on_register:
            urn = self.make_urn(request.parent, request.type, request.name)
            self.refused.append(urn)
            raise RegistrationRefusedError(f"registration of {urn} refused: the monitor is strict")
        self._local.parent = request.parent
        response, inputs = self._register(request)
        urn = response.urn
        registration = self.resources[urn]
        prop_deps = {k: sorted(v.urns) for k, v in request.propertyDependencies.items()}
        self.recorded[urn] = Recorded(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            dependencies=sorted(set(request.dependencies)),
            inputs=inputs,
            outputs=dict(registration.state),
            id=registration.id or "",
            property_dependencies=prop_deps,
            ignore_changes=list(request.ignoreChanges),
        )
        self.order.append(urn)
        return response

    def _register(self, request: Any) -> tuple[Any, dict[str, Any]]:
        """``MockMonitor.RegisterResource`` for a non-stack resource, returning the response and
        the deserialized inputs.

        Pulumi's version deserializes ``request.object`` for the mocks and the record needed it
        deserialized again (with ``keep_unknowns``); under ``dry_run`` (always, here) both give
        the same values, so one deserialization serves both. The mocks never modify their
        ``args.inputs`` (they copy before adding outputs)."""
        from pulumi.runtime.mocks import _resolve_callbacks
        from pulumi.runtime.proto import resource_pb2
        from pulumi.runtime.sync_await import _ensure_event_loop

        urn = self.make_urn(request.parent, request.type, request.name)
        # An event loop on this (executor) thread, as Pulumi's version ensures: deserializing
        # resource references and serializing the state need one.
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        resource_args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
            transforms=_resolve_callbacks(request.transforms),
        )
        id_, state = self.mocks.new_resource(resource_args)
        if on_inline_thread():  # the SDK reads the state back without a protobuf round trip
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)  # type: ignore[arg-type]
            return PlainResponse(urn, id_ or "", state), inputs
        obj_proto = self._serialize(state)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)  # type: ignore[arg-type]
        response = resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj_proto)
        return response, inputs

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        elsewhere = self._on_worker(self.RegisterResourceOutputs, request, request.outputs)
        if elsewhere is not None:
            return elsewhere
        if request.urn == self.stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        elsewhere = self._on_worker(self.ReadResource, request, request.properties)
        return super().ReadResource(request) if elsewhere is None else elsewhere

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        elsewhere = self._on_worker(self.Invoke, request, request.args)
        return super().Invoke(request) if elsewhere is None else elsewhere

    def Call(self, request: Any) -> Any:  # noqa: N802 - MockMonitor lacks it
        from pulumi.runtime.proto import provider_pb2
        from pulumi.runtime.sync_await import _ensure_event_loop

        _ensure_event_loop()
        # The receiver arrives as a resource reference; rehydrating it here (on an executor
        # thread) would wait on the program's event loop forever, so keep only its URN.
        raw = type(request.args)()  # a protobuf Struct
        raw.CopyFrom(request.args)
        self_urn = ""
        if "__self__" in raw.fields:
            ref = raw.fields["__self__"]
            if ref.HasField("struct_value") and "urn" in ref.struct_value.fields:
                self_urn = ref.struct_value.fields["urn"].string_value
            del raw.fields["__self__"]
        elsewhere = self._on_worker(self.Call, request, raw)
        if elsewhere is not None:
            return elsewhere
        args = rpc.deserialize_properties(raw)
        args["__self_urn__"] = self_urn
        result, _ = self.preview_mocks.call(
            MockCallArgs(token=request.tok, args=args, provider=request.provider)
        )
        ret = self._serialize(result)
        return provider_pb2.CallResponse(**{"return": ret})


# --- pulumi_eks.Cluster -------------------------------------------------------------------------

_EKS_OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def synthesize_eks_cluster(
    mocks: PreviewMocks, monitor: RecordingMonitor, args: MockResourceArgs
) -> tuple[str, dict[str, Any]]:
    """Answer ``eks:index:Cluster`` as pulumi-eks would, registering its children."""
    inp = unwrap(args.inputs)
    acct = mocks.account
    name = str(inp.get("name") or f"{args.name}-eksCluster-{digest(args.typ, args.name, length=7)}")
    component_urn = monitor.make_urn(monitor.current_parent(), args.typ, args.name)
    stack_prefix = component_urn.split("::")[0] + "::" + component_urn.split("::")[1]
    parent_type = args.typ

    def child_urn(typ: str, child: str) -> str:
        return f"{stack_prefix}::{parent_type}${typ}::{child}"

    def add(
        typ: str,
        child: str,
        inputs: dict[str, Any],
        custom: bool = True,
        deps: list[str] | None = None,
    ) -> tuple[str, str, dict[str, Any]]:
        margs = MockResourceArgs(typ=typ, name=child, inputs=inputs, custom=custom)
        rid, state = mocks.new_resource(margs)
        urn = child_urn(typ, child)
        monitor.register_synthesized(
            Recorded(
                urn=urn,
                type=typ,
                name=child,
                custom=custom,
                parent=component_urn,
                provider="",
                dependencies=sorted(deps or []),
                inputs=inputs,
                outputs=state,
                id=rid or "",
            )
        )
        return urn, rid or "", state

    def ref(urn: str, rid: str) -> dict[str, Any]:
        return {SIG_KEY: RESOURCE_SIG, "urn": urn, "id": rid}

    tags = inp.get("tags") or {}
    version = str(inp.get("version") or "1.35")
    vpc_id = inp.get("vpcId") or ""
    subnet_ids = list(inp.get("privateSubnetIds") or []) + list(
        inp.get("publicSubnetIds") or []
    ) or list(inp.get("subnetIds") or [])

    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "eks.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        },
        separators=(",", ":"),
    )
    role_urn, role_id, role_state = add(
        "aws:iam/role:Role", f"{args.name}-eksRole", {"assumeRolePolicy": trust, "tags": tags}
    )
    for i, policy in enumerate(("AmazonEKSClusterPolicy",)):
        add(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            f"{args.name}-eksRole-{i}",
            {"role": role_id, "policyArn": f"arn:aws:iam::aws:policy/{policy}"},
            deps=[role_urn],
        )
    csg_urn, csg_id, _ = add(
        "aws:ec2/securityGroup:SecurityGroup",
        f"{args.name}-eksClusterSecurityGroup",
        {
            "vpcId": vpc_id,
            "revokeRulesOnDelete": True,
            "tags": {**tags, "Name": f"{args.name}-eksClusterSecurityGroup"},
        },
    )
    add(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        f"{args.name}-eksClusterInternetEgressRule",
        {
            "type": "egress",
            "securityGroupId": csg_id,
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
            "description": "Allow internet access.",
        },
        deps=[csg_urn],
    )

    endpoint_host = f"{digest(name, length=32).upper()}.gr7.{acct.region}.eks.amazonaws.com"
    endpoint = f"https://{endpoint_host}"
    issuer = (
        f"https://oidc.eks.{acct.region}.amazonaws.com/id/{digest(name, 'oidc', length=32).upper()}"
    )
    ca_data = _fake_ca(name)
    eks_inputs: dict[str, Any] = {
        "name": name,
        "roleArn": role_state["arn"],
        "version": version,
        "tags": tags,
        "vpcConfig": {
            "securityGroupIds": [csg_id],
            "subnetIds": subnet_ids,
            "endpointPrivateAccess": bool(inp.get("endpointPrivateAccess", False)),
            "endpointPublicAccess": bool(inp.get("endpointPublicAccess", True)),
            "publicAccessCidrs": list(inp.get("publicAccessCidrs") or ["0.0.0.0/0"]),
        },
        "accessConfig": {
            "authenticationMode": inp.get("authenticationMode") or "CONFIG_MAP",
            "bootstrapClusterCreatorAdminPermissions": True,
        },
        "enabledClusterLogTypes": list(inp.get("enabledClusterLogTypes") or []),
        "deletionProtection": bool(inp.get("deletionProtection", False)),
    }
    if inp.get("encryptionConfigKeyArn"):
        eks_inputs["encryptionConfig"] = {
            "provider": {"keyArn": inp["encryptionConfigKeyArn"]},
            "resources": ["secrets"],
        }
    if inp.get("bootstrapSelfManagedAddons") is not None:
        eks_inputs["bootstrapSelfManagedAddons"] = bool(inp["bootstrapSelfManagedAddons"])
    if inp.get("kubernetesServiceIpAddressRange"):
        eks_inputs["kubernetesNetworkConfig"] = {
            "serviceIpv4Cidr": inp["kubernetesServiceIpAddressRange"],
            "ipFamily": "ipv4",
        }
    cluster_urn, cluster_id, cluster_state = add(
        "aws:eks/cluster:Cluster", f"{args.name}-eksCluster", eks_inputs, deps=[role_urn, csg_urn]
    )
    cluster_state.update(
        endpoint=endpoint,
        certificateAuthority={"data": ca_data},
        identities=[{"oidcs": [{"issuer": issuer}]}],
        status="ACTIVE",
        platformVersion="eks.1",
        vpcConfig={
            **eks_inputs["vpcConfig"],
            "vpcId": vpc_id,
            "clusterSecurityGroupId": f"sg-{digest(name, 'eks-cluster-sg')}",
        },
    )

    nsg_urn, nsg_id, _ = add(
        "aws:ec2/securityGroup:SecurityGroup",
        f"{args.name}-nodeSecurityGroup",
        {
            "vpcId": vpc_id,
            "revokeRulesOnDelete": True,
            "tags": {
                **tags,
                "Name": f"{args.name}-nodeSecurityGroup",
                f"kubernetes.io/cluster/{name}": "owned",
            },
        },
    )
    node_rules = [
        (
            "eksNodeIngressRule",
            {
                "type": "ingress",
                "fromPort": 0,
                "toPort": 0,
                "protocol": "-1",
                "self": True,
                "description": "Allow nodes to communicate with each other",
            },
        ),
        (
            "eksNodeClusterIngressRule",
            {
                "type": "ingress",
                "fromPort": 1025,
                "toPort": 65535,
                "protocol": "tcp",
                "sourceSecurityGroupId": csg_id,
                "description": "Allow worker Kubelets and pods to receive communication from the cluster control plane",
            },
        ),
        (
            "eksExtApiServerClusterIngressRule",
            {
                "type": "ingress",
                "fromPort": 443,
                "toPort": 443,
                "protocol": "tcp",
                "sourceSecurityGroupId": csg_id,
                "description": "Allow pods running extension API servers on port 443 to receive communication from cluster control plane",
            },
        ),
        (
            "eksNodeInternetEgressRule",
            {
                "type": "egress",
                "fromPort": 0,
                "toPort": 0,
                "protocol": "-1",
                "cidrBlocks": ["0.0.0.0/0"],
                "description": "Allow internet access.",
            },
        ),
    ]
    for rule_name, rule in node_rules:
        add(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            f"{args.name}-{rule_name}",
            {**rule, "securityGroupId": nsg_id},
            deps=[nsg_urn],
        )
    ingress_urn, ingress_id, _ = add(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        f"{args.name}-eksClusterIngressRule",
        {
            "type": "ingress",
            "fromPort": 443,
            "toPort": 443,
            "protocol": "tcp",
            "securityGroupId": csg_id,
            "sourceSecurityGroupId": nsg_id,
            "description": "Allow pods to communicate with the cluster API Server",
        },
        deps=[csg_urn, nsg_urn],
    )

    # The add-ons pulumi-eks creates unless told not to (kube-proxy and the VPC CNI by default;
    # CoreDNS only with a default node group, Fargate or when explicitly enabled).
    kube_proxy = inp.get("kubeProxyAddonOptions") or {}
    coredns = inp.get("corednsAddonOptions") or {}
    default_addons = []
    if kube_proxy.get("enabled", True) is not False:
        default_addons.append(("kube-proxy", kube_proxy))
    has_default_nodes = not inp.get("skipDefaultNodeGroup") or bool(inp.get("fargate"))
    if (
        coredns.get("enabled") is True
        or coredns.get("configurationValues")
        or (has_default_nodes and coredns.get("enabled", True) is not False)
    ):
        default_addons.append(("coredns", coredns))
    for addon, options in default_addons:
        add(
            "aws:eks/addon:Addon",
            f"{args.name}-{addon}",
            {
                "clusterName": name,
                "addonName": addon,
                "addonVersion": options.get("version") or "v1.0.0-eksbuild.1",
                "preserve": True,
                "resolveConflictsOnCreate": options.get("resolveConflictsOnCreate") or "OVERWRITE",
                "resolveConflictsOnUpdate": options.get("resolveConflictsOnUpdate") or "OVERWRITE",
                "tags": tags,
            },
            deps=[cluster_urn],
        )
    if not inp.get("useDefaultVpcCni", False):
        add(
            "eks:index:VpcCniAddon",
            f"{args.name}-vpc-cni",
            {"clusterName": name, "clusterVersion": version, "tags": tags},
            deps=[cluster_urn],
        )

    oidc = None
    if inp.get("createOidcProvider"):
        oidc_urn, oidc_id, oidc_state = add(
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            f"{args.name}-oidcProvider",
            {
                "url": issuer,
                "clientIdLists": ["sts.amazonaws.com"],
                "thumbprintLists": [_EKS_OIDC_THUMBPRINT],
                "tags": tags,
            },
            deps=[cluster_urn],
        )
        oidc = (oidc_urn, oidc_id, oidc_state)

    for entry_key, entry in sorted((inp.get("accessEntries") or {}).items()):
        entry_urn, _, _ = add(
            "aws:eks/accessEntry:AccessEntry",
            f"{args.name}-{entry_key}",
            {
                "clusterName": name,
                "principalArn": entry.get("principalArn"),
                "type": entry.get("type") or "STANDARD",
                "kubernetesGroups": entry.get("kubernetesGroups") or [],
                "tags": tags,
            },
            deps=[cluster_urn],
        )
        for pol_key, pol in sorted((entry.get("accessPolicies") or {}).items()):
            add(
                "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
                f"{args.name}-{entry_key}-{pol_key}",
                {
                    "clusterName": name,
                    "principalArn": entry.get("principalArn"),
                    "policyArn": pol.get("policyArn"),
                    "accessScope": pol.get("accessScope"),
                },
                deps=[entry_urn],
            )

    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
        ],
        "contexts": [{"name": "aws", "context": {"cluster": name, "user": "aws"}}],
        "current-context": "aws",
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "--region",
                            acct.region,
                            "eks",
                            "get-token",
                            "--cluster-name",
                            name,
                            "--output",
                            "json",
                        ],
                    }
                },
            }
        ],
    }
    kubeconfig_json = json.dumps(kubeconfig, separators=(",", ":"))
    mocks.kubeconfigs[component_urn] = kubeconfig_json
    provider_urn = f"{stack_prefix}::{parent_type}$pulumi:providers:kubernetes::{args.name}-eks-k8s"
    add_provider_inputs = {"kubeconfig": {SIG_KEY: SECRET_SIG, "value": kubeconfig_json}}
    monitor.register_synthesized(
        Recorded(
            urn=provider_urn,
            type="pulumi:providers:kubernetes",
            name=f"{args.name}-eks-k8s",
            custom=True,
            parent=component_urn,
            provider="",
            dependencies=[cluster_urn],
            inputs=add_provider_inputs,
            outputs=add_provider_inputs,
            id=f"{args.name}-eks-k8s-provider-id",
        )
    )

    core: dict[str, Any] = {
        "cluster": ref(cluster_urn, cluster_id),
        "clusterIamRole": ref(role_urn, role_id),
        "endpoint": endpoint,
        "instanceRoles": [],
        "nodeGroupOptions": {},
        "provider": ref(provider_urn, f"{args.name}-eks-k8s-provider-id"),
        "subnetIds": subnet_ids,
        "vpcId": vpc_id,
        "clusterSecurityGroup": ref(csg_urn, csg_id),
        "tags": tags,
        "accessEntries": [],
    }
    if oidc:
        core["oidcProvider"] = ref(oidc[0], oidc[1])
    outputs: dict[str, Any] = {
        **inp,
        "eksCluster": ref(cluster_urn, cluster_id),
        "core": core,
        "kubeconfig": {SIG_KEY: SECRET_SIG, "value": kubeconfig},
        "kubeconfigJson": {SIG_KEY: SECRET_SIG, "value": kubeconfig_json},
        "clusterSecurityGroup": ref(csg_urn, csg_id),
        "clusterSecurityGroupId": csg_id,
        "nodeSecurityGroup": ref(nsg_urn, nsg_id),
        "nodeSecurityGroupId": nsg_id,
        "eksClusterIngressRule": ref(ingress_urn, ingress_id),
        "clusterIngressRuleId": ingress_id,
        "oidcProviderArn": oidc[2]["arn"] if oidc else "",
        "oidcProviderUrl": issuer.removeprefix("https://"),
        "oidcIssuer": issuer.removeprefix("https://"),
        "defaultNodeGroupAsgName": "",
        "fargateProfileId": "",
        "fargateProfileStatus": "",
        "autoModeNodeRoleName": "",
    }
    return f"{name}", outputs


def _fake_ca(name: str) -> str:
    """A base64 blob shaped like a PEM CA bundle (not a real certificate)."""
    import base64

    body = base64.b64encode(hashlib.sha512(name.encode()).digest() * 12).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()

"""Network: the VPC the cluster runs in.

Per availability zone: a public subnet (load balancers, NAT gateways) and a large private subnet
(nodes and pods: the VPC CNI gives every pod a VPC address, so a /16 VPC over 3 zones gets three
/18 private subnets, 16,379 addresses each). NAT gateways per zone or one shared; an S3 gateway
endpoint; optional interface endpoints for ECR and STS; VPC flow logs; the default security group
stripped of all rules.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.errors import Problems
from ..core.tags import Tags

_TOKEN = "eksplatform:network:Network"


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Inputs of :class:`Network`."""

    cidr: str
    """IPv4 CIDR of the VPC (/16 to /20)."""
    availability_zones: tuple[str, ...]
    """Zones to span, one public and one private subnet each."""
    cluster_name: str
    """EKS cluster name, for the ``kubernetes.io/cluster/<name>`` subnet tags."""
    tags: Tags
    """Company tags."""
    nat_gateways: str = "perAz"
    """``perAz`` or ``single``. Default: perAz."""
    interface_endpoints: bool = True
    """ECR api/dkr and STS interface endpoints. Default: true."""
    flow_logs: bool = True
    """VPC flow logs to CloudWatch Logs. Default: true."""
    flow_logs_retention_days: int = 30
    """Default: 30."""
    flow_logs_traffic_type: str = "ALL"
    """Default: ALL."""


@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    public: str
    private: str


def plan_subnets(cidr: str, zones: tuple[str, ...]) -> list[SubnetPlan]:
    """Carve the VPC: private subnets take equal quarters (or eighths beyond 3 zones) of the VPC;
    the public subnets are /22-sized slices (for a /16) of the last block, which is left over."""
    vpc = ipaddress.IPv4Network(cidr)
    split = 2 if len(zones) <= 3 else 3
    blocks = list(vpc.subnets(prefixlen_diff=split))
    spare = blocks[-1]
    publics = list(spare.subnets(prefixlen_diff=4))
    return [
        SubnetPlan(zone=z, public=str(publics[i]), private=str(blocks[i]))
        for i, z in enumerate(zones)
    ]


def validate_network_args(args: NetworkArgs) -> None:
    problems = Problems()
    try:
        net = ipaddress.IPv4Network(args.cidr)
        if not 16 <= net.prefixlen <= 20:
            problems.add("cidr", args.cidr, "the VPC must be a /16 to /20")
    except ValueError:
        problems.add("cidr", args.cidr, "not a valid IPv4 CIDR block; write it like 10.20.0.0/16")
    if not 1 <= len(args.availability_zones) <= 6:
        problems.add("availability_zones", list(args.availability_zones), "give 1 to 6 zones")
    if args.nat_gateways not in ("perAz", "single"):
        problems.add("nat_gateways", args.nat_gateways, "use 'perAz' or 'single'")
    problems.raise_if_any(f"Network '{args.cluster_name}'")


class Network(pulumi.ComponentResource):
    """VPC, subnets, routing, NAT, endpoints and flow logs for one cluster."""

    vpc_id: pulumi.Output[str]
    """Id of the VPC."""
    public_subnet_ids: list[pulumi.Output[str]]
    """One per zone, in zone order."""
    private_subnet_ids: list[pulumi.Output[str]]
    """One per zone, in zone order (nodes and pods live here)."""
    availability_zones: tuple[str, ...]
    nat_gateway_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_network_args(args)
        super().__init__(_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags
        plan = plan_subnets(args.cidr, args.availability_zones)
        self.availability_zones = args.availability_zones

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=tags.with_name(f"{name}-vpc"),
            opts=child,
        )
        # CIS: the default security group allows nothing; every workload gets its own group.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=tags.with_name(f"{name}-default-deny"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=tags.with_name(f"{name}-igw"), opts=child
        )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags=tags.with_name(f"{name}-public"), opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )

        publics: list[aws.ec2.Subnet] = []
        privates: list[aws.ec2.Subnet] = []
        nats: list[aws.ec2.NatGateway] = []
        private_rts: list[aws.ec2.RouteTable] = []
        for i, p in enumerate(plan):
            suffix = p.zone[-1]
            public = self._subnet(name, "public", p.zone, p.public, vpc, args, child)
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{suffix}",
                subnet_id=public.id,
                route_table_id=public_rt.id,
                opts=child,
            )
            private = self._subnet(name, "private", p.zone, p.private, vpc, args, child)
            publics.append(public)
            privates.append(private)
            if args.nat_gateways == "perAz" or i == 0:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{suffix}",
                    domain="vpc",
                    tags=tags.with_name(f"{name}-nat-{p.zone}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{suffix}",
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        connectivity_type="public",
                        tags=tags.with_name(f"{name}-nat-{p.zone}"),
                        opts=child,
                    )
                )
            nat = nats[i] if args.nat_gateways == "perAz" else nats[0]
            rt = aws.ec2.RouteTable(
                f"{name}-private-{suffix}-rt",
                vpc_id=vpc.id,
                tags=tags.with_name(f"{name}-private-{p.zone}"),
                opts=child,
            )
            aws.ec2.Route(
                f"{name}-private-{suffix}-default",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{suffix}", subnet_id=private.id, route_table_id=rt.id, opts=child
            )
            private_rts.append(rt)

        region = aws.get_region_output()
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            vpc_endpoint_type="Gateway",
            service_name=pulumi.Output.concat("com.amazonaws.", region.region, ".s3"),
            route_table_ids=[rt.id for rt in private_rts],
            tags=tags.with_name(f"{name}-s3"),
            opts=child,
        )
        if args.interface_endpoints:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints",
                vpc_id=vpc.id,
                description="HTTPS from the VPC to the interface endpoints",
                tags=tags.with_name(f"{name}-endpoints"),
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-https",
                security_group_id=endpoint_sg.id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=args.cidr,
                description="HTTPS from inside the VPC",
                tags=tags.merged(),
                opts=child,
            )
            for service in ("ecr.api", "ecr.dkr", "sts"):
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}",
                    vpc_id=vpc.id,
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    service_name=pulumi.Output.concat(
                        "com.amazonaws.", region.region, f".{service}"
                    ),
                    subnet_ids=[s.id for s in privates],
                    security_group_ids=[endpoint_sg.id],
                    tags=tags.with_name(f"{name}-{service}"),
                    opts=child,
                )

        if args.flow_logs:
            self._flow_logs(name, args, vpc, child)

        self.vpc_id = vpc.id
        self.public_subnet_ids = [s.id for s in publics]
        self.private_subnet_ids = [s.id for s in privates]
        self.nat_gateway_ids = [n.id for n in nats]
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    @staticmethod
    def _subnet(
        name: str,
        tier: str,
        zone: str,
        cidr: str,
        vpc: aws.ec2.Vpc,
        args: NetworkArgs,
        child: pulumi.ResourceOptions,
    ) -> aws.ec2.Subnet:
        """One subnet of a tier, tagged for load balancer discovery (``elb`` on public subnets,
        ``internal-elb`` on private ones) and as shared by the cluster."""
        role = "kubernetes.io/role/elb" if tier == "public" else "kubernetes.io/role/internal-elb"
        return aws.ec2.Subnet(
            f"{name}-{tier}-{zone[-1]}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags=args.tags.merged(
                {
                    "Name": f"{name}-{tier}-{zone}",
                    role: "1",
                    "subnet-tier": tier,
                    f"kubernetes.io/cluster/{args.cluster_name}": "shared",
                }
            ),
            opts=child,
        )

    def _flow_logs(
        self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc, child: pulumi.ResourceOptions
    ) -> None:
        tags = args.tags
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.flow_logs_retention_days,
            tags=tags.merged(),
            opts=child,
        )
        # The service principal may assume the role only for flow logs of this account and
        # region (confused deputy: without these keys any account's flow logs could use it).
        invoke = pulumi.InvokeOutputOptions(parent=self)
        where = pulumi.Output.all(
            aws.get_partition_output(opts=invoke).partition,
            aws.get_region_output(opts=invoke).region,
            aws.get_caller_identity_output(opts=invoke).account_id,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=where.apply(lambda v: json.dumps(_flow_logs_trust(*v))),
            tags=tags.merged(),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type=args.flow_logs_traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=tags.merged(),
            opts=child,
        )


def _flow_logs_trust(partition: str, region: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }


def resolve_zones(explicit: tuple[str, ...] | None, count: int) -> tuple[str, ...]:
    """The zones to span: the explicit list, else the first ``count`` available zones of the
    region (a plain list the program can index; zone choice must not wait on an Output)."""
    if explicit:
        return tuple(explicit)
    available = aws.get_availability_zones(state="available").names
    if len(available) < count:
        problems = Problems()
        problems.add(
            "azCount",
            count,
            f"the region has only {len(available)} available zones "
            f"({', '.join(available)}); lower azCount",
        )
        problems.raise_if_any("Network")
    return tuple(sorted(available)[:count])

"""Subnet planning and Network argument validation (pure, no Pulumi runtime)."""

from __future__ import annotations

import ipaddress

import pytest
from eksplatform.cluster.network import NetworkArgs, plan_subnets, validate_network_args
from eksplatform.core.errors import ValidationError
from eksplatform.core.tags import Tags

TAGS = Tags(team="platform", environment="prod", cost_centre="cc")


@pytest.mark.parametrize(
    ("cidr", "zones", "private_prefix"),
    [
        ("10.0.0.0/16", 3, 18),
        ("10.0.0.0/16", 2, 18),
        ("10.0.0.0/16", 6, 19),
        ("172.16.0.0/20", 3, 22),
        ("192.168.0.0/18", 1, 20),
    ],
)
def test_subnets_are_disjoint_inside_the_vpc(cidr: str, zones: int, private_prefix: int) -> None:
    names = tuple(f"eu-west-1{c}" for c in "abcdef"[:zones])
    plan = plan_subnets(cidr, names)
    vpc = ipaddress.IPv4Network(cidr)
    nets = [ipaddress.IPv4Network(n) for p in plan for n in (p.public, p.private)]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert [p.zone for p in plan] == list(names)
    assert {ipaddress.IPv4Network(p.private).prefixlen for p in plan} == {private_prefix}


def test_private_subnets_hold_thousands_of_pods() -> None:
    plan = plan_subnets("10.0.0.0/16", ("a", "b", "c"))
    # AWS reserves 5 addresses per subnet
    assert all(ipaddress.IPv4Network(p.private).num_addresses - 5 >= 16_000 for p in plan)
    assert all(ipaddress.IPv4Network(p.public).num_addresses - 5 >= 1_000 for p in plan)


def test_bad_args_report_every_problem() -> None:
    args = NetworkArgs(
        cidr="10.0.0.0/8",
        availability_zones=(),
        cluster_name="eks-x",
        tags=TAGS,
        nat_gateways="many",
    )
    with pytest.raises(ValidationError) as info:
        validate_network_args(args)
    assert str(info.value) == (
        "Network 'eks-x': 3 problems:\n"
        "  - cidr: got '10.0.0.0/8': the VPC must be a /16 to /20\n"
        "  - availability_zones: got []: give 1 to 6 zones\n"
        "  - nat_gateways: got 'many': use 'perAz' or 'single'"
    )


def test_company_tags_win_over_callers() -> None:
    tags = Tags(team="platform", environment="prod", cost_centre="cc", extra={"project": "x"})
    merged = tags.merged({"Name": "a", "team": "other"}, {"environment": "dev", "owner": "me"})
    assert merged == {
        "Name": "a",
        "cost-centre": "cc",
        "environment": "prod",
        "managed-by": "pulumi-eksplatform",
        "owner": "me",
        "project": "x",
        "team": "platform",
    }

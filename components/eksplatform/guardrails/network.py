"""Guardrails on network exposure: security group ingress and load balancer listeners.

A security group rule cannot tell, by itself, whether its group belongs to a load balancer, so
the rule is split: ``aws-no-world-ingress`` (one resource: never SSH, never a port other than
80/443 from the internet) and ``aws-world-ingress-lb-only`` (the stack: the internet reaches only
groups a load balancer of the stack uses). "The internet" is any public range of /8 or wider
(IPv6: /16), so ``0.0.0.0/1`` plus ``128.0.0.0/1`` does not slip through; the cost is that a
public /8 of one's own counts as the world too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ._props import as_list, as_map, dig, number
from .model import Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

# --- security groups ----------------------------------------------------------------------------

_SSH = 22


WORLD_PREFIX_V4 = 8
"""A public IPv4 block this wide or wider (a /8 admits 16.7 million addresses) counts as the
internet; the cluster config's public endpoint check agrees
(:data:`eksplatform.cluster.config_model.MIN_PUBLIC_PREFIX`)."""
WORLD_PREFIX_V6 = 16


def is_world(cidr: str) -> bool:
    """Whether a CIDR opens to the internet at large: any public range of /8 or wider (IPv4) or
    /16 or wider (IPv6); ``0.0.0.0/1`` + ``128.0.0.0/1`` count as the world."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    wide = net.prefixlen <= (WORLD_PREFIX_V4 if net.version == 4 else WORLD_PREFIX_V6)
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

NETWORK_RULES = (NO_WORLD_INGRESS, WORLD_INGRESS_LB_ONLY, HTTP_REDIRECT_ONLY)

"""The checks of what ServiceStack creates in AWS: the ALB (certificate, CIDRs, TLS policy,
timeouts), its alarms, the tags every resource carries (and the Datadog tags that become AWS tags
too) and the ECR repository. Pure functions of the (well-typed) arguments, like :mod:`.checks`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping

from ..core.errors import Problems
from ..core.tags import COMPANY_TAG_KEYS
from .args import ServiceStackArgs
from .checks import ImageRef, int_in, is_int

AWS_TAGS_MAX = 50
"""AWS allows 50 tags per resource."""
PLATFORM_TAG_KEYS = ("service", "kubernetes-namespace")
"""AWS tags ServiceStack sets on its resources besides the company tags."""
DATADOG_RESERVED_TAGS = ("host", "device", "source", "service", "env", "version")
"""Datadog's reserved tag keys (unified service tagging sets env, service and version)."""
SSL_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    }
)
"""TLS 1.3 policies with TLS 1.2 or 1.3 as the floor (no TLS 1.0/1.1, no CBC-only suites)."""
ACM_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):acm:(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}):"
    r"(?P<account>[0-9]{12}):certificate/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
_DATADOG_TAG_KEY = re.compile(r"[a-z][a-z0-9_.:/-]*")


def check_ingress(problems: Problems, args: ServiceStackArgs) -> None:
    """The ALB's own settings (certificate region and the production rule: contract checks)."""
    ing = args.ingress
    if ing is None:
        return
    if ing.certificate_arn is not None and not ACM_ARN.fullmatch(ing.certificate_arn):
        problems.add(
            "ingress.certificate_arn",
            ing.certificate_arn,
            "must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>",
        )
    if ing.allowed_cidrs is not None:
        if not ing.allowed_cidrs:
            problems.add(
                "ingress.allowed_cidrs",
                ing.allowed_cidrs,
                "must be a non-empty list of CIDRs, or None for the default",
            )
        seen: set[str] = set()
        for i, cidr in enumerate(ing.allowed_cidrs):
            try:
                network = ipaddress.IPv4Network(cidr, strict=True)
            except (ValueError, TypeError):
                problems.add(
                    f"ingress.allowed_cidrs[{i}]",
                    cidr,
                    "must be an IPv4 CIDR with no host bits set, e.g. '10.0.0.0/8'",
                )
                continue
            if str(network) in seen:
                problems.add(
                    f"ingress.allowed_cidrs[{i}]",
                    cidr,
                    "is listed twice: a security group refuses duplicate rules",
                )
            seen.add(str(network))
    if ing.ssl_policy not in SSL_POLICIES:
        problems.add(
            "ingress.ssl_policy",
            ing.ssl_policy,
            "must be a TLS 1.3 policy: one of " + ", ".join(sorted(SSL_POLICIES)),
        )
    if int_in(problems, "ingress.idle_timeout_s", ing.idle_timeout_s, 1, 4000):
        envoy_idle = args.envoy.idle_timeout_s
        numeric = is_int(envoy_idle) or isinstance(envoy_idle, float)
        if numeric and ing.idle_timeout_s >= envoy_idle:
            problems.add(
                "ingress.idle_timeout_s",
                ing.idle_timeout_s,
                f"must be below envoy.idle_timeout_s ({envoy_idle}): the ALB must close "
                "idle connections before Envoy does, or clients get 502s",
            )
    int_in(problems, "ingress.deregistration_delay_s", ing.deregistration_delay_s, 0, 3600)


def check_alarms(problems: Problems, args: ServiceStackArgs) -> None:
    a = args.alarms
    rate = a.error_rate_percent
    if not 0 < rate <= 100:
        problems.add("alarms.error_rate_percent", rate, "must be a percentage in (0, 100]")
    p99 = a.p99_latency_s
    if not 0 < p99 <= 600:
        problems.add("alarms.p99_latency_s", p99, "must be seconds in (0, 600]")
    int_in(problems, "alarms.unhealthy_hosts", a.unhealthy_hosts, 1, 1000)
    if not is_int(a.period_s) or a.period_s < 60 or a.period_s % 60 or a.period_s > 86400:
        problems.add(
            "alarms.period_s", a.period_s, "must be a multiple of 60 seconds, at most 86400"
        )
    periods_ok = int_in(problems, "alarms.evaluation_periods", a.evaluation_periods, 1, 100)
    points_ok = int_in(problems, "alarms.datapoints_to_alarm", a.datapoints_to_alarm, 1, 100)
    if periods_ok and points_ok and a.datapoints_to_alarm > a.evaluation_periods:
        problems.add(
            "alarms.datapoints_to_alarm",
            a.datapoints_to_alarm,
            f"must not exceed alarms.evaluation_periods ({a.evaluation_periods})",
        )


def _aws_tag_text(text: str, max_len: int) -> bool:
    """AWS tag characters: Unicode letters, digits, spaces and ``_ . : / = + - @``."""
    return len(text) <= max_len and all(c.isalnum() or c == " " or c in "_.:/=+-@" for c in text)


def check_tags(problems: Problems, args: ServiceStackArgs) -> None:
    """Company, platform and Datadog reserved keys refused; AWS and Datadog tag rules."""
    for key, value in args.tags.items():
        p = f"tags[{key!r}]"
        if key in COMPANY_TAG_KEYS:
            problems.add(p, value, "is a company tag the platform sets: remove it")
        elif key in PLATFORM_TAG_KEYS:
            problems.add(p, value, "is set by ServiceStack on every resource: remove it")
        elif key.lower().startswith("aws:"):
            problems.add(p, value, "the 'aws:' prefix is reserved by AWS: rename the key")
        elif not key or not _aws_tag_text(key, 128):
            problems.add(
                p,
                value,
                "must be an AWS tag key: 1-128 letters, digits, spaces or _.:/=+-@",
            )
        elif not _aws_tag_text(value, 256):
            problems.add(
                p, value, "must be an AWS tag value: up to 256 letters, digits, spaces or _.:/=+-@"
            )
    for key, value in args.datadog_tags.items():
        p = f"datadog_tags[{key!r}]"
        if key in COMPANY_TAG_KEYS:
            problems.add(p, value, "is a company tag the platform sets: remove it")
        elif key in DATADOG_RESERVED_TAGS or key in PLATFORM_TAG_KEYS:
            problems.add(
                p,
                value,
                "is reserved: the platform sets Datadog's env, service and version tags (and "
                "Datadog reserves host, device, source); remove it",
            )
        elif not _DATADOG_TAG_KEY.fullmatch(key) or not _aws_tag_text(key, 128):
            problems.add(
                p,
                value,
                "must be a Datadog tag key: a lowercase letter, then lowercase letters, digits "
                "or _.:/- (Datadog lowercases keys, so 'Product' would become another tag)",
            )
        elif not value or len(f"{key}:{value}") > 200 or not _aws_tag_text(value, 256):
            problems.add(
                p,
                value,
                "must be a non-empty tag value of letters, digits or _.:/=+-@ (key:value at most "
                "200 characters)",
            )
        elif key in args.tags and args.tags[key] != value:
            problems.add(
                p,
                value,
                f"disagrees with tags[{key!r}] ({args.tags[key]!r}): both become AWS tags; "
                "give the key once",
            )
    keys = set(args.tags) | set(args.datadog_tags)
    room = AWS_TAGS_MAX - len(COMPANY_TAG_KEYS) - len(PLATFORM_TAG_KEYS)
    if len(keys) > room:
        problems.add(
            "tags",
            len(keys),
            f"tags and datadog_tags give {len(keys)} AWS tags; with the platform's "
            f"{AWS_TAGS_MAX - room} a resource may carry {AWS_TAGS_MAX}: keep at most {room}",
        )


def check_ecr(problems: Problems, args: ServiceStackArgs, image: ImageRef | None) -> bool:
    int_in(problems, "ecr_keep_images", args.ecr_keep_images, 1, 1000)
    if image is None:
        return False
    in_ecr = image.ecr_account is not None
    if args.ecr is None:
        return in_ecr
    if args.ecr and not in_ecr:
        problems.add(
            "ecr",
            args.ecr,
            f"the image is not in an ECR registry ({image.host}): use an "
            "'<account>.dkr.ecr.<region>.amazonaws.com/...' image or leave ecr None",
        )
        return False
    return bool(args.ecr)


def datadog_annotation(tags: Mapping[str, str]) -> str:
    """The pod annotation Datadog's agent reads extra tags from."""
    return json.dumps(dict(sorted(tags.items())), separators=(",", ":"))

"""ARNs: parsing, and matching with IAM's wildcards.

IAM compares an ARN with a pattern (the ``Resource`` element, ``ArnLike``) component by
component: ``arn:partition:service:region:account:resource``, each of the first five split at the
first five colons, the resource part keeping any further colons; ``*`` matches any run of
characters (slashes and colons included) and ``?`` one character, within that component. The
pattern ``*`` alone matches every resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
"""The AWS partitions an ARN may name."""

WILDCARDS = frozenset("*?")


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: str) -> Arn | None:
    """The components of ``text``, or None when it is not ``arn:`` plus five colon-separated
    components (the resource part may hold more colons)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def has_wildcard(text: str) -> bool:
    return any(c in WILDCARDS for c in text)


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``StringLike`` match: ``*`` any run of characters, ``?`` one character."""
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """IAM's ``ArnLike`` (and ``Resource`` element) match of ``value`` against ``pattern``."""
    if pattern == "*":
        return True
    p, v = parse_arn(pattern), parse_arn(value)
    if p is None or v is None:
        return False
    return all(
        glob_match(pc, vc)
        for pc, vc in (
            (p.partition, v.partition),
            (p.service, v.service),
            (p.region, v.region),
            (p.account, v.account),
            (p.resource, v.resource),
        )
    )

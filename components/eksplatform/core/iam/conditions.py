"""IAM condition operators and the global condition keys, as data the checks and the evaluator
share.

Service condition keys (``s3:prefix``, ``dynamodb:LeadingKeys``) come from the action list
(:mod:`.actions`); the global keys (``aws:*``) are not in that data, so they are listed here from
AWS's reference of global condition context keys, with the type that decides which operators
apply to them. A key missing from both is refused by the statement checks rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STRING_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
)
NUMERIC_OPERATORS = (
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
)
DATE_OPERATORS = (
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
)
ARN_OPERATORS = ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
IP_OPERATORS = ("IpAddress", "NotIpAddress")
OPERATORS = (
    *STRING_OPERATORS,
    *NUMERIC_OPERATORS,
    *DATE_OPERATORS,
    *ARN_OPERATORS,
    *IP_OPERATORS,
    "Bool",
    "BinaryEquals",
    "Null",
)
"""Every base condition operator IAM knows."""

NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "ArnNotEquals",
        "ArnNotLike",
        "NotIpAddress",
    }
)
"""Operators that match when the value is NOT among the policy's values (and, without
``IfExists``, when the key is absent)."""

OPERATOR_TYPES: dict[str, frozenset[str]] = {
    **{op: frozenset({"String", "ARN"}) for op in STRING_OPERATORS},
    **{op: frozenset({"Numeric"}) for op in NUMERIC_OPERATORS},
    **{op: frozenset({"Date", "Numeric"}) for op in DATE_OPERATORS},
    **{op: frozenset({"ARN"}) for op in ARN_OPERATORS},
    **{op: frozenset({"IPAddress"}) for op in IP_OPERATORS},
    "Bool": frozenset({"Bool"}),
    "BinaryEquals": frozenset({"Binary"}),
}
"""Key types each operator compares (``Null`` takes every type). String operators also take ARN
keys: IAM compares them as text."""

_GLOBAL_KEYS: dict[str, str] = {
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Date",
    "aws:FederatedProvider": "String",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalType": "String",
    "aws:Referer": "String",
    "aws:RequestedRegion": "String",
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceIdentity": "String",
    "aws:SourceIp": "IPAddress",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:SourceVpc": "String",
    "aws:SourceVpce": "String",
    "aws:SourceVpcArn": "ARN",
    "aws:TagKeys": "ArrayOfString",
    "aws:TokenIssueTime": "Date",
    "aws:UserAgent": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:ViaAWSService": "Bool",
    "aws:VpcSourceIp": "IPAddress",
    "aws:VpceAccount": "String",
    "aws:VpceOrgID": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
}
GLOBAL_KEYS = {k.lower(): t for k, t in _GLOBAL_KEYS.items()}
"""Global condition keys (lower-cased, as IAM compares key names) -> type."""
GLOBAL_TAG_KEY_PREFIXES = {"aws:principaltag/", "aws:requesttag/", "aws:resourcetag/"}
"""Global keys that take a tag key after the slash (type String)."""

_TAG_KEY = re.compile(r"[\w .:/=+\-@${}]{1,128}", re.ASCII)


def global_key_type(key: str) -> str | None:
    """Type of a global condition key, or None when ``key`` is not one."""
    lowered = key.lower()
    if lowered in GLOBAL_KEYS:
        return GLOBAL_KEYS[lowered]
    for prefix in GLOBAL_TAG_KEY_PREFIXES:
        if lowered.startswith(prefix) and _TAG_KEY.fullmatch(key[len(prefix) :]):
            return "String"
    return None


@dataclass(frozen=True)
class Operator:
    """A condition operator as written: qualifier, base operator, ``IfExists``."""

    text: str
    base: str
    qualifier: str | None
    """``ForAnyValue``, ``ForAllValues`` or None."""
    if_exists: bool

    @property
    def negated(self) -> bool:
        return self.base in NEGATED


def parse_operator(text: str) -> Operator | None:
    """The parts of an operator such as ``ForAnyValue:StringLikeIfExists``; None when IAM does
    not know it (operators are case-sensitive)."""
    qualifier, _, rest = text.rpartition(":")
    if qualifier and qualifier not in ("ForAnyValue", "ForAllValues"):
        return None
    if_exists = rest.endswith("IfExists")
    base = rest.removesuffix("IfExists") if if_exists else rest
    if base not in OPERATORS or (if_exists and base == "Null"):
        return None
    return Operator(text=text, base=base, qualifier=qualifier or None, if_exists=if_exists)

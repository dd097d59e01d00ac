"""Guardrails on storage: S3 buckets (public access blocked, default encryption) and ECR
repositories (scan on push, immutable tags).

In pulumi-aws 7 a bucket's public access block and encryption are resources of their own, so
the S3 rules are stack rules that pair each bucket with them by bucket name (a policy on the
bucket alone would see neither).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ._props import as_list, dig, is_true
from .model import Enforcement, Resource, Rule, Severity
from .settings import GuardrailSettings

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

STORAGE_RULES = (S3_PUBLIC_ACCESS, S3_ENCRYPTION, ECR_SCAN_IMMUTABLE)

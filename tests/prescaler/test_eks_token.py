"""The EKS bearer token, checked offline: botocore presigns with dummy credentials (no network),
and the test re-derives the SigV4 signature itself to prove the cluster header is signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.parse
from datetime import UTC, datetime, timedelta

from botocore.credentials import Credentials
from eksplatform.cluster.prescaler_lambda.eks_token import (
    CLUSTER_HEADER,
    TOKEN_PREFIX,
    bearer_token,
    sts_host,
)

CREDS = Credentials("AKIDEXAMPLETOKEN", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session-token")


def _decode(token: str) -> urllib.parse.SplitResult:
    assert token.startswith(TOKEN_PREFIX)
    body = token[len(TOKEN_PREFIX) :]
    assert "=" not in body and re.fullmatch(r"[A-Za-z0-9_-]+", body)  # URL-safe, unpadded
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    return urllib.parse.urlsplit(url)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def test_token_is_a_presigned_get_caller_identity_for_this_cluster() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    url = _decode(bearer_token("eks-prod", "eu-west-1", CREDS))
    assert (url.scheme, url.netloc, url.path) == ("https", "sts.eu-west-1.amazonaws.com", "/")
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["Action"] == "GetCallerIdentity"
    assert query["Version"] == "2011-06-15"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == f"host;{CLUSTER_HEADER}"
    assert query["X-Amz-Security-Token"] == "session-token"
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= signed_at <= datetime.now(UTC) + timedelta(seconds=1)
    day = query["X-Amz-Date"][:8]
    assert query["X-Amz-Credential"] == f"AKIDEXAMPLETOKEN/{day}/eu-west-1/sts/aws4_request"
    assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"])


def _signature(url: urllib.parse.SplitResult, cluster: str, secret: str) -> str:
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(url.query) if k != "X-Amz-Signature"]
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(pairs)
    )
    canonical = "\n".join(
        [
            "GET",
            "/",
            canonical_query,
            f"host:{url.netloc}",
            f"{CLUSTER_HEADER}:{cluster}",
            "",
            f"host;{CLUSTER_HEADER}",
            hashlib.sha256(b"").hexdigest(),  # a GET has no body
        ]
    )
    query = dict(pairs)
    day = query["X-Amz-Date"][:8]
    scope = f"{day}/eu-west-1/sts/aws4_request"
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            query["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret}".encode(), day)
    for part in ("eu-west-1", "sts", "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_signature_covers_the_cluster_header() -> None:
    url = _decode(bearer_token("eks-prod", "eu-west-1", CREDS))
    given = dict(urllib.parse.parse_qsl(url.query))["X-Amz-Signature"]
    assert given == _signature(url, "eks-prod", CREDS.secret_key)
    # the same URL presented for another cluster does not verify: the token is per cluster
    assert given != _signature(url, "eks-staging", CREDS.secret_key)


def test_regional_endpoints_by_partition() -> None:
    assert sts_host("us-east-1") == "sts.us-east-1.amazonaws.com"
    assert sts_host("cn-north-1") == "sts.cn-north-1.amazonaws.com.cn"
    url = _decode(bearer_token("c", "cn-north-1", CREDS))
    assert url.netloc == "sts.cn-north-1.amazonaws.com.cn"

"""The EKS bearer token, built from the Lambda's own role the way ``aws eks get-token`` does.

An EKS token is ``k8s-aws-v1.`` followed by the unpadded URL-safe base64 of a presigned STS
``GetCallerIdentity`` URL whose signature covers the header ``x-k8s-aws-id: <cluster name>``. The
API server's authenticator replays the URL to STS (learning the caller's role) and checks the
signed header, so a token is good for one cluster only. Presigning is local (SigV4 over the
request with the role's credentials): nothing is sent to STS here, no kubeconfig or stored
secret is involved, and the token lasts as long as the URL (60 s of signature validity; EKS
accepts it for 15 minutes).

botocore's ``SigV4QueryAuth`` does the signing; it has been part of botocore for years, so the
boto3 the Lambda runtime ships has it.
"""

from __future__ import annotations

import base64
from typing import Any

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
URL_EXPIRES_SECONDS = 60


def sts_host(region: str) -> str:
    """The regional STS endpoint (the VPC's STS interface endpoint answers for it)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"sts.{region}.{suffix}"


def presigned_url(cluster_name: str, region: str, credentials: Any) -> str:
    """The presigned ``GetCallerIdentity`` URL with the cluster header signed."""
    request = AWSRequest(
        method="GET",
        url=f"https://{sts_host(region)}/?Action=GetCallerIdentity&Version=2011-06-15",
        headers={CLUSTER_HEADER: cluster_name},
    )
    SigV4QueryAuth(credentials, "sts", region, expires=URL_EXPIRES_SECONDS).add_auth(request)
    return str(request.url)


def bearer_token(cluster_name: str, region: str, credentials: Any) -> str:
    """``k8s-aws-v1.<base64url(presigned URL), no padding>``."""
    url = presigned_url(cluster_name, region, credentials)
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return TOKEN_PREFIX + encoded

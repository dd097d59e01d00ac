"""The AWS calls of ``eksplatform canary``: find the service's target groups, read their health
and deregistration delay, and read CloudWatch (in :mod:`.analysis`), each call retried when AWS
throttles it.

**Finding the target groups.** ServiceStack tags every resource with ``service`` and
``managed-by`` (and the canary's with ``eksplatform-release: canary``), so one Resource Groups
Tagging API call finds both target groups of a service in the stack's region; ``--namespace``
and ``--environment`` narrow it when one account holds the same service twice, and
``--stable-target-group`` / ``--canary-target-group`` skip the lookup. The load balancer comes
from the stable target group (``DescribeTargetGroups``); CloudWatch's dimensions are the ARN
suffixes.

**Throttling.** botocore's own retries are switched off (``max_attempts`` 1) and every call goes
through :func:`call`: throttling errors are retried up to :data:`MAX_ATTEMPTS` times with
exponential back-off and full jitter (the sleep is injectable, so the tests run it instantly);
any other error fails the command at once with AWS's message. One loop, one place, tested with
botocore's Stubber (which bypasses botocore's retry handler, so retries inside botocore could
not be tested at all).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.tags import MANAGED_BY
from ..service.canary_checks import RELEASE_TAG

MAX_ATTEMPTS = 6
"""Tries of one call when AWS throttles it (the first and five retries)."""
BACKOFF_BASE_S = 0.5
"""First back-off; doubled on each retry (0.5, 1, 2, 4, 8 s at most, with full jitter)."""
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
    }
)
"""Error codes AWS answers a throttled request with (CloudWatch: ``Throttling``)."""


class AwsError(Exception):
    """An AWS call failed (after its retries): the message names the call and AWS's answer."""


Sleep = Callable[[float], None]


@dataclass
class Clients:
    """The three AWS clients the commands use (boto3 clients, or stubbed ones in tests)."""

    cloudwatch: Any
    elbv2: Any
    tagging: Any
    sleep: Sleep = time.sleep
    target_groups: TargetGroups | None = None
    """The service's target groups once looked up (one lookup per command)."""


def make_clients(region: str) -> Clients:
    """boto3 clients of ``region`` (credentials from the environment, as the AWS CLI finds
    them), with botocore's retries off: :func:`call` retries throttling itself."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10)
    session = boto3.Session(region_name=region)
    return Clients(
        cloudwatch=session.client("cloudwatch", config=config),
        elbv2=session.client("elbv2", config=config),
        tagging=session.client("resourcegroupstaggingapi", config=config),
    )


def call(clients: Clients, client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """``client.<operation>(**params)``, retried on throttling; :class:`AwsError` otherwise."""
    from botocore.exceptions import BotoCoreError, ClientError

    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            result: dict[str, Any] = getattr(client, operation)(**params)
            return result
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in THROTTLING_CODES and attempt < MAX_ATTEMPTS:
                clients.sleep(random.uniform(0, BACKOFF_BASE_S * 2 ** (attempt - 1)))
                continue
            message = exc.response.get("Error", {}).get("Message", "")
            tries = f" after {attempt} tries" if attempt > 1 else ""
            raise AwsError(f"{operation} failed{tries}: {code}: {message}") from None
        except BotoCoreError as exc:
            raise AwsError(f"{operation} failed: {exc}") from None
    raise AssertionError("unreachable")


def arn_suffix(arn: str, marker: str) -> str:
    """What CloudWatch's ``TargetGroup`` / ``LoadBalancer`` dimension holds: the ARN from
    ``targetgroup/`` (``marker``) or from ``app/`` (the load balancer's ``loadbalancer/``
    dropped)."""
    resource = arn.split(":", 5)[-1]
    if marker == "loadbalancer/":
        return resource.removeprefix("loadbalancer/")
    return resource


@dataclass(frozen=True)
class TargetGroups:
    """The service's target groups and their load balancer."""

    load_balancer_arn: str
    stable_arn: str
    canary_arn: str | None
    """None when no canary runs (or it is gone)."""

    @property
    def load_balancer(self) -> str:
        """The CloudWatch ``LoadBalancer`` dimension (``app/<name>/<id>``)."""
        return arn_suffix(self.load_balancer_arn, "loadbalancer/")

    def dimension(self, arn: str) -> str:
        """The CloudWatch ``TargetGroup`` dimension of ``arn`` (``targetgroup/<name>/<id>``)."""
        return arn_suffix(arn, "targetgroup/")


def find_target_groups(
    clients: Clients,
    *,
    service: str,
    namespace: str | None = None,
    environment: str | None = None,
    stable_arn: str | None = None,
    canary_arn: str | None = None,
) -> TargetGroups:
    """The service's stable and canary target groups (by their tags unless both are given)."""
    if stable_arn is None or canary_arn is None:
        found = _tagged(clients, service, namespace, environment)
        stables = [arn for arn, tags in found if tags.get(RELEASE_TAG) != "canary"]
        canaries = [arn for arn, tags in found if tags.get(RELEASE_TAG) == "canary"]
        narrow = "narrow it with --namespace / --environment, or name it with --{}-target-group"
        if stable_arn is None:
            if not stables:
                raise AwsError(
                    f"no target group tagged service={service} (managed-by={MANAGED_BY}"
                    f"{_filters(namespace, environment)}) in this account and region: is the "
                    "stack deployed, with an ALB, and are the credentials the stack's?"
                )
            if len(stables) > 1:
                raise AwsError(
                    f"{len(stables)} target groups are tagged service={service}: "
                    f"{', '.join(sorted(stables))}; " + narrow.format("stable")
                )
            stable_arn = stables[0]
        if canary_arn is None and len(canaries) > 1:
            raise AwsError(
                f"{len(canaries)} canary target groups are tagged service={service}: "
                f"{', '.join(sorted(canaries))}; " + narrow.format("canary")
            )
        if canary_arn is None and canaries:
            canary_arn = canaries[0]
    arns = [a for a in (stable_arn, canary_arn) if a]
    described = call(clients, clients.elbv2, "describe_target_groups", TargetGroupArns=arns)
    lbs = {
        tg["TargetGroupArn"]: tuple(tg.get("LoadBalancerArns") or ())
        for tg in described.get("TargetGroups", [])
    }
    stable_lbs = lbs.get(stable_arn, ())
    if len(stable_lbs) != 1:
        raise AwsError(
            f"target group {stable_arn} is behind {len(stable_lbs)} load balancers, not one: "
            "is it the ServiceStack's?"
        )
    if canary_arn is not None and stable_lbs[0] not in lbs.get(canary_arn, ()):
        raise AwsError(
            f"the canary target group {canary_arn} is not behind the stable one's load "
            f"balancer {stable_lbs[0]}: name the right ones"
        )
    return TargetGroups(stable_lbs[0], stable_arn, canary_arn)


def _filters(namespace: str | None, environment: str | None) -> str:
    parts = [f"kubernetes-namespace={namespace}"] if namespace else []
    parts += [f"environment={environment}"] if environment else []
    return "".join(f", {p}" for p in parts)


def _tagged(
    clients: Clients, service: str, namespace: str | None, environment: str | None
) -> list[tuple[str, Mapping[str, str]]]:
    filters = [
        {"Key": "service", "Values": [service]},
        {"Key": "managed-by", "Values": [MANAGED_BY]},
    ]
    if namespace:
        filters.append({"Key": "kubernetes-namespace", "Values": [namespace]})
    if environment:
        filters.append({"Key": "environment", "Values": [environment]})
    out: list[tuple[str, Mapping[str, str]]] = []
    token = ""
    for _ in range(100):  # pages of up to 100 resources: far beyond two target groups
        page = call(
            clients,
            clients.tagging,
            "get_resources",
            TagFilters=filters,
            ResourceTypeFilters=["elasticloadbalancing:targetgroup"],
            **({"PaginationToken": token} if token else {}),
        )
        for item in page.get("ResourceTagMappingList", []):
            tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
            out.append((item["ResourceARN"], tags))
        token = page.get("PaginationToken") or ""
        if not token:
            break
    return out


def healthy_targets(clients: Clients, target_group_arn: str) -> int:
    """How many of the target group's targets are ``healthy`` right now."""
    result = call(clients, clients.elbv2, "describe_target_health", TargetGroupArn=target_group_arn)
    return sum(
        1
        for d in result.get("TargetHealthDescriptions", [])
        if d.get("TargetHealth", {}).get("State") == "healthy"
    )


def deregistration_delay(clients: Clients, target_group_arn: str) -> int:
    """The target group's deregistration delay, seconds (AWS's default, 300, when unset)."""
    result = call(
        clients,
        clients.elbv2,
        "describe_target_group_attributes",
        TargetGroupArn=target_group_arn,
    )
    for attr in result.get("Attributes", []):
        if attr.get("Key") == "deregistration_delay.timeout_seconds":
            return int(attr.get("Value", 300))
    return 300

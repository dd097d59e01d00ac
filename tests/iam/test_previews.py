"""The IAM policies the previews really produce: the example services can still do their jobs
under the deployed boundary (and nothing of another team's), and parliament finds nothing at
medium or above in any policy of any preview, except documented false positives."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from eksplatform.core.iam.evaluator import evaluate, request
from eksplatform.preview.engine import PreviewResult, Workspace, run_preview

STACKS = ("staging", "prod")
ACCOUNTS = {"staging": "111111111111", "prod": "222222222222"}
EXAMPLES = ("news-feed", "user-profiles", "transcode-worker")
REGION = "eu-west-1"

Preview = Callable[[str, str], PreviewResult]


@pytest.fixture(scope="module")
def service(repo_workspace: Workspace, cluster_preview: Callable[[str], PreviewResult]) -> Preview:
    cache: dict[tuple[str, str], PreviewResult] = {}

    def get(name: str, stack: str) -> PreviewResult:
        if (name, stack) not in cache:
            cluster_preview(stack)  # the contract the StackReference reads
            cache[(name, stack)] = run_preview(repo_workspace, f"services/{name}", stack)
            assert cache[(name, stack)].exit_code == 0
        return cache[(name, stack)]

    return get


def _boundary(cluster: PreviewResult) -> dict[str, Any]:
    (policy,) = [r for r in cluster.by_type("aws:iam/policy:Policy") if "boundary" in r.name]
    doc: dict[str, Any] = json.loads(policy.inputs["policy"])
    return doc


def _role(result: PreviewResult) -> tuple[dict[str, str], list[dict[str, Any]]]:
    (role,) = result.by_type("aws:iam/role:Role")
    policies = [
        json.loads(p.inputs["policy"]) for p in result.by_type("aws:iam/rolePolicy:RolePolicy")
    ]
    return dict(role.inputs["tags"]), policies


def _tags(result: PreviewResult, typ: str) -> tuple[str, dict[str, str]]:
    (res,) = result.by_type(typ)
    return str(res.outputs["arn"]), dict(res.inputs["tags"])


@pytest.mark.parametrize("stack", STACKS)
def test_user_profiles_reads_and_writes_its_table_and_indexes_and_no_one_elses(
    stack: str, service: Preview, cluster_preview: Callable[[str], PreviewResult]
) -> None:
    result = service("user-profiles", stack)
    boundary = _boundary(cluster_preview(stack))
    role_tags, policies = _role(result)
    assert role_tags["team"] == "news"
    table, table_tags = _tags(result, "aws:dynamodb/table:Table")
    principal = {"team": role_tags["team"]}

    def decide(action: str, resource: str, tags: dict[str, str]) -> str:
        req = request(action, resource, principal_tags=principal, resource_tags=tags)
        return evaluate(req, identity=policies, boundary=boundary).decision

    for action in (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ):
        assert decide(action, table, table_tags) == "allow", action
    assert decide("dynamodb:Query", f"{table}/index/by-email", table_tags) == "allow"
    # not another team's table, even one the service's own policy would match by name
    media_table = table.replace("user-profiles", "user-profiles-media")
    media_tags = {**table_tags, "team": "media"}
    assert decide("dynamodb:GetItem", media_table, media_tags) != "allow"
    # not an action it never asked for
    assert decide("dynamodb:Scan", table, table_tags) == "implicit-deny"
    # and not the same table in another environment
    assert decide("dynamodb:GetItem", table, {**table_tags, "environment": "other"}) == (
        "explicit-deny"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_transcode_worker_receives_from_its_queue_and_not_another_teams(
    stack: str, service: Preview, cluster_preview: Callable[[str], PreviewResult]
) -> None:
    result = service("transcode-worker", stack)
    boundary = _boundary(cluster_preview(stack))
    role_tags, policies = _role(result)
    assert role_tags["team"] == "media"
    (queue,) = [q for q in result.by_type("aws:sqs/queue:Queue") if q.name == "uploads"]
    arn, tags = str(queue.outputs["arn"]), dict(queue.inputs["tags"])
    principal = {"team": "media"}

    def decide(action: str, resource: str, resource_tags: dict[str, str]) -> str:
        req = request(action, resource, principal_tags=principal, resource_tags=resource_tags)
        return evaluate(req, identity=policies, boundary=boundary).decision

    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert decide(action, arn, tags) == "allow", action
    assert decide("sqs:PurgeQueue", arn, tags) == "implicit-deny"
    assert decide("sqs:ReceiveMessage", arn, {**tags, "team": "news"}) != "allow"


# --- parliament ---------------------------------------------------------------------------------

TRUST = ".assumeRolePolicy"
BOUNDARY = "aws:iam/policy:Policy services-boundary.policy"
ALERTS_KEY = "aws:kms/key:Key services-alerts.policy"
FLUENTD_POLICY = "aws:iam/rolePolicy:RolePolicy logging-policy.policy"
NO_RESOURCE = "Statement contains neither Resource nor NotResource"


PRESCALER_POLICY = "aws:iam/rolePolicy:RolePolicy prescaler-role.policy"


def _passes_only_the_scheduler_role(document: str) -> bool:
    """The pre-scaler's policy manages no permissions but one: iam:PassRole of its own
    Scheduler role, to EventBridge Scheduler only."""
    statements = json.loads(document)["Statement"]
    passing = [s for s in statements if "iam:" in json.dumps(s.get("Action"))]
    return len(passing) == 1 and (
        passing[0]["Action"] == "iam:PassRole"
        and re.fullmatch(
            r"arn:aws:iam::\d{12}:role/eksplatform/[\w-]+-prescaler-scheduler",
            str(passing[0]["Resource"]),
        )
        is not None
        and passing[0]["Condition"]
        == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    )


def _false_positive(where: str, issue: str, detail: Any, document: str = "") -> str | None:
    """Why a parliament finding on our policies is not a problem, or None when it is one.
    Each reason is narrow: the finding type, on exactly the policies it is explained for."""
    if issue == "MALFORMED" and where.endswith(TRUST) and detail == NO_RESOURCE:
        # parliament reads every document as an identity policy; a role's trust policy has no
        # Resource element by IAM's grammar (IAM rejects one that has it).
        return "trust policies have no Resource"
    if (
        issue == "UNKNOWN_FEDERATION_SOURCE"
        and where.endswith(TRUST)
        and re.fullmatch(
            r"arn:aws:iam::\d{12}:oidc-provider/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[0-9A-F]+",
            str(detail),
        )
    ):
        # IRSA: the federated principal is the cluster's own EKS OIDC provider, which
        # parliament's list of known identity providers does not include.
        return "the cluster's EKS OIDC provider"
    if issue == "RESOURCE_MISMATCH" and where == BOUNDARY:
        # TeamResourcesByName allows `<service>:*` on the team's ARN patterns: an allow-list by
        # resource, where actions on other resource types simply never match. That mismatch
        # is the design (see test_resource_mismatch_is_only_the_name_statement).
        return "the boundary's allow-list by resource name"
    if (
        issue == "RESOURCE_MISMATCH"
        and where == FLUENTD_POLICY
        and detail == [{"action": "logs:DescribeLogGroups", "required_format": "*"}]
    ):
        # The Service Authorization Reference lists no resource type for DescribeLogGroups, but
        # CloudWatch Logs evaluates it against log-group ARNs (its permissions reference: "you
        # can specify the ARN of a log group"; AWS's own examples scope it to a group prefix).
        # fluentd's role scopes it to this account's and region's log groups.
        return "DescribeLogGroups scoped to this account's log groups"
    if (
        issue == "PERMISSIONS_MANAGEMENT_ACTIONS"
        and where == PRESCALER_POLICY
        and _passes_only_the_scheduler_role(document)
    ):
        # EventBridge Scheduler runs a one-time schedule as a role the creator passes
        # (CreateSchedule needs iam:PassRole); the pre-scaler passes exactly its own scheduler
        # role, to the Scheduler service only, so it can grant nothing else.
        return "the pre-scaler passes its own scheduler role"
    if issue == "PERMISSIONS_MANAGEMENT_ACTIONS" and where == ALERTS_KEY:
        # AWS's default key policy: the account (root) administers the key, i.e. IAM policies
        # of the account decide who may; without it the key could never be managed again.
        return "the account administers its own key"
    return None


from tests.iam.parliament_lint import SEVERITIES as _SEVERITIES  # noqa: E402


def _iam_documents(result: PreviewResult) -> list[tuple[str, str]]:
    """(where, document) of every IAM policy in a preview: identity policies, trust policies,
    resource policies (bucket, queue, topic, key)."""
    out: list[tuple[str, str]] = []
    for res in result.resources:
        for prop in ("policy", "assumeRolePolicy"):
            value = res.inputs.get(prop)
            if isinstance(value, str) and '"Statement"' in value:
                out.append((f"{res.type} {res.name}.{prop}", value))
    return out


def _findings(document: str) -> tuple[Any, ...]:
    from tests.iam.parliament_lint import findings

    return findings(document)


@pytest.mark.parametrize("stack", STACKS)
def test_parliament_finds_nothing_medium_or_above_in_any_preview_policy(
    stack: str, service: Preview, cluster_preview: Callable[[str], PreviewResult]
) -> None:
    previews = [cluster_preview(stack), *(service(name, stack) for name in EXAMPLES)]
    documents = [d for result in previews for d in _iam_documents(result)]
    assert len(documents) >= 15  # boundary, node/controller roles, trusts, bucket, key, topics
    serious = []
    for where, document in documents:
        for f in _findings(document):
            level = _SEVERITIES.index(f.severity)
            if level >= _SEVERITIES.index("MEDIUM") and not _false_positive(
                where, f.issue, f.detail, document
            ):
                serious.append((where, f.issue, f.severity, f.detail))
    assert serious == [], "\n".join(map(str, serious))


def test_each_documented_false_positive_is_raised_where_it_is_explained(
    service: Preview, cluster_preview: Callable[[str], PreviewResult]
) -> None:
    """Every reason in :func:`_false_positive` is needed: parliament raises it on the previews
    (so no entry silences a finding that no longer exists)."""
    previews = [
        preview
        for stack in STACKS
        for preview in (cluster_preview(stack), *(service(name, stack) for name in EXAMPLES))
    ]
    reasons = {
        _false_positive(where, f.issue, f.detail, document)
        for result in previews
        for where, document in _iam_documents(result)
        for f in _findings(document)
    }
    assert {
        "trust policies have no Resource",
        "the cluster's EKS OIDC provider",
        "the boundary's allow-list by resource name",
        "the account administers its own key",
        "DescribeLogGroups scoped to this account's log groups",
        "the pre-scaler passes its own scheduler role",
    } <= reasons


def test_resource_mismatch_is_only_the_name_statement() -> None:
    """Without TeamResourcesByName parliament finds no RESOURCE_MISMATCH in the boundary: the
    finding is that statement's `<service>:*` on name patterns, nothing else."""
    from eksplatform.cluster.boundary import boundary_policy_document
    from eksplatform.cluster.service_platform import DEFAULT_ALLOWED_SERVICES

    doc = boundary_policy_document(
        environment="staging",
        allowed_services=DEFAULT_ALLOWED_SERVICES,
        region=REGION,
        account=ACCOUNTS["staging"],
        cluster_name="eks-staging",
    )
    assert "RESOURCE_MISMATCH" in {f.issue for f in _findings(json.dumps(doc))}
    doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] != "TeamResourcesByName"]
    assert "RESOURCE_MISMATCH" not in {f.issue for f in _findings(json.dumps(doc))}

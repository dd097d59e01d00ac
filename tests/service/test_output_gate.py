"""ServiceStack arguments given as Outputs besides ``env`` (an IAM statement's resources and
condition values, the queue monitor's name) are judged in the gate once they resolve, with the
checks and messages of plain values: a bad resolved value exits 2 and nothing is registered,
proven under the monitor that refuses the first registration (as ``pulumi up`` would have
started creating it). Good values and values still unknown (``pulumi preview`` of a resource
not yet created) pass.

Each Output here comes from an ``apply`` rather than from a resource the program declares: under
the strict monitor such a resource could not be registered at all, and the gate only awaits
values. The contract is either known before registration (the offline preview, contract files)
or Outputs only (what ``pulumi up`` has: the account and region are known in the gate only)."""

from __future__ import annotations

import json
from pathlib import Path

from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview

from tests.conftest import make_workspace, write_program
from tests.service.programs import (
    ACCOUNT,
    CERT,
    ECR_IMAGE,
    STACK_CONFIG,
    contract_source,
    contract_values,
)

HELPERS = """
from pulumi.output import UNKNOWN


def later(value):
    # Known only once the program runs, like an attribute of a resource the program declares.
    return pulumi.Output.from_input("x").apply(lambda _: value)


def unknown():
    # What `pulumi preview` has for a resource that does not exist yet.
    return pulumi.Output.from_input("x").apply(lambda _: UNKNOWN)
"""

OUTPUTS_ONLY = """
import dataclasses
import pulumi

from eksplatform.service import *
from eksplatform.core.contract import ClusterOutputs

cluster = dataclasses.replace(ClusterOutputs.from_values({values!r}), known=None)
"""

TABLE = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/news-profiles"
OTHER_ACCOUNT_TABLE = "arn:aws:dynamodb:eu-west-1:999999999999:table/news-profiles"


def _service(**args: str) -> str:
    fields = "".join(f", {k}={v}" for k, v in args.items())
    return (
        f'svc = ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, '
        f"port=8080, cluster=cluster{fields}))\n"
    )


def _preview(tmp: Path, body: str, *, strict: bool, pulumi_up: bool = False) -> PreviewResult:
    contract = (
        OUTPUTS_ONLY.format(values=contract_values("prod"))
        if pulumi_up
        else contract_source("prod")
    )
    ws = make_workspace(tmp / "ws", with_cluster=False)
    write_program(
        tmp / "ws" / "services" / "svc",
        project="svc",
        main=contract + HELPERS + body,
        stacks={"prod": STACK_CONFIG},
    )
    return run_preview(ws, "services/svc", "prod", fail_on_register=strict)


def _refused(result: PreviewResult) -> list[str]:
    """The run's errors, after checking it failed as bad input with nothing registered."""
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert result.exit_code == EXIT_INVALID_CONFIG, errors
    assert result.registered_before_error == []
    assert result.resources == []
    assert not any("Traceback" in e or "RegistrationRefused" in e for e in errors)
    return errors


def _statement(resources: str, actions: str = '["dynamodb:Query"]', **more: str) -> str:
    extra = "".join(f", {k}={v}" for k, v in more.items())
    return f"[IamStatement(actions={actions}, resources={resources}{extra})]"


# --- IAM statements ---------------------------------------------------------------------------


def test_an_output_arn_of_another_account_is_refused_before_anything_registers(
    tmp_path: Path,
) -> None:
    body = _service(iam_statements=_statement(f"[later({OTHER_ACCOUNT_TABLE!r})]"))
    assert _refused(_preview(tmp_path, body, strict=True)) == [
        "ServiceStack 'feed': 1 problem:\n"
        f"  - iam_statements[0].resources[0]: got {OTHER_ACCOUNT_TABLE!r}: is in account "
        f"999999999999, not the cluster's account {ACCOUNT}: a service role acts only on its "
        "own account's resources"
    ]


def test_under_pulumi_up_the_account_and_teams_come_from_the_resolved_contract(
    tmp_path: Path,
) -> None:
    """Neither the account nor the other teams are known before the program runs: the gate
    judges the resolved ARNs with the resolved contract (an Output of another account, a plain
    ARN following team search's naming convention, an Output naming a platform topic)."""
    platform_topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:eks-prod-news-alerts"
    search_queue = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:search-jobs"
    body = _service(
        iam_statements=(
            f"[IamStatement(actions=['dynamodb:Query'], resources=[later({OTHER_ACCOUNT_TABLE!r})]),"
            f" IamStatement(actions=['sqs:SendMessage'], resources=[{search_queue!r}]),"
            f" IamStatement(actions=['sns:Publish'], resources=[later({platform_topic!r})])]"
        )
    )
    assert _refused(_preview(tmp_path, body, strict=True, pulumi_up=True)) == [
        "ServiceStack 'feed': 3 problems:\n"
        f"  - iam_statements[0].resources[0]: got {OTHER_ACCOUNT_TABLE!r}: is in account "
        f"999999999999, not the cluster's account {ACCOUNT}: a service role acts only on its "
        "own account's resources\n"
        f"  - iam_statements[1].resources[0]: got {search_queue!r}: follows the naming "
        "convention of team 'search' (buckets <env>-<team>-*, secrets <team>/*, parameters "
        "/<team>/*, log groups /<team>/*, queues, topics, tables, streams, buses and alarms "
        "<team>-*): a service of team 'news' reaches only its own team's resources (the "
        "permissions boundary denies the rest)\n"
        f"  - iam_statements[2].resources[0]: got {platform_topic!r}: is a platform resource "
        "(topic names starting 'eks-' belong to the platform and AWS, like the control plane's "
        "audit log and the alert topics): services never act on them (the permissions boundary "
        "denies it)"
    ]


def test_a_resolved_resource_is_matched_with_the_actions_like_a_plain_one(tmp_path: Path) -> None:
    """A bucket's ARN for an object action: the statement grants nothing it names."""
    body = _service(
        iam_statements=_statement('[later("arn:aws:s3:::prod-news-uploads")]', '["s3:GetObject"]')
    )
    assert _refused(_preview(tmp_path, body, strict=True)) == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - iam_statements[0].actions[0]: got 's3:GetObject': acts on accesspointobject / "
        "object resources and no resource of this statement is one: add its ARN, or move the "
        "action to the statement that names it"
    ]


def test_an_output_condition_value_is_judged_once_it_resolves(tmp_path: Path) -> None:
    body = _service(
        iam_statements=_statement(
            f"[{TABLE!r}]",
            conditions='{"StringEquals": {"aws:ResourceTag/team": later({"team": "news"})}}',
        )
    )
    assert _refused(_preview(tmp_path, body, strict=True)) == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - iam_statements[0].conditions['StringEquals']['aws:ResourceTag/team']: got "
        "{'team': 'news'}: must be a value or a non-empty list of values"
    ]


def test_a_plain_arn_of_another_account_is_reported_with_the_other_problems(
    tmp_path: Path,
) -> None:
    """Its account is checked before registration when the contract is known, together with
    everything else (it used to fail inside the role policy, after the role registered)."""
    body = _service(
        iam_statements=_statement(f"[{OTHER_ACCOUNT_TABLE!r}]"),
        autoscaling="Autoscaling(min_replicas=1)",
    )
    assert _refused(_preview(tmp_path, body, strict=True)) == [
        "ServiceStack 'feed': 2 problems:\n"
        "  - autoscaling.min_replicas: got 1: prod runs at least 2 pods (one per zone failure; "
        "'prod' is production)\n"
        f"  - iam_statements[0].resources[0]: got {OTHER_ACCOUNT_TABLE!r}: is in account "
        f"999999999999, not the cluster's account {ACCOUNT}: a service role acts only on its "
        "own account's resources"
    ]


def test_one_problem_per_field_when_an_arn_is_wrong_twice(tmp_path: Path) -> None:
    """An account id of 11 digits is not the cluster's either: the first problem says enough."""
    short = "arn:aws:dynamodb:eu-west-1:12345678901:table/news-profiles"
    body = _service(iam_statements=_statement(f"[{short!r}]"))
    assert _refused(_preview(tmp_path, body, strict=True)) == [
        "ServiceStack 'feed': 1 problem:\n"
        f"  - iam_statements[0].resources[0]: got {short!r}: account '12345678901' is not a "
        "12-digit AWS account id"
    ]


# --- the queue monitor's name -----------------------------------------------------------------


def test_an_output_queue_name_that_sqs_refuses_fails_before_anything_registers(
    tmp_path: Path,
) -> None:
    body = _service(monitors='Monitors(queue=QueueMonitor(name=later("uploads queue")))')
    assert _refused(_preview(tmp_path, body, strict=True)) == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - monitors.queue.name: got 'uploads queue': not a valid SQS queue name: does not "
        "match the rule: letters, digits, '-' and '_' (a FIFO queue ends in '.fifo')"
    ]


def test_an_output_queue_name_that_is_not_text_is_refused(tmp_path: Path) -> None:
    body = _service(monitors="Monitors(queue=QueueMonitor(name=later(42)))")
    assert _refused(_preview(tmp_path, body, strict=True, pulumi_up=True)) == [
        "ServiceStack 'feed': 1 problem:\n"
        "  - monitors.queue.name: got 42: must resolve to a string: the SQS queue's name"
    ]


def test_every_problem_of_the_gate_at_once(tmp_path: Path) -> None:
    """Under ``pulumi up``: a contract problem, a queue name and an IAM resource together."""
    body = _service(
        ingress="Ingress(public=True)",
        monitors='Monitors(queue=QueueMonitor(name=later("q" * 81)))',
        iam_statements=_statement(f"[later({OTHER_ACCOUNT_TABLE!r})]"),
    )
    errors = _refused(_preview(tmp_path, body, strict=True, pulumi_up=True))
    assert errors == [
        "ServiceStack 'feed': 3 problems:\n"
        "  - ingress.certificate_arn: got None: prod ALBs serve HTTPS only ('prod' is "
        "production): give the ACM certificate ARN of the service's domain\n"
        f"  - monitors.queue.name: got {'q' * 81!r}: not a valid SQS queue name: is 81 "
        "characters long; 1-80 allowed\n"
        f"  - iam_statements[0].resources[0]: got {OTHER_ACCOUNT_TABLE!r}: is in account "
        f"999999999999, not the cluster's account {ACCOUNT}: a service role acts only on its "
        "own account's resources"
    ]


# --- good and unknown values ------------------------------------------------------------------

GOOD = _service(
    ingress=f"Ingress(certificate_arn={CERT!r})",
    monitors='Monitors(queue=QueueMonitor(name=later("news-uploads"), max_depth=100))',
    iam_statements=(
        f"[IamStatement(actions=['dynamodb:Query'], resources=[later({TABLE!r}), "
        f"later({TABLE + '/index/*'!r})], conditions={{'StringEquals': "
        "{'aws:ResourceTag/team': later('news')}})]"
    ),
)


def _policy_and_queries(result: PreviewResult) -> tuple[object, list[str]]:
    (policy,) = result.by_type("aws:iam/rolePolicy:RolePolicy")
    queries = [str(m.inputs["query"]) for m in result.by_type("datadog:index/monitor:Monitor")]
    return policy.inputs["policy"], queries


def test_good_output_values_pass_and_reach_the_resources(tmp_path: Path) -> None:
    for pulumi_up in (False, True):
        result = _preview(tmp_path / str(pulumi_up), GOOD, strict=False, pulumi_up=pulumi_up)
        assert result.ok, [d.message for d in result.diagnostics]
        policy, queries = _policy_and_queries(result)
        assert json.loads(str(policy))["Statement"] == [
            {
                "Action": ["dynamodb:Query"],
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "news"}},
                "Effect": "Allow",
                "Resource": [TABLE, f"{TABLE}/index/*"],
            }
        ]
        assert sum("queuename:news-uploads}" in q for q in queries) == 2  # age and depth


def test_values_still_unknown_do_not_fail_the_preview(tmp_path: Path) -> None:
    """A table or queue not created yet: judged at ``pulumi up``, when they resolve."""
    body = _service(
        monitors="Monitors(queue=QueueMonitor(name=unknown()))",
        iam_statements=(
            "[IamStatement(actions=['dynamodb:Query'], resources=[unknown()]), "
            "IamStatement(actions=['dynamodb:Query'], resources=['arn:aws:dynamodb:eu-west-1:"
            f"{ACCOUNT}:table/news-a'], conditions={{'StringEquals': "
            "{'aws:ResourceTag/team': unknown()}})]"
        ),
    )
    for pulumi_up in (False, True):
        result = _preview(tmp_path / str(pulumi_up), body, strict=False, pulumi_up=pulumi_up)
        assert result.ok, [d.message for d in result.diagnostics]
        assert result.by_type("aws:iam/rolePolicy:RolePolicy")


def test_a_known_statement_is_judged_beside_an_unknown_one(tmp_path: Path) -> None:
    body = _service(
        monitors="Monitors(queue=QueueMonitor(name=unknown()))",
        iam_statements=(
            "[IamStatement(actions=['dynamodb:Query'], resources=[unknown()]), "
            f"IamStatement(actions=['dynamodb:Query'], resources=[later({OTHER_ACCOUNT_TABLE!r})])]"
        ),
    )
    assert _refused(_preview(tmp_path, body, strict=True)) == [
        "ServiceStack 'feed': 1 problem:\n"
        f"  - iam_statements[1].resources[0]: got {OTHER_ACCOUNT_TABLE!r}: is in account "
        f"999999999999, not the cluster's account {ACCOUNT}: a service role acts only on its "
        "own account's resources"
    ]


def test_the_gate_judges_for_the_owner_the_plan_judged_for() -> None:
    """The naming-convention checks see the same team, other teams and environment in the gate
    as before registration (validate.py keeps its owner private)."""
    from eksplatform.service import plan_service
    from eksplatform.service.output_checks import owner_from_contract
    from eksplatform.service.validate import statement_owner

    from tests.service.bad_inputs import good_args
    from tests.service.programs import known_contract_for

    plan = plan_service(good_args(known_contract_for("prod")))
    owner = owner_from_contract(plan.team, plan.view)
    assert owner == statement_owner(plan)
    assert (owner.team, owner.other_teams, owner.environment) == ("news", ("search",), "prod")


def test_a_null_or_bool_condition_given_as_an_output_is_judged_once_it_resolves(
    tmp_path: Path,
) -> None:
    # Before the gate judged Output values, an Output was refused here before registration
    # (its repr is neither 'true' nor 'false').
    def body(value: str) -> str:
        return _service(
            iam_statements=_statement(
                f"[{TABLE!r}]",
                conditions=(
                    f'{{"Null": {{"aws:ResourceTag/team": later({value!r})}}, '
                    f'"Bool": {{"aws:SecureTransport": later({value!r})}}}}'
                ),
            )
        )

    assert _preview(tmp_path / "ok", body("false"), strict=False).ok
    assert _refused(_preview(tmp_path / "bad", body("maybe"), strict=True)) == [
        "ServiceStack 'feed': 2 problems:\n"
        "  - iam_statements[0].conditions['Null']['aws:ResourceTag/team']: got 'maybe': Null "
        "takes one value, 'true' or 'false'\n"
        "  - iam_statements[0].conditions['Bool']['aws:SecureTransport']: got 'maybe': Bool "
        "takes 'true' or 'false'"
    ]

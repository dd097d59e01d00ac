"""ServiceStack refuses bad input before registering anything: every problem at once, each with
field, value and fix; the exact text is asserted for every case in ``bad_inputs.CASES``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, EXIT_PROGRAM_FAILED, run_preview
from eksplatform.service import Autoscaling, Dependency, Ingress, Resources, Vpa, plan_service
from eksplatform.service.validate import derive_node_port

from tests.conftest import make_workspace, write_program
from tests.service.bad_inputs import CASES, EXPECTED, apply_case, good_args
from tests.service.programs import contract_source, facts_contract, preview_service


def _problems(changes: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        plan_service(apply_case(good_args(facts_contract()), dict(changes)))
    return [str(p) for p in info.value.problems]


def test_at_least_25_distinct_bad_inputs_are_covered() -> None:
    assert len(CASES) >= 25
    assert set(CASES) == set(EXPECTED)
    assert len({tuple(v) for v in EXPECTED.values()}) == len(EXPECTED)  # all distinct


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_input_gives_its_exact_problems(case: str) -> None:
    assert _problems(CASES[case]) == EXPECTED[case]


def test_the_good_args_pass_and_derive_the_plan() -> None:
    plan = plan_service(good_args(facts_contract()))
    assert plan.namespace == "news" and plan.environment == "prod" and plan.prod
    assert plan.version == "1.4.2"
    assert plan.node_port == derive_node_port("news", "feed")
    assert 30000 <= plan.node_port <= 32767
    assert plan.create_ecr and plan.image.repository == "news/feed"
    assert plan.envoy.app_port == 8080 and plan.envoy.app_health_path == "/ready"


def test_every_problem_is_reported_at_once_in_one_error() -> None:
    combined: dict[str, object] = {}
    for case in ("name-not-dns", "port-zero", "cpu-100x", "min-above-max", "image-latest"):
        combined.update(CASES[case])
    with pytest.raises(ValidationError) as info:
        plan_service(apply_case(good_args(facts_contract()), combined))
    expected = [
        *EXPECTED["name-not-dns"],
        *EXPECTED["image-latest"],
        *EXPECTED["cpu-100x"],
        *EXPECTED["min-above-max"],
        *EXPECTED["port-zero"],
    ]
    assert [str(p) for p in info.value.problems] == expected
    assert str(info.value).splitlines()[0] == "ServiceStack 'Feed_API': 5 problems:"


def test_prod_only_rules_do_not_apply_in_staging() -> None:
    cluster = facts_contract("staging")
    args = dataclasses.replace(
        good_args(cluster),
        autoscaling=Autoscaling(min_replicas=1),
        ingress=Ingress(public=True),
    )
    plan = plan_service(args)
    assert not plan.prod and not plan.deletion_protection


def test_hpa_on_cpu_and_vpa_on_memory_only_is_allowed() -> None:
    args = dataclasses.replace(
        good_args(facts_contract()), vpa=Vpa(controlled_resources=("memory",))
    )
    assert plan_service(args).name == "feed"


def test_a_larger_memory_limit_is_allowed() -> None:
    args = dataclasses.replace(
        good_args(facts_contract()), resources=Resources(memory="256Mi", memory_limit="512Mi")
    )
    assert plan_service(args).name == "feed"


def test_dependencies_resolve_through_the_team_namespaces() -> None:
    args = dataclasses.replace(
        good_args(facts_contract()),
        dependencies=[
            Dependency(name="users"),
            Dependency(name="ranker", team="search", port=50051, protocol="http2"),
            Dependency(name="geo", namespace="shared"),
            Dependency(name="feed", team="search"),  # same name, other team: not itself
        ],
    )
    deps = plan_service(args).envoy.dependencies
    assert [(d.name, d.namespace, d.egress_port) for d in deps] == [
        ("users", "news", 15101),
        ("ranker", "search-apps", 15102),
        ("geo", "shared", 15103),
        ("feed", "search-apps", 15104),
    ]


# --- the same cases through the offline preview: exit 2, nothing registered ---------------------

CASE_PROGRAM = """
from tests.service.bad_inputs import CASES, apply_case, good_args

case = pulumi.Config().require("case")
ServiceStack("feed", apply_case(good_args(cluster), CASES[case]))
"""


@pytest.fixture(scope="module")
def case_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cases") / "ws"
    make_workspace(root, with_cluster=False)
    write_program(
        root / "services" / "svc",
        project="svc",
        main=contract_source("prod") + CASE_PROGRAM,
        stacks={case: f"config:\n  aws:region: eu-west-1\n  svc:case: {case}\n" for case in CASES},
    )
    return root


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_input_exits_2_in_the_preview_with_nothing_registered(
    case_workspace: Path, case: str
) -> None:
    from eksplatform.preview.engine import Workspace

    result = run_preview(Workspace(case_workspace), "services/svc", case)
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    args = apply_case(good_args(facts_contract()), CASES[case])
    count = len(EXPECTED[case])
    header = f"ServiceStack {args.name!r}: {count} problem{'s' if count > 1 else ''}:"
    assert errors == ["\n".join([header, *(f"  - {p}" for p in EXPECTED[case])])]


def test_facts_that_contradict_the_cluster_stack_fail_before_any_child(tmp_path: Path) -> None:
    body = 'ServiceStack("feed", ServiceStackArgs(name="feed", team="news", port=8080, ' + (
        'image="registry.example.com/news/feed:1.0.0", cluster=cluster))\n'
    )
    _, result = preview_service(tmp_path, body, environment="prod", cluster_environment="staging")
    assert result.exit_code == EXIT_PROGRAM_FAILED
    assert result.diagnostics[-1].message == (
        "ServiceStack 'feed' does not match the cluster stack:\n"
        "  - cluster.facts.environment is 'prod' but the cluster stack's environment is "
        "'staging': reference the right cluster stack or fix the facts"
    )
    registered = {r.type for r in result.resources}
    assert registered <= {"eksplatform:service:ServiceStack", "pulumi:providers:kubernetes"}

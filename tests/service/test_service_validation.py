"""ServiceStack refuses bad input before registering anything: every problem at once, each with
field, value and fix. Every case of ``bad_inputs.CASES`` goes through the offline preview (exit 2,
the exact message, no traceback, nothing registered); the argument-only cases also through
``plan_service`` directly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, Workspace, run_preview
from eksplatform.service import plan_service

from tests.conftest import make_workspace, write_program
from tests.service.bad_inputs import CASE_PROGRAM, CASES, case_args, expected_message, good_args
from tests.service.programs import STACK_CONFIG, known_contract_for

PURE = sorted(
    n
    for n, c in CASES.items()
    if c.stack == STACK_CONFIG
    and not c.contract
    and not c.use_config
    and c.twice is None
    and n != "not-args"
)
"""The cases ``plan_service`` alone can prove: no stack config, contract change or program."""


def test_at_least_70_distinct_cases_grouped_by_class() -> None:
    assert len(CASES) >= 70
    messages = [tuple(c.expected) for c in CASES.values()]
    assert len(set(messages)) == len(messages)  # every case proves something of its own
    groups = Counter(c.group for c in CASES.values())
    assert set(groups) == {
        "patterns",
        "quantities",
        "reserved names and tags",
        "derived names",
        "cross-object",
        "arguments",
        "contract",
        "service stack config",
        "values",
    }
    assert min(groups.values()) >= 3


@pytest.mark.parametrize("case", PURE)
def test_each_argument_case_gives_its_exact_problems(case: str) -> None:
    args = case_args(CASES[case], known_contract_for())
    with pytest.raises(ValidationError) as info:
        plan_service(args, resource_name=CASES[case].resource_name)
    assert [str(p) for p in info.value.problems] == CASES[case].expected


def test_the_good_args_pass_and_derive_the_plan() -> None:
    plan = plan_service(good_args(known_contract_for()))
    assert plan.namespace == "news" and plan.environment == "prod" and plan.prod
    assert plan.version == "1.4.2" and plan.node_port is None
    assert plan.create_ecr and plan.image.repository == "news/feed"
    assert plan.envoy.app_port == 8080 and plan.envoy.app_health_path == "/ready"
    assert plan.context is not None and plan.context.tags["cost-centre"] == "cc-4242"


def test_every_problem_is_reported_at_once_in_one_error() -> None:
    combined: dict[str, object] = {}
    for case in ("name-not-dns", "port-zero", "cpu-unit", "min-above-max", "image-latest"):
        combined.update(CASES[case].changes)
    args = case_args(CASES["name-not-dns"], known_contract_for())
    import dataclasses

    args = dataclasses.replace(args, **combined)
    with pytest.raises(ValidationError) as info:
        plan_service(args, resource_name="feed")
    expected = [
        *CASES["name-not-dns"].expected,
        *CASES["image-latest"].expected,
        *CASES["cpu-unit"].expected,
        *CASES["min-above-max"].expected,
        *CASES["port-zero"].expected,
    ]
    assert [str(p) for p in info.value.problems] == expected
    assert str(info.value).splitlines()[0] == "ServiceStack 'feed': 5 problems:"


# --- every case through the offline preview: exit 2, nothing registered -------------------------


@pytest.fixture(scope="module")
def case_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cases") / "ws"
    make_workspace(root, with_cluster=False)
    write_program(
        root / "services" / "svc",
        project="svc",
        main=CASE_PROGRAM,
        stacks={name: case.stack for name, case in CASES.items()},
    )
    return root


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_input_exits_2_in_the_preview_with_nothing_registered(
    case_workspace: Path, case: str
) -> None:
    result = run_preview(Workspace(case_workspace), "services/svc", case)
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert errors[0] == expected_message(case)
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    assert not any("Traceback" in d.message for d in result.diagnostics)
    twice = CASES[case].twice
    if twice is None:
        assert result.registered_before_error == []
        assert len(errors) == 1
    else:
        # The first ServiceStack is valid and registers as it should; the second is refused
        # before it registers anything: no URN twice, every one the first's or the provider.
        first = twice["resource_name"]
        registered = result.registered_before_error
        assert len(registered) == len(set(registered)) > 0
        assert all(
            u.endswith("::cluster-k8s") or u.rsplit("::", 1)[-1].startswith(first)
            for u in registered
        )

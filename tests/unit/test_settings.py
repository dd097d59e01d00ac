"""The settings base (:mod:`eksplatform.core.settings`): scalars read as ``pulumi up`` reads
them, quantities that mean something, and pydantic errors turned into the keys users write."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
import pytest
from eksplatform.cluster.config_model import ClusterConfig, FlowLogsConfig, NetworkConfig
from eksplatform.cluster.teams import TeamConfig
from eksplatform.core.settings import (
    EMPTY,
    EMPTY_REQUIRED,
    MAX_POD_CPU_MILLIS,
    NUMBERS_AS_TEXT,
    CpuRequest,
    MemoryRequest,
    SettingsModel,
    cpu_request_problem,
    memory_request_problem,
    model_at,
    pydantic_problems,
    read_as_pulumi,
)
from pydantic import AfterValidator, SecretStr


@pytest.mark.parametrize(
    ("value", "annotation", "expected"),
    [
        ("true", bool, True),
        ("True", bool, True),
        ("false", bool | None, False),
        (False, bool, False),
        (None, bool | None, None),
        (True, SecretStr, True),  # not a scalar field: its own validator decides
        (True, tuple[str, ...], True),
        (3, int, 3),
        (2.5, float, 2.5),
        (3, float | None, 3),
        ("3", int, "3"),  # a top-level scalar arrives as text; pydantic parses it
        ("x", str | None, "x"),
    ],
)
def test_what_pulumi_up_would_accept_passes_through(
    value: Any, annotation: Any, expected: Any
) -> None:
    assert read_as_pulumi(value, annotation) == expected


@pytest.mark.parametrize(
    ("value", "annotation", "message"),
    [
        (
            "yes",
            bool,
            "not a boolean: write true or false; YAML 1.2 (what the Pulumi CLI reads) keeps yes "
            "as text; only true and false are booleans",
        ),
        ("TRUE", bool, "not a boolean: write true or false"),
        (1, bool | None, "not a boolean: write true or false"),
        (True, int, "a number is expected, not a boolean"),
        (False, float | None, "a number is expected, not a boolean"),
        (True, str, "text is expected, not a boolean; quote it if you mean the word"),
        (5, str | None, "text is expected, not a number; quote it in the stack file"),
        (1.5, str, "text is expected, not a number; quote it in the stack file"),
        (None, int, EMPTY),
    ],
)
def test_what_pulumi_up_would_refuse_is_refused_with_the_fix(
    value: Any, annotation: Any, message: str
) -> None:
    with pytest.raises(ValueError) as info:
        read_as_pulumi(value, annotation)
    assert str(info.value) == message


def test_an_empty_required_key_asks_for_a_value() -> None:
    with pytest.raises(ValueError) as info:
        read_as_pulumi(None, str, required=True)
    assert str(info.value) == EMPTY_REQUIRED


class _Sample(SettingsModel):
    cpu: CpuRequest = "100m"
    memory: MemoryRequest = "64Mi"
    checked: Annotated[str, AfterValidator(str.strip)] = "x"
    count: Annotated[str, NUMBERS_AS_TEXT] = "1"


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ({"cpu": 2}, "2"),
        ({"cpu": 0.5}, "0.5"),
        ({"memory": 2**30}, "1073741824"),
        ({"count": 7}, "7"),
    ],
)
def test_a_quantity_takes_a_bare_number_as_its_text(given: dict[str, Any], read: str) -> None:
    sample = _Sample.model_validate(given)
    assert getattr(sample, next(iter(given))) == read


def test_only_quantities_take_numbers_and_no_field_takes_a_boolean() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        _Sample.model_validate({"checked": 5, "cpu": True})
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [
        (("cpu",), "Input should be a valid string"),
        (("checked",), "Value error, text is expected, not a number; quote it in the stack file"),
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1m", None),
        ("192", None),
        ("192000m", None),
        (
            "192001m",
            "is 192.001 cores, more than any node offers (at most 192)",
        ),
        ("0.9m", "is below 1m, the smallest CPU amount Kubernetes schedules; write at least 1m"),
        ("0", "must be more than 0 (a pod asks for at least 1m)"),
        (" 1", "remove the spaces around the quantity"),
        ("1x", "'1x' is not a CPU quantity; write millicores like '250m' or cores like '0.5'"),
        (
            "193",
            "is 193 cores, more than any node offers (at most 192); did you mean millicores, like 193m?",
        ),
    ],
)
def test_cpu_at_its_edges(value: str, problem: str | None) -> None:
    assert cpu_request_problem(value) == problem
    assert MAX_POD_CPU_MILLIS == 192_000


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1Mi", None),
        ("1048576", None),
        (
            "1048575",
            "is 1048575 bytes; no container starts with less than 1Mi: write it like 256Mi",
        ),
        ("512m", "the m suffix means thousandths of a byte; write Mi (mebibytes), like 512Mi"),
        ("1Gi\n", "remove the spaces around the quantity"),
        ("lots", "'lots' is not a memory quantity; write it like '128Mi' or '1Gi'"),
    ],
)
def test_memory_at_its_edges(value: str, problem: str | None) -> None:
    assert memory_request_problem(value) == problem


@pytest.mark.parametrize(
    ("loc", "model"),
    [
        (("network",), NetworkConfig),
        (("network", "flowLogs"), FlowLogsConfig),
        (("network", "flow_logs"), FlowLogsConfig),
        (("teams", 0), TeamConfig),
        (("teams",), TeamConfig),
        (("region",), None),
        (("tags", "x"), None),
        (("network", "availabilityZones"), None),
        (("colour",), None),
        ((), ClusterConfig),
    ],
)
def test_the_model_a_location_points_into(loc: tuple[int | str, ...], model: Any) -> None:
    assert model_at(ClusterConfig, loc) is model


def test_unknown_keys_list_what_is_allowed_where_they_are() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        ClusterConfig.model_validate(
            {"region": "eu-west-1", "environment": "dev", "teams": [{"name": "a", "quotas": {}}]}
        )
    (located,) = pydantic_problems(info.value, ClusterConfig, lambda loc: ".".join(map(str, loc)))
    loc, problem = located
    assert loc == ("teams", 0, "quotas")
    assert problem.message == (
        "unknown key; allowed keys here: alertEmails, allowIngressFrom, limitRange, name, "
        "namespace, quota, roleArns; did you mean quota?"
    )

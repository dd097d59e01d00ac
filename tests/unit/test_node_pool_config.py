"""Node pool settings at their edges: label and taint keys, instance types, sizes, and the CPU the
EKS AMIs reserve per node size."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from eksplatform.cluster.node_pool_config import (
    NodePoolConfig,
    TaintConfig,
    kube_reserved_cpu_millis,
)

PREFIX_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


def _errors(model: type[pydantic.BaseModel], data: dict[str, Any]) -> list[tuple[Any, str]]:
    with pytest.raises(pydantic.ValidationError) as info:
        model.model_validate(data)
    return [(e["loc"], e["msg"].removeprefix("Value error, ")) for e in info.value.errors()]


KEY = "not a Kubernetes label key (optional DNS prefix, '/', then 1-63 of [A-Za-z0-9-_.])"


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        (f"{PREFIX_253}/x", True),
        (f"{PREFIX_253}e/x", False),  # a 254-character prefix
        ("example.com/" + "n" * 63, True),
        ("example.com/" + "n" * 64, False),
        ("Example.com/x", False),  # a prefix is lowercase
        ("x", True),
        ("bad key", False),
        ("/x", False),
    ],
)
def test_taint_keys_at_their_edges(key: str, valid: bool) -> None:
    if valid:
        assert TaintConfig(key=key).key == key
    else:
        assert _errors(TaintConfig, {"key": key}) == [(("key",), KEY)]


@pytest.mark.parametrize(
    ("value", "valid"),
    [("", True), ("v" * 63, True), ("v" * 64, False), ("-v", False), ("v.1_a", True)],
)
def test_taint_values_at_their_edges(value: str, valid: bool) -> None:
    if valid:
        TaintConfig(key="k", value=value)
    else:
        assert _errors(TaintConfig, {"key": "k", "value": value}) == [
            (("value",), "at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric")
        ]


def test_every_label_problem_is_named() -> None:
    labels = {
        "eksplatform.io/node-pool": "x",
        "kubernetes.io/role": "x",
        "node.kubernetes.io/lifecycle": "spot",
        "bad key": "x",
        "tier": "-web",
    }
    assert _errors(NodePoolConfig, {"name": "p", "labels": labels}) == [
        (
            ("labels",),
            "'eksplatform.io/node-pool' is set by the platform; 'kubernetes.io/role': the kubelet "
            "refuses kubernetes.io and k8s.io labels other than node.kubernetes.io/ and "
            "kubelet.kubernetes.io/ ones; use your own prefix; 'bad key' is "
            f"{KEY}; the value '-web' of 'tier' is not a label value (at most 63 of "
            "[A-Za-z0-9-_.], starting and ending alphanumeric)",
        )
    ]


@pytest.mark.parametrize(
    ("types", "message"),
    [
        ([], "list at least one instance type (3 or more to diversify spot)"),
        (["m5.large", "m5a.large", "m5.large"], "lists m5.large more than once"),
    ],
)
def test_instance_type_lists(types: list[str], message: str) -> None:
    assert _errors(NodePoolConfig, {"name": "p", "instanceTypes": types}) == [
        (("instanceTypes",), message)
    ]


def test_size_checks_wait_for_sizes_that_parse() -> None:
    # minSize is itself wrong: the cross-field checks do not guess around it.
    assert _errors(NodePoolConfig, {"name": "p", "minSize": "two", "desiredSize": 40}) == [
        (("minSize",), "Input should be a valid integer, unable to parse string as an integer")
    ]
    # an empty minSize is its own problem, and no comparison fails on it
    assert _errors(NodePoolConfig, {"name": "p", "minSize": None, "maxSize": 3}) == [
        (("minSize",), "is empty; remove the key to keep its default, or give it a value")
    ]
    # another field wrong, sizes fine: the cross-field problem is still reported
    assert _errors(NodePoolConfig, {"name": "P", "minSize": 5, "maxSize": 3}) == [
        (
            ("name",),
            "use lowercase letters, digits and '-', starting with a letter (at most 24 characters)",
        ),
        (("minSize",), "is above maxSize (3); make minSize <= maxSize"),
    ]


@pytest.mark.parametrize(
    ("vcpu", "millis"), [(1, 60), (2, 70), (3, 75), (4, 80), (5, 82.5), (8, 90), (32, 150)]
)
def test_the_cpu_the_eks_amis_reserve(vcpu: int, millis: float) -> None:
    assert kube_reserved_cpu_millis(vcpu) == millis

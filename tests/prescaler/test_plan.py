"""The pure planning functions at their edges: exact floors, the headroom by whichever resource
needs more, labels and state the pre-scaler refuses to guess about."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from eksplatform.cluster.prescaler_lambda import plan

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def hpa(**kw: Any) -> plan.Hpa:
    values: dict[str, Any] = {
        "namespace": "news",
        "name": "feed",
        "resource_version": "1",
        "min_replicas": 3,
        "max_replicas": 100,
        "current_replicas": 3,
        "labels": {plan.PRESCALE_LABEL: "true", plan.FACTOR_LABEL: "10"},
        "annotations": {},
        "target_kind": "Deployment",
        "target_name": "feed",
    }
    values.update(kw)
    return plan.Hpa(**values)


def test_floor_is_exact() -> None:
    # 3 x 10 x 0.7 is 21.000000000000004 in floating point: the floor must be 21, not 22
    assert plan.new_floor(3, 10, Fraction("0.7"), 100) == 21
    assert plan.new_floor(3, 10, Fraction("0.71"), 100) == 22
    assert plan.new_floor(3, 10, Fraction(1), 25) == 25
    assert plan.new_floor(1, 2, Fraction("0.01"), 10) == 1


@pytest.mark.parametrize("label", ["1", "101", "ten", "", "10.5"])
def test_factor_labels_out_of_range_are_refused(label: str) -> None:
    with pytest.raises(ValueError, match="is not a whole number from 2 to 100"):
        hpa(labels={plan.PRESCALE_LABEL: "true", plan.FACTOR_LABEL: label}).factor()


@pytest.mark.parametrize("label", ["2", "100"])
def test_factor_edges_are_accepted(label: str) -> None:
    assert hpa(labels={plan.FACTOR_LABEL: label}).factor() == int(label)


def test_unreadable_state_is_refused() -> None:
    bad = hpa(annotations={plan.STATE_ANNOTATION: json.dumps({"v": 9})})
    with pytest.raises(ValueError, match="is not a version 1 state"):
        plan.plan_raise(bad, push_id="p", until=NOW, multiplier=Fraction(1), now=NOW)


def test_current_replicas_above_the_baseline_are_the_base() -> None:
    change = plan.plan_raise(
        hpa(current_replicas=8),
        push_id="p",
        until=NOW + timedelta(hours=1),
        multiplier=Fraction(1, 2),
        now=NOW,
    )
    assert change.min_replicas == (3, 40)
    assert change.state is not None and change.state.base == 8


def test_headroom_is_sized_by_the_scarcer_resource() -> None:
    state = plan.State(
        base=3, baseline=3, windows=(plan.Window("p", NOW + timedelta(hours=1), 13),)
    )
    raised = hpa(
        min_replicas=13,
        annotations={
            plan.STATE_ANNOTATION: state.dump(),
            plan.POD_REQUESTS_ANNOTATION: json.dumps({"cpuMillis": 100, "memoryBytes": 2 * 2**30}),
        },
    )
    settings = plan.HeadroomSettings(
        baseline=2, cpu_millis=1000, memory_bytes=2**30, ratio=Fraction(1, 2), max_replicas=50
    )
    # 10 added pods: 1 CPU (1 pause pod) but 20Gi (20 pause pods) -> memory decides: 2 + 10
    result = plan.plan_headroom([raised], settings, NOW)
    assert result.target == 12
    assert (result.added_cpu_millis, result.added_memory_bytes) == (1000, 20 * 2**30)
    capped = plan.HeadroomSettings(**{**settings.__dict__, "max_replicas": 5})
    assert plan.plan_headroom([raised], capped, NOW).target == 5
    # an HPA without the requests annotation is reported, not guessed
    unsized = hpa(min_replicas=13, annotations={plan.STATE_ANNOTATION: state.dump()})
    result = plan.plan_headroom([unsized], settings, NOW)
    assert (result.target, result.unsized) == (2, ["news/feed"])
    # once the window is over it counts for nothing
    assert plan.plan_headroom([raised], settings, NOW + timedelta(hours=2)).target == 2


def test_patch_is_conditional_and_removes_the_state_when_done() -> None:
    change = plan.plan_restore(
        hpa(
            min_replicas=30,
            annotations={
                plan.STATE_ANNOTATION: plan.State(
                    base=3, baseline=3, windows=(plan.Window("p", NOW, 30),)
                ).dump()
            },
        ),
        now=NOW,
        push_id="p",
    )
    assert plan.patch_for(change, "42") == {
        "metadata": {"resourceVersion": "42", "annotations": {plan.STATE_ANNOTATION: None}},
        "spec": {"minReplicas": 3},
    }


def test_ambiguous_names_must_be_qualified() -> None:
    hpas = [hpa(namespace="news"), hpa(namespace="media")]
    chosen, unknown = plan.select(hpas, ["feed", "media/feed"])
    assert [h.key for h in chosen] == ["media/feed"]
    assert unknown == {"feed": "'feed' matches news/feed, media/feed: write namespace/name"}

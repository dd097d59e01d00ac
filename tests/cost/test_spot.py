"""The on-demand/spot split of a group and of a pool (eksplatform.core.spot): the base first, the
percentage of the rest rounded up in favour of on-demand, per zone group."""

from __future__ import annotations

import pytest
from eksplatform.core.spot import Split, group_split, pool_split, spot_share_at


@pytest.mark.parametrize(
    ("size", "base", "pct", "on_demand", "spot"),
    [
        (0, 1, 30, 0, 0),  # an empty group
        (1, 1, 30, 1, 0),  # all base
        (1, 2, 0, 1, 0),  # the base above the size: every instance on-demand
        (2, 1, 30, 2, 0),  # prod's minimum: 0.3 of an instance above the base rounds up
        (4, 1, 30, 2, 2),  # 1 + ceil(0.9)
        (11, 1, 30, 4, 7),  # 1 + ceil(3.0): exact, no rounding
        (12, 1, 30, 5, 7),  # 1 + ceil(3.3)
        (20, 1, 30, 7, 13),  # prod's maximum
        (5, 0, 0, 0, 5),  # all spot
        (5, 0, 100, 5, 0),  # all on-demand
        (3, 0, 1, 1, 2),  # any on-demand percentage takes a whole instance
        (3, 0, 99, 3, 0),
    ],
)
def test_group_split(size: int, base: int, pct: int, on_demand: int, spot: int) -> None:
    assert group_split(size, base, pct) == Split(on_demand, spot)


def test_the_base_applies_per_zone_group() -> None:
    # 3 zones of 2: each keeps its own base of 1, so 3 on-demand before any spot, not 1
    assert pool_split(2, 3, 1, 0) == Split(on_demand=3, spot=3)
    assert pool_split(2, 3, 1, 0).spot_share == 0.5
    assert pool_split(0, 3, 1, 0) == Split(0, 0) and Split(0, 0).spot_share == 0.0


def test_spot_share_at() -> None:
    assert spot_share_at(2, 1, 30) == 0.0
    assert spot_share_at(20, 1, 30) == 13 / 20
    assert Split(1, 2) + Split(3, 4) == Split(4, 6)


@pytest.mark.parametrize(("size", "base", "pct"), [(-1, 0, 0), (1, -1, 0), (1, 0, 101), (1, 0, -1)])
def test_impossible_groups_are_refused(size: int, base: int, pct: int) -> None:
    with pytest.raises(ValueError, match="sizes are non-negative and the percentage is 0-100"):
        group_split(size, base, pct)


@pytest.mark.parametrize(
    ("min_size", "base", "pct", "flagged"),
    [
        (2, 0, 30, False),  # 1 on-demand (0.6 rounded up), 1 spot: 50%, the band's low edge
        (2, 1, 0, False),  # 1 + 0, 1 spot: 50%
        (2, 1, 1, True),  # 1 + ceil(0.01) = 2 on-demand: 0%
        (3, 1, 30, True),  # 1 + ceil(0.6): 1 of 3 spot, 33%
        (3, 0, 30, False),  # ceil(0.9) = 1 on-demand, 2 spot: 67%
        (0, 1, 30, False),  # a pool that scales from zero has no minimum to judge
        (None, 1, 30, False),  # a group whose minimum is unknown (an Output at preview)
    ],
)
def test_effective_spot_share_at_minimum_edges(
    min_size: int | None, base: int, pct: int, flagged: bool
) -> None:
    from eksplatform.guardrails.compute import effective_spot_share_problem

    reason = effective_spot_share_problem(min_size, base, pct, (50, 90), "prod")
    assert (reason is not None) == flagged, reason

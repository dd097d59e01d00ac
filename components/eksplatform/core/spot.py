"""How an Auto Scaling group with a MixedInstancesPolicy splits its instances between on-demand
and spot: the one computation behind the cost report (``eksplatform cost``), the spot share
check on node pool config and the guardrail rule ``aws-spot-share``.

AWS fills ``OnDemandBaseCapacity`` with on-demand instances first, then launches
``OnDemandPercentageAboveBaseCapacity`` percent of the capacity above the base as on-demand and
the rest as spot. The AWS documentation does not state how a fractional on-demand count is
rounded; this module rounds it **up** (in favour of on-demand), so the spot share and the savings
it reports are never overstated: at 30% on-demand above a base of 1, a group of 2 runs 2
on-demand instances (the 0.3 of an instance is on-demand), a group of 4 runs 1 + 1 on-demand and
2 spot. Design decision: one conservative rule applied everywhere; the cost is that a group that
AWS happens to round the other way is reported slightly more expensive than it runs.

Node pools have one group per zone, each applying the base on its own, so a pool's split is the
split of one zone group times the zone count (:func:`pool_split`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    """On-demand and spot instances of a group (or a pool: the sum of its zone groups)."""

    on_demand: int
    spot: int

    @property
    def total(self) -> int:
        return self.on_demand + self.spot

    @property
    def spot_share(self) -> float:
        """Spot instances over all instances (0 for an empty group)."""
        return self.spot / self.total if self.total else 0.0

    def __add__(self, other: Split) -> Split:
        return Split(self.on_demand + other.on_demand, self.spot + other.spot)


def group_split(size: int, base: int, on_demand_percent_above_base: int) -> Split:
    """The split of one Auto Scaling group of ``size`` instances.

    ``base`` is ``OnDemandBaseCapacity``, ``on_demand_percent_above_base`` is
    ``OnDemandPercentageAboveBaseCapacity`` (0-100). The on-demand part above the base is
    rounded up (see the module docstring)."""
    if size < 0 or base < 0 or not 0 <= on_demand_percent_above_base <= 100:
        raise ValueError(
            f"size {size}, base {base}, on-demand percentage {on_demand_percent_above_base}: "
            "sizes are non-negative and the percentage is 0-100"
        )
    in_base = min(size, base)
    above = size - in_base
    # Integer arithmetic: ceil(above * pct / 100) without floating point error.
    on_demand_above = -(-above * on_demand_percent_above_base // 100)
    return Split(on_demand=in_base + on_demand_above, spot=above - on_demand_above)


def pool_split(
    size_per_zone: int, zones: int, base: int, on_demand_percent_above_base: int
) -> Split:
    """The split of a pool of ``zones`` groups of ``size_per_zone`` instances each (the base
    applies per zone group)."""
    one = group_split(size_per_zone, base, on_demand_percent_above_base)
    return Split(one.on_demand * zones, one.spot * zones)


def spot_share_at(size: int, base: int, on_demand_percent_above_base: int) -> float:
    """Effective spot share of a group of ``size`` instances (the same in every zone group)."""
    return group_split(size, base, on_demand_percent_above_base).spot_share

"""The shipped price table and --prices files: the schema, every problem at once, the overlay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eksplatform.cluster.node_pools import INSTANCE_SHAPES
from eksplatform.cost.prices import PriceFileError, load_prices, parse_prices, shipped_prices


def test_the_shipped_table_prices_every_instance_type_pools_may_use() -> None:
    table = shipped_prices()
    assert table.date and "not a measurement" in table.source
    for region in ("eu-west-1", "us-east-1"):
        assert table.missing(region, sorted(INSTANCE_SHAPES)) == []
    # a family's sizes scale linearly, and spot is below on-demand
    assert table.on_demand_price("eu-west-1", "m6i.2xlarge") == pytest.approx(
        4 * table.on_demand[("eu-west-1", "m6i.large")]
    )
    for (region, name), price in table.on_demand.items():
        spot = table.spot(region, name)
        assert spot is not None and 0 < spot < price


def test_a_price_file_is_laid_over_the_shipped_table(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            {
                "date": "2026-12-02",
                "source": "our negotiated rates",
                "regions": {
                    "eu-west-1": {
                        "onDemand": {"m6i.xlarge": 0.1},
                        "spotPrice": {"m6i.xlarge": 0.05},
                    },
                    "eu-north-1": {"onDemand": {"m6i.xlarge": 0.2}, "spotDiscount": {"m6i": 0.7}},
                },
            }
        )
    )
    table = load_prices(path)
    assert table.on_demand_price("eu-west-1", "m6i.xlarge") == 0.1
    assert table.spot("eu-west-1", "m6i.xlarge") == 0.05  # measured wins over the discount
    assert table.spot("eu-north-1", "m6i.xlarge") == pytest.approx(0.2 * 0.3)
    assert table.on_demand_price("eu-west-1", "m5.xlarge") is not None  # the shipped rest
    assert table.date == "2026-12-02" and table.source.startswith("our negotiated rates; ")


def test_every_problem_of_a_price_file_at_once() -> None:
    with pytest.raises(PriceFileError) as info:
        parse_prices(
            {
                "date": "yesterday",
                "currency": "EUR",
                "colour": 1,
                "regions": {
                    "eu-west-1": {"onDemand": {"m6i.xlarge": 0}, "spotDiscount": {"m6i": 1.5}},
                    "Europe": {},
                },
            },
            source="p.json",
        )
    lines = str(info.value).splitlines()
    assert lines[0] == "p.json: 6 problems:"
    text = "\n".join(lines)
    assert (
        "Additional properties are not allowed ('colour' was unexpected); allowed keys: currency, date, hoursPerMonth, regions, source"
        in text
    )
    assert "  - currency: got 'EUR': 'USD' was expected" in text
    assert "  - date: got 'yesterday': 'yesterday' is not a 'date'" in text
    assert (
        "  - regions.eu-west-1.onDemand.m6i.xlarge: got 0: a price is USD per instance-hour, above 0"
        in text
    )
    assert (
        "  - regions.eu-west-1.spotDiscount.m6i: got 1.5: a spot discount is a fraction below "
        "on-demand: 0 to under 1 (0.6 = 60% off)"
    ) in text
    assert "keys are regions (eu-west-1) and instance types (m6i.xlarge) or families (m6i)" in text


def test_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match=r"--prices: got '.*nope\.json': no such file"):
        load_prices(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(PriceFileError, match="not a JSON price file"):
        load_prices(bad)

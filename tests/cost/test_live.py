"""``--live`` prices against recorded AWS responses (botocore Stubber: the real clients and
their request validation, no network): the Price List API's on-demand price and EC2's spot
price history, averaged over zones and the window."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from eksplatform.cost.live import LivePriceError, live_table

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def _product(instance_type: str, usd: str) -> str:
    """A Price List product as GetProducts returns it (a JSON string), trimmed to what is read."""
    return json.dumps(
        {
            "product": {"attributes": {"instanceType": instance_type, "regionCode": "eu-west-1"}},
            "terms": {
                "OnDemand": {
                    "ABC.JRTCKXETXF": {
                        "priceDimensions": {
                            "ABC.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "pricePerUnit": {"USD": usd},
                                "description": f"$ {usd} per On Demand Linux {instance_type} Instance Hour",
                            }
                        }
                    }
                }
            },
        }
    )


def _clients() -> tuple[Any, Any]:
    kwargs: dict[str, Any] = {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    pricing = boto3.client("pricing", region_name="us-east-1", **kwargs)
    ec2 = boto3.client("ec2", region_name="eu-west-1", **kwargs)
    return pricing, ec2


def _spot(instance_type: str, zone: str, price: str, hours_ago: int) -> dict[str, Any]:
    return {
        "AvailabilityZone": zone,
        "InstanceType": instance_type,
        "ProductDescription": "Linux/UNIX",
        "SpotPrice": price,
        "Timestamp": NOW - dt.timedelta(hours=hours_ago),
    }


def test_live_prices_from_recorded_responses() -> None:
    pricing, ec2 = _clients()
    with Stubber(pricing) as p, Stubber(ec2) as e:
        for t, usd in (("m6i.xlarge", "0.2140000000"), ("m6g.xlarge", "0.1720000000")):
            p.add_response(
                "get_products",
                {"PriceList": [_product(t, usd)], "FormatVersion": "aws_v1"},
                {"ServiceCode": "AmazonEC2", "Filters": ANY, "MaxResults": 10},
            )
        e.add_response(
            "describe_spot_price_history",
            {
                "SpotPriceHistory": [
                    _spot("m6i.xlarge", "eu-west-1a", "0.0900", 1),
                    _spot("m6i.xlarge", "eu-west-1b", "0.1000", 2),
                    _spot("m6g.xlarge", "eu-west-1a", "0.0700", 1),
                ],
                "NextToken": "page2",
            },
            {
                "InstanceTypes": ["m6i.xlarge", "m6g.xlarge"],
                "ProductDescriptions": ["Linux/UNIX"],
                "StartTime": NOW - dt.timedelta(days=7),
                "EndTime": NOW,
            },
        )
        e.add_response(
            "describe_spot_price_history",
            {
                "SpotPriceHistory": [_spot("m6i.xlarge", "eu-west-1c", "0.0800", 30)],
                "NextToken": "",
            },
            {
                "InstanceTypes": ["m6i.xlarge", "m6g.xlarge"],
                "ProductDescriptions": ["Linux/UNIX"],
                "StartTime": NOW - dt.timedelta(days=7),
                "EndTime": NOW,
                "NextToken": "page2",
            },
        )
        table = live_table(
            "eu-west-1", ["m6i.xlarge", "m6g.xlarge"], days=7, pricing=pricing, ec2=ec2, now=NOW
        )
        p.assert_no_pending_responses()
        e.assert_no_pending_responses()
    assert table.on_demand_price("eu-west-1", "m6i.xlarge") == 0.214
    assert table.spot("eu-west-1", "m6i.xlarge") == pytest.approx((0.09 + 0.10 + 0.08) / 3)
    assert table.spot("eu-west-1", "m6g.xlarge") == pytest.approx(0.07)
    assert table.date == "2026-12-03" and "DescribeSpotPriceHistory" in table.source
    saved = table.to_json()["regions"]["eu-west-1"]
    assert saved["onDemand"] == {"m6g.xlarge": 0.172, "m6i.xlarge": 0.214}


def test_a_type_without_a_price_or_history_fails_clearly() -> None:
    pricing, ec2 = _clients()
    with Stubber(pricing) as p:
        p.add_response("get_products", {"PriceList": []})
        with pytest.raises(
            LivePriceError, match=r"no Linux on-demand price for m9z\.xlarge in eu-west-1"
        ):
            live_table("eu-west-1", ["m9z.xlarge"], pricing=pricing, ec2=ec2, now=NOW)
    pricing, ec2 = _clients()
    with Stubber(pricing) as p, Stubber(ec2) as e:
        p.add_response("get_products", {"PriceList": [_product("m6i.xlarge", "0.214")]})
        e.add_response("describe_spot_price_history", {"SpotPriceHistory": []})
        with pytest.raises(
            LivePriceError, match=r"no spot price history for m6i\.xlarge in the last 7 days"
        ):
            live_table("eu-west-1", ["m6i.xlarge"], pricing=pricing, ec2=ec2, now=NOW)


def test_an_aws_error_is_reported_not_raised_through() -> None:
    pricing, ec2 = _clients()
    with Stubber(pricing) as p:
        p.add_client_error("get_products", "AccessDeniedException", "not authorized to GetProducts")
        with pytest.raises(
            LivePriceError, match=r"AWS price lookup failed: .*AccessDeniedException"
        ):
            live_table("eu-west-1", ["m6i.xlarge"], pricing=pricing, ec2=ec2, now=NOW)

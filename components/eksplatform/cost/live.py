"""Current prices from AWS (``eksplatform cost --live``): on-demand from the Price List API
(``pricing:GetProducts``, Linux, shared tenancy, no pre-installed software, capacity status
"Used") and spot from ``ec2:DescribeSpotPriceHistory`` (``Linux/UNIX``), averaged per instance
type over every zone of the region and the last ``days`` days.

Cost tools that price spot nodes at on-demand while their price feed lags overstate a spot-heavy
cluster's bill; the spot history is what the groups actually paid.

Design decision: an average over the window, not the latest price: a spot price moves by the
hour and by zone, and the report estimates a month. The cost is that a price rise in the last
hours shows only partly. The Price List API answers in ``us-east-1`` (and two other regions)
whatever region it prices; the EC2 client is the stack's region. Credentials come from boto3's
usual chain; the caller needs ``pricing:GetProducts`` and ``ec2:DescribeSpotPriceHistory``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from .prices import PriceTable

PRICING_REGION = "us-east-1"
"""Where the Price List API is served from."""


class LivePriceError(Exception):
    """AWS could not answer (credentials, permissions, throttling, an unknown type)."""


def _filters(region: str, instance_type: str) -> list[dict[str, str]]:
    fixed = {
        "regionCode": region,
        "instanceType": instance_type,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
    }
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fixed.items()]


def _on_demand_usd(product: dict[str, Any]) -> float | None:
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            if dim.get("unit") == "Hrs":
                usd = (dim.get("pricePerUnit") or {}).get("USD")
                if usd is not None and float(usd) > 0:
                    return float(usd)
    return None


def on_demand_prices(pricing: Any, region: str, instance_types: Iterable[str]) -> dict[str, float]:
    """``pricing``: a boto3 ``pricing`` client. Raises :class:`LivePriceError` for a type the
    Price List does not list in ``region``."""
    out: dict[str, float] = {}
    for t in instance_types:
        response = pricing.get_products(
            ServiceCode="AmazonEC2", Filters=_filters(region, t), MaxResults=10
        )
        prices = [_on_demand_usd(json.loads(p)) for p in response.get("PriceList", [])]
        found = sorted(p for p in prices if p is not None)
        if not found:
            raise LivePriceError(
                f"the Price List API has no Linux on-demand price for {t} in {region}"
            )
        out[t] = found[0]
    return out


def spot_prices(
    ec2: Any, instance_types: Sequence[str], *, days: int, now: dt.datetime | None = None
) -> dict[str, float]:
    """Mean spot price per type over the last ``days`` days, every zone (``ec2``: a boto3 EC2
    client of the stack's region)."""
    end = now or dt.datetime.now(dt.UTC)
    paginator = ec2.get_paginator("describe_spot_price_history")
    seen: dict[str, list[float]] = {t: [] for t in instance_types}
    pages = paginator.paginate(
        InstanceTypes=list(instance_types),
        ProductDescriptions=["Linux/UNIX"],
        StartTime=end - dt.timedelta(days=days),
        EndTime=end,
    )
    for page in pages:
        for record in page.get("SpotPriceHistory", []):
            t = record.get("InstanceType")
            if t in seen:
                seen[t].append(float(record["SpotPrice"]))
    missing = [t for t, values in seen.items() if not values]
    if missing:
        raise LivePriceError(
            f"no spot price history for {', '.join(missing)} in the last {days} days"
        )
    return {t: sum(v) / len(v) for t, v in seen.items()}


def live_table(
    region: str,
    instance_types: Sequence[str],
    *,
    days: int = 7,
    pricing: Any = None,
    ec2: Any = None,
    now: dt.datetime | None = None,
) -> PriceTable:
    """A price table of ``instance_types`` in ``region`` measured now (clients made with boto3
    when not given)."""
    import boto3
    import botocore.exceptions

    when = now or dt.datetime.now(dt.UTC)
    try:
        pricing = pricing or boto3.client("pricing", region_name=PRICING_REGION)
        ec2 = ec2 or boto3.client("ec2", region_name=region)
        od = on_demand_prices(pricing, region, instance_types)
        spot = spot_prices(ec2, instance_types, days=days, now=when)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise LivePriceError(f"AWS price lookup failed: {exc}") from None
    return PriceTable(
        date=when.date().isoformat(),
        source=(
            f"measured {when:%Y-%m-%d %H:%M} UTC: AWS Price List API (Linux on-demand) and EC2 "
            f"DescribeSpotPriceHistory (Linux/UNIX, mean over {days} days, every zone of {region})"
        ),
        on_demand={(region, t): p for t, p in od.items()},
        spot_price={(region, t): p for t, p in spot.items()},
    )

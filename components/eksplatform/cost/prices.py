"""The price table the cost report uses: on-demand price per instance type and region, and the
spot price as a discount below it (per type, or per family for every size of it).

The library ships ``prices.json`` (its ``date`` and ``source`` say where the figures come from
and how far to trust them); ``--prices FILE`` lays a file of the same shape over it (any subset:
a region, a type, a discount, or measured ``spotPrice`` values that ``--live --save-prices``
writes). The file is checked against a JSON Schema (the ``jsonschema`` library, already a
run-time dependency of the pre-scaler CLI) and every problem is reported at once, each naming its
path in the file.

Design decision: spot is priced as a discount, not an absolute price, because the discount of a
family moves far less between sizes and months than the price does, so one figure per family is
an honest summary; the cost is that a measured price (``spotPrice``) has to be converted and
wins over the discount when both are given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from ..core.errors import Problem

_PRICE = {"type": "number", "exclusiveMinimum": 0}
_DISCOUNT = {"type": "number", "minimum": 0, "exclusiveMaximum": 1}
_TYPE_NAME = "^[a-z][a-z0-9-]*[0-9][a-z0-9-]*(\\.[a-z0-9]+)?$"

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "date": {"type": "string", "format": "date"},
        "currency": {"const": "USD"},
        "hoursPerMonth": {"type": "number", "minimum": 672, "maximum": 744},
        "source": {"type": "string", "minLength": 1},
        "regions": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "onDemand": {
                        "type": "object",
                        "propertyNames": {"pattern": _TYPE_NAME},
                        "additionalProperties": _PRICE,
                    },
                    "spotDiscount": {
                        "type": "object",
                        "propertyNames": {"pattern": _TYPE_NAME},
                        "additionalProperties": _DISCOUNT,
                    },
                    "spotPrice": {
                        "type": "object",
                        "propertyNames": {"pattern": _TYPE_NAME},
                        "additionalProperties": _PRICE,
                    },
                },
            },
        },
    },
}
"""The shape of ``prices.json`` and of a ``--prices`` file (every key optional in the file)."""


@dataclass(frozen=True)
class PriceTable:
    """Prices in USD per instance-hour."""

    date: str
    """When the figures were recorded (or measured, for ``--live``)."""
    source: str
    """Where they come from and how far to trust them."""
    hours_per_month: float = 730.0
    """Hours in the "monthly" figure (AWS's own convention: 730)."""
    on_demand: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """(region, instance type) -> on-demand price."""
    spot_discount: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """(region, instance type or family) -> fraction below on-demand the spot price runs."""
    spot_price: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """(region, instance type) -> measured spot price (wins over the discount)."""

    def on_demand_price(self, region: str, instance_type: str) -> float | None:
        return self.on_demand.get((region, instance_type))

    def discount(self, region: str, instance_type: str) -> float | None:
        """Spot discount of ``instance_type``: its own, else its family's, else None."""
        own = self.spot_discount.get((region, instance_type))
        if own is not None:
            return own
        return self.spot_discount.get((region, instance_type.split(".", 1)[0]))

    def spot(self, region: str, instance_type: str) -> float | None:
        """Spot price of ``instance_type``: measured, else on-demand less the discount."""
        measured = self.spot_price.get((region, instance_type))
        if measured is not None:
            return measured
        od = self.on_demand_price(region, instance_type)
        disc = self.discount(region, instance_type)
        if od is None or disc is None:
            return None
        return od * (1 - disc)

    def missing(self, region: str, instance_types: Iterable[str]) -> list[str]:
        """Which of ``instance_types`` this table cannot price (on-demand or spot) in ``region``."""
        return [
            t
            for t in instance_types
            if self.on_demand_price(region, t) is None or self.spot(region, t) is None
        ]

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with ``other`` laid over it (``other`` wins key by key)."""
        return PriceTable(
            date=other.date or self.date,
            source=other.source
            if other.source == self.source
            else f"{other.source}; {self.source}",
            hours_per_month=other.hours_per_month,
            on_demand={**self.on_demand, **other.on_demand},
            spot_discount={**self.spot_discount, **other.spot_discount},
            spot_price={**self.spot_price, **other.spot_price},
        )

    def to_json(self) -> dict[str, Any]:
        """The table in the file's shape (what ``--save-prices`` writes)."""
        regions: dict[str, dict[str, dict[str, float]]] = {}
        for key, mapping in (
            ("onDemand", self.on_demand),
            ("spotDiscount", self.spot_discount),
            ("spotPrice", self.spot_price),
        ):
            for (region, name), value in sorted(mapping.items()):
                regions.setdefault(region, {}).setdefault(key, {})[name] = value
        return {
            "date": self.date,
            "currency": "USD",
            "hoursPerMonth": self.hours_per_month,
            "source": self.source,
            "regions": regions,
        }


class PriceFileError(Exception):
    """A price file that cannot be used; ``problems`` name each path in it."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem{'s' if len(problems) != 1 else ''}:"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_prices(data: Any, *, source: str) -> PriceTable:
    """Check ``data`` (a decoded price file) against :data:`SCHEMA` and build the table, or
    raise :class:`PriceFileError` with every problem."""
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = [
        Problem(_path(e.absolute_path), e.instance, _schema_message(e))
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise PriceFileError(source, problems)
    on_demand: dict[tuple[str, str], float] = {}
    discount: dict[tuple[str, str], float] = {}
    spot: dict[tuple[str, str], float] = {}
    for region, entry in data.get("regions", {}).items():
        for name, value in entry.get("onDemand", {}).items():
            on_demand[(region, name)] = float(value)
        for name, value in entry.get("spotDiscount", {}).items():
            discount[(region, name)] = float(value)
        for name, value in entry.get("spotPrice", {}).items():
            spot[(region, name)] = float(value)
    return PriceTable(
        date=str(data.get("date", "")),
        source=str(data.get("source", source)),
        hours_per_month=float(data.get("hoursPerMonth", 730)),
        on_demand=on_demand,
        spot_discount=discount,
        spot_price=spot,
    )


def _schema_message(error: jsonschema.ValidationError) -> str:
    validator = error.validator
    if validator == "additionalProperties":
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = sorted(schema.get("properties", {}))
        return f"{error.message}; allowed keys: {', '.join(allowed)}"
    if validator == "exclusiveMaximum" and error.schema is _DISCOUNT:
        return "a spot discount is a fraction below on-demand: 0 to under 1 (0.6 = 60% off)"
    if validator == "exclusiveMinimum":
        return "a price is USD per instance-hour, above 0"
    if validator == "pattern" or validator == "propertyNames":
        return f"{error.message}: keys are regions (eu-west-1) and instance types (m6i.xlarge) or families (m6i)"
    return error.message


def shipped_prices() -> PriceTable:
    """The table shipped with the library (``eksplatform/cost/prices.json``)."""
    text = resources.files(__package__).joinpath("prices.json").read_text()
    return parse_prices(json.loads(text), source="eksplatform/cost/prices.json")


def load_prices(path: Path | None) -> PriceTable:
    """The shipped table, with the file at ``path`` laid over it when given."""
    table = shipped_prices()
    if path is None:
        return table
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise PriceFileError(str(path), [Problem("--prices", str(path), "no such file")]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PriceFileError(
            str(path), [Problem("--prices", str(path), f"not a JSON price file: {exc}")]
        ) from None
    return table.merged(parse_prices(data, source=path.name))

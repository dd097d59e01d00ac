"""The one tag merge rule: platform tags < component tags < caller tags, except that the company
tags (team, environment, cost centre, managed-by) always come from the platform and cannot be
overridden by anyone below it. Every AWS resource of the library gets its tags from here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MANAGED_BY = "pulumi-eksplatform"

COMPANY_TAG_KEYS = ("team", "environment", "cost-centre", "managed-by")
"""Tags every resource must carry (policy checks them); only the platform sets them."""


@dataclass(frozen=True, kw_only=True)
class Tags:
    """Company tags of a stack plus extra tags, merged once."""

    team: str
    """``team`` tag: who owns the resource."""
    environment: str
    """``environment`` tag (``staging``, ``prod``...)."""
    cost_centre: str
    """``cost-centre`` tag, for the bill."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Further tags (they never override the company tags). Default: none."""

    def company(self) -> dict[str, str]:
        return {
            "team": self.team,
            "environment": self.environment,
            "cost-centre": self.cost_centre,
            "managed-by": MANAGED_BY,
        }

    def merged(
        self, component: Mapping[str, str] | None = None, caller: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """``extra < component < caller``, then the company tags on top."""
        out: dict[str, str] = {}
        for layer in (self.extra, component or {}, caller or {}):
            out.update(layer)
        out.update(self.company())
        return dict(sorted(out.items()))

    def with_name(self, name: str, **component: str) -> dict[str, str]:
        """Tags plus the ``Name`` tag the EC2 console shows."""
        return self.merged({"Name": name, **component})

    def for_team(self, team: str) -> Tags:
        """The same stack's tags for resources a service team owns."""
        return Tags(
            team=team, environment=self.environment, cost_centre=self.cost_centre, extra=self.extra
        )


def overridden_company_keys(tags: Mapping[str, str]) -> list[str]:
    """Company tag keys a caller tried to set (for validation messages)."""
    return sorted(k for k in tags if k in COMPANY_TAG_KEYS)


OWNER_TAG = "eksplatform-owner"
"""Tag key marking resources the platform owns (value :data:`PLATFORM_OWNER`): the permissions
boundary of service roles denies every action on them, whatever their ``team`` tag."""
PLATFORM_OWNER = "platform"

"""Datadog facts both sides of the contract use: the sites, their API endpoints, and what a
notification handle looks like (the cluster publishes each team's handles; services add theirs)."""

from __future__ import annotations

import re

SITES = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
)
"""Datadog sites: each is its own organisation, keys and API endpoint."""

HANDLE = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?")
"""One notification handle in a monitor message: ``@slack-<channel>``, ``@pagerduty-<service>``,
``@opsgenie-<team>``, ``@webhook-<name>``, ``@teams-<channel>`` or ``@<email address>``."""


def api_url(site: str) -> str:
    """The API endpoint of a site, as the Datadog provider's ``apiUrl`` takes it."""
    return f"https://api.{site}/"

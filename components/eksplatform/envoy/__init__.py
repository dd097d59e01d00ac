"""Envoy sidecar: typed settings -> validated -> Envoy v3 bootstrap (dict / YAML) -> container spec.

Shortest real use::

    from eksplatform.envoy import EnvoyDependency, EnvoySettings, config_map_data, sidecar_container

    settings = EnvoySettings(
        service_name="feed",
        app_port=8080,
        dependencies=(
            EnvoyDependency(name="users", namespace="identity", port=80, egress_port=15101),
            EnvoyDependency(name="ranker", namespace="ml", port=50051, egress_port=15102,
                            protocol="http2"),
        ),
    )
    data = config_map_data(settings)          # {"envoy.yaml": "<bootstrap>"} for the ConfigMap
    container = sidecar_container(settings)   # native sidecar (initContainer, restartPolicy Always)

The builder is pure: it imports nothing from Pulumi's runtime (only the typed
``pulumi_kubernetes`` argument classes for :func:`sidecar_container`) and never touches the network.

What the sidecar does
---------------------
* **Ingress** (``listen_address:ingress_port``, default ``0.0.0.0:15001``; the Kubernetes Service's
  ``targetPort``): every request goes to the app on ``127.0.0.1:app_port`` with a route timeout,
  HTTP idle / header timeouts, a header size limit and ``x-request-id`` generation. ``health_path``
  (default ``/healthz/envoy``) is answered by Envoy's ``health_check`` filter (no pass-through):
  200 only while the app's own readiness endpoint (``app_health_path``) passes Envoy's active
  health check *and* Envoy is not draining; 503 otherwise. Point the ALB target group's health
  check at it.
* **Egress**: one listener per dependency on ``127.0.0.1:<egress_port>``; the app calls
  ``http://127.0.0.1:<egress_port>`` and Envoy forwards to
  ``<service>.<namespace>.svc.cluster.local:<port>`` (STRICT_DNS) with connect/route timeouts,
  retries (bounded count, per-try timeout, retry budget), circuit breakers and outlier detection.
  Name a *headless* Service (``clusterIP: None``) when you can: DNS then returns every pod, so
  Envoy balances per pod (this matters for HTTP/2 / gRPC, whose long-lived connections defeat
  kube-proxy's per-connection balancing) and outlier detection ejects single bad pods. With a
  ClusterIP Service everything still works, but Envoy sees one host.
* **Observability**: admin on ``127.0.0.1:admin_port`` only (never reachable from the pod network);
  JSON access logs on stdout; ``listen_address:stats_port`` (default 15090) serves exactly
  ``/stats/prometheus`` (for scrapers) and ``/ready`` (for the kubelet's probes) by proxying to the
  admin port, and nothing else; an optional DogStatsD sink to the node's agent.

Shutdown (native sidecar)
-------------------------
The sidecar is an initContainer with ``restartPolicy: Always``. On pod deletion the kubelet stops
the app containers first (their preStop, SIGTERM, exit) and only then runs the sidecar's preStop
and sends it SIGTERM. Envoy itself exits promptly on SIGTERM without draining, so the drain lives
in the preStop hook (:func:`prestop_command`), which uses only bash (present in the
``envoyproxy/envoy`` image; no curl needed):

1. ``POST /healthcheck/fail``: ``health_path`` and ``/ready`` answer 503 from now on, so the ALB
   and the kubelet stop sending new work;
2. ``POST /drain_listeners?graceful``: for ``drain_time_s`` Envoy keeps accepting but asks every
   client to go away (``Connection: close`` on HTTP/1.1, GOAWAY on HTTP/2), spread out when
   ``drain_strategy`` is ``gradual``; then it closes its listeners (new connections are refused)
   while requests already in flight carry on;
3. wait until no request is in flight (polling the admin stats), for at most the longest
   configured request timeout;
4. the hook returns; the kubelet sends SIGTERM; Envoy exits.

:func:`shutdown_budget_seconds` returns the seconds this takes at most; the pod's
``terminationGracePeriodSeconds`` must cover the app's own shutdown *plus* this budget (the
kubelet counts the whole pod against one grace period).
"""

from __future__ import annotations

from .bootstrap import build_bootstrap, config_map_data, render_bootstrap_yaml
from .container import envoy_args, sidecar_container
from .drain import max_request_seconds, prestop_command, shutdown_budget_seconds
from .egress import dependency_address, dependency_cluster_name
from .settings import (
    ADMIN_CLUSTER,
    APP_CLUSTER,
    ENVOY_CONFIG_DIR,
    ENVOY_CONFIG_KEY,
    ENVOY_IMAGE,
    ENVOY_UID,
    ENVOY_VERSION,
    INGRESS_STAT_PREFIX,
    LOG_LEVELS,
    RETRY_ON_VALUES,
    CircuitBreakers,
    DogStatsd,
    DrainStrategy,
    EnvoyDependency,
    EnvoySettings,
    OutlierDetection,
    Protocol,
    RetryPolicy,
)
from .validation import envoy_problems, validate_envoy_settings

__all__ = [
    "ADMIN_CLUSTER",
    "APP_CLUSTER",
    "ENVOY_CONFIG_DIR",
    "ENVOY_CONFIG_KEY",
    "ENVOY_IMAGE",
    "ENVOY_UID",
    "ENVOY_VERSION",
    "INGRESS_STAT_PREFIX",
    "LOG_LEVELS",
    "RETRY_ON_VALUES",
    "CircuitBreakers",
    "DogStatsd",
    "DrainStrategy",
    "EnvoyDependency",
    "EnvoySettings",
    "OutlierDetection",
    "Protocol",
    "RetryPolicy",
    "build_bootstrap",
    "config_map_data",
    "dependency_address",
    "dependency_cluster_name",
    "envoy_args",
    "envoy_problems",
    "max_request_seconds",
    "prestop_command",
    "render_bootstrap_yaml",
    "shutdown_budget_seconds",
    "sidecar_container",
    "validate_envoy_settings",
]

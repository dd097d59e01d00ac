"""Envoy sidecar: typed settings -> validated -> Envoy v3 bootstrap (dict / YAML) -> container spec.

Shortest real use::

    from eksplatform.envoy import EnvoyDependency, EnvoySettings, config_map_data, sidecar_container

    settings = EnvoySettings(
        service_name="feed",
        app_port=8080,
        dependencies=(
            EnvoyDependency(name="users", namespace="identity", port=80, egress_port=15101),
            EnvoyDependency(name="ranker", namespace="ml", port=50051, egress_port=15102,
                            protocol="http2", max_concurrent_streams=16),
        ),
    )
    data = config_map_data(settings)          # {"envoy.yaml": "<bootstrap>"} for the ConfigMap
    container = sidecar_container(settings)   # native sidecar (initContainer, restartPolicy Always)

The builder is pure: it imports nothing from Pulumi's runtime (only the typed
``pulumi_kubernetes`` argument classes for :func:`sidecar_container`) and never touches the network.

One module per concern:

* :mod:`.settings`: the settings and their defaults; :mod:`.validation`: every check, all
  problems at once, before any YAML.
* :mod:`.ingress`: the pod-facing listener (``listen_address:ingress_port``, the Kubernetes
  Service's ``targetPort``): health route for the ALB (``health_path``: 200 only while the
  app's readiness passes Envoy's active check and Envoy is not draining), every stage of a
  request bounded in time, retries that never repeat work, escaped-slash handling; the app
  cluster on ``127.0.0.1:app_port``; the stats listener (``stats_port``: exactly
  ``/stats/prometheus`` and ``/ready``); admin on ``127.0.0.1:admin_port`` only.
* :mod:`.egress`: one listener on ``127.0.0.1:<egress_port>`` per dependency, forwarding to
  ``<service>.<namespace>.svc.cluster.local:<port>`` (STRICT_DNS; name a headless Service so
  Envoy balances per pod) with timeouts, method-aware retries (a POST is sent once unless the
  dependency opts in), ``Retry-After``, retry budget, circuit breakers, outlier detection and
  HTTP/2 stream limits.
* :mod:`._http`: the connection manager every listener shares; its first filter strips
  ``x-envoy-*`` request headers, so clients steer nothing and forge nothing in the access log.
* :mod:`.memory`: buffer limits, heap cap, connection cap and container size, from measurement.
* :mod:`.drain`: the preStop hook, a drain that ramps, and its timing against the app and ALB.
* :mod:`.bootstrap` assembles the bootstrap; :mod:`.container` the command line and the
  native sidecar container.

Observability: JSON access logs on stdout (ingress and egress), Prometheus on ``stats_port``, an
optional DogStatsD sink to the node's agent.
"""

from __future__ import annotations

from .bootstrap import build_bootstrap, config_map_data, render_bootstrap_yaml
from .container import envoy_args, sidecar_container
from .drain import max_request_seconds, prestop_command, shutdown_budget_seconds
from .egress import dependency_address, dependency_cluster_name
from .settings import (
    ADMIN_CLUSTER,
    APP_CLUSTER,
    DEFAULT_MEMORY_LIMIT_MIB,
    ENVOY_CONFIG_DIR,
    ENVOY_CONFIG_KEY,
    ENVOY_IMAGE,
    ENVOY_UID,
    ENVOY_VERSION,
    ESCAPED_SLASHES,
    IDEMPOTENT_METHODS,
    INGRESS_STAT_PREFIX,
    LOG_LEVELS,
    NEVER_PROCESSED_RETRY_ON,
    RETRY_ON_VALUES,
    CircuitBreakers,
    DogStatsd,
    DrainStrategy,
    EnvoyDependency,
    EnvoySettings,
    EscapedSlashes,
    OutlierDetection,
    Protocol,
    RetryPolicy,
)
from .validation import envoy_problems, validate_envoy_settings

__all__ = [
    "ADMIN_CLUSTER",
    "APP_CLUSTER",
    "DEFAULT_MEMORY_LIMIT_MIB",
    "ENVOY_CONFIG_DIR",
    "ENVOY_CONFIG_KEY",
    "ENVOY_IMAGE",
    "ENVOY_UID",
    "ENVOY_VERSION",
    "ESCAPED_SLASHES",
    "IDEMPOTENT_METHODS",
    "INGRESS_STAT_PREFIX",
    "LOG_LEVELS",
    "NEVER_PROCESSED_RETRY_ON",
    "RETRY_ON_VALUES",
    "CircuitBreakers",
    "DogStatsd",
    "DrainStrategy",
    "EnvoyDependency",
    "EnvoySettings",
    "EscapedSlashes",
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

"""The sidecar as Kubernetes sees it: Envoy's command line, the preStop drain, the shutdown
budget and the native sidecar container spec."""

from __future__ import annotations

import json
import math

from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    ContainerPortArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    ExecActionArgs,
    HTTPGetActionArgs,
    LifecycleArgs,
    LifecycleHandlerArgs,
    ObjectFieldSelectorArgs,
    ProbeArgs,
    VolumeMountArgs,
)

from ..core import kube
from .bootstrap import _dogstatsd_sink
from .settings import ENVOY_CONFIG_DIR, ENVOY_CONFIG_KEY, ENVOY_IMAGE, ENVOY_UID, EnvoySettings
from .validation import validate_envoy_settings


def envoy_args(
    settings: EnvoySettings,
    config_path: str = f"{ENVOY_CONFIG_DIR}/{ENVOY_CONFIG_KEY}",
    *,
    node_ip: str = "$(HOST_IP)",
) -> list[str]:
    """Envoy's command-line arguments (after the ``envoy`` executable) for ``settings``.

    ``node_ip`` is only used for a DogStatsD sink without a fixed host; in the pod it is the
    ``$(HOST_IP)`` reference the kubelet expands from the downward-API env var.
    """
    validate_envoy_settings(settings)
    s = settings
    args = [
        "-c", config_path,
        "--concurrency", str(s.concurrency),
        "--drain-time-s", str(s.drain_time_s),
        "--drain-strategy", s.drain_strategy,
        "--log-level", s.log_level,
        # Access-log lines reach stdout within 1 s (Envoy's default buffers up to 10 s).
        "--file-flush-interval-msec", "1000",
        # No hot restart in a pod (a restart is a new container): no shared memory needed.
        "--disable-hot-restart",
    ]  # fmt: skip
    if s.dogstatsd is not None and s.dogstatsd.host is None:
        overlay = {"stats_sinks": [_dogstatsd_sink(s.dogstatsd, node_ip)]}
        args += ["--config-yaml", json.dumps(overlay, sort_keys=True, separators=(",", ":"))]
    return args


def max_request_seconds(settings: EnvoySettings) -> float:
    """Longest a request may stay in flight: the largest ingress or dependency route timeout."""
    return max(
        [float(settings.request_timeout_s)] + [float(d.timeout_s) for d in settings.dependencies]
    )


def shutdown_budget_seconds(settings: EnvoySettings) -> int:
    """Seconds the sidecar needs from the start of its preStop hook to exit, at most.

    drain period + in-flight wait (the longest route timeout) + 2 s for the admin calls and
    SIGTERM. Size the pod's ``terminationGracePeriodSeconds`` as the app's own shutdown time
    (its preStop sleep + shutdown) plus this.
    """
    validate_envoy_settings(settings)
    return int(settings.drain_time_s + math.ceil(max_request_seconds(settings)) + 2)


def prestop_command(settings: EnvoySettings) -> list[str]:
    """The sidecar's preStop exec command: fail health checks, drain, wait for in-flight requests.

    Pure bash (``/dev/tcp``), so it runs in the official image, which has no curl.
    """
    validate_envoy_settings(settings)
    s = settings
    wait = math.ceil(max_request_seconds(s))
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
            "admin POST '/drain_listeners?graceful' >/dev/null",
            f"sleep {s.drain_time_s}",
            f"deadline=$((SECONDS + {wait}))",
            'while [ "$SECONDS" -lt "$deadline" ]; do',
            "  admin GET '/stats?filter=^http[.](ingress|egress)_.*[.]downstream_rq_active$'"
            " | grep -Eq 'downstream_rq_active: [1-9]' || break",
            "  sleep 1",
            "done",
            "exit 0",
        ]
    )
    return ["/bin/bash", "-c", script]


def sidecar_container(
    settings: EnvoySettings,
    *,
    name: str = "envoy",
    image: str = ENVOY_IMAGE,
    config_volume: str = "envoy-config",
    cpu_request: str = "100m",
    memory: str = "64Mi",
) -> ContainerArgs:
    """The Envoy native sidecar: put it in the pod's ``init_containers``.

    ``restart_policy="Always"`` makes it a native sidecar (Kubernetes >= 1.29): started (startup
    probe passed) before the app, stopped after it. ``config_volume`` must name a pod volume
    backed by a ConfigMap holding :func:`config_map_data`. Memory limit equals the request (no
    overcommit; an OOM-killed sidecar takes the pod's traffic with it); no CPU limit (throttling
    an L7 proxy adds tail latency to every request).
    """
    validate_envoy_settings(settings)
    s = settings
    env = None
    if s.dogstatsd is not None and s.dogstatsd.host is None:
        env = [
            EnvVarArgs(
                name="HOST_IP",
                value_from=EnvVarSourceArgs(
                    field_ref=ObjectFieldSelectorArgs(field_path="status.hostIP")
                ),
            )
        ]
    ready = HTTPGetActionArgs(path="/ready", port=s.stats_port)
    return ContainerArgs(
        name=name,
        image=image,
        command=["envoy"],
        args=envoy_args(s),
        env=env,
        restart_policy="Always",
        ports=[
            ContainerPortArgs(name="envoy-http", container_port=s.ingress_port, protocol="TCP"),
            ContainerPortArgs(name="envoy-prom", container_port=s.stats_port, protocol="TCP"),
        ],
        startup_probe=ProbeArgs(
            http_get=ready, period_seconds=1, failure_threshold=30, timeout_seconds=1
        ),
        readiness_probe=ProbeArgs(
            http_get=ready, period_seconds=5, failure_threshold=2, timeout_seconds=1
        ),
        resources=kube.resources(cpu_request, memory),
        security_context=kube.container_security_context(uid=ENVOY_UID),
        volume_mounts=[
            VolumeMountArgs(name=config_volume, mount_path=ENVOY_CONFIG_DIR, read_only=True)
        ],
        lifecycle=LifecycleArgs(
            pre_stop=LifecycleHandlerArgs(exec_=ExecActionArgs(command=prestop_command(s)))
        ),
    )

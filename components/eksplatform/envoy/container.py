"""The sidecar as Kubernetes sees it: Envoy's command line and the native sidecar container
spec (its preStop drain is :mod:`.drain`)."""

from __future__ import annotations

import json

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
from ..core.errors import Problems
from .bootstrap import _dogstatsd_sink
from .drain import prestop_command
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


def sidecar_container(
    settings: EnvoySettings,
    *,
    name: str = "envoy",
    image: str = ENVOY_IMAGE,
    config_volume: str = "envoy-config",
    cpu_request: str = "100m",
    memory: str | None = None,
) -> ContainerArgs:
    """The Envoy native sidecar: put it in the pod's ``init_containers``.

    ``restart_policy="Always"`` makes it a native sidecar (Kubernetes >= 1.29): started (startup
    probe passed) before the app, stopped after it. ``config_volume`` must name a pod volume
    backed by a ConfigMap holding :func:`config_map_data`. Memory limit equals the request (no
    overcommit; an OOM-killed sidecar takes the pod's traffic with it), both
    ``settings.memory_limit_mib``, which the overload manager's heap cap is derived from;
    ``memory``, when given, must be that same size. No CPU limit (throttling an L7 proxy adds
    tail latency to every request).
    """
    validate_envoy_settings(settings)
    s = settings
    limit = f"{s.memory_limit_mib}Mi"
    if memory is not None:
        try:
            same = kube.parse_memory(memory) // 2**20 == s.memory_limit_mib
        except ValueError:
            same = False
        if not same:
            problems = Problems()
            problems.add(
                "memory",
                memory,
                f"must be the size the bootstrap's heap cap is derived from ({limit}): set "
                "memory_limit_mib in the settings instead",
            )
            problems.raise_if_any(f"Envoy sidecar container for {s.service_name!r}")
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
        resources=kube.resources(cpu_request, memory or limit),
        security_context=kube.container_security_context(uid=ENVOY_UID),
        volume_mounts=[
            VolumeMountArgs(name=config_volume, mount_path=ENVOY_CONFIG_DIR, read_only=True)
        ],
        lifecycle=LifecycleArgs(
            pre_stop=LifecycleHandlerArgs(exec_=ExecActionArgs(command=prestop_command(s)))
        ),
    )

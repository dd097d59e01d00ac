"""Every bootstrap in a matrix of settings passes ``envoy --mode validate``, deprecation-free."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.envoy import (
    ENVOY_VERSION,
    CircuitBreakers,
    DogStatsd,
    EnvoyDependency,
    EnvoySettings,
    OutlierDetection,
    RetryPolicy,
    build_bootstrap,
    envoy_args,
    render_bootstrap_yaml,
)

pytestmark = pytest.mark.envoy  # runs the real binary


def _dep(name: str, egress_port: int, **kw: Any) -> EnvoyDependency:
    kw.setdefault("namespace", "team-a")
    return EnvoyDependency(name=name, egress_port=egress_port, **kw)


MATRIX: dict[str, EnvoySettings] = {
    "defaults-no-deps": EnvoySettings(service_name="feed"),
    "http1-deps": EnvoySettings(
        service_name="feed",
        dependencies=(_dep("users", 15101), _dep("orders", 15102, port=8080, service="orders-v2")),
    ),
    "http2-grpc-deps": EnvoySettings(
        service_name="feed",
        app_protocol="http2",
        dependencies=(
            _dep("ranker", 15101, port=50051, protocol="http2"),
            _dep("search", 15102, port=9090, protocol="http2", namespace="search"),
            _dep("users", 15103),
        ),
    ),
    "dogstatsd-fixed-host": EnvoySettings(
        service_name="feed", dogstatsd=DogStatsd(host="10.0.0.10", port=8126, prefix="svc.feed")
    ),
    "dogstatsd-node-ip": EnvoySettings(
        service_name="feed", dependencies=(_dep("users", 15101),), dogstatsd=DogStatsd()
    ),
    "custom-timeouts-and-limits": EnvoySettings(
        service_name="checkout",
        app_port=3000,
        ingress_port=8443,
        admin_port=9901,
        stats_port=9902,
        request_timeout_s=0.75,
        app_connect_timeout_s=0.05,
        idle_timeout_s=3600,
        request_headers_timeout_s=0.5,
        request_receive_timeout_s=0.5,
        stream_idle_timeout_s=0.001,
        app_idle_timeout_s=4.5,
        max_request_headers_kb=8192,
        max_downstream_connections=1,
        buffer_limit_kib=4,
        max_concurrent_streams=1,
        escaped_slashes="reject",
        memory_limit_mib=91,
        app_health_path="/healthz/ready",
        app_health_check_interval_s=0.1,
        health_path="/lb-health",
        drain_time_s=300,
        drain_strategy="immediate",
        concurrency=64,
        log_level="error",
        access_log=False,
        dependencies=(
            _dep(
                "payments",
                15101,
                address="10.1.2.3",
                connect_timeout_s=0.001,
                timeout_s=3600,
                idle_timeout_s=0.001,
                retries=RetryPolicy(
                    num_retries=10,
                    per_try_timeout_s=0.001,
                    max_retry_after_s=3600,
                    backoff_base_s=0.001,
                    retry_on=("gateway-error", "refused-stream", "unavailable"),
                    non_idempotent_retry_on=(),
                    budget_percent=100,
                    min_retry_concurrency=1,
                ),
                circuit_breakers=CircuitBreakers(
                    max_connections=1, max_pending_requests=1, max_requests=1
                ),
                outlier_detection=OutlierDetection(
                    consecutive_5xx=1,
                    interval_s=0.001,
                    base_ejection_time_s=3600,
                    max_ejection_percent=0,
                ),
            ),
            _dep("no-retries", 15102, retries=RetryPolicy(num_retries=0)),
        ),
    ),
    "large-limits-opt-in-retries": EnvoySettings(
        service_name="uploads",
        request_receive_timeout_s=3600,
        request_timeout_s=3600,
        stream_idle_timeout_s=3600,
        app_idle_timeout_s=3600,
        buffer_limit_kib=1024,
        max_concurrent_streams=2**31 - 1,
        escaped_slashes="unescape_and_forward",
        memory_limit_mib=65536,
        max_downstream_connections=20_000,
        dependencies=(
            _dep(
                "ledger",
                15101,
                protocol="http2",
                max_concurrent_streams=1,
                idle_timeout_s=3600,
                retries=RetryPolicy(
                    non_idempotent_retry_on=("5xx", "reset", "connect-failure"),
                    max_retry_after_s=5,
                    backoff_base_s=5,
                ),
            ),
            _dep("stream", 15102, protocol="http2", max_concurrent_streams=2**31 - 1),
        ),
    ),
    "escaped-slashes-keep": EnvoySettings(service_name="files", escaped_slashes="keep"),
    "many-deps": EnvoySettings(
        service_name="gateway",
        dependencies=tuple(
            _dep(f"svc-{i}", 16000 + i, protocol="http2" if i % 2 else "http1") for i in range(20)
        ),
    ),
}


def _validate(
    envoy_bin: str, settings: EnvoySettings, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "envoy.yaml"
    config.write_text(render_bootstrap_yaml(settings))
    args = envoy_args(settings, str(config), node_ip="127.0.0.1")
    return subprocess.run(
        [envoy_bin, "--mode", "validate", *args], capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize("settings", list(MATRIX.values()), ids=list(MATRIX))
def test_bootstrap_passes_envoy_validate(
    envoy_bin: str, settings: EnvoySettings, tmp_path: Path
) -> None:
    result = _validate(envoy_bin, settings, tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"configuration '{tmp_path / 'envoy.yaml'}' OK" in result.stdout
    assert "Deprecated" not in result.stderr, result.stderr[-4000:]


def test_validate_rejects_a_broken_bootstrap(envoy_bin: str, tmp_path: Path) -> None:
    """The check above has teeth: one wrong field name fails validation."""
    bootstrap = build_bootstrap(MATRIX["http1-deps"])
    cluster = bootstrap["static_resources"]["clusters"][2]
    cluster["circuit_breakers"]["thresholds"][0]["max_connection"] = 1  # typo of max_connections
    config = tmp_path / "broken.yaml"
    config.write_text(yaml.safe_dump(bootstrap))
    result = subprocess.run(
        [envoy_bin, "--mode", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "max_connection" in result.stderr + result.stdout


def test_tested_binary_matches_the_pinned_image(envoy_bin: str) -> None:
    result = subprocess.run([envoy_bin, "--version"], capture_output=True, text=True, timeout=30)
    assert f"/{ENVOY_VERSION}/" in result.stdout, result.stdout


def test_matrix_covers_the_documented_axes() -> None:
    protocols = {d.protocol for s in MATRIX.values() for d in s.dependencies}
    assert protocols == {"http1", "http2"}
    assert any(s.dogstatsd is None for s in MATRIX.values())
    assert any(s.dogstatsd and s.dogstatsd.host for s in MATRIX.values())
    assert any(s.dogstatsd and s.dogstatsd.host is None for s in MATRIX.values())
    assert any(not s.dependencies for s in MATRIX.values())
    assert any(not s.access_log for s in MATRIX.values())
    assert len({repr(s) for s in MATRIX.values()}) == len(MATRIX)  # no two cases alike

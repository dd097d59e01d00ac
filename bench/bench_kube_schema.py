"""Micro-benchmark: KubeSchemaValidator vs kubernetes_validate.validate on the same manifests.

Run from the repository root:

    PYTHONPATH=components python bench/bench_kube_schema.py [--version 1.31] [--seconds 2]

Prints, for a realistic Deployment and for a mix of common objects, the per-object time of
``kubernetes_validate.validate`` (re-reads the schema files each call, stops at the first error) and
of our validator (built once, warm), measured side by side in one run, plus the one-off costs:
loading a version and building the validator for the first object of a kind. Takes ~10 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from eksplatform.preview.kube_schema import KubeSchemaValidator


def _container(name: str, port: int) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    return {
        "name": name,
        "image": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{name}:1.2.3",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": 1, "memory": "256Mi"},
        },
        "livenessProbe": probe,
        "readinessProbe": probe,
        "startupProbe": {"tcpSocket": {"port": port}, "failureThreshold": 30},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment() -> dict[str, Any]:
    """2 containers + native sidecar initContainer (restartPolicy Always), probes, resources."""
    labels = {"app.kubernetes.io/name": "orders"}
    sidecar = {**_container("envoy", 9901), "restartPolicy": "Always"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "orders", "namespace": "shop", "labels": labels},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": labels},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "orders",
                    "securityContext": {
                        "runAsUser": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": [sidecar],
                    "containers": [_container("app", 8080), _container("worker", 8081)],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def mix() -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": "orders"}
    meta = {"name": "orders", "namespace": "shop"}
    return [
        deployment(),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "type": "NodePort",
                "selector": labels,
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "b"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta,
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "orders"},
                "minReplicas": 3,
                "maxReplicas": 12,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {"minAvailable": "50%", "selector": {"matchLabels": labels}},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": {"matchLabels": labels},
                "ingress": [{"ports": [{"port": "http"}]}],
            },
        },
    ]


def per_call_ms(fn: Callable[[], object], budget_s: float, min_calls: int = 5) -> float:
    """Median per-call time in ms over batches, spending about ``budget_s`` seconds."""
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-6)
    batch = max(1, int(0.05 / one))
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < min_calls or time.perf_counter() < deadline:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t0) / batch * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.31")
    parser.add_argument("--seconds", type=float, default=2.0, help="budget per measurement")
    args = parser.parse_args()

    # One-off costs first, while nothing is cached in this process.
    t0 = time.perf_counter()
    ours = KubeSchemaValidator.for_version(args.version)
    load_ms = (time.perf_counter() - t0) * 1000
    dep = deployment()
    t0 = time.perf_counter()
    first_errors = ours.validate(dep)
    first_ms = (time.perf_counter() - t0) * 1000
    assert first_errors == [], first_errors

    import kubernetes_validate  # type: ignore[import-untyped]  # untyped third-party package

    def theirs(obj: dict[str, Any]) -> None:
        kubernetes_validate.validate(obj, args.version, strict=True)

    objects = mix()
    for obj in objects:  # both must accept every object, or the comparison is meaningless
        assert ours.validate(obj) == [], (obj["kind"], ours.validate(obj))
        theirs(obj)

    print(f"Kubernetes {args.version}, strict schemas, kubernetes-validate bundled files")
    print(f"  one-off: load version (_definitions.json + registry): {load_ms:7.2f} ms")
    print(f"  one-off: first Deployment (build validator + resolve $refs): {first_ms:7.2f} ms")
    print()
    print(f"  {'workload':<34}{'kubernetes_validate':>20}{'ours (warm)':>14}{'ratio':>9}")
    rows = [
        ("realistic Deployment (3 containers)", [dep]),
        (f"mix of {len(objects)} kinds (per object)", objects),
    ]
    for label, batch in rows:

        def run_theirs(batch: list[dict[str, Any]] = batch) -> None:
            for obj in batch:
                theirs(obj)

        def run_ours(batch: list[dict[str, Any]] = batch) -> None:
            for obj in batch:
                ours.validate(obj)

        theirs_ms = per_call_ms(run_theirs, args.seconds) / len(batch)
        ours_ms = per_call_ms(run_ours, args.seconds) / len(batch)
        print(f"  {label:<34}{theirs_ms:>17.3f} ms{ours_ms:>11.3f} ms{theirs_ms / ours_ms:>8.1f}x")


if __name__ == "__main__":
    main()

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
    fleet_throughput(ours, args.seconds)


FLEET_N = 20
THROUGHPUT_GOAL = 2000.0


def fleet_objects() -> list[dict[str, Any]]:
    """The Kubernetes objects of the fleet benchmark's program (bench_fleet.py) at N=20,
    rendered by an offline preview in this process."""
    import importlib.util
    import pathlib
    import tempfile

    from eksplatform.preview.engine import Workspace, run_preview

    spec = importlib.util.spec_from_file_location(
        "bench_fleet", pathlib.Path(__file__).with_name("bench_fleet.py")
    )
    assert spec is not None and spec.loader is not None
    bench_fleet: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_fleet)
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "repo"
        root.mkdir()
        bench_fleet._workspace(root, (FLEET_N,))
        result = run_preview(
            Workspace(root, pathlib.Path(tmp) / "build"), "services/fleet", f"n{FLEET_N}"
        )
        if not result.ok:
            raise SystemExit(f"fleet preview failed: {[d.message for d in result.diagnostics]}")
        return [m.body for m in result.manifests]


def fleet_throughput(ours: KubeSchemaValidator, seconds: float) -> None:
    """Objects per second on one core for the fleet's mix: the compiled check first (what the
    preview does), and jsonschema alone (what it did before), warm, side by side."""
    objects = fleet_objects()
    kinds = sorted({o["kind"] for o in objects})
    for obj in objects:
        assert ours.validate(obj) == [] == ours.validate_with_jsonschema(obj), obj["kind"]

    def run(check: Callable[[dict[str, Any]], object]) -> Callable[[], None]:
        def all_objects() -> None:
            for obj in objects:
                check(obj)

        return all_objects

    fast_ms = per_call_ms(run(ours.validate), seconds) / len(objects)
    slow_ms = per_call_ms(run(ours.validate_with_jsonschema), seconds) / len(objects)
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    dep_fast = per_call_ms(lambda: [ours.validate(o) for o in deployments], seconds / 2)
    dep_slow = per_call_ms(
        lambda: [ours.validate_with_jsonschema(o) for o in deployments], seconds / 2
    )
    print()
    print(
        f"  fleet mix ({len(objects)} objects of bench_fleet's program at N={FLEET_N}: "
        f"{', '.join(kinds)}), one core, warm:"
    )
    print(
        f"    compiled check first  {1000 / fast_ms:8.0f} objects/s   "
        f"jsonschema alone {1000 / slow_ms:6.0f} objects/s   {slow_ms / fast_ms:5.1f}x  "
        f"(goal >= {THROUGHPUT_GOAL:.0f}/s: {'met' if 1000 / fast_ms >= THROUGHPUT_GOAL else 'NOT met'})"
    )
    print(
        f"    Deployments only      {len(deployments) / dep_fast * 1000:8.0f} objects/s   "
        f"jsonschema alone {len(deployments) / dep_slow * 1000:6.0f} objects/s"
    )


if __name__ == "__main__":
    main()

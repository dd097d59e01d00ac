"""Benchmark: one service program with N synthetic ServiceStacks (N = 25, 50, 100, 200).

A company with a hundred services previews them in CI on every change, so the cost of one more
ServiceStack must stay flat. For each N this previews, offline, a scratch program that builds N
ServiceStacks against the staging cluster's offline outputs (half with an ALB and alarms, every
one with an Envoy dependency), in a fresh process per run, runs interleaved across N and
repeated. It prints the in-process time (program run + manifest rendering + schema check; the
interpreter start-up and imports are the same for every N and are printed apart), the
per-service marginal time ``(t(200) - t(25)) / 175`` and the ratio ``t(200) / t(100)``.

Goals: marginal < 30 ms per service; ratio < 2.1 (linear).

    python bench/bench_fleet.py              (BENCH_REPEATS=3 by default)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = (25, 50, 100, 200)
MARGINAL_GOAL_MS = 30.0
RATIO_GOAL = 2.1

_PROGRAM = '''\
"""N synthetic services (bench/bench_fleet.py)."""

import pulumi

from eksplatform.service import Dependency, Ingress, ServiceStack, ServiceStackArgs

count = pulumi.Config("fleet").require_int("count")
registry = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
for i in range(count):
    name = f"svc{i:03d}"
    ServiceStack(
        name,
        ServiceStackArgs(
            team="news" if i % 2 else "media",
            image=f"{registry}/fleet/{name}:1.0.{i}",
            port=8080,
            dependencies=[Dependency(name=f"svc{(i + 1) % count:03d}", team="news" if (i + 1) % 2 else "media")],
            ingress=Ingress(public=True) if i % 2 == 0 else None,
        ),
    )
'''

_RUN = r"""
import json, sys, time, pathlib
t0 = time.perf_counter()
from eksplatform.preview.engine import Workspace, run_preview
t1 = time.perf_counter()
ws = Workspace(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
result = run_preview(ws, "services/fleet", sys.argv[3])
if not result.ok:
    print(json.dumps({"error": [d.message for d in result.diagnostics]}))
    sys.exit(1)
print(json.dumps({"import": t1 - t0, "run": result.timings["run"],
                  "render": result.timings["render"], "validate": result.timings["validate"],
                  "resources": len(result.resources), "manifests": len(result.manifests)}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "components") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _workspace(root: Path) -> None:
    """A copy of the cluster project plus the fleet program with one stack per N."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "cluster", root / "cluster", ignore=shutil.ignore_patterns("__py*"))
    fleet = root / "services" / "fleet"
    fleet.mkdir(parents=True)
    (fleet / "Pulumi.yaml").write_text("name: fleet\nruntime: python\n")
    (fleet / "__main__.py").write_text(_PROGRAM)
    for n in SIZES:
        (fleet / f"Pulumi.n{n}.yaml").write_text(
            f"config:\n  fleet:count: {n}\n  fleet:clusterStack: organization/eks-platform/staging\n"
            '  aws:region: eu-west-1\n  aws:allowedAccountIds: ["111111111111"]\n'
        )


def _run(root: Path, build: Path, n: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(root), str(build), f"n{n}"],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"fleet preview n={n} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    times: dict[int, list[float]] = {n: [] for n in SIZES}
    phases: dict[int, dict[str, list[float]]] = {
        n: {"run": [], "render": [], "validate": []} for n in SIZES
    }
    imports: list[float] = []
    counts: dict[int, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root, build = Path(tmp) / "repo", Path(tmp) / "build"
        root.mkdir()
        _workspace(root)
        _run(root, build, SIZES[0])  # synthesizes the cluster outputs once; not measured
        for r in range(repeats):
            order = SIZES if r % 2 == 0 else tuple(reversed(SIZES))
            for n in order:
                m = _run(root, build, n)
                times[n].append(m["run"] + m["render"] + m["validate"])
                for phase, samples in phases[n].items():
                    samples.append(m[phase])
                imports.append(m["import"])
                counts[n] = (int(m["resources"]), int(m["manifests"]))
    med = {n: statistics.median(v) for n, v in times.items()}
    print(
        f"Fleet preview: one program with N ServiceStacks ({repeats} interleaved runs per N, "
        f"{os.cpu_count()} cores; fresh process per run)"
    )
    print(f"  import (same for every N): {statistics.median(imports) * 1000:.0f} ms median")
    for n in SIZES:
        res, man = counts[n]
        spread = f"{min(times[n]):.2f}-{max(times[n]):.2f}"
        print(
            f"  N={n:<4} {med[n]:6.2f} s  ({spread})  {med[n] / n * 1000:6.1f} ms/service  "
            f"{res} resources, {man} manifests"
        )
        split = ", ".join(
            f"{phase} {statistics.median(samples):.2f} s" for phase, samples in phases[n].items()
        )
        print(f"           split (medians): {split}")
    marginal_ms = (med[200] - med[25]) / 175 * 1000
    ratio = med[200] / med[100]
    print(
        f"  per-service marginal (t200 - t25) / 175: {marginal_ms:.1f} ms "
        f"= {marginal_ms / MARGINAL_GOAL_MS:.2f} x the {MARGINAL_GOAL_MS:.0f} ms goal"
    )
    print(f"  ratio t(200) / t(100): {ratio:.2f} (goal < {RATIO_GOAL}; 2.0 is linear)")


if __name__ == "__main__":
    main()

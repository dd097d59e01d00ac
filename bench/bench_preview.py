"""Benchmark: offline preview of the cluster program.

Prints, per stack: wall time of a fresh-process preview (what `make preview PROGRAM=cluster
STACK=<s>` costs, Python start-up included), and the in-process split into import, program run,
rendering and schema validation. Runs are interleaved across stacks and repeated; the median is
shown with the min-max spread, and each figure as a ratio of the 3 s goal.

    python bench/bench_preview.py            (BENCH_REPEATS=5 by default)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 3.0
STACKS = ("staging", "prod")

_IN_PROCESS = r"""
import json, sys, time
t0 = time.perf_counter()
import pulumi, pulumi_aws, pulumi_eks, pulumi_kubernetes  # noqa: F401
import eksplatform.cluster
import eksplatform.service  # noqa: F401
from eksplatform.preview.engine import Workspace, run_preview, write_result
t1 = time.perf_counter()
ws = Workspace(__import__("pathlib").Path(sys.argv[1]), __import__("pathlib").Path(sys.argv[2]))
result = run_preview(ws, "cluster", sys.argv[3])
t2 = time.perf_counter()
write_result(ws, result)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "run": result.timings["run"],
                  "render": result.timings["render"], "validate": result.timings["validate"],
                  "write": t3 - t2, "resources": len(result.resources),
                  "manifests": len(result.manifests), "ok": result.ok}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "components") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def wall(stack: str, build: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "eksplatform.preview",
            "--root",
            str(REPO),
            "--build-dir",
            str(build),
            "--program",
            "cluster",
            "--stack",
            stack,
            "--quiet",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"preview of {stack} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def split(stack: str, build: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, str(REPO), str(build), stack],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def fmt(values: list[float]) -> str:
    med = statistics.median(values)
    return (
        f"{med * 1000:7.0f} ms  ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})  "
        f"{med / GOAL_S:5.2f} x goal"
    )


def main() -> None:
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    walls: dict[str, list[float]] = {s: [] for s in STACKS}
    parts: dict[str, dict[str, list[float]]] = {s: {} for s in STACKS}
    counts: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        for s in STACKS:  # warm the OS file cache once; not measured
            wall(s, build)
        for _ in range(repeats):
            for s in STACKS:
                walls[s].append(wall(s, build))
                sp = split(s, build)
                counts[s] = (int(sp.pop("resources")), int(sp.pop("manifests")))
                sp.pop("ok")
                for k, v in sp.items():
                    parts[s].setdefault(k, []).append(v)
    print(
        f"Cluster program offline preview ({repeats} interleaved runs per stack, "
        f"{os.cpu_count()} cores; goal: < {GOAL_S:.0f} s wall per stack)"
    )
    for s in STACKS:
        res, man = counts[s]
        print(f"\n  stack {s}: {res} resources, {man} Kubernetes manifests")
        print(f"    fresh-process wall   {fmt(walls[s])}")
        total = [sum(parts[s][k][i] for k in parts[s]) for i in range(repeats)]
        for k in ("import", "run", "render", "validate", "write"):
            share = statistics.median(parts[s][k]) / statistics.median(total)
            print(f"    in-process {k:<9} {fmt(parts[s][k])}  {share:5.1%} of in-process")
        rest = [w - t for w, t in zip(walls[s], total, strict=True)]
        print(f"    rest (start-up, exit){fmt(rest)}")


if __name__ == "__main__":
    main()

"""Benchmark: what the guardrail policy pack adds to an offline cluster preview.

Side by side in one run, interleaved and repeated: the wall time of a fresh-process cluster
preview (what `make preview PROGRAM=cluster STACK=<s>` costs) of the repo, which has the pack
(``policy/PulumiPolicy.yaml``), and of a copy of the same cluster project without it. Prints the
medians, the min-max spread, the overhead as a ratio of the preview without the pack (goal:
under 10%), and the pack's own in-process time (``timings["policy"]``) per stack.

    python bench/bench_policy.py            (BENCH_REPEATS=5 by default)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL = 0.10
STACKS = ("staging", "prod")

_POLICY_TIME = r"""
import json, sys
from pathlib import Path
from eksplatform.preview.engine import Workspace, run_preview
ws = Workspace(Path(sys.argv[1]), Path(sys.argv[2]))
result = run_preview(ws, "cluster", sys.argv[3])
print(json.dumps({"ok": result.ok, "policy": result.timings.get("policy", 0.0),
                  "resources": len(result.resources)}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "components") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _copy_without_pack(dest: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, dest / name)
    shutil.copytree(
        REPO / "cluster", dest / "cluster", ignore=shutil.ignore_patterns("__pycache__")
    )
    return dest


def wall(root: Path, build: Path, stack: str) -> float:
    cmd = [
        sys.executable,
        "-m",
        "eksplatform.preview",
        "--root",
        str(root),
        "--build-dir",
        str(build),
        "--program",
        "cluster",
        "--stack",
        stack,
        "--quiet",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"preview of {root} ({stack}) failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bare").mkdir()
        bare = _copy_without_pack(Path(tmp) / "bare")
        builds = {"pack": Path(tmp) / "build-pack", "bare": Path(tmp) / "build-bare"}
        roots = {"pack": REPO, "bare": bare}
        times: dict[tuple[str, str], list[float]] = {(k, s): [] for k in roots for s in STACKS}
        for stack in STACKS:  # warm the file cache once per variant
            for kind in roots:
                wall(roots[kind], builds[kind], stack)
        for i in range(repeats):
            for stack in STACKS:
                order = ("pack", "bare") if i % 2 == 0 else ("bare", "pack")
                for kind in order:
                    times[(kind, stack)].append(wall(roots[kind], builds[kind], stack))
        print(
            f"Guardrail policy pack in the offline cluster preview ({repeats} interleaved runs, fresh process each)"
        )
        print(
            f"{'stack':8} {'without pack':>14} {'with pack':>14} {'overhead':>10} {'pack in-process':>16}"
        )
        for stack in STACKS:
            bare_t, pack_t = times[("bare", stack)], times[("pack", stack)]
            b, p = statistics.median(bare_t), statistics.median(pack_t)
            proc = subprocess.run(
                [sys.executable, "-c", _POLICY_TIME, str(REPO), str(builds["pack"]), stack],
                env=_env(),
                capture_output=True,
                text=True,
                check=True,
            )
            inner = json.loads(proc.stdout)
            print(
                f"{stack:8} {b:6.2f}s ({min(bare_t):.2f}-{max(bare_t):.2f}) {p:6.2f}s ({min(pack_t):.2f}-{max(pack_t):.2f}) "
                f"{(p - b) / b:+9.1%} {inner['policy'] * 1000:9.0f} ms ({inner['policy'] / b:.1%} of the preview, {inner['resources']} resources)"
            )
        print(f"goal: overhead under {GOAL:.0%} of the preview without the pack")


if __name__ == "__main__":
    main()

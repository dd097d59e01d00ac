"""Benchmark: one service program (one ServiceStack) previewed in a fresh process, against a fresh
process that only imports the SDK and library modules that preview loads.

A developer previews one service far more often than a fleet, and then start-up is most of the
wait. The preview (``eksplatform preview --program services/<name>``, the cluster contract
already written) is measured against the floor it cannot go below: importing what the program
itself needs (every ``pulumi*`` module and every ``eksplatform`` module outside the preview engine
that the preview process ends up loading, listed by a first run), interleaved, in fresh
processes. Goal: at most 1.5x.

    python bench/bench_startup.py [services/news-feed] [staging]     (BENCH_REPEATS=5)
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
GOAL = 1.5

_PREVIEW = r"""
import json, sys
from eksplatform.preview.cli import main
code = main(["--root", sys.argv[1], "--build-dir", sys.argv[2], "--program", sys.argv[3],
             "--stack", sys.argv[4], "--quiet"])
if len(sys.argv) > 5:
    with open(sys.argv[5], "w") as fh:
        json.dump(sorted(sys.modules), fh)
sys.exit(code)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "components") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(args, env=_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{args[:3]} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return elapsed


def _program_modules(names: list[str]) -> list[str]:
    """What the program needs: the SDKs and the library, not the preview engine."""
    return [
        n
        for n in names
        if n.split(".")[0] == "pulumi"
        or n.startswith("pulumi_")  # every Pulumi SDK
        or (
            n.startswith("eksplatform.")
            and not n.startswith(("eksplatform.preview", "eksplatform.cli"))
        )
    ]


def main() -> None:
    program = sys.argv[1] if len(sys.argv) > 1 else "services/news-feed"
    stack = sys.argv[2] if len(sys.argv) > 2 else "staging"
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    with tempfile.TemporaryDirectory() as tmp:
        build, listing = Path(tmp) / "build", Path(tmp) / "modules.json"
        preview = [sys.executable, "-c", _PREVIEW, str(REPO), str(build), program, stack]
        _timed([*preview, str(listing)])  # writes the cluster contract; lists the modules
        modules = _program_modules(json.loads(listing.read_text()))
        imports = [sys.executable, "-c", "import " + ", ".join(modules)]
        bare = [sys.executable, "-c", "pass"]
        times: dict[str, list[float]] = {"preview": [], "imports": [], "bare": []}
        for r in range(repeats):
            order = ("preview", "imports", "bare") if r % 2 == 0 else ("bare", "imports", "preview")
            for what in order:
                args = {"preview": preview, "imports": imports, "bare": bare}[what]
                times[what].append(_timed(args))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratios = [p / i for p, i in zip(times["preview"], times["imports"], strict=True)]
    load = os.getloadavg()
    print(
        f"One service program, fresh processes ({program} {stack}, {repeats} interleaved rounds, "
        f"{os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    for k, label in (
        ("preview", "preview (eksplatform preview)"),
        ("imports", f"import its {len(modules)} SDK/library modules"),
        ("bare", "python -c pass"),
    ):
        v = times[k]
        print(f"  {label:<44} {med[k]:6.2f} s  ({min(v):.2f}-{max(v):.2f})")
    print(
        f"  preview / imports: {statistics.median(ratios):.2f}x median, worst round "
        f"{max(ratios):.2f}x (goal <= {GOAL}x)"
    )


if __name__ == "__main__":
    main()

"""Benchmark: one service program with N synthetic ServiceStacks (N = 50, 100, 200, 400), offline
preview engine against plain stock Pulumi mocks.

A company with a hundred services previews them in CI on every change, so the cost of one more
ServiceStack must stay flat, and the engine must earn its keep against what anyone gets for free:
the same program under ``pulumi.runtime.set_mocks`` and ``@pulumi.runtime.test``.

Per N and round, two fresh processes, back to back (which one goes first alternates):

* **engine**: ``run_preview`` + ``write_result`` (program run, manifest rendering, schema check,
  guardrail policy, ``preview.json`` / manifests written into an empty build folder holding
  only the cluster's contract, as in CI), the project's runtime workarounds in force
  (``eksplatform.preview.runtime``);
* **stock**: Pulumi's own test harness, nothing of the project's runtime: ``set_mocks`` with a
  plain ``Mocks`` (every resource echoes its inputs, a Service gets node ports as the API server
  allocates them; the StackReference answers with the same
  cluster outputs the engine reads, from the same ``stack-output.json``; invokes answer ``{}``),
  the same config, the program run by ``runpy`` inside a ``@pulumi.runtime.test`` function. The
  library's contract resolver (``set_contract_resolver``, public API) is given the same answers,
  so both register the same resources (checked: the counts must match).

Printed: per N the medians (min-max) of each side's in-process time (after imports), the ratio
stock / engine (median of the per-round ratios, and the worst round; also in CPU time of the
process, which other jobs on a shared machine disturb far less than wall time), peak RSS of each process,
the engine's phases, the import time (the same for every N), the per-service marginal and, per
round, the engine's t(400) / t(200) (linear is 2.0).

Goals: engine >= 3x faster than stock at N=200; t(400) / t(200) <= 2.1 in every round.

    python bench/bench_fleet.py              (BENCH_REPEATS=3 by default; BENCH_SIZES=50,100)

BENCH_COMPARE=<another checkout>/components adds a third side, that checkout's engine, in the
same rounds (a before/after of a change, measured side by side).
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
SIZES = (50, 100, 200, 400)
RATIO_GOAL = 3.0
LINEAR_GOAL = 2.1
PHASES = ("run", "render", "validate", "policy", "write")

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

_CLUSTER_STACK = "organization/eks-platform/staging"
_DATADOG_API = "https://api.datadoghq.eu/"  # the staging cluster's agents send to datadoghq.eu

_ENGINE = r"""
import json, resource, sys, time, pathlib
t0 = time.perf_counter()
import pulumi
import eksplatform.service  # noqa: F401 - the program's imports, timed apart as stock's are
from eksplatform.preview.engine import Workspace, run_preview, write_result
t1 = time.perf_counter()
ws = Workspace(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
c1 = time.process_time()
result = run_preview(ws, "services/fleet", sys.argv[3])
t2 = time.perf_counter()
write_result(ws, result)
t3 = time.perf_counter()
c3 = time.process_time()
if not result.ok:
    print(json.dumps({"error": [d.message for d in result.diagnostics]}))
    sys.exit(1)
phases = {k: result.timings.get(k, 0.0) for k in ("run", "render", "validate", "policy")}
print(json.dumps({"import": t1 - t0, "total": t3 - t1, "cpu": c3 - c1, **phases, "write": t3 - t2,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "resources": len(result.resources)}))
"""

# Plain Pulumi: its own test harness and MockMonitor, no eksplatform.preview module imported.
_STOCK = r"""
import json, os, resource, runpy, sys, time, pathlib
t0 = time.perf_counter()
import pulumi
import eksplatform.service  # noqa: F401 - the program's imports, timed apart as the engine's are
from eksplatform.core.contract import set_contract_resolver
t1 = time.perf_counter()
program, contract_file, count, cluster_stack = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
document = json.loads(pathlib.Path(contract_file).read_text())
secret_names = sorted(k for k, v in document.items() if v == "[secret]")

class StockMocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.count = 0

    def new_resource(self, args):
        self.count += 1
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {"name": args.name, "outputs": document,
                               "secretOutputNames": secret_names}
        if args.typ == "kubernetes:core/v1:Service":  # the API server allocates node ports
            for port in (args.inputs.get("spec") or {}).get("ports") or []:
                if port.get("nodePort") is None:
                    port["nodePort"] = 30000 + self.count
        return f"{args.name}_id", args.inputs

    def call(self, args):
        return {}

mocks = StockMocks()
pulumi.runtime.set_mocks(mocks, project="fleet", stack=f"n{count}", preview=True)
pulumi.runtime.set_all_config({
    "fleet:count": str(count),
    "fleet:clusterStack": cluster_stack,
    "aws:region": "eu-west-1",
    "aws:allowedAccountIds": '["111111111111"]',
    "datadog:apiUrl": sys.argv[5],
}, [])
set_contract_resolver(lambda name: document)
os.chdir(program)
sys.path.insert(0, program)

@pulumi.runtime.test
def preview():
    runpy.run_path("__main__.py", run_name="__main__")

t2 = time.perf_counter()
c2 = time.process_time()
preview()
c3 = time.process_time()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "total": t3 - t2, "cpu": c3 - c2, "run": t3 - t2,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "resources": mocks.count}))
"""


def _env(components: Path = REPO / "components") -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(components) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _workspace(root: Path, sizes: tuple[int, ...]) -> None:
    """A copy of the cluster project plus the fleet program with one stack per N."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "cluster", root / "cluster", ignore=shutil.ignore_patterns("__py*"))
    fleet = root / "services" / "fleet"
    fleet.mkdir(parents=True)
    (fleet / "Pulumi.yaml").write_text("name: fleet\nruntime: python\n")
    (fleet / "__main__.py").write_text(_PROGRAM)
    for n in sizes:
        (fleet / f"Pulumi.n{n}.yaml").write_text(
            f"config:\n  fleet:count: {n}\n  fleet:clusterStack: {_CLUSTER_STACK}\n"
            '  aws:region: eu-west-1\n  aws:allowedAccountIds: ["111111111111"]\n'
            f"  datadog:apiUrl: {_DATADOG_API}\n"
        )


def _child(args: list[str], what: str, components: Path = REPO / "components") -> dict[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", *args],
        env=_env(components),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    measured = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    measured["wall"] = wall
    return measured


def _fresh_build(build: Path) -> Path:
    """An empty build folder holding only the cluster's contract (what CI starts from): every
    engine run writes all its files, none left by an earlier run to delete or compare."""
    fresh = Path(tempfile.mkdtemp(prefix="run-", dir=build.parent))
    contract = Path("cluster") / "staging" / "stack-output.json"
    (fresh / contract).parent.mkdir(parents=True)
    shutil.copy(build / contract, fresh / contract)
    return fresh


def _engine(root: Path, build: Path, n: int) -> dict[str, float]:
    # The fresh folder stays until the bench ends (with its temporary folder): deleting a
    # thousand files here would be trimmed by a discard-mounted disk while the next run writes.
    fresh = _fresh_build(build)
    return _child([_ENGINE, str(root), str(fresh), f"n{n}"], f"engine preview n={n}")


def _compared(root: Path, build: Path, n: int) -> dict[str, float]:
    """The engine of another checkout (BENCH_COMPARE=<its components/ folder>): before/after."""
    other = Path(os.environ["BENCH_COMPARE"])
    fresh = _fresh_build(build)
    return _child([_ENGINE, str(root), str(fresh), f"n{n}"], f"compared engine n={n}", other)


def _stock(root: Path, build: Path, n: int) -> dict[str, float]:
    contract = build / "cluster" / "staging" / "stack-output.json"
    program = root / "services" / "fleet"
    return _child(
        [_STOCK, str(program), str(contract), str(n), _CLUSTER_STACK, _DATADOG_API],
        f"stock mocks n={n}",
    )


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _span(values: list[float], unit: float = 1.0, digits: int = 2) -> str:
    return (
        f"{_med(values) * unit:.{digits}f} ({min(values) * unit:.{digits}f}-"
        f"{max(values) * unit:.{digits}f})"
    )


def main() -> None:
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    sizes = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "").split(",") if s) or SIZES
    sides = (
        ("engine", "stock", "compared") if os.environ.get("BENCH_COMPARE") else ("engine", "stock")
    )
    runs: dict[str, dict[int, list[dict[str, float]]]] = {
        side: {n: [] for n in sizes} for side in sides
    }
    with tempfile.TemporaryDirectory() as tmp:
        root, build = Path(tmp) / "repo", Path(tmp) / "build"
        root.mkdir()
        _workspace(root, sizes)
        # Synthesizes the cluster's contract once (not measured); each run starts from it.
        _child([_ENGINE, str(root), str(build), f"n{sizes[0]}"], "cluster contract")
        for r in range(repeats):
            for i, n in enumerate(sizes if r % 2 == 0 else tuple(reversed(sizes))):
                # Rotate which side goes first, round by round and size by size.
                shift = (r + i) % len(sides)
                for side in sides[shift:] + sides[:shift]:
                    run = {"engine": _engine, "stock": _stock, "compared": _compared}[side]
                    runs[side][n].append(run(root, build, n))
    for n in sizes:
        counts = {
            side: {int(m["resources"]) for m in runs[side][n]} for side in ("engine", "stock")
        }
        # The stock count includes the Stack itself, which the engine does not list.
        if {c - 1 for c in counts["stock"]} != counts["engine"]:
            raise SystemExit(f"N={n}: engine and stock registered different resources: {counts}")

    load = os.getloadavg()
    print(
        f"Fleet preview: one program with N ServiceStacks, engine vs stock Pulumi mocks "
        f"({repeats} interleaved rounds, fresh process per run, {os.cpu_count()} cores, "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    engine_imports = [m["import"] for n in sizes for m in runs["engine"][n]]
    stock_imports = [m["import"] for n in sizes for m in runs["stock"][n]]
    print(
        f"  imports (same for every N, not in the times below): engine "
        f"{_med(engine_imports) * 1000:.0f} ms, stock {_med(stock_imports) * 1000:.0f} ms"
    )
    print(
        f"  {'N':>4} {'resources':>9}  {'engine s':>18}  {'stock s':>18}  "
        f"{'stock/engine':>16}  {'CPU ratio':>9}  {'wall ratio':>10}  {'RSS MB engine/stock':>19}"
    )
    for n in sizes:
        eng, sto = runs["engine"][n], runs["stock"][n]
        ratios = [s["total"] / e["total"] for e, s in zip(eng, sto, strict=True)]
        walls = [s["wall"] / e["wall"] for e, s in zip(eng, sto, strict=True)]
        cpus = [s["cpu"] / e["cpu"] for e, s in zip(eng, sto, strict=True)]
        print(
            f"  {n:>4} {int(eng[0]['resources']):>9}  {_span([m['total'] for m in eng]):>18}  "
            f"{_span([m['total'] for m in sto]):>18}  "
            f"{_med(ratios):5.2f}x (min {min(ratios):.2f})  {_med(cpus):8.2f}x  {_med(walls):9.2f}x  "
            f"{_med([m['rss_mb'] for m in eng]):>8.0f} / {_med([m['rss_mb'] for m in sto]):.0f}"
        )
    print("  engine phases (medians, s):")
    for n in sizes:
        split = "  ".join(
            f"{p} {_med([m.get(p, 0.0) for m in runs['engine'][n]]):.3f}" for p in PHASES
        )
        print(f"    N={n:<4} {split}")
    if 200 in sizes:
        eng200 = [m["total"] for m in runs["engine"][200]]
        sto200 = [m["total"] for m in runs["stock"][200]]
        per_round = [s / e for e, s in zip(eng200, sto200, strict=True)]
        verdict = "met" if min(per_round) >= RATIO_GOAL else "NOT met"
        print(
            f"  goal stock/engine >= {RATIO_GOAL:.0f}x at N=200: {verdict} "
            f"(median {_med(per_round):.2f}x, worst round {min(per_round):.2f}x)"
        )
    if 200 in sizes and 400 in sizes:
        lin = [
            b["total"] / a["total"]
            for a, b in zip(runs["engine"][200], runs["engine"][400], strict=True)
        ]
        lin_cpu = ", ".join(
            f"{b['cpu'] / a['cpu']:.2f}"
            for a, b in zip(runs["engine"][200], runs["engine"][400], strict=True)
        )
        verdict = "met" if max(lin) <= LINEAR_GOAL else "NOT met"
        rounds = ", ".join(f"{x:.2f}" for x in lin)
        print(
            f"  goal engine t(400)/t(200) <= {LINEAR_GOAL} every round: {verdict} "
            f"(rounds: {rounds}; in CPU time: {lin_cpu}; 2.0 is linear)"
        )
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        marginal = (
            (
                _med([m["total"] for m in runs["engine"][hi]])
                - _med([m["total"] for m in runs["engine"][lo]])
            )
            / (hi - lo)
            * 1000
        )
        print(f"  engine per-service marginal (t{hi} - t{lo}) / {hi - lo}: {marginal:.1f} ms")
    if "compared" in runs:
        print(f"  compared engine ({os.environ['BENCH_COMPARE']}), same rounds:")
        for n in sizes:
            eng, other = runs["engine"][n], runs["compared"][n]
            ratios = [o["total"] / e["total"] for e, o in zip(eng, other, strict=True)]
            split = "  ".join(f"{p} {_med([m.get(p, 0.0) for m in other]):.3f}" for p in PHASES)
            cpus = [o["cpu"] / e["cpu"] for e, o in zip(eng, other, strict=True)]
            sto = runs["stock"][n]
            against_stock = [s["total"] / o["total"] for o, s in zip(other, sto, strict=True)]
            print(
                f"    N={n:<4} {_span([m['total'] for m in other]):>18} s  "
                f"compared/engine {_med(ratios):.2f}x (CPU {_med(cpus):.2f}x)  "
                f"stock/compared {_med(against_stock):.2f}x (min {min(against_stock):.2f})  "
                f"RSS {_med([m['rss_mb'] for m in other]):.0f} MB"
            )
            print(f"             phases: {split}")


if __name__ == "__main__":
    main()

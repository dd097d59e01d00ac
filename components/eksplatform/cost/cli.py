"""``eksplatform cost``: what spot saves per node pool and per stack, and what each service costs.

    eksplatform cost --stack prod                     text report
    eksplatform cost --stack prod --format json       the same as JSON
    eksplatform cost --stack prod --png cost.png      also the chart (spot vs on-demand, services)
    eksplatform cost --stack prod --prices my.json    prices laid over the shipped table
    eksplatform cost --stack prod --live [--save-prices measured.json]   current AWS prices
    eksplatform cost --stack prod --typical general=4 pool size per zone to call typical

Reads the cluster stack config (validated as the cluster program does) and the rendered
previews of the cluster and of every ``services/<name>`` program with that stack (running
``eksplatform preview`` for those that are missing; ``--refresh`` re-runs them all). The
arithmetic is in :mod:`eksplatform.cost.report`, the prices in :mod:`eksplatform.cost.prices`.

Exit status: 0 done (advisories are printed, they do not fail the command); 1 a preview or a
live price lookup failed, or the chart could not be written; 2 bad input (options, stack config,
price file, an instance type without a price).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from ..cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

_TYPICAL = re.compile(r"([a-z][a-z0-9-]*)=([0-9]{1,4})\Z")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--stack", required=True, help="cluster stack (Pulumi.<stack>.yaml)")
    parser.add_argument("--root", type=Path, default=Path("."), help="repo root (default: .)")
    parser.add_argument(
        "--build-dir", type=Path, default=None, help="previews (default: <root>/build)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--png", type=Path, help="also write the chart to this PNG file")
    parser.add_argument("--prices", type=Path, help="price file laid over the shipped table")
    parser.add_argument(
        "--live",
        action="store_true",
        help="measure current prices with boto3 (Price List API, DescribeSpotPriceHistory)",
    )
    parser.add_argument(
        "--spot-days", type=int, default=7, help="--live: days of spot history (default 7)"
    )
    parser.add_argument("--save-prices", type=Path, help="--live: write the measured table here")
    parser.add_argument(
        "--typical",
        action="append",
        default=[],
        metavar="POOL=N",
        help="nodes per zone to call the pool's typical size (default: derived from the "
        "services' minimum replicas)",
    )
    parser.add_argument("--refresh", action="store_true", help="re-run every preview first")


def _bad(message: str) -> int:
    print(f"eksplatform cost: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run(args: argparse.Namespace) -> int:
    from ..core.errors import ValidationError
    from ..guardrails.settings import GuardrailSettings
    from .inputs import InputError, load_config, load_workloads
    from .prices import PriceFileError, load_prices
    from .report import build_report
    from .workloads import ManifestError

    problems = []
    typical: dict[str, int] = {}
    for item in args.typical:
        m = _TYPICAL.fullmatch(item)
        if not m:
            problems.append(f"--typical: got {item!r}: write POOL=N (N nodes per zone)")
        else:
            typical[m.group(1)] = int(m.group(2))
    if not 1 <= args.spot_days <= 90:
        problems.append(f"--spot-days: got {args.spot_days}: must be 1 to 90 (AWS keeps 90 days)")
    if args.save_prices is not None and not args.live:
        problems.append("--save-prices: only with --live (it writes the measured prices)")
    if problems:
        return _bad("\n  ".join(["bad options:", *problems]))
    root: Path = args.root
    build: Path = args.build_dir or root / "build"
    try:
        table = load_prices(args.prices)
        cfg, pools = load_config(root, args.stack)
    except (PriceFileError, ValidationError, InputError) as exc:
        return _bad(str(exc))
    unknown = sorted(set(typical) - {p.name for p in pools})
    if unknown:
        names = ", ".join(p.name for p in pools)
        return _bad(f"--typical: no pool {', '.join(unknown)} in {args.stack} (pools: {names})")
    if args.live:
        from .live import LivePriceError, live_table

        types = sorted({t for p in pools for t in p.instance_types})
        try:
            measured = live_table(cfg.region, types, days=args.spot_days)
        except LivePriceError as exc:
            print(f"eksplatform cost: --live: {exc}", file=sys.stderr)
            return EXIT_FAILED
        if args.save_prices is not None:
            args.save_prices.write_text(json.dumps(measured.to_json(), indent=1) + "\n")
        table = table.merged(measured)
    missing = sorted({t for p in pools for t in table.missing(cfg.region, p.instance_types)})
    if missing:
        return _bad(
            f"no price for {', '.join(missing)} in {cfg.region}: add them to a --prices file "
            "(regions.<region>.onDemand and spotDiscount) or use --live"
        )
    try:
        workloads, _ = load_workloads(root, build, args.stack, refresh=args.refresh)
    except (InputError, ManifestError) as exc:  # a preview failed, or left unreadable objects
        print(f"eksplatform cost: {exc}", file=sys.stderr)
        return EXIT_FAILED
    report = build_report(
        stack=args.stack,
        environment=cfg.environment,
        region=cfg.region,
        pools=pools,
        workloads=workloads,
        table=table,
        spot_band=GuardrailSettings().spot_band(cfg.environment),
        typical=typical,
    )
    if args.png is not None:
        from .chart import write_chart

        try:
            write_chart(report, args.png)
        except (OSError, RuntimeError) as exc:
            print(f"eksplatform cost: --png: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if args.format == "json":
        print(json.dumps(report, indent=1, sort_keys=True))
    else:
        print(render_text(report))
    return EXIT_OK


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  " + "  ".join(cells).rstrip())
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f}Mi"


def render_text(r: dict[str, Any]) -> str:
    """The report as text (every figure the JSON has that a reader needs)."""
    lines = [
        f"Cost of stack {r['stack']} ({r['environment']}, {r['region']})",
        f"Prices of {r['prices']['date']}, {r['prices']['hoursPerMonth']:g} h/month. Source: "
        f"{r['prices']['source']}",
        "",
        "Node pools (one Auto Scaling group per zone: each keeps its on-demand base, then the "
        "percentage above it on-demand and the rest spot):",
    ]
    for p in r["pools"]:
        lines.append(
            f"- {p['name']} ({p['architecture']}, {', '.join(p['instanceTypes'])}; {p['zones']} "
            f"zones; base {p['onDemandBase']} on-demand per zone, {p['onDemandPercentAboveBase']}% "
            f"on-demand above it; on-demand {_usd(p['onDemandPrice'])}/h, spot "
            f"{_usd(p['spotPrice'])}/h per node)"
        )
        rows = [
            [
                "size",
                "per zone",
                "nodes",
                "on-demand",
                "spot",
                "spot share",
                "$/hour",
                "$/month",
                "all on-demand $/month",
                "saved",
            ]
        ]
        for s in p["sizes"]:
            rows.append(
                [
                    s["size"],
                    str(s["perZone"]),
                    str(s["nodes"]),
                    str(s["onDemand"]),
                    str(s["spot"]),
                    _pct(s["spotShare"]),
                    _usd(s["hourly"]),
                    _usd(s["monthly"]),
                    _usd(s["baselineMonthly"]),
                    _pct(s["savings"]),
                ]
            )
        lines += _table(rows)
        mix = ", ".join(f"{k} spot saves {_pct(v)}" for k, v in p["sourceMix"].items())
        lines.append(f"  At the source's mix: {mix}.")
        other = p["otherArchitecture"]
        if other:
            change = ", ".join(f"{k} {v * 100:+.0f}%" for k, v in other["change"].items())
            lines.append(
                f"  On {other['architecture']} ({', '.join(other['instanceTypes'])}): "
                f"on-demand {_usd(other['onDemandPrice'])}/h, spot {_usd(other['spotPrice'])}/h; "
                f"cost {change}."
            )
    lines += [
        "",
        "Services (requests x replicas, Envoy sidecar included; at min: priced at the "
        "pool's typical size, at max: at its max size):",
    ]
    rows = [
        [
            "service",
            "pool",
            "cpu/pod",
            "mem/pod",
            "envoy cpu/mem",
            "replicas",
            "node share/pod",
            "$/month at min",
            "$/month at max",
        ]
    ]
    for s in r["services"]:
        rows.append(
            [
                f"{s['namespace']}/{s['service']}",
                s["pool"] or "(none)",
                f"{s['cpuPerPod']:.0f}m",
                _mib(s["memoryPerPod"]),
                f"{s['sidecarCpuPerPod']:.0f}m/{_mib(s['sidecarMemoryPerPod'])}",
                f"{s['minReplicas']}-{s['maxReplicas']}",
                f"{s['nodeShare']:.3f}",
                _usd(s["monthlyAtMin"]),
                _usd(s["monthlyAtMax"]),
            ]
        )
    if len(rows) > 1:
        lines += _table(rows)
    else:
        lines.append("  (no service previews for this stack)")
    hours = r["prices"]["hoursPerMonth"]
    lines += ["", "Platform overhead per pool at its typical size ($/month):"]
    rows = [["pool", "DaemonSets + kubelet reserve", "system pods", "headroom"]]
    for o in r["overhead"]:
        if o["size"] == "typical":
            rows.append(
                [
                    o["pool"],
                    _usd(o["daemonsAndReserve"] * hours),
                    _usd(o["systemPods"] * hours),
                    _usd(o["headroom"] * hours),
                ]
            )
    lines += _table(rows)
    a = r["allocationAtTypical"]
    lines.append(
        f"  At typical size {_usd(a['hourly'] * hours)}/month: services "
        f"{_usd(a['services'] * hours)}, platform overhead {_usd(a['platformOverhead'] * hours)}, "
        f"idle {_usd(a['idle'] * hours)}."
    )
    lines += ["", f"Totals for {r['stack']}:"]
    rows = [["size", "nodes", "spot share", "$/month", "all on-demand $/month", "saved"]]
    for label, t in r["totals"].items():
        rows.append(
            [
                label,
                str(t["nodes"]),
                _pct(t["spotShare"]),
                _usd(t["monthly"]),
                _usd(t["baselineMonthly"]),
                _pct(t["savings"]),
            ]
        )
    lines += _table(rows)
    low, high = r["sourceClaim"]["claimedCut"]
    for p in r["pools"]:
        at_mix = ", ".join(
            f"{k} spot: {_pct(v)} ({'within' if low / 100 <= v <= high / 100 else 'outside'})"
            for k, v in p["sourceMix"].items()
        )
        lines.append(
            f"  Source's claim (about a third off, {low}-{high}%) on {p['name']}: {at_mix}."
        )
    t = r["totals"]
    lines.append(
        f"  This stack as configured: spot {_pct(t['min']['spotShare'])} / "
        f"{_pct(t['typical']['spotShare'])} / {_pct(t['max']['spotShare'])} and "
        f"{_pct(t['min']['savings'])} / {_pct(t['typical']['savings'])} / "
        f"{_pct(t['max']['savings'])} saved at min / typical / max."
    )
    if r["advisories"]:
        lines += ["", "Advisories:"] + [f"- {a}" for a in r["advisories"]]
    return "\n".join(lines)

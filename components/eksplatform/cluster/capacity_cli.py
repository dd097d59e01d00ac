"""``eksplatform capacity-model``: when does capacity meet a push spike, and how much lead time
does the pre-scaler need? (:mod:`eksplatform.cluster.capacity`)

    eksplatform capacity-model                         table on stdout
    eksplatform capacity-model --json                  the same as JSON
    eksplatform capacity-model --png docs/prescale-timeline.png
    eksplatform capacity-model --spike 26 --node-provision-seconds 120

Every model input is an option (``--<name>``, defaults and their sources in
:class:`~eksplatform.cluster.capacity.CapacityParams`). Exit status: 0 done, 1 the chart could
not be written, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from .capacity import CapacityParams, report


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--png", type=Path, help="also write the timeline chart to this file")
    defaults = CapacityParams()
    for f in fields(CapacityParams):
        default = getattr(defaults, f.name)
        parser.add_argument(
            _option(f.name),
            dest=f.name,
            type=type(default),
            default=default,
            metavar="N",
            help=f"default {default}",
        )


def run(args: argparse.Namespace) -> int:
    params = CapacityParams(**{f.name: getattr(args, f.name) for f in fields(CapacityParams)})
    problems = params.problems()
    if problems:
        for line in problems:
            name, rest = line.split(":", 1)
            print(f"eksplatform capacity-model: {_option(name)}:{rest}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = report(params)
    if args.png is not None:
        from .capacity_chart import write_chart

        try:
            write_chart(params, args.png)
        except (OSError, RuntimeError) as err:
            print(f"eksplatform capacity-model: {args.png}: {err}", file=sys.stderr)
            return EXIT_FAILED
    print(json.dumps(result, indent=2, sort_keys=True) if args.json else table(result))
    if args.png is not None and not args.json:
        print(f"chart: {args.png}")
    return EXIT_OK


def _when(seconds: Any) -> str:
    if seconds is None:
        return "not within the run"
    return "at the send" if seconds == 0 else f"{seconds} s after the send"


def table(result: dict[str, Any]) -> str:
    p = result["params"]
    lead = result["recommendedLeadSeconds"]
    lines = [
        f"push: {p['baseline_rps']:g} rps -> {p['spike']:g}x in {p['ramp_seconds']} s; a pod "
        f"serves {p['pod_capacity_rps']:g} rps, HPA target {p['target_utilization']:.0%}; "
        f"{result['initialPods']} pods before the push, pre-scale floor "
        f"{result['prescaleFloor']} (factor {p['prescale_factor']} x multiplier "
        f"{p['multiplier']:g})",
        f"platform: metrics every {p['metrics_resolution_seconds']} s, HPA sync "
        f"{p['hpa_sync_seconds']} s (+{p['scale_up_percent']}% or {p['scale_up_pods']} pods), "
        f"autoscaler scan {p['ca_scan_seconds']} s, node ready {p['node_provision_seconds']} s, "
        f"image pull {p['image_pull_seconds']} s, pod ready {p['pod_ready_seconds']} s, headroom "
        f"{p['headroom_slots']} pods (+{p['headroom_ratio']:g} per added pod when pre-scaled)",
        "",
    ]
    if lead is None:
        lines.append(
            "recommended lead time: none up to 1200 s suffices: raise the factor, the "
            "multiplier or the headroom ratio"
        )
    else:
        lines.append(
            f"recommended lead time: {lead} s (publish the pre-scale event at least {lead} s "
            "before the push)"
        )
    lines.append(f"scenarios at a {p['lead_seconds']} s lead:")
    rows = [
        ("scenario", "capacity meets demand", "requests over capacity", "peak pods", "nodes added")
    ]
    for s in result["scenarios"]:
        rows.append(
            (
                s["scenario"],
                _when(s["capacityMeetsDemandAtSeconds"]),
                f"{s['requestsOverCapacity']:,}",
                str(s["peakPods"]),
                str(s["nodesAdded"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )
    return "\n".join(lines)

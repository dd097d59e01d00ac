"""Benchmark: what the cluster's validation pass costs next to the preview it guards.

In one process, interleaved and repeated per stack: the whole offline preview of the cluster
program (its validation pass included), the validation pass alone as the program runs it (the
stack file read as the Pulumi CLI reads it, the sections parsed, the rules across sections run),
and the section parsing alone (the pydantic models, what the program did before the pass
existed). Prints the medians and the pass's share of the preview; the goal is under 5%.

    python bench/bench_validation.py            (BENCH_REPEATS=7 by default)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "components"))

from eksplatform.cluster.config import (  # noqa: E402
    ClusterConfig,
    _received,
    parse_cluster_config,
)
from eksplatform.core.pulumi_yaml import read_stack_config  # noqa: E402
from eksplatform.preview.engine import Workspace, run_preview  # noqa: E402
from eksplatform.preview.project import load_stack  # noqa: E402

STACKS = ("staging", "prod")
GOAL = 0.05


def _zones(region: str) -> list[str]:
    return [f"{region}{c}" for c in "abcd"]


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    repeats = int(os.environ.get("BENCH_REPEATS", "7"))
    timings: dict[str, dict[str, list[float]]] = {s: {} for s in STACKS}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(REPO, Path(tmp))
        specs = {s: load_stack(REPO, s) for s in STACKS}

        def preview(stack: str) -> None:
            result = run_preview(ws, "cluster", stack)
            assert result.ok, [d.message for d in result.diagnostics]

        def validation_pass(stack: str) -> None:
            spec = specs[stack]
            source = read_stack_config(spec.stack_file, spec.project)[1]
            parse_cluster_config(
                spec.config,
                stack=stack,
                source=spec.stack_file.name,
                project=spec.project,
                secret_keys=spec.secret_keys,
                stack_file=source,
                available_zones=_zones,
            )

        def sections_only(stack: str) -> None:
            spec = specs[stack]
            data, _ = _received(
                spec.config,
                stack=stack,
                project=spec.project,
                secret_keys=spec.secret_keys,
                source=None,
            )
            ClusterConfig.model_validate(data)

        steps = {"preview": preview, "pass": validation_pass, "sections": sections_only}
        for stack in STACKS:  # warm imports and caches; not measured
            for fn in steps.values():
                fn(stack)
        for _ in range(repeats):
            for stack in STACKS:
                for name, fn in steps.items():
                    timings[stack].setdefault(name, []).append(_timed(lambda: fn(stack)))  # noqa: B023
    print(
        f"Cluster validation pass vs. the cluster preview ({repeats} interleaved runs per stack, "
        f"in one process, {os.cpu_count()} cores; goal: the pass under {GOAL:.0%} of a preview)"
    )
    for stack in STACKS:
        med = {k: statistics.median(v) for k, v in timings[stack].items()}
        spread = {k: (min(v), max(v)) for k, v in timings[stack].items()}
        print(f"\n  stack {stack}")
        for name, label in (
            ("preview", "whole preview (pass included)"),
            ("pass", "validation pass"),
            ("sections", "section parsing only"),
        ):
            low, high = spread[name]
            print(
                f"    {label:<30} {med[name] * 1000:8.1f} ms  ({low * 1000:.1f}-{high * 1000:.1f})"
            )
        share = med["pass"] / med["preview"]
        added = (med["pass"] - med["sections"]) / med["preview"]
        print(f"    pass / preview                 {share:8.2%}  ({share / GOAL:.2f} x the goal)")
        print(f"    added beyond section parsing   {added:8.2%}")


if __name__ == "__main__":
    main()

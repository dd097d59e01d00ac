"""The cost report's inputs for one stack of a platform repo: the cluster stack config (read and
validated as the cluster program reads it) and the rendered previews of the cluster and of every
service program that has a stack file of that name.

Previews that are missing are produced by running ``eksplatform preview`` for exactly those
programs (``--refresh`` runs them all), in a child process: a preview installs Pulumi mocks for
the whole process, which the report must not inherit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from ..cluster.config import ClusterConfig, parse_cluster_config
from ..cluster.node_pools import INSTANCE_SHAPES
from ..core.pulumi_yaml import YamlFileError, read_stack_config
from ..preview.project import ProjectError, list_stacks, load_stack
from .report import PoolSpec
from .workloads import ClusterWorkloads, Workload, read_cluster_platform, read_deployments


class InputError(Exception):
    """A stack that cannot be read (bad input) or a preview that failed; the message names the
    file or option and the fix."""


def pool_specs(cfg: ClusterConfig) -> tuple[PoolSpec, ...]:
    """The report's view of ``platform:nodePools``."""
    zones = len(cfg.network.availability_zones or ()) or cfg.network.az_count
    out = []
    for pool in cfg.node_pools:
        vcpu, gib = INSTANCE_SHAPES[pool.instance_types[0]]
        arch = str(getattr(pool, "architecture", "amd64"))
        out.append(
            PoolSpec(
                name=pool.name,
                instance_types=tuple(pool.instance_types),
                vcpu=vcpu,
                memory_gib=gib,
                zones=zones,
                on_demand_base=pool.on_demand_base_capacity,
                on_demand_percent=pool.on_demand_percentage_above_base,
                min_size=pool.min_size,
                max_size=pool.max_size,
                architecture=arch,
                labels={**pool.labels, "eksplatform.io/node-pool": pool.name},
                taints=tuple(
                    (t.key, t.value, t.effect)
                    for t in pool.taints
                    if t.effect in ("NoSchedule", "NoExecute")
                ),
            )
        )
    return tuple(out)


def service_programs(root: Path, stack: str) -> list[str]:
    """``services/<name>`` programs of the repo with a stack file named ``stack``."""
    return [
        f"services/{p.parent.name}"
        for p in sorted(root.glob("services/*/Pulumi.yaml"))
        if stack in list_stacks(p.parent)
    ]


def _preview(root: Path, build: Path, programs: list[str], stack: str) -> None:
    if not programs:
        return
    cmd = [sys.executable, "-m", "eksplatform", "preview", "--root", str(root)]
    cmd += ["--build-dir", str(build), "--stack", stack, "--quiet"]
    for program in programs:
        cmd += ["--program", program]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise InputError(
            f"eksplatform preview of {', '.join(programs)} ({stack}) exited "
            f"{done.returncode}; fix the program first:\n" + "\n".join(tail)
        )


def load_config(root: Path, stack: str) -> tuple[ClusterConfig, tuple[PoolSpec, ...]]:
    """The cluster stack config of ``stack``, read and validated as the cluster program does
    (raises ``ValidationError`` with every problem, or :class:`InputError`)."""
    try:
        spec = load_stack(root, stack)
    except ProjectError as exc:
        raise InputError(f"--stack {stack}: {exc}") from None
    raw: dict[str, Any] = dict(spec.config)
    try:
        stack_file = read_stack_config(spec.stack_file, spec.project)[1]
    except YamlFileError:
        stack_file = None  # load_stack has read it; its own errors are reported there
    # As the cluster program reads it (secrets stay unshown), without the zone lookup: the
    # report needs the zone count only.
    cfg = parse_cluster_config(
        raw,
        stack=stack,
        source=spec.stack_file.name,
        project=spec.project,
        secret_keys=spec.secret_keys,
        stack_file=stack_file,
    )
    return cfg, pool_specs(cfg)


def load_workloads(
    root: Path, build: Path, stack: str, *, refresh: bool = False
) -> tuple[ClusterWorkloads, tuple[str, ...]]:
    """What runs on the nodes of ``stack``, from the previews (run first when missing, or all
    with ``refresh``), and the programs read."""
    programs = ["cluster", *service_programs(root, stack)]
    wanted = [p for p in programs if refresh or not (build / p / stack / "preview.json").is_file()]
    _preview(root, build, wanted, stack)
    platform, daemons = read_cluster_platform(build / "cluster" / stack / "manifests")
    services: list[Workload] = []
    for program in programs[1:]:
        services += read_deployments(build / program / stack / "manifests", program=program)
    workloads = ClusterWorkloads(services=services, platform=platform, daemons=daemons)
    return workloads, tuple(programs)

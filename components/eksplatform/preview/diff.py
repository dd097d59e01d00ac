"""``eksplatform diff BASE HEAD``: what changes between two offline previews.

BASE and HEAD are two ``preview.json`` files, or two build trees (every
``<program>/<stack>/preview.json`` under each, paired by path). Resources are matched by URN
without its stack (``urn:pulumi:<stack>::``), so two stacks of one program compare too (staging
against prod). For each stack it lists the resources to add, remove, replace and change; a
change lists every property path (``spec.template.spec.containers[0].image``) with its old and
new value. Stack outputs are compared the same way. Values the preview shows as ``[secret]``
stay masked, and so does any property whose name says it holds a secret (password, token,
private key).

Design decision: "replace" is decided from a table of properties whose change makes the
provider replace the resource (physical names, a Kubernetes object's name and namespace, a
workload's selector, a subnet's zone or CIDR, ...), because the providers' replace-on-change
knowledge lives in their binaries, which are not here. Cost: a replacement caused by another
property shows as a change; ``pulumi preview`` in CI (with the real providers) is authoritative.

    eksplatform diff build-main build [--format text|markdown] [--output FILE]

Exit status: 0 (differences or none); 2 bad input (a path missing, not a preview).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MASK = "[secret]"
_SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token|private_?key|privatekey|credential)")

REPLACE_ON_CHANGE: dict[str, tuple[str, ...]] = {
    "kubernetes:": ("metadata.name", "metadata.namespace"),
    "kubernetes:apps/v1:Deployment": ("spec.selector",),
    "kubernetes:apps/v1:StatefulSet": ("spec.selector", "spec.serviceName"),
    "kubernetes:apps/v1:DaemonSet": ("spec.selector",),
    "kubernetes:batch/v1:Job": ("spec.template", "spec.selector"),
    "aws:": ("name", "namePrefix", "bucket", "bucketPrefix"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "vpcId"),
    "aws:ec2/securityGroup:SecurityGroup": ("vpcId", "description"),
    "aws:eks/cluster:Cluster": ("kubernetesNetworkConfig", "vpcConfig.subnetIds"),
    "aws:lb/loadBalancer:LoadBalancer": ("internal", "loadBalancerType"),
    "aws:lb/targetGroup:TargetGroup": ("port", "protocol", "targetType", "vpcId"),
    "aws:dynamodb/table:Table": ("hashKey", "rangeKey"),
    "aws:kms/alias:Alias": ("targetKeyId",),
}
"""Type (or ``<package>:`` prefix) -> property paths whose change replaces the resource."""


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


@dataclass
class ResourceDiff:
    key: str
    """URN without the stack."""
    type: str
    name: str
    op: str
    """``create``, ``delete``, ``replace`` or ``update``."""
    changes: list[Change] = field(default_factory=list)


@dataclass
class StackDiff:
    label: str
    resources: list[ResourceDiff] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)

    def count(self, op: str) -> int:
        return sum(1 for r in self.resources if r.op == op)

    @property
    def empty(self) -> bool:
        return not self.resources and not self.outputs


def _key(urn: str) -> str:
    return re.sub(r"^urn:pulumi:[^:]*::", "", urn)


def _mask(key: str, value: Any) -> Any:
    return MASK if _SECRET_KEY.search(key) and value not in (None, "", MASK) else value


def property_changes(old: Any, new: Any, path: str = "") -> Iterator[Change]:
    """Every leaf that differs between ``old`` and ``new``, by path."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for k in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{k}" if path else str(k)
            a, b = old.get(k), new.get(k)
            if k not in old or k not in new:
                yield Change(sub, _mask(str(k), a), _mask(str(k), b))
            else:
                for c in property_changes(a, b, sub):
                    leaf = c.path.rsplit(".", 1)[-1]
                    yield Change(c.path, _mask(leaf, c.old), _mask(leaf, c.new))
        return
    if isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(old):
                yield Change(sub, None, new[i])
            elif i >= len(new):
                yield Change(sub, old[i], None)
            else:
                yield from property_changes(old[i], new[i], sub)
        return
    if old != new:
        yield Change(path, old, new)


def _replaces(type_token: str, changes: list[Change]) -> bool:
    keys = (
        *REPLACE_ON_CHANGE.get(type_token.split(":")[0] + ":", ()),
        *REPLACE_ON_CHANGE.get(type_token, ()),
    )
    return any(
        c.path == k or c.path.startswith(k + ".") or c.path.startswith(k + "[")
        for c in changes
        for k in keys
    )


def _steps(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found = {}
    for step in doc.get("steps", []):
        state = step.get("newState") or {}
        if "urn" in state:
            found[_key(str(state["urn"]))] = state
    return found


def diff_documents(base: Mapping[str, Any], head: Mapping[str, Any], label: str) -> StackDiff:
    out = StackDiff(label)
    old, new = _steps(base), _steps(head)
    for key in sorted(set(old) | set(new)):
        state = new.get(key) or old[key]
        typ, name = str(state.get("type", "")), key.rsplit("::", 1)[-1]
        if key not in old:
            out.resources.append(ResourceDiff(key, typ, name, "create"))
        elif key not in new:
            out.resources.append(ResourceDiff(key, typ, name, "delete"))
        else:
            changes = list(
                property_changes(old[key].get("inputs") or {}, new[key].get("inputs") or {})
            )
            if changes:
                op = "replace" if _replaces(typ, changes) else "update"
                out.resources.append(ResourceDiff(key, typ, name, op, changes))
    out.outputs = list(property_changes(base.get("outputs") or {}, head.get("outputs") or {}))
    return out


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or "steps" not in data:
        raise ValueError(f"{path}: not a preview.json (no 'steps')")
    return data


def diff_paths(base: Path, head: Path) -> list[StackDiff]:
    """Diffs of two preview.json files, or of every stack of two build trees."""
    if base.is_file() and head.is_file():
        return [diff_documents(_load(base), _load(head), f"{base} -> {head}")]
    if not (base.is_dir() and head.is_dir()):
        missing = [str(p) for p in (base, head) if not p.exists()]
        raise ValueError(
            f"no such file or directory: {', '.join(missing)}"
            if missing
            else "give two preview.json files or two build directories"
        )
    old = {p.relative_to(base).parent.as_posix(): p for p in sorted(base.rglob("preview.json"))}
    new = {p.relative_to(head).parent.as_posix(): p for p in sorted(head.rglob("preview.json"))}
    empty: dict[str, Any] = {"steps": [], "outputs": {}}
    return [
        diff_documents(
            _load(old[k]) if k in old else empty, _load(new[k]) if k in new else empty, k
        )
        for k in sorted(set(old) | set(new))
    ]


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    text = "(none)" if value is None else text
    return text if len(text) <= 120 else text[:117] + "..."


_SYMBOL = {"create": "+", "delete": "-", "replace": "+-", "update": "~"}


def _summary(d: StackDiff) -> str:
    return (
        f"{d.count('create')} to add, {d.count('delete')} to remove, "
        f"{d.count('replace')} to replace, {d.count('update')} to change"
    )


def render_text(diffs: list[StackDiff]) -> str:
    lines: list[str] = []
    for d in diffs:
        lines.append(f"== {d.label}: " + ("no changes" if d.empty else _summary(d)))
        for r in d.resources:
            lines.append(f"  {_SYMBOL[r.op]:2} {r.type} {r.name}")
            lines.extend(f"       {c.path}: {_show(c.old)} => {_show(c.new)}" for c in r.changes)
        if d.outputs:
            lines.append("  outputs:")
            lines.extend(f"       {c.path}: {_show(c.old)} => {_show(c.new)}" for c in d.outputs)
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def render_markdown(diffs: list[StackDiff]) -> str:
    """One pull-request comment: a summary table, then the changes of each stack."""
    lines = ["### Plan diff (offline preview)", "", "| stack | add | remove | replace | change |"]
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for d in diffs:
        counts = [d.count(op) for op in ("create", "delete", "replace", "update")]
        lines.append(f"| `{d.label}` | " + " | ".join(map(str, counts)) + " |")
    for d in diffs:
        if d.empty:
            continue
        lines += ["", f"<details><summary><code>{d.label}</code>: {_summary(d)}</summary>", ""]
        lines += ["| | resource | property | before | after |", "| --- | --- | --- | --- | --- |"]
        for r in d.resources:
            head = f"| {_SYMBOL[r.op]} | `{_md(r.type)}` `{_md(r.name)}` |"
            if not r.changes:
                lines.append(head + " | | |")
            for i, c in enumerate(r.changes):
                prefix = head if i == 0 else "| | |"
                lines.append(
                    f"{prefix} `{_md(c.path)}` | `{_md(_show(c.old))}` | `{_md(_show(c.new))}` |"
                )
        for c in d.outputs:
            lines.append(
                f"| ~ | stack output | `{_md(c.path)}` | `{_md(_show(c.old))}` | `{_md(_show(c.new))}` |"
            )
        lines += ["", "</details>"]
    if all(d.empty for d in diffs):
        lines += ["", "No changes."]
    return "\n".join(lines) + "\n"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``eksplatform diff`` (see :mod:`eksplatform.cli`)."""
    p.description = (
        "What changes between two previews: two preview.json files or two build trees. "
        "Exit status: 0 (with or without differences); 2 bad input."
    )
    p.add_argument("base", type=Path, metavar="BASE")
    p.add_argument("head", type=Path, metavar="HEAD")
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    p.add_argument("--output", type=Path, default=None, help="write here instead of stdout")


def run(args: argparse.Namespace) -> int:
    try:
        diffs = diff_paths(args.base, args.head)
    except (OSError, ValueError) as exc:
        print(f"eksplatform diff: {exc}", file=sys.stderr)
        return 2
    text = render_markdown(diffs) if args.format == "markdown" else render_text(diffs)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0

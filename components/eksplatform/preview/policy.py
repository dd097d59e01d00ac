"""The guardrail policy pack, offline: run on a preview's recorded resources, or on saved
``preview.json`` files (``eksplatform policy check``).

The pack sees what ``pulumi preview --policy-pack policy`` would show it: resource policies get
each resource's inputs, stack policies every resource's outputs (with ``id``); secrets are
plain (the engine decrypts them for policies); values unknown at preview are the engine's
sentinels behind the policy SDK's proxy, so a policy reading one is skipped with an advisory
note; a resource reference is its URN. The workspace's ``policy/config.json`` (the format of
``--policy-pack-config``) and ``policy/exemptions.yaml`` apply, as they do in CI.

Each violation becomes a diagnostic (pack, policy, enforcement level, URN, message): mandatory
ones are errors and fail the preview with exit status :data:`EXIT_POLICY_VIOLATIONS`, advisory
ones are warnings; the exemptions in force and the skipped policies are listed as info.

    eksplatform policy check build/cluster/prod/preview.json [--json] [--root DIR]

Exit status: 0 no mandatory violation; 2 bad input (unreadable preview, config or exemptions);
4 mandatory violations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ..guardrails import RULES
from ..guardrails.evaluation import PACK_NAME, Report, engine_view, evaluate
from ..guardrails.exemptions import FILE as EXEMPTIONS_FILE
from ..guardrails.exemptions import ExemptionError, load_exemptions
from ..guardrails.model import Enforcement, Resource
from ..guardrails.settings import SettingsError
from .engine import Diagnostic, PreviewResult, Workspace
from .mocks import is_secret

EXIT_POLICY_VIOLATIONS = 4
"""Exit status of a preview (or ``policy check``) with mandatory policy violations."""
PACK_FILE = Path("policy") / "PulumiPolicy.yaml"
"""A workspace with this file has a policy pack: its previews run it."""
CONFIG_FILE = Path("policy") / "config.json"
"""The pack config of a workspace (``pulumi preview --policy-pack-config`` format)."""

_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's sentinel for an unknown value (pulumi_policy.proxy.UNKNOWN_STRING_VALUE)."""
_SAVED_UNKNOWN = "[unknown]"


@dataclass(frozen=True)
class PolicyDiagnostic(Diagnostic):
    """A policy violation as a preview diagnostic."""

    policy_pack: str = PACK_NAME
    policy: str = ""
    enforcement_level: str = ""

    def as_json(self) -> dict[str, str]:
        out = super().as_json()
        out.update(
            policyPack=self.policy_pack,
            policyName=self.policy,
            enforcementLevel=self.enforcement_level,
        )
        return out


def engine_value(value: Any) -> Any:
    """A recorded value as the engine hands it to a policy (secrets plain, unknowns as the
    engine's sentinel, resource references as their URN)."""
    if is_secret(value):
        return engine_value(value.get("value"))
    if isinstance(value, dict):
        return {str(k): engine_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [engine_value(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return _UNKNOWN if value == _SAVED_UNKNOWN else value
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return _UNKNOWN
    return str(getattr(value, "urn", value))


def resources_of_result(result: PreviewResult) -> tuple[list[Resource], list[Resource]]:
    """(inputs view, outputs view) of a preview's recorded resources."""
    inputs, outputs = [], []
    for r in result.resources:
        inputs.append(Resource(r.type, r.urn, r.name, engine_view(engine_value(r.inputs))))
        out = engine_value(r.outputs)
        if r.custom and r.id and "id" not in out:
            out["id"] = r.id
        outputs.append(Resource(r.type, r.urn, r.name, engine_view(out)))
    return inputs, outputs


def resources_of_document(doc: Mapping[str, Any]) -> tuple[list[Resource], list[Resource]]:
    """(inputs view, outputs view) of a saved ``preview.json``."""
    inputs, outputs = [], []
    for step in doc.get("steps", []):
        state = step.get("newState") or {}
        urn, typ = str(state.get("urn", "")), str(state.get("type", ""))
        name = urn.rsplit("::", 1)[-1]
        inputs.append(
            Resource(typ, urn, name, engine_view(engine_value(state.get("inputs") or {})))
        )
        out = engine_value(state.get("outputs") or {})
        if state.get("id") and "id" not in out:
            out["id"] = state["id"]
        outputs.append(Resource(typ, urn, name, engine_view(out)))
    return inputs, outputs


def load_pack_config(root: Path, path: Path | None = None) -> dict[str, Any]:
    """The pack config of a workspace (``{}`` when there is none)."""
    file = path or root / CONFIG_FILE
    if not file.is_file():
        if path is not None:
            raise SettingsError([f"{file}: no such file"])
        return {}
    try:
        data = json.loads(file.read_text())
    except ValueError as exc:
        raise SettingsError([f"{file}: not JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise SettingsError([f"{file}: must be a JSON object of policy name -> config"])
    unknown = sorted(k for k in data if k != "all" and k not in RULES)
    if unknown:
        raise SettingsError([f"{file}: {k}: not a policy of {PACK_NAME}" for k in unknown])
    for key, value in data.items():
        level = value.get("enforcementLevel") if isinstance(value, dict) else value
        if level is not None and level not in {e.value for e in Enforcement}:
            raise SettingsError(
                [
                    f"{file}: {key}: enforcement level {level!r} is not one of "
                    "mandatory, advisory, disabled"
                ]
            )
    return data


def run_pack(
    inputs: Sequence[Resource],
    outputs: Sequence[Resource],
    root: Path,
    *,
    config_path: Path | None = None,
    exemptions_path: Path | None = None,
    today: dt.date | None = None,
) -> Report:
    """The pack on one stack's resources, with the workspace's config and exemptions."""
    day = today or dt.date.today()
    config = load_pack_config(root, config_path)
    exemptions = load_exemptions(exemptions_path or root / EXEMPTIONS_FILE, RULES.ids(), day)
    return evaluate(RULES, inputs, outputs, pack_config=config, exemptions=exemptions, today=day)


def _where(urn: str) -> str:
    """``<type> <name>: `` of a URN, for messages (empty for the stack)."""
    if not urn:
        return ""
    head, _, name = urn.rpartition("::")
    return f"{head.rsplit('$', 1)[-1].rsplit('::', 1)[-1]} {name}: "


def diagnostics(report: Report, urns: Sequence[str] | None = None) -> list[Diagnostic]:
    """The report as preview diagnostics; exemptions in force are listed when they cover one of
    ``urns`` (the stack's resources; None: all)."""
    out: list[Diagnostic] = []
    for v in report.violations:
        severity = "error" if v.enforcement is Enforcement.MANDATORY else "warning"
        out.append(
            PolicyDiagnostic(
                severity,
                f"[{PACK_NAME}/{v.rule}, {v.enforcement.value}] {_where(v.urn)}{v.message}",
                v.urn,
                policy=v.rule,
                enforcement_level=v.enforcement.value,
            )
        )
    for e in report.active_exemptions:
        if urns is None or any(fnmatchcase(u, e.urn) for u in urns):
            out.append(Diagnostic("info", f"[{PACK_NAME}] exemption in force: {e.describe()}"))
    for v, e in report.exempted:
        out.append(
            Diagnostic("info", f"[{PACK_NAME}/{v.rule}] exempted ({e.owner}): {v.message}", v.urn)
        )
    out += [Diagnostic("info", note) for note in report.notes]
    return out


def enforce(workspace: Workspace, result: PreviewResult) -> None:
    """Run the pack on a successful preview of a workspace that has one (``policy/
    PulumiPolicy.yaml``, as ``--policy-pack policy`` needs): add its diagnostics, and exit
    status 4 on a mandatory violation (2 when the pack config or exemptions are invalid)."""
    from .engine import EXIT_INVALID_CONFIG

    if not (workspace.root / PACK_FILE).is_file():
        return
    try:
        report = run_pack(*resources_of_result(result), workspace.root)
    except (SettingsError, ExemptionError) as exc:
        result.diagnostics.append(Diagnostic("error", str(exc)))
        result.exit_code = EXIT_INVALID_CONFIG
        return
    result.diagnostics.extend(diagnostics(report, [r.urn for r in result.resources]))
    if report.mandatory:
        result.exit_code = EXIT_POLICY_VIOLATIONS


# --- eksplatform policy check -------------------------------------------------------------------


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``eksplatform policy`` (see :mod:`eksplatform.cli`)."""
    p.description = (
        "Run the guardrail policy pack on saved previews (preview.json) without re-running "
        "the programs. Exit status: 0 no mandatory violation; 2 bad input; 4 mandatory "
        "violations."
    )
    sub = p.add_subparsers(dest="action", metavar="<action>", required=True)
    check = sub.add_parser("check", help="check preview.json files against the pack")
    check.add_argument("previews", nargs="+", type=Path, metavar="PREVIEW_JSON")
    check.add_argument("--root", type=Path, default=Path("."), help="workspace root (default: .)")
    check.add_argument(
        "--config", type=Path, default=None, help="pack config (default: <root>/policy/config.json)"
    )
    check.add_argument(
        "--exemptions", type=Path, default=None, help="default: <root>/policy/exemptions.yaml"
    )
    check.add_argument("--json", action="store_true", help="JSON output")
    sub.add_parser("list", help="list the rules: id, kind, enforcement, severity, title")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        for rule in RULES:
            cel = " +admission" if rule.admission else ""
            print(
                f"{rule.id:32} {rule.kind:8} {rule.enforcement.value:9} "
                f"{rule.severity.value:8} {rule.title}{cel}"
            )
        return 0
    results: list[dict[str, Any]] = []
    worst = 0
    for path in args.previews:
        try:
            doc = json.loads(path.read_text())
            if not isinstance(doc, dict) or "steps" not in doc:
                raise ValueError("no 'steps': not a preview.json")
            report = run_pack(
                *resources_of_document(doc),
                args.root,
                config_path=args.config,
                exemptions_path=args.exemptions,
            )
        except (OSError, ValueError, SettingsError, ExemptionError) as exc:
            print(f"eksplatform policy check: {path}: {exc}", file=sys.stderr)
            return 2
        if report.mandatory:
            worst = EXIT_POLICY_VIOLATIONS
        results.append(
            {
                "preview": str(path),
                "policyPack": PACK_NAME,
                "violations": [v.as_json() for v in report.violations],
                "exempted": [
                    {**v.as_json(), "exemption": {"owner": e.owner, "reason": e.reason}}
                    for v, e in report.exempted
                ],
                "activeExemptions": [e.describe() for e in report.active_exemptions],
                "notes": report.notes,
            }
        )
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
        return worst
    for item in results:
        violations = item["violations"]
        mandatory = sum(1 for v in violations if v["enforcementLevel"] == "mandatory")
        print(
            f"== {item['preview']}: {mandatory} mandatory, {len(violations) - mandatory} advisory"
        )
        for v in violations:
            print(
                f"  {v['enforcementLevel']}: {v['policy']}: {v['urn'] or '(stack)'}\n      {v['message']}"
            )
        for text in item["activeExemptions"]:
            print(f"  exemption in force: {text}")
        for note in item["notes"]:
            print(f"  note: {note}")
    return worst

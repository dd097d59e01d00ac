"""``eksplatform dev``: a developer's own environment on the staging cluster.

    eksplatform dev render [--stack dev-alice] [--out .dev/manifests]   manifests for Skaffold
    eksplatform dev extend [--stack dev-alice] [--expires 24h]          push the expiry out
    eksplatform dev down   [--stack dev-alice]                          delete the namespace

``render`` runs the service program's developer stack offline (the preview engine: the same
checks, the same objects ``pulumi up -s dev-alice`` would create) and writes its Kubernetes
objects as ``kubectl apply`` takes them, in apply order: ``00-namespace.yaml`` (the Namespace),
``01-limits.yaml`` (its ResourceQuota and LimitRange), ``10-<service>.yaml`` (the rest).
Skaffold's render hook runs it and deploys the files with ``kubectl apply --server-side`` (see
the service's ``skaffold.yaml``), replacing the image with the one it built. Secrets whose
values the offline run cannot know (``secure:`` config) are not written: ``render`` prints the
``kubectl create secret`` command that creates them once. A developer stack that registers
any AWS resource is refused: a developer environment is Kubernetes objects only.

``extend`` and ``down`` talk to the cluster (the kubeconfig's current context, or
``--context``) and touch only the developer namespace ``dev-<developer>`` (its labels prove
it); ``extend`` refuses an expiry in the past or beyond the cluster's maximum (from the contract
file, ``contracts/contract-<cluster stack>.json`` by default).

The developer is ``--stack dev-<developer>``, else ``dev-$EKSPLATFORM_DEVELOPER``, else
``dev-$USER``. Exit status: 0 done; 1 the program or the API request failed; 2 bad input
(nothing written or changed); 3 an invalid Kubernetes object; 4 a guardrail violation.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from ..cluster.dev_janitor.janitor import ApiError, KubeClient
from ..core import devenv
from ..core.errors import Problem, ValidationError
from . import manifests as manifest_mod
from .engine import EXIT_INVALID_CONFIG, EXIT_OK, EXIT_PROGRAM_FAILED, Workspace, run_preview
from .kubeconfig import KubeconfigError, client_from_kubeconfig
from .project import ProjectError, load_stack
from .workspace import parse_stack_references

DEFAULT_OUT = Path(".dev/manifests")
FIELD_MANAGER = "eksplatform-dev"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``eksplatform dev`` (see :mod:`eksplatform.cli`)."""
    p.description = (
        "A developer's own environment on the staging cluster (namespace dev-<developer>). "
        "Exit status: 0 done, 1 failed, 2 bad input (nothing changed), 3 an invalid Kubernetes "
        "object, 4 a guardrail violation."
    )
    sub = p.add_subparsers(dest="action", metavar="<action>", required=True)
    render = sub.add_parser("render", help="write the developer stack's manifests (Skaffold)")
    render.add_argument("--root", type=Path, default=Path("."), help="repo root (default: .)")
    render.add_argument(
        "--program",
        default=None,
        help="program id (services/<name> here; default: the service repo's own program)",
    )
    render.add_argument(
        "--contract",
        type=Path,
        default=None,
        help="the cluster stack's contract file (default: contracts/contract-<cluster stack>"
        ".json under --root, when it exists; else the repo's own cluster preview)",
    )
    render.add_argument(
        "--stack-reference",
        action="append",
        default=None,
        metavar="ORG/PROJECT/STACK=FILE",
        help="answer a StackReference from FILE (repeatable)",
    )
    render.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: .dev/manifests")
    for action in (render, *_cluster_actions(sub)):
        action.add_argument("--stack", default=None, help="dev-<developer> (see above)")


def _cluster_actions(sub: Any) -> list[argparse.ArgumentParser]:
    extend = sub.add_parser("extend", help="move the developer namespace's expiry")
    extend.add_argument(
        "--expires",
        default=None,
        help="a duration from now (36h, 3d) or an RFC 3339 time (default: the contract's "
        "defaultTtlHours from now)",
    )
    extend.add_argument(
        "--contract",
        type=Path,
        default=Path("contracts/contract-staging.json"),
        help="the cluster's contract file, for its maximum (default: "
        "contracts/contract-staging.json; without it the maximum is 168 hours)",
    )
    down = sub.add_parser("down", help="delete the developer namespace and everything in it")
    down.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")
    for action in (extend, down):
        action.add_argument("--kubeconfig", type=Path, default=None)
        action.add_argument("--context", default=None)
    return [extend, down]


def default_stack(explicit: str | None) -> str:
    if explicit:
        return explicit
    developer = os.environ.get("EKSPLATFORM_DEVELOPER") or os.environ.get("USER") or ""
    return f"{devenv.DEV_PREFIX}{developer}"


def _stack_problem(stack: str) -> Problem | None:
    developer = devenv.developer_of_stack(stack)
    if developer is None:
        return Problem(
            "--stack",
            stack,
            "is not a developer stack: name it dev-<developer> (or set EKSPLATFORM_DEVELOPER)",
        )
    why = devenv.developer_problem(developer)
    if why is not None:
        return Problem("--stack", stack, f"the developer name {developer!r} {why}")
    return None


def run(args: argparse.Namespace) -> int:
    stack = default_stack(args.stack)
    problem = _stack_problem(stack)
    if problem is not None:
        print(
            ValidationError(f"eksplatform dev {args.action}", [problem]).render(), file=sys.stderr
        )
        return EXIT_INVALID_CONFIG
    if args.action == "render":
        return render(args, stack)
    try:
        client = client_from_kubeconfig(args.kubeconfig, args.context)
    except KubeconfigError as exc:
        print(f"eksplatform dev {args.action}: {exc}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    namespace = f"{devenv.DEV_PREFIX}{devenv.developer_of_stack(stack)}"
    if args.action == "extend":
        return extend(client, namespace, args.expires, _max_ttl(args.contract))
    return down(client, namespace, dry_run=args.dry_run)


# --- render -------------------------------------------------------------------------------------


def _references(args: argparse.Namespace, stack: str, program_dir: Path) -> dict[str, Path] | None:
    references, problems = parse_stack_references(args.stack_reference or [])
    if problems:
        print(ValidationError("eksplatform dev render", problems).render(), file=sys.stderr)
        return None
    try:
        spec = load_stack(program_dir, stack)
    except ProjectError as exc:
        print(f"eksplatform dev render: {exc}", file=sys.stderr)
        return None
    cluster = spec.config.get(f"{spec.project}:clusterStack")
    if isinstance(cluster, str) and cluster not in references:
        contract = args.contract
        if contract is None:
            candidate = args.root / "contracts" / f"contract-{cluster.rsplit('/', 1)[-1]}.json"
            contract = candidate if candidate.is_file() else None
        if contract is not None:
            references[cluster] = contract
    return references


def render(args: argparse.Namespace, stack: str) -> int:
    scratch = Workspace(args.root, None, {})
    program = args.program or (scratch.programs() or [""])[0]
    if not program:
        print(f"eksplatform dev render: no Pulumi program under {args.root}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    references = _references(args, stack, scratch.program_dir(program))
    if references is None:
        return EXIT_INVALID_CONFIG
    result = run_preview(Workspace(args.root, None, references), program, stack)
    for d in result.diagnostics:
        if d.severity in ("error", "warning"):
            print(f"{d.severity}: {d.message}", file=sys.stderr)
    if not result.ok:
        return result.exit_code
    aws = sorted({r.type for r in result.resources if r.custom and r.type.startswith("aws:")})
    if aws:
        print(
            f"eksplatform dev render: the developer stack {stack} registers AWS resources "
            f"({', '.join(aws)}): a developer environment is Kubernetes objects only; create "
            "them only when developer_environment() is None",
            file=sys.stderr,
        )
        return EXIT_PROGRAM_FAILED
    written, secrets = write_manifests(args.out, result.manifests, program.rsplit("/", 1)[-1])
    for path in written:
        print(f"wrote {path}")
    for m in secrets:
        keys = sorted({*(m.body.get("data") or {}), *(m.body.get("stringData") or {})})
        literals = " ".join(f"--from-literal={k}=..." for k in keys)
        print(
            f"not written: Secret {m.namespace}/{m.name} (its values are secure: config, unknown "
            f"offline); create it once: kubectl create secret generic {m.name} -n {m.namespace} "
            f"{literals}"
        )
    return EXIT_OK


def _unknown_secret(m: manifest_mod.Manifest) -> bool:
    plain = manifest_mod.SECRET_PLACEHOLDER
    encoded = base64.b64encode(plain.encode()).decode()
    values = [*(m.body.get("data") or {}).values(), *(m.body.get("stringData") or {}).values()]
    return m.kind == "Secret" and any(v in (plain, encoded) for v in values)


def write_manifests(
    out: Path, manifests: list[manifest_mod.Manifest], service: str
) -> tuple[list[Path], list[manifest_mod.Manifest]]:
    """Write the objects in apply order; return the files and the Secrets left out."""
    groups: dict[str, list[manifest_mod.Manifest]] = {
        "00-namespace.yaml": [],
        "01-limits.yaml": [],
        f"10-{service}.yaml": [],
    }
    skipped: list[manifest_mod.Manifest] = []
    for m in manifests:
        if _unknown_secret(m):
            skipped.append(m)
        elif m.kind == "Namespace":
            groups["00-namespace.yaml"].append(m)
        elif m.kind in ("ResourceQuota", "LimitRange"):
            groups["01-limits.yaml"].append(m)
        else:
            groups[f"10-{service}.yaml"].append(m)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    written = []
    for name, items in groups.items():
        if items:
            path = out / name
            path.write_text("---\n".join(manifest_mod.to_yaml(m.body) for m in items))
            written.append(path)
    return written, skipped


# --- extend and down ----------------------------------------------------------------------------


def _max_ttl(contract: Path | None) -> int:
    if contract is not None and contract.is_file():
        try:
            offer = devenv.DevOffer.from_contract(
                json.loads(contract.read_text()).get("devEnvironments")
            )
        except (ValueError, AttributeError):
            offer = None
        if offer is not None:
            return offer.max_ttl_hours
    return 168


def _developer_namespace(client: KubeClient, namespace: str) -> dict[str, Any] | str:
    """The namespace object, or why it is not one ``dev`` may touch."""
    try:
        ns = client.request("GET", "/api/v1/namespaces/" + urllib.parse.quote(namespace))
    except ApiError as exc:
        return (
            f"namespace {namespace} does not exist"
            if exc.status == 404
            else f"cannot read namespace {namespace}: {exc}"
        )
    labels = (ns.get("metadata") or {}).get("labels") or {}
    if f"{devenv.DEV_PREFIX}{labels.get(devenv.DEVELOPER_LABEL, '')}" != namespace:
        return (
            f"namespace {namespace} is not a developer namespace (no "
            f"{devenv.DEVELOPER_LABEL} label naming its developer): not touched"
        )
    return dict(ns)


def extend(client: KubeClient, namespace: str, expires: str | None, max_ttl_hours: int) -> int:
    now = devenv.utc_now().replace(microsecond=0)
    when, bad = devenv.parse_expires(expires or "24h", now)
    why = bad or (devenv.expiry_problem(when, now, max_ttl_hours) if when else None)
    if why is not None or when is None:
        print(
            ValidationError(
                "eksplatform dev extend", [Problem("--expires", expires, str(why))]
            ).render(),
            file=sys.stderr,
        )
        return EXIT_INVALID_CONFIG
    found = _developer_namespace(client, namespace)
    if isinstance(found, str):
        print(f"eksplatform dev extend: {found}", file=sys.stderr)
        return EXIT_INVALID_CONFIG if "not a developer" in found else EXIT_PROGRAM_FAILED
    patch = {"metadata": {"labels": {devenv.EXPIRES_LABEL: devenv.format_expiry(when)}}}
    try:
        client.request(
            "PATCH",
            "/api/v1/namespaces/" + urllib.parse.quote(namespace),
            query={"fieldManager": FIELD_MANAGER},
            body=patch,
            content_type="application/merge-patch+json",
        )
    except ApiError as exc:
        print(f"eksplatform dev extend: {exc}", file=sys.stderr)
        return EXIT_PROGRAM_FAILED
    print(f"{namespace} now expires at {when.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    return EXIT_OK


def down(client: KubeClient, namespace: str, *, dry_run: bool) -> int:
    found = _developer_namespace(client, namespace)
    if isinstance(found, str):
        print(f"eksplatform dev down: {found}", file=sys.stderr)
        return EXIT_INVALID_CONFIG if "not a developer" in found else EXIT_PROGRAM_FAILED
    meta = found.get("metadata") or {}
    if dry_run:
        print(f"would delete namespace {namespace} and everything in it (dry run)")
        return EXIT_OK
    body = {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Background",
        "preconditions": {"uid": meta.get("uid")},
    }
    try:
        client.request("DELETE", "/api/v1/namespaces/" + urllib.parse.quote(namespace), body=body)
    except ApiError as exc:
        print(f"eksplatform dev down: {exc}", file=sys.stderr)
        return EXIT_PROGRAM_FAILED
    print(f"deleting namespace {namespace} and everything in it")
    return EXIT_OK

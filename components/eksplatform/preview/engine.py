"""Offline preview: run a Pulumi program in-process under mocks, record every resource, render
and schema-check its Kubernetes objects, and write ``preview.json``.

Where programs are found and how a StackReference is answered (the platform repo with its
``services/``, or a service repo of its own with ``--stack-reference`` contract files) is
:mod:`.workspace`; each preview writes under ``build/<program>/<stack>/``::

    preview.json          shaped like `pulumi preview --json`
    stack-output.json     the stack's outputs as `pulumi stack output --json` prints them
                          (the cluster's is the contract file service repos preview against)
    manifests/            one file per Kubernetes object, as `kubectl apply -f` takes it
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import runpy
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.contract import set_contract_resolver
from ..core.errors import ValidationError
from . import jsontext
from . import manifests as manifest_mod
from .mocks import MockAccount, PreviewMocks, Recorded, RecordingMonitor, unwrap
from .outfiles import write_if_changed
from .project import ProjectError, StackSpec, load_stack
from .runtime import collection_paused, preview_workarounds
from .sdk_imports import lazy_sdk_annotations
from .stack_output import StackOutputError, StackOutputs
from .stack_output import display as _display
from .stack_output import dumps as stack_output_text
from .workspace import STACK_OUTPUT_FILE, check_referrer
from .workspace import Workspace as Workspace  # re-exported: where tests and tools import it

_HERE = Path(__file__).resolve().parent
DEFAULT_KUBERNETES_VERSION = "1.35"

EXIT_OK = 0
EXIT_PROGRAM_FAILED = 1
EXIT_INVALID_CONFIG = 2
EXIT_INVALID_OBJECTS = 3


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    """``error``, ``warning`` or ``info``."""
    message: str
    urn: str = ""

    def as_json(self) -> dict[str, str]:
        out = {"severity": self.severity, "message": self.message}
        if self.urn:
            out["urn"] = self.urn
        return out


@dataclass
class PreviewResult:
    spec: StackSpec
    program_id: str
    resources: list[Recorded] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack outputs, secrets still wrapped."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    manifests: list[manifest_mod.Manifest] = field(default_factory=list)
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    exit_code: int = EXIT_OK
    timings: dict[str, float] = field(default_factory=dict)
    registered_before_error: list[str] = field(default_factory=list)
    """URNs of resources registered before a :class:`ValidationError` stopped the program, in
    registration order. Must be empty: under ``pulumi up`` each of them would already be on its
    way to AWS when the error was raised (reads, such as a StackReference, are not counted)."""

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def by_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == typ]

    def plain_outputs(self) -> dict[str, Any]:
        return {k: unwrap(v) for k, v in self.outputs.items()}


# --- running ------------------------------------------------------------------------------------


class _CapturingEngine:
    """Stands in for the Pulumi engine's log service; keeps what the program logs."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def Log(self, request: Any) -> None:  # noqa: N802 - gRPC method name
        from pulumi.runtime.proto import engine_pb2

        severity = {
            engine_pb2.DEBUG: "debug",
            engine_pb2.INFO: "info",
            engine_pb2.WARNING: "warning",
            engine_pb2.ERROR: "error",
        }.get(request.severity, "info")
        if severity != "debug":
            self.diagnostics.append(Diagnostic(severity, request.message, request.urn))


@contextlib.contextmanager
def _program_environment(main_dir: Path) -> Iterator[None]:
    old_cwd = os.getcwd()
    old_path = list(sys.path)
    os.chdir(main_dir)
    sys.path.insert(0, str(main_dir))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def _account_from_config(spec: StackSpec) -> MockAccount:
    region = spec.config.get("aws:region") or "us-east-1"
    account = "123456789012"
    raw = spec.config.get("aws:allowedAccountIds")
    if raw:
        try:
            ids = json.loads(raw)
            if isinstance(ids, list) and ids:
                account = str(ids[0])
        except ValueError:
            pass
    return MockAccount(region=region, account_id=account)


def _run_in_mocks(
    spec: StackSpec, mocks: PreviewMocks, monitor: RecordingMonitor, engine: _CapturingEngine
) -> BaseException | None:
    """Run the program's __main__.py inside a fresh Pulumi runtime; return what it raised."""
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import mocks as runtime_mocks
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_in_stack

    settings.ROOT.set(None)
    _drop_leftover_outputs()
    features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
    settings.configure(
        runtime_mocks.MockSettings(
            monitor=monitor,
            monitor_features=features,
            engine=engine,
            project=spec.project,
            stack=spec.stack,
            dry_run=True,
            organization="organization",
            callbacks=None,
        )
    )
    runtime_config.set_all_config(dict(spec.config), list(spec.secret_keys))

    main = spec.main_dir / "__main__.py"

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_report_unless_already_reported)
    asyncio.set_event_loop(loop)
    try:
        with (
            _program_environment(spec.main_dir),
            preview_workarounds(loop),
            lazy_sdk_annotations(),
        ):
            loop.run_until_complete(run_in_stack(program))
        return None
    except BaseException as exc:
        return exc
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        _drop_leftover_outputs()
        loop.close()
        asyncio.set_event_loop(None)
        monitor.close()


def _report_unless_already_reported(
    loop: asyncio.AbstractEventLoop, context: dict[str, Any]
) -> None:
    """The preview loop's exception handler. When a program fails, every Output derived from
    the failing one holds the same exception and asyncio prints each at garbage collection as
    "exception was never retrieved"; the failure itself is already the run's diagnostic (Pulumi
    awaits every Output before the run ends), so only those duplicates are dropped."""
    if "never retrieved" in str(context.get("message", "")):
        return
    loop.default_exception_handler(context)


def _drop_leftover_outputs() -> None:
    """Forget the Outputs a run left behind.

    Pulumi tracks pending Outputs in a process-global set; a failed run leaves its Outputs there,
    bound to that run's event loop, and the next in-process preview (the CLI previews every
    program in one process) would await them and fail. Their failures were already reported
    with the run, so they are marked retrieved (no "exception was never retrieved" at exit)."""
    from pulumi.runtime.settings import SETTINGS

    with SETTINGS.lock:
        for task in SETTINGS.outputs:
            if task.done() and not task.cancelled():
                task.exception()
        SETTINGS.outputs.clear()


def run_preview(
    workspace: Workspace, program_id: str, stack: str, *, fail_on_register: bool = False
) -> PreviewResult:
    """Run one stack of one program offline. Never raises for program failures: they become
    diagnostics and a non-zero ``exit_code``.

    ``fail_on_register`` runs the program under a monitor that refuses the first resource
    registration (see :class:`~eksplatform.preview.mocks.RecordingMonitor`): a program that
    registers anything fails, and every refused URN is in ``registered_before_error``."""
    with collection_paused():  # see eksplatform.preview.runtime
        return _run_preview(workspace, program_id, stack, fail_on_register)


def _run_preview(
    workspace: Workspace, program_id: str, stack: str, fail_on_register: bool = False
) -> PreviewResult:
    t0 = time.perf_counter()
    try:
        spec = load_stack(workspace.program_dir(program_id), stack)
    except ProjectError as exc:
        dummy = StackSpec(
            project="?",
            program_dir=workspace.root,
            main_dir=workspace.root,
            stack=stack,
            stack_file=workspace.root / f"Pulumi.{stack}.yaml",
        )
        return PreviewResult(
            spec=dummy,
            program_id=program_id,
            diagnostics=[Diagnostic("error", str(exc))],
            exit_code=EXIT_INVALID_CONFIG,
        )
    result = PreviewResult(spec=spec, program_id=program_id)
    resolved_versions: list[str] = []
    answered: dict[str, StackOutputs | BaseException] = {}
    refused: dict[str, ValidationError] = {}
    reference_errors: list[BaseException] = []

    def resolve(name: str, *, refuse: bool) -> StackOutputs:
        # One answer per name and run: the StackReference and known_contract() ask the same
        # question, and a refusal is reported once.
        if name not in answered:
            try:
                outputs = workspace.resolve_stack_reference(name, spec)
            except (ValidationError, ProjectError, StackOutputError) as exc:
                answered[name] = exc
                reference_errors.append(exc)
            else:
                answered[name] = outputs
                try:
                    check_referrer(spec, name, outputs)
                except ValidationError as exc:
                    refused[name] = exc
                    reference_errors.append(exc)
        found = answered[name]
        if isinstance(found, BaseException):
            raise found
        if refuse and name in refused:
            raise refused[name]
        version = found.outputs.get("kubernetesVersion")
        if isinstance(version, str):
            resolved_versions.append(version)
        return found

    def resolve_stack(name: str) -> tuple[dict[str, Any], list[str]]:
        # A refused referrer still gets its answer here: failing a registration inside Pulumi
        # leaves its Outputs pending; the run is reported as refused when it ends.
        found = resolve(name, refuse=False)
        return found.outputs, list(found.secret_names)

    mocks = PreviewMocks(_account_from_config(spec), resolve_stack)
    monitor = RecordingMonitor(mocks, fail_on_register=fail_on_register)
    engine = _CapturingEngine()
    logging.getLogger("pulumi").setLevel(logging.ERROR)
    set_contract_resolver(lambda name: resolve(name, refuse=True).outputs)
    try:
        error = contextvars.copy_context().run(_run_in_mocks, spec, mocks, monitor, engine)
    finally:
        set_contract_resolver(None)
    if reference_errors:
        # A reference that cannot be answered surfaces in the program as whatever Pulumi wraps
        # a failed registration in (or not at all, when only the referrer was refused); report
        # the cause itself (bad input: exit 2). It is the
        # preview's input that is wrong, not the program's order of work (under `pulumi up`
        # the reference is read from the backend), so what the program registered while the
        # reference was pending is dropped without the "registered before" report.
        error = reference_errors[0]
        monitor.recorded.clear()
        monitor.order.clear()
    t1 = time.perf_counter()
    result.timings["run"] = t1 - t0

    result.diagnostics.extend(engine.diagnostics)
    for token in sorted(set(mocks.unknown_invokes)):
        result.diagnostics.append(
            Diagnostic(
                "warning", f"invoke {token} has no offline answer; the program saw an empty result"
            )
        )
    if error is not None:
        result.exit_code = (
            EXIT_INVALID_CONFIG
            if isinstance(error, (ValidationError, StackOutputError))
            else EXIT_PROGRAM_FAILED
        )
        result.diagnostics.append(Diagnostic("error", _describe_failure(error, spec)))
        if isinstance(error, ValidationError):
            # Validation must run before any resource is registered. Offline nothing is
            # created either way, so record what a real `pulumi up` would already have sent
            # to the engine, report it as an error, and show nothing half-built.
            result.registered_before_error = list(monitor.order)
            if monitor.order:
                shown = ", ".join(monitor.order[:5]) + (", ..." if len(monitor.order) > 5 else "")
                result.diagnostics.append(
                    Diagnostic(
                        "error",
                        f"{_count(len(monitor.order), 'resource was', 'resources were')} "
                        "registered before the validation error (under `pulumi up` they would already be on their way to AWS): "
                        f"{shown}; validate before registering anything",
                    )
                )
            monitor.recorded.clear()
            monitor.order.clear()

    if monitor.refused:
        result.registered_before_error = list(monitor.refused)
        if result.exit_code == EXIT_OK:
            result.exit_code = EXIT_PROGRAM_FAILED
        result.diagnostics.append(
            Diagnostic(
                "error",
                f"strict monitor: {_count(len(monitor.refused), 'registration was', 'registrations were')} "
                f"refused, first {monitor.refused[0]}",
            )
        )
    result.resources = order_resources(list(monitor.recorded.values()))
    result.outputs = dict(monitor.stack_outputs) if error is None else {}
    result.kubernetes_version = _kubernetes_version(spec, result.outputs, resolved_versions)

    t2 = time.perf_counter()
    result.manifests = manifest_mod.render_all(result.resources)
    t3 = time.perf_counter()
    result.timings["render"] = t3 - t2
    schema_diags = manifest_mod.validate_all(result.manifests, result.kubernetes_version)
    result.timings["validate"] = time.perf_counter() - t3
    result.diagnostics.extend(schema_diags)
    if result.exit_code == EXIT_OK and any(d.severity == "error" for d in result.diagnostics):
        result.exit_code = EXIT_INVALID_OBJECTS if schema_diags else EXIT_PROGRAM_FAILED
    if result.exit_code == EXIT_OK:
        # The guardrail policy pack on what was recorded (exit 4 on mandatory violations).
        from .policy import enforce

        t4 = time.perf_counter()
        enforce(workspace, result)
        result.timings["policy"] = time.perf_counter() - t4
    return result


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _describe_failure(error: BaseException, spec: StackSpec) -> str:
    import pulumi

    if isinstance(error, (ValidationError, pulumi.RunError, ProjectError, StackOutputError)):
        return str(error)
    if os.environ.get("EKSPLATFORM_PREVIEW_DEBUG"):
        return "program failed:\n" + "".join(traceback.format_exception(error)).rstrip()
    # Show the program's own frames, not Pulumi's or this engine's internals.
    frames = traceback.extract_tb(error.__traceback__)
    own = [
        f
        for f in frames
        if "site-packages" not in f.filename
        and "/pulumi/" not in f.filename
        and "/asyncio/" not in f.filename
        and "/concurrent/" not in f.filename
        and not f.filename.startswith(str(_HERE))
    ]
    where = "".join(traceback.format_list(own[-4:])) if own else ""
    return f"program failed: {type(error).__name__}: {error}\n{where}".rstrip()


def _kubernetes_version(spec: StackSpec, outputs: dict[str, Any], resolved: list[str]) -> str:
    for key, value in spec.config.items():
        if key.endswith(":kubernetesVersion") and value:
            return value
    version = outputs.get("kubernetesVersion")
    if isinstance(version, str):
        return version
    return resolved[0] if resolved else DEFAULT_KUBERNETES_VERSION


def order_resources(resources: list[Recorded]) -> list[Recorded]:
    """Deterministic order: parents and dependencies first, ties broken by URN."""
    import heapq

    by_urn = {r.urn: r for r in resources}
    edges: dict[str, set[str]] = {u: set() for u in by_urn}
    indegree = {u: 0 for u in by_urn}
    for r in resources:
        # A provider reference is "<provider urn>::<provider id>".
        before = {r.parent, *r.dependencies, r.provider.rsplit("::", 1)[0] if r.provider else ""}
        for b in before:
            if b in by_urn and b != r.urn and r.urn not in edges[b]:
                edges[b].add(r.urn)
                indegree[r.urn] += 1
    ready = [u for u, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    ordered: list[Recorded] = []
    while ready:
        u = heapq.heappop(ready)
        ordered.append(by_urn[u])
        for v in sorted(edges[u]):
            indegree[v] -= 1
            if indegree[v] == 0:
                heapq.heappush(ready, v)
    if len(ordered) != len(resources):  # a cycle cannot happen in Pulumi, but never drop resources
        seen = {r.urn for r in ordered}
        ordered += sorted((r for r in resources if r.urn not in seen), key=lambda r: r.urn)
    return ordered


# --- writing ------------------------------------------------------------------------------------


def preview_document(result: PreviewResult) -> dict[str, Any]:
    """The ``pulumi preview --json`` shaped document."""
    steps = []
    for r in result.resources:
        state = {
            "urn": r.urn,
            "type": r.type,
            "custom": r.custom,
            "parent": r.parent,
            "provider": r.provider,
            "dependencies": r.dependencies,
            "inputs": _display(r.inputs),
            "outputs": _display(r.outputs),
        }
        if r.custom:
            state["id"] = r.id
        steps.append({"op": "create", "urn": r.urn, "newState": state})
    creates = len(steps) + (1 if steps else 0)  # the stack itself
    return {
        "steps": steps,
        "outputs": _display(result.outputs),
        "changeSummary": {"create": creates} if creates else {},
        "diagnostics": [d.as_json() for d in result.diagnostics],
    }


def write_result(workspace: Workspace, result: PreviewResult) -> Path:
    """Write ``preview.json``, ``stack-output.json`` (when the preview succeeded) and the
    manifests; like the run, without garbage collection (see eksplatform.preview.runtime)."""
    with collection_paused():
        out = workspace.out_dir(result.program_id, result.spec.stack)
        out.mkdir(parents=True, exist_ok=True)
        doc = preview_document(result)
        write_if_changed(out / "preview.json", jsontext.dumps_bytes(doc) + b"\n")
        stack_outputs = out / STACK_OUTPUT_FILE
        if result.ok:
            write_if_changed(stack_outputs, stack_output_text(result.outputs).encode("utf-8"))
        elif stack_outputs.exists():
            stack_outputs.unlink()
        manifest_mod.write_all(out / "manifests", result.manifests)
    return out

"""Mutation testing of the validation code: ``make mutation`` (not part of ``make test``).

Each mutant changes one thing in one validation function (a comparison at its edge, ``and`` for
``or``, a negated condition, a number off by one, a flipped boolean, an arithmetic operator, a
dropped ``raise`` or ``append``) and runs the tests that cover that module; a mutant the tests
do not notice *survives* and is listed with its source line. Per group of modules the run
prints the kill rate, counting neither the mutants listed as equivalent (they cannot change
behaviour; ``tools/mutation-equivalent.txt`` gives each a reason) nor those the tool could not
compile.

Why a small mutator of our own rather than a pinned tool: the run must mutate only the
validation functions of modules that also hold components (a mutant in resource-building code
is tested by previews, minutes per mutant), and each mutant must run in a forked copy of one
process that has already imported Pulumi, the SDKs and the library, the mutant put in by
swapping the code of the mutated functions (:class:`_Override`; about five of six seconds saved
per mutant on these machines). mutmut and cosmic-ray mutate whole files and start a fresh
interpreter per mutant. The cost: the operator set is ours to keep honest (it is listed in
:data:`OPERATORS`), and a mutant that changes only what the module computes while it is
imported is not seen that way: a mutant survives only once it has also passed the tests with the
library imported afresh (the old, slow way).

Usage::

    python tools/mutation.py [--group NAME]... [--jobs N] [--timeout S] [--list] [--only KEY]...
"""

from __future__ import annotations

import argparse
import ast
import functools
import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = REPO / "tools" / "mutation-equivalent.txt"

OPERATORS = {
    "compare": "a comparison moved across its edge (< for <=, == for !=, in for not in...)",
    "boolop": "and for or, or for and",
    "not": "not x becomes x",
    "condition": "the condition of an if/while/ternary negated",
    "number": "an integer constant plus one",
    "bool": "True for False and back",
    "arith": "+ for -, * for /, and back",
    "raise": "a raise statement dropped",
    "append": "a call to .append/.add/.extend dropped (a problem never reported)",
}

_VALIDATOR_DECORATORS = {"field_validator", "model_validator"}
_VALIDATION_NAMES = re.compile(
    r"(check|problem|valid|reserved|parse|duplicat|^_is_|allocatable|kube_reserved|minor|"
    r"_raw_sizes|_errors|_duration|_percentage|autoscaler_image_tag|_star|_threshold|_grace|"
    r"_heartbeat|_retention|_replicas|_timings|_sizes_agree|_limit)"
)


def validation_functions(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Validators (decorated) and helpers named for checking, in a module that also builds
    resources; ``validate_*_args`` (a component's last line of defence) are left to the
    component tests."""
    if fn.name.startswith("validate_") and fn.name.endswith("_args"):
        return False
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _VALIDATOR_DECORATORS:
            return True
    return bool(_VALIDATION_NAMES.search(fn.name))


def every_function(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return True


@dataclass(frozen=True)
class Target:
    path: str
    """Module file, relative to the repo."""
    select: Callable[[ast.FunctionDef | ast.AsyncFunctionDef], bool]
    """Which functions are mutated."""
    tests: tuple[str, ...]
    """Test files that cover it (fast ones first: a mutant stops at its first failure)."""
    slow: tuple[str, ...] = ()
    """Further test files, run only on mutants the first set did not kill."""

    @property
    def module(self) -> str:
        return self.path.removeprefix("components/").removesuffix(".py").replace("/", ".")


_CLUSTER_FAST = (
    "tests/validation/test_cluster_cases_parse.py",
    "tests/unit/test_config_edges.py",
    "tests/unit/test_config_reading.py",
    "tests/unit/test_config.py",
    "tests/unit/test_plan.py",
    "tests/unit/test_plan_capacity.py",
    "tests/unit/test_settings.py",
    "tests/unit/test_node_pool_config.py",
    "tests/unit/test_section_edges.py",
    "tests/unit/test_config_rules.py",
)


def _cluster(path: str, *tests: str, select: Callable[..., bool] = validation_functions) -> Target:
    return Target(path, select, _CLUSTER_FAST, tests)


def every_function_but(*names: str) -> Callable[[ast.FunctionDef | ast.AsyncFunctionDef], bool]:
    """Every function except ``names`` (those that build values for resources, not checks)."""
    return lambda fn: fn.name not in names


_SERVICE_FAST = (
    "tests/service/test_service_validation.py",
    "tests/service/test_service_edges.py",
    "tests/service/test_service_rules.py",
)
"""ServiceStack's bad-input suite (each case through ``plan_service`` and the offline preview),
its edges (every limit on both sides, every optional argument with a valid value) and the rules
no other test pinned down."""


def _service(path: str, *slow: str, select: Callable[..., bool] = every_function) -> Target:
    return Target(path, select, _SERVICE_FAST, slow)


_ENVOY_TESTS = (
    "tests/envoy/test_envoy_settings_edges.py",
    "tests/envoy/test_envoy_config.py",
    "tests/envoy/test_envoy_service_mapping.py",
)
"""Envoy's settings checks (the tests that start a real Envoy are marked and not run here)."""
_ENVOY_LIMITS = (
    "heap_cap_mib",
    "idle_heap_mib",
    "min_memory_limit_mib",
    "connection_cost_kib",
    "connection_capacity",
)
"""The memory model's functions the settings checks use for their limits."""
_ENVOY_MAPPING = ("_envoy_field", "_check_envoy", "_envoy_memory")
"""ServiceStack's mapping of ``envoy=`` onto Envoy's checks: counted with the Envoy settings."""


GROUPS: dict[str, tuple[Target, ...]] = {
    "cluster config": (
        _cluster(
            "components/eksplatform/cluster/config.py",
            "tests/unit/test_config_defaults.py",
            select=every_function,
        ),
        _cluster(
            "components/eksplatform/cluster/config_model.py",
            "tests/unit/test_config_defaults.py",
            select=every_function,
        ),
        _cluster("components/eksplatform/cluster/plan.py", select=every_function),
        _cluster("components/eksplatform/cluster/plan_capacity.py", select=every_function),
        _cluster("components/eksplatform/cluster/plan_components.py", select=every_function),
        _cluster(
            "components/eksplatform/core/settings.py",
            "tests/addons/test_priority_headroom.py",
            select=every_function,
        ),
        _cluster(
            "components/eksplatform/core/pulumi_yaml.py",
            "tests/preview/test_project_yaml.py",
            select=every_function,
        ),
        _cluster(
            "components/eksplatform/cluster/node_pool_config.py",
            "tests/compute/test_node_pools.py",
            select=every_function,
        ),
        _cluster(
            "components/eksplatform/cluster/autoscaler.py", "tests/compute/test_autoscaler.py"
        ),
        _cluster(
            "components/eksplatform/cluster/interruption.py", "tests/compute/test_interruption.py"
        ),
        _cluster(
            "components/eksplatform/cluster/eks_addons.py", "tests/compute/test_eks_addons.py"
        ),
        _cluster(
            "components/eksplatform/cluster/descheduler.py", "tests/addons/test_descheduler.py"
        ),
        _cluster("components/eksplatform/cluster/fluentd.py", "tests/addons/test_fluentd.py"),
        _cluster(
            "components/eksplatform/cluster/headroom.py", "tests/addons/test_priority_headroom.py"
        ),
        _cluster("components/eksplatform/cluster/teams.py", "tests/addons/test_teams.py"),
        _cluster("components/eksplatform/cluster/vpa.py", "tests/addons/test_vpa.py"),
        _cluster(
            "components/eksplatform/cluster/service_platform.py",
            "tests/preview/test_service_platform.py",
        ),
    ),
    "service args": (
        _service(
            "components/eksplatform/service/validate.py",
            "tests/service/test_service_gate.py",
            select=every_function_but(*_ENVOY_MAPPING),
        ),
        _service(
            "components/eksplatform/service/checks.py",
            select=every_function_but("env_output_values"),
        ),
        _service("components/eksplatform/service/shapes.py"),
        _service(
            "components/eksplatform/service/aws_checks.py",
            select=every_function_but("datadog_annotation"),
        ),
        _service(
            "components/eksplatform/service/contract_checks.py",
            "tests/prescaler/test_service_side.py",
            select=every_function_but("service_labels", "resolve_envoy", "service_context"),
        ),
        Target(
            "components/eksplatform/service/config.py",
            every_function_but("default_cluster"),
            ("tests/service/test_service_config.py", *_SERVICE_FAST),
        ),
        Target(
            "components/eksplatform/service/canary_checks.py",
            every_function,
            ("tests/canary/test_canary_validation.py", *_SERVICE_FAST),
        ),
        Target(
            "components/eksplatform/service/canary_config.py",
            every_function,
            ("tests/canary/test_canary_validation.py", *_SERVICE_FAST),
        ),
        Target(
            "components/eksplatform/service/iam_checks.py",
            every_function,
            (*_SERVICE_FAST, "tests/iam/test_boundary.py"),
            ("tests/iam/test_attacks.py",),
        ),
        Target(
            "components/eksplatform/service/output_checks.py",
            every_function,
            ("tests/service/test_output_gate.py", *_SERVICE_FAST),
            ("tests/iam/test_attacks.py",),
        ),
    ),
    "envoy settings": (
        Target(
            "components/eksplatform/envoy/validation.py",
            every_function,
            _ENVOY_TESTS,
        ),
        Target(
            "components/eksplatform/envoy/memory.py",
            lambda fn: fn.name in _ENVOY_LIMITS,
            _ENVOY_TESTS,
        ),
        Target(
            "components/eksplatform/service/validate.py",
            lambda fn: fn.name in _ENVOY_MAPPING,
            ("tests/envoy/test_envoy_service_mapping.py", *_SERVICE_FAST),
        ),
    ),
}
"""The validation modules, grouped as the issue reports them, with the tests of each."""


# --- mutants ------------------------------------------------------------------------------------

_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_ARITH_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
}
_DROPPED_CALLS = frozenset({"append", "add", "extend"})


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    col: int
    operator: str
    description: str

    @property
    def key(self) -> str:
        return f"{self.path}:{self.line}:{self.col}:{self.operator}"


def _sites(node: ast.AST) -> Iterator[tuple[str, str]]:
    """(operator, description) of every mutation of ``node`` itself."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _COMPARE_SWAP:
                swapped = _COMPARE_SWAP[type(op)].__name__
                yield f"compare{i}", f"{type(op).__name__} -> {swapped}"
    elif isinstance(node, ast.BoolOp):
        yield (
            "boolop",
            f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}",
        )
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "not", "not x -> x"
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        yield "condition", "condition negated"
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield "number", f"{node.value} -> {node.value + 1}"
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield "bool", f"{node.value} -> {not node.value}"
    elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH_SWAP:
        yield "arith", f"{type(node.op).__name__} -> {_ARITH_SWAP[type(node.op)].__name__}"
    elif isinstance(node, ast.Raise):
        yield "raise", "raise dropped"
    elif (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr in _DROPPED_CALLS
    ):
        yield "append", f".{node.value.func.attr}(...) dropped"


def _apply(node: ast.AST, operator: str) -> ast.AST:
    """``node`` with the mutation applied (a new node where the type changes)."""
    if operator.startswith("compare"):
        assert isinstance(node, ast.Compare)
        i = int(operator[len("compare") :])
        node.ops[i] = _COMPARE_SWAP[type(node.ops[i])]()
    elif operator == "boolop":
        assert isinstance(node, ast.BoolOp)
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif operator == "not":
        assert isinstance(node, ast.UnaryOp)
        return node.operand
    elif operator == "condition":
        assert isinstance(node, (ast.If, ast.While, ast.IfExp))
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif operator == "number":
        assert isinstance(node, ast.Constant) and isinstance(node.value, int)
        node.value = node.value + 1
    elif operator == "bool":
        assert isinstance(node, ast.Constant)
        node.value = not node.value
    elif operator == "arith":
        assert isinstance(node, ast.BinOp)
        node.op = _ARITH_SWAP[type(node.op)]()
    elif operator in ("raise", "append"):
        return ast.Pass()
    return node


def _selected_nodes(tree: ast.Module, target: Target) -> Iterator[ast.AST]:
    """Every node inside a selected function, in a stable order (docstrings skipped)."""
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not target.select(fn):
            continue
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        for stmt in body:
            yield from ast.walk(stmt)


def mutants(target: Target) -> list[Mutant]:
    tree = ast.parse((REPO / target.path).read_text())
    seen: set[tuple[int, int, str]] = set()
    found = []
    for node in _selected_nodes(tree, target):
        for operator, description in _sites(node):
            line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
            if (line, col, operator) in seen:
                continue  # nested functions are walked once per enclosing selection
            seen.add((line, col, operator))
            found.append(Mutant(target.path, line, col, operator, description))
    return found


def mutated_code(target: Target, mutant: Mutant) -> types.CodeType:
    tree = ast.parse((REPO / target.path).read_text())

    class Mutate(ast.NodeTransformer):
        done = False

        def generic_visit(self, node: ast.AST) -> ast.AST:
            node = super().generic_visit(node)
            if (
                not self.done
                and getattr(node, "lineno", None) == mutant.line
                and getattr(node, "col_offset", None) == mutant.col
                and any(op == mutant.operator for op, _ in _sites(node))
            ):
                self.done = True
                new = _apply(node, mutant.operator)
                return ast.copy_location(new, node)
            return node

    transformer = Mutate()
    tree = transformer.visit(tree)
    if not transformer.done:
        raise RuntimeError(f"mutant {mutant.key} not found")
    ast.fix_missing_locations(tree)
    return compile(tree, str(REPO / target.path), "exec")


# --- running --------------------------------------------------------------------------------------


class _Override:
    """Puts one module's mutated code into the forked test process.

    The parent has imported the library already, so the mutant cannot be a module imported
    afresh: every live function compiled from the module (module-level, methods, validators
    held by pydantic, closures made at import) gets the ``__code__`` of the same function (same
    qualified name and first line) in the mutated module's code, so every reference to it, a
    ``from .checks import check_env`` in another module included, runs the mutant. The module's
    ``functools.cache`` wrappers are cleared. What this cannot reach: a value the module computed
    with the mutated function while it was imported (a class decorator, a table built at import):
    so a mutant that survives is run once more with the library imported afresh
    (:meth:`install_fresh`) before it counts as a survivor."""

    def __init__(self, name: str, code: types.CodeType, path: str) -> None:
        self.name, self.code, self.path = name, code, path

    def install_fresh(self) -> None:
        """Forget the imported library and serve the mutated module when the tests import it
        again: slower, but it also sees what the module computes while it is imported (a
        mutant that survives the patched functions is confirmed this way)."""
        for name in [n for n in sys.modules if n == "eksplatform" or n.startswith("eksplatform.")]:
            del sys.modules[name]
        sys.meta_path.insert(0, _FreshModule(self))

    def install(self) -> None:
        new: dict[tuple[str, int], types.CodeType] = {}
        stack = [self.code]
        while stack:
            code = stack.pop()
            new[(code.co_qualname, code.co_firstlineno)] = code
            stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        patched = 0
        for obj in gc.get_objects():
            if isinstance(obj, types.FunctionType) and obj.__code__.co_filename == self.path:
                mutated = new.get((obj.__code__.co_qualname, obj.__code__.co_firstlineno))
                if mutated is not None and mutated.co_freevars == obj.__code__.co_freevars:
                    obj.__code__ = mutated
                    patched += 1
            elif isinstance(obj, functools._lru_cache_wrapper):
                wrapped = getattr(obj, "__wrapped__", None)
                if getattr(getattr(wrapped, "__code__", None), "co_filename", "") == self.path:
                    obj.cache_clear()
        if not patched:
            raise RuntimeError(f"no live function of {self.name} to mutate")


class _FreshModule(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module's mutated code to a fresh import (see :meth:`_Override.install_fresh`)."""

    def __init__(self, override: _Override) -> None:
        self.override = override

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.override.name:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=self.override.path)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__file__ = self.override.path
        exec(self.override.code, module.__dict__)


def _run_tests(
    tests: Sequence[str], basetemp: str, override: _Override | None, fresh: bool = False
) -> int:
    """In a forked child: run ``tests`` (stop at the first failure), silently."""
    import pytest

    if override is not None:
        if fresh:
            override.install_fresh()
        else:
            override.install()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    return int(
        pytest.main(
            [
                *tests,
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-m",
                "not envoy",
                f"--basetemp={basetemp}",
            ]
        )
    )


_FRESH = 2
"""Stage of a surviving mutant's last run: every test of its target, the library imported
afresh."""


@dataclass
class _Running:
    pid: int
    mutant: Mutant | None
    started: float
    basetemp: str
    stage: int = 0
    override: _Override | None = None


@dataclass
class Outcome:
    killed: list[Mutant] = field(default_factory=list)
    survived: list[Mutant] = field(default_factory=list)
    timeouts: list[Mutant] = field(default_factory=list)
    equivalent: list[Mutant] = field(default_factory=list)
    invalid: list[Mutant] = field(default_factory=list)


def _fork(
    tests: Sequence[str], override: _Override | None, mutant: Mutant | None, stage: int = 0
) -> _Running:
    basetemp = tempfile.mkdtemp(prefix="mutation-")
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.chdir(REPO)
            code = _run_tests(tests, basetemp, override, fresh=stage == _FRESH)
        finally:
            os._exit(code)
    return _Running(pid, mutant, time.monotonic(), basetemp, stage, override)


def _reap(running: list[_Running], timeout: float) -> Iterator[tuple[_Running, int | None]]:
    """Finished (or timed-out, code None) children; blocks until at least one is done."""
    while True:
        done: list[tuple[_Running, int | None]] = []
        for job in running:
            pid, status = os.waitpid(job.pid, os.WNOHANG)
            if pid:
                done.append((job, os.waitstatus_to_exitcode(status)))
            elif time.monotonic() - job.started > timeout:
                os.kill(job.pid, signal.SIGKILL)
                os.waitpid(job.pid, 0)
                done.append((job, None))
        if done:
            for job, code in done:
                running.remove(job)
                shutil.rmtree(job.basetemp, ignore_errors=True)
                yield job, code
            return
        time.sleep(0.05)


def load_equivalent() -> dict[str, str]:
    """``path:line:col:operator`` -> reason, from :data:`EQUIVALENT_FILE`."""
    if not EQUIVALENT_FILE.is_file():
        return {}
    out = {}
    for raw in EQUIVALENT_FILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, reason = line.partition(" ")
        out[key] = reason.strip().lstrip("#").strip()
    return out


def run_group(
    name: str,
    jobs: int,
    timeout: float,
    equivalent: dict[str, str],
    only: Sequence[str] = (),
) -> Outcome:
    outcome = Outcome()
    work: list[tuple[Target, Mutant]] = []
    for target in GROUPS[name]:
        if not (REPO / target.path).is_file():
            print(f"  {target.path}: not found, skipped")
            continue
        for mutant in mutants(target):
            if only and not mutant.key.startswith(tuple(only)):
                continue
            if mutant.key in equivalent:
                outcome.equivalent.append(mutant)
            else:
                work.append((target, mutant))
    # The unmutated code must pass the group's tests, or every mutant would look killed.
    suites = sorted({t.tests + t.slow for t in GROUPS[name] if (REPO / t.path).is_file()}, key=str)
    baselines = [_fork(tests, None, None) for tests in suites]
    while baselines:
        for job, code in _reap(baselines, timeout * 4):
            if code != 0:
                raise SystemExit(f"the tests fail without any mutant (exit {code}): {job}")
    running: list[_Running] = []
    pending = list(work)
    total = len(work)
    by_mutant = {m.key: t for t, m in work}
    while pending or running:
        while pending and len(running) < jobs:
            target, mutant = pending.pop(0)
            try:
                compiled = mutated_code(target, mutant)
            except (SyntaxError, ValueError, TypeError):
                outcome.invalid.append(mutant)
                continue
            override = _Override(target.module, compiled, str(REPO / target.path))
            running.append(_fork(target.tests, override, mutant))
        for job, exit_code in _reap(running, timeout):
            assert job.mutant is not None
            target = by_mutant[job.mutant.key]
            if exit_code == 0 and job.stage == 0 and target.slow:
                running.append(_fork(target.slow, job.override, job.mutant, stage=1))
                continue
            if exit_code == 0 and job.stage < _FRESH:
                # Survived the patched functions: confirm with a fresh import of the library.
                tests = target.tests + target.slow
                running.append(_fork(tests, job.override, job.mutant, stage=_FRESH))
                continue
            if exit_code is None:
                outcome.timeouts.append(job.mutant)
            elif exit_code == 0:
                outcome.survived.append(job.mutant)
                print(
                    f"  survived {job.mutant.key} {job.mutant.description}: "
                    f"{_source_line(job.mutant)}",
                    flush=True,
                )
            else:
                outcome.killed.append(job.mutant)
            done = len(outcome.killed) + len(outcome.survived) + len(outcome.timeouts)
            if done % 50 == 0:
                print(f"  {done}/{total} mutants run", flush=True)
    return outcome


def _source_line(mutant: Mutant) -> str:
    lines = (REPO / mutant.path).read_text().splitlines()
    return lines[mutant.line - 1].strip() if 0 < mutant.line <= len(lines) else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", action="append", choices=sorted(GROUPS), help="default: all")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")))
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KEY",
        help="run only the mutants whose key (path:line:col:operator) starts with KEY",
    )
    args = parser.parse_args(argv)
    groups = args.group or list(GROUPS)
    equivalent = load_equivalent()
    if args.list:
        for name in groups:
            for target in GROUPS[name]:
                if (REPO / target.path).is_file():
                    for mutant in mutants(target):
                        print(f"{mutant.key} {mutant.description}")
        return 0
    # Import what every test process needs once; each mutant's process is a fork of this one.
    import pulumi  # noqa: F401
    import pulumi_aws  # noqa: F401
    import pulumi_eks  # noqa: F401
    import pulumi_kubernetes  # noqa: F401
    import pydantic  # noqa: F401
    import pytest  # noqa: F401

    # ... and the library: each mutant patches the code of its functions (see _Override).
    for name in groups:
        for target in GROUPS[name]:
            if (REPO / target.path).is_file():
                importlib.import_module(target.module)
    importlib.import_module("eksplatform.preview.engine")
    summary = []
    for name in groups:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        outcome = run_group(name, args.jobs, args.timeout, equivalent, args.only)
        killed = len(outcome.killed) + len(outcome.timeouts)
        counted = killed + len(outcome.survived)
        rate = 100.0 * killed / counted if counted else 100.0
        summary.append((name, killed, counted, rate, len(outcome.equivalent), outcome))
        print(
            f"  {name}: {killed}/{counted} killed ({rate:.1f}%), {len(outcome.equivalent)} "
            f"equivalent, {len(outcome.invalid)} not compilable, "
            f"{time.monotonic() - started:.0f}s",
            flush=True,
        )
    print("\n== kill rates")
    for name, killed, counted, rate, equivalents, _ in summary:
        print(f"  {name:16} {killed:4}/{counted:<4} {rate:5.1f}%  ({equivalents} equivalent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Provider SDK modules imported during an offline preview, compiled with lazy annotations.

A preview imports provider SDK modules while the program runs (``pulumi_datadog`` when the first
monitor is built, the ``pulumi_aws`` submodules the program touches, ...). Their code is generated:
thousands of classes whose every ``__init__`` parameter and property getter carries an annotation
such as ``pulumi.Input[Optional[Sequence[pulumi.Input['MonitorAssetArgs']]]]``, which Python
evaluates when the ``def`` runs. ``import pulumi_datadog`` alone builds ~17,000 classes and
spends about half of its ~4 s in ``typing`` subscriptions whose results nothing reads: Pulumi
only looks at the annotations of the types a program actually uses, through
``typing.get_type_hints`` (``pulumi._types._raw_return_hints``, cached per class), which
evaluates annotation strings in the module's globals exactly as it returns evaluated ones.

Design decision: while a preview runs, the modules of those SDKs that are not imported yet are
compiled as if they began with ``from __future__ import annotations`` (PEP 563: annotations are
kept as their source text), so only the types a program uses pay for their annotations, when
Pulumi asks. Nothing else in the module changes; what the program registers and what each
Output resolves to is the same (``tests/preview/test_sdk_imports.py`` previews one service with
and without this, in fresh processes, and compares every byte written). Measured: importing
``pulumi_datadog`` 3.7-4.4 s -> 2.2-2.5 s of CPU.

Two more costs of those imports are cut for the run, with results equal by construction:
``pulumi._utils.is_empty_function`` (run by ``@pulumi.getter`` on each of ~45,000 getters, it
collects the function's constants before comparing its bytecode) compares the bytecode first, and
``typing.ForwardRef`` (one per field of the SDKs' ``TypedDict`` classes, compiling the same few
hundred expressions ~20,000 times) gets a ``compile`` that remembers each expression's code
object (code objects are immutable). Together ~0.5 s of the ``pulumi_datadog`` import.

The cost: the compiled code is cached beside the SDK's own bytecode under another name
(``<module>.cpython-3XX.opt-lazyannotations.pyc``, which no interpreter loads by itself, checked
against the source's size and modification time like a ``.pyc``); the first preview after an
SDK install compiles the modules it imports (seconds for ``pulumi_datadog``), and where the SDK's
folder is read-only they are compiled again each time. A module imported during a preview keeps
lazy annotations for the rest of the process (``__annotations__`` holds strings:
``typing.get_type_hints`` still returns the types; ``inspect.signature`` shows the text).
"""

from __future__ import annotations
import __future__

import builtins
import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import marshal
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from types import CodeType, ModuleType
from typing import Any

PACKAGES: frozenset[str] = frozenset({"pulumi_aws", "pulumi_kubernetes", "pulumi_datadog"})
"""Top-level packages whose modules get lazy annotations when first imported during a run."""

OPTIMIZATION = "lazyannotations"
"""The bytecode cache's optimization tag (``.opt-lazyannotations.pyc``)."""

_FLAGS = __future__.annotations.compiler_flag


def _header(source_path: str) -> bytes:
    """A ``.pyc``-style header: the interpreter's magic number, flags, source mtime and size."""
    st = os.stat(source_path)
    return (
        importlib.util.MAGIC_NUMBER
        + b"\0\0\0\0"
        + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )


class LazyAnnotationsLoader(importlib.machinery.SourceFileLoader):
    """A source loader compiling with ``from __future__ import annotations`` in effect."""

    def get_code(self, fullname: str) -> CodeType:
        source_path = self.get_filename(fullname)
        header = _header(source_path)
        cache = importlib.util.cache_from_source(source_path, optimization=OPTIMIZATION)
        try:
            with open(cache, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        if data[: len(header)] == header:
            cached = marshal.loads(memoryview(data)[len(header) :])
            if isinstance(cached, CodeType):
                return cached
        code = compile(
            self.get_data(source_path), source_path, "exec", flags=_FLAGS, dont_inherit=True
        )
        with contextlib.suppress(OSError):  # a read-only SDK: compiled again next time
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            partial = f"{cache}.{os.getpid()}.tmp"
            with open(partial, "wb") as f:
                f.write(header + marshal.dumps(code))
            os.replace(partial, cache)
        assert isinstance(code, CodeType)
        return code


class _Finder(importlib.abc.MetaPathFinder):
    """Finds modules of :data:`PACKAGES` as the path finder does, with the loader above."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = LazyAnnotationsLoader(spec.loader.name, spec.loader.path)
        return spec


def _bytecode_first(original: Callable[[Any], bool], empties: frozenset[bytes]) -> Any:
    """``pulumi._utils.is_empty_function`` answering False at once for a function whose bytecode
    is none of the empty functions' it compares against (``empties``); Pulumi's otherwise."""

    def is_empty_function(fn: Any) -> bool:
        return fn.__code__.co_code in empties and original(fn)

    return is_empty_function


def _remembering_compile() -> Callable[..., Any]:
    """``compile`` for ``typing``: the code object of ``compile(source, filename, mode)`` made
    once per arguments (a failing source raises each time); any other call as given."""
    made: dict[tuple[str, str, str], CodeType] = {}

    def compile_(source: Any, filename: Any, mode: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or type(source) is not str or type(filename) is not str:
            return builtins.compile(source, filename, mode, *args, **kwargs)
        key = (source, filename, mode)
        code = made.get(key)
        if code is None:
            code = made[key] = builtins.compile(source, filename, mode)
        return code

    return compile_


@contextlib.contextmanager
def lazy_sdk_annotations(enabled: bool = True) -> Iterator[None]:
    """Inside the block, SDK modules imported for the first time get lazy annotations, and
    ``is_empty_function`` and ``typing``'s ``compile`` are the equivalents above."""
    if not enabled:
        yield
        return
    import typing

    from pulumi import _utils

    finder = _Finder()
    sys.meta_path.insert(0, finder)
    saved_is_empty = _utils.is_empty_function
    empties = frozenset(
        f.__code__.co_code
        for f in (_utils._empty, _utils._empty_doc, _utils._empty_lambda, _utils._empty_lambda_doc)
    )
    setattr(_utils, "is_empty_function", _bytecode_first(saved_is_empty, empties))  # noqa: B010
    shadowed = "compile" in vars(typing)
    if not shadowed:
        setattr(typing, "compile", _remembering_compile())  # noqa: B010 - typing's global
    try:
        yield
    finally:
        if not shadowed:
            delattr(typing, "compile")
        setattr(_utils, "is_empty_function", saved_is_empty)  # noqa: B010
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)

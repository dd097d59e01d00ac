"""Workarounds for costs of the Pulumi Python runtime that only matter when a whole program runs
in-process under mocks (the offline preview), installed for the duration of one run.

Each workaround keeps what the program registers, in what shape, exactly as before; it only removes
work whose result the preview never reads, or replaces an algorithm with an equivalent cheaper one.
Measured on ``bench/bench_fleet.py`` (one program, 100 ServiceStacks, ~1,850 resources).

* :func:`wait_for_rpcs` replaces ``pulumi.runtime.stack.wait_for_rpcs`` (pulumi 3.x). Pulumi's
  version waits for the program's outstanding Outputs with
  ``asyncio.wait(all_pending, return_when=FIRST_COMPLETED)`` in a loop: every round adds (and then
  removes) a done-callback on *every* pending task, although one of them finishing ends the round.
  With thousands of pending Outputs (~100 per ServiceStack) that was ~770,000
  ``add_done_callback`` / ``remove_done_callback`` pairs for 100 services and ~40% of the run.
  Here the Outputs are awaited in the order they were created: a wake-up is attached only to the
  first one still pending when the loop reaches it (by then most others are done), so nothing is
  added per Output; the loop otherwise does the same: await every RPC, then every Output,
  picking up Outputs created meanwhile, until no RPC and no Output is left. On a failure it
  re-raises the first failed Output in creation order (Pulumi's loop raises whichever failed
  task its set of done tasks yields first, which varies run to run).
* ``SETTINGS.outputs`` is a :class:`TrackedOutputs` for the run (a set that iterates in the order
  tasks were added, which makes that order hold), and ``Output._track`` adds an Output's task to
  it without Pulumi's done-callback, which took a successful task out of the set again: with the
  wait loop above, those callbacks and the loop's own were ~70% of the event loop's callbacks
  (68,600 of 96,700 for 50 ServiceStacks; 28,100 left). Only the wait loop reads the set, and it
  passes over a finished task at once; ``Output.apply`` and ``recover`` still take their source
  out (``_untrack``), so its failure is reported at the end of the chain, as before.
* ``rpc.transfer_properties`` (one Output per property of every registered resource) gives each
  Output one future, resolved by the resolver with the whole ``_OutputData`` at once
  (:func:`_single_future_outputs`). Pulumi's makes four futures per property (value, known,
  secret, dependencies) and a task per Output that awaits them and builds the same
  ``_OutputData``: ~12% of the run at 200 ServiceStacks, most of the properties never read. The
  resolvers take the same arguments; an Output resolves to equal data, or fails with the very
  exception the resolver was given (a test resolves both versions the same ways).
* The mock's answer to a registration reaches the SDK without a protobuf round trip
  (:class:`PlainResponse`, :class:`PlainState`): the monitor used to turn the resource's state
  into a ``Struct`` for the SDK to turn it back. The SDK now reads the state directly with the
  same rules (numbers as floats, ``None`` dropped from objects, unknowns), falling back to the
  ``Struct`` for anything but plain data; dict keys come in the state's order instead of the
  ``Struct`` map's hash order (under ``pulumi up`` the order is the engine's: nothing may rely
  on it). ~5% of the run.
* ``rpc.serialize_property`` returns a ``str``, ``int``, ``float``, ``bool`` or ``None`` at once
  (:func:`_scalars_at_once`): Pulumi's passes each through a dozen type checks before returning
  it unchanged, for ~75% of the values it serializes (35,000 of 47,000 for 50 ServiceStacks).
* ``pulumi.log.debug`` does nothing: the preview's engine keeps no debug messages
  (``_CapturingEngine``), and the SDK logs several per registration (~2% of the run).
* ``pulumi.runtime.resource._get_stack_trace`` is replaced by one returning an empty trace. Pulumi
  walks and formats the Python stack (``traceback.extract_stack``) on every registration so the
  engine can show where a resource was declared; the mock monitor ignores ``stackTrace`` and
  ``sourcePosition`` and the preview reports neither (~4% of the run).
* ``pulumi.resource.collapse_alias_to_urn`` is skipped when the monitor supports alias specs (the
  mock monitor does): ``Resource.__init__`` eagerly turns every alias into a URN Output (three
  per Kubernetes object: the SDK aliases old API versions), but with alias specs Pulumi sends the
  aliases themselves (``prepare_aliases`` reads ``opts.aliases``) and never reads those URNs; only
  the engine path without alias specs (``all_aliases``) does, and it still gets Pulumi's version
  (~7% of the run).
* RPCs are answered inline, on the event loop's thread. Pulumi sends every monitor RPC through
  ``loop.run_in_executor`` because a real monitor is a blocking gRPC call; the mock monitor is a
  Python object, so the hop to a worker thread only adds thread hand-offs, GIL contention and
  self-pipe wake-ups (~8% of the run). Answering inline must not pump the event loop (Pulumi's
  ``_sync_await`` would, re-entrantly), so state is serialized by :func:`serialize_now`, which
  runs the serializer coroutine to completion without the loop: the mocks' answers are plain
  data. A payload holding resource references, assets or output values (whose rehydration needs
  an event loop of its own, see ``RecordingMonitor.Call``) is answered on a worker thread exactly
  as before (:func:`needs_own_loop`).
* ``create_urn`` is not computed for a registration's ``mock_urn``: ``do_register`` and
  ``do_read`` build it (an Output chain of three applies, for every resource) only to answer
  without a monitor, and the preview always has one. Any other caller (aliases, child aliases)
  still gets Pulumi's version (:func:`_skip_mock_urn`; ~5% of the run).
* ``rpc.contains_unknowns`` (run for every resolved Output, on its whole value) returns at once
  for scalars and walks containers with the same rules otherwise (:func:`_contains_unknowns`;
  ~5%).
* ``pulumi._types.unwrap_type`` (typing introspection run for every property serialized) is
  memoized per type: its result depends only on the type, which is immutable
  (:func:`_memoized_unwrap_type`; ~5%).
* ``pulumi._types.unwrap_optional_type`` (run on every output property's type when outputs are
  translated) is memoized per type like ``unwrap_type``, and ``pulumi._types.resource_types``
  (run for every registration: it builds a class and calls ``typing.get_type_hints`` on the
  resource class's annotations each time) per resource class, each call getting its own copy of
  the dict (:func:`_memoized_resource_types`): a class's annotations, module globals and
  properties do not change during a run (~1.5%).
* ``rpc.deserialize_properties`` (every request the monitor reads and every answer the SDK
  resolves) walks the protobuf ``Struct`` through its fields and ``WhichOneof`` directly instead
  of the ``Struct`` helpers' per-item conversions, with Pulumi's rules (``None`` dropped from
  objects, unknowns, secrets pushed up a level, the map's own key order); a ``Struct`` carrying
  any other signature (assets, archives, resource references, output values) is Pulumi's
  (:func:`_fast_deserialize_properties`; ~2.5x faster on the fleet's objects, ~3% of a run).
* Provider SDK modules first imported during a run are compiled with lazy annotations
  (:mod:`eksplatform.preview.sdk_imports`, installed by the engine for the run): generated
  annotations Pulumi never reads are not evaluated. Importing ``pulumi_datadog`` (needed by the
  first monitor) went from ~4 s to ~2.3 s of CPU, ~1.7 s of a fleet preview at any size.
* :func:`collection_paused`: no automatic garbage collection while a preview runs, and the heap
  the run leaves behind handed to the collector only when the next preview in the same process
  starts. A preview allocates millions of container objects (tasks, futures, Outputs, protobuf
  messages, one set per resource) that nearly all live until the run ends: at 200
  ServiceStacks the young generations were collected ~7,000 times and freed ~10,000 objects of
  ~4.5 million scanned (2.3-3 s, ~12% of the run), and the full pass that followed the run (in
  the write phase) scanned everything to free the run's ~640,000 cyclic leftovers (1.5-2.5 s).
  Both are gone: collection is off for the run (Pulumi program, render, schema check, policy)
  and while its files are written (``write_result``), and after each, everything alive is
  frozen (``gc.freeze``) so that collections in between (the caller's own work) never rescan
  it. The cost is memory, measured in ``bench/bench_fleet.py`` against the engine before: peak
  RSS 730 MB against 711 MB at 200 ServiceStacks, 1,179 MB against 1,122 MB (+5%) at 400 (the
  run's cyclic garbage waits for the run's end; young collections had freed only ~10,000
  objects); the leftovers are freed
  when the process exits or, in a process that previews again (the CLI, the tests), go back to
  the collector's oldest generation when that next preview starts (``gc.unfreeze``) and are
  freed by the next full pass, as before. A process that froze objects itself is left alone.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any

_inline_thread: int | None = None
"""Ident of the thread answering RPCs inline (the preview's event loop thread), during a run."""


async def wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """Drop-in for ``pulumi.runtime.stack.wait_for_rpcs``: linear instead of one pass over all
    pending Outputs per completed Output (see the module docstring)."""
    from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

    rpc_manager = _get_rpc_manager()
    loop = asyncio.get_running_loop()
    while True:
        # RPCs: as Pulumi does (await each; a failure re-raises with the RPC's own cause).
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(
                        rpc_manager.exception_traceback
                    )
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)

        if await_all_outstanding_tasks:
            await _await_outputs(SETTINGS, loop)

        if len(rpc_manager.rpcs) == 0:
            break


async def _await_outputs(settings: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Await every tracked Output task (``SETTINGS.outputs``), including those created while
    waiting, in the order they were created; on a failure, re-raise the first failed task in that
    order (see :class:`TrackedOutputs`)."""
    queue: collections.deque[asyncio.Future[Any]] = collections.deque()
    while True:
        with settings.lock:
            # Pulumi's loop takes the set and clears it the same way.
            queue.extend(settings.outputs)
            settings.outputs.clear()
        if not queue:
            return
        while queue:
            task = queue[0]
            if not task.done():
                # One wake-up for the first Output still pending, not a callback on every one:
                # by the time it is done, most of the others are too.
                waiter: asyncio.Future[None] = loop.create_future()
                task.add_done_callback(functools.partial(_wake, waiter))
                await waiter
                continue
            queue.popleft()
            if task.cancelled() or task.exception() is not None:
                await task  # re-raises its exception, as Pulumi's loop does


def _wake(waiter: asyncio.Future[None], _task: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class TrackedOutputs:
    """``SETTINGS.outputs`` during a run: the set of Output tasks to wait for, iterated in the
    order they were added (a set of tasks iterates by address, which differs run to run)."""

    __slots__ = ("_tasks",)

    def __init__(self, tasks: Iterable[asyncio.Future[Any]] = ()) -> None:
        self._tasks: dict[asyncio.Future[Any], None] = dict.fromkeys(tasks)

    def add(self, task: asyncio.Future[Any]) -> None:
        self._tasks[task] = None

    def discard(self, task: asyncio.Future[Any]) -> None:
        self._tasks.pop(task, None)

    def remove(self, task: asyncio.Future[Any]) -> None:
        del self._tasks[task]

    def clear(self) -> None:
        self._tasks.clear()

    def __contains__(self, task: object) -> bool:
        return task in self._tasks

    def __iter__(self) -> Iterator[asyncio.Future[Any]]:
        return iter(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)


def _track_output(settings: Any) -> Callable[[Any], None]:
    """``Output._track`` for a run: the Output's task joins ``SETTINGS.outputs``, without
    Pulumi's done-callback that takes a successful task out of the set again (one callback per
    Output, ~40% of the event loop's callbacks): the set is only read by the wait loop
    (:func:`_await_outputs`), which passes over a finished task at once."""

    def _track(self: Any) -> None:
        with settings.lock:
            settings.outputs.add(self._data)

    return _track


def _lazy_collapse_alias(original: Callable[..., Any]) -> Callable[..., Any]:
    def collapse_alias_to_urn(
        alias: Any, default_name: str, default_type: str, default_parent: Any
    ) -> Any:
        from pulumi.runtime.proto import resource_pb2
        from pulumi.runtime.settings import monitor_supports_feature

        if monitor_supports_feature(resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS):
            return alias  # stored in Resource._aliases, which is then never read
        return original(alias, default_name, default_type, default_parent)

    return collapse_alias_to_urn


class _KnownNone:
    """What ``await create_urn(...).future()`` gives where its result is never read."""

    async def future(self) -> None:
        return None


_MOCK_URN_CALLERS = frozenset({"do_register", "do_read"})


def _skip_mock_urn(original: Callable[..., Any]) -> Callable[..., Any]:
    """``create_urn`` that answers ``do_register`` / ``do_read`` of ``pulumi.runtime.resource``
    without building the URN: there it only feeds ``mock_urn``, read when the runtime has no
    monitor (``if monitor is None``), never during a preview."""
    import sys

    module = original.__module__

    def create_urn(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1)
        if (
            caller.f_code.co_name in _MOCK_URN_CALLERS
            and caller.f_globals.get("__name__") == module
        ):
            return _KnownNone()
        return original(*args, **kwargs)

    return create_urn


_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def _contains_unknowns(unknown_type: type) -> Callable[[Any], bool]:
    """``pulumi.runtime.rpc.contains_unknowns``: whether a value holds an ``Unknown`` anywhere in
    its dicts and lists (each container visited once), answered at once for scalars."""

    def walk(value: Any, seen: set[int]) -> bool:
        if type(value) in _SCALARS:
            return False
        if isinstance(value, unknown_type):
            return True
        if id(value) in seen:
            return False
        seen.add(id(value))
        if isinstance(value, dict):
            return any(walk(value[k], seen) for k in value)
        if isinstance(value, list):
            return any(walk(item, seen) for item in value)
        return False

    def contains_unknowns(value: Any) -> bool:
        return type(value) not in _SCALARS and walk(value, set())

    return contains_unknowns


def _memoized_unwrap_type(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``pulumi._types.unwrap_type`` remembered per type (a type that cannot be hashed is
    unwrapped each time, as before)."""
    cache: dict[Any, Any] = {}

    def unwrap_type(val: Any) -> Any:
        try:
            return cache[val]
        except KeyError:
            result = cache[val] = original(val)
            return result
        except TypeError:
            return original(val)

    return unwrap_type


def _fast_deserialize_properties(original: Callable[..., Any]) -> Callable[..., Any]:
    """``rpc.deserialize_properties`` for plain structs (see the module docstring)."""
    from pulumi.output import Unknown
    from pulumi.runtime import rpc, settings

    sig_key, secret_sig, unknown = rpc._special_sig_key, rpc._special_secret_sig, rpc.UNKNOWN
    struct_type = type(serialize_now({}))

    def is_secret(value: Any) -> bool:
        return type(value) is dict and value.get(sig_key) == secret_sig

    def value_of(v: Any, keep_unknowns: Any, keep_internal: Any) -> Any:
        # deserialize_property(<the struct helpers' Python value of v>, ...)
        kind = v.WhichOneof("kind")
        if kind == "string_value":
            text = v.string_value
            if text == unknown:
                return Unknown() if settings.is_dry_run() or keep_unknowns else None
            return text
        if kind == "number_value":
            return v.number_value
        if kind == "bool_value":
            return v.bool_value
        if kind == "struct_value":
            props = properties(v.struct_value, keep_unknowns, keep_internal)
            if type(props) is dict and any(is_secret(p) for p in props.values()):
                return {
                    sig_key: secret_sig,
                    "value": {k: p["value"] if is_secret(p) else p for k, p in props.items()},
                }
            return props
        if kind == "list_value":
            items = [value_of(item, keep_unknowns, keep_internal) for item in v.list_value.values]
            if any(is_secret(item) for item in items):
                return {
                    sig_key: secret_sig,
                    "value": [item["value"] if is_secret(item) else item for item in items],
                }
            return items
        return None  # null_value (or unset)

    def properties(struct: Any, keep_unknowns: Any = None, keep_internal: Any = True) -> Any:
        if type(struct) is PlainState:
            return struct.deserialized(keep_unknowns, keep_internal)
        if type(struct) is not struct_type:
            return original(struct, keep_unknowns, keep_internal)
        fields = struct.fields
        if sig_key in fields:
            sig = fields[sig_key]
            if sig.WhichOneof("kind") == "string_value" and sig.string_value == secret_sig:
                inner = value_of(fields["value"], None, True) if "value" in fields else None
                return inner if is_secret(inner) else {sig_key: secret_sig, "value": inner}
            return original(struct, keep_unknowns, keep_internal)
        output: dict[str, Any] = {}
        for key, v in fields.items():
            if keep_internal is False and key.startswith("__") and key != "__provider":
                continue
            value = value_of(v, keep_unknowns, keep_internal)
            if value is not None:
                output[key] = value
        return output

    return properties


def _memoized_resource_types(
    original: Callable[[type], dict[str, type]],
) -> Callable[[type], dict[str, type]]:
    """``pulumi._types.resource_types`` remembered per resource class; a copy per call."""
    cache: dict[type, dict[str, type]] = {}

    def resource_types(resource_cls: type) -> dict[str, type]:
        found = cache.get(resource_cls)
        if found is None:
            found = cache[resource_cls] = original(resource_cls)
        return dict(found)

    return resource_types


def _single_future_outputs() -> Callable[..., Any]:
    """``rpc.transfer_properties`` whose Outputs each hold one future, resolved with the whole
    ``_OutputData`` by the resolver (see the module docstring); the resolvers take the same
    arguments and the Outputs resolve to the same data, or fail with the same exception."""
    from pulumi.output import Output, _OutputData

    def transfer_properties(res: Any, props: Any, custom: bool) -> dict[str, Any]:
        resolvers: dict[str, Any] = {}
        for name in props:
            if name == "urn" or (name == "id" and custom):
                continue  # handled elsewhere, as in Pulumi's version
            data: asyncio.Future[Any] = asyncio.Future()

            def resolve(
                value: Any,
                is_known: bool,
                is_secret: bool,
                deps: Any,
                failed: Exception | None,
                data: asyncio.Future[Any] = data,
            ) -> None:
                if failed is not None:
                    data.set_exception(failed)
                    return
                resources = set(deps) if deps else set()
                resources.add(res)
                data.set_result(
                    _OutputData(
                        resources=resources, value=value, is_known=is_known, is_secret=is_secret
                    )
                )

            resolvers[name] = resolve
            res.__dict__[name] = Output._from_data(data)
        return resolvers

    return transfer_properties


def _scalars_at_once(original: Callable[..., Any]) -> Callable[..., Any]:
    """``rpc.serialize_property`` returning a ``str``, ``int``, ``float``, ``bool`` or ``None``
    (exactly those types) as it is, as Pulumi's version does after passing it through every
    other kind of value it knows; anything else, and any call asking for a protobuf ``Value``,
    is Pulumi's."""

    async def serialize_property(
        value: Any,
        deps: Any,
        property_key: Any,
        resource_obj: Any = None,
        input_transformer: Any = None,
        typ: Any = None,
        keep_output_values: bool = False,
        exclude_resource_refs_from_deps: bool = False,
        return_protobuf_value: bool = False,
    ) -> Any:
        if type(value) in _SCALARS and not return_protobuf_value:
            return value
        return await original(
            value,
            deps,
            property_key,
            resource_obj,
            input_transformer,
            typ,
            keep_output_values,
            exclude_resource_refs_from_deps,
            return_protobuf_value,
        )

    return serialize_property


def _dropped_debug(
    msg: str, resource: Any = None, stream_id: Any = None, ephemeral: Any = None
) -> None:
    """``pulumi.log.debug`` for the preview's engine, which keeps no debug messages."""


def _empty_stack_trace() -> Any:
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def on_inline_thread() -> bool:
    """Whether the caller is answering an RPC inline, on the event loop's thread."""
    return _inline_thread is not None and threading.get_ident() == _inline_thread


def _own_loop_sigs() -> tuple[bytes, ...]:
    from pulumi.runtime import rpc

    return tuple(
        sig.encode()
        for sig in (
            rpc._special_resource_sig,
            rpc._special_asset_sig,
            rpc._special_archive_sig,
            rpc._special_output_value_sig,
        )
    )


def needs_own_loop(payload: Any) -> bool:
    """Whether a protobuf ``Struct`` payload may hold a resource reference, an asset, an archive
    or an output value (their signatures appear in its wire bytes; a false positive only takes
    the worker-thread path)."""
    blob = payload.SerializeToString()
    return any(sig in blob for sig in _own_loop_sigs())


class _NotPlainError(Exception):
    """A value :func:`_plain` leaves to Pulumi's serializer."""


def _plain(value: Any, unknown_type: type, unknown: str) -> Any:
    """What ``rpc.serialize_property(value, deps, key)`` returns (no type metadata, no key
    translation) for plain data: lists and tuples as lists, mappings with the same keys (``None``
    values kept), unknowns as the unknown marker, scalars as they are."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: _plain(v, unknown_type, unknown) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, unknown_type, unknown) for v in value]
    if isinstance(value, unknown_type):
        return unknown
    raise _NotPlainError


def serialize_now(value: dict[str, Any]) -> Any:
    """``rpc.serialize_properties(value, {})`` without an event loop. Plain data (dicts, lists,
    strings, numbers, booleans, None, unknowns, secret-marked dicts: what the mocks answer) is
    converted directly, as Pulumi's serializer converts it (top-level ``None`` dropped); anything
    else goes through Pulumi's coroutine, which never suspends for such values."""
    from google.protobuf import struct_pb2  # type: ignore[import-untyped]
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    try:
        plain = {k: _plain(value[k], Unknown, rpc.UNKNOWN) for k in value}
    except _NotPlainError:
        return run_now(rpc.serialize_properties(value, {}))
    struct = struct_pb2.Struct()
    for key, item in plain.items():
        if item is not None:
            struct[key] = item
    return struct


class PlainState:
    """A mock's answer (a resource's state) handed to the SDK without a protobuf ``Struct``:
    ``deserialize_properties`` (the engine's, during a run) turns it into what Pulumi would read
    back from ``serialize_now(state)`` (see :class:`PlainResponse`)."""

    __slots__ = ("state",)

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def deserialized(self, keep_unknowns: Any = None, keep_internal: Any = True) -> Any:
        """``deserialize_properties(serialize_now(state), keep_unknowns, keep_internal)``:
        the same values (numbers as floats, ``None`` dropped from objects, unknowns as
        ``Unknown``); keys in the state's own order. Anything but plain data (or a key that is
        not a string, or Pulumi's signature key) takes the ``Struct`` path itself."""
        from pulumi.output import Unknown
        from pulumi.runtime import rpc, settings

        unknown_text, sig_key = rpc.UNKNOWN, rpc._special_sig_key
        unknown_kept = bool(settings.is_dry_run() or keep_unknowns)
        drop_internal = keep_internal is False

        def value_of(value: Any) -> Any:
            kind = type(value)
            if kind is str:
                if value == unknown_text:
                    return Unknown() if unknown_kept else None
                return value
            if kind is bool or value is None:
                return value
            if kind is int:
                try:
                    return float(value)
                except OverflowError:
                    raise _NotPlainError from None
            if kind is float:
                return value
            if kind is dict:
                return mapping(value)
            if kind is list or kind is tuple:
                return [value_of(item) for item in value]
            if isinstance(value, Unknown):
                return Unknown() if unknown_kept else None
            raise _NotPlainError

        def mapping(value: dict[Any, Any]) -> dict[str, Any]:
            if sig_key in value:
                raise _NotPlainError
            out: dict[str, Any] = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _NotPlainError
                if drop_internal and key.startswith("__") and key != "__provider":
                    continue
                converted = value_of(item)
                if converted is not None:
                    out[key] = converted
            return out

        try:
            return mapping(self.state)
        except _NotPlainError:
            return rpc.deserialize_properties(
                serialize_now(self.state), keep_unknowns, keep_internal
            )


class PlainResponse:
    """What the SDK reads of a ``RegisterResourceResponse`` (``do_register``: urn, id, result,
    propertyDependencies, unknown, object), answered inline without building the message; its
    ``object`` is a :class:`PlainState`."""

    __slots__ = ("id", "object", "propertyDependencies", "result", "unknown", "urn")

    def __init__(self, urn: str, id_: str, state: dict[str, Any]) -> None:
        from pulumi.runtime.proto import resource_pb2

        self.urn = urn
        self.id = id_
        self.object = PlainState(state)
        self.result = resource_pb2.Result.SUCCESS
        self.propertyDependencies: dict[str, Any] = {}
        self.unknown = False


def run_now(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that does not suspend to completion; raise if it would suspend."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError(
        "offline preview: a mock answer needed the event loop while being serialized "
        "(it holds something other than plain data)"
    )


def _sync_await_dispatch(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``pulumi.runtime.mocks._sync_await`` (used by ``MockMonitor.Invoke`` / ``ReadResource``):
    without the loop when answering inline, Pulumi's own otherwise (worker threads)."""

    def dispatch(awaitable: Any) -> Any:
        if on_inline_thread() and asyncio.iscoroutine(awaitable):
            return run_now(awaitable)
        return original(awaitable)

    return dispatch


def _inline_run_in_executor(loop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """``loop.run_in_executor`` that calls ``func`` at once for the default executor and returns
    an already-resolved future (the awaiting task still yields to the loop once, as before)."""
    original = loop.run_in_executor

    def run_in_executor(executor: Any, func: Callable[..., Any], *args: Any) -> Any:
        if executor is not None:
            return original(executor, func, *args)
        future = loop.create_future()
        try:
            future.set_result(func(*args))
        except Exception as exc:  # delivered to the awaiting task, as an executor's future does
            future.set_exception(exc)
        return future

    return run_in_executor


@contextlib.contextmanager
def preview_workarounds(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Install the workarounds for one in-process run on ``loop`` (run on this thread); restore
    Pulumi's originals after."""
    global _inline_thread
    import pulumi._types as sdk_types
    import pulumi.log as sdk_log
    import pulumi.resource as sdk_resource
    import pulumi.runtime.mocks as runtime_mocks
    import pulumi.runtime.resource as runtime_resource
    import pulumi.runtime.rpc as runtime_rpc
    import pulumi.runtime.stack as runtime_stack
    from pulumi.output import Output, Unknown
    from pulumi.runtime.settings import SETTINGS

    saved = (runtime_stack.wait_for_rpcs, runtime_resource._get_stack_trace)
    saved_sync_await = getattr(runtime_mocks, "_sync_await")  # noqa: B009 - private, untyped export
    runtime_stack.wait_for_rpcs = wait_for_rpcs
    runtime_resource._get_stack_trace = _empty_stack_trace
    setattr(runtime_mocks, "_sync_await", _sync_await_dispatch(saved_sync_await))  # noqa: B010
    saved_collapse = getattr(sdk_resource, "collapse_alias_to_urn")  # noqa: B009 - not exported
    setattr(sdk_resource, "collapse_alias_to_urn", _lazy_collapse_alias(saved_collapse))  # noqa: B010
    setattr(loop, "run_in_executor", _inline_run_in_executor(loop))  # noqa: B010 - instance patch
    saved_sdk = (runtime_resource.create_urn, runtime_rpc.contains_unknowns, sdk_types.unwrap_type)
    saved_types = (sdk_types.unwrap_optional_type, sdk_types.resource_types)
    saved_deserialize = runtime_rpc.deserialize_properties
    saved_transfer = runtime_rpc.transfer_properties
    saved_debug = sdk_log.debug
    saved_serialize = runtime_rpc.serialize_property
    setattr(runtime_rpc, "serialize_property", _scalars_at_once(saved_serialize))  # noqa: B010
    saved_track = Output._track
    setattr(Output, "_track", _track_output(SETTINGS))  # noqa: B010
    saved_outputs = SETTINGS.outputs
    SETTINGS.outputs = TrackedOutputs(saved_outputs)
    setattr(sdk_log, "debug", _dropped_debug)  # noqa: B010
    setattr(runtime_rpc, "transfer_properties", _single_future_outputs())  # noqa: B010
    setattr(  # noqa: B010
        runtime_rpc, "deserialize_properties", _fast_deserialize_properties(saved_deserialize)
    )
    setattr(  # noqa: B010
        sdk_types,
        "unwrap_optional_type",
        _memoized_unwrap_type(sdk_types.unwrap_optional_type),
    )
    setattr(sdk_types, "resource_types", _memoized_resource_types(sdk_types.resource_types))  # noqa: B010
    runtime_resource.create_urn = _skip_mock_urn(runtime_resource.create_urn)
    setattr(runtime_rpc, "contains_unknowns", _contains_unknowns(Unknown))  # noqa: B010
    setattr(sdk_types, "unwrap_type", _memoized_unwrap_type(sdk_types.unwrap_type))  # noqa: B010
    _inline_thread = threading.get_ident()
    try:
        yield
    finally:
        _inline_thread = None
        setattr(runtime_rpc, "deserialize_properties", saved_deserialize)  # noqa: B010
        setattr(runtime_rpc, "transfer_properties", saved_transfer)  # noqa: B010
        setattr(sdk_log, "debug", saved_debug)  # noqa: B010
        setattr(runtime_rpc, "serialize_property", saved_serialize)  # noqa: B010
        setattr(Output, "_track", saved_track)  # noqa: B010
        left = list(SETTINGS.outputs)
        SETTINGS.outputs = saved_outputs
        saved_outputs.clear()
        saved_outputs.update(left)
        setattr(sdk_types, "unwrap_optional_type", saved_types[0])  # noqa: B010
        setattr(sdk_types, "resource_types", saved_types[1])  # noqa: B010
        runtime_resource.create_urn, runtime_rpc.contains_unknowns, sdk_types.unwrap_type = (
            saved_sdk
        )
        with contextlib.suppress(AttributeError):
            delattr(loop, "run_in_executor")
        setattr(runtime_mocks, "_sync_await", saved_sync_await)  # noqa: B010
        setattr(sdk_resource, "collapse_alias_to_urn", saved_collapse)  # noqa: B010
        runtime_stack.wait_for_rpcs, runtime_resource._get_stack_trace = saved


_froze: list[bool] = [False]
"""Whether the last preview froze the heap (then the next one unfreezes it)."""


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No automatic garbage collection inside the block; after it, everything alive is frozen
    (``gc.freeze``) so later collections skip it, until the next block starts and hands it back
    to the collector (``gc.unfreeze``). A disabled collector, or a heap frozen by someone else,
    is left as it is (see the module docstring)."""
    if _froze[0]:
        _froze[0] = False
        gc.unfreeze()
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            _froze[0] = True
        gc.enable()

"""A service program's own stack configuration, typed and checked all at once.

A service program declares what it reads from ``Pulumi.<stack>.yaml`` as a dataclass and reads
it with one call, before it creates anything::

    @dataclass(frozen=True)
    class FeedConfig:
        image: str                                   # news-feed:image, required
        max_replicas: int = setting(default=10, minimum=1)   # news-feed:maxReplicas
        certificate_arn: str | None = None           # news-feed:certificateArn, optional
        signing_key: pulumi.Output[str] | None = None  # news-feed:signingKey, a secret

    config = load_config(FeedConfig)

Keys are the field names in camelCase under the project's namespace (``setting(key=...)``
overrides). Supported types: ``str``, ``int``, ``float``, ``bool``, ``list[str]``,
``dict[str, str]`` and ``pulumi.Output[str]`` (a secret), each optionally ``| None``; a field with
a default is optional. Every value is read and checked first (missing, mistyped, out of range, a
secret stored in clear, a secure value read as plain text, a key the program does not read);
then one :class:`~eksplatform.core.errors.ValidationError` lists every problem with the key as
the stack file spells it, the value, the stack file and the ``pulumi config set`` command that
fixes it. The offline preview exits 2 on it and registers nothing; ``pulumi up`` prints it
without a traceback. ``pulumi.Config.require_int`` instead stops at the first problem with
Pulumi's own text.

With ``platform=True`` (the default) the keys every service stack needs are checked too:
``clusterStack`` (the cluster stack's ``org/project/stack``), ``aws:region`` and
``aws:allowedAccountIds`` (compared with the cluster's by ServiceStack).

Design decision: ``ServiceStack`` reads ``clusterStack``, ``aws:region`` and
``aws:allowedAccountIds`` itself (through :func:`platform_settings`), against the house rule that
only programs read config: the default contract and the checks that the service stack deploys
into the cluster's region and account need them, and asking every program to pass them would
restate in each repo what the stack file already says. The cost: a component reads the default
AWS provider's config, so a program that gives ServiceStack an explicit AWS provider must keep
the stack config's region and account equal to that provider's.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pulumi
from pulumi.runtime import config as runtime_config

from ..core.contract import ClusterOutputs
from ..core.errors import MISSING, Problem, Problems, ValidationError
from .registry import current_run

T = TypeVar("T")

CANARY_KEYS = ("canary", "canaryPolicy")
"""Service stack config keys of a canary release (read by ``canary_config()``)."""
CLUSTER_STACK_KEY = "clusterStack"
"""Service stack config key naming the cluster stack (``org/project/stack``)."""
REGION_KEY = "aws:region"
ACCOUNTS_KEY = "aws:allowedAccountIds"

_STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_YAML11_BOOLS = ("yes", "no", "on", "off", "y", "n")

_SECRET_OUTPUTS: weakref.WeakSet[pulumi.Output[Any]] = weakref.WeakSet()


class _Hidden:
    """A value a message must not show (a secret written in clear)."""

    def __repr__(self) -> str:
        return "<a plain-text value, not shown>"


def is_config_secret_output(value: Any) -> bool:
    """Whether ``value`` is a secret Output :func:`load_config` read from the stack config
    (known at once, so ServiceStack refuses it in ``env`` before registering anything)."""
    return isinstance(value, pulumi.Output) and value in _SECRET_OUTPUTS


def setting(
    *,
    key: str | None = None,
    default: Any = dataclasses.MISSING,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: Sequence[Any] | None = None,
) -> Any:
    """A config field with a key of its own, a default, bounds (numbers) or allowed values.

    ``key`` is the stack file's key (default: the field name in camelCase, in the project's
    namespace; a key with ``:`` names another namespace)."""
    metadata = {"key": key, "minimum": minimum, "maximum": maximum, "choices": choices}
    return dataclasses.field(default=default, metadata=metadata)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _stack_file() -> str:
    return f"Pulumi.{pulumi.get_stack()}.yaml"


def _set_command(key: str, placeholder: str, *, secret: bool = False) -> str:
    short = key.split(":", 1)[1] if key.startswith(f"{pulumi.get_project()}:") else key
    flag = "--secret " if secret else ""
    return f"pulumi config set {flag}{short} {placeholder} -s {pulumi.get_stack()}"


def _all_keys() -> set[str]:
    keys = set(runtime_config.CONFIG.get())
    keys |= set(runtime_config.get_config_env())
    return keys


def _raw(key: str) -> Any:
    return runtime_config.get_config(key)


def _is_secret_key(key: str) -> bool:
    return (
        runtime_config.is_config_secret(key) or key in runtime_config.get_config_secret_keys_env()
    )


# --- platform keys --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlatformSettings:
    """The keys every service stack sets, as read (None when absent or malformed)."""

    cluster_stack: str | None
    """``<project>:clusterStack``."""
    region: str | None
    """``aws:region``: the default AWS provider's region."""
    account_ids: tuple[str, ...] | None
    """``aws:allowedAccountIds``: the only accounts the default AWS provider may touch."""
    problems: tuple[Problem, ...]
    """What is missing or malformed, in the stack file's words."""


def platform_settings(*, need_cluster_stack: bool = True) -> PlatformSettings:
    """Read and check ``clusterStack``, ``aws:region`` and ``aws:allowedAccountIds``."""
    problems: list[Problem] = []
    stack_file = _stack_file()
    cluster_key = f"{pulumi.get_project()}:{CLUSTER_STACK_KEY}"
    cluster_stack = _raw(cluster_key)
    if cluster_stack is None:
        if need_cluster_stack:
            problems.append(
                Problem(
                    cluster_key,
                    MISSING,
                    f"the service stack must name its cluster stack: add "
                    f"'{CLUSTER_STACK_KEY}: <organization>/eks-platform/<stack>' under config: "
                    f"in {stack_file} "
                    f"({_set_command(cluster_key, '<organization>/eks-platform/<stack>')})",
                )
            )
    elif not isinstance(cluster_stack, str) or not _is_stack_name(cluster_stack):
        problems.append(
            Problem(
                cluster_key,
                cluster_stack,
                "must be '<organization>/<project>/<stack>' such as "
                f"'organization/eks-platform/{pulumi.get_stack()}': fix it in {stack_file}",
            )
        )
        cluster_stack = None

    region = _raw(REGION_KEY)
    if region is None:
        problems.append(
            Problem(
                REGION_KEY,
                MISSING,
                f"the service stack must set the cluster's region (else the AWS provider "
                f"picks one from the environment): add 'aws:region: <region>' under config: in "
                f"{stack_file} ({_set_command(REGION_KEY, '<region>')})",
            )
        )
    elif not isinstance(region, str) or not _REGION.fullmatch(region):
        problems.append(
            Problem(
                REGION_KEY,
                region,
                f"must be an AWS region such as 'eu-west-1': fix it in {stack_file}",
            )
        )
        region = None

    accounts = _account_ids(_raw(ACCOUNTS_KEY), stack_file, problems)
    return PlatformSettings(
        cluster_stack=cluster_stack,
        region=region,
        account_ids=accounts,
        problems=tuple(problems),
    )


def _is_stack_name(value: str) -> bool:
    parts = value.split("/")
    return len(parts) == 3 and all(_STACK_NAME.fullmatch(p) for p in parts)


def _account_ids(raw: Any, stack_file: str, problems: list[Problem]) -> tuple[str, ...] | None:
    fix = (
        f"add 'aws:allowedAccountIds: [\"<12-digit account id>\"]' under config: in {stack_file} "
        "(quote the id: YAML reads a leading zero or a long number differently)"
    )
    if raw is None:
        problems.append(
            Problem(
                ACCOUNTS_KEY,
                MISSING,
                "the service stack must pin the cluster's AWS account (else any credentials "
                f"deploy it anywhere): {fix}",
            )
        )
        return None
    try:
        ids = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        ids = raw
    if not isinstance(ids, list) or not ids:
        problems.append(
            Problem(ACCOUNTS_KEY, raw, f"must be a non-empty list of account ids: {fix}")
        )
        return None
    out: list[str] = []
    for i, item in enumerate(ids):
        # An unquoted id arrives as a number: fine when it kept its 12 digits, but a leading
        # zero is lost on the way (YAML 1.2 reads 012345678901 as 12345678901).
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if not isinstance(text, str) or not _ACCOUNT.fullmatch(text):
            why = (
                "has fewer than 12 digits: a leading zero was lost because the id is not quoted"
                if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 10**11
                else "must be a 12-digit account id"
            )
            problems.append(Problem(f"{ACCOUNTS_KEY}[{i}]", item, f"{why}: {fix}"))
            return None
        out.append(text)
    return tuple(out)


def cluster_contract() -> ClusterOutputs:
    """The contract of the cluster stack named by the stack config's ``clusterStack``: the one
    every ServiceStack of the program uses by default (one StackReference per program). For the
    program's own resources: ``cluster.environment``, ``cluster.company_tags(team)``."""
    settings = platform_settings()
    if settings.cluster_stack is None:
        key = f"{pulumi.get_project()}:{CLUSTER_STACK_KEY}"
        raise ValidationError(
            f"{_stack_file()}: invalid service configuration",
            [p for p in settings.problems if p.field == key],
        )
    return default_cluster(settings.cluster_stack)


def default_cluster(cluster_stack: str) -> ClusterOutputs:
    """The contract of ``cluster_stack``, one StackReference per program run (every
    ServiceStack of the program that does not pass ``cluster`` shares it)."""
    run = current_run()
    contract = run.contracts.get(cluster_stack)
    if contract is None:
        contract = ClusterOutputs.from_stack_reference(cluster_stack)
        run.contracts[cluster_stack] = contract
    return contract


# --- the program's own keys -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Kind:
    base: Any  # str, int, float, bool, list, dict
    secret: bool
    optional: bool


def _kind(name: str, tp: Any) -> _Kind:
    optional = False
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        if len(args) != 1:
            raise TypeError(f"load_config: field {name!r}: unsupported type {tp!r}")
        tp = args[0]
        origin = typing.get_origin(tp)
    if origin is pulumi.Output:
        if typing.get_args(tp) not in ((str,),):
            raise TypeError(f"load_config: field {name!r}: secrets are pulumi.Output[str]")
        return _Kind(str, True, optional)
    if tp in (str, int, float, bool):
        return _Kind(tp, False, optional)
    if origin is list and typing.get_args(tp) == (str,):
        return _Kind(list, False, optional)
    if origin is dict and typing.get_args(tp) == (str, str):
        return _Kind(dict, False, optional)
    raise TypeError(
        f"load_config: field {name!r} has type {tp!r}; supported: str, int, float, bool, "
        "list[str], dict[str, str], pulumi.Output[str] (secret), each optionally | None"
    )


_WHAT = {
    str: "<value>",
    int: "<integer>",
    float: "<number>",
    bool: "true|false",
    list: '\'["a", "b"]\'',
    dict: '\'{"k": "v"}\'',
}


def _parse(kind: _Kind, raw: Any) -> tuple[Any, str | None]:
    """``(value, None)`` or ``(None, why it is refused)``."""
    base = kind.base
    if base is str:
        return (raw, None) if isinstance(raw, str) else (None, "must be a string")
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if base is bool:
        if text in ("true", "True"):
            return True, None
        if text in ("false", "False"):
            return False, None
        if text.lower() in _YAML11_BOOLS:
            return None, (
                f"must be true or false (YAML 1.2, which Pulumi reads, takes {text!r} as a "
                "string, not a boolean)"
            )
        return None, "must be true or false"
    if base is int:
        if _INT.fullmatch(text):
            return int(text), None
        return None, "must be a whole number"
    if base is float:
        if _FLOAT.fullmatch(text):
            return float(text), None
        return None, "must be a number"
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if base is list:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value, None
        return None, "must be a list of strings (a YAML list, or JSON)"
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return value, None
    return None, "must be a mapping of strings to strings (a YAML mapping, or JSON)"


def _bounds_problem(meta: Mapping[str, Any], value: Any) -> str | None:
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        return "must be one of " + ", ".join(repr(c) for c in choices)
    low, high = meta.get("minimum"), meta.get("maximum")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if low is not None and high is not None and not low <= value <= high:
            return f"must be from {low} to {high}"
        if low is not None and value < low:
            return f"must be at least {low}"
        if high is not None and value > high:
            return f"must be at most {high}"
    return None


def load_config(spec: type[T], *, platform: bool = True, extra_keys: Sequence[str] = ()) -> T:
    """Read every field of the dataclass ``spec`` from the stack config, check them all, and
    return the filled instance; raise one ValidationError listing every problem.

    ``platform`` also checks the keys every service stack needs (``clusterStack``,
    ``aws:region``, ``aws:allowedAccountIds``). ``extra_keys`` names keys of the project's
    namespace the program reads some other way (not reported as unknown)."""
    if not (dataclasses.is_dataclass(spec) and isinstance(spec, type)):
        raise TypeError("load_config takes a dataclass type")
    project = pulumi.get_project()
    stack_file = _stack_file()
    hints = typing.get_type_hints(spec, localns={"Output": pulumi.Output, "T": Any})
    problems = Problems()
    values: dict[str, Any] = {}
    declared: list[str] = []
    for f in dataclasses.fields(spec):
        if not f.init:
            continue
        kind = _kind(f.name, hints.get(f.name, str))
        meta: Mapping[str, Any] = f.metadata or {}
        short = meta.get("key") or _camel(f.name)
        key = short if ":" in short else f"{project}:{short}"
        declared.append(key)
        has_default = (
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        )
        raw = _raw(key)
        if raw is None:
            if has_default:
                continue  # the dataclass fills its default
            if kind.optional:
                values[f.name] = None
                continue
            problems.add(
                key,
                MISSING,
                f"the program requires it: set it in {stack_file}: "
                + _set_command(key, _WHAT[kind.base], secret=kind.secret),
            )
            continue
        secret_in_file = _is_secret_key(key)
        if kind.secret and not secret_in_file:
            problems.add(
                key,
                _Hidden(),
                f"is a secret but {stack_file} holds it in clear text: encrypt it with "
                + _set_command(key, "<value>", secret=True),
            )
            continue
        if secret_in_file and not kind.secret:
            problems.add(
                key,
                "[secret]",
                f"is encrypted (secure:) in {stack_file} but the program reads it as plain "
                f"text, which would reveal it: declare the field pulumi.Output[str], or store "
                f"it in clear with {_set_command(key, _WHAT[kind.base])}",
            )
            continue
        value, why = _parse(kind, raw)
        if why is None:
            why = _bounds_problem(meta, value)
        if why is not None:
            shown = _Hidden() if kind.secret else raw
            problems.add(
                key,
                shown,
                f"{why}: fix it in {stack_file}: "
                + _set_command(key, _WHAT[kind.base], secret=kind.secret),
            )
            continue
        if kind.secret:
            out = pulumi.Output.secret(value)
            _SECRET_OUTPUTS.add(out)
            value = out
        values[f.name] = value

    known = set(declared) | {f"{project}:{k}" for k in extra_keys}
    if platform:
        known.add(f"{project}:{CLUSTER_STACK_KEY}")
        # The canary's keys are read by canary_config() (eksplatform.service.canary_config).
        known |= {f"{project}:{k}" for k in CANARY_KEYS}
    short_names = sorted(k.split(":", 1)[1] for k in known if k.startswith(f"{project}:"))
    for key in sorted(_all_keys()):
        if key.startswith(f"{project}:") and key not in known:
            short = key.split(":", 1)[1]
            close = _closest(short, short_names)
            hint = f"did you mean {close!r}? " if close else ""
            shown = "[secret]" if _is_secret_key(key) else _raw(key)
            problems.add(
                key,
                shown,
                f"the program does not read this key: {hint}(keys it reads: "
                f"{', '.join(short_names) or 'none'}); remove it from {stack_file} or fix its name",
            )
    if platform:
        for p in platform_settings().problems:
            problems.add(p.field, p.value, p.message)
    problems.raise_if_any(f"{stack_file}: invalid service configuration")
    return spec(**values)


def _closest(name: str, candidates: Sequence[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if found:
        return found[0]
    folded = {c.lower(): c for c in candidates}
    return folded.get(name.lower())

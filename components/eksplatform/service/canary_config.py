"""The canary in the stack config: what ``eksplatform canary`` edits and ``pulumi up`` applies.

Two keys in the service's namespace of ``Pulumi.<stack>.yaml``::

    config:
      news-feed:canary:            # present while a canary runs; removing it removes the canary
        image: 222222222222.dkr.ecr.eu-west-1.amazonaws.com/news/news-feed:1.42.0
        weight: 5                  # % of the ALB's requests (0: warm, no traffic)
        header: {name: x-canary, value: always}   # optional: forces the canary
        env: {FEED_RANKER: v2}     # optional overrides
        configFiles: {}            # optional overrides
      news-feed:canaryPolicy:      # optional, stays between releases
        schedule: [5, 25, 50, 100]
        analysis: {windowMinutes: 10, minRequests: 200, maxErrorRatePercent: 5,
                   maxErrorRateIncrease: 1, maxP99LatencySeconds: 1, maxP99LatencyRatio: 1.5,
                   minHealthyHosts: 1}
        rampDownWaitSeconds: 60

The commands also write ``promoting``, ``draining``, ``previousImage`` and ``changedAt`` under
``canary`` (their state between two runs; see :mod:`eksplatform.canary.cli`).

A program passes ``canary=canary_config()`` to its ServiceStack. :func:`canary_config` checks the
shape (unknown keys with the closest known one, types, required keys) and raises one error
naming the keys as the stack file spells them (``news-feed:canary.header.value``); ServiceStack
checks the values (weight, header, schedule, thresholds, an ALB, an image other than the stable
one) with all its other arguments, under the same names. ``load_config`` knows both keys, and ServiceStack refuses
a stack whose config holds a canary that the program never read (a canary the commands move
would otherwise change nothing).

Design decision: the canary lives in the stack config rather than in the program, so a release
is a reviewed, committed one-line change that ``pulumi up`` applies, and the commands never edit
Python. Cost: the canary's thresholds are per stack (``canaryPolicy`` in each stack file).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..core.errors import MISSING, Problem, Problems, ValidationError
from .args import Canary, CanaryAnalysis, CanaryHeader
from .canary_checks import policy_problems, standalone_problems
from .config import CANARY_KEYS, _is_secret_key, _raw, _stack_file
from .registry import RunRegistry, current_run

CANARY_KEY, POLICY_KEY = CANARY_KEYS
"""Stack config keys (in the project's namespace) of the running canary and of the schedule
and analysis thresholds."""
STATE_KEYS = ("promoting", "draining", "previousImage", "changedAt")
"""Keys under ``canary`` the commands write (``promoting`` is also the argument)."""

_SOURCE_ATTR = "_eksplatform_config_project"
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")

# config key -> (argument name, kind)
_CANARY_FIELDS: dict[str, tuple[str, str]] = {
    "image": ("image", "str"),
    "weight": ("weight", "int"),
    "header": ("header", "header"),
    "env": ("env", "strmap"),
    "configFiles": ("config_files", "strmap"),
    "promoting": ("promoting", "bool"),
    "draining": ("", "bool"),
    "previousImage": ("", "str"),
    "changedAt": ("", "timestamp"),
}
_POLICY_FIELDS: dict[str, tuple[str, str]] = {
    "schedule": ("schedule", "intlist"),
    "analysis": ("analysis", "analysis"),
    "rampDownWaitSeconds": ("ramp_down_wait_s", "int"),
}
_HEADER_FIELDS: dict[str, tuple[str, str]] = {"name": ("name", "str"), "value": ("value", "str")}
_ANALYSIS_FIELDS: dict[str, tuple[str, str]] = {
    "windowMinutes": ("window_minutes", "int"),
    "minRequests": ("min_requests", "int"),
    "maxErrorRatePercent": ("max_error_rate_percent", "number"),
    "maxErrorRateIncrease": ("max_error_rate_increase", "number"),
    "maxP99LatencySeconds": ("max_p99_latency_s", "number"),
    "maxP99LatencyRatio": ("max_p99_latency_ratio", "number"),
    "minHealthyHosts": ("min_healthy_hosts", "int"),
}


@dataclasses.dataclass(frozen=True)
class CanaryState:
    """What the commands recorded between two runs."""

    draining: bool = False
    """The canary gets no traffic any more (weight 0, no header): it is removed once the target
    group's deregistration delay has passed since :attr:`changed_at`."""
    previous_image: str | None = None
    """The stable image before ``promote`` made it the canary's (``rollback`` restores it)."""
    changed_at: datetime | None = None
    """When a command last changed the traffic (weight, header, image)."""


@dataclasses.dataclass(frozen=True)
class ParsedCanary:
    """The stack config's canary, read."""

    canary: Canary | None
    """None when the stack runs no canary (its policy is then in :attr:`policy`)."""
    policy: Canary
    """The policy fields (schedule, analysis, ramp) on a canary with a placeholder image."""
    state: CanaryState
    shape_problems: tuple[Problem, ...]
    """Unknown keys, missing ones, values of the wrong type (the canary is then unusable)."""
    value_problems: tuple[Problem, ...]
    """What :func:`standalone_problems` (or, without a canary, :func:`policy_problems`) finds,
    named as the stack file spells the keys."""

    @property
    def problems(self) -> tuple[Problem, ...]:
        return (*self.shape_problems, *self.value_problems)


# --- field names as the stack file spells them --------------------------------------------------

_TO_CONFIG: dict[str, tuple[str, str]] = {
    "image": (CANARY_KEY, "image"),
    "weight": (CANARY_KEY, "weight"),
    "header": (CANARY_KEY, "header"),
    "env": (CANARY_KEY, "env"),
    "config_files": (CANARY_KEY, "configFiles"),
    "promoting": (CANARY_KEY, "promoting"),
    "schedule": (POLICY_KEY, "schedule"),
    "analysis": (POLICY_KEY, "analysis"),
    "ramp_down_wait_s": (POLICY_KEY, "rampDownWaitSeconds"),
}
_ANALYSIS_TO_CONFIG = {arg: key for key, (arg, _) in _ANALYSIS_FIELDS.items()}


def config_field(path: str, project: str) -> str:
    """A canary argument path (``canary.analysis.min_requests``) as the stack file spells it
    (``news-feed:canaryPolicy.analysis.minRequests``); other paths unchanged."""
    if path == "canary":
        return f"{project}:{CANARY_KEY}"
    if not path.startswith("canary."):
        return path
    rest = path.removeprefix("canary.")
    m = re.match(r"([a-z_0-9]+)(.*)", rest, re.DOTALL)
    assert m is not None
    head, tail = m.group(1), m.group(2)
    if head not in _TO_CONFIG:
        return f"{project}:{CANARY_KEY}.{rest}"
    key, name = _TO_CONFIG[head]
    if head == "analysis" and tail.startswith("."):
        sub = tail[1:]
        tail = "." + _ANALYSIS_TO_CONFIG.get(sub, sub)
    return f"{project}:{key}.{name}{tail}"


def config_source(canary: Canary) -> str | None:
    """The project whose stack config ``canary`` was read from (None: built in Python)."""
    value = getattr(canary, _SOURCE_ATTR, None)
    return value if isinstance(value, str) else None


def renamed(problems: list[Problem], canary: Any) -> list[Problem]:
    """``problems`` with the canary's fields named as the stack file spells them, when
    ``canary`` came from the stack config."""
    project = getattr(canary, _SOURCE_ATTR, None)
    if not isinstance(project, str):
        return problems
    return [dataclasses.replace(p, field=config_field(p.field, project)) for p in problems]


# --- parsing ---------------------------------------------------------------------------------------


def _closest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        folded = {k.lower(): k for k in known}
        hit = folded.get(name.lower().replace("_", "").replace("-", ""))
        close = [hit] if hit else []
    return f"did you mean {close[0]!r}? " if close else ""


def _value(kind: str, value: Any, where: str, problems: Problems) -> tuple[bool, Any]:
    """``(ok, parsed)`` for one scalar or collection of ``kind``."""
    if kind == "str":
        if isinstance(value, str):
            return True, value
        problems.add(where, value, "must be a string (quote it)")
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return True, value
        problems.add(where, value, "must be a whole number")
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        problems.add(where, value, "must be a number")
    elif kind == "bool":
        if isinstance(value, bool):
            return True, value
        problems.add(where, value, "must be true or false")
    elif kind == "timestamp":
        if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
            try:
                return True, datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            except ValueError:
                pass
        problems.add(
            where,
            value,
            "must be a UTC time like '2026-12-01T10:00:00Z' (written by eksplatform canary)",
        )
    elif kind == "strmap":
        if isinstance(value, Mapping):
            bad = [k for k, v in value.items() if not isinstance(v, str)]
            for k in bad:
                problems.add(f"{where}[{k!r}]", value[k], "must be a string (quote it)")
            return not bad, {str(k): v for k, v in value.items()}
        problems.add(where, value, "must be a mapping of names to strings")
    elif kind == "intlist":
        if isinstance(value, list):
            bad = [i for i, v in enumerate(value) if not isinstance(v, int) or isinstance(v, bool)]
            for i in bad:
                problems.add(f"{where}[{i}]", value[i], "must be a whole number")
            return not bad, tuple(value)
        problems.add(where, value, "must be a list of weights, e.g. [5, 25, 50, 100]")
    return False, None


def _fields(
    raw: Any,
    where: str,
    table: dict[str, tuple[str, str]],
    problems: Problems,
    nested: dict[str, Callable[[Any, str, Problems], Any]],
    required: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """The keys of the mapping ``raw`` parsed by ``table`` (config key -> parsed value); None
    when ``raw`` is not a mapping."""
    if not isinstance(raw, Mapping):
        problems.add(where, raw, f"must be a mapping with the keys {', '.join(table)}")
        return None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        sub = f"{where}.{key}"
        if key not in table:
            problems.add(
                sub,
                value,
                f"unknown key: {_closest(str(key), list(table))}(keys: {', '.join(table)})",
            )
            continue
        _, kind = table[key]
        if kind in nested:
            parsed = nested[kind](value, sub, problems)
            if parsed is not None:
                out[key] = parsed
            continue
        ok, parsed = _value(kind, value, sub, problems)
        if ok:
            out[key] = parsed
    for key in required:
        if key not in raw:
            problems.add(f"{where}.{key}", MISSING, f"is required: add {key}: <value>")
    return out


def _header(raw: Any, where: str, problems: Problems) -> CanaryHeader | None:
    if raw is None:  # `header: null`: no header
        return None
    got = _fields(raw, where, _HEADER_FIELDS, problems, {}, required=("name", "value"))
    if got is None or set(got) != {"name", "value"}:
        return None
    return CanaryHeader(name=got["name"], value=got["value"])


def _analysis(raw: Any, where: str, problems: Problems) -> CanaryAnalysis | None:
    got = _fields(raw, where, _ANALYSIS_FIELDS, problems, {})
    if got is None:
        return None
    return CanaryAnalysis(**{_ANALYSIS_FIELDS[k][0]: v for k, v in got.items()})


def decode(raw: Any) -> Any:
    """A stack config value as the Pulumi runtime hands it over (objects as JSON text)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def parse_canary(raw_canary: Any, raw_policy: Any, *, project: str) -> ParsedCanary:
    """Read the ``canary`` and ``canaryPolicy`` values (decoded: mappings, lists, scalars; None
    when the key is absent) and check the canary on its own (:func:`standalone_problems`)."""
    problems = Problems()
    nested: dict[str, Callable[[Any, str, Problems], Any]] = {
        "header": _header,
        "analysis": _analysis,
    }
    policy_args: dict[str, Any] = {}
    if raw_policy is not None:
        got = _fields(raw_policy, f"{project}:{POLICY_KEY}", _POLICY_FIELDS, problems, nested)
        policy_args = {_POLICY_FIELDS[k][0]: v for k, v in (got or {}).items()}
    policy = Canary(image="", **policy_args)
    state = CanaryState()
    canary: Canary | None = None
    if raw_canary is not None:
        where = f"{project}:{CANARY_KEY}"
        got = _fields(raw_canary, where, _CANARY_FIELDS, problems, nested, required=("image",))
        if got is not None:
            state = CanaryState(
                draining=bool(got.get("draining", False)),
                previous_image=got.get("previousImage"),
                changed_at=got.get("changedAt"),
            )
            kwargs = {_CANARY_FIELDS[k][0]: v for k, v in got.items() if _CANARY_FIELDS[k][0]}
            if "image" in kwargs:
                canary = Canary(**kwargs, **policy_args)
                object.__setattr__(canary, _SOURCE_ATTR, project)
    checks = Problems()
    if canary is not None:
        standalone_problems(checks, canary)
    else:
        policy_problems(checks, policy)
    seen = {p.field for p in problems}
    values = Problems()
    for p in checks:
        field = config_field(p.field, project)
        if field not in seen and not any(field.startswith(f"{s}[") for s in seen):
            values.add(field, p.value, p.message)
    return ParsedCanary(
        canary=canary,
        policy=policy,
        state=state,
        shape_problems=tuple(problems),
        value_problems=tuple(values),
    )


def canary_config() -> Canary | None:
    """The canary the stack config's ``canary`` key describes (None: no canary), with the
    ``canaryPolicy`` key's schedule and thresholds; raise one error listing every problem.

    For the program: ``ServiceStackArgs(..., canary=canary_config())``."""
    import pulumi

    project = pulumi.get_project()
    current_run().canary_read = True
    problems: list[Problem] = []
    raws: dict[str, Any] = {}
    for key in (CANARY_KEY, POLICY_KEY):
        full = f"{project}:{key}"
        if _is_secret_key(full):
            problems.append(
                Problem(
                    full,
                    "[secret]",
                    "must not be encrypted (it holds no secret, and the commands edit it): "
                    "give a secret the canary needs in the ServiceStack's secrets",
                )
            )
            continue
        raws[key] = decode(_raw(full))
    parsed = parse_canary(raws.get(CANARY_KEY), raws.get(POLICY_KEY), project=project)
    problems += parsed.shape_problems
    # The values of a usable canary are checked by the ServiceStack, with all its other
    # problems at once (an image equal to the stable one needs its arguments); a policy without
    # a canary only here.
    if problems or parsed.canary is None:
        problems += parsed.value_problems
    if problems:
        raise ValidationError(f"{_stack_file()}: invalid canary configuration", problems)
    return parsed.canary


def unread_canary_problem(run: RunRegistry) -> Problem | None:
    """A problem when the stack config holds a canary the program has not read (it would never
    be created, and ``eksplatform canary`` would move nothing)."""
    import pulumi

    key = f"{pulumi.get_project()}:{CANARY_KEY}"
    if run.canary_read or _raw(key) is None:
        return None
    return Problem(
        key,
        "<set>",
        f"{_stack_file()} runs a canary, but the program does not read it: pass "
        "canary=canary_config() to the ServiceStack with the ALB (from eksplatform.service), "
        "or remove the key",
    )

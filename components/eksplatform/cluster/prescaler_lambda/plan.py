"""What the pre-scaler does to one HPA and to the headroom: pure functions of the objects' JSON.

State on the HPA (who writes what):

* ``eksplatform.io/baseline-min-replicas`` (annotation): the floor the service's Pulumi program
  declares. Pulumi writes it on every ``pulumi up``; the pre-scaler only reads it.
* ``eksplatform.io/prescale-state`` (annotation): written by the pre-scaler alone. JSON
  ``{"v": 1, "base": <replicas when the first window opened>, "baseline": <floor then>,
  "windows": [{"id": <pushId>, "until": <RFC 3339>, "floor": <n>}]}``. Duplicate and
  overlapping events never compound: a push id already present changes nothing, and every new
  window's floor is computed from ``base`` (the replicas before any pre-scale), not from the
  replicas an earlier window already raised.
* ``spec.minReplicas``: the baseline outside windows; ``max(baseline, floors of the windows still
  open)`` inside them, clamped to ``maxReplicas``.

The headroom Deployment's target is ``baseline + ceil(ratio x the added pods' requests in pause
pods)`` over every HPA with an open window, so it too is a function of the current state: replays
and overlaps converge on the same number, and the last restore returns it to the baseline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

PRESCALE_LABEL = "eksplatform.io/prescale"
FACTOR_LABEL = "eksplatform.io/prescale-factor"
BASELINE_ANNOTATION = "eksplatform.io/baseline-min-replicas"
STATE_ANNOTATION = "eksplatform.io/prescale-state"
POD_REQUESTS_ANNOTATION = "eksplatform.io/pod-requests"
STATE_VERSION = 1
FACTOR_MIN, FACTOR_MAX = 2, 100
RESTORE_TOLERANCE = timedelta(seconds=60)
"""A restore for push X closes X's window when it ends within this much from now (a schedule may
fire a little early or late)."""


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    push_id: str
    until: datetime
    floor: int


@dataclass(frozen=True)
class State:
    base: int
    """Current replicas when the first open window began."""
    baseline: int
    """Floor before the first window (used only when the baseline annotation is missing)."""
    windows: tuple[Window, ...] = ()

    def dump(self) -> str:
        return json.dumps(
            {
                "v": STATE_VERSION,
                "base": self.base,
                "baseline": self.baseline,
                "windows": [
                    {"id": w.push_id, "until": _time(w.until), "floor": w.floor}
                    for w in sorted(self.windows, key=lambda w: (w.until, w.push_id))
                ],
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    def open_at(self, now: datetime) -> State:
        """Without the windows that ended by ``now``."""
        return replace(self, windows=tuple(w for w in self.windows if w.until > now))


def load_state(text: str | None) -> State | None:
    """The state annotation, or None when absent. ``ValueError`` when it is not ours to read."""
    if text is None:
        return None
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
        raise ValueError(f"{STATE_ANNOTATION} is not a version {STATE_VERSION} state: {text!r}")
    windows = tuple(
        Window(str(w["id"]), _parse_time(str(w["until"])), int(w["floor"])) for w in data["windows"]
    )
    return State(base=int(data["base"]), baseline=int(data["baseline"]), windows=windows)


@dataclass(frozen=True)
class Hpa:
    """The fields of one HPA the pre-scaler reads."""

    namespace: str
    name: str
    resource_version: str
    min_replicas: int
    max_replicas: int
    current_replicas: int
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    target_kind: str
    target_name: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @staticmethod
    def from_json(obj: Mapping[str, Any]) -> Hpa:
        meta = obj.get("metadata", {})
        spec = obj.get("spec", {})
        status = obj.get("status") or {}
        target = spec.get("scaleTargetRef", {})
        return Hpa(
            namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")),
            resource_version=str(meta.get("resourceVersion", "")),
            min_replicas=int(spec.get("minReplicas", 1)),
            max_replicas=int(spec["maxReplicas"]),
            current_replicas=int(status.get("currentReplicas") or 0),
            labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}),
            target_kind=str(target.get("kind", "")),
            target_name=str(target.get("name", "")),
        )

    def factor(self) -> int:
        """The service's pre-scale factor (label written by ServiceStack)."""
        text = self.labels.get(FACTOR_LABEL, "")
        if not text.isdigit() or not FACTOR_MIN <= int(text) <= FACTOR_MAX:
            raise ValueError(
                f"label {FACTOR_LABEL}={text!r} is not a whole number from {FACTOR_MIN} to "
                f"{FACTOR_MAX}: set prescaling=PreScaling(factor=...) in its ServiceStack"
            )
        return int(text)

    def baseline(self, state: State | None) -> int:
        """The floor Pulumi declares (annotation); before a program wrote one, the floor found
        when the first window opened; else the current minReplicas."""
        text = self.annotations.get(BASELINE_ANNOTATION, "")
        if text.isdigit() and int(text) >= 1:
            return min(int(text), self.max_replicas)
        if state is not None:
            return min(state.baseline, self.max_replicas)
        return self.min_replicas

    def pod_requests(self) -> tuple[int, int] | None:
        """(CPU millicores, memory bytes) of one pod, from the annotation ServiceStack writes."""
        text = self.annotations.get(POD_REQUESTS_ANNOTATION)
        if text is None:
            return None
        try:
            data = json.loads(text)
            return int(data["cpuMillis"]), int(data["memoryBytes"])
        except (ValueError, KeyError, TypeError):
            return None


def new_floor(base: int, factor: int, multiplier: Fraction, max_replicas: int) -> int:
    """``ceil(base x factor x multiplier)`` clamped to ``max_replicas`` (exact arithmetic)."""
    return max(1, min(max_replicas, math.ceil(Fraction(base) * factor * multiplier)))


@dataclass(frozen=True)
class Change:
    """What to write to one HPA (None: nothing changes)."""

    hpa: str
    min_replicas: tuple[int, int]
    """(before, after)."""
    state: State | None
    """The state annotation to write; None removes it."""
    note: str
    """What happened, for the summary (``raised``, ``duplicate``, ``restored``...)."""
    floor: int = 0
    """The floor of this event's window (raise) or the floor kept (restore)."""

    def needs_patch(self, hpa: Hpa) -> bool:
        """Whether writing this change alters ``hpa`` at all."""
        state = self.state.dump() if self.state is not None else None
        return (
            hpa.min_replicas != self.min_replicas[1]
            or hpa.annotations.get(STATE_ANNOTATION) != state
        )


def _target_min(baseline: int, state: State | None, max_replicas: int) -> int:
    floors = [w.floor for w in state.windows] if state else []
    return min(max_replicas, max([baseline, *floors]))


def plan_raise(
    hpa: Hpa, *, push_id: str, until: datetime, multiplier: Fraction, now: datetime
) -> Change:
    """Open (or find) the window of ``push_id`` on ``hpa``."""
    factor = hpa.factor()
    state = load_state(hpa.annotations.get(STATE_ANNOTATION))
    state = state.open_at(now) if state else None
    if state is not None and not state.windows:
        state = None  # every earlier window is over: this one starts afresh
    baseline = hpa.baseline(state)
    if state is not None and any(w.push_id == push_id for w in state.windows):
        floor = next(w.floor for w in state.windows if w.push_id == push_id)
        target = _target_min(baseline, state, hpa.max_replicas)
        return Change(hpa.key, (hpa.min_replicas, target), state, "duplicate", floor)
    base = state.base if state else max(hpa.current_replicas, baseline)
    floor = new_floor(base, factor, multiplier, hpa.max_replicas)
    window = Window(push_id, until, floor)
    new_state = (
        replace(state, windows=(*state.windows, window))
        if state
        else State(base=base, baseline=baseline, windows=(window,))
    )
    target = _target_min(baseline, new_state, hpa.max_replicas)
    wanted = math.ceil(Fraction(base) * factor * multiplier)
    note = "clamped" if wanted > hpa.max_replicas else "raised"
    return Change(hpa.key, (hpa.min_replicas, target), new_state, note, floor)


def plan_restore(hpa: Hpa, *, now: datetime, push_id: str | None = None) -> Change:
    """Close the windows that are over (and ``push_id``'s, when due) and set the floor the open
    ones still need: the baseline once none is left."""
    state = load_state(hpa.annotations.get(STATE_ANNOTATION))
    baseline = hpa.baseline(state)
    if state is None:
        target = baseline
        note = "unchanged" if hpa.min_replicas == target else "baseline"
        return Change(hpa.key, (hpa.min_replicas, target), None, note)

    def closes(w: Window) -> bool:
        return w.until <= now or (w.push_id == push_id and w.until <= now + RESTORE_TOLERANCE)

    remaining = tuple(w for w in state.windows if not closes(w))
    if remaining:
        kept = replace(state, windows=remaining)
        target = _target_min(baseline, kept, hpa.max_replicas)
        note = "kept" if len(remaining) == len(state.windows) else "partly-restored"
        covering = max(remaining, key=lambda w: w.floor)
        return Change(hpa.key, (hpa.min_replicas, target), kept, note, covering.floor)
    return Change(hpa.key, (hpa.min_replicas, baseline), None, "restored", baseline)


def patch_for(change: Change, resource_version: str) -> dict[str, Any]:
    """The JSON merge patch of ``change``; the resourceVersion makes it conditional (409 when
    someone else wrote the HPA in between: re-read and plan again)."""
    annotations: dict[str, Any] = {
        STATE_ANNOTATION: change.state.dump() if change.state is not None else None
    }
    return {
        "metadata": {"resourceVersion": resource_version, "annotations": annotations},
        "spec": {"minReplicas": change.min_replicas[1]},
    }


@dataclass(frozen=True)
class HeadroomSettings:
    baseline: int
    cpu_millis: int
    memory_bytes: int
    ratio: Fraction
    max_replicas: int


@dataclass
class HeadroomPlan:
    target: int
    added_cpu_millis: int = 0
    added_memory_bytes: int = 0
    unsized: list[str] = field(default_factory=list)
    """HPAs in a window without the pod-requests annotation (not counted)."""


def plan_headroom(hpas: Iterable[Hpa], settings: HeadroomSettings, now: datetime) -> HeadroomPlan:
    """Pause pods to run now: the baseline plus ``ratio`` of the pods the open windows add,
    converted to pause pods by whichever of CPU and memory needs more."""
    cpu = memory = 0
    unsized: list[str] = []
    for hpa in hpas:
        state = load_state(hpa.annotations.get(STATE_ANNOTATION))
        state = state.open_at(now) if state else None
        if not state or not state.windows:
            continue
        added = max(0, _target_min(hpa.baseline(state), state, hpa.max_replicas) - state.base)
        requests = hpa.pod_requests()
        if requests is None:
            unsized.append(hpa.key)
            continue
        cpu += added * requests[0]
        memory += added * requests[1]
    pods = Fraction(0)
    if cpu or memory:
        pods = settings.ratio * max(
            Fraction(cpu, max(1, settings.cpu_millis)),
            Fraction(memory, max(1, settings.memory_bytes)),
        )
    target = min(settings.max_replicas, settings.baseline + math.ceil(pods))
    return HeadroomPlan(max(settings.baseline, target), cpu, memory, unsized)


def select(hpas: Sequence[Hpa], services: Sequence[str] | None) -> tuple[list[Hpa], dict[str, str]]:
    """The labelled HPAs an event names, and the names it could not match (with why)."""
    if services is None:
        return list(hpas), {}
    chosen: list[Hpa] = []
    unknown: dict[str, str] = {}
    labelled = ", ".join(sorted(h.key for h in hpas)) or "none"
    for entry in services:
        if "/" in entry:
            found = [h for h in hpas if h.key == entry]
        else:
            found = [h for h in hpas if h.name == entry]
        if len(found) == 1:
            if found[0] not in chosen:
                chosen.append(found[0])
        elif not found:
            unknown[entry] = (
                f"no HPA labelled {PRESCALE_LABEL}=true is named {entry!r} (labelled: "
                f"{labelled}); check the name, or set prescaling=PreScaling(...) in its "
                "ServiceStack"
            )
        else:
            unknown[entry] = (
                f"{entry!r} matches {', '.join(h.key for h in found)}: write namespace/name"
            )
    return chosen, unknown

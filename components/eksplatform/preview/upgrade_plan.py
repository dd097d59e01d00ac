"""The Kubernetes upgrade plan of a cluster stack, computed from its config and rendered previews.

``eksplatform upgrade-plan --stack S --to 1.MM`` (:mod:`.upgrade_cli`) reads the stack's
configuration (``Pulumi.yaml`` + ``Pulumi.<stack>.yaml``), the manifests the offline preview
rendered for the cluster and every service program of the repo (plus any directories given), and
plans the upgrade one minor at a time, as EKS requires:

1. the control plane (``platform:kubernetesVersion``), with the support window of the new minor;
2. the add-ons, each to the build pinned for the new minor (:data:`~eksplatform.cluster.versions.RELEASES`),
   naming every stack key whose explicit pin must change;
3. the node pools: the EKS-optimized AMI of the new minor and a rolling instance refresh per pool;
4. the version skew rules checked at the moment they are tightest (control plane already new,
   kubelets and kube-proxy still old);
5. every rendered object whose ``apiVersion``/``kind`` the new minor no longer serves (a
   **blocker** at that step) or serves alongside a more stable version (deprecated: a warning).

Design decision: API removals are found from the OpenAPI schemas of each minor bundled in
``kubernetes-validate`` (the same ones the preview validates against), applied to the objects
*this code renders*, not to live objects: a live object is stored at one version and read back at
any served one, which is why tools that scan live objects (pluto, kubent) report false positives.
Cost: objects created outside these programs (Helm releases by hand, operators' own objects) are
not seen; pass their rendered manifests with ``--manifests``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..cluster.config import parse_cluster_config
from ..cluster.eks_addons import ADDON_FIELDS
from ..cluster.node_pools import ami_parameter
from ..cluster.versions import (
    CALENDAR_SOURCE,
    EKS_CALENDAR,
    EXTENDED_PRICE_PER_HOUR,
    HOURS_PER_MONTH,
    PRICING_SOURCE,
    STANDARD_PRICE_PER_HOUR,
    Pin,
    pin_for,
    support_status,
)
from ..core.errors import ValidationError
from .kube_schema import KubeSchemaValidator
from .project import ProjectError, load_stack

MAX_KUBELET_SKEW = 3
"""Kubernetes version skew policy: kubelet may be up to three minors older than the API server
(since 1.28), never newer; kube-proxy the same towards the API server, and within three minors
of the kubelet beside it."""
SKEW_SOURCE = "https://kubernetes.io/releases/version-skew-policy/"

_STABILITY = re.compile(r"v(\d+)(?:(alpha|beta)(\d+))?\Z")


class PlanInputError(ValueError):
    """Bad input: the plan cannot be made (exit 2, nothing written)."""


def _api_rank(api_version: str) -> tuple[int, int, int]:
    """Sort key of an API version by stability: GA > beta > alpha, then by number."""
    m = _STABILITY.fullmatch(api_version.rpartition("/")[2])
    if m is None:
        return (0, 0, 0)
    level = {"alpha": 1, "beta": 2, None: 3}[m.group(2)]
    return (level, int(m.group(1)), int(m.group(3) or 0))


# ------------------------------------------------------------------------------------ inputs


@dataclass(frozen=True, kw_only=True)
class StackVersions:
    """What of a stack's configuration an upgrade touches."""

    stack: str
    version: str
    """``platform:kubernetesVersion`` as the stack resolves it (stack file over Pulumi.yaml)."""
    addon_pins: Mapping[str, str]
    """Add-on name -> the version the config pins explicitly (``platform:eksAddons``)."""
    autoscaler_tag: str | None
    descheduler_enabled: bool
    support_type: str
    pools: tuple[str, ...]


def read_stack(root: Path, stack: str) -> StackVersions:
    """The stack's versions, through the cluster's own validation pass: the stack file read as
    the Pulumi CLI reads it (YAML 1.2, project defaults merged), then :func:`parse_cluster_config`;
    an invalid stack is bad input with that pass's message."""
    if not (root / f"Pulumi.{stack}.yaml").is_file():
        raise PlanInputError(
            f"--stack: got {stack!r}: no Pulumi.{stack}.yaml in {root}; give the name of a "
            "cluster stack of this repository"
        )
    try:
        spec = load_stack(root, stack)
        cfg = parse_cluster_config(
            spec.config,
            stack=stack,
            source=spec.stack_file.name,
            project=spec.project,
            secret_keys=spec.secret_keys,
            stack_file=spec.source,
        )
    except (ProjectError, ValidationError) as exc:
        raise PlanInputError(str(exc)) from None
    pins = {
        addon: value
        for addon, attr in ADDON_FIELDS.items()
        if isinstance(value := getattr(cfg.eks_addons, attr), str)
    }
    return StackVersions(
        stack=stack,
        version=cfg.kubernetes_version,
        addon_pins=pins,
        autoscaler_tag=cfg.autoscaler.image_tag,
        descheduler_enabled=cfg.descheduler.enabled,
        support_type=cfg.control_plane.support_type,
        pools=tuple(pool.name for pool in cfg.node_pools),
    )


def _camel(attr: str) -> str:
    head, *rest = attr.split("_")
    return head + "".join(w.capitalize() for w in rest)


@dataclass(frozen=True, kw_only=True)
class RenderedObject:
    """One manifest the previews rendered."""

    source: str
    """``cluster/prod``, ``services/news-feed/prod`` or the directory given."""
    path: str
    api_version: str
    kind: str
    name: str
    namespace: str | None


def read_manifests(directory: Path, source: str) -> list[RenderedObject]:
    """Every Kubernetes object in the YAML files under ``directory``."""
    found: list[RenderedObject] = []
    for path in sorted(directory.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict):
                continue
            api, kind = doc.get("apiVersion"), doc.get("kind")
            if not isinstance(api, str) or not isinstance(kind, str):
                continue
            raw_meta = doc.get("metadata")
            meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
            found.append(
                RenderedObject(
                    source=source,
                    path=str(path.relative_to(directory)),
                    api_version=api,
                    kind=kind,
                    name=str(meta.get("name", "?")),
                    namespace=str(meta["namespace"]) if meta.get("namespace") else None,
                )
            )
    return found


# ------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ConfigChange:
    key: str
    old: str | None
    new: str
    why: str


@dataclass(frozen=True)
class AddonStep:
    name: str
    old: str | None
    new: str | None
    pin: Pin | None
    explicit: bool


@dataclass(frozen=True)
class ApiFinding:
    obj: RenderedObject
    removed: bool
    detail: str


@dataclass
class Step:
    old: int
    new: int
    status: str
    addons: list[AddonStep] = field(default_factory=list)
    config: list[ConfigChange] = field(default_factory=list)
    skew: list[str] = field(default_factory=list)
    apis: list[ApiFinding] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    pools: tuple[str, ...] = ()


@dataclass
class Plan:
    stack: StackVersions
    target: int
    today: dt.date
    steps: list[Step]
    objects: int
    sources: list[str]

    @property
    def blockers(self) -> list[str]:
        return [f"1.{s.old} -> 1.{s.new}: {b}" for s in self.steps for b in s.blockers]


# -------------------------------------------------------------------------------------- plan


def check_target(current: int, target: int, today: dt.date) -> None:
    """Refuse a target EKS does not offer or a jump that cannot be planned (exact messages)."""
    offered = ", ".join(f"1.{m}" for m in sorted(EKS_CALENDAR))
    if target not in EKS_CALENDAR:
        raise PlanInputError(
            f"--to: got '1.{target}': EKS does not offer Kubernetes 1.{target} (EKS release "
            f"calendar, checked {EKS_CALENDAR[max(EKS_CALENDAR)].checked}: {offered})"
        )
    status = support_status(target, today)
    row = EKS_CALENDAR[target]
    if status == "ended":
        raise PlanInputError(
            f"--to: got '1.{target}': EKS support for 1.{target} ended on "
            f"{row.end_of_extended.isoformat()}; pick a minor still offered on "
            f"{today.isoformat()}"
        )
    if status == "unreleased":
        raise PlanInputError(
            f"--to: got '1.{target}': EKS releases 1.{target} on "
            f"{row.eks_release.isoformat()}, after {today.isoformat()}"
        )
    if target < current:
        raise PlanInputError(
            f"--to: got '1.{target}': the stack runs 1.{current} and EKS cannot downgrade a "
            "control plane; an upgrade plan only goes up"
        )
    if current not in EKS_CALENDAR:
        raise PlanInputError(
            f"platform:kubernetesVersion: got '1.{current}': not in the EKS release calendar "
            f"({offered}); no plan can start from it"
        )
    supported = set(KubeSchemaValidator.supported_versions())
    missing = [f"1.{m}" for m in range(current, target + 1) if f"1.{m}" not in supported]
    if missing:
        raise PlanInputError(
            f"--to: got '1.{target}': the jump from 1.{current} passes through "
            f"{', '.join(missing)}, which the pinned kubernetes-validate schemas do not cover; "
            "removed APIs cannot be checked there"
        )


def _api_findings(objects: Iterable[RenderedObject], old: int, new: int) -> list[ApiFinding]:
    before = KubeSchemaValidator.for_version(f"1.{old}")
    after = KubeSchemaValidator.for_version(f"1.{new}")
    findings: list[ApiFinding] = []
    for obj in objects:
        if not before.is_builtin_group(obj.api_version) and not after.is_builtin_group(
            obj.api_version
        ):
            continue  # a custom resource: its CRD decides, not Kubernetes
        group = obj.api_version.rpartition("/")[0]
        served = after.served_versions(group, obj.kind)
        if not after.has_schema(obj.api_version, obj.kind):
            if not before.has_schema(obj.api_version, obj.kind):
                continue  # removed at an earlier step: reported there
            instead = f"; 1.{new} serves {obj.kind} as {', '.join(served)}" if served else ""
            findings.append(
                ApiFinding(
                    obj, True, f"{obj.api_version} {obj.kind} is removed in 1.{new}{instead}"
                )
            )
            continue
        better = [v for v in served if _api_rank(v) > _api_rank(obj.api_version)]
        if better:
            best = max(better, key=_api_rank)
            findings.append(
                ApiFinding(
                    obj,
                    False,
                    f"{obj.api_version} {obj.kind} is deprecated: 1.{new} also serves {best}; "
                    "move to it before the older version is removed",
                )
            )
    return findings


def _release_change(
    component: str, key: str, explicit: str | None, new: int, step: Step, *, must_match: bool
) -> AddonStep:
    pin = pin_for(component, new)
    old_value = explicit
    if explicit is not None and must_match and not explicit.startswith(f"v1.{new}."):
        if pin is None:
            step.blockers.append(
                f"{key} pins {explicit!r}, which must match 1.{new}, and no {component} build is "
                f"pinned for 1.{new}: find one and set {key}"
            )
            return AddonStep(component, explicit, None, None, True)
        step.config.append(ConfigChange(key, explicit, pin.version, f"must match 1.{new}"))
        return AddonStep(component, explicit, pin.version, pin, True)
    if explicit is not None:
        if pin is not None and pin.version != explicit:
            step.config.append(
                ConfigChange(key, explicit, pin.version, f"the build pinned for 1.{new}")
            )
            return AddonStep(component, old_value, pin.version, pin, True)
        return AddonStep(component, old_value, explicit, pin, True)
    if pin is None:
        step.blockers.append(
            f"no {component} build is pinned for 1.{new} (eksplatform.cluster.versions.RELEASES) "
            f"and {key} is not set: pin one (aws eks describe-addon-versions / the release notes)"
        )
        return AddonStep(component, None, None, None, False)
    return AddonStep(component, None, pin.version, pin, False)


def make_plan(
    stack: StackVersions,
    target: int,
    objects: list[RenderedObject],
    today: dt.date,
    sources: list[str],
) -> Plan:
    current = int(stack.version.split(".")[1])
    check_target(current, target, today)
    steps: list[Step] = []
    pins = dict(stack.addon_pins)
    autoscaler_tag = stack.autoscaler_tag
    for old in range(current, target):
        new = old + 1
        step = Step(old=old, new=new, status=support_status(new, today), pools=stack.pools)
        step.config.append(
            ConfigChange("platform:kubernetesVersion", f"1.{old}", f"1.{new}", "the step itself")
        )
        for addon, attr in ADDON_FIELDS.items():
            key = f"platform:eksAddons.{_camel(attr)}"
            change = _release_change(
                addon, key, pins.get(addon), new, step, must_match=addon == "kube-proxy"
            )
            if change.explicit and change.new is not None:
                pins[addon] = change.new
            old_pin = pin_for(addon, old)
            step.addons.append(
                AddonStep(
                    addon,
                    change.old or (old_pin.version if old_pin else None),
                    change.new,
                    change.pin,
                    change.explicit,
                )
            )
        ca = _release_change(
            "cluster-autoscaler",
            "platform:autoscaler.imageTag",
            autoscaler_tag,
            new,
            step,
            must_match=True,
        )
        if ca.explicit and ca.new is not None:
            autoscaler_tag = ca.new
        old_ca = pin_for("cluster-autoscaler", old)
        step.addons.append(
            AddonStep(
                ca.name, ca.old or (old_ca.version if old_ca else None), ca.new, ca.pin, ca.explicit
            )
        )
        if stack.descheduler_enabled:
            de_pin = pin_for("descheduler", new)
            old_de = pin_for("descheduler", old)
            if de_pin is None:
                step.blockers.append(
                    f"no descheduler release is pinned for 1.{new} "
                    "(eksplatform.cluster.versions.RELEASES): add one or set "
                    "platform:descheduler.enabled: false"
                )
            step.addons.append(
                AddonStep(
                    "descheduler",
                    old_de.version if old_de else None,
                    de_pin.version if de_pin else None,
                    de_pin,
                    False,
                )
            )
        # Skew, at its tightest: control plane new, kubelets and kube-proxy still old.
        kubelet_gap = new - old
        step.skew.append(
            f"control plane 1.{new} with kubelets 1.{old} until the node refresh: "
            f"{kubelet_gap} minor behind (allowed: up to {MAX_KUBELET_SKEW}, never newer): ok"
        )
        step.skew.append(
            f"kube-proxy 1.{new} (add-on step) beside kubelets 1.{old}: within "
            f"{MAX_KUBELET_SKEW} minors and not newer than the API server: ok"
        )
        if kubelet_gap > MAX_KUBELET_SKEW:  # pragma: no cover - steps are one minor
            step.blockers.append("kubelet skew exceeds the policy")
        step.apis = _api_findings(objects, old, new)
        for finding in step.apis:
            if finding.removed:
                where = f"{finding.obj.source}: {finding.obj.path}"
                step.blockers.append(f"{where}: {finding.detail}")
        steps.append(step)
    return Plan(stack, target, today, steps, len(objects), sources)


# ------------------------------------------------------------------------------------ render


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _window(minor: int, today: dt.date) -> str:
    row = EKS_CALENDAR.get(minor)
    if row is None:
        return f"1.{minor}: not in the EKS release calendar"
    status = support_status(minor, today)
    text = {
        "standard": "standard support",
        "extended": "EXTENDED support (billed at the extended price)",
        "ended": "PAST the end of extended support: EKS may upgrade the control plane at any time",
        "unreleased": "not yet released on EKS",
    }.get(status, status)
    return (
        f"1.{minor}: EKS release {row.eks_release}, standard support to {row.end_of_standard}, "
        f"extended to {row.end_of_extended}; on {today}: {text}"
    )


def render(plan: Plan, markdown: bool) -> str:
    """The plan as plain text or Markdown."""
    out: list[str] = []
    h1, h2, h3 = ("# ", "## ", "### ") if markdown else ("", "", "  ")
    bullet = "- " if markdown else "    - "
    cur = int(plan.stack.version.split(".")[1])

    def code(text: str) -> str:
        return f"`{text}`" if markdown else text

    out.append(f"{h1}Upgrade plan: stack {plan.stack.stack}, Kubernetes 1.{cur} -> 1.{plan.target}")
    out.append("")
    if not plan.steps:
        out.append(f"The stack already runs 1.{plan.target}: nothing to do.")
    out.append(f"{h2}Support windows ({CALENDAR_SOURCE})")
    out.append(f"{bullet}current {_window(cur, plan.today)}")
    out.append(f"{bullet}target  {_window(plan.target, plan.today)}")
    standard = STANDARD_PRICE_PER_HOUR * HOURS_PER_MONTH
    extended = EXTENDED_PRICE_PER_HOUR * HOURS_PER_MONTH
    out.append(
        f"{bullet}staying in extended support costs {_money(extended)} a month per cluster "
        f"instead of {_money(standard)} ({_money(extended - standard)} more; "
        f"{HOURS_PER_MONTH} h x ${EXTENDED_PRICE_PER_HOUR:.2f} vs ${STANDARD_PRICE_PER_HOUR:.2f}; "
        f"{PRICING_SOURCE})"
    )
    out.append(
        f"{bullet}upgrade policy of the stack: {code(plan.stack.support_type)} "
        "(platform:controlPlane.supportType)"
    )
    out.append(
        f"{bullet}objects checked: {plan.objects} rendered manifests from "
        f"{', '.join(plan.sources) or 'none'}"
    )
    for i, step in enumerate(plan.steps, 1):
        out.append("")
        out.append(f"{h2}Step {i}: 1.{step.old} -> 1.{step.new}")
        out.append(f"{h3}1. Control plane")
        out.append(
            f"{bullet}set {code('platform:kubernetesVersion')} to {code(f'1.{step.new}')}; "
            f"EKS updates the control plane in place (1.{step.new} on {plan.today}: {step.status})"
        )
        out.append(f"{h3}2. Add-ons (after the control plane)")
        for a in step.addons:
            source = (
                f" [{a.pin.source}; {a.pin.published or 'checked ' + a.pin.checked}]"
                if a.pin
                else ""
            )
            how = "stack pin" if a.explicit else "pinned default"
            out.append(
                f"{bullet}{a.name}: {a.old or '?'} -> {a.new or 'NONE PINNED'} ({how}){source}"
            )
        out.append(f"{h3}3. Node pools (after the add-ons)")
        out.append(
            f"{bullet}AMI from {code(ami_parameter(f'1.{step.new}'))}, read at deploy time into "
            "each pool's launch template"
        )
        for pool in step.pools:
            out.append(
                f"{bullet}pool {pool}: rolling instance refresh of its zone groups (90% healthy, "
                "matching instances skipped)"
            )
        out.append(f"{h3}Skew ({SKEW_SOURCE})")
        out.extend(f"{bullet}{s}" for s in step.skew)
        out.append(f"{h3}Config keys to change in Pulumi.{plan.stack.stack}.yaml")
        out.extend(
            f"{bullet}{code(c.key)}: {c.old or '(unset)'} -> {c.new} ({c.why})" for c in step.config
        )
        out.append(f"{h3}Rendered objects")
        if not step.apis:
            out.append(f"{bullet}none removed or deprecated in 1.{step.new}")
        for f in step.apis:
            tag = "BLOCKER" if f.removed else "deprecated"
            ns = f"{f.obj.namespace}/" if f.obj.namespace else ""
            out.append(f"{bullet}{tag}: {f.obj.source} {f.obj.kind} {ns}{f.obj.name}: {f.detail}")
        if step.blockers:
            out.append(f"{h3}Blockers")
            out.extend(f"{bullet}{b}" for b in step.blockers)
    out.append("")
    blockers = plan.blockers
    out.append(
        f"Result: {len(blockers)} blocker(s)" + ("" if blockers else "; the plan can proceed")
    )
    return "\n".join(out) + "\n"

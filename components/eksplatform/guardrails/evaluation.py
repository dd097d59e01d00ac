"""Run the rules on a stack's resources the way the Pulumi engine runs the policy pack.

* resource rules get each resource's inputs, stack rules every resource's outputs;
* properties go through the policy SDK's own unknown-checking proxy: a rule that reads a value
  not known at preview is skipped for that resource with an advisory note (``can't run policy
  ... during preview``), as ``pulumi preview`` reports it;
* a rule's enforcement level comes from the pack config (``enforcementLevel`` per policy, or
  ``all``), else the rule's default; ``disabled`` rules do not run;
* violations an exemption in force covers are set aside (and listed); expired exemptions are
  mandatory violations of the pseudo-policy ``guardrail-exemptions``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .exemptions import Exemption, matching
from .model import Enforcement, Resource, Rule, Severity, Violation
from .settings import GuardrailSettings, settings_from_config

PACK_NAME = "eks-platform-guardrails"
"""The policy pack's name (``policy/PulumiPolicy.yaml`` and CrossGuard diagnostics)."""
EXEMPTIONS_POLICY = "guardrail-exemptions"
"""Pseudo-policy reporting exemptions: active ones (advisory), expired ones (mandatory)."""


@dataclass
class Report:
    """What a pack run found."""

    violations: list[Violation] = field(default_factory=list)
    """Violations not exempted (including expired exemptions), in rule order."""
    exempted: list[tuple[Violation, Exemption]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Policies skipped on a resource because a value is unknown at preview."""
    active_exemptions: list[Exemption] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement is Enforcement.MANDATORY]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement is Enforcement.ADVISORY]

    def policy_ids(self, level: Enforcement | None = None) -> list[str]:
        """Sorted distinct rule ids violated (at ``level``, or any)."""
        return sorted({v.rule for v in self.violations if level is None or v.enforcement is level})


def enforcement_of(rule: Rule, pack_config: Mapping[str, Any]) -> Enforcement:
    """The level the pack config gives ``rule`` (per policy over ``all``), else its default."""
    for key in (rule.id, "all"):
        value = pack_config.get(key)
        if isinstance(value, Mapping):
            value = value.get("enforcementLevel")
        if isinstance(value, str):
            return Enforcement(value)
    return rule.enforcement


def rule_settings(
    rule: Rule, pack_config: Mapping[str, Any], base: GuardrailSettings
) -> GuardrailSettings:
    """``base`` with the rule's own config keys from the pack config."""
    own = pack_config.get(rule.id)
    if not isinstance(own, Mapping):
        return base
    return settings_from_config({k: v for k, v in own.items() if k != "enforcementLevel"}, base)


def engine_view(value: Any) -> Any:
    """A property value with unknowns as the engine's sentinels, behind the SDK's proxy."""
    from pulumi_policy.proxy import unknown_checking_proxy

    return unknown_checking_proxy(value)


def _unknown_error() -> type[Exception]:
    from pulumi_policy.proxy import UnknownValueError

    return UnknownValueError


def _skipped(rule: Rule, exc: Exception) -> str:
    detail = getattr(exc, "message", str(exc))
    return f"can't run policy '{rule.id}' from policy pack '{PACK_NAME}' during preview: {detail}"


def run_resource_rule(
    rule: Rule, resource: Resource, settings: GuardrailSettings
) -> tuple[list[str], str | None]:
    """(violation messages, skip note) of one resource rule on one resource."""
    assert rule.check is not None
    try:
        return [rule.message(m) for m in rule.check(resource, settings)], None
    except _unknown_error() as exc:
        return [], _skipped(rule, exc)


def run_stack_rule(
    rule: Rule, resources: Sequence[Resource], settings: GuardrailSettings
) -> tuple[list[tuple[str, str]], str | None]:
    """((urn, message) violations, skip note) of one stack rule."""
    assert rule.stack_check is not None
    try:
        return [(u or "", rule.message(m)) for u, m in rule.stack_check(resources, settings)], None
    except _unknown_error() as exc:
        return [], _skipped(rule, exc)


def evaluate(
    rules: Iterable[Rule],
    inputs: Sequence[Resource],
    outputs: Sequence[Resource],
    *,
    pack_config: Mapping[str, Any] | None = None,
    settings: GuardrailSettings | None = None,
    exemptions: Sequence[Exemption] = (),
    today: dt.date | None = None,
    on_violation: Callable[[Violation], None] | None = None,
) -> Report:
    """Every enabled rule on a stack: resource rules on ``inputs`` (props already behind
    :func:`engine_view`), stack rules on ``outputs``."""
    config = pack_config or {}
    base = settings or GuardrailSettings()
    day = today or dt.date.today()
    report = Report()
    rule_list = list(rules)

    def add(rule: Rule, level: Enforcement, urn: str, message: str) -> None:
        v = Violation(rule.id, level, rule.severity, urn, message)
        ex = matching(exemptions, rule.id, urn, day)
        if ex is not None:
            report.exempted.append((v, ex))
            return
        report.violations.append(v)
        if on_violation:
            on_violation(v)

    for rule in rule_list:
        level = enforcement_of(rule, config)
        if level is Enforcement.DISABLED:
            continue
        own = rule_settings(rule, config, base)
        if rule.check is not None:
            for r in inputs:
                if not rule.applies_to(r.type):
                    continue
                messages, note = run_resource_rule(rule, r, own)
                if note:
                    report.notes.append(f"{note} ({r.urn})")
                for m in messages:
                    add(rule, level, r.urn, m)
        elif rule.stack_check is not None:
            found, note = run_stack_rule(rule, outputs, own)
            if note:
                report.notes.append(note)
            for urn, m in found:
                add(rule, level, urn, m)

    for e in exemptions:
        if e.expired(day):
            report.violations.append(
                Violation(
                    EXEMPTIONS_POLICY,
                    Enforcement.MANDATORY,
                    Severity.HIGH,
                    "",
                    f"exemption expired on {e.expires.isoformat()}: {e.describe()}; fix: renew "
                    "it with a new date and reason, or remove it and comply",
                )
            )
        else:
            report.active_exemptions.append(e)
    return report

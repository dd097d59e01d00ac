"""The rules as Pulumi CrossGuard policies (``pulumi_policy``), for ``policy/__main__.py``.

:func:`policies` builds one ``ResourceValidationPolicy`` per resource rule and one
``StackValidationPolicy`` per stack rule, named by the rule id, with its enforcement level,
severity and a config schema of the settings it reads (defaults filled in, so
``--policy-pack-config`` only needs what differs), plus the ``guardrail-exemptions`` stack
policy. It never constructs the ``PolicyPack`` (that starts a gRPC server and serves forever):
only the pack's program does.

The SDK hands resource policies the inputs (camelCase, behind its unknown-checking proxy: a rule
reading an unknown value raises, and the SDK skips the policy with an advisory note) and stack
policies the outputs; a rule here sees exactly that, wrapped in a
:class:`~eksplatform.guardrails.model.Resource`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Severity as PolicySeverity

from .evaluation import EXEMPTIONS_POLICY
from .exemptions import Exemption, matching
from .model import Resource, Rule
from .settings import SCHEMA, GuardrailSettings, settings_as_config, settings_from_config


@functools.lru_cache(maxsize=64)
def _settings(config_json: str) -> GuardrailSettings:
    return settings_from_config(json.loads(config_json))


def _settings_of(config: Mapping[str, Any]) -> GuardrailSettings:
    return _settings(json.dumps(dict(config), sort_keys=True, default=list))


def config_schema(
    rule: Rule, defaults: GuardrailSettings | None = None
) -> PolicyConfigSchema | None:
    """The rule's config keys with their JSON schema and default."""
    if not rule.config:
        return None
    values = settings_as_config(defaults or GuardrailSettings())
    return PolicyConfigSchema(
        properties={key: {**SCHEMA[key], "default": values[key]} for key in rule.config}
    )


def _exempting(
    report: ReportViolation,
    rule: Rule,
    exemptions: Sequence[Exemption],
    today: Callable[[], dt.date],
) -> Callable[[str, str], None]:
    def send(message: str, urn: str) -> None:
        if matching(exemptions, rule.id, urn, today()) is None:
            report(message, urn or None)

    return send


def _resource_policy(
    rule: Rule, exemptions: Sequence[Exemption], today: Callable[[], dt.date]
) -> ResourceValidationPolicy:
    check = rule.check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        settings = _settings_of(args.get_config())
        resource = Resource(args.resource_type, args.urn, args.name, args.props)
        send = _exempting(report, rule, exemptions, today)
        for message in check(resource, settings):
            send(rule.message(message), args.urn)

    return ResourceValidationPolicy(
        name=rule.id,
        description=f"{rule.title}.",
        validate=validate,
        enforcement_level=EnforcementLevel(rule.enforcement.value),
        config_schema=config_schema(rule),
        severity=PolicySeverity(rule.severity.value),
    )


def _stack_policy(
    rule: Rule, exemptions: Sequence[Exemption], today: Callable[[], dt.date]
) -> StackValidationPolicy:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        settings = _settings_of(args.get_config())
        resources = [Resource(r.resource_type, r.urn, r.name, r.props) for r in args.resources]
        send = _exempting(report, rule, exemptions, today)
        for urn, message in check(resources, settings):
            send(rule.message(message), urn or "")

    return StackValidationPolicy(
        name=rule.id,
        description=f"{rule.title}.",
        validate=validate,
        enforcement_level=EnforcementLevel(rule.enforcement.value),
        config_schema=config_schema(rule),
        severity=PolicySeverity(rule.severity.value),
    )


def _exemptions_policy(
    exemptions: Sequence[Exemption], today: Callable[[], dt.date]
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        day = today()
        for e in exemptions:
            if e.expired(day):
                report(
                    f"exemption expired on {e.expires.isoformat()}: {e.describe()}; fix: renew "
                    "it with a new date and reason, or remove it and comply",
                    None,
                )

    return StackValidationPolicy(
        name=EXEMPTIONS_POLICY,
        description="Exemptions (policy/exemptions.yaml) are in force; an expired one fails.",
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=PolicySeverity.HIGH,
    )


def policies(
    rules: Iterable[Rule],
    exemptions: Sequence[Exemption] = (),
    today: Callable[[], dt.date] = dt.date.today,
) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every rule as a CrossGuard policy, plus the exemptions policy."""
    out: list[ResourceValidationPolicy | StackValidationPolicy] = []
    for rule in rules:
        out.append(
            _resource_policy(rule, exemptions, today)
            if rule.check is not None
            else _stack_policy(rule, exemptions, today)
        )
    out.append(_exemptions_policy(exemptions, today))
    return out

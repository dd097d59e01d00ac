"""The guardrail rule model: one rule object, evaluated in three places.

A :class:`Rule` has an id, a severity, an enforcement level and the fix, plus up to three faces:

* ``check``: a resource rule, run on one leaf resource's properties as the Pulumi engine hands
  them to a policy pack (camelCase engine names, resource references as ids or URNs, unknown
  values as the engine's sentinels). It yields one message per violation;
* ``stack_check``: a stack rule, run on every resource of the stack (their outputs), yielding
  ``(urn, message)`` pairs;
* ``admission``: the rule's CEL form for a Kubernetes ValidatingAdmissionPolicy, when the rule
  can be written in CEL (see :mod:`eksplatform.guardrails.admission`).

Component inputs (ServiceStack args, the cluster stack config) reach the same rules through
:mod:`eksplatform.guardrails.inputs`, which feeds the rules' value checks with the fields the
user wrote.

Design decision: rules are plain Python over plain data, never over a policy SDK object, so the
library imports no policy SDK and no gRPC server starts (constructing a ``PolicyPack`` serves
forever); :mod:`eksplatform.guardrails.crossguard` wraps them for the pack. Cost: the pack's
behaviour on unknown values (skip the policy with an advisory note) is emulated offline by
:func:`evaluate`, and has its own test against the SDK's proxy.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .settings import GuardrailSettings


class Enforcement(enum.StrEnum):
    """What a violation does (the names and values of CrossGuard's enforcement levels)."""

    MANDATORY = "mandatory"
    """Fails the preview or update."""
    ADVISORY = "advisory"
    """Reported as a warning."""
    DISABLED = "disabled"
    """Not evaluated."""


class Severity(enum.StrEnum):
    """How bad a violation is (CrossGuard's severities)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Resource:
    """One leaf resource as a policy sees it."""

    type: str
    """Type token, e.g. ``aws:s3/bucket:Bucket``."""
    urn: str
    name: str
    """Logical name."""
    props: Mapping[str, Any]
    """Engine property names (camelCase); inputs for resource rules, outputs for stack rules."""

    @property
    def project(self) -> str:
        """Project name from the URN."""
        parts = self.urn.split("::")
        return parts[1] if len(parts) > 2 else ""

    @property
    def stack(self) -> str:
        """Stack name from the URN (``urn:pulumi:<stack>::<project>::...``)."""
        head = self.urn.split("::", 1)[0]
        return head.rsplit(":", 1)[-1] if head.startswith("urn:pulumi:") else ""


ResourceCheck = Callable[[Resource, GuardrailSettings], Iterable[str]]
StackCheck = Callable[[Sequence[Resource], GuardrailSettings], Iterable[tuple[str | None, str]]]


@dataclass(frozen=True)
class AdmissionRule:
    """A rule's form as a ValidatingAdmissionPolicy (CEL, ``admissionregistration.k8s.io/v1``)."""

    resources: tuple[tuple[str, str, str], ...]
    """(API group, version, plural resource) the policy matches, e.g. ``("apps", "v1",
    "deployments")``."""
    validations: tuple[tuple[str, str], ...]
    """(CEL expression that must be true, CEL message expression) pairs."""
    variables: tuple[tuple[str, str], ...] = ()
    """(name, CEL expression) variables the validations use as ``variables.<name>``."""
    exempt_namespaces: Callable[[GuardrailSettings], Sequence[str]] = lambda s: ()
    """Namespaces the policy never applies to (besides the settings' admission exemptions)."""
    operations: tuple[str, ...] = ("CREATE", "UPDATE")
    only_if: Callable[[GuardrailSettings, str], bool] = lambda s, env: True
    """Whether the cluster of environment ``env`` gets this policy at all."""
    expressions: Callable[[GuardrailSettings, str], tuple[tuple[str, str], ...]] | None = None
    """Validations computed from the settings and environment (instead of ``validations``)."""

    def resolved(
        self, settings: GuardrailSettings, environment: str
    ) -> tuple[tuple[str, str], ...]:
        return self.expressions(settings, environment) if self.expressions else self.validations


@dataclass(frozen=True)
class Rule:
    """One guardrail, written once."""

    id: str
    """Stable id, used as the CrossGuard policy name and in exemptions (``aws-required-tags``)."""
    title: str
    """One line: what must hold."""
    severity: Severity
    enforcement: Enforcement
    """Default enforcement level (the pack's config may change it)."""
    fix: str
    """How to comply, in one sentence (every violation message ends with it)."""
    types: frozenset[str] | None = None
    """Resource types a resource rule applies to (None: every type)."""
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    admission: AdmissionRule | None = None
    config: tuple[str, ...] = ()
    """The settings this rule reads (camelCase keys of its CrossGuard config)."""

    @property
    def kind(self) -> str:
        return "stack" if self.stack_check is not None else "resource"

    def applies_to(self, type_token: str) -> bool:
        return self.types is None or type_token in self.types

    def message(self, detail: str) -> str:
        """``detail`` plus the fix."""
        return f"{detail}; fix: {self.fix}"


@dataclass(frozen=True)
class Violation:
    """One broken rule on one resource (or the stack, when ``urn`` is empty)."""

    rule: str
    enforcement: Enforcement
    severity: Severity
    urn: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {
            "policy": self.rule,
            "enforcementLevel": self.enforcement.value,
            "severity": self.severity.value,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass
class RuleSet:
    """Rules by id, in declaration order."""

    rules: dict[str, Rule] = field(default_factory=dict)

    def add(self, *rules: Rule) -> None:
        for rule in rules:
            if rule.id in self.rules:
                raise ValueError(f"duplicate guardrail rule id {rule.id!r}")
            self.rules[rule.id] = rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def ids(self) -> list[str]:
        return list(self.rules)

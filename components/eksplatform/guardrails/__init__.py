"""Guardrails: one rule set, enforced on component inputs, in the CrossGuard pack and at
Kubernetes admission.

* :data:`RULES`: every rule (:class:`~eksplatform.guardrails.model.Rule`): id, severity,
  enforcement level, fix, and its resource, stack or admission (CEL) form;
* :mod:`.inputs`: the same rules on ServiceStack args and the cluster stack config, before
  anything is registered;
* :mod:`.crossguard`: the rules as ``pulumi_policy`` policies (``policy/__main__.py`` builds the
  pack from them);
* :mod:`.admission`: ValidatingAdmissionPolicies generated from the rules' CEL form, plus the
  team namespace boundary;
* :mod:`.evaluation`: the pack's run as the engine does it (offline preview, ``eksplatform
  policy check``); :mod:`.exemptions`: exemptions as data.

Importing this package imports no Pulumi SDK and starts no server.
"""

from __future__ import annotations

from .aws import AWS_RULES
from .kubernetes import KUBERNETES_RULES
from .model import Enforcement, Resource, Rule, RuleSet, Severity, Violation
from .settings import GuardrailSettings, settings_from_config
from .stack import STACK_RULES

RULES = RuleSet()
"""Every guardrail, by id."""
RULES.add(*AWS_RULES, *KUBERNETES_RULES, *STACK_RULES)

__all__ = [
    "RULES",
    "Enforcement",
    "GuardrailSettings",
    "Resource",
    "Rule",
    "RuleSet",
    "Severity",
    "Violation",
    "settings_from_config",
]

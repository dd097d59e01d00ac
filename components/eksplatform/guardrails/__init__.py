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

from .aws import TAG_AND_NAME_RULES
from .compute import COMPUTE_RULES
from .iam import IAM_RULES
from .kubernetes import KUBERNETES_RULES
from .model import Enforcement, Resource, Rule, RuleSet, Severity, Violation
from .network import NETWORK_RULES
from .pod_security import POD_SECURITY_RULES
from .settings import GuardrailSettings, settings_from_config
from .stack import STACK_RULES
from .storage import STORAGE_RULES

RULES = RuleSet()
"""Every guardrail, by id."""
RULES.add(
    *TAG_AND_NAME_RULES,
    *NETWORK_RULES,
    *IAM_RULES,
    *COMPUTE_RULES,
    *STORAGE_RULES,
    *KUBERNETES_RULES,
    *POD_SECURITY_RULES,
    *STACK_RULES,
)

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

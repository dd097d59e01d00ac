"""The guardrail policy pack: builds the CrossGuard ``PolicyPack`` from the library's rules.

Only this program constructs the pack (construction starts the analyzer's gRPC server and
serves until the engine stops it); the rules, their config schema and the exemptions logic are
in :mod:`eksplatform.guardrails`. Exemptions come from ``exemptions.yaml`` beside this file.
"""

import datetime
from pathlib import Path

from eksplatform.guardrails import RULES
from eksplatform.guardrails.crossguard import policies
from eksplatform.guardrails.evaluation import PACK_NAME
from eksplatform.guardrails.exemptions import load_exemptions
from pulumi_policy import PolicyPack

exemptions = load_exemptions(
    Path(__file__).resolve().with_name("exemptions.yaml"), RULES.ids(), datetime.date.today()
)

PolicyPack(
    name=PACK_NAME,
    description="Guardrails of the eks-platform repo (rules: eksplatform.guardrails)",
    policies=list(policies(RULES, exemptions)),
)

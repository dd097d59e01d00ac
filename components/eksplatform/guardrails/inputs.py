"""The rules on component inputs: ServiceStack args and the cluster stack config.

Pulumi policies see only leaf resources, after the program registered them; a user of
ServiceStack or of the cluster config should hear about a broken rule before anything is
registered, on the field they wrote. These adapters feed the rules' value checks (the same
functions the CrossGuard checks call) with those fields. Each problem names the rule id, so the
same violation reads the same in all three places.

Mandatory rules become :class:`~eksplatform.core.errors.Problem` objects (the caller raises them
with its own); advisory rules become warnings (the caller logs them). Fields another check of the
component already reported are skipped, so a user never reads the same fault twice.

The ServiceStack and cluster config objects are read by attribute (this package imports
neither ``eksplatform.service`` nor ``eksplatform.cluster``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import Problem
from . import compute, iam, kubernetes
from .model import Enforcement, Rule
from .settings import GuardrailSettings


@dataclass
class InputFindings:
    """Problems (mandatory rules) and warnings (advisory rules) found on inputs."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, rule: Rule, field_name: str, value: Any, detail: str) -> None:
        if rule.enforcement is Enforcement.DISABLED:
            return
        text = f"[{rule.id}] {rule.message(detail)}"
        if rule.enforcement is Enforcement.MANDATORY:
            self.problems.append(Problem(field_name, value, text))
        else:
            self.warnings.append(f"{field_name}: got {value!r}: {text}")


def service_findings(
    args: Any,
    *,
    environment: str,
    namespace: str,
    already: Iterable[str] = (),
    settings: GuardrailSettings | None = None,
) -> InputFindings:
    """The rules on ServiceStack args (``already``: fields with a problem reported)."""
    s = settings or GuardrailSettings()
    seen = set(already)
    out = InputFindings()

    def add(rule: Rule, name: str, value: Any, detail: str | None) -> None:
        if detail and name not in seen:
            out.add(rule, name, value, detail)
            seen.add(name)

    images = [("image", getattr(args, "image", None))]
    envoy_image = getattr(getattr(args, "envoy", None), "image", None)
    if envoy_image is not None:
        images.append(("envoy.image", envoy_image))
    canary_image = getattr(getattr(args, "canary", None), "image", None)
    if canary_image is not None:
        images.append(("canary.image", canary_image))
    for name, image in images:
        # The allowed registries are the pack's config, which a program cannot see before the
        # contract resolves: that rule runs in the pack and at admission only.
        if isinstance(image, str):
            add(kubernetes.IMAGE_PINNED, name, image, kubernetes.image_pin_problem(image))
    if namespace == "default":
        field_name = "namespace" if getattr(args, "namespace", None) else "team"
        add(
            kubernetes.NO_DEFAULT_NAMESPACE,
            field_name,
            getattr(args, field_name, None),
            "the service would deploy to the 'default' namespace",
        )
    autoscaling = getattr(args, "autoscaling", None)
    if autoscaling is not None:
        value = getattr(autoscaling, "min_replicas", None)
        if isinstance(value, int):
            add(
                kubernetes.PROD_HPA_MIN_REPLICAS,
                "autoscaling.min_replicas",
                value,
                kubernetes.min_replicas_problem(value, s.min_replicas(environment), environment),
            )
    for i, statement in enumerate(getattr(args, "iam_statements", ()) or ()):
        if getattr(statement, "effect", "Allow") != "Allow":
            continue
        for j, action in enumerate(getattr(statement, "actions", ()) or ()):
            add(
                iam.NO_WILDCARD_ACTIONS,
                f"iam_statements[{i}].actions[{j}]",
                action,
                iam.wildcard_action_problem(action),
            )
    return out


def cluster_findings(cfg: Any, settings: GuardrailSettings | None = None) -> InputFindings:
    """The rules on a parsed cluster stack config (``ClusterConfig``)."""
    s = settings or GuardrailSettings()
    out = InputFindings()
    cp = cfg.control_plane
    reason = compute.endpoint_problem(cp.endpoint_public_access, list(cp.public_access_cidrs))
    if reason and cp.public_access_cidrs:
        out.add(
            compute.EKS_ENDPOINT,
            "platform:controlPlane.publicAccessCidrs",
            list(cp.public_access_cidrs),
            reason,
        )
    missing = compute.missing_log_types(list(cp.log_types), s.required_log_types)
    if missing:
        out.add(
            compute.EKS_LOGS,
            "platform:controlPlane.logTypes",
            list(cp.log_types),
            f"control plane logs {', '.join(missing)} would be off",
        )
    for i, pool in enumerate(cfg.node_pools):
        where = f"platform:nodePools[{i}]"
        # aws-instance-types on inputs is NodePools' own warning (same threshold, issue 3);
        # the pack checks the Auto Scaling groups.
        reason = compute.spot_share_problem(
            pool.on_demand_percentage_above_base, s.spot_band(cfg.environment), cfg.environment
        )
        if reason:
            out.add(
                compute.SPOT_SHARE,
                f"{where}.onDemandPercentageAboveBase",
                pool.on_demand_percentage_above_base,
                reason,
            )
    return out

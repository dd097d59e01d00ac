"""The rules on component inputs, before anything is registered: ServiceStack args and the
cluster stack config. Each problem names the field the user wrote, quotes the value and carries
the rule id and fix; where the component's own check already reported the field, that message
stands (one message per field), and the guardrail adapter alone still finds it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.core.errors import ValidationError
from eksplatform.guardrails import RULES
from eksplatform.guardrails.inputs import cluster_findings, service_findings
from eksplatform.service import Autoscaling, EnvoyOptions, IamStatement, plan_service

from tests.service.bad_inputs import good_args
from tests.service.programs import facts_contract

PIN = RULES["k8s-image-pinned"]
DEFAULT_NS = RULES["k8s-no-default-namespace"]
WILDCARD = RULES["aws-iam-no-wildcard-actions"]
HPA = RULES["k8s-hpa-min-replicas"]

SERVICE_CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[str], list[str]]] = [
    # (rule, compliant change, violating change, ServiceStack's problems, the adapter's problems)
    (
        "k8s-image-pinned",
        {"envoy": EnvoyOptions(image="envoyproxy/envoy:v1.40.0")},
        {"envoy": EnvoyOptions(image="envoyproxy/envoy:latest")},
        [
            "envoy.image: got 'envoyproxy/envoy:latest': [k8s-image-pinned] "
            + PIN.message("image 'envoyproxy/envoy:latest' uses the moving tag 'latest'")
        ],
        [
            "envoy.image: got 'envoyproxy/envoy:latest': [k8s-image-pinned] "
            + PIN.message("image 'envoyproxy/envoy:latest' uses the moving tag 'latest'")
        ],
    ),
    (
        "k8s-no-default-namespace",
        {"namespace": "news"},
        {"namespace": "default"},
        [
            "namespace: got 'default': is a system namespace: a service deploys only into its "
            "team's namespace; remove namespace="
        ],
        [
            "namespace: got 'default': [k8s-no-default-namespace] "
            + DEFAULT_NS.message("the service would deploy to the 'default' namespace")
        ],
    ),
    (
        "aws-iam-no-wildcard-actions",
        {
            "iam_statements": [
                IamStatement(
                    actions=["sqs:SendMessage"], resources=["arn:aws:sqs:eu-west-1:123456789012:q"]
                )
            ]
        },
        {
            "iam_statements": [
                IamStatement(actions=["iam:*"], resources=["arn:aws:sqs:eu-west-1:123456789012:q"])
            ]
        },
        [
            "iam_statements[0].actions[0]: got 'iam:*': grants every iam action: list the actions the service calls"
        ],
        [
            "iam_statements[0].actions[0]: got 'iam:*': [aws-iam-no-wildcard-actions] "
            + WILDCARD.message("allows 'iam:*': every IAM action (permission management)")
        ],
    ),
    (
        "k8s-hpa-min-replicas",
        {"autoscaling": Autoscaling(min_replicas=2)},
        {"autoscaling": Autoscaling(min_replicas=1)},
        [
            "autoscaling.min_replicas: got 1: prod runs at least 2 pods (one per zone failure; "
            "'prod' is production)"
        ],
        [
            "autoscaling.min_replicas: got 1: [k8s-hpa-min-replicas] "
            + HPA.message("minReplicas is 1; 'prod' runs at least 2 (one pod per zone failure)")
        ],
    ),
]


@pytest.mark.parametrize("case", SERVICE_CASES, ids=[c[0] for c in SERVICE_CASES])
def test_rule_on_servicestack_args(
    case: tuple[str, dict[str, Any], dict[str, Any], list[str], list[str]],
) -> None:
    _, good, bad, stack_problems, adapter_problems = case
    base = good_args(facts_contract())
    plan_service(dataclasses.replace(base, **good))
    with pytest.raises(ValidationError) as err:
        plan_service(dataclasses.replace(base, **bad))
    assert [str(p) for p in err.value.problems] == stack_problems
    args = dataclasses.replace(base, **bad)
    namespace = args.namespace or "news"
    found = service_findings(args, environment="prod", namespace=namespace)
    assert [str(p) for p in found.problems] == adapter_problems
    assert (
        service_findings(
            dataclasses.replace(base, **good), environment="prod", namespace="news"
        ).problems
        == []
    )


def _config(extra: dict[str, Any], stack: str = "staging") -> dict[str, str]:
    raw = {"aws:region": "eu-west-1"}
    raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in extra.items()})
    return raw


def _parse_problems(extra: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as err:
        parse_cluster_config(_config(extra), stack="staging", source="Pulumi.staging.yaml")
    return [str(p) for p in err.value.problems]


def test_cluster_endpoint_rule() -> None:
    ok = {
        "platform:controlPlane": {
            "endpointPublicAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24"],
        }
    }
    parse_cluster_config(_config(ok), stack="staging", source="Pulumi.staging.yaml")
    bad = {
        "platform:controlPlane": {
            "endpointPublicAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24", "0.0.0.0/0"],
        }
    }
    # The cluster config's own check reports the field (one message per field) ...
    assert _parse_problems(bad) == [
        "platform:controlPlane.publicAccessCidrs: got ['203.0.113.0/24', '0.0.0.0/0']: "
        "0.0.0.0/0 opens the API server to the whole internet; list the CIDRs of your offices "
        "and CI runners, or set endpointPublicAccess: false"
    ]
    # ... and the guardrail adapter alone still finds it, with its rule id and fix.
    cfg = parse_cluster_config(_config(ok), stack="staging", source="Pulumi.staging.yaml")
    opened = cfg.model_copy(
        update={
            "control_plane": cfg.control_plane.model_copy(
                update={"public_access_cidrs": ("203.0.113.0/24", "0.0.0.0/0")}
            )
        }
    )
    assert [str(p) for p in cluster_findings(opened).problems] == [
        "platform:controlPlane.publicAccessCidrs: got ['203.0.113.0/24', '0.0.0.0/0']: "
        "[aws-eks-endpoint] "
        + RULES["aws-eks-endpoint"].message("the public API endpoint is open to 0.0.0.0/0")
    ]


def test_cluster_log_rule() -> None:
    parse_cluster_config(
        _config(
            {
                "platform:controlPlane": {
                    "endpointPublicAccess": False,
                    "logTypes": ["api", "audit", "authenticator"],
                }
            }
        ),
        stack="staging",
        source="Pulumi.staging.yaml",
    )
    assert _parse_problems(
        {"platform:controlPlane": {"endpointPublicAccess": False, "logTypes": ["api", "scheduler"]}}
    ) == [
        "platform:controlPlane.logTypes: got ['api', 'scheduler']: [aws-eks-logs] "
        + RULES["aws-eks-logs"].message("control plane logs audit, authenticator would be off")
    ]


def test_advisory_node_pool_rules_warn_without_failing() -> None:
    pools = [
        {
            "name": "general",
            "instanceTypes": ["m6i.large", "m6a.large"],
            "onDemandPercentageAboveBase": 60,
        }
    ]
    cfg = parse_cluster_config(
        _config({"platform:nodePools": pools}), stack="prod", source="Pulumi.prod.yaml"
    )
    found = cluster_findings(cfg)
    assert found.problems == []
    assert found.warnings == [
        "platform:nodePools[0].onDemandPercentageAboveBase: got 60: [aws-spot-share] "
        + RULES["aws-spot-share"].message(
            "spot share above the base is 40%, outside 50-90% for 'prod'"
        ),
    ]
    good = [
        {
            "name": "general",
            "instanceTypes": ["m6i.large", "m6a.large", "m5.large"],
            "onDemandPercentageAboveBase": 30,
        }
    ]
    cfg = parse_cluster_config(
        _config({"platform:nodePools": good}), stack="prod", source="Pulumi.prod.yaml"
    )
    assert cluster_findings(cfg).warnings == []

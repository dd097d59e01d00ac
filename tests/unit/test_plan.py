"""The rules across sections (:mod:`eksplatform.cluster.plan`): each reads only the keys it
declares, is skipped when one of them failed, and runs with the zones the loader resolved."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eksplatform.cluster.config import ClusterConfig, parse_cluster_config
from eksplatform.cluster.plan import RULES, PlanContext, plan_problems
from eksplatform.core.errors import ValidationError

BASE = {
    "aws:region": "eu-west-1",
    "aws:allowedAccountIds": '["111111111111"]',
    "platform:papertrailToken": "pt-token",
}


class Poison:
    """Stands in for a section a rule did not declare: any use of it fails the test."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the rule read {self._alias!r} without declaring it")

    def __iter__(self) -> Any:
        raise AssertionError(f"the rule read {self._alias!r} without declaring it")

    def __bool__(self) -> bool:
        raise AssertionError(f"the rule read {self._alias!r} without declaring it")

    def __str__(self) -> str:
        raise AssertionError(f"the rule read {self._alias!r} without declaring it")


def _config(**sections: Any) -> ClusterConfig:
    raw = dict(BASE)
    raw.update({f"platform:{k}": json.dumps(v) for k, v in sections.items()})
    return parse_cluster_config(
        raw,
        stack="staging",
        source="Pulumi.staging.yaml",
        secret_keys={"platform:papertrailToken"},
    )


def _context(cfg: ClusterConfig, failed: frozenset[str] = frozenset()) -> PlanContext:
    return PlanContext.build(
        cfg,
        failed=failed,
        given=frozenset({"region", "accountId"}),
        secret_keys=frozenset(),
        available_zones=lambda region: [f"{region}{c}" for c in "abc"],
    )


@pytest.mark.parametrize("index", range(len(RULES)), ids=[c.__name__ for _, c in RULES])
def test_each_rule_reads_only_what_it_declares(index: int) -> None:
    reads, check = RULES[index]
    cfg = _config(
        teams=[{"name": "news", "roleArns": ["arn:aws:iam::111111111111:role/dev"]}],
        logging={"output": "papertrail", "papertrail": {"host": "logs.example.com", "port": 443}},
    )
    context = _context(cfg)
    by_alias = {(f.alias or name): name for name, f in ClusterConfig.model_fields.items()}
    poisoned = cfg.model_copy(
        update={field: Poison(alias) for alias, field in by_alias.items() if alias not in reads}
    )
    list(check(poisoned, context))  # raises if the rule touches an undeclared section


def test_a_rule_is_skipped_when_a_section_it_reads_failed() -> None:
    cfg = ClusterConfig.model_validate(
        {
            "region": "eu-west-1",
            "environment": "staging",
            "nodePools": [{"name": "general", "minSize": 0, "onDemandBaseCapacity": 0}],
        }
    )
    messages = [p.field for p in plan_problems(cfg, _context(cfg))]
    assert messages == ["platform:nodePools"]
    assert plan_problems(cfg, _context(cfg, frozenset({"nodePools"}))) == []


def test_a_bad_section_hides_no_problem_of_another() -> None:
    with pytest.raises(ValidationError) as info:
        _config(
            network={"azCount": 0},
            nodePools=[{"name": "general", "minSize": 0, "onDemandBaseCapacity": 0}],
        )
    assert [p.field for p in info.value.problems] == [
        "platform:network.azCount",
        "platform:nodePools",
    ]


def test_zones_are_explicit_read_from_the_region_or_placeholders() -> None:
    cfg = _config(network={"azCount": 2})
    resolved = _context(cfg)
    assert resolved.zones == ("eu-west-1a", "eu-west-1b") and resolved.zones_resolved
    unresolved = PlanContext.build(
        cfg,
        failed=frozenset(),
        given=frozenset(),
        secret_keys=frozenset(),
        available_zones=None,
    )
    assert unresolved.zones == ("eu-west-1a", "eu-west-1b") and not unresolved.zones_resolved
    explicit = _config(network={"azCount": 1, "availabilityZones": ["eu-west-1c"]})
    assert _context(explicit).zones == ("eu-west-1c",)


def test_the_zones_are_read_only_when_the_region_parsed() -> None:
    calls: list[str] = []

    def zones(region: str) -> list[str]:
        calls.append(region)
        return [f"{region}a"]

    with pytest.raises(ValidationError):
        parse_cluster_config(
            {"aws:region": "europe"}, stack="dev", source="x", available_zones=zones
        )
    assert calls == []
    cfg = parse_cluster_config(
        {"aws:region": "eu-west-2", "platform:network": '{"azCount": 1}'},
        stack="dev",
        source="x",
        available_zones=zones,
    )
    assert calls == ["eu-west-2"] and cfg.zones == ("eu-west-2a",)


def test_unresolved_zones_are_not_offered_to_the_program() -> None:
    cfg = _config()
    with pytest.raises(RuntimeError):
        _ = cfg.zones


@pytest.mark.parametrize("cluster", ["a", "a" * 93, "eks-prod-2", "e1-x"])
def test_a_cluster_name_the_config_takes_passes_every_component_check(cluster: str) -> None:
    from eksplatform.cluster.autoscaler import (
        ClusterAutoscalerArgs,
        validate_cluster_autoscaler_args,
    )
    from eksplatform.cluster.interruption import (
        InterruptionHandlerArgs,
        validate_interruption_handler_args,
    )
    from eksplatform.core.tags import Tags

    raw = dict(BASE, **{"platform:clusterName": cluster})
    cfg = parse_cluster_config(
        raw, stack="dev", source="x", secret_keys={"platform:papertrailToken"}
    )
    tags = Tags(team="platform", environment="dev", cost_centre="platform")
    validate_cluster_autoscaler_args(
        ClusterAutoscalerArgs(
            cluster_name=cfg.cluster_name,
            kubernetes_version=cfg.kubernetes_version,
            region=cfg.region,
            account_id=cfg.account_id,
            pools=cfg.node_pools,
            k8s_provider=None,  # type: ignore[arg-type]
            tags=tags,
        )
    )
    validate_interruption_handler_args(
        InterruptionHandlerArgs(
            cluster_name=cfg.cluster_name,
            region=cfg.region,
            account_id=cfg.account_id,
            asg_names={f"general-{z}": "x" for z in ("eu-west-1a", "eu-west-1b")},
            k8s_provider=None,  # type: ignore[arg-type]
            tags=tags,
        )
    )


def test_a_bad_region_or_environment_hides_no_problem_of_another_section() -> None:
    pools = '[{"name": "general", "minSize": 0, "onDemandBaseCapacity": 0}]'
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(
            {"aws:region": "europe", "platform:nodePools": pools}, stack="dev", source="x"
        )
    assert [p.field for p in info.value.problems] == ["aws:region", "platform:nodePools"]
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(
            {"aws:region": "eu-west-1", "platform:nodePools": pools, "platform:tags": '{"x": "y"}'},
            stack="Dev",
            source="x",
        )
    assert [p.field for p in info.value.problems] == ["platform:environment", "platform:nodePools"]


def test_a_valid_environment_is_never_replaced_by_a_stand_in() -> None:
    cfg = parse_cluster_config(
        {"aws:region": "eu-west-1", "aws:allowedAccountIds": '["111111111111"]'},
        stack="dev",
        source="x",
    )
    assert (cfg.environment, cfg.cluster_name) == ("dev", "eks-dev")
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(
            {"aws:region": "eu-west-1", "platform:clusterName": "EKS_x"}, stack="dev", source="x"
        )
    assert "'EKS_x-alb-logs-'" in str(info.value)

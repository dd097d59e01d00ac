"""Defaults in one place per field: a section that names some keys never changes the others.

Issue 10 found a ``platform:controlPlane`` that set one key turning the public endpoint on (the
section model's default differed from the documented one). Here: every security-relevant field
keeps its documented default under a partial section, in the parsed config and in what the
cluster program builds; and every field whose docstring states a plain default has exactly that
default in its model.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pydantic
import pytest
from eksplatform.cluster import (
    autoscaler,
    config_model,
    descheduler,
    eks_addons,
    fluentd,
    headroom,
    interruption,
    node_pools,
    service_platform,
    teams,
    vpa,
)
from eksplatform.cluster.config import ClusterConfig, parse_cluster_config
from eksplatform.core.settings import SettingsModel
from eksplatform.preview.engine import PreviewResult, run_preview

from tests.conftest import make_workspace

ADMIN = "arn:aws:iam::111111111111:role/platform-admin"


def _parse(sections: dict[str, Any], stack: str = "staging") -> ClusterConfig:
    raw = {"aws:region": "eu-west-1", "aws:allowedAccountIds": '["111111111111"]'}
    raw.update({f"platform:{k}": json.dumps(v) for k, v in sections.items()})
    return parse_cluster_config(raw, stack=stack, source=f"Pulumi.{stack}.yaml")


def _at(cfg: Any, path: str) -> Any:
    for part in path.split("."):
        cfg = cfg[int(part)] if part.isdigit() else getattr(cfg, part)
    return cfg


PARTIAL = [
    # (partial sections, attribute, documented default)
    ({"controlPlane": {"adminRoleArns": [ADMIN]}}, "control_plane.endpoint_public_access", False),
    ({"controlPlane": {"logRetentionDays": 30}}, "control_plane.endpoint_public_access", False),
    ({"controlPlane": {"adminRoleArns": [ADMIN]}}, "control_plane.public_access_cidrs", ()),
    (
        {"controlPlane": {"adminRoleArns": [ADMIN]}},
        "control_plane.log_types",
        ("api", "audit", "authenticator", "controllerManager", "scheduler"),
    ),
    ({"controlPlane": {"adminRoleArns": [ADMIN]}}, "control_plane.log_retention_days", 90),
    ({"controlPlane": {"logRetentionDays": 30}}, "control_plane.deletion_protection", False),
    ({"network": {"cidr": "10.1.0.0/16"}}, "network.flow_logs.enabled", True),
    ({"network": {"cidr": "10.1.0.0/16"}}, "network.flow_logs.retention_days", 30),
    ({"network": {"cidr": "10.1.0.0/16"}}, "network.flow_logs.traffic_type", "ALL"),
    ({"network": {"flowLogs": {"retentionDays": 14}}}, "network.flow_logs.enabled", True),
    ({"network": {"flowLogs": {"enabled": True}}}, "network.flow_logs.retention_days", 30),
    ({"network": {"cidr": "10.1.0.0/16"}}, "network.interface_endpoints", True),
    ({"network": {"cidr": "10.1.0.0/16"}}, "network.nat_gateways", "perAz"),
    ({"nodePools": [{"name": "general"}]}, "node_pools.0.on_demand_base_capacity", 1),
    ({"nodePools": [{"name": "general"}]}, "node_pools.0.root_volume_size_gib", 50),
    ({"interruptionHandler": {"replicas": 1}}, "interruption_handler.enabled", True),
    ({"logging": {"buffer": {"totalLimitSize": "2GB"}}}, "logging.output", "cloudwatch"),
    ({"logging": {"output": "cloudwatch"}}, "logging.cloudwatch.retention_days", 30),
    ({"servicePlatform": {"albLogRetentionDays": 30}}, "service_platform.allowed_services", None),
    (
        {"descheduler": {"lowNodeUtilization": {"thresholds": {"cpu": 10}}}},
        "descheduler.low_node_utilization.thresholds.memory",
        20,
    ),
    (
        {"descheduler": {"lowNodeUtilization": {"targetThresholds": {"pods": 80}}}},
        "descheduler.low_node_utilization.target_thresholds.cpu",
        60,
    ),
    ({"vpa": {"recommender": {"replicas": 2}}}, "vpa.recommender.memory", "512Mi"),
    ({"vpa": {"updater": {"replicas": 2}}}, "vpa.updater.min_replicas", 2),
    ({"teams": [{"name": "news", "quota": {"pods": 10}}]}, "teams.0.quota.requests_cpu", "8"),
]


@pytest.mark.parametrize(("sections", "attribute", "default"), PARTIAL)
def test_a_partial_section_keeps_the_documented_default(
    sections: dict[str, Any], attribute: str, default: Any
) -> None:
    value = _at(_parse(sections), attribute)
    if default is None:  # the default is a long tuple: compare with the section's own
        default = service_platform.DEFAULT_ALLOWED_SERVICES
    assert value == default


def test_deletion_protection_defaults_by_environment_under_a_partial_section() -> None:
    section = {"controlPlane": {"adminRoleArns": [ADMIN]}}
    assert _parse(section, stack="prod").control_plane.deletion_protection is True
    assert _parse(section, stack="staging").control_plane.deletion_protection is False
    explicit = {"controlPlane": {"deletionProtection": False}}
    assert _parse(explicit, stack="prod").control_plane.deletion_protection is False


@pytest.fixture(scope="module")
def partial_prod(tmp_path_factory: pytest.TempPathFactory) -> PreviewResult:
    """The cluster program on a production stack whose sections each name one key."""
    root = tmp_path_factory.mktemp("partial") / "ws"
    ws = make_workspace(root)
    (root / "Pulumi.prod.yaml").write_text(
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  aws:allowedAccountIds: ['111111111111']\n"
        f"  platform:controlPlane: {{adminRoleArns: [{ADMIN}]}}\n"
        "  platform:network: {cidr: 10.1.0.0/16}\n"
        "  platform:nodePools: [{name: general}]\n"
        "  platform:logging: {buffer: {totalLimitSize: 2GB}}\n"
    )
    result = run_preview(ws, "cluster", "prod")
    assert result.ok, [d.message for d in result.diagnostics]
    return result


def _inputs(result: PreviewResult, typ: str) -> list[dict[str, Any]]:
    return [r.inputs for r in result.by_type(typ)]


def test_partial_sections_keep_the_endpoint_private_and_deletion_protected(
    partial_prod: PreviewResult,
) -> None:
    (eks,) = _inputs(partial_prod, "eks:index:Cluster")
    assert eks["endpointPublicAccess"] is False and eks["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in eks
    assert eks["deletionProtection"] is True
    assert len(eks["enabledClusterLogTypes"]) == 5


def test_partial_sections_keep_secrets_encrypted_with_a_rotating_key(
    partial_prod: PreviewResult,
) -> None:
    (eks,) = _inputs(partial_prod, "eks:index:Cluster")
    (key,) = [r for r in partial_prod.by_type("aws:kms/key:Key") if r.name == "eks-secrets"]
    assert key.inputs["enableKeyRotation"] is True
    assert eks["encryptionConfigKeyArn"] == key.outputs["arn"]


def test_partial_sections_keep_the_logs_and_their_retention(partial_prod: PreviewResult) -> None:
    groups = {r.name: r.inputs for r in partial_prod.by_type("aws:cloudwatch/logGroup:LogGroup")}
    assert groups["eks-logs"]["retentionInDays"] == 90
    assert groups["network-flow-logs"]["retentionInDays"] == 30
    (flow,) = _inputs(partial_prod, "aws:ec2/flowLog:FlowLog")
    assert flow["trafficType"] == "ALL"


def test_a_partial_pool_keeps_imdsv2_and_an_encrypted_root_volume(
    partial_prod: PreviewResult,
) -> None:
    (lt,) = _inputs(partial_prod, "aws:ec2/launchTemplate:LaunchTemplate")
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert lt["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert lt["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"


# --- every plain documented default is the model's ----------------------------------------------

_DEFAULT = re.compile(
    r"Default: (true|false|-?\d+(?:\.\d+)?|[A-Za-z][\w/-]*(?:\.[\w/-]+)*)"
    r"(?=\.(?:\s|$)|$|\s\(|[;,])"
)
_MODULES = (
    autoscaler,
    config_model,
    descheduler,
    eks_addons,
    fluentd,
    headroom,
    interruption,
    node_pools,
    service_platform,
    teams,
    vpa,
)


_STRUCTURES = (pydantic.BaseModel, tuple, dict)
"""Defaults documented in words (derived values, structures) are checked by the tests above."""


def _documented_defaults() -> list[tuple[str, str, str]]:
    """(class, field, documented default) for every settings field whose docstring states one
    plain value (a literal, a word or a number)."""
    found = []
    for module in _MODULES:
        tree = ast.parse(Path(inspect.getfile(module)).read_text())
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            cls = getattr(module, node.name, None)
            if not (isinstance(cls, type) and issubclass(cls, SettingsModel)):
                continue
            for stmt, doc in zip(node.body, node.body[1:], strict=False):
                if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                    continue
                if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)):
                    continue
                m = _DEFAULT.search(str(doc.value.value))
                default = cls.model_fields[stmt.target.id].get_default(call_default_factory=True)
                if m and not (default is None or isinstance(default, _STRUCTURES)):
                    found.append((node.name, stmt.target.id, m.group(1)))
    return found


def _as_documented(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else "empty"


@pytest.mark.parametrize(("cls_name", "field", "documented"), _documented_defaults())
def test_the_documented_default_is_the_models(cls_name: str, field: str, documented: str) -> None:
    cls = next(getattr(m, cls_name) for m in _MODULES if hasattr(m, cls_name))
    default = cls.model_fields[field].get_default(call_default_factory=True)
    assert _as_documented(default) == documented


def test_the_audit_reads_enough_documented_defaults() -> None:
    assert len(_documented_defaults()) >= 60

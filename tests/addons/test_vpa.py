"""The VPA add-on: the upstream chart pinned, values built from typed config, restricted pods."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
from eksplatform.cluster import priority
from eksplatform.cluster.vpa import (
    CHART,
    DEFAULT_CHART_VERSION,
    NAMESPACE,
    REPOSITORY,
    VpaArgs,
    VpaConfig,
    validate_vpa_args,
    vpa_values,
)
from eksplatform.core.errors import ValidationError
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, PreviewResult, run_preview

from tests.conftest import make_workspace

Preview = Callable[[str], PreviewResult]


def _chart(result: PreviewResult) -> dict[str, Any]:
    charts = result.by_type("kubernetes:helm.sh/v4:Chart")
    assert len(charts) == 1
    return charts[0].inputs


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_preview_shows_the_pinned_upstream_chart_and_its_values(
    cluster_preview: Preview, stack: str
) -> None:
    result = cluster_preview(stack)
    chart = _chart(result)
    assert chart["chart"] == CHART == "vertical-pod-autoscaler"
    assert chart["version"] == DEFAULT_CHART_VERSION == "0.9.0"
    assert chart["repositoryOpts"] == {"repo": REPOSITORY}
    assert REPOSITORY == "https://kubernetes.github.io/autoscaler"
    assert chart["namespace"] == NAMESPACE and chart["name"] == "vpa"
    assert chart["values"] == vpa_values(VpaConfig())
    # the chart installs into its own restricted namespace, created first
    ns = next(m for m in result.manifests if m.kind == "Namespace" and m.name == NAMESPACE)
    assert ns.body["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    chart_rec = result.by_type("kubernetes:helm.sh/v4:Chart")[0]
    assert ns.urn in chart_rec.dependencies
    # on the cluster's Kubernetes provider, not an ambient kubeconfig
    assert chart_rec.parent.endswith("eksplatform:addons:Vpa::vpa")
    assert "pulumi:providers:kubernetes::eks-k8s" in chart_rec.provider
    ns_rec = next(r for r in result.resources if r.urn == ns.urn)
    assert chart_rec.provider == ns_rec.provider


def test_values_are_typed_restricted_and_platform_critical() -> None:
    values = vpa_values(VpaConfig())
    assert values["podSecurityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    csc = values["containerSecurityContext"]
    assert csc["allowPrivilegeEscalation"] is False and csc["readOnlyRootFilesystem"] is True
    assert csc["capabilities"] == {"drop": ["ALL"]}
    assert csc["seccompProfile"] == {"type": "RuntimeDefault"}
    expected = {
        "recommender": (1, "50m", "512Mi", False),
        "updater": (1, "50m", "256Mi", False),
        "admissionController": (2, "50m", "256Mi", True),
    }
    for key, (replicas, cpu, memory, pdb) in expected.items():
        component = values[key]
        assert component["enabled"] is True
        assert component["replicas"] == replicas, key
        assert component["priorityClassName"] == priority.PLATFORM_CRITICAL
        assert component["resources"] == {
            "requests": {"cpu": cpu, "memory": memory},
            "limits": {"memory": memory},
        }
        assert component["podDisruptionBudget"] == {"enabled": pdb}
    assert values["updater"]["extraArgs"] == ["--min-replicas=2"]
    assert values["admissionController"]["certGen"] == {
        "priorityClassName": "platform-critical",
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}},
    }


def test_config_reaches_the_values() -> None:
    cfg = VpaConfig.model_validate(
        {
            "chartVersion": "0.8.1",
            "recommender": {"replicas": 2, "memory": "1Gi"},
            "updater": {"enabled": False, "minReplicas": 3},
            "admissionController": {"cpu": "100m"},
        }
    )
    values = vpa_values(cfg)
    assert cfg.chart_version == "0.8.1"
    assert values["recommender"]["replicas"] == 2
    assert values["recommender"]["resources"]["limits"] == {"memory": "1Gi"}
    assert values["recommender"]["podDisruptionBudget"] == {"enabled": True}
    assert values["updater"]["enabled"] is False
    assert values["updater"]["extraArgs"] == ["--min-replicas=3"]
    # defaults of a partly given section stay those of its own kind
    assert values["admissionController"]["replicas"] == 2
    assert values["admissionController"]["resources"]["requests"]["cpu"] == "100m"


def test_bad_vpa_config_is_reported_field_by_field() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        VpaConfig.model_validate(
            {
                "chartVersion": "~0.9",
                "recommender": {"replicas": 0, "cpu": "fast"},
                "updater": {"minReplicas": 0},
            }
        )
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [
        (("chartVersion",), "Value error, pin an exact chart version like 0.9.0 (no ranges)"),
        (("recommender", "replicas"), "Value error, must be 1 to 5"),
        (
            ("recommender", "cpu"),
            "Value error, 'fast' is not a CPU quantity; write millicores like '250m' or cores "
            "like '0.5'",
        ),
        (
            ("updater", "minReplicas"),
            "Value error, must be 1 or more (2 keeps single-pod workloads untouched)",
        ),
    ]


def test_vpa_args_refuse_a_plain_http_repository() -> None:
    from unittest.mock import sentinel

    with pytest.raises(ValidationError) as info:
        validate_vpa_args(VpaArgs(provider=sentinel.provider, repository="http://charts.example"))
    assert str(info.value) == (
        "Vpa: 1 problem:\n"
        "  - repository: got 'http://charts.example': use an https:// chart repository"
    )


def test_bad_chart_version_fails_the_preview_with_nothing_registered(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    stack.write_text(stack.read_text() + "  platform:vpa:\n    chartVersion: latest\n")
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    assert [d.message for d in result.diagnostics] == [
        "Pulumi.prod.yaml: invalid stack configuration: 1 problem:\n"
        "  - platform:vpa.chartVersion: got 'latest': pin an exact chart version like 0.9.0 "
        "(no ranges)"
    ]


def test_vpa_can_be_turned_off(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.staging.yaml"
    stack.write_text(stack.read_text() + "  platform:vpa:\n    enabled: false\n")
    result = run_preview(ws, "cluster", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.by_type("kubernetes:helm.sh/v4:Chart") == []
    assert not [m for m in result.manifests if m.name == NAMESPACE]

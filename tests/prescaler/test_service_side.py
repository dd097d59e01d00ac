"""The service side of the pre-scaler: who owns the HPA's floor (the Pulumi half of "tested both
ways"; the pre-scaler half is in test_handler.py), and ServiceStack refusing HPA metrics the
cluster cannot serve and pre-scaling on a cluster without a pre-scaler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eksplatform.core.contract import RESOURCE_METRICS_API
from eksplatform.preview.engine import EXIT_INVALID_CONFIG, run_preview
from eksplatform.preview.mocks import Recorded, unwrap
from eksplatform.service import EnvoyOptions
from eksplatform.service.contract_checks import ContractView

from tests.conftest import REPO
from tests.service.programs import contract_source, contract_values, preview_service

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"


def _service(autoscaling: str, extra: str = "") -> str:
    return f"""
ServiceStack("feed", ServiceStackArgs(
    name="feed", team="news", image="registry.example.com/news/feed:1.4.2", port=8080,
    cluster=cluster, resources=Resources(cpu="400m", memory="384Mi"),
    autoscaling={autoscaling},{extra}
))
"""


def _hpa(result: Any) -> Recorded:
    (hpa,) = result.by_type(HPA)
    found: Recorded = hpa
    return found


def test_prescaled_hpa_declares_its_baseline_and_leaves_the_floor_to_the_prescaler(
    tmp_path: Path,
) -> None:
    _, result = preview_service(
        tmp_path,
        _service(
            "Autoscaling(min_replicas=4, max_replicas=80)",
            "\n    prescaling=PreScaling(factor=20),",
        ),
    )
    assert result.ok, [d.message for d in result.diagnostics]
    hpa = _hpa(result)
    meta = unwrap(hpa.inputs)["metadata"]
    assert meta["labels"]["eksplatform.io/prescale"] == "true"
    assert meta["labels"]["eksplatform.io/prescale-factor"] == "20"
    # app 400m/384Mi + the Envoy sidecar's defaults (CPU request; memory request = limit)
    envoy = EnvoyOptions()
    from eksplatform.core import kube

    assert json.loads(meta["annotations"]["eksplatform.io/pod-requests"]) == {
        "cpuMillis": 400 + round(kube.parse_cpu(envoy.cpu)),
        "memoryBytes": (384 + 128) * 2**20,  # the sidecar's measured default: 128Mi
    }
    assert meta["annotations"]["eksplatform.io/baseline-min-replicas"] == "4"
    assert unwrap(hpa.inputs)["spec"]["minReplicas"] == 4  # the floor at creation
    assert hpa.ignore_changes == ["spec.minReplicas"]  # never reset by a later `pulumi up`


def test_without_prescaling_pulumi_owns_the_floor_outright(tmp_path: Path) -> None:
    _, result = preview_service(tmp_path, _service("Autoscaling(min_replicas=4, max_replicas=80)"))
    assert result.ok
    hpa = _hpa(result)
    meta = unwrap(hpa.inputs)["metadata"]
    assert "annotations" not in meta or not meta["annotations"]
    assert "eksplatform.io/prescale" not in meta["labels"]
    assert hpa.ignore_changes == []


def test_metrics_the_cluster_cannot_serve_are_refused_before_any_child(tmp_path: Path) -> None:
    body = _service(
        "Autoscaling(min_replicas=2, max_replicas=10, metrics=["
        "MetricTarget(name='requests_per_second', average_value='50'), "
        "MetricTarget(name='datadogmetric@news:feed-rps', average_value='100', type='External')])"
    )
    contract = contract_source("prod", metricsApis=[RESOURCE_METRICS_API])
    _, result = preview_service(tmp_path, body, contract=contract)
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert result.diagnostics[-1].message == (
        "ServiceStack 'feed': 2 problems:\n"
        "  - autoscaling.metrics[0].type: got 'Pods': the Pods metric 'requests_per_second' is "
        "read from custom.metrics.k8s.io, which the cluster contract does not serve (it "
        "serves: metrics.k8s.io): scale on cpu_target_percent / memory_target_percent, or ask "
        "the platform team for a metrics adapter that serves it\n"
        "  - autoscaling.metrics[1].type: got 'External': the External metric "
        "'datadogmetric@news:feed-rps' is read from external.metrics.k8s.io, which the cluster "
        "contract does not serve (it serves: metrics.k8s.io): scale on cpu_target_percent / "
        "memory_target_percent, or ask the platform team for a metrics adapter that serves it"
    )


def test_an_adapter_the_contract_lists_is_accepted(tmp_path: Path) -> None:
    body = _service(
        "Autoscaling(min_replicas=2, max_replicas=10, metrics=[MetricTarget("
        "name='datadogmetric@news:feed-rps', average_value='100', type='External')])"
    )
    contract = contract_source(
        "prod", metricsApis=[RESOURCE_METRICS_API, "external.metrics.k8s.io"]
    )
    _, result = preview_service(tmp_path, body, contract=contract)
    assert result.ok, [d.message for d in result.diagnostics]
    assert unwrap(_hpa(result).inputs)["spec"]["metrics"][1]["type"] == "External"


def test_prescaling_on_a_cluster_without_a_prescaler_is_refused(tmp_path: Path) -> None:
    body = _service(
        "Autoscaling(min_replicas=2, max_replicas=10)", "\n    prescaling=PreScaling(),"
    )
    _, result = preview_service(
        tmp_path, body, contract=contract_source("prod", prescaleTopicArn="")
    )
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == []
    assert result.diagnostics[-1].message == (
        "ServiceStack 'feed': 1 problem:\n"
        "  - prescaling: got PreScaling(factor=10): the cluster contract runs no push "
        "pre-scaler (platform:preScaler.enabled is false): drop prescaling, or ask the platform "
        "team to enable it"
    )


def test_a_cluster_stack_older_than_the_fields_serves_resource_metrics_only() -> None:
    values = contract_values("prod")
    del values["metricsApis"], values["prescaleTopicArn"]
    view = ContractView.from_contract(values, "the cluster stack")
    assert view.metrics_apis == (RESOURCE_METRICS_API,)
    assert view.prescale_topic_arn == ""
    assert view.malformed == ()
    garbled = ContractView.from_contract(
        {**values, "metricsApis": "metrics.k8s.io", "prescaleTopicArn": 7}, "the cluster stack"
    )
    assert garbled.malformed == ("metricsApis", "prescaleTopicArn")


def test_the_news_feed_example_is_prescaled_against_the_real_cluster(tmp_path: Path) -> None:
    from eksplatform.preview.engine import Workspace

    ws = Workspace(REPO, tmp_path)
    result = run_preview(ws, "services/news-feed", "prod")
    assert result.ok, [d.message for d in result.diagnostics]
    hpa = _hpa(result)
    meta = unwrap(hpa.inputs)["metadata"]
    assert meta["labels"]["eksplatform.io/prescale-factor"] == "20"
    floor = unwrap(hpa.inputs)["spec"]["minReplicas"]  # numbers arrive as floats
    assert meta["annotations"]["eksplatform.io/baseline-min-replicas"] == str(int(floor))
    assert hpa.ignore_changes == ["spec.minReplicas"]

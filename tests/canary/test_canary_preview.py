"""A canary stack of each example service with an ALB, previewed offline: schema-valid and
within the guardrails, the weighted rule's weights sum to 100 and match the stack file, the
header rule comes first, both target groups are alarmed, and adding the canary only adds
resources (no stable URN, input or resource changes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.preview.diff import diff_paths
from eksplatform.preview.engine import PreviewResult, Workspace

from tests.canary.previews import document, errors, preview, service_workspace, states

CASES = [
    # service, stack, image of the canary, weight, header
    (
        "news-feed",
        "staging",
        "111111111111.dkr.ecr.eu-west-1.amazonaws.com/news/news-feed:1.43.0",
        25,
        True,
    ),
    (
        "user-profiles",
        "prod",
        "222222222222.dkr.ecr.eu-west-1.amazonaws.com/news/user-profiles:2.7.0",
        5,
        False,
    ),
]
RULE = "aws:lb/listenerRule:ListenerRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"


def _canary_block(service: str, image: str, weight: int, header: bool) -> str:
    lines = [
        "  # the release under test: kept by every edit",
        f"  {service}:canary:",
        f"    image: {image}",
        f"    weight: {weight}",
    ]
    if header:
        lines.append("    header: {name: x-canary, value: always}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def previews(
    tmp_path_factory: pytest.TempPathFactory,
    repo_workspace: Workspace,
    cluster_preview: Callable[[str], PreviewResult],
) -> dict[str, tuple[Workspace, PreviewResult, PreviewResult]]:
    out = {}
    for service, stack, image, weight, header in CASES:
        ws = service_workspace(
            tmp_path_factory.mktemp(service), service, repo_workspace, cluster_preview
        )
        base = preview(ws, service, stack, into="build-base")
        stack_file = ws.root / "services" / service / f"Pulumi.{stack}.yaml"
        stack_file.write_text(
            stack_file.read_text() + _canary_block(service, image, weight, header)
        )
        head = preview(ws, service, stack)
        out[service] = (ws, base, head)
    return out


@pytest.mark.parametrize(("service", "stack", "image", "weight", "header"), CASES)
def test_canary_preview_is_clean(
    previews: dict[str, Any], service: str, stack: str, image: str, weight: int, header: bool
) -> None:
    ws, base, head = previews[service]
    assert base.exit_code == 0, errors(base)
    assert head.exit_code == 0, errors(head)  # 3: an invalid manifest, 4: a guardrail
    out = ws.root / "build" / "services" / service / stack / "manifests" / "namespaces" / "news"
    canary = f"{service}-canary"
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert (out / kind / f"{canary}.yaml").is_file(), kind
    deployment = yaml.safe_load((out / "Deployment" / f"{canary}.yaml").read_text())
    stable_service = yaml.safe_load((out / "Service" / f"{service}.yaml").read_text())
    canary_service = yaml.safe_load((out / "Service" / f"{canary}.yaml").read_text())
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == image
    assert pod_labels["tags.datadoghq.com/version"] == image.rsplit(":", 1)[1]
    # The canary Service selects the canary pods; the stable Service none of them.
    assert canary_service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert canary_service["spec"]["selector"].items() <= pod_labels.items()
    assert not stable_service["spec"]["selector"].items() <= pod_labels.items()


@pytest.mark.parametrize(("service", "stack", "image", "weight", "header"), CASES)
def test_listener_rules_weights_and_order(
    previews: dict[str, Any], service: str, stack: str, image: str, weight: int, header: bool
) -> None:
    ws, _, _ = previews[service]
    doc = document(ws, service, stack)
    groups = {name: s["outputs"]["arn"] for name, s in states(doc, TG).items()}
    stable_tg, canary_tg = groups[f"{service}-tg"], groups[f"{service}-ctg"]
    https = states(doc, LISTENER)[f"{service}-https"]["outputs"]["arn"]
    rules = states(doc, RULE)
    weighted = rules[f"{service}-canary-weighted"]["inputs"]
    assert weighted["listenerArn"] == https
    assert weighted["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    forward = weighted["actions"][0]["forward"]["targetGroups"]
    assert {g["arn"]: g["weight"] for g in forward} == {
        stable_tg: 100 - weight,
        canary_tg: weight,
    }
    assert sum(g["weight"] for g in forward) == 100
    if header:
        first = rules[f"{service}-canary-header"]["inputs"]
        assert first["listenerArn"] == https
        assert first["priority"] < weighted["priority"]
        assert first["conditions"] == [
            {"httpHeader": {"httpHeaderName": "x-canary", "values": ["always"]}}
        ]
        assert first["actions"] == [{"targetGroupArn": canary_tg, "type": "forward"}]
    else:
        assert f"{service}-canary-header" not in rules


@pytest.mark.parametrize(("service", "stack", "image", "weight", "header"), CASES)
def test_both_target_groups_are_alarmed(
    previews: dict[str, Any], service: str, stack: str, image: str, weight: int, header: bool
) -> None:
    ws, _, _ = previews[service]
    doc = document(ws, service, stack)
    suffix = {name: s["outputs"]["arnSuffix"] for name, s in states(doc, TG).items()}
    alarms = states(doc, ALARM)

    def target_groups(inputs: dict[str, Any]) -> set[str]:
        dims = [inputs.get("dimensions") or {}]
        dims += [
            q["metric"]["dimensions"] for q in inputs.get("metricQueries", []) if "metric" in q
        ]
        return {d["TargetGroup"] for d in dims if "TargetGroup" in d}

    for kind in ("p99-latency", "unhealthy-hosts"):
        assert target_groups(alarms[f"{service}-{kind}"]["inputs"]) == {suffix[f"{service}-tg"]}
    for kind in ("5xx-rate", "p99-latency", "unhealthy-hosts"):
        inputs = alarms[f"{service}-canary-{kind}"]["inputs"]
        assert target_groups(inputs) == {suffix[f"{service}-ctg"]}
        assert inputs["alarmActions"] == alarms[f"{service}-5xx-rate"]["inputs"]["alarmActions"]
        assert inputs["tags"]["service"] == service
        assert inputs["tags"]["eksplatform-release"] == "canary"


@pytest.mark.parametrize(("service", "stack", "image", "weight", "header"), CASES)
def test_adding_the_canary_only_adds_its_own_resources(
    previews: dict[str, Any], service: str, stack: str, image: str, weight: int, header: bool
) -> None:
    ws, _, _ = previews[service]
    [diff] = diff_paths(
        ws.root / "build-base" / "services" / service / stack / "preview.json",
        ws.root / "build" / "services" / service / stack / "preview.json",
    )
    assert {r.op for r in diff.resources} == {"create"}
    assert diff.outputs == []
    created = sorted(
        r.name for r in diff.resources if not r.name.startswith(f"{service}-canary-tg-")
    )
    expected = [
        f"{service}-canary",
        f"{service}-canary-5xx-rate",
        f"{service}-canary-alb-out",
        f"{service}-canary-deployment",
        *([f"{service}-canary-header"] if header else []),
        f"{service}-canary-hpa",
        f"{service}-canary-nodeport",
        f"{service}-canary-p99-latency",
        f"{service}-canary-pdb",
        f"{service}-canary-service",
        f"{service}-canary-unhealthy-hosts",
        f"{service}-canary-weighted",
        f"{service}-ctg",
    ]
    assert created == expected
    attachments = [r for r in diff.resources if r.name.startswith(f"{service}-canary-tg-")]
    stable = states(
        document(ws, service, stack, "build-base"), "aws:autoscaling/attachment:Attachment"
    )
    assert len(attachments) == len(stable) > 0  # one per node pool ASG, as for the stable one


def test_canary_hpa_follows_the_weight_in_the_manifest(
    previews: dict[str, Any], tmp_path: Path
) -> None:
    ws, _, _ = previews["user-profiles"]
    out = ws.root / "build" / "services" / "user-profiles" / "prod" / "manifests" / "namespaces"
    hpa = yaml.safe_load(
        (out / "news" / "HorizontalPodAutoscaler" / "user-profiles-canary.yaml").read_text()
    )
    stable = yaml.safe_load(
        (out / "news" / "HorizontalPodAutoscaler" / "user-profiles.yaml").read_text()
    )
    # 5% of the stable 2-40 pods, never below 2 (a single canary pod would carry its whole share).
    assert (stable["spec"]["minReplicas"], stable["spec"]["maxReplicas"]) == (2, 40)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 2)
    assert hpa["spec"]["scaleTargetRef"]["name"] == "user-profiles-canary"
    assert hpa["spec"]["metrics"] == stable["spec"]["metrics"]


def test_the_pulumi_up_path_renders_the_canary_exactly_as_the_known_contract_path(
    tmp_path: Path,
) -> None:
    """Under ``pulumi up`` the contract resolves while the program runs (labels, tags and
    namespace are Outputs of the gate): the canary's resources come out the same."""
    from tests.service.programs import CERT, ECR_IMAGE, preview_service
    from tests.service.test_service_gate import _outputs_only

    canary = ECR_IMAGE.replace(":1.4.2", ":1.5.0")
    body = (
        f'svc = ServiceStack("feed", ServiceStackArgs(team="news", image={ECR_IMAGE!r}, '
        f"port=8080, cluster=cluster, ingress=Ingress(certificate_arn={CERT!r}), "
        'env={"A": "1"}, secrets={"B": "2"}, config_files={"c.yaml": "x"}, '
        f"canary=Canary(image={canary!r}, weight=10, env={{'A': '2'}}, "
        "config_files={'d.yaml': 'y'}, header=CanaryHeader(name='x-canary', value='1'))))\n"
    )
    _, gated = preview_service(tmp_path / "gated", body, contract=_outputs_only())
    _, known = preview_service(tmp_path / "known", body)
    assert gated.ok and known.ok, errors(gated) + errors(known)
    assert [(r.urn, r.inputs) for r in gated.resources] == [
        (r.urn, r.inputs) for r in known.resources
    ]
    config = next(m for m in known.manifests if m.name == "feed-canary-config")
    assert config.body["data"] == {"c.yaml": "x", "d.yaml": "y"}
    deployment = next(
        m for m in known.manifests if m.name == "feed-canary" and m.kind == "Deployment"
    )
    env = deployment.body["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "A", "value": "2"} in env
    assert any(e["name"] == "B" and "valueFrom" in e for e in env)  # the service's Secret

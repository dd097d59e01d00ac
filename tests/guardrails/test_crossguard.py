"""CrossGuard: every rule through the policy SDK's own analyzer, as ``pulumi preview
--policy-pack policy`` runs it (the SDK deserializes the engine's protobuf properties, wraps them
in its unknown-checking proxy, applies enforcement levels and config), and the same rules
through the offline evaluation, which must agree with it."""

from __future__ import annotations

from typing import Any

import pytest
from eksplatform.guardrails import RULES
from eksplatform.guardrails.crossguard import config_schema, policies
from eksplatform.guardrails.evaluation import PACK_NAME, engine_view, evaluate
from eksplatform.guardrails.model import Resource
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from .cases import RESOURCE_CASES, STACK_CASES, Case, StackCase, urn

DESCRIPTION = {rule.id: f"{rule.title}." for rule in RULES}


def analyzer(config: dict[str, Any] | None = None) -> Any:
    """The SDK's analyzer servicer (what ``PolicyPack`` serves), without the server."""
    built: list[Any] = list(policies(RULES))
    servicer: Any = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", built, EnforcementLevel.ADVISORY)
    if config:
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, values in config.items():
            request.policyConfig[name].properties.update(values)
            request.policyConfig[name].enforcementLevel = analyzer_pb2.MANDATORY
        servicer.Configure(request, None)
    return servicer


def analyze(servicer: Any, type_token: str, props: dict[str, Any], u: str) -> list[Any]:
    struct = struct_pb2.Struct()
    struct.update(props)
    request = analyzer_pb2.AnalyzeRequest(
        type=type_token, properties=struct, urn=u, name=u.rsplit("::", 1)[-1]
    )
    return list(servicer.Analyze(request, None).diagnostics)


def messages(diagnostics: list[Any], rule: str) -> list[str]:
    """What the SDK reports for ``rule``: its description, a newline, our message."""
    out = []
    for d in diagnostics:
        if d.policyName == rule:
            head, _, message = d.message.partition("\n")
            assert head == DESCRIPTION[rule]
            assert d.policyPackName == PACK_NAME
            out.append(message)
    return out


@pytest.fixture(scope="module")
def sdk() -> Any:
    return analyzer()


@pytest.mark.parametrize("case", RESOURCE_CASES, ids=lambda c: c.id)
def test_resource_rule_in_the_policy_sdk(case: Case, sdk: Any) -> None:
    rule = RULES[case.rule]
    u = case.urn
    assert messages(analyze(sdk, case.type, case.good, u), case.rule) == []
    got = messages(analyze(sdk, case.type, case.bad, u), case.rule)
    assert got == [rule.message(d) for d in case.details]


@pytest.mark.parametrize("case", RESOURCE_CASES, ids=lambda c: c.id)
def test_offline_evaluation_agrees_with_the_sdk(case: Case) -> None:
    rule = RULES[case.rule]
    u = case.urn
    for props, want in ((case.good, []), (case.bad, [rule.message(d) for d in case.details])):
        resource = Resource(case.type, u, "r", engine_view(props))
        report = evaluate([rule], [resource], [])
        assert [v.message for v in report.violations] == want
        assert {v.urn for v in report.violations} <= {u}


def _stack_request(
    resources: list[tuple[str, str, dict[str, Any]]],
) -> analyzer_pb2.AnalyzeStackRequest:
    items = []
    for type_token, name, props in resources:
        r = analyzer_pb2.AnalyzerResource(type=type_token, urn=urn(type_token, name), name=name)
        r.properties.update(props)
        items.append(r)
    return analyzer_pb2.AnalyzeStackRequest(resources=items)


@pytest.mark.parametrize("case", STACK_CASES, ids=lambda c: c.id)
def test_stack_rule_in_the_policy_sdk(case: StackCase, sdk: Any) -> None:
    rule = RULES[case.rule]
    good = [
        d
        for d in sdk.AnalyzeStack(_stack_request(case.good), None).diagnostics
        if d.policyName == case.rule
    ]
    assert good == []
    bad = [
        d
        for d in sdk.AnalyzeStack(_stack_request(case.bad), None).diagnostics
        if d.policyName == case.rule
    ]
    names = {urn(t, n): n for t, n, _ in case.bad}
    got = [(names[d.urn], d.message.partition("\n")[2]) for d in bad]
    assert got == [(n, rule.message(m)) for n, m in case.violations]
    # The offline evaluation reports the same, from outputs.
    outputs = [Resource(t, urn(t, n), n, engine_view(p)) for t, n, p in case.bad]
    report = evaluate([rule], [], outputs)
    assert [(names[v.urn], v.message) for v in report.violations] == got


def test_an_unknown_value_skips_the_policy_with_an_advisory_note(
    sdk: Any,
) -> None:
    props = {"protocol": "HTTP", "defaultActions": UNKNOWN_STRING_VALUE, "tags": {}}
    u = urn("aws:lb/listener:Listener", "http")
    diags = analyze(sdk, "aws:lb/listener:Listener", props, u)
    skipped = [d for d in diags if d.policyName == "aws-lb-http-redirect"]
    assert [d.enforcementLevel for d in skipped] == [analyzer_pb2.ADVISORY]
    assert skipped[0].message == (
        f"can't run policy 'aws-lb-http-redirect' from policy pack '{PACK_NAME}@v0.1.0' during "
        "preview: string value at .defaultActions can't be known during preview"
    )
    # Offline: the same skip, as a note, and no violation.
    report = evaluate(
        [RULES["aws-lb-http-redirect"]],
        [Resource("aws:lb/listener:Listener", u, "http", engine_view(props))],
        [],
    )
    assert report.violations == []
    assert report.notes == [
        f"can't run policy 'aws-lb-http-redirect' from policy pack '{PACK_NAME}' during preview: "
        f"string value at .defaultActions can't be known during preview ({u})"
    ]


def test_pack_config_changes_settings_and_levels() -> None:
    # allowedRegistries from the pack config (numbers arrive as floats through protobuf).
    servicer = analyzer(
        {
            "k8s-image-registry": {"allowedRegistries": ["ghcr.io/news/"]},
            "aws-instance-types": {"minInstanceTypes": 1},
        }
    )
    case = next(c for c in RESOURCE_CASES if c.rule == "k8s-image-registry")
    u = urn(case.type, "r")
    assert messages(analyze(servicer, case.type, case.bad, u), case.rule) == []
    diags = analyze(servicer, case.type, case.good, u)
    assert messages(diags, case.rule) == [
        RULES[case.rule].message(
            "image 'envoyproxy/envoy:v1.40.0' is not from an allowed registry (ghcr.io/news/)"
        )
    ]
    asg = next(c for c in RESOURCE_CASES if c.rule == "aws-instance-types")
    diags = analyze(servicer, asg.type, asg.bad, urn(asg.type, "g"))
    assert messages(diags, "aws-instance-types") == []


def test_each_policy_declares_its_settings_with_defaults() -> None:
    schema = config_schema(RULES["k8s-image-registry"])
    assert schema is not None
    assert list(schema.properties) == ["allowedRegistries"]
    assert "registry.k8s.io/" in schema.properties["allowedRegistries"]["default"]
    built = {p.name: p for p in policies(RULES)}
    assert set(built) == {*RULES.ids(), "guardrail-exemptions"}
    assert built["aws-spot-share"].enforcement_level == EnforcementLevel.ADVISORY
    assert built["aws-role-boundary"].enforcement_level == EnforcementLevel.MANDATORY


def test_every_rule_has_cases_in_every_place_it_runs() -> None:
    covered = {c.rule for c in RESOURCE_CASES} | {c.rule for c in STACK_CASES}
    assert covered == set(RULES.ids())


def test_the_pack_program_only_builds_the_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    """``policy/__main__.py`` builds one PolicyPack of every rule (constructing the real one
    would serve forever, so the constructor is recorded instead)."""
    import runpy

    import pulumi_policy

    from tests.conftest import REPO

    built: list[dict[str, Any]] = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.append(kwargs))
    runpy.run_path(str(REPO / "policy" / "__main__.py"), run_name="__main__")
    (pack,) = built
    assert pack["name"] == PACK_NAME
    assert [p.name for p in pack["policies"]] == [*RULES.ids(), "guardrail-exemptions"]

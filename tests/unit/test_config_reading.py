"""How the cluster config turns what the program received into its input: text keys are never
JSON-decoded, leading-zero numbers are read as written only where the stack file and the
program agree, keys of other namespaces are left alone, secrets are never quoted."""

from __future__ import annotations

from pathlib import Path

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.core.errors import ValidationError
from eksplatform.core.pulumi_yaml import ConfigFile, read_stack_config

BASE = {"aws:region": "eu-west-1", "aws:allowedAccountIds": '["111111111111"]'}


def _file(tmp_path: Path, text: str) -> ConfigFile:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n" + text)
    return read_stack_config(path, "eks-platform")[1]


def _problems(raw: dict[str, str], **kwargs: object) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(dict(BASE, **raw), stack="dev", source="x", **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_text_keys_are_never_json_decoded() -> None:
    assert _problems({"platform:clusterName": "[eks]"}) == [
        "platform:clusterName: got '[eks]': EKS cluster names are 1-100 letters, digits, '-' "
        "and '_', starting with a letter"
    ]


def test_a_secret_that_looks_like_json_stays_text_and_unquoted() -> None:
    raw = {"platform:papertrailToken": '{"a": 1}', "platform:logging": '{"output": 3}'}
    problems = _problems(raw, secret_keys={"platform:papertrailToken"})
    assert problems == [
        "platform:logging.output: got 3: text is expected, not a number; quote it in the stack file"
    ]


def test_a_leading_zero_is_read_as_written_when_the_program_got_the_same_number(
    tmp_path: Path,
) -> None:
    source = _file(tmp_path, "  platform:network: {azCount: 02}\n")
    assert _problems({"platform:network": '{"azCount": 2}'}, stack_file=source) == [
        "platform:network.azCount: got 02: written 02 without quotes, which the Pulumi CLI reads "
        "as the number 2 (a leading zero means octal to it; YAML 1.2 reads 2): quote it ('02') "
        "if it is an id or a name, or drop the leading zero if it is a number"
    ]


def test_a_leading_zero_the_program_did_not_get_is_not_reported(tmp_path: Path) -> None:
    # The program's value came from elsewhere (an ESC environment, a later `pulumi config set`).
    source = _file(tmp_path, "  platform:network: {azCount: 02}\n")
    cfg = parse_cluster_config(
        dict(BASE, **{"platform:network": '{"azCount": 3}'}),
        stack="dev",
        source="x",
        stack_file=source,
    )
    assert cfg.network.az_count == 3
    shape = _file(tmp_path, "  platform:network: [02]\n")
    assert _problems({"platform:network": '{"azCount": 0}'}, stack_file=shape) == [
        "platform:network.azCount: got 0: must be 1 to 6 (3 is the production norm)"
    ]


def test_leading_zeros_of_other_namespaces_are_left_to_their_readers(tmp_path: Path) -> None:
    source = _file(tmp_path, "  kubernetes:context: [0123]\n  platform:network: {azCount: 3}\n")
    cfg = parse_cluster_config(
        dict(BASE, **{"kubernetes:context": "[83]", "platform:network": '{"azCount": 3}'}),
        stack="dev",
        source="x",
        stack_file=source,
    )
    assert cfg.network.az_count == 3


def test_a_secret_is_text_even_when_its_stack_file_entry_looks_structured(
    tmp_path: Path,
) -> None:
    source = _file(tmp_path, "  platform:papertrailToken: [0123]\n")
    cfg = parse_cluster_config(
        dict(BASE, **{"platform:papertrailToken": "[83]"}),
        stack="dev",
        source="x",
        stack_file=source,
        secret_keys={"platform:papertrailToken"},
    )
    assert cfg.papertrail_token is not None
    assert cfg.papertrail_token.get_secret_value() == "[83]"


def test_values_are_shown_as_written_with_how_yaml_read_them(tmp_path: Path) -> None:
    source = _file(tmp_path, "  platform:vpa: {chartVersion: 1.10, enabled: on}\n")
    assert _problems(
        {"platform:vpa": '{"chartVersion": 1.1, "enabled": "on"}'}, stack_file=source
    ) == [
        "platform:vpa.enabled: got on: not a boolean: write true or false; YAML 1.2 (what the "
        "Pulumi CLI reads) keeps on as text; only true and false are booleans",
        "platform:vpa.chartVersion: got 1.10: text is expected, not a number; written 1.10 "
        'without quotes, which YAML reads as the number 1.1; quote it ("1.10") to keep the text',
    ]


def test_keys_in_the_project_namespace_are_refused_with_the_platform_key() -> None:
    assert _problems({"eks-platform:headroom": '{"replicas": 1}'}, project="eks-platform") == [
        "eks-platform:headroom: got {'replicas': 1}: a key without a namespace belongs to the "
        "project (eks-platform); the cluster program reads the platform namespace: write "
        "platform:headroom"
    ]


def test_secret_keys_come_from_the_runtime_and_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eksplatform.cluster.config import _secret_keys
    from pulumi.runtime import config as runtime_config

    runtime_config.set_all_config({"platform:a": "1", "platform:b": "2"}, ["platform:a"])
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["platform:c"]')
    try:
        assert _secret_keys(["platform:a", "platform:b", "platform:c"]) == {
            "platform:a",
            "platform:c",
        }
    finally:
        runtime_config.set_all_config({}, [])


def test_the_stack_file_is_read_only_when_the_project_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksplatform.cluster.config import _stack_file

    monkeypatch.chdir(tmp_path)
    assert _stack_file("dev", "eks-platform") is None
    (tmp_path / "Pulumi.yaml").write_text("name: eks-platform\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  platform:network: {azCount: 02}\n")
    source = _stack_file("dev", "eks-platform")
    assert source is not None and [s.text for s in source.ambiguous()] == ["02"]
    (tmp_path / "Pulumi.dev.yaml").write_text("config: [\n")
    assert _stack_file("dev", "eks-platform") is None  # the CLI reports a broken file itself


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"aws:allowedAccountIds": "[111111111111]"}, "111111111111"),
        ({"aws:allowedAccountIds": '["011111111111"]'}, "011111111111"),
    ],
)
def test_an_account_id_written_as_a_number_is_its_digits(
    raw: dict[str, str], expected: str
) -> None:
    cfg = parse_cluster_config(dict(BASE, **raw), stack="dev", source="x")
    assert cfg.account_id == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            {"aws:allowedAccountIds": "[true]"},
            "aws:allowedAccountIds: got True: text is expected, not a boolean; quote it if you "
            "mean the word",
        ),
        (
            {"platform:network": '{"cidr": "10.0.0.1/16"}'},
            "platform:network.cidr: got '10.0.0.1/16': not a valid IPv4 CIDR block (10.0.0.1/16 "
            "has host bits set); write it like 10.20.0.0/16",
        ),
        (
            {
                "platform:network": '{"azCount": 2, "availabilityZones": ["eu-west-1a", "eu-west-1a"]}'
            },
            "platform:network.availabilityZones: got ['eu-west-1a', 'eu-west-1a']: repeats a zone",
        ),
        (
            {"platform:kubernetesVersion": "1.3"},
            "platform:kubernetesVersion: got '1.3': write it as \"1.MINOR\" in quotes, like "
            '"1.30": unquoted, YAML reads 1.30 as the number 1.3',
        ),
        (
            {"platform:network": '{"azCount": 7}'},
            "platform:network.azCount: got 7: must be 1 to 6 (3 is the production norm)",
        ),
    ],
)
def test_section_limits_say_what_is_wrong(raw: dict[str, str], problem: str) -> None:
    assert _problems(raw) == [problem]


def test_six_zones_and_the_oldest_supported_minor_are_accepted() -> None:
    zones = [f"eu-west-1{c}" for c in "abcdef"]
    cfg = parse_cluster_config(
        dict(
            BASE,
            **{
                "platform:network": '{"azCount": 6}',
                "platform:kubernetesVersion": "1.29",
                "platform:eksAddons": '{"kubeProxy": "v1.29.10-eksbuild.3"}',
            },
        ),
        stack="dev",
        source="x",
        available_zones=lambda region: zones,
    )
    assert cfg.zones == tuple(zones) and cfg.kubernetes_minor == 29

"""Stack and project files read as the Pulumi CLI reads them (yaml.v3, YAML 1.2; scalars as
their text, structured values as JSON), with the text of every plain scalar kept for messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eksplatform.core.pulumi_yaml import (
    Scalar,
    YamlFileError,
    find_stack_file,
    lookup,
    read_stack_config,
    resolve_plain,
)
from eksplatform.preview.project import ProjectError, load_stack

PROJECT = "name: demo\nruntime: python\n"


def _program(tmp_path: Path, stack: str, project: str = PROJECT) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(project)
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack)
    return tmp_path


def _config(tmp_path: Path, stack: str, project: str = PROJECT) -> dict[str, str]:
    return load_stack(_program(tmp_path, stack, project), "dev").config


def test_top_level_scalars_reach_the_program_as_their_text(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "config:\n"
        "  demo:version: 1.30\n"
        "  demo:flag: yes\n"
        "  demo:account: 012345670123\n"
        "  demo:quoted: '0123'\n"
        "  demo:empty:\n"
        "  demo:tilde: ~\n"
        "  demo:time: 1:30\n"
        "  aws:region: eu-west-1\n",
    )
    assert config == {
        "demo:version": "1.30",
        "demo:flag": "yes",
        "demo:account": "012345670123",
        "demo:quoted": "0123",
        "demo:empty": "",
        "demo:tilde": "",
        "demo:time": "1:30",
        "aws:region": "eu-west-1",
    }


def test_structured_values_resolve_like_yaml_v3_and_encode_as_sorted_json(
    tmp_path: Path,
) -> None:
    config = _config(
        tmp_path,
        "config:\n"
        "  demo:values:\n"
        "    words: [yes, no, on, off, y, true, False]\n"
        "    octal: 012345670123\n"
        "    not_octal: 0123456789\n"
        "    prefixed: [0x1F, 0o17, 0b101, 1_000]\n"
        "    floats: [1.30, 1.0, -2.5e3]\n"
        "    date: 2026-01-01\n"
        "    sexagesimal: 1:30\n"
        "    nothing: ~\n"
        "    quoted: '0123'\n"
        "    tagged: !!str 0123\n"
        "    b: 1\n"
        "    a: 2\n",
    )
    text = config["demo:values"]
    assert text.index('"a":') < text.index('"b":')  # Go sorts map keys
    assert json.loads(text) == {
        "words": ["yes", "no", "on", "off", "y", True, False],
        "octal": 1402433619,
        "not_octal": 123456789,
        "prefixed": [31, 15, 5, 1000],
        "floats": [1.3, 1, -2500],
        "date": "2026-01-01",
        "sexagesimal": "1:30",
        "nothing": None,
        "quoted": "0123",
        "tagged": "0123",
        "b": 1,
        "a": 2,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-0", 0),
        ("00", 0),
        ("0777", 511),
        ("-010", -8),
        ("08", 8.0),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", 2**63),
        ("18446744073709551616", 1.8446744073709552e19),
        ("+12", 12),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1.", 1.0),
        ("0x", "0x"),
        ("1_", 1),
        ("-", "-"),
        ("+.5", 0.5),
        ("True", True),
        ("NULL", None),
        ("one", "one"),
    ],
)
def test_plain_scalar_resolution_at_the_edges(text: str, value: object) -> None:
    resolved = resolve_plain(text)
    assert resolved == value and type(resolved) is type(value)


def test_secure_values_are_placeholders_and_mark_the_whole_key_secret(tmp_path: Path) -> None:
    spec = load_stack(
        _program(
            tmp_path,
            "config:\n"
            "  demo:token:\n"
            "    secure: AAABAJ0x\n"
            "  demo:db:\n"
            "    user: app\n"
            "    password:\n"
            "      secure: AAABAK1y\n",
        ),
        "dev",
    )
    assert spec.config["demo:token"] == "[secret demo:token: unknown offline]"
    assert json.loads(spec.config["demo:db"]) == {
        "password": "[secret demo:db: unknown offline]",
        "user": "app",
    }
    assert spec.secret_keys == ("demo:db", "demo:token")


def test_a_secure_leaf_with_a_second_key_is_an_ordinary_object(tmp_path: Path) -> None:
    spec = load_stack(
        _program(tmp_path, "config:\n  demo:token:\n    secure: AAAB\n    note: x\n"), "dev"
    )
    assert json.loads(spec.config["demo:token"]) == {"note": "x", "secure": "AAAB"}
    assert spec.secret_keys == ()


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        (
            "config:\n  demo:a: 1\n  demo:a: 2\n",
            "Pulumi.dev.yaml: line 3: mapping key 'demo:a' already defined at line 2",
        ),
        (
            "config:\n  demo:a:\n    x: 1\n    y: 2\n    x: 3\n",
            "Pulumi.dev.yaml: line 5: mapping key 'x' already defined at line 3",
        ),
        (
            "config:\n  demo:a: [.inf]\n",
            "Pulumi.dev.yaml: line 2: .inf is not a number JSON can hold; Pulumi cannot store "
            "it as config",
        ),
        (
            "config:\n  demo:a: [1\n",
            "Pulumi.dev.yaml: not valid YAML at line 3, column 1: expected ',' or ']', but got "
            "'<stream end>'",
        ),
        ("- a\n- b\n", "Pulumi.dev.yaml: expected a mapping at the top level"),
        ("config: [a]\n", "Pulumi.dev.yaml: 'config' must be a mapping of keys to values"),
        (
            "conifg:\n  demo:a: 1\n",
            "Pulumi.dev.yaml: unknown top-level keys ['conifg']; stack settings go under 'config:'",
        ),
        (
            "config:\n  demo:a: !!int abc\n",
            "Pulumi.dev.yaml: line 2: cannot read 'abc' as tag:yaml.org,2002:int",
        ),
    ],
)
def test_files_the_cli_refuses_are_refused(tmp_path: Path, stack: str, message: str) -> None:
    with pytest.raises(ProjectError) as info:
        load_stack(_program(tmp_path, stack), "dev")
    assert str(info.value) == message


def test_project_config_defaults_values_types_and_secrets(tmp_path: Path) -> None:
    project = PROJECT + (
        "config:\n"
        "  aws:region:\n    value: eu-west-1\n"
        "  size: 3\n"
        "  ratio: 1.50\n"
        "  tags: [a, b]\n"
        "  enabled:\n    type: boolean\n    default: true\n"
        "  name:\n    type: string\n    default: x\n"
    )
    config = _config(tmp_path, "config:\n  demo:name: y\n", project)
    assert config == {
        "aws:region": "eu-west-1",
        "demo:size": "3",
        "demo:ratio": "1.5",
        "demo:tags": '["a","b"]',
        "demo:enabled": "true",
        "demo:name": "y",
    }


@pytest.mark.parametrize(
    ("project_config", "stack", "message"),
    [
        (
            "  size:\n    value: 3\n",
            "",
            "Pulumi.yaml: config key 'size' belongs to the project: give it a 'default', not a "
            "'value'",
        ),
        (
            "  aws:region:\n    default: eu-west-1\n",
            "",
            "Pulumi.yaml: config key 'aws:region' is not namespaced by the project and cannot "
            "have a 'default'; use 'value' instead",
        ),
        (
            "  size:\n    type: integer\n",
            "",
            "Pulumi.dev.yaml: missing required configuration 'demo:size' (declared in "
            "Pulumi.yaml without a default); set it with pulumi config set",
        ),
        (
            "  size:\n    type: integer\n",
            "  demo:size: three\n",
            "Pulumi.dev.yaml: config key 'demo:size' must be of type integer (declared in "
            "Pulumi.yaml); got 'three'",
        ),
        (
            "  on:\n    type: boolean\n",
            "  demo:on: yes\n",
            "Pulumi.dev.yaml: config key 'demo:on' must be of type boolean (declared in "
            "Pulumi.yaml); got 'yes'",
        ),
        (
            "  token:\n    type: string\n    secret: true\n",
            "  demo:token: plain\n",
            "Pulumi.dev.yaml: config key 'demo:token' is declared secret in Pulumi.yaml; store "
            "it encrypted: pulumi config set --secret demo:token <value>",
        ),
        (
            "  size:\n    type: number\n",
            "",
            "Pulumi.yaml: config key 'size': type 'number' is not one of string, integer, "
            "boolean, array",
        ),
    ],
)
def test_project_config_rules_of_the_cli(
    tmp_path: Path, project_config: str, stack: str, message: str
) -> None:
    with pytest.raises(ProjectError) as info:
        _config(tmp_path, "config:\n" + stack, PROJECT + "config:\n" + project_config)
    assert str(info.value) == message


def test_stack_config_dir_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT + "stackConfigDir: stacks\n")
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  demo:a: b\n")
    assert load_stack(tmp_path, "dev").config == {"demo:a": "b"}


def test_plain_scalars_keep_their_text_and_say_how_yaml_read_them(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        "config:\n"
        "  aws:allowedAccountIds: [012345670123]\n"
        "  demo:x:\n"
        "    version: 1.30\n"
        "    port: 443\n"
        "    enabled: on\n"
        "    at: 1:30\n"
        "    hex: 0x1F\n"
        "    name: web\n"
    )
    _, source = read_stack_config(path, "demo")
    notes = {s.path: s.note() for s in source.scalars.values()}
    assert notes == {
        ("aws:allowedAccountIds", 0): (
            "written 012345670123 without quotes, which the Pulumi CLI reads as the number "
            "1402433619 (a leading zero means octal to it; YAML 1.2 reads 12345670123): quote "
            "it ('012345670123') if it is an id or a name, or drop the leading zero if it is a "
            "number"
        ),
        ("demo:x", "version"): (
            'written 1.30 without quotes, which YAML reads as the number 1.3; quote it ("1.30") '
            "to keep the text"
        ),
        ("demo:x", "port"): None,
        ("demo:x", "enabled"): (
            "YAML 1.2 (what the Pulumi CLI reads) keeps on as text; only true and false are "
            "booleans"
        ),
        ("demo:x", "at"): (
            "the Pulumi CLI reads 1:30 as text (YAML 1.1 tools read it as a base-60 number)"
        ),
        ("demo:x", "hex"): (
            'written 0x1F without quotes, which YAML reads as the number 31; quote it ("0x1F") '
            "to keep the text"
        ),
        ("demo:x", "name"): None,
    }
    assert [s.path for s in source.ambiguous()] == [("aws:allowedAccountIds", 0)]
    assert source.scalars[("demo:x", "port")] == Scalar(("demo:x", "port"), "443", 443, 5)


def test_a_missing_file_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(YamlFileError) as info:
        read_stack_config(tmp_path / "Pulumi.x.yaml", "demo")
    assert str(info.value) == f"Pulumi.x.yaml: not found in {tmp_path.name}/"


def test_the_running_program_finds_its_stack_file_from_below_the_project(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT + "main: cluster/\n")
    (tmp_path / "cluster").mkdir()
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    assert find_stack_file("dev", tmp_path / "cluster") == tmp_path / "Pulumi.dev.yaml"
    assert find_stack_file("dev", tmp_path) == tmp_path / "Pulumi.dev.yaml"
    assert find_stack_file("prod", tmp_path / "cluster") is None  # no such stack file
    (tmp_path / "Pulumi.yaml").write_text(PROJECT + "stackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config: {}\n")
    assert find_stack_file("dev", tmp_path) == tmp_path / "stacks" / "Pulumi.dev.yaml"
    (tmp_path / "Pulumi.yaml").write_text("name: [\n")
    assert find_stack_file("dev", tmp_path) is None  # the CLI reports a broken project file


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-9223372036854775808", -(2**63)),
        ("-9223372036854775809", -9.223372036854776e18),
        ("+9223372036854775808", 9.223372036854776e18),
        ("18446744073709551615", 2**64 - 1),
    ],
)
def test_the_64_bit_edges_of_go_integers(text: str, value: object) -> None:
    resolved = resolve_plain(text)
    assert resolved == value and type(resolved) is type(value)


def test_large_floats_keep_go_s_exponent_form(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  demo:x: [1e21, 1e20, 2.5]\n")
    _, source = read_stack_config(path, "demo")
    assert source.config["demo:x"] == "[1e+21,100000000000000000000,2.5]"
    assert source.scalars[("demo:x", 0)].note() == (
        'written 1e21 without quotes, which YAML reads as the number 1e+21; quote it ("1e21") '
        "to keep the text"
    )


def test_explicit_tags_on_quoted_scalars_are_honoured(tmp_path: Path) -> None:
    config = _config(tmp_path, "config:\n  demo:x: [!!int '12', '12', !!str 12, !!float '1']\n")
    assert json.loads(config["demo:x"]) == [12, "12", "12", 1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"config:\n  demo:x: \xff\n", "Pulumi.dev.yaml: not UTF-8 text (invalid start byte)"),
        (b"config: x\n", "Pulumi.dev.yaml: 'config' must be a mapping of keys to values"),
    ],
)
def test_unreadable_stack_files(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT)
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.dev.yaml").write_bytes(content)
    with pytest.raises(ProjectError) as info:
        load_stack(tmp_path, "dev")
    assert str(info.value) == message


def test_a_control_character_is_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as info:
        _config(tmp_path, "config:\n  demo:x: a\x07b\n")
    assert str(info.value).startswith("Pulumi.dev.yaml: not valid YAML")


def test_an_empty_config_section_is_no_config(tmp_path: Path) -> None:
    assert _config(tmp_path, "config:\n") == {}
    assert _config(tmp_path, "") == {}


def test_lookup_refuses_a_path_the_value_does_not_have() -> None:
    data = {"a": [{"b": 1}]}
    assert lookup(data, ("a", 0, "b")) == 1
    for path in (("a", "b"), ("a", 0, 0), ("a", 0, "c"), ("a", 1)):
        with pytest.raises((KeyError, IndexError)):
            lookup(data, path)


def test_a_stack_config_dir_that_is_not_text_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT + "stackConfigDir: 5\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    assert find_stack_file("dev", tmp_path) == tmp_path / "Pulumi.dev.yaml"


def test_explicit_tags_of_every_kind(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "config:\n"
        "  demo:x: [!!int 0x10, !!float 2, !!bool true, !!null ~, !!timestamp 2026-01-01]\n",
    )
    assert json.loads(config["demo:x"]) == [16, 2, True, None, "2026-01-01"]


@pytest.mark.parametrize(
    "scalar",
    ["!!int 1.5", "!!int true", "!!float x", "!!float false", "!!bool 1", "!!null 0", "!custom x"],
)
def test_a_tag_the_text_does_not_fit_is_refused(tmp_path: Path, scalar: str) -> None:
    with pytest.raises(ProjectError) as info:
        _config(tmp_path, f"config:\n  demo:x: [{scalar}]\n")
    assert str(info.value).startswith("Pulumi.dev.yaml: line 2: cannot read ")


def test_mapping_keys_read_as_go_prints_them(tmp_path: Path) -> None:
    config = _config(tmp_path, "config:\n  demo:x: {true: a, no: b, 1.50: c, 7: d, ~: e}\n")
    assert json.loads(config["demo:x"]) == {
        "true": "a",
        "no": "b",
        "1.5": "c",
        "7": "d",
        "<nil>": "e",
    }
    with pytest.raises(ProjectError) as info:
        _config(tmp_path, "config:\n  demo:x:\n    ? [a]\n    : 1\n")
    assert str(info.value) == "Pulumi.dev.yaml: line 3: a mapping key must be a scalar"


# --- edges mutation testing found untested -------------------------------------------------------


def test_the_largest_int64_stays_an_integer_even_with_a_plus_sign() -> None:
    # yaml.v3 decodes a signed int64 first; only an unsigned one (no sign) may go past it.
    assert resolve_plain("+9223372036854775807") == 9223372036854775807
    assert resolve_plain("-9223372036854775808") == -9223372036854775808
    assert resolve_plain("+9223372036854775808") == 9.223372036854776e18
    assert resolve_plain("18446744073709551615") == 18446744073709551615


def test_a_float_mapping_key_is_formatted_as_go_formats_it(tmp_path: Path) -> None:
    # Pulumi turns mapping keys into strings with fmt's %v: 1e3 is "1000", not Python's "1000.0".
    config = _config(tmp_path, "config:\n  demo:limits:\n    1e3: x\n    1.5: y\n")
    assert json.loads(config["demo:limits"]) == {"1000": "x", "1.5": "y"}


def test_structured_values_keep_non_ascii_text_as_is(tmp_path: Path) -> None:
    config = _config(tmp_path, "config:\n  demo:owner:\n    name: Zoë\n")
    assert config["demo:owner"] == '{"name":"Zoë"}'


def test_a_path_through_a_scalar_or_a_list_is_absent() -> None:
    with pytest.raises(KeyError):
        lookup({"a": [1]}, ("a", "b"))
    with pytest.raises(KeyError):
        lookup({"a": "text"}, ("a", "b"))
    with pytest.raises(KeyError):
        lookup({"a": {"b": 1}}, ("a", 0))
    with pytest.raises(KeyError):
        lookup({"a": "text"}, ("a", 0))
    assert lookup({"a": [{"b": 2}]}, ("a", 0, "b")) == 2

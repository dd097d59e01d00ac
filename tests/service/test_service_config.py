"""A service program's own stack config through ``load_config``: every supported type read with
a valid value (and its default when absent), bounds at their edge, keys of their own, the
platform keys, and programming mistakes (not config mistakes) as plain TypeErrors. The bad
values are in ``bad_inputs.CASES`` (group "service stack config")."""

from __future__ import annotations

from pathlib import Path

from eksplatform.preview.engine import EXIT_INVALID_CONFIG, Workspace, run_preview

from tests.conftest import make_workspace, write_program
from tests.service.programs import STACK_CONFIG

PROGRAM = """
from dataclasses import dataclass

import pulumi
from eksplatform.service import load_config, setting


@dataclass(frozen=True, kw_only=True)  # keyword-only: required fields may follow optional ones
class Config:
    image: str
    replicas: int = setting(default=2, minimum=1, maximum=10)
    offset: int = 0
    ratio: float = 0.5
    public: bool = False
    hosts: list[str] | None = None
    labels: dict[str, str] | None = None
    region: str = setting(key="aws:region")
    tier: str = setting(key="serviceTier", default="web", choices=("web", "worker"))
    certificate_arn: str | None = None
    signing_key: pulumi.Output[str] | None = None


config = load_config(Config, extra_keys=("legacyFlag",))
for name, value in vars(config).items():
    pulumi.export(name, value)
pulumi.export("types", {k: type(v).__name__ for k, v in vars(config).items()})
"""

CLUSTER = "  svc:clusterStack: organization/eks-platform/prod\n"
STACKS = {
    "full": STACK_CONFIG
    + CLUSTER
    + (
        "  svc:image: ghcr.io/news/feed:1.0.0\n"
        "  svc:replicas: 10\n"
        "  svc:offset: -3\n"
        "  svc:ratio: 1.5e-1\n"
        "  svc:public: True\n"
        "  svc:hosts: [a.example.com, b.example.com]\n"
        "  svc:labels: {tier: gold}\n"
        "  svc:serviceTier: worker\n"
        "  svc:certificateArn: arn:aws:acm:eu-west-1:123456789012:certificate/x\n"
        "  svc:signingKey:\n    secure: AAABAKx1\n"
        "  svc:legacyFlag: on\n"
    ),
    "minimal": STACK_CONFIG + CLUSTER + "  svc:image: ghcr.io/news/feed:1.0.0\n",
    "edges": STACK_CONFIG
    + CLUSTER
    + "  svc:image: x\n  svc:replicas: 11\n  svc:serviceTier: batch\n  svc:offset: '+0'\n",
    "low": STACK_CONFIG + CLUSTER + "  svc:image: x\n  svc:replicas: 1\n  svc:public: false\n",
}


def _workspace(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(tmp_path / "ws" / "services" / "svc", project="svc", main=PROGRAM, stacks=STACKS)
    return ws


def test_every_type_reads_its_value_and_its_default(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    full = run_preview(ws, "services/svc", "full")
    assert full.ok, [d.message for d in full.diagnostics]
    out = full.plain_outputs()
    assert out["types"] == {
        "image": "str",
        "replicas": "int",
        "offset": "int",
        "ratio": "float",
        "public": "bool",
        "hosts": "list",
        "labels": "dict",
        "region": "str",
        "tier": "str",
        "certificate_arn": "str",
        "signing_key": "Output",
    }
    assert (out["replicas"], out["offset"], out["ratio"], out["public"]) == (10, -3, 0.15, True)
    assert out["hosts"] == ["a.example.com", "b.example.com"]
    assert out["labels"] == {"tier": "gold"}
    assert (out["region"], out["tier"]) == ("eu-west-1", "worker")
    assert full.outputs["signing_key"]["value"].startswith("[secret")  # still marked secret

    minimal = run_preview(ws, "services/svc", "minimal")
    assert minimal.ok, [d.message for d in minimal.diagnostics]
    out = minimal.plain_outputs()
    assert (out["replicas"], out["offset"], out["ratio"], out["public"], out["tier"]) == (
        2,
        0,
        0.5,
        False,
        "web",
    )
    assert out["types"]["hosts"] == out["types"]["signing_key"] == "NoneType"

    low = run_preview(ws, "services/svc", "low")
    assert low.ok and low.plain_outputs()["replicas"] == 1


def test_bounds_and_choices_at_their_edge(tmp_path: Path) -> None:
    result = run_preview(_workspace(tmp_path), "services/svc", "edges")
    assert result.exit_code == EXIT_INVALID_CONFIG and result.registered_before_error == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.edges.yaml: invalid service configuration: 2 problems:\n"
        "  - svc:replicas: got '11': must be from 1 to 10: fix it in Pulumi.edges.yaml: pulumi "
        "config set replicas <integer> -s edges\n"
        "  - svc:serviceTier: got 'batch': must be one of 'web', 'worker': fix it in "
        "Pulumi.edges.yaml: pulumi config set serviceTier <value> -s edges"
    ]


MISTAKES = """
from dataclasses import dataclass

import pulumi
from eksplatform.service import load_config


@dataclass(frozen=True)
class Config:
    when: {type}


load_config(Config, platform=False)
"""


def test_an_unsupported_field_type_is_a_programming_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=MISTAKES.format(type="set[str]"),
        stacks={"dev": "config:\n  svc:when: x\n"},
    )
    result = run_preview(ws, "services/svc", "dev")
    assert result.exit_code == 1
    assert "load_config: field 'when' has type set[str]; supported: str, int, float, bool" in (
        result.diagnostics[-1].message
    )


def test_without_platform_keys_a_program_reads_only_its_own(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=MISTAKES.format(type="str") + "pulumi.export('ok', True)\n",
        stacks={"dev": "config:\n  svc:when: now\n"},
    )
    assert run_preview(ws, "services/svc", "dev").ok


def test_an_unquoted_account_id_that_kept_its_twelve_digits_is_read(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    stack = (
        "config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: [123456789012]\n"
        + CLUSTER
        + "  svc:image: x\n"
    )
    write_program(
        tmp_path / "ws" / "services" / "svc", project="svc", main=PROGRAM, stacks={"dev": stack}
    )
    result = run_preview(ws, "services/svc", "dev")
    assert result.ok, [d.message for d in result.diagnostics]


def test_cluster_contract_without_a_cluster_stack_names_the_key(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main="from eksplatform.service import cluster_contract\n\ncluster_contract()\n",
        stacks={"dev": STACK_CONFIG},
    )
    result = run_preview(ws, "services/svc", "dev")
    assert result.exit_code == EXIT_INVALID_CONFIG and result.registered_before_error == []
    assert [d.message for d in result.diagnostics if d.severity == "error"] == [
        "Pulumi.dev.yaml: invalid service configuration: 1 problem:\n"
        "  - svc:clusterStack: missing: the service stack must name its cluster stack: add "
        "'clusterStack: <organization>/eks-platform/<stack>' under config: in Pulumi.dev.yaml "
        "(pulumi config set clusterStack <organization>/eks-platform/<stack> -s dev)"
    ]


def test_a_secret_read_by_load_config_is_known_as_one_at_once(tmp_path: Path) -> None:
    main = (
        "from dataclasses import dataclass\n\nimport pulumi\n"
        "from eksplatform.service import load_config\n"
        "from eksplatform.service.config import is_config_secret_output\n\n\n"
        "@dataclass(frozen=True)\nclass Config:\n    key: pulumi.Output[str]\n\n\n"
        "config = load_config(Config, platform=False)\n"
        "pulumi.export('marked', is_config_secret_output(config.key))\n"
        "pulumi.export('plain', is_config_secret_output(pulumi.Output.from_input('x')))\n"
    )
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=main,
        stacks={"dev": "config:\n  svc:key:\n    secure: AAABAKx1\n"},
    )
    result = run_preview(ws, "services/svc", "dev")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.plain_outputs() == {"marked": True, "plain": False}

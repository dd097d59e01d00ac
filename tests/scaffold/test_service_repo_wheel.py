"""A service repo outside the monorepo, with only the released library: the library's wheel and
this release's constraints installed in a fresh virtualenv, ``eksplatform new-service`` run from
it, and both stacks previewed offline against the contract files of the cluster previews.

One virtualenv for the module (pip's cache and the configured indexes; no other network). Takes
about a minute: ``pytest -m 'not wheel'`` skips it locally; CI (``make test``) runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import eksplatform
import pytest
import yaml
from eksplatform.preview.engine import run_preview, write_result
from eksplatform.preview.kube_schema import KubeSchemaValidator

from tests.conftest import REPO, make_workspace
from tools import release

pytestmark = pytest.mark.wheel

REGIONS = {"staging": "eu-west-1", "prod": "us-east-2"}
"""The prod cluster is moved to another region, so the region the preview uses is provably
the cluster's, not a default."""
ACCOUNTS = {"staging": "111111111111", "prod": "222222222222"}


def _env() -> dict[str, str]:
    """The environment without this checkout's library on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the monorepo."""
    path = tmp_path_factory.mktemp("outside")
    assert REPO not in path.parents
    return path


@pytest.fixture(scope="module")
def venv(outside: Path) -> Path:
    """A fresh virtualenv with the library wheel and this release's constraints, nothing else."""
    dist = outside / "dist"
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = outside / "components"
    shutil.copytree(
        REPO / "components",
        source,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(dist),
            str(source),
        ],
        outside,
    )
    (wheel,) = dist.glob("eksplatform-*.whl")
    assert wheel.name == f"eksplatform-{eksplatform.__version__}-py3-none-any.whl"
    env_dir = outside / "venv"
    _run([sys.executable, "-m", "venv", str(env_dir)], outside)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    _run([*pip, str(wheel), "-c", str(REPO / release.CONSTRAINTS)], outside)
    return env_dir


@pytest.fixture(scope="module")
def contracts(outside: Path) -> dict[str, Path]:
    """Contract files from cluster previews (the platform repo's cluster program and stacks,
    the prod stack moved to another region)."""
    ws = make_workspace(outside / "platform")
    prod = ws.root / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("aws:region: eu-west-1", "aws:region: us-east-2"))
    found = {}
    for stack in ("staging", "prod"):
        result = run_preview(ws, "cluster", stack)
        assert result.ok, [d.message for d in result.diagnostics]
        found[stack] = write_result(ws, result) / "stack-output.json"
    return found


@pytest.fixture(scope="module")
def service_repo(venv: Path, contracts: dict[str, Path], outside: Path) -> Path:
    """``eksplatform new-service`` of the installed wheel, then its requirements installed."""
    repo = outside / "feed"
    _run(
        [
            str(venv / "bin" / "eksplatform"),
            "new-service",
            str(repo),
            "--name",
            "feed",
            "--team",
            "news",
            "--contract",
            f"staging={contracts['staging']}",
            "--contract",
            f"prod={contracts['prod']}",
        ],
        outside,
    )
    # requirements.txt as written (eksplatform==VERSION, -c constraints.txt) resolves to the
    # wheel and changes nothing: the installed set is already the tested one
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    _run([*pip, "--find-links", str(outside / "dist"), "-r", "requirements.txt"], repo)
    return repo


def test_the_virtualenv_holds_exactly_the_tested_set(venv: Path) -> None:
    listed = _run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"], venv)
    installed = {
        release.canonical(item["name"]): item["version"] for item in json.loads(listed.stdout)
    }
    assert installed.pop("eksplatform") == eksplatform.__version__
    pinned = release.read_pins(REPO / release.CONSTRAINTS)
    for tool in ("pip", "setuptools", "wheel"):  # the venv's own installers
        installed.pop(tool, None)
        pinned.pop(tool, None)
    assert installed == {name: pin.version for name, pin in pinned.items()}
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import eksplatform; print(eksplatform.__file__)"],
        venv,
    ).stdout
    assert str(venv) in where and str(REPO) not in where  # the wheel, not this checkout


def test_both_stacks_preview_offline_with_the_clusters_region_and_account(
    venv: Path, service_repo: Path, contracts: dict[str, Path]
) -> None:
    proc = _run(
        [
            str(venv / "bin" / "eksplatform"),
            "preview",
            "--stack-reference",
            "organization/eks-platform/staging=contracts/contract-staging.json",
            "--stack-reference",
            "organization/eks-platform/prod=contracts/contract-prod.json",
        ],
        service_repo,
    )
    assert proc.stdout.count("Result: ok") == 2, proc.stdout
    for stack in ("staging", "prod"):
        contract = json.loads(contracts[stack].read_text())
        region, account = contract["region"], contract["accountId"]
        assert (region, account) == (REGIONS[stack], ACCOUNTS[stack])
        out = service_repo / "build" / "feed" / stack
        preview = json.loads((out / "preview.json").read_text())
        assert not [d for d in preview["diagnostics"] if d["severity"] in ("error", "warning")]
        states = [step["newState"] for step in preview["steps"]]
        arns = set(re.findall(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d*:", json.dumps(states)))
        assert arns, "the preview has ARNs"
        for arn in arns:
            arn_region, arn_account = arn.split(":")[3:5]
            assert arn_region in ("", region), arn
            assert arn_account in ("", account), arn
        by_type = {s["type"]: s for s in states}
        ecr = by_type["aws:ecr/repository:Repository"]["outputs"]
        assert ecr["repositoryUrl"] == f"{account}.dkr.ecr.{region}.amazonaws.com/news/feed"
        association = by_type["aws:eks/podIdentityAssociation:PodIdentityAssociation"]["inputs"]
        assert association["clusterName"] == contract["clusterName"]
        _assert_manifests_schema_valid(out / "manifests", contract["kubernetesVersion"])


def _assert_manifests_schema_valid(directory: Path, version: str) -> None:
    """Every manifest written checks against the cluster version's schema, read back here
    independently of the engine's own check."""
    validator = KubeSchemaValidator.for_version(version)
    files = sorted(directory.rglob("*.yaml"))
    kinds = set()
    for path in files:
        body: dict[str, Any] = yaml.safe_load(path.read_text())
        assert validator.validate(body) == [], path
        kinds.add(body["kind"])
    assert {"Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"} <= kinds

"""The package layout is the architecture: each audience's package imports only what it may.

* ``eksplatform.core`` imports no other eksplatform package;
* ``eksplatform.service`` (what service repos import) never imports ``eksplatform.cluster``;
* ``eksplatform.cluster`` never imports ``eksplatform.service``;
* ``eksplatform.scaffold`` (``new-service``) writes service repos from the service API alone;
* ``eksplatform.guardrails`` (the rules) imports only ``core``: service, cluster and preview
  use it;
* ``eksplatform.canary`` (``eksplatform canary``) drives a service's stack file with the
  service API's own checks, never the cluster's or the preview's code;
* nothing in the library imports ``eksplatform.preview`` except the preview itself and the CLI.

Checked on the source (every ``import`` statement, including ones inside functions), so a lazy
import cannot slip past."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "components" / "eksplatform"

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": ("eksplatform.cluster", "eksplatform.service", "eksplatform.preview"),
    "service": ("eksplatform.cluster", "eksplatform.preview"),
    "cluster": ("eksplatform.service", "eksplatform.preview"),
    "envoy": ("eksplatform.cluster", "eksplatform.service", "eksplatform.preview"),
    "scaffold": ("eksplatform.cluster", "eksplatform.preview"),
    "guardrails": ("eksplatform.cluster", "eksplatform.service", "eksplatform.preview"),
    "canary": ("eksplatform.cluster", "eksplatform.preview"),
}


def _module_of(path: Path) -> str:
    rel = path.relative_to(LIB.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports."""
    module = _module_of(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _files(package: str) -> list[Path]:
    single = LIB / f"{package}.py"
    return [single] if single.is_file() else sorted((LIB / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_it_may(package: str) -> None:
    offences = []
    for path in _files(package):
        for name in sorted(_imports(path)):
            for banned in FORBIDDEN[package]:
                if name == banned or name.startswith(banned + "."):
                    offences.append(f"{path.relative_to(LIB)} imports {name}")
    assert offences == []


def test_the_checker_sees_relative_imports() -> None:
    probe = LIB / "service" / "workload.py"
    names = _imports(probe)
    assert "eksplatform.core.kube" in names  # `from ..core import kube`
    assert "eksplatform.service.args" in names  # `from .args import ...`


def test_importing_the_top_package_imports_no_sdk() -> None:
    code = (
        "import sys, eksplatform; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pulumi', 'pulumi_aws', 'pulumi_kubernetes', 'pulumi_eks')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_service_package_re_exports_its_public_api() -> None:
    import eksplatform.service as service

    for name in ("ServiceStack", "ServiceStackArgs", "ClusterOutputs", "ClusterFacts", "Tags"):
        assert name in service.__all__
        assert getattr(service, name) is not None

"""Provider SDK modules compiled with lazy annotations during a preview
(eksplatform.preview.sdk_imports): the same preview, byte for byte, and a cache that follows the
source."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eksplatform.preview.engine import PreviewResult, Workspace
from eksplatform.preview.sdk_imports import OPTIMIZATION, LazyAnnotationsLoader

REPO = Path(__file__).resolve().parents[2]

_PREVIEW = r"""
import json, pathlib, sys
from eksplatform.preview import sdk_imports
from eksplatform.preview.engine import Workspace, run_preview, write_result
if sys.argv[1] == "eager":
    sdk_imports.PACKAGES = frozenset()
ws = Workspace(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]),
               {"organization/eks-platform/staging": pathlib.Path(sys.argv[4])})
result = run_preview(ws, "services/news-feed", "staging")
write_result(ws, result)
import pulumi_datadog
hints = pulumi_datadog.Monitor._internal_init.__annotations__
print(json.dumps({"ok": result.ok, "lazy": isinstance(hints["message"], str)}))
"""


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_service_previews_byte_for_byte_as_with_eager_annotations(
    cluster_preview: Callable[[str], PreviewResult], repo_workspace: Workspace, tmp_path: Path
) -> None:
    """One ServiceStack (monitors, ingress, Envoy, IAM: the Datadog, AWS and Kubernetes SDKs), in
    two fresh processes: every file written is the same with and without lazy annotations."""
    assert cluster_preview("staging").ok
    contract = repo_workspace.out_dir("cluster", "staging") / "stack-output.json"
    env = dict(os.environ, PYTHONPATH=str(REPO / "components"))
    procs = {
        mode: subprocess.Popen(
            [sys.executable, "-c", _PREVIEW, mode, str(REPO), str(tmp_path / mode), str(contract)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for mode in ("eager", "lazy")
    }
    seen = {}
    for mode, proc in procs.items():
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        seen[mode] = out.strip().splitlines()[-1]
    assert seen == {"eager": '{"ok": true, "lazy": false}', "lazy": '{"ok": true, "lazy": true}'}
    eager, lazy = _files(tmp_path / "eager"), _files(tmp_path / "lazy")
    assert len(eager) > 5 and "services/news-feed/staging/preview.json" in eager
    assert lazy == eager


def _load(path: Path, name: str) -> dict[str, object]:
    loader = LazyAnnotationsLoader(name, str(path))
    namespace: dict[str, object] = {"__name__": name}
    exec(loader.get_code(name), namespace)
    return namespace


def test_the_loader_keeps_annotations_as_text_and_caches_by_source(tmp_path: Path) -> None:
    module = tmp_path / "sdkmod.py"
    module.write_text("from typing import Optional\ndef f(x: Optional[int] = None) -> 'int': ...\n")
    namespace = _load(module, "sdkmod")
    f = namespace["f"]
    assert callable(f) and f.__annotations__ == {"x": "Optional[int]", "return": "'int'"}
    cached = (
        tmp_path
        / "__pycache__"
        / f"sdkmod.cpython-{sys.version_info[0]}{sys.version_info[1]}.opt-{OPTIMIZATION}.pyc"
    )
    assert cached.is_file()
    stamp = cached.stat().st_mtime_ns
    _load(module, "sdkmod")
    assert cached.stat().st_mtime_ns == stamp  # read, not written again
    # A changed source (other size and time) is compiled again.
    time.sleep(0.01)
    module.write_text("def f(x: int, y: str) -> None: ...\n")
    os.utime(module, (time.time() + 5, time.time() + 5))
    g = _load(module, "sdkmod")["f"]
    assert callable(g) and g.__annotations__ == {"x": "int", "y": "str", "return": "None"}


def test_is_empty_function_and_typing_compile_answer_as_before() -> None:
    import typing

    from eksplatform.preview.sdk_imports import lazy_sdk_annotations
    from pulumi import _utils

    def empty() -> None: ...

    def documented() -> None:
        """Only a docstring."""

    def returns_none() -> None:
        return None

    def getter(self: object) -> object:
        """A generated getter."""
        return _utils

    functions: list[Callable[..., Any]] = [
        empty,
        documented,
        returns_none,
        getter,
        lambda: None,
        lambda x: x,
        _utils._empty,
    ]
    before = [_utils.is_empty_function(f) for f in functions]
    assert before == [True, True, True, False, True, False, True]
    original = _utils.is_empty_function
    with lazy_sdk_annotations():
        assert _utils.is_empty_function is not original
        assert [_utils.is_empty_function(f) for f in functions] == before
        first = typing.ForwardRef("Optional[Sequence['MonitorAssetArgs']]")
        again = typing.ForwardRef("Optional[Sequence['MonitorAssetArgs']]")
        assert first == again and first.__forward_code__ is again.__forward_code__
        namespace = {"Optional": typing.Optional, "Sequence": list, "MonitorAssetArgs": int}
        expected = compile("Optional[Sequence['MonitorAssetArgs']]", "<string>", "eval")
        assert eval(first.__forward_code__, namespace) == eval(expected, namespace)
        for _ in range(2):
            try:
                typing.ForwardRef("not an expression (")
            except SyntaxError:
                pass
            else:
                raise AssertionError("ForwardRef accepted a bad expression")
    assert _utils.is_empty_function is original and "compile" not in vars(typing)

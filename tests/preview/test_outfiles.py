"""Writing a preview's files (eksplatform.preview.outfiles): only changed files are rewritten,
and a manifests folder ends up holding exactly this preview's files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from eksplatform.preview.outfiles import sync_tree, write_if_changed


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_write_if_changed_leaves_equal_files_alone(tmp_path: Path) -> None:
    path = tmp_path / "preview.json"
    assert write_if_changed(path, b"{}\n")
    os.utime(path, (1, 1))
    assert not write_if_changed(path, b"{}\n")
    assert path.stat().st_mtime == 1
    assert write_if_changed(path, b"{ }\n")  # same size, other bytes
    assert path.read_bytes() == b"{ }\n"
    assert write_if_changed(path, b"[]")
    assert path.read_bytes() == b"[]"


def test_sync_tree_writes_exactly_the_given_files(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    first = {
        "namespaces/a/ConfigMap/x.yaml": b"x: 1\n",
        "namespaces/a/Service/y.yaml": b"y: 1\n",
        "namespaces/b/Deployment/z.yaml": b"z: 1\n",
        "cluster/Namespace/a.yaml": b"a\n",
    }
    sync_tree(out, first)
    assert _tree(out) == first
    os.utime(out / "namespaces/a/ConfigMap/x.yaml", (1, 1))
    second = {
        "namespaces/a/ConfigMap/x.yaml": b"x: 1\n",  # unchanged: not rewritten
        "namespaces/a/Service/y.yaml": b"y: 2\n",  # changed
        "cluster/Namespace/a.yaml": b"a\n",
        "cluster/Namespace/c.yaml": b"c\n",  # new
    }
    sync_tree(out, second)
    assert _tree(out) == second
    assert (out / "namespaces/a/ConfigMap/x.yaml").stat().st_mtime == 1
    # Folders left empty by removed files are gone, the others stay.
    assert not (out / "namespaces/b").exists()
    assert (out / "namespaces/a/Service").is_dir()
    sync_tree(out, {})
    assert out.is_dir() and not any(out.iterdir())


def test_sync_tree_replaces_a_file_where_the_folder_goes(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    out.write_text("not a folder")
    sync_tree(out, {"cluster/Namespace/a.yaml": b"a\n"})
    assert _tree(out) == {"cluster/Namespace/a.yaml": b"a\n"}


def test_sync_tree_writes_files_as_they_are_produced(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    produced: list[str] = []

    def rendered() -> Iterator[tuple[str, bytes]]:
        for name in ("a", "b", "a"):
            produced.append(name)
            yield f"cluster/Namespace/{name}.yaml", f"{name}{len(produced)}\n".encode()

    sync_tree(out, rendered())
    assert produced == ["a", "b", "a"]
    # A path given twice keeps its last bytes.
    assert _tree(out) == {"cluster/Namespace/a.yaml": b"a3\n", "cluster/Namespace/b.yaml": b"b2\n"}


def test_sync_tree_raises_a_write_error_after_the_other_writes(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    out.mkdir()
    (out / "cluster").write_text("a file where a folder must go")
    files = {"namespaces/a/Service/y.yaml": b"y\n", "cluster/Namespace/a.yaml": b"a\n"}
    with pytest.raises(OSError):
        sync_tree(out, files)
    assert (out / "namespaces/a/Service/y.yaml").read_bytes() == b"y\n"

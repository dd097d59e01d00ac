"""A service's ``Pulumi.<stack>.yaml``, edited the way a person would: round-trip YAML 1.2.

ruamel.yaml's round-trip mode keeps comments, key order, quoting and flow style, and reads YAML
1.2 like the Pulumi CLI (``yes`` is a string, ``012`` is 12). Only the values the commands change
are touched; the file is replaced atomically (written beside it, then renamed), so an
interrupted command leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError


class StackFileError(Exception):
    """The program directory or its stack file cannot be read (the message says which)."""


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold a long value (an ARN, an image) onto two lines
    return y


def project_name(program_dir: Path) -> str:
    """The ``name`` in ``Pulumi.yaml``: the namespace of the program's own config keys."""
    path = program_dir / "Pulumi.yaml"
    try:
        data = _yaml().load(path.read_text())
    except OSError as exc:
        raise StackFileError(
            f"{path}: cannot be read ({exc.strerror}): is it a Pulumi program?"
        ) from None
    except YAMLError as exc:
        raise StackFileError(f"{path}: not valid YAML: {exc}") from None
    name = data.get("name") if isinstance(data, Mapping) else None
    if not isinstance(name, str) or not name:
        raise StackFileError(f"{path}: has no project name ('name: <project>')")
    return name


class StackFile:
    """One stack file, loaded for editing."""

    def __init__(self, program_dir: Path, stack: str) -> None:
        self.program_dir = program_dir
        self.stack = stack
        self.path = program_dir / f"Pulumi.{stack}.yaml"
        self.project = project_name(program_dir)
        try:
            text = self.path.read_text()
        except OSError as exc:
            raise StackFileError(f"{self.path}: cannot be read ({exc.strerror})") from None
        try:
            self._doc = _yaml().load(text)
        except YAMLError as exc:
            raise StackFileError(f"{self.path}: not valid YAML: {exc}") from None
        if self._doc is None:
            self._doc = CommentedMap()
        if not isinstance(self._doc, CommentedMap):
            raise StackFileError(f"{self.path}: must be a mapping with a 'config:' key")
        config = self._doc.get("config")
        if config is None:
            config = self._doc["config"] = CommentedMap()
        if not isinstance(config, CommentedMap):
            raise StackFileError(f"{self.path}: 'config:' must be a mapping")
        self._config: Any = config

    def key(self, short: str) -> str:
        """``short`` in the project's namespace (``canary`` -> ``news-feed:canary``)."""
        return short if ":" in short else f"{self.project}:{short}"

    def get(self, short: str) -> Any:
        """The value of a config key (ruamel's mapping and list types are dicts and lists)."""
        return self._config.get(self.key(short))

    def plain(self, short: str) -> Any:
        """The value of a config key as plain dicts, lists and scalars."""
        return _plain(self.get(short))

    def set(self, short: str, value: Any) -> None:
        self._config[self.key(short)] = value

    def delete(self, short: str) -> None:
        if self.key(short) in self._config:
            del self._config[self.key(short)]

    def section(self, short: str) -> Any:
        """The mapping under a key, created (at the end of ``config:``) when absent."""
        value = self._config.get(self.key(short))
        if not isinstance(value, Mapping):
            value = CommentedMap()
            self._config[self.key(short)] = value
        return value

    def text(self) -> str:
        buf = io.StringIO()
        _yaml().dump(self._doc, buf)
        return buf.getvalue()

    def save(self) -> None:
        """Write the file atomically (same directory, then rename over the old one)."""
        data = self.text()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(data)
            mode = self.path.stat().st_mode & 0o777
            os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value

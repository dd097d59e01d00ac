"""A stack's outputs as ``pulumi stack output --json`` prints them: the file a StackReference is
answered from offline.

The offline preview writes one per program and stack (``build/<program>/<stack>/
stack-output.json``); the cluster's is *the contract file* a service repo previews against. A
real cluster stack gives the same file with::

    pulumi stack output --json --stack <org>/eks-platform/<stack> > contract-<stack>.json

Design decision: the file is exactly that command's output *without* ``--show-secrets``, so the
artifact CI passes around never holds a secret. The CLI replaces every secret value, at any
depth, with the string ``"[secret]"`` (``display.MassageSecrets`` in the Pulumi CLI) and prints
one JSON object, indented by two spaces with its keys sorted; this module writes the same shape.
Reading it back, a top-level output holding
``"[secret]"`` anywhere is answered as a secret output (what a real StackReference reports for
it) whose value is unknown offline.

The cost: a program cannot read a secret output's value offline (it sees ``"[secret]"``).
Nothing in the cluster contract needs one before deployment: its only secret is the kubeconfig,
which the Kubernetes provider uses at apply time. A file made with ``--show-secrets`` is read as
well, but it marks nothing secret and puts the secrets in a CI artifact: do not make one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .jsontext import NonFinite
from .mocks import SECRET_SIG, SIG_KEY, is_secret

SECRET = "[secret]"
"""What ``pulumi stack output --json`` prints in place of a secret value."""


@dataclass(frozen=True)
class StackOutputs:
    """The outputs of one stack, as a StackReference sees them."""

    outputs: dict[str, Any]
    """Output name -> plain JSON value (secrets as ``"[secret]"``)."""
    secret_names: tuple[str, ...]
    """Top-level outputs that hold a secret (a StackReference marks them secret)."""
    source: str
    """Where they were read from, for messages."""


class StackOutputError(Exception):
    """A stack output file that cannot be used; the message says why and how to fix it."""


def display(value: Any) -> Any:
    """JSON-safe, secrets hidden as ``"[secret]"``, unknowns marked ``"[unknown]"``."""
    # Exact plain types first: nearly every value of a preview is one (same results as below).
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        if value.get(SIG_KEY) == SECRET_SIG:
            return SECRET
        return {k if type(k) is str else str(k): display(v) for k, v in value.items()}
    if kind is list:
        return [display(v) for v in value]
    if is_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {str(k): display(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [display(v) for v in value]
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        if not math.isfinite(value):
            return NonFinite(value)  # written by json as before (see jsontext)
        return value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return "[unknown]"
    urn = getattr(value, "urn", None)
    if urn is not None:  # a resource object (deserialized reference)
        return "[resource]"
    asset = _display_asset(value)
    if asset is not None:
        return asset
    return str(value)


def _display_asset(value: Any) -> Any:
    """An asset or archive (a Lambda's code) by content hash or location: deterministic."""
    import hashlib

    from pulumi import asset

    if isinstance(value, asset.AssetArchive):
        return {"assetArchive": {k: display(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, asset.StringAsset):
        return {"stringAsset": {"sha256": hashlib.sha256(value.text.encode()).hexdigest()}}
    if isinstance(value, asset.FileAsset | asset.FileArchive):
        return {type(value).__name__[0].lower() + type(value).__name__[1:]: str(value.path)}
    if isinstance(value, asset.RemoteAsset | asset.RemoteArchive):
        return {type(value).__name__[0].lower() + type(value).__name__[1:]: str(value.uri)}
    return None


def dumps(outputs: dict[str, Any]) -> str:
    """The text of ``pulumi stack output --json`` for these outputs (secrets still wrapped)."""
    return json.dumps(display(outputs), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _holds_secret(value: Any) -> bool:
    if value == SECRET:
        return True
    if isinstance(value, dict):
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def from_document(document: Any, source: str) -> StackOutputs:
    """Outputs from the parsed JSON of ``pulumi stack output --json``."""
    if not isinstance(document, dict):
        raise StackOutputError(
            f"{source}: expected a JSON object of stack outputs (what `pulumi stack output "
            f"--json` prints), got a JSON {type(document).__name__}"
        )
    outputs = {str(k): v for k, v in document.items()}
    secrets = tuple(sorted(k for k, v in outputs.items() if _holds_secret(v)))
    return StackOutputs(outputs=outputs, secret_names=secrets, source=source)


def read(path: Path) -> StackOutputs:
    """Read a ``pulumi stack output --json`` file; :class:`StackOutputError` when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StackOutputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise StackOutputError(f"{path}: is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StackOutputError(f"{path}: cannot be read: {exc}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise StackOutputError(f"{path}: not JSON ({exc})") from None
    return from_document(document, str(path))

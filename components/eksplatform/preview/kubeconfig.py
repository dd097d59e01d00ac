"""A Kubernetes API client from a kubeconfig, for ``eksplatform dev extend`` / ``dev down``.

Reads the kubeconfig the way kubectl does for what EKS and local clusters use: ``--kubeconfig``,
else the first file of ``$KUBECONFIG``, else ``~/.kube/config``; the current context (or
``--context``); the cluster's ``server`` and ``certificate-authority(-data)`` (or
``insecure-skip-tls-verify``); the user's ``token``, ``client-certificate(-data)`` /
``client-key(-data)``, or an ``exec`` credential plugin (``aws eks get-token``: its
ExecCredential's ``status.token``). The HTTP client itself is the janitor's
(:class:`eksplatform.cluster.dev_janitor.janitor.KubeClient`, standard library).

Design decision: no ``kubernetes`` Python client (a large dependency for two requests) and no
``kubectl`` subprocess (the command would depend on another tool's output format). The cost: auth
providers other than those above (the deprecated ``auth-provider`` plugins) are refused with a
clear message.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..cluster.dev_janitor.janitor import KubeClient


class KubeconfigError(Exception):
    """The kubeconfig cannot give a client (missing file, context, credentials)."""


def _named(items: Any, name: str, what: str) -> dict[str, Any]:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            body = item.get(what)
            if isinstance(body, dict):
                return body
    raise KubeconfigError(f"the kubeconfig has no {what} named {name!r}")


def _file_or_data(section: dict[str, Any], key: str, base: Path) -> bytes | None:
    data = section.get(f"{key}-data")
    if isinstance(data, str):
        return base64.b64decode(data)
    path = section.get(key)
    if isinstance(path, str):
        return (base / path).expanduser().read_bytes()
    return None


def _exec_token(spec: dict[str, Any]) -> str:
    command = spec.get("command")
    if not isinstance(command, str):
        raise KubeconfigError("the user's exec plugin names no command")
    args = [str(a) for a in spec.get("args") or []]
    env = dict(os.environ)
    for item in spec.get("env") or []:
        if isinstance(item, dict) and "name" in item:
            env[str(item["name"])] = str(item.get("value", ""))
    try:
        done = subprocess.run(
            [command, *args], capture_output=True, text=True, env=env, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise KubeconfigError(f"the credential plugin {command!r} failed: {exc}") from None
    try:
        token = json.loads(done.stdout)["status"]["token"]
    except (ValueError, KeyError, TypeError):
        raise KubeconfigError(f"the credential plugin {command!r} gave no token") from None
    return str(token)


def client_from_kubeconfig(path: Path | None = None, context: str | None = None) -> KubeClient:
    """A client for ``context`` (default: the current one) of the kubeconfig."""
    if path is None:
        env = os.environ.get("KUBECONFIG", "")
        first = env.split(os.pathsep)[0] if env else ""
        path = Path(first) if first else Path.home() / ".kube" / "config"
    try:
        config = yaml.safe_load(path.expanduser().read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise KubeconfigError(f"cannot read the kubeconfig {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise KubeconfigError(f"the kubeconfig {path} is not YAML: {exc}") from None
    if not isinstance(config, dict):
        raise KubeconfigError(f"the kubeconfig {path} is not a mapping")
    name = context or config.get("current-context")
    if not isinstance(name, str) or not name:
        raise KubeconfigError("the kubeconfig has no current context: pass --context")
    ctx = _named(config.get("contexts"), name, "context")
    cluster = _named(config.get("clusters"), str(ctx.get("cluster")), "cluster")
    user = _named(config.get("users"), str(ctx.get("user")), "user") if ctx.get("user") else {}
    base = path.expanduser().parent
    server = cluster.get("server")
    if not isinstance(server, str):
        raise KubeconfigError(f"cluster {ctx.get('cluster')!r} has no server")
    context_ssl: ssl.SSLContext | None = None
    if server.startswith("https://"):
        context_ssl = ssl.create_default_context()
        ca = _file_or_data(cluster, "certificate-authority", base)
        if ca is not None:
            context_ssl.load_verify_locations(cadata=ca.decode())
        if cluster.get("insecure-skip-tls-verify") is True:
            context_ssl.check_hostname = False
            context_ssl.verify_mode = ssl.CERT_NONE
        cert = _file_or_data(user, "client-certificate", base)
        key = _file_or_data(user, "client-key", base)
        if cert is not None and key is not None:
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / "c").write_bytes(cert)
                (Path(tmp) / "k").write_bytes(key)
                context_ssl.load_cert_chain(str(Path(tmp) / "c"), str(Path(tmp) / "k"))
    token = user.get("token")
    if not isinstance(token, str):
        token = ""
        if isinstance(user.get("exec"), dict):
            token = _exec_token(user["exec"])
        elif "auth-provider" in user:
            raise KubeconfigError(
                "the user's auth-provider plugin is not supported: use an exec plugin "
                "(aws eks update-kubeconfig writes one)"
            )
    return KubeClient(server=server, token=token, ssl_context=context_ssl, timeout_s=15.0)

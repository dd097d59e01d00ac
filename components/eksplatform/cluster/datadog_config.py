"""``platform:datadog``: the Datadog agents' stack configuration, and the checks across sections.

The section lives beside the component it configures (:mod:`.datadog`). Two secrets go with it,
as top-level keys so ``pulumi config set --secret`` encrypts them on their own:

* ``platform:datadogApiKey``: the organisation's API key. Setting it turns the agents on (the
  default of ``enabled``); it reaches only the Kubernetes Secret ``datadog/datadog-api-key``.
* ``platform:datadogAppKey``: an application key. The Cluster Agent needs one to read metrics
  back from Datadog for HPAs (``External`` metrics); setting it turns ``externalMetrics`` on.

Design decision: **the keys decide the defaults, the switches can only narrow them.**
``enabled: true`` without an API key, or ``externalMetrics: true`` without an application key, is
refused (the agents would crash-loop on an empty key); a key without its switch is used. The
cost: a stack that sets the key but wants the agents off must say ``enabled: false``.

:func:`datadog_problems` runs after the whole configuration parsed (it needs ``platform:teams``
for ``teamChannels`` and the secret-ness of the two keys, which only the running program knows).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from pydantic import Field, field_validator

from ..core.datadog import HANDLE
from ..core.errors import MISSING, Problem
from ..core.kube import CpuQuantity, MemoryQuantity
from ..core.settings import SettingsModel

API_KEY = "platform:datadogApiKey"
APP_KEY = "platform:datadogAppKey"

Site = Literal[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "ddog-gov.com",
]
"""One of :data:`eksplatform.core.datadog.SITES`."""

AGENT_VERSION = "7.81.1"
"""Agent and Cluster Agent release (Datadog publishes both at the same version; their own Helm
chart pairs them the same way)."""

_TAG = re.compile(r"7\.[0-9]{1,3}\.[0-9]{1,3}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _image_tag(v: str) -> str:
    if not _TAG.fullmatch(v):
        raise ValueError("write a release tag like 7.81.1 (7.<minor>.<patch>; never latest)")
    return v


def _image_digest(v: str | None) -> str | None:
    if v is not None and not _DIGEST.fullmatch(v):
        raise ValueError("write the digest as sha256:<64 lowercase hex digits>")
    return v


class AgentConfig(SettingsModel):
    """``platform:datadog.agent``: the node agent DaemonSet."""

    image_tag: str = AGENT_VERSION
    """Tag of ``public.ecr.aws/datadog/agent``. Default: 7.81.1."""
    image_digest: str | None = None
    """``sha256:...`` digest of that tag, pinned in the pod spec (``agent:<tag>@<digest>``).
    Default: none (the tag alone)."""
    cpu: CpuQuantity = "200m"
    """CPU request (no CPU limit). Default: 200m."""
    memory: MemoryQuantity = "256Mi"
    """Memory request and limit. Default: 256Mi."""
    kubelet_tls_verify: bool = True
    """Verify the kubelet's serving certificate against the cluster CA (EKS nodes get it signed
    by the cluster CA, with the node IP as a name). Default: true."""

    @field_validator("image_tag")
    @classmethod
    def _tag(cls, v: str) -> str:
        return _image_tag(v)

    @field_validator("image_digest")
    @classmethod
    def _digest(cls, v: str | None) -> str | None:
        return _image_digest(v)


class ClusterAgentConfig(SettingsModel):
    """``platform:datadog.clusterAgent``: the Cluster Agent Deployment."""

    image_tag: str = AGENT_VERSION
    """Tag of ``public.ecr.aws/datadog/cluster-agent``. Default: 7.81.1."""
    image_digest: str | None = None
    """``sha256:...`` digest of that tag. Default: none (the tag alone)."""
    replicas: int = 2
    """Pods (one leader; the other serves the external metrics API too and takes over the
    leader's work in seconds). 1-3. Default: 2."""
    cpu: CpuQuantity = "200m"
    """CPU request. Default: 200m."""
    memory: MemoryQuantity = "256Mi"
    """Memory request and limit. Default: 256Mi."""

    @field_validator("image_tag")
    @classmethod
    def _tag(cls, v: str) -> str:
        return _image_tag(v)

    @field_validator("image_digest")
    @classmethod
    def _digest(cls, v: str | None) -> str | None:
        return _image_digest(v)

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: int) -> int:
        if not 1 <= v <= 3:
            raise ValueError("must be 1 to 3 (one leader; the others are warm standbys)")
        return v


class DatadogConfig(SettingsModel):
    """``platform:datadog``: the Datadog node agent and Cluster Agent (:mod:`.datadog`)."""

    enabled: bool | None = None
    """Run the agents. Default: on when ``platform:datadogApiKey`` is set."""
    site: Site = "datadoghq.com"
    """The Datadog site of the organisation (``datadoghq.eu``, ``us5.datadoghq.com``, ...).
    Default: datadoghq.com."""
    external_metrics: bool | None = None
    """The Cluster Agent serves ``external.metrics.k8s.io`` (HPAs scaling on Datadog metrics)
    and the contract says so. Default: on when ``platform:datadogAppKey`` is set."""
    team_channels: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Team -> the Datadog handles its services' monitors notify (``["@slack-news-alerts",
    "@pagerduty-news"]``); published in the contract (``teamMonitorChannels``). Default: each
    team's ``alertEmails`` as ``@<email>`` handles."""
    agent: AgentConfig = AgentConfig()
    """Default: :class:`AgentConfig` defaults."""
    cluster_agent: ClusterAgentConfig = ClusterAgentConfig()
    """Default: :class:`ClusterAgentConfig` defaults."""

    @field_validator("team_channels")
    @classmethod
    def _channels(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        bad = sorted({h for handles in v.values() for h in handles if not HANDLE.fullmatch(h)})
        if bad:
            raise ValueError(
                f"not Datadog notification handles: {', '.join(map(repr, bad))}; write each "
                "like @slack-news-alerts, @pagerduty-news or @news-oncall@example.com"
            )
        empty = sorted(team for team, handles in v.items() if not handles)
        if empty:
            raise ValueError(
                f"teams {', '.join(map(repr, empty))} list no handle: give at least one, or "
                "drop the team to notify its alertEmails"
            )
        return v


class TeamShape(Protocol):
    """What the channel defaults need of a team (``TeamConfig`` satisfies it)."""

    @property
    def name(self) -> str: ...

    @property
    def alert_emails(self) -> Sequence[str]: ...


def team_channels(config: DatadogConfig, teams: Sequence[TeamShape]) -> dict[str, str]:
    """Team -> its monitors' handles, space-separated as a monitor message takes them: the
    configured channels, else the team's alert e-mails as ``@<email>``."""
    out: dict[str, str] = {}
    for team in teams:
        handles = config.team_channels.get(team.name) or tuple(
            f"@{email}" for email in team.alert_emails
        )
        out[team.name] = " ".join(handles)
    return out


def is_enabled(config: DatadogConfig, *, api_key_set: bool) -> bool:
    """Whether the agents run (see the module docstring)."""
    return api_key_set if config.enabled is None else config.enabled


def serves_external_metrics(config: DatadogConfig, *, api_key_set: bool, app_key_set: bool) -> bool:
    """Whether the Cluster Agent registers ``external.metrics.k8s.io``."""
    if not is_enabled(config, api_key_set=api_key_set):
        return False
    return app_key_set if config.external_metrics is None else config.external_metrics


def datadog_problems(
    config: DatadogConfig,
    *,
    teams: Sequence[TeamShape],
    api_key_set: bool,
    app_key_set: bool,
    secret_keys: Mapping[str, bool] | None = None,
    stack_file: str = "the stack file",
) -> list[Problem]:
    """Checks of ``platform:datadog`` against the other sections and the two keys.

    ``secret_keys`` maps each key that is set to whether the stack file holds it encrypted
    (None: not known, e.g. a config parsed outside a Pulumi run)."""
    problems: list[Problem] = []
    if config.enabled is True and not api_key_set:
        problems.append(
            Problem(
                API_KEY,
                MISSING,
                "platform:datadog.enabled is true but no API key is set: set it as a secret "
                f"with `pulumi config set --secret {API_KEY} <key>`, or drop enabled",
            )
        )
    enabled = is_enabled(config, api_key_set=api_key_set)
    if enabled and config.external_metrics is True and not app_key_set:
        problems.append(
            Problem(
                APP_KEY,
                MISSING,
                "platform:datadog.externalMetrics is true: the Cluster Agent needs an "
                "application key to read metrics for HPAs; set it with "
                f"`pulumi config set --secret {APP_KEY} <key>`, or drop externalMetrics",
            )
        )
    names = {t.name for t in teams}
    for team in sorted(set(config.team_channels) - names):
        problems.append(
            Problem(
                f"platform:datadog.teamChannels.{team}",
                list(config.team_channels[team]),
                f"is not a team of platform:teams (teams: {', '.join(sorted(names)) or 'none'}): "
                "fix the name or add the team",
            )
        )
    for key, encrypted in sorted((secret_keys or {}).items()):
        if not encrypted:
            problems.append(
                Problem(
                    key,
                    "[hidden]",
                    f"is stored in clear text in {stack_file}: anyone who reads the repo has "
                    f"it; rotate the key, then `pulumi config set --secret {key} <key>`",
                )
            )
    return problems

"""Typed stack configuration of the cluster program.

A stack file (``Pulumi.<stack>.yaml``) holds only what differs between stacks; everything else has
a documented default here, in one place per field: a section's model default *is* the documented
default, so a section that sets one key never changes another (the section is never replaced by
a differently-configured instance). The whole configuration is parsed and validated once, at the
start of the program, before any resource is registered: every problem is reported in one
:class:`~eksplatform.core.errors.ValidationError` naming the key (``platform:network.cidr``), the
value as written and the fix.

Keys live in the ``platform`` namespace, plus two of the AWS provider's own keys:

========================================  =====================================================
``aws:region``                             required; the region of every resource
``aws:allowedAccountIds``                  the one account the stack may touch (AWS provider
                                           guard; ARNs are derived from it). Default offline:
                                           123456789012
``platform:environment``                   Default: the stack name
``platform:clusterName``                   Default: ``eks-<environment>``
``platform:kubernetesVersion``             Default: ``1.35`` (:mod:`.versions`; 1.29 or newer)
``platform:costCentre``                    Default: ``platform``
``platform:ownerTeam``                     Default: ``platform``
``platform:tags``                          extra tags (never a company tag); Default: none
``platform:network``                       :class:`NetworkConfig`
``platform:controlPlane``                  :class:`ControlPlaneConfig`
``platform:nodePools``                     :class:`~eksplatform.cluster.node_pools.NodePoolConfig` list
``platform:nodeAccess``                    :class:`~eksplatform.cluster.node_pools.NodeAccessConfig`
``platform:eksAddons``                     :class:`~eksplatform.cluster.eks_addons.EksAddonsConfig`
``platform:interruptionHandler``           :class:`~eksplatform.cluster.interruption.InterruptionHandlerConfig`
``platform:autoscaler``                    :class:`~eksplatform.cluster.autoscaler.AutoscalerConfig`
``platform:servicePlatform``               :class:`~eksplatform.cluster.service_platform.ServicePlatformConfig`
``platform:vpa``                           :class:`~eksplatform.cluster.vpa.VpaConfig`
``platform:headroom``                      :class:`~eksplatform.cluster.headroom.HeadroomConfig`
``platform:preScaler``                     :class:`~eksplatform.cluster.prescaler_config.PreScalerConfig`
``platform:teams``                         :class:`~eksplatform.cluster.teams.TeamConfig` list
``platform:descheduler``                   :class:`~eksplatform.cluster.descheduler.DeschedulerConfig`
``platform:logging``                       :class:`~eksplatform.cluster.fluentd.LoggingConfig`
``platform:devEnvironments``               :class:`~eksplatform.cluster.dev_environments.DevEnvironmentsConfig`
``platform:papertrailToken``               secure; required when logging.output is papertrail
``platform:datadog``                       :class:`~eksplatform.cluster.datadog_config.DatadogConfig`
``platform:datadogApiKey``                 secure; turns the Datadog agents on
``platform:datadogAppKey``                 secure; turns the external metrics provider on
========================================  =====================================================

Order of work (:func:`parse_cluster_config`): decode what the program received (as ``pulumi up``
hands it: :mod:`eksplatform.core.pulumi_yaml`); refuse numbers the stack file wrote with a leading
zero (the CLI reads them as octal) and read them as the text written; validate every section
(pydantic: typed schemas, unknown keys refused, every error collected with its location); then
run the rules across sections (:mod:`.plan`) on every section that parsed, so one round trip shows
every problem. The models are in :mod:`.config_model` (re-exported here); each section's model lives
beside the component that consumes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import pydantic

from ..core.errors import MISSING, Problem, ValidationError
from ..core.pulumi_yaml import (
    ConfigFile,
    Scalar,
    YamlFileError,
    find_stack_file,
    lookup,
    read_stack_config,
    shown_as_written,
)
from ..core.settings import EMPTY, pydantic_problems
from .config_model import (
    COMPANY_TAG_SOURCES,
    DEFAULT_ACCOUNT_ID,
    MAX_EXTRA_TAGS,
    MAX_PUBLIC_ACCESS_CIDRS,
    MIN_KUBERNETES_MINOR,
    MIN_PUBLIC_PREFIX,
    NAMESPACE,
    NOT_PUBLIC_SOURCES,
    ClusterConfig,
    ControlPlaneConfig,
    FlowLogsConfig,
    NetworkConfig,
)

__all__ = [
    "AWS_KEYS",
    "COMPANY_TAG_SOURCES",
    "DEFAULT_ACCOUNT_ID",
    "MAX_EXTRA_TAGS",
    "MAX_PUBLIC_ACCESS_CIDRS",
    "MIN_KUBERNETES_MINOR",
    "MIN_PUBLIC_PREFIX",
    "NAMESPACE",
    "NOT_PUBLIC_SOURCES",
    "SENSITIVE_KEYS",
    "ClusterConfig",
    "ControlPlaneConfig",
    "FlowLogsConfig",
    "NetworkConfig",
    "display_key",
    "load_cluster_config",
    "parse_cluster_config",
    "read_program_config",
    "release_problems",
]


# --- what the program received ------------------------------------------------------------------

SENSITIVE_KEYS = frozenset(
    {"platform:papertrailToken", "platform:datadogApiKey", "platform:datadogAppKey"}
)
"""Keys whose value no message ever quotes, even when it was not stored as a secret."""

AWS_KEYS = {"aws:region": "region", "aws:allowedAccountIds": "accountId"}
"""The AWS provider's keys the cluster config reads, and their field names."""
_FIELD_KEYS = {v: k for k, v in AWS_KEYS.items()}
_TEXT_FIELDS = frozenset(
    {"environment", "clusterName", "kubernetesVersion", "costCentre", "ownerTeam"}
)
"""Top-level fields that are text: never JSON-decoded (``"[x]"`` stays text, as in Pulumi)."""


def display_key(loc: tuple[int | str, ...]) -> str:
    """The key as written in the stack file for a location in :class:`ClusterConfig`."""
    if not loc:
        return f"{NAMESPACE}:<config>"
    head, rest = str(loc[0]), loc[1:]
    key = _FIELD_KEYS.get(head, f"{NAMESPACE}:{head}")
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _top_level_keys(aliases: list[str]) -> list[str]:
    keys = [f"{NAMESPACE}:{k}" for k in aliases if k not in _FIELD_KEYS]
    return sorted(keys + list(AWS_KEYS))


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects and lists are JSON-encoded (as Pulumi sends them)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _path_key(path: tuple[str | int, ...]) -> str:
    key = str(path[0])
    for part in path[1:]:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _substitute(data: Any, path: tuple[str | int, ...], expected: Any, text: str) -> bool:
    """Put ``text`` where ``data`` holds ``expected`` at ``path`` (a leading-zero number read as
    the text written); False when the value there is not the one the file gave."""
    try:
        parent = lookup(data, path[:-1])
        if lookup(parent, path[-1:]) != expected:
            return False
    except (KeyError, IndexError, TypeError):
        return False
    parent[path[-1]] = text
    return True


def _received(
    raw: Mapping[str, Any],
    *,
    stack: str,
    project: str | None,
    secret_keys: Collection[str],
    source: ConfigFile | None,
) -> tuple[dict[str, Any], list[Problem]]:
    """The model's input from the program's config, and the problems of the input itself."""
    problems: list[Problem] = []
    decoded = {
        key: value
        if key.removeprefix(f"{NAMESPACE}:") in _TEXT_FIELDS or key in secret_keys
        else _decode(value)
        for key, value in raw.items()
        if key.startswith(f"{NAMESPACE}:") or key in AWS_KEYS
    }
    for scalar in source.ambiguous() if source else ():
        key = str(scalar.path[0])
        if key in decoded and key not in secret_keys:
            holder = {key: decoded[key]}
            if _substitute(holder, scalar.path, scalar.value, scalar.text):
                decoded[key] = holder[key]
                problems.append(
                    Problem(
                        _path_key(scalar.path), shown_as_written(scalar.text), scalar.note() or ""
                    )
                )
    data: dict[str, Any] = {}
    for key, value in decoded.items():
        if value == "" and key not in {*secret_keys, *SENSITIVE_KEYS, "aws:region"}:
            # ``key:`` with nothing after it: the CLI hands over "" (never a default).
            problems.append(Problem(key, value, EMPTY))
            continue
        if key == "aws:allowedAccountIds":
            if not isinstance(value, list):
                problems.append(
                    Problem(
                        key,
                        value,
                        'write it as a list of one account id, like ["111111111111"]',
                    )
                )
            elif len(value) != 1:
                problems.append(
                    Problem(
                        key,
                        value,
                        "list exactly one account id: the program derives every ARN and "
                        "policy of the stack from it (use one stack per account)",
                    )
                )
            else:
                data["accountId"] = value[0]
            continue
        data[AWS_KEYS.get(key) or key[len(NAMESPACE) + 1 :]] = value
    if project:
        for key in sorted(raw):
            if key.startswith(f"{project}:"):
                name = key[len(project) + 1 :]
                problems.append(
                    Problem(
                        key,
                        "[secret]" if key in secret_keys else _decode(raw[key]),
                        f"a key without a namespace belongs to the project ({project}); the "
                        f"cluster program reads the {NAMESPACE} namespace: write "
                        f"{NAMESPACE}:{name}",
                    )
                )
    data.setdefault("environment", stack)
    return data, problems


# --- parsing ------------------------------------------------------------------------------------


def _sections(located: Iterable[tuple[tuple[int | str, ...], Problem]]) -> set[str]:
    return {str(loc[0]) for loc, _ in located if loc}


_PLACEHOLDERS = {"region": "us-east-1", "environment": "placeholder"}
"""Stand-ins for a required field that failed, so the other sections can still be checked
(every rule reading a failed field is skipped)."""


def _partial(data: dict[str, Any], failed: set[str]) -> ClusterConfig | None:
    """The config with every failed section left at its default (None if even that fails)."""
    kept = {k: v for k, v in data.items() if k not in failed}
    for key, placeholder in _PLACEHOLDERS.items():
        if key in failed:
            kept[key] = placeholder
    try:
        return ClusterConfig.model_validate(kept)
    except pydantic.ValidationError:
        return None


def parse_cluster_config(
    raw: Mapping[str, Any],
    *,
    stack: str,
    source: str,
    project: str | None = None,
    secret_keys: Collection[str] = (),
    stack_file: ConfigFile | None = None,
    available_zones: Callable[[str], Iterable[str]] | None = None,
) -> ClusterConfig:
    """Parse raw Pulumi config (``{"platform:network": ..., "aws:region": ...}``) into a
    :class:`ClusterConfig`, or raise one :class:`ValidationError` listing every problem.

    ``source`` names the input in the message (e.g. ``Pulumi.prod.yaml``); ``project`` is the
    Pulumi project (keys written without a namespace land in it); ``secret_keys`` are never
    quoted; ``stack_file`` is the stack file as read (values are then shown as written);
    ``available_zones(region)`` lists the region's zones (an AWS read; without it the zones are
    not checked against the region's and stay unresolved)."""
    from .plan import PlanContext, plan_problems

    data, problems = _received(
        raw, stack=stack, project=project, secret_keys=secret_keys, source=stack_file
    )
    failed: set[str] = set()
    cfg: ClusterConfig | None
    try:
        cfg = ClusterConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        located = pydantic_problems(exc, ClusterConfig, display_key, top_level_keys=_top_level_keys)
        problems += [p for _, p in located]
        failed = _sections(located)
        cfg = _partial(data, failed)
    if cfg is not None:
        context = PlanContext.build(
            cfg,
            failed=frozenset(failed),
            given=frozenset(data),
            secret_keys=frozenset(secret_keys),
            available_zones=available_zones,
        )
        problems += plan_problems(cfg, context)
        if context.zones_resolved:
            cfg._zones = context.zones
        problems += _guardrail_problems(cfg, problems, source)
    problems = _as_written(problems, stack_file, secret_keys)
    if problems:
        raise ValidationError(f"{source}: invalid stack configuration", problems)
    assert cfg is not None
    return cfg


def _guardrail_problems(cfg: ClusterConfig, found: list[Problem], source: str) -> list[Problem]:
    """The guardrail rules on this config (:mod:`eksplatform.guardrails`): mandatory findings as
    problems, advisories as warnings. A field that already has a problem gets no second one; a
    section that failed to parse is not judged again, since ``cfg`` holds it at its defaults
    (:func:`_partial`), which pass every rule. Advisories are logged only for a config with no
    problem: a run that stops on problems shows what must be fixed, and the advisories follow once
    it is valid."""
    import pulumi

    from ..guardrails.inputs import cluster_findings

    findings = cluster_findings(cfg)
    seen = {p.field for p in found}
    out = [p for p in findings.problems if p.field not in seen]
    if not found and not out:
        for warning in findings.warnings:
            pulumi.log.warn(f"{source}: {warning}")
    return out


def _as_written(
    problems: list[Problem], stack_file: ConfigFile | None, secret_keys: Collection[str]
) -> list[Problem]:
    """Problems with secrets hidden and each value shown as the stack file wrote it, with how
    YAML read it when that is likely not what was meant."""
    scalars: dict[str, Scalar] = {}
    if stack_file is not None:
        scalars = {_path_key(s.path): s for s in stack_file.scalars.values()}
    out = []
    for p in problems:
        key = p.field.partition(".")[0].partition("[")[0]
        if (key in secret_keys or key in SENSITIVE_KEYS) and p.value is not MISSING:
            hidden = "[secret]" if key in secret_keys else "[not shown]"
            out.append(Problem(p.field, shown_as_written(hidden), p.message))
            continue
        scalar = scalars.get(p.field)
        if scalar is not None and scalar.value is None and p.value is None:
            out.append(Problem(p.field, shown_as_written(scalar.text or "(nothing)"), p.message))
            continue
        note = scalar.note() if scalar and not scalar.leading_zero else None
        if scalar is None or note is None:
            out.append(p)
            continue
        message = p.message
        if note not in message:
            message = f"{message.removesuffix('; quote it in the stack file')}; {note}"
        out.append(Problem(p.field, shown_as_written(scalar.text), message))
    return out


def release_problems(cfg: ClusterConfig) -> list[Problem]:
    """Checks that pin a release to the Kubernetes minor version (kube-proxy, Cluster
    Autoscaler and descheduler images); see :func:`eksplatform.cluster.plan.release_problems`."""
    from .plan import release_problems as plan_release_problems

    return plan_release_problems(cfg)


# --- the running program ------------------------------------------------------------------------


def read_program_config() -> dict[str, Any]:
    """Every config key of the running Pulumi program (CLI or offline preview).

    Used by programs only (components take values, never read config)."""
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def _secret_keys(keys: Iterable[str]) -> set[str]:
    from pulumi.runtime import config as runtime_config

    env = set(runtime_config.get_config_secret_keys_env())
    return {k for k in keys if k in env or runtime_config.is_config_secret(k)}


def _stack_file(stack: str, project: str) -> ConfigFile | None:
    """The running stack's file as read (Pulumi runs a program from its project directory, or
    below it), or None when it is not there (config from elsewhere, e.g. an ESC environment)."""
    path = find_stack_file(stack, Path.cwd())
    if path is None:
        return None
    try:
        return read_stack_config(path, project)[1]
    except YamlFileError:
        return None  # the CLI reports a broken stack file itself


def _available_zones(region: str) -> list[str]:
    import pulumi_aws as aws

    return list(aws.get_availability_zones(state="available").names)


def load_cluster_config() -> ClusterConfig:
    """Read and validate the running cluster program's stack configuration, and resolve its
    zones (an AWS read, not a registration): the program's first step, before it registers
    anything."""
    import pulumi

    stack, project = pulumi.get_stack(), pulumi.get_project()
    raw = read_program_config()
    return parse_cluster_config(
        raw,
        stack=stack,
        source=f"Pulumi.{stack}.yaml",
        project=project,
        secret_keys=_secret_keys(raw),
        stack_file=_stack_file(stack, project),
        available_zones=_available_zones,
    )

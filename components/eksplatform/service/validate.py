"""Every check on :class:`~eksplatform.service.args.ServiceStackArgs`, run before any resource.

:func:`plan_service` collects every problem (with the Envoy builder's own checks merged in, under
this component's field names), raises one :class:`~eksplatform.core.errors.ValidationError` listing
them all, and otherwise returns the :class:`ServicePlan`: the plain values the component derives
(namespace, version, node port, Envoy settings, ECR repository), so the builders never re-derive
or re-check anything.

Checks that need the cluster (is the team known? is this prod?) use ``cluster.facts``, plain
values the program states; :mod:`eksplatform.service.stack` verifies them against the contract's
Outputs when those resolve (see :class:`~eksplatform.core.contract.ClusterFacts`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from .. import envoy
from ..core import kube
from ..core.environments import is_production
from ..core.errors import MISSING, Problems
from ..core.tags import overridden_company_keys
from .args import Dependency, ServiceStackArgs
from .iam_checks import check_statement

NAME_MAX = 40
"""Longest service name: leaves room for suffixes (``-envoy``, ``-alb``) in 63-char names."""
NODE_PORT_MIN, NODE_PORT_MAX = 30000, 32767
"""Kubernetes' default NodePort range."""
FIRST_EGRESS_PORT = 15101
"""Egress port of the first dependency when none is given (then 15102, ...)."""
SSL_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    }
)
"""TLS 1.3 policies with TLS 1.2 or 1.3 as the floor (no TLS 1.0/1.1, no CBC-only suites)."""
RESERVED_MOUNTS = ("/tmp", envoy.ENVOY_CONFIG_DIR)

_DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    r"^(?P<host>[A-Za-z0-9.-]+(?::\d+)?)/"
    rf"(?P<repo>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
_ACM_ARN = re.compile(r"^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_DNS_FIX = "must be a DNS label: 1-63 lowercase letters, digits or '-', starting with a letter"


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference."""

    host: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def ecr_account(self) -> str | None:
        m = _ECR_HOST.match(self.host)
        return m.group("account") if m else None

    @property
    def ecr_region(self) -> str | None:
        m = _ECR_HOST.match(self.host)
        return m.group("region") if m else None


@dataclass(frozen=True)
class ServicePlan:
    """Plain values derived from valid args; what the builders use."""

    name: str
    team: str
    environment: str
    namespace: str
    version: str
    image: ImageRef
    node_port: int
    envoy: envoy.EnvoySettings
    prod: bool
    create_ecr: bool
    deletion_protection: bool


def parse_image(image: str) -> ImageRef | None:
    """``registry/repository[:tag][@sha256:digest]`` parsed, or None when malformed."""
    m = _IMAGE.match(image) if isinstance(image, str) else None
    if m is None:
        return None
    host = m.group("host")
    if "." not in host and ":" not in host and host != "localhost":
        return None  # Docker's rule: otherwise the first part is a Docker Hub namespace
    return ImageRef(m.group("host"), m.group("repo"), m.group("tag"), m.group("digest"))


def derive_node_port(namespace: str, name: str) -> int:
    """Stable NodePort for a service: a hash of ``namespace/name`` into 30000-32767.

    Kubernetes refuses a NodePort already taken (by another Service): the apply then fails
    with "provided port is already allocated" and the team sets ``node_port`` explicitly."""
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()
    return NODE_PORT_MIN + int(digest, 16) % (NODE_PORT_MAX - NODE_PORT_MIN + 1)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(problems: Problems, name: str, value: Any, low: int, high: int) -> bool:
    if not _is_int(value) or not low <= value <= high:
        problems.add(name, value, f"must be an integer from {low} to {high}")
        return False
    return True


def _label(problems: Problems, name: str, value: Any, max_len: int = 63) -> bool:
    if not isinstance(value, str) or len(value) > max_len or not _DNS_LABEL.match(value):
        fix = _DNS_FIX if max_len == 63 else _DNS_FIX.replace("1-63", f"1-{max_len}")
        problems.add(name, value, fix)
        return False
    return True


def _cpu(problems: Problems, name: str, value: Any) -> float | None:
    try:
        return kube.parse_cpu(value)
    except ValueError as exc:
        problems.add(name, value, str(exc).split("; ", 1)[-1])
        return None


def _memory(problems: Problems, name: str, value: Any) -> int | None:
    try:
        return kube.parse_memory(value)
    except ValueError as exc:
        problems.add(name, value, str(exc).split("; ", 1)[-1])
        return None


def _path(problems: Problems, name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.startswith("/") or re.search(r"[\s?#]", value):
        problems.add(name, value, "must be a URL path starting with '/' without spaces, '?' or '#'")


def _quantity(problems: Problems, name: str, value: Any) -> None:
    if not isinstance(value, str) or not re.match(r"^\d+(\.\d+)?(m|k|M|G|Ki|Mi|Gi)?$", value):
        problems.add(name, value, "must be a Kubernetes quantity such as '100', '500m' or '2k'")


def _check_image(problems: Problems, args: ServiceStackArgs) -> ImageRef | None:
    ref = parse_image(args.image)
    if ref is None:
        problems.add(
            "image",
            args.image,
            "must be 'registry/repository:tag' or 'registry/repository@sha256:<64 hex>' "
            "(e.g. '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2')",
        )
        return None
    if ref.tag is None and ref.digest is None:
        problems.add(
            "image", args.image, "has no tag: pin a version tag or a digest (never a moving tag)"
        )
        return None
    if ref.tag == "latest":
        problems.add(
            "image",
            args.image,
            "'latest' is a moving tag (rollbacks and pod restarts get other code): "
            "pin a version tag or a digest",
        )
        return None
    return ref


def _check_resources(problems: Problems, args: ServiceStackArgs) -> None:
    r = args.resources
    cpu = _cpu(problems, "resources.cpu", r.cpu)
    mem = _memory(problems, "resources.memory", r.memory)
    if r.memory_limit is not None:
        limit = _memory(problems, "resources.memory_limit", r.memory_limit)
        if limit is not None and mem is not None and limit < mem:
            problems.add(
                "resources.memory_limit",
                r.memory_limit,
                f"is below the request ({r.memory}): raise it to at least the request, "
                "or leave it None (limit = request)",
            )
    if r.cpu_limit is not None:
        climit = _cpu(problems, "resources.cpu_limit", r.cpu_limit)
        if climit is not None and cpu is not None and climit < cpu:
            problems.add(
                "resources.cpu_limit",
                r.cpu_limit,
                f"is below the request ({r.cpu}): raise it to at least the request, "
                "or leave it None (no CPU limit)",
            )
    _cpu(problems, "envoy.cpu", args.envoy.cpu)
    if args.envoy.memory is not None:
        _memory(problems, "envoy.memory", args.envoy.memory)


def _check_scaling(problems: Problems, args: ServiceStackArgs, prod: bool) -> None:
    a = args.autoscaling
    if a is None:
        if _int_in(problems, "replicas", args.replicas, 1, 1000) and prod and args.replicas < 2:
            problems.add(
                "replicas", args.replicas, "prod runs at least 2 pods (one per zone failure)"
            )
    else:
        ok_min = _int_in(problems, "autoscaling.min_replicas", a.min_replicas, 1, 1000)
        ok_max = _int_in(problems, "autoscaling.max_replicas", a.max_replicas, 1, 1000)
        if ok_min and prod and a.min_replicas < 2:
            problems.add(
                "autoscaling.min_replicas",
                a.min_replicas,
                "prod runs at least 2 pods (one per zone failure)",
            )
        if ok_min and ok_max and a.min_replicas > a.max_replicas:
            problems.add(
                "autoscaling.min_replicas",
                a.min_replicas,
                f"is above autoscaling.max_replicas ({a.max_replicas}): lower it or raise the max",
            )
        for attr in ("cpu_target_percent", "memory_target_percent"):
            value = getattr(a, attr)
            if value is not None:
                _int_in(problems, f"autoscaling.{attr}", value, 1, 100)
        if a.cpu_target_percent is None and a.memory_target_percent is None and not a.metrics:
            problems.add(
                "autoscaling.cpu_target_percent",
                None,
                "the HPA scales on nothing: set cpu_target_percent, memory_target_percent or "
                "metrics, or use autoscaling=None with a fixed replicas count",
            )
        for i, m in enumerate(a.metrics):
            p = f"autoscaling.metrics[{i}]"
            if not isinstance(m.name, str) or not m.name.strip():
                problems.add(f"{p}.name", m.name, "must name the metric")
            if m.type not in ("Pods", "External"):
                problems.add(f"{p}.type", m.type, "must be 'Pods' or 'External'")
            _quantity(problems, f"{p}.average_value", m.average_value)
        _int_in(
            problems, "autoscaling.scale_up_stabilization_s", a.scale_up_stabilization_s, 0, 3600
        )
        _int_in(
            problems,
            "autoscaling.scale_down_stabilization_s",
            a.scale_down_stabilization_s,
            0,
            3600,
        )
        _int_in(problems, "autoscaling.scale_up_percent", a.scale_up_percent, 1, 1000)
        _int_in(problems, "autoscaling.scale_up_pods", a.scale_up_pods, 1, 1000)
        _int_in(problems, "autoscaling.scale_down_percent", a.scale_down_percent, 1, 100)

    v = args.vpa
    if v is not None:
        if v.update_mode not in ("Off", "Initial", "Recreate", "InPlaceOrRecreate"):
            problems.add(
                "vpa.update_mode",
                v.update_mode,
                "must be one of 'Off', 'Initial', 'Recreate', 'InPlaceOrRecreate'",
            )
        controlled = tuple(v.controlled_resources)
        if not controlled or any(c not in ("cpu", "memory") for c in controlled):
            problems.add(
                "vpa.controlled_resources",
                v.controlled_resources,
                "must be a non-empty tuple of 'cpu' and/or 'memory'",
            )
        for attr in ("min_cpu", "max_cpu"):
            if getattr(v, attr) is not None:
                _cpu(problems, f"vpa.{attr}", getattr(v, attr))
        for attr in ("min_memory", "max_memory"):
            if getattr(v, attr) is not None:
                _memory(problems, f"vpa.{attr}", getattr(v, attr))
        if a is not None:
            targets = {"cpu": a.cpu_target_percent, "memory": a.memory_target_percent}
            for resource in ("cpu", "memory"):
                if resource in controlled and targets[resource] is not None:
                    problems.add(
                        "vpa.controlled_resources",
                        v.controlled_resources,
                        f"the HPA also scales on {resource} (autoscaling.{resource}_target_percent"
                        f"={targets[resource]}): HPA and VPA would fight over it; drop "
                        f"{resource!r} here, or scale the HPA on another metric",
                    )

    pre = args.prescaling
    if pre is not None:
        if a is None:
            problems.add(
                "prescaling",
                pre,
                "pre-scaling raises the HPA's floor: it needs autoscaling (not None)",
            )
        _int_in(problems, "prescaling.factor", pre.factor, 2, 100)


def _check_probes(problems: Problems, args: ServiceStackArgs) -> None:
    p = args.probes
    _path(problems, "probes.readiness_path", p.readiness_path)
    _path(problems, "probes.liveness_path", p.liveness_path)
    if p.startup_path is not None:
        _path(problems, "probes.startup_path", p.startup_path)
    if p.port is not None:
        _int_in(problems, "probes.port", p.port, 1, 65535)
    _int_in(problems, "probes.startup_timeout_s", p.startup_timeout_s, 10, 3600)
    _int_in(problems, "probes.period_s", p.period_s, 1, 300)


def _check_env(problems: Problems, args: ServiceStackArgs) -> None:
    for key in args.env:
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            problems.add(
                f"env[{key!r}]", key, "must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*"
            )
        elif not isinstance(args.env[key], (str, pulumi.Output)):
            problems.add(
                f"env[{key!r}]",
                args.env[key],
                "must be a string or a pulumi Output of one (quote numbers and booleans)",
            )
    for key in args.secrets:
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            problems.add(
                f"secrets[{key!r}]",
                key,
                "must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*",
            )
        elif key in args.env:
            problems.add(
                f"secrets[{key!r}]",
                key,
                "is also in env: a variable comes from one place; remove one of them",
            )
    for key in args.config_files:
        if not isinstance(key, str) or not _CONFIG_KEY.match(key) or key in (".", ".."):
            problems.add(
                f"config_files[{key!r}]",
                key,
                "must be a file name of letters, digits, '-', '_' or '.' (no '/')",
            )
    mount = args.config_mount_path
    if not isinstance(mount, str) or not mount.startswith("/") or mount.rstrip("/") == "":
        problems.add("config_mount_path", mount, "must be an absolute directory such as '/etc/app'")
    elif any(mount.rstrip("/") == r or mount.startswith(r + "/") for r in RESERVED_MOUNTS):
        problems.add(
            "config_mount_path",
            mount,
            f"is reserved ({', '.join(RESERVED_MOUNTS)} are mounted already): pick another path",
        )
    _int_in(problems, "prestop_sleep_s", args.prestop_sleep_s, 0, 120)
    _int_in(problems, "shutdown_timeout_s", args.shutdown_timeout_s, 1, 600)
    if not _is_int(args.run_as_user) or args.run_as_user < 1:
        problems.add(
            "run_as_user",
            args.run_as_user,
            "must be a non-root uid (1 or more): Pod Security 'restricted' refuses root",
        )


def _dependency_namespace(
    dep: Dependency, own_team: str, own_ns: str, teams: Mapping[str, str]
) -> str | None:
    if dep.namespace is not None:
        return dep.namespace
    if dep.team is None or dep.team == own_team:
        return own_ns
    return teams.get(dep.team)


def _check_dependencies(
    problems: Problems, args: ServiceStackArgs, namespace: str, teams: Mapping[str, str]
) -> list[envoy.EnvoyDependency]:
    out: list[envoy.EnvoyDependency] = []
    for i, dep in enumerate(args.dependencies):
        p = f"dependencies[{i}]"
        if not isinstance(dep, Dependency):
            problems.add(p, dep, "must be a Dependency")
            continue
        if dep.namespace is not None:
            _label(problems, f"{p}.namespace", dep.namespace)
        elif dep.team is not None and dep.team != args.team and dep.team not in teams:
            known = ", ".join(sorted(teams)) or "none"
            problems.add(
                f"{p}.team",
                dep.team,
                f"is not a team of this cluster (known: {known}): fix the name, add the team "
                "to cluster.facts, or set the dependency's namespace",
            )
            continue
        ns = _dependency_namespace(dep, args.team, namespace, teams) or namespace
        if dep.name == args.name and ns == namespace:
            problems.add(
                f"{p}.name",
                dep.name,
                "is this service itself: call your own code directly, not through Envoy",
            )
            continue
        egress = dep.egress_port if dep.egress_port is not None else FIRST_EGRESS_PORT + i
        connect = min(1.0, dep.timeout_s) if isinstance(dep.timeout_s, (int, float)) else 1.0
        out.append(
            envoy.EnvoyDependency(
                name=dep.name,
                namespace=ns,
                service=None,
                egress_port=egress,
                port=dep.port,
                protocol=dep.protocol,
                timeout_s=dep.timeout_s,
                connect_timeout_s=connect,
                idle_timeout_s=dep.idle_timeout_s,
                max_concurrent_streams=dep.max_concurrent_streams,
                retries=dep.retries,
            )
        )
    return out


def _envoy_field(name: str) -> str | None:
    """This component's name for an Envoy settings field (None: checked here already)."""
    if name == "service_name" or name.startswith("dependencies["):
        return None if name == "service_name" else name
    mapping = {
        "app_port": "port",
        "app_health_path": "probes.readiness_path",
        "memory_limit_mib": "envoy.memory",
    }
    if name in mapping:
        return mapping[name]
    return f"envoy.{name}"


def _check_envoy(
    problems: Problems, args: ServiceStackArgs, deps: list[envoy.EnvoyDependency]
) -> envoy.EnvoySettings:
    e = args.envoy
    settings = envoy.EnvoySettings(
        service_name=args.name,
        app_port=args.port,
        app_protocol=e.app_protocol,
        app_health_path=args.probes.readiness_path,
        ingress_port=e.ingress_port,
        admin_port=e.admin_port,
        stats_port=e.stats_port,
        request_timeout_s=e.request_timeout_s,
        request_receive_timeout_s=e.request_receive_timeout_s,
        stream_idle_timeout_s=e.stream_idle_timeout_s,
        idle_timeout_s=e.idle_timeout_s,
        app_idle_timeout_s=e.app_idle_timeout_s,
        buffer_limit_kib=e.buffer_limit_kib,
        max_concurrent_streams=e.max_concurrent_streams,
        max_downstream_connections=e.max_downstream_connections,
        escaped_slashes=e.escaped_slashes,
        drain_time_s=e.drain_time_s,
        concurrency=e.concurrency,
        dogstatsd=envoy.DogStatsd() if e.dogstatsd else None,
        dependencies=tuple(deps),
        memory_limit_mib=_envoy_memory(e.memory),
    )
    # Envoy drains its ingress during the app's preStop sleep: the app gets SIGTERM after it.
    if (
        _is_int(e.drain_time_s)
        and _is_int(args.prestop_sleep_s)
        and e.drain_time_s > args.prestop_sleep_s
    ):
        problems.add(
            "envoy.drain_time_s",
            e.drain_time_s,
            f"must not exceed prestop_sleep_s ({args.prestop_sleep_s}): Envoy drains the ingress "
            "while the app sleeps in its preStop hook, and requests still arriving once the app "
            "has SIGTERM fail; lower it or raise prestop_sleep_s",
        )
    # The app port against Envoy's own ports, reported on ``port`` (what the user set).
    app_collides = False
    if _is_int(args.port):
        for field_name, value in (
            ("envoy.ingress_port", e.ingress_port),
            ("envoy.admin_port", e.admin_port),
            ("envoy.stats_port", e.stats_port),
        ):
            if value == args.port:
                problems.add(
                    "port",
                    args.port,
                    f"collides with {field_name} ({value}): the app and Envoy share the pod's "
                    "network; pick another port",
                )
                app_collides = True
    already = {p.field for p in problems}
    for p in envoy.envoy_problems(settings):
        field = _envoy_field(p.field)
        if field is None or field in already:
            continue
        if app_collides and p.message.startswith("collides with app_port "):
            continue  # reported on ``port`` above
        message = p.message.replace("raise memory_limit_mib", "raise envoy.memory")
        shown = p.value
        if p.field == "memory_limit_mib":  # reported on the quantity the user wrote
            shown = e.memory
            message = re.sub(
                r"\Amust be (\d+)-(\d+):",
                lambda m: f"must be {m[1]}Mi to {int(m[2]) // 1024}Gi:",
                message,
            )
        for old, new in (("app_port", "port"), ("ingress_port", "envoy.ingress_port")):
            message = message.replace(f"collides with {old} ", f"collides with {new} ")
        for old in ("admin_port", "stats_port"):
            message = message.replace(f"collides with {old} ", f"collides with envoy.{old} ")
        problems.add(field, shown, message)
    return settings


def _envoy_memory(memory: Any) -> int:
    """``EnvoySettings.memory_limit_mib`` from ``EnvoyOptions.memory``: whole MiB, rounded down;
    the measured default when it is None or not a quantity (then reported on its own)."""
    if memory is None:
        return envoy.DEFAULT_MEMORY_LIMIT_MIB
    try:
        return kube.parse_memory(memory) // 2**20
    except ValueError:
        return envoy.DEFAULT_MEMORY_LIMIT_MIB


def _check_ports(problems: Problems, args: ServiceStackArgs, namespace: str) -> int:
    _int_in(problems, "service_port", args.service_port, 1, 65535)
    if args.node_port is None:
        return derive_node_port(namespace, args.name if isinstance(args.name, str) else "")
    _int_in(problems, "node_port", args.node_port, NODE_PORT_MIN, NODE_PORT_MAX)
    return args.node_port if _is_int(args.node_port) else NODE_PORT_MIN


def _check_ingress(problems: Problems, args: ServiceStackArgs, prod: bool) -> bool:
    ing = args.ingress
    if ing is None:
        return False
    if ing.certificate_arn is None:
        if prod:
            problems.add(
                "ingress.certificate_arn",
                None,
                "prod ALBs serve HTTPS only: give the ACM certificate ARN of the service's domain",
            )
    elif not isinstance(ing.certificate_arn, str) or not _ACM_ARN.match(ing.certificate_arn):
        problems.add(
            "ingress.certificate_arn",
            ing.certificate_arn,
            "must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>",
        )
    if ing.allowed_cidrs is not None:
        if isinstance(ing.allowed_cidrs, str) or not ing.allowed_cidrs:
            problems.add(
                "ingress.allowed_cidrs",
                ing.allowed_cidrs,
                "must be a non-empty list of CIDRs, or None for the default",
            )
        else:
            for i, cidr in enumerate(ing.allowed_cidrs):
                try:
                    ipaddress.IPv4Network(cidr, strict=True)
                except (ValueError, TypeError):
                    problems.add(
                        f"ingress.allowed_cidrs[{i}]",
                        cidr,
                        "must be an IPv4 CIDR with no host bits set, e.g. '10.0.0.0/8'",
                    )
    if ing.ssl_policy not in SSL_POLICIES:
        problems.add(
            "ingress.ssl_policy",
            ing.ssl_policy,
            "must be a TLS 1.3 policy: one of " + ", ".join(sorted(SSL_POLICIES)),
        )
    if _int_in(problems, "ingress.idle_timeout_s", ing.idle_timeout_s, 1, 4000):
        envoy_idle = args.envoy.idle_timeout_s
        if isinstance(envoy_idle, (int, float)) and ing.idle_timeout_s >= envoy_idle:
            problems.add(
                "ingress.idle_timeout_s",
                ing.idle_timeout_s,
                f"must be below envoy.idle_timeout_s ({envoy_idle}): the ALB must close idle "
                "connections before Envoy does, or clients get 502s",
            )
    _int_in(problems, "ingress.deregistration_delay_s", ing.deregistration_delay_s, 0, 3600)
    if ing.deletion_protection is not None and not isinstance(ing.deletion_protection, bool):
        problems.add("ingress.deletion_protection", ing.deletion_protection, "must be a bool")
    return bool(ing.deletion_protection) if ing.deletion_protection is not None else prod


def _check_alarms(problems: Problems, args: ServiceStackArgs) -> None:
    a = args.alarms
    rate = a.error_rate_percent
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < rate <= 100:
        problems.add("alarms.error_rate_percent", rate, "must be a percentage in (0, 100]")
    p99 = a.p99_latency_s
    if not isinstance(p99, (int, float)) or isinstance(p99, bool) or not 0 < p99 <= 600:
        problems.add("alarms.p99_latency_s", p99, "must be seconds in (0, 600]")
    _int_in(problems, "alarms.unhealthy_hosts", a.unhealthy_hosts, 1, 1000)
    if not _is_int(a.period_s) or a.period_s < 60 or a.period_s % 60:
        problems.add("alarms.period_s", a.period_s, "must be a multiple of 60 seconds")
    periods_ok = _int_in(problems, "alarms.evaluation_periods", a.evaluation_periods, 1, 100)
    points_ok = _int_in(problems, "alarms.datapoints_to_alarm", a.datapoints_to_alarm, 1, 100)
    if periods_ok and points_ok and a.datapoints_to_alarm > a.evaluation_periods:
        problems.add(
            "alarms.datapoints_to_alarm",
            a.datapoints_to_alarm,
            f"must not exceed alarms.evaluation_periods ({a.evaluation_periods})",
        )


def _check_tags(problems: Problems, args: ServiceStackArgs) -> None:
    for field_name, mapping in (("tags", args.tags), ("datadog_tags", args.datadog_tags)):
        for key in overridden_company_keys(mapping):
            problems.add(
                f"{field_name}[{key!r}]",
                mapping[key],
                "is a company tag the platform sets: remove it",
            )
        for key, value in mapping.items():
            if not isinstance(value, str):
                problems.add(f"{field_name}[{key!r}]", value, "must be a string")


def _check_ecr(problems: Problems, args: ServiceStackArgs, image: ImageRef | None) -> bool:
    _int_in(problems, "ecr_keep_images", args.ecr_keep_images, 1, 1000)
    if image is None:
        return False
    in_ecr = image.ecr_account is not None
    if args.ecr is None:
        return in_ecr
    if args.ecr and not in_ecr:
        problems.add(
            "ecr",
            args.ecr,
            f"the image is not in an ECR registry ({image.host}): use an "
            "'<account>.dkr.ecr.<region>.amazonaws.com/...' image or leave ecr None",
        )
        return False
    return bool(args.ecr)


def _version(args: ServiceStackArgs, image: ImageRef | None, problems: Problems) -> str:
    if args.version is not None:
        if not isinstance(args.version, str) or not args.version or len(args.version) > 63:
            problems.add("version", args.version, "must be a label value: 1-63 characters")
        elif not _LABEL_VALUE.match(args.version):
            problems.add(
                "version",
                args.version,
                "must be a label value: letters, digits, '-', '_', '.', alphanumeric at both ends",
            )
        return str(args.version)
    if image is None:
        return "unknown"
    if image.tag is not None:
        tag = image.tag[:63].rstrip("-_.")
        return tag if _LABEL_VALUE.match(tag) else "unknown"
    assert image.digest is not None
    return image.digest.removeprefix("sha256:")[:12]


def plan_service(args: ServiceStackArgs) -> ServicePlan:
    """Check every field of ``args``; raise one ValidationError listing every problem, or
    return the derived plan."""
    problems = Problems()
    _label(problems, "name", args.name, NAME_MAX)
    facts = getattr(args.cluster, "facts", None)
    environment = ""
    teams: Mapping[str, str] = {}
    if facts is None:
        problems.add(
            "cluster.facts",
            MISSING,
            "build the contract with facts: ClusterOutputs.from_stack_reference(ref, "
            "facts=ClusterFacts(environment=..., team_namespaces={...}))",
        )
    else:
        environment = facts.environment
        teams = facts.team_namespaces
        _label(problems, "cluster.facts.environment", environment)
    prod = is_production(environment)

    namespace = ""
    if _label(problems, "team", args.team):
        if args.team in teams:
            namespace = teams[args.team]
        elif facts is not None:
            known = ", ".join(sorted(teams)) or "none"
            problems.add(
                "team",
                args.team,
                f"is not a team of this cluster (known: {known}): fix the name, or add the "
                "team to the cluster's team namespaces and to cluster.facts",
            )
    if args.namespace is not None and _label(problems, "namespace", args.namespace):
        namespace = args.namespace
    namespace = namespace or (args.team if isinstance(args.team, str) else "")

    image = _check_image(problems, args)
    version = _version(args, image, problems)
    _check_resources(problems, args)
    _check_scaling(problems, args, prod)
    _check_probes(problems, args)
    _check_env(problems, args)
    node_port = _check_ports(problems, args, namespace)
    deletion_protection = _check_ingress(problems, args, prod)
    _check_alarms(problems, args)
    for i, st in enumerate(args.iam_statements):
        check_statement(problems, f"iam_statements[{i}]", st)
    _check_tags(problems, args)
    create_ecr = _check_ecr(problems, args, image)
    deps = _check_dependencies(problems, args, namespace, teams)
    settings = _check_envoy(problems, args, deps)
    problems.raise_if_any(f"ServiceStack {args.name!r}")
    assert image is not None
    return ServicePlan(
        name=args.name,
        team=args.team,
        environment=environment,
        namespace=namespace,
        version=version,
        image=image,
        node_port=node_port,
        envoy=settings,
        prod=prod,
        create_ecr=create_ecr,
        deletion_protection=deletion_protection,
    )

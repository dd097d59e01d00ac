"""The value checks of ServiceStack's arguments about the workload (image, quantities, scaling,
probes, environment, ports), one function per concern; what it creates in AWS is checked in
:mod:`.aws_checks`.

Each check is a pure function of the (well-typed: see :mod:`.shapes`) arguments that adds
:class:`~eksplatform.core.errors.Problem` s and returns what it derives. Patterns are matched
with :func:`re.fullmatch` (a ``$`` would let a trailing newline through into a manifest) and
spell digits ``[0-9]`` (Python's ``\\d`` also matches ``٣`` and every other Unicode digit).
Quantities have bounds that make sense for one pod: more than nothing, less than any node; each
bound is a named constant, tested at its edge on both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from .. import envoy
from ..core import kube
from ..core.errors import Problems
from .args import ServiceStackArgs
from .config import is_config_secret_output

NAME_MAX = 40
"""Longest service name: leaves room for suffixes (``-envoy``, ``-secrets``) in 63-char names."""
NODE_PORT_MIN, NODE_PORT_MAX = 30000, 32767
"""Kubernetes' default NodePort range."""
CPU_MIN_MILLI = 1
"""Smallest CPU request or limit: 1m (Kubernetes' precision; 0 is no request at all)."""
CPU_MAX_MILLI = 64_000
"""Largest CPU request or limit of one container: 64 cores, beyond any node the platform runs."""
MEMORY_MIN = 16 * 2**20
"""Smallest app memory request: 16Mi (less is a typo such as ``100m``, a tenth of a byte)."""
MEMORY_MAX = 512 * 2**30
"""Largest memory request or limit of one container: 512Gi."""
CONFIG_FILES_MAX_BYTES = 1_000_000
"""Most bytes of ``config_files`` (names + contents): a ConfigMap holds 1 MiB in all."""
PLATFORM_ENV_PREFIXES = ("DD_", "AWS_CONTAINER_")
"""Variables the platform sets in the app container: Datadog's (``DD_ENV``, ``DD_SERVICE``,
``DD_VERSION``, ``DD_AGENT_HOST``, from the pod's labels and node) and EKS Pod Identity's
(``AWS_CONTAINER_CREDENTIALS_FULL_URI``, ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``)."""
STATIC_CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
"""Static AWS credentials: the SDKs prefer them to the pod's role, bypassing its boundary."""
RESERVED_MOUNTS = ("/tmp", envoy.ENVOY_CONFIG_DIR)

DNS_LABEL = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    r"(?P<host>[A-Za-z0-9.-]+(?::[0-9]+)?)/"
    rf"(?P<repo>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
_ECR_HOST = re.compile(r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")
_URL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
_MOUNT_PATH = re.compile(r"(/[A-Za-z0-9._-]+)+/?")
_CPU_TEXT = re.compile(r"([0-9]+(\.[0-9]+)?|\.[0-9]+)m?")
_MEMORY_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?")
_METRIC_QUANTITY = re.compile(r"([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?")
_METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:@/-]{0,252}")
_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
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
        m = _ECR_HOST.fullmatch(self.host)
        return m.group("account") if m else None

    @property
    def ecr_region(self) -> str | None:
        m = _ECR_HOST.fullmatch(self.host)
        return m.group("region") if m else None


def parse_image(image: Any) -> ImageRef | None:
    """``registry/repository[:tag][@sha256:digest]`` parsed, or None when malformed."""
    m = _IMAGE.fullmatch(image) if isinstance(image, str) else None
    if m is None:
        return None
    host = m.group("host")
    if "." not in host and ":" not in host and host != "localhost":
        return None  # Docker's rule: otherwise the first part is a Docker Hub namespace
    return ImageRef(m.group("host"), m.group("repo"), m.group("tag"), m.group("digest"))


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def int_in(problems: Problems, name: str, value: Any, low: int, high: int) -> bool:
    if not is_int(value) or not low <= value <= high:
        problems.add(name, value, f"must be an integer from {low} to {high}")
        return False
    return True


def label(problems: Problems, name: str, value: Any, max_len: int = 63, note: str = "") -> bool:
    if not isinstance(value, str) or len(value) > max_len or not DNS_LABEL.fullmatch(value):
        fix = _DNS_FIX if max_len == 63 else _DNS_FIX.replace("1-63", f"1-{max_len}")
        problems.add(name, value, fix + note)
        return False
    return True


def _show_cores(milli: float) -> str:
    return f"{milli / 1000:g} cores" if milli >= 1000 else f"{milli:g}m"


def cpu(problems: Problems, name: str, value: Any) -> float | None:
    """A CPU quantity in millicores, within [CPU_MIN_MILLI, CPU_MAX_MILLI]."""
    if not isinstance(value, str) or not _CPU_TEXT.fullmatch(value):
        problems.add(name, value, "write millicores like '250m' or cores like '0.5'")
        return None
    milli = kube.parse_cpu(value)
    if milli < CPU_MIN_MILLI:
        why = "is no CPU at all" if milli == 0 else f"is {milli:g}m, finer than Kubernetes' 1m"
        problems.add(name, value, f"{why}: request at least '1m' (typically '100m' or more)")
        return None
    if milli != int(milli):
        problems.add(name, value, f"is {milli:g}m: Kubernetes counts whole millicores; round it")
        return None
    if milli > CPU_MAX_MILLI:
        problems.add(
            name,
            value,
            f"is {_show_cores(milli)}; one container gets at most {CPU_MAX_MILLI // 1000} cores "
            "(no node is larger): request less and scale out with replicas",
        )
        return None
    return milli


def _show_bytes(size: float) -> str:
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor:
            return f"{size / factor:g}{unit}"
    return f"{size:g} bytes"


def memory(problems: Problems, name: str, value: Any, minimum: int = MEMORY_MIN) -> int | None:
    """A memory quantity in bytes, within [minimum, MEMORY_MAX]."""
    if not isinstance(value, str) or not _MEMORY_TEXT.fullmatch(value):
        problems.add(name, value, "write it like '128Mi' or '1Gi'")
        return None
    size = kube.parse_memory(value)
    if value.endswith("m"):
        problems.add(
            name,
            value,
            f"is {float(value[:-1]) / 1000:g} bytes: 'm' means thousandths; write mebibytes "
            f"like '{value[:-1]}Mi'",
        )
        return None
    if size < minimum:
        problems.add(
            name,
            value,
            f"is {_show_bytes(size)}, below the {_show_bytes(minimum)} minimum: the container "
            "would be OOM-killed at start; raise it",
        )
        return None
    if size > MEMORY_MAX:
        problems.add(
            name,
            value,
            f"is {_show_bytes(size)}, above the {_show_bytes(MEMORY_MAX)} maximum of one "
            "container (no node is larger): request less and scale out with replicas",
        )
        return None
    return size


def url_path(problems: Problems, name: str, value: Any) -> None:
    if not isinstance(value, str) or not _URL_PATH.fullmatch(value):
        problems.add(name, value, "must be a URL path starting with '/' without spaces, '?' or '#'")


def metric_quantity(problems: Problems, name: str, value: Any) -> None:
    if not isinstance(value, str) or not _METRIC_QUANTITY.fullmatch(value):
        problems.add(name, value, "must be a Kubernetes quantity such as '100', '500m' or '2k'")
    elif float(re.sub(r"[A-Za-z]+$", "", value) or 0) <= 0:
        problems.add(name, value, "must be more than 0 (an HPA cannot aim at zero per pod)")


def check_image(problems: Problems, args: ServiceStackArgs) -> ImageRef | None:
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


def check_architectures(problems: Problems, args: ServiceStackArgs) -> None:
    """``architectures``: at least one, each once (their values are checked by type)."""
    archs = list(args.architectures)
    if not archs:
        problems.add(
            "architectures",
            args.architectures,
            "list the architectures the image is built for: ['amd64'], ['arm64'] or both",
        )
    repeated = sorted({a for a in archs if archs.count(a) > 1})
    if repeated:
        problems.add(
            "architectures", args.architectures, f"lists {', '.join(repeated)} more than once"
        )


def check_resources(problems: Problems, args: ServiceStackArgs) -> None:
    r = args.resources
    request_cpu = cpu(problems, "resources.cpu", r.cpu)
    request_mem = memory(problems, "resources.memory", r.memory)
    if r.memory_limit is not None:
        limit = memory(problems, "resources.memory_limit", r.memory_limit)
        if limit is not None and request_mem is not None and limit < request_mem:
            problems.add(
                "resources.memory_limit",
                r.memory_limit,
                f"is below the request ({r.memory}): raise it to at least the request, "
                "or leave it None (limit = request)",
            )
    if r.cpu_limit is not None:
        climit = cpu(problems, "resources.cpu_limit", r.cpu_limit)
        if climit is not None and request_cpu is not None and climit < request_cpu:
            problems.add(
                "resources.cpu_limit",
                r.cpu_limit,
                f"is below the request ({r.cpu}): raise it to at least the request, "
                "or leave it None (no CPU limit)",
            )
    cpu(problems, "envoy.cpu", args.envoy.cpu)
    if args.envoy.memory is not None:  # None: the measured default (eksplatform.envoy.memory)
        # Its floor depends on the other Envoy settings: eksplatform.envoy checks it.
        memory(problems, "envoy.memory", args.envoy.memory)


def check_scaling(problems: Problems, args: ServiceStackArgs) -> None:
    """Replica counts, HPA, VPA and pre-scaling (the production floor is a contract check)."""
    a = args.autoscaling
    if a is None:
        int_in(problems, "replicas", args.replicas, 1, 1000)
    else:
        ok_min = int_in(problems, "autoscaling.min_replicas", a.min_replicas, 1, 1000)
        ok_max = int_in(problems, "autoscaling.max_replicas", a.max_replicas, 1, 1000)
        if ok_min and ok_max and a.min_replicas > a.max_replicas:
            problems.add(
                "autoscaling.min_replicas",
                a.min_replicas,
                f"is above autoscaling.max_replicas ({a.max_replicas}): lower it or raise the max",
            )
        for attr in ("cpu_target_percent", "memory_target_percent"):
            value = getattr(a, attr)
            if value is not None:
                int_in(problems, f"autoscaling.{attr}", value, 1, 100)
        if a.cpu_target_percent is None and a.memory_target_percent is None and not a.metrics:
            problems.add(
                "autoscaling.cpu_target_percent",
                None,
                "the HPA scales on nothing: set cpu_target_percent, memory_target_percent or "
                "metrics, or use autoscaling=None with a fixed replicas count",
            )
        seen: dict[tuple[str, str], int] = {}
        for i, m in enumerate(a.metrics):
            p = f"autoscaling.metrics[{i}]"
            if not isinstance(m.name, str) or not _METRIC_NAME.fullmatch(m.name):
                problems.add(
                    f"{p}.name",
                    m.name,
                    "must name the metric as the metrics adapter serves it: letters, digits "
                    "and _.:@/- (e.g. 'requests_per_second')",
                )
            elif (m.type, m.name) in seen:
                problems.add(
                    f"{p}.name",
                    m.name,
                    f"duplicates autoscaling.metrics[{seen[(m.type, m.name)]}]: one target per "
                    "metric",
                )
            else:
                seen[(m.type, m.name)] = i
            metric_quantity(problems, f"{p}.average_value", m.average_value)
            for key, value in m.selector.items():
                if not _LABEL_KEY.fullmatch(key) or not LABEL_VALUE.fullmatch(value):
                    problems.add(
                        f"{p}.selector[{key!r}]",
                        value,
                        "must be a Kubernetes label key and value (63 characters, letters, "
                        "digits, '-', '_', '.')",
                    )
        int_in(
            problems, "autoscaling.scale_up_stabilization_s", a.scale_up_stabilization_s, 0, 3600
        )
        int_in(
            problems,
            "autoscaling.scale_down_stabilization_s",
            a.scale_down_stabilization_s,
            0,
            3600,
        )
        int_in(problems, "autoscaling.scale_up_percent", a.scale_up_percent, 1, 1000)
        int_in(problems, "autoscaling.scale_up_pods", a.scale_up_pods, 1, 1000)
        int_in(problems, "autoscaling.scale_down_percent", a.scale_down_percent, 1, 100)

    v = args.vpa
    if v is not None:
        controlled = tuple(v.controlled_resources)
        if not controlled or len(set(controlled)) != len(controlled):
            problems.add(
                "vpa.controlled_resources",
                v.controlled_resources,
                "must be a non-empty tuple of 'cpu' and/or 'memory', each once",
            )
        low_cpu = cpu(problems, "vpa.min_cpu", v.min_cpu) if v.min_cpu is not None else None
        high_cpu = cpu(problems, "vpa.max_cpu", v.max_cpu) if v.max_cpu is not None else None
        if low_cpu is not None and high_cpu is not None and low_cpu > high_cpu:
            problems.add("vpa.min_cpu", v.min_cpu, f"is above vpa.max_cpu ({v.max_cpu!r})")
        low_mem = memory(problems, "vpa.min_memory", v.min_memory) if v.min_memory else None
        high_mem = memory(problems, "vpa.max_memory", v.max_memory) if v.max_memory else None
        if low_mem is not None and high_mem is not None and low_mem > high_mem:
            problems.add(
                "vpa.min_memory", v.min_memory, f"is above vpa.max_memory ({v.max_memory!r})"
            )
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
        int_in(problems, "prescaling.factor", pre.factor, 2, 100)


def check_probes(problems: Problems, args: ServiceStackArgs) -> None:
    p = args.probes
    url_path(problems, "probes.readiness_path", p.readiness_path)
    url_path(problems, "probes.liveness_path", p.liveness_path)
    if p.startup_path is not None:
        url_path(problems, "probes.startup_path", p.startup_path)
    if p.port is not None:
        int_in(problems, "probes.port", p.port, 1, 65535)
    int_in(problems, "probes.startup_timeout_s", p.startup_timeout_s, 10, 3600)
    int_in(problems, "probes.period_s", p.period_s, 1, 300)


class _SecretShown:
    def __repr__(self) -> str:
        return "[secret]"


def _env_name_problem(key: str) -> str | None:
    """Why an environment variable name is refused in the app container, or None."""
    if not _ENV_NAME.fullmatch(key):
        return "must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*"
    if key.startswith("DD_"):
        return (
            "is reserved: the platform sets Datadog's DD_* variables (DD_ENV, DD_SERVICE, "
            "DD_VERSION, DD_AGENT_HOST) from the pod's labels and node; set tags with "
            "datadog_tags and the version with version="
        )
    if key.startswith("AWS_CONTAINER_"):
        return (
            "is reserved: EKS Pod Identity sets it to hand the pod its role's credentials; "
            "remove it"
        )
    if key in STATIC_CREDENTIAL_ENV:
        return (
            "is refused: static AWS credentials take precedence over the pod's role and its "
            "permissions boundary; grant the access with iam_statements instead"
        )
    return None


def check_env(problems: Problems, args: ServiceStackArgs) -> None:
    for key, value in args.env.items():
        why = _env_name_problem(key)
        if why is not None:
            problems.add(f"env[{key!r}]", key, why)
        elif is_config_secret_output(value):
            problems.add(
                f"env[{key!r}]",
                _SecretShown(),
                "is a Pulumi secret: in env it would be written in clear into the Deployment; "
                "pass it in secrets= (a Kubernetes Secret) instead",
            )
    for key in args.secrets:
        why = _env_name_problem(key)
        if why is not None:
            problems.add(f"secrets[{key!r}]", key, why)
        elif key in args.env:
            problems.add(
                f"secrets[{key!r}]",
                key,
                "is also in env: a variable comes from one place; remove one of them",
            )
    total = 0
    for key, content in args.config_files.items():
        if not _CONFIG_KEY.fullmatch(key) or key in (".", ".."):
            problems.add(
                f"config_files[{key!r}]",
                key,
                "must be a file name of letters, digits, '-', '_' or '.' (no '/')",
            )
        total += len(key.encode()) + len(content.encode())
    if total > CONFIG_FILES_MAX_BYTES:
        problems.add(
            "config_files",
            f"{len(args.config_files)} files, {total} bytes",
            f"exceeds {CONFIG_FILES_MAX_BYTES} bytes: a ConfigMap holds at most 1 MiB; ship "
            "large files in the image",
        )
    mount = args.config_mount_path
    parts = mount.strip("/").split("/")
    if not _MOUNT_PATH.fullmatch(mount) or any(p in (".", "..") for p in parts):
        problems.add("config_mount_path", mount, "must be an absolute directory such as '/etc/app'")
    elif any(mount.rstrip("/") == r or mount.startswith(r + "/") for r in RESERVED_MOUNTS):
        problems.add(
            "config_mount_path",
            mount,
            f"is reserved ({', '.join(RESERVED_MOUNTS)} are mounted already): pick another path",
        )
    for field_name, items in (("command", args.command), ("args", args.args)):
        for i, item in enumerate(items or ()):
            if "\x00" in item:
                problems.add(f"{field_name}[{i}]", item, "must not contain a NUL character")
    int_in(problems, "prestop_sleep_s", args.prestop_sleep_s, 0, 120)
    int_in(problems, "shutdown_timeout_s", args.shutdown_timeout_s, 1, 600)
    if not is_int(args.run_as_user) or not 1 <= args.run_as_user <= 2**31 - 1:
        problems.add(
            "run_as_user",
            args.run_as_user,
            "must be a non-root uid (1 to 2147483647): Pod Security 'restricted' refuses root",
        )


def check_ports(problems: Problems, args: ServiceStackArgs) -> int | None:
    int_in(problems, "service_port", args.service_port, 1, 65535)
    if args.node_port is None:
        return None
    if int_in(problems, "node_port", args.node_port, NODE_PORT_MIN, NODE_PORT_MAX):
        return int(args.node_port)
    return None


def check_version(problems: Problems, args: ServiceStackArgs, image: ImageRef | None) -> str:
    if args.version is not None:
        if not args.version or len(args.version) > 63:
            problems.add("version", args.version, "must be a label value: 1-63 characters")
        elif not LABEL_VALUE.fullmatch(args.version):
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
        return tag if LABEL_VALUE.fullmatch(tag) else "unknown"
    assert image.digest is not None
    return image.digest.removeprefix("sha256:")[:12]


def env_output_values(args: ServiceStackArgs) -> dict[str, pulumi.Output[Any]]:
    """The ``env`` values that are Outputs (their secrecy is only known once they resolve)."""
    return {k: v for k, v in args.env.items() if isinstance(v, pulumi.Output)}

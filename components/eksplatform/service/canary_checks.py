"""The checks of a ServiceStack's canary (:class:`~eksplatform.service.args.Canary`) and what it
derives: the weights of the listener rule, the canary's pod count and its Datadog version.

Pure functions of the (well-typed, see :mod:`.shapes`) arguments, run in two places with the same
messages: by :func:`~eksplatform.service.validate.plan_service` before anything is registered,
and by ``eksplatform canary`` on the stack config before it edits anything. Field names are the
arguments' (``canary.weight``); a canary read from the stack config is reported under the keys
the stack file spells (``news-feed:canary.weight``, see :mod:`.canary_config`).

Design decisions, each with its cost:

* **The canary's pod count follows its weight**: ``ceil(stable x weight / 100)`` for the HPA's
  floor and ceiling (or the fixed count), never below ``min(2, the stable floor)``: one canary
  pod would be a single point of failure for its whole share of the traffic (and it keeps a
  canary at weight 0 warm). Cost: at weight 5 a service with a stable floor of 6 runs 2 canary
  pods, a third of its stable fleet.
* **Header values are literal**: the ALB reads ``*`` and ``?`` in a header condition as
  wildcards, so ``x-canary: *`` would send every request carrying the header, whatever its
  value, to the canary; both characters are refused.
* **Same repository when this stack owns it**: promotion makes the canary's image the stable
  one; were it in another repository, the ECR repository this stack manages would be replaced
  (its images deleted). Canaries of an image from elsewhere are fine with ``ecr=False``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import Problems
from ..core.tags import COMPANY_TAG_KEYS
from .args import Canary, ServiceStackArgs
from .aws_checks import AWS_TAGS_MAX, PLATFORM_TAG_KEYS
from .checks import (
    CONFIG_FILES_MAX_BYTES,
    LABEL_VALUE,
    ImageRef,
    _env_name_problem,
    int_in,
    is_int,
    parse_image,
)

HEADER_NAME_MAX = 40
"""The ALB's limit on an http-header condition's header name."""
HEADER_VALUE_MAX = 128
"""The ALB's limit on each value of an http-header condition."""
_HEADER_NAME = re.compile(r"[!#$%&'+.^_`|~0-9A-Za-z-]+")
"""RFC 7230 token characters, without ``*`` (the ALB supports no wildcard in the name)."""
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")
_HEADER_VALUE = re.compile(r"[!-~](?:[ -~]*[!-~])?")
"""Visible ASCII, inner spaces allowed (HTTP strips leading and trailing ones)."""
RESERVED_HEADERS = frozenset({"host"})
"""Header names an http-header condition does not take (the ALB has a host-header condition)."""
SCHEDULE_MAX = 20
"""Most weights in a schedule (each is a ``pulumi up`` and an analysis window)."""
RELEASE_TAG = "eksplatform-release"
"""AWS tag on the canary's target group, rules and alarms (value ``canary``): how ``eksplatform
canary`` finds them. Reserved in ``tags`` while a canary runs."""


@dataclass(frozen=True)
class CanaryPlan:
    """Plain values derived from a valid canary; what :mod:`.canary` builds from."""

    canary: Canary
    image: ImageRef
    version: str
    """Datadog ``version`` and ``app.kubernetes.io/version`` of the canary's pods (its image tag,
    or the first 12 hex digits of its digest)."""
    weight: int
    """The canary target group's weight in the listener rule (%)."""
    stable_weight: int
    """The stable target group's weight: ``100 - weight``."""
    min_replicas: int
    """The canary HPA's floor (or the fixed count without autoscaling)."""
    max_replicas: int | None
    """The canary HPA's ceiling; None when the service has a fixed count."""


def canary_replicas(args: ServiceStackArgs, weight: int) -> tuple[int, int | None]:
    """The canary's (floor, ceiling) for ``weight``: the stable's in proportion, at least
    ``min(2, the stable floor)`` (ceiling None: a fixed count)."""
    a = args.autoscaling
    if a is None:
        floor = min(2, args.replicas)
        return max(floor, math.ceil(args.replicas * weight / 100)), None
    floor = min(2, a.min_replicas)
    low = max(floor, math.ceil(a.min_replicas * weight / 100))
    high = max(low, math.ceil(a.max_replicas * weight / 100))
    return low, high


def _version(image: ImageRef) -> str | None:
    if image.tag is not None:
        tag = image.tag[:63].rstrip("-_.")
        return tag if LABEL_VALUE.fullmatch(tag) else None
    assert image.digest is not None
    return image.digest.removeprefix("sha256:")[:12]


def _check_image(problems: Problems, canary: Canary) -> tuple[ImageRef | None, str]:
    """The canary image's own shape: parsed, pinned, a usable version label."""
    ref = parse_image(canary.image)
    if ref is None:
        problems.add(
            "canary.image",
            canary.image,
            "must be 'registry/repository:tag' or 'registry/repository@sha256:<64 hex>' "
            "(e.g. '123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.5.0')",
        )
        return None, "unknown"
    if ref.tag is None and ref.digest is None:
        problems.add(
            "canary.image",
            canary.image,
            "has no tag: pin a version tag or a digest (never a moving tag)",
        )
        return None, "unknown"
    if ref.tag == "latest":
        problems.add(
            "canary.image",
            canary.image,
            "'latest' is a moving tag (the canary and the stable pods could run other code "
            "than the one analysed): pin a version tag or a digest",
        )
        return None, "unknown"
    version = _version(ref)
    if version is None:
        problems.add(
            "canary.image",
            canary.image,
            "its tag is not a Kubernetes label value (the canary's version label): use a tag "
            "of letters, digits, '-', '_', '.' starting with a letter or digit",
        )
        return None, "unknown"
    return ref, version


def stable_image_problems(problems: Problems, canary: Canary, stable_image: Any) -> None:
    """The canary image against the stable one (``image``): different, except while
    ``eksplatform canary promote`` moves the traffic back (then equal)."""
    if canary.image == stable_image and not canary.promoting:
        problems.add(
            "canary.image",
            canary.image,
            "is the stable image: a canary compares a new version with the running one; give "
            "the image to release, or remove the canary",
        )
    elif canary.promoting and isinstance(stable_image, str) and canary.image != stable_image:
        problems.add(
            "canary.promoting",
            canary.promoting,
            f"says the stable image is the canary's, but image is {stable_image!r}: let "
            "'eksplatform canary promote' finish (or 'eksplatform canary rollback'), or "
            "remove promoting",
        )


def _check_header(problems: Problems, canary: Canary) -> None:
    h = canary.header
    if h is None:
        return
    if (
        not isinstance(h.name, str)
        or not 1 <= len(h.name) <= HEADER_NAME_MAX
        or not _HEADER_NAME.fullmatch(h.name)
    ):
        problems.add(
            "canary.header.name",
            h.name,
            f"must be an HTTP header name of 1-{HEADER_NAME_MAX} letters, digits or "
            "!#$%&'+-.^_`|~ (no '*': the ALB takes no wildcard in a header name), e.g. "
            "'x-canary'",
        )
    elif h.name.lower() in RESERVED_HEADERS:
        problems.add(
            "canary.header.name",
            h.name,
            "is the Host header, which an ALB header condition does not match: pick a header "
            "of your own such as 'x-canary'",
        )
    if not isinstance(h.value, str) or not h.value:
        problems.add(
            "canary.header.value",
            h.value,
            "is empty: give the value that sends a request to the canary, e.g. 'always'",
        )
    elif len(h.value) > HEADER_VALUE_MAX or not _HEADER_VALUE.fullmatch(h.value):
        problems.add(
            "canary.header.value",
            h.value,
            f"must be 1-{HEADER_VALUE_MAX} visible ASCII characters (spaces inside only)",
        )
    elif "*" in h.value or "?" in h.value:
        problems.add(
            "canary.header.value",
            h.value,
            "contains '*' or '?', which the ALB reads as wildcards (any value would match): "
            "use a literal value",
        )


def _check_override_names(problems: Problems, canary: Canary) -> None:
    for key in canary.env:
        why = _env_name_problem(key)
        if why is not None:
            problems.add(f"canary.env[{key!r}]", key, why)
    for key in canary.config_files:
        if not _CONFIG_KEY.fullmatch(key) or key in (".", ".."):
            problems.add(
                f"canary.config_files[{key!r}]",
                key,
                "must be a file name of letters, digits, '-', '_' or '.' (no '/')",
            )


def _check_overrides(problems: Problems, args: ServiceStackArgs, canary: Canary) -> None:
    for key in canary.env:
        if _env_name_problem(key) is None and key in args.secrets:
            problems.add(
                f"canary.env[{key!r}]",
                key,
                "is one of the service's secrets: a variable comes from one place; give the "
                "canary's value in secrets, or use another name",
            )
    files = merged_files(args, canary)
    total = sum(len(k.encode()) + len(v.encode()) for k, v in files.items())
    if canary.config_files and total > CONFIG_FILES_MAX_BYTES:
        problems.add(
            "canary.config_files",
            f"{len(files)} files, {total} bytes",
            f"with the service's config_files exceeds {CONFIG_FILES_MAX_BYTES} bytes: a "
            "ConfigMap holds at most 1 MiB; ship large files in the image",
        )


def _check_schedule(problems: Problems, canary: Canary) -> None:
    schedule = list(canary.schedule)
    fix = "list rising weights from 1 to 100 that end at 100, e.g. [5, 25, 50, 100]"
    if not schedule or len(schedule) > SCHEDULE_MAX:
        problems.add(
            "canary.schedule",
            schedule,
            f"must hold 1-{SCHEDULE_MAX} weights: {fix}",
        )
        return
    for i, w in enumerate(schedule):
        if not is_int(w) or not 1 <= w <= 100:
            problems.add(f"canary.schedule[{i}]", w, f"must be a weight from 1 to 100: {fix}")
            return
        if i and w <= schedule[i - 1]:
            problems.add(
                f"canary.schedule[{i}]",
                w,
                f"is not above the weight before it ({schedule[i - 1]}): {fix}",
            )
            return
    if schedule[-1] != 100:
        problems.add(
            "canary.schedule",
            schedule,
            f"ends at {schedule[-1]}, not 100: the last step sends the canary every request "
            f"before promotion; {fix}",
        )


def _check_analysis(problems: Problems, canary: Canary) -> None:
    a = canary.analysis
    p = "canary.analysis"
    int_in(problems, f"{p}.window_minutes", a.window_minutes, 1, 180)
    int_in(problems, f"{p}.min_requests", a.min_requests, 1, 1_000_000_000)
    int_in(problems, f"{p}.min_healthy_hosts", a.min_healthy_hosts, 1, 1000)
    bounds = (
        ("max_error_rate_percent", a.max_error_rate_percent, 0.0, 100.0, False),
        ("max_error_rate_increase", a.max_error_rate_increase, 0.0, 100.0, True),
        ("max_p99_latency_s", a.max_p99_latency_s, 0.0, 600.0, False),
        ("max_p99_latency_ratio", a.max_p99_latency_ratio, 1.0, 100.0, True),
    )
    for name, value, low, high, low_ok in bounds:
        ok = math.isfinite(value) and (low <= value if low_ok else low < value) and value <= high
        if not ok:
            side = "[" if low_ok else "("
            problems.add(f"{p}.{name}", value, f"must be in {side}{low:g}, {high:g}]")


def policy_problems(problems: Problems, canary: Canary) -> None:
    """The schedule, the analysis thresholds and the ramp-down wait (the stack config's
    ``canaryPolicy``, checked with or without a running canary)."""
    _check_schedule(problems, canary)
    _check_analysis(problems, canary)
    int_in(problems, "canary.ramp_down_wait_s", canary.ramp_down_wait_s, 0, 3600)


def standalone_problems(problems: Problems, canary: Canary) -> tuple[ImageRef | None, bool]:
    """Every check that needs nothing but the canary: image, weight, header, override names,
    policy. Returns the parsed image (None: unusable) and whether the weight is usable."""
    image, _ = _check_image(problems, canary)
    weight_ok = is_int(canary.weight) and 0 <= canary.weight <= 100
    if not weight_ok:
        problems.add(
            "canary.weight",
            canary.weight,
            "must be a whole percentage from 0 to 100: the canary's share of the ALB's "
            "requests (0 keeps it running without traffic)",
        )
    _check_header(problems, canary)
    _check_override_names(problems, canary)
    policy_problems(problems, canary)
    return image, weight_ok


def canary_problems(
    problems: Problems,
    args: ServiceStackArgs,
    *,
    stable: ImageRef | None,
    create_ecr: bool,
) -> CanaryPlan | None:
    """Check ``args.canary`` against itself and the rest of ``args`` (added to ``problems``)
    and return its plan; None without a canary or when a value it derives from is unusable
    (already reported)."""
    canary = args.canary
    if canary is None:
        return None
    if args.ingress is None:
        problems.add(
            "canary",
            canary.image,
            "needs ingress=Ingress(...): a canary receives a share of the service's ALB "
            "requests, and this service has no ALB (in-cluster callers always reach the "
            "stable pods); add an ALB, or remove the canary",
        )
    image, weight_ok = standalone_problems(problems, canary)
    stable_image_problems(problems, canary, args.image)
    same_repository = (
        stable is None
        or image is None
        or (image.host, image.repository) == (stable.host, stable.repository)
    )
    if create_ecr and stable is not None and not same_repository:
        problems.add(
            "canary.image",
            canary.image,
            f"is not in the stable image's repository ({stable.host}/{stable.repository}), "
            "which this stack manages: promotion would replace that ECR repository and "
            "delete its images; push the canary there, or set ecr=False",
        )
    _check_overrides(problems, args, canary)
    if RELEASE_TAG in args.tags:
        problems.add(
            f"tags[{RELEASE_TAG!r}]",
            args.tags[RELEASE_TAG],
            "is set by ServiceStack on the canary's resources (eksplatform canary finds them "
            "by it): remove it",
        )
    keys = set(args.tags) | set(args.datadog_tags)
    room = AWS_TAGS_MAX - len(COMPANY_TAG_KEYS) - len(PLATFORM_TAG_KEYS) - 1
    if len(keys) == room + 1:  # one more is refused by the service's own tag check
        problems.add(
            "tags",
            len(keys),
            f"tags and datadog_tags give {len(keys)} AWS tags; the canary's resources carry "
            f"{RELEASE_TAG} too, and a resource may carry {AWS_TAGS_MAX}: keep at most {room}",
        )
    if image is None or not weight_ok:
        return None
    version = _version(image)
    assert version is not None
    low, high = canary_replicas(args, canary.weight)
    return CanaryPlan(
        canary=canary,
        image=image,
        version=version,
        weight=canary.weight,
        stable_weight=100 - canary.weight,
        min_replicas=low,
        max_replicas=high,
    )


def merged_env(args: ServiceStackArgs, canary: Canary) -> dict[str, Any]:
    """The canary's environment: the service's, with the canary's values on top."""
    return {**args.env, **canary.env}


def merged_files(args: ServiceStackArgs, canary: Canary) -> Mapping[str, str]:
    """The canary's config files: the service's, with the canary's added or replaced."""
    return {**args.config_files, **canary.config_files}

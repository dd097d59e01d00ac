"""Kubernetes versions on EKS: the release calendar, support prices and the pinned builds per minor.

One module holds every fact that changes when Kubernetes moves on, so an upgrade is one reviewed
edit here plus a stack-file change (``eksplatform upgrade-plan --write``), never a search through
the components:

- :data:`EKS_CALENDAR`: per minor, the EKS release date and the ends of standard and extended
  support, from AWS's "Understand the Kubernetes version lifecycle on EKS" release calendar
  (dates are UTC; billing for extended support starts at the beginning of the end-of-standard
  day);
- :data:`STANDARD_PRICE_PER_HOUR` / :data:`EXTENDED_PRICE_PER_HOUR`: the per-cluster-hour price of
  the control plane in each support tier;
- :data:`RELEASES`: per component, the build pinned for each minor, each a :class:`Pin` naming
  its source (release note, registry tag or AWS documentation table) and a date, so a reviewer
  can check it and a test can refuse an entry without one.

Design decision: facts are data with their provenance, not comments, so a test can check every
entry has a source and a date and the upgrade plan can quote them. Cost: the module must be
edited by hand when EKS publishes a minor or a build (nothing here calls AWS), and it is only as
current as its ``checked`` dates; the plan prints those dates so a stale table is visible.

Builds that are not tied to one minor (the VPC CNI, the Pod Identity agent, metrics-server) are
still listed per minor, each with the source that lists it for that minor; a minor with no such
entry has no default and must be pinned in the stack (the plan says so).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "CALENDAR_SOURCE",
    "DEFAULT_KUBERNETES_VERSION",
    "EKS_CALENDAR",
    "EXTENDED_PRICE_PER_HOUR",
    "HOURS_PER_MONTH",
    "PRICING_SOURCE",
    "RELEASES",
    "STANDARD_PRICE_PER_HOUR",
    "MinorSupport",
    "Pin",
    "minor_of",
    "pin_for",
    "support_status",
]

DEFAULT_KUBERNETES_VERSION = "1.35"
"""The default cluster minor: in EKS standard support until 2027-03-27 (checked 2026-12-03, when
1.34 leaves standard support). 1.36 is newer, but no EKS kube-proxy build for it is pinned here
yet (see :data:`RELEASES`), so the default stops at the newest minor every table covers."""

_MINOR = re.compile(r"1\.(\d{1,3})\Z")


def minor_of(version: str) -> int:
    """``"1.35"`` -> 35; ``ValueError`` for anything but ``1.MINOR``."""
    m = _MINOR.fullmatch(version)
    if m is None:
        raise ValueError(f'write the Kubernetes version as "1.MINOR", like "1.35"; got {version!r}')
    return int(m.group(1))


# --------------------------------------------------------------------------------- calendar

CALENDAR_SOURCE = (
    "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
    "#kubernetes-release-calendar"
)


@dataclass(frozen=True, kw_only=True)
class MinorSupport:
    """One row of the EKS release calendar."""

    minor: int
    eks_release: dt.date
    """First day the minor can be created on EKS."""
    end_of_standard: dt.date
    """Extended support (and its price) starts on this day."""
    end_of_extended: dt.date
    """After this day EKS upgrades the control plane by itself."""
    source: str
    """Where the dates come from."""
    checked: str
    """ISO date the row was read from its source."""

    @property
    def version(self) -> str:
        return f"1.{self.minor}"


def _row(minor: int, release: str, standard: str, extended: str, source: str) -> MinorSupport:
    return MinorSupport(
        minor=minor,
        eks_release=dt.date.fromisoformat(release),
        end_of_standard=dt.date.fromisoformat(standard),
        end_of_extended=dt.date.fromisoformat(extended),
        source=source,
        checked="2026-12-03",
    )


_AWS_CALENDAR_ADOC = (
    "https://github.com/awsdocs/amazon-eks-user-guide/blob/mainline/latest/ug/versioning/"
    "kubernetes-versions.adoc (release calendar table)"
)
_EOL_EKS = "https://endoflife.date/amazon-eks (mirrors the AWS calendar for 1.35)"
_EKS_136 = (
    "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions-standard.html "
    "('Kubernetes 1.36 is now available in Amazon EKS'); dates: EKS release 2026-06-02 plus the "
    "calendar's 14 + 12 months"
)

EKS_CALENDAR: Mapping[int, MinorSupport] = {
    r.minor: r
    for r in (
        _row(29, "2024-01-23", "2025-03-23", "2026-03-23", _AWS_CALENDAR_ADOC),
        _row(30, "2024-05-23", "2025-07-23", "2026-07-23", _AWS_CALENDAR_ADOC),
        _row(31, "2024-09-26", "2025-11-26", "2026-11-26", _AWS_CALENDAR_ADOC),
        _row(32, "2025-01-23", "2026-03-23", "2027-03-23", _AWS_CALENDAR_ADOC),
        _row(33, "2025-05-29", "2026-07-29", "2027-07-29", _AWS_CALENDAR_ADOC),
        _row(34, "2025-10-02", "2026-12-02", "2027-12-02", _AWS_CALENDAR_ADOC),
        _row(35, "2026-01-27", "2027-03-27", "2028-03-27", _EOL_EKS),
        _row(36, "2026-06-02", "2027-08-02", "2028-08-02", _EKS_136),
    )
}
"""Kubernetes minor -> its EKS support window. A minor absent here is not offered by EKS (1.37 had
no EKS release when this table was checked)."""


def support_status(minor: int, on: dt.date) -> str:
    """``"standard"``, ``"extended"``, ``"ended"`` (past extended support), ``"unreleased"`` or
    ``"unknown"`` (not in :data:`EKS_CALENDAR`)."""
    row = EKS_CALENDAR.get(minor)
    if row is None:
        return "unknown"
    if on < row.eks_release:
        return "unreleased"
    if on < row.end_of_standard:
        return "standard"
    if on <= row.end_of_extended:
        return "extended"
    return "ended"


# ---------------------------------------------------------------------------------- pricing

PRICING_SOURCE = (
    "https://aws.amazon.com/eks/pricing/ (Amazon EKS: $0.10 per cluster per hour in standard "
    "support, $0.60 per cluster per hour in extended support; checked 2026-12-03)"
)
STANDARD_PRICE_PER_HOUR = 0.10
"""USD per cluster-hour, standard support."""
EXTENDED_PRICE_PER_HOUR = 0.60
"""USD per cluster-hour, extended support."""
HOURS_PER_MONTH = 730
"""The hours AWS bills a month by (365 x 24 / 12)."""


# ---------------------------------------------------------------------------------- releases


@dataclass(frozen=True, kw_only=True)
class Pin:
    """A build pinned for one Kubernetes minor, with where it comes from."""

    version: str
    """Image tag or EKS add-on version, e.g. ``v1.35.2`` or ``v1.35.3-eksbuild.2``."""
    source: str
    """Release note, registry tag or documentation table that lists it."""
    published: str | None = None
    """ISO date the build was published, when its source says."""
    checked: str
    """ISO date the entry was read from its source (or pinned in this repository)."""


_CA_RELEASE = "https://github.com/kubernetes/autoscaler/releases/tag/cluster-autoscaler-{}"
_DESCHEDULER_RELEASE = "https://github.com/kubernetes-sigs/descheduler/releases/tag/{}"
_KUBE_PROXY_DOC = (
    "https://docs.aws.amazon.com/eks/latest/userguide/managing-kube-proxy.html "
    "(kube-proxy versions table)"
)
_COREDNS_DOC = (
    "https://docs.aws.amazon.com/eks/latest/userguide/managing-coredns.html "
    "(CoreDNS versions table)"
)
_VPC_CNI_DOC = (
    "https://docs.aws.amazon.com/eks/latest/userguide/managing-vpc-cni.html "
    "(Amazon VPC CNI versions table)"
)
_REPO_PIN = (
    "pinned in this repository since commit c0f929e (eks_addons.py); the add-on is not tied to "
    "a minor and no source read here lists its builds for 1.{}: confirm with aws eks "
    "describe-addon-versions --kubernetes-version 1.{} before relying on it"
)
_VPC_CNI_UNLISTED = (
    "https://docs.aws.amazon.com/eks/latest/userguide/managing-vpc-cni.html lists this build "
    "for 1.27-1.33; not yet confirmed for 1.{}: check aws eks describe-addon-versions "
    "--kubernetes-version 1.{}"
)


def _ca(tag: str, published: str | None, checked: str) -> Pin:
    return Pin(
        version=f"v{tag}", source=_CA_RELEASE.format(tag), published=published, checked=checked
    )


def _same(version: str, source: str, checked: str, minors: range) -> dict[int, Pin]:
    return {m: Pin(version=version, source=source.format(m, m), checked=checked) for m in minors}


RELEASES: Mapping[str, Mapping[int, Pin]] = {
    # registry.k8s.io/autoscaling/cluster-autoscaler: the release built for the minor.
    "cluster-autoscaler": {
        31: _ca("1.31.3", None, "2026-11-25"),
        32: _ca("1.32.5", None, "2026-11-25"),
        33: _ca("1.33.6", "2026-07-23", "2026-12-03"),
        34: _ca("1.34.5", "2026-07-23", "2026-12-03"),
        35: _ca("1.35.2", "2026-07-23", "2026-12-03"),
        36: _ca("1.36.1", "2026-07-23", "2026-12-03"),
    },
    # registry.k8s.io/descheduler/descheduler: v0.N is built against Kubernetes 1.N.
    "descheduler": {
        m: Pin(
            version=tag,
            source=_DESCHEDULER_RELEASE.format(tag),
            checked=checked,
        )
        for m, tag, checked in (
            (31, "v0.31.0", "2026-11-25"),
            (32, "v0.32.2", "2026-11-25"),
            (33, "v0.33.0", "2026-11-25"),
            (34, "v0.34.0", "2026-11-25"),
            (35, "v0.35.0", "2026-12-03"),
            (36, "v0.36.0", "2026-11-25"),
        )
    },
    # EKS add-on kube-proxy: its minor must be the cluster's.
    "kube-proxy": {
        m: Pin(version=v, source=_KUBE_PROXY_DOC, checked="2026-12-03")
        for m, v in (
            (31, "v1.31.14-eksbuild.9"),
            (32, "v1.32.13-eksbuild.5"),
            (33, "v1.33.10-eksbuild.2"),
            (34, "v1.34.6-eksbuild.2"),
            (35, "v1.35.3-eksbuild.2"),
        )
    },
    # EKS add-on coredns.
    "coredns": {
        m: Pin(version=v, source=_COREDNS_DOC, checked="2026-12-03")
        for m, v in (
            (31, "v1.11.4-eksbuild.33"),
            (32, "v1.11.4-eksbuild.33"),
            (33, "v1.13.2-eksbuild.4"),
            (34, "v1.13.2-eksbuild.7"),
            (35, "v1.14.2-eksbuild.4"),
        )
    },
    # EKS add-on vpc-cni: one build serves every minor the AWS table lists it for.
    "vpc-cni": {
        **_same("v1.20.1-eksbuild.3", _VPC_CNI_DOC, "2026-12-03", range(31, 34)),
        **_same("v1.20.1-eksbuild.3", _VPC_CNI_UNLISTED, "2026-12-03", range(34, 36)),
    },
    # EKS add-on eks-pod-identity-agent (not tied to a minor).
    "eks-pod-identity-agent": _same("v1.3.5-eksbuild.2", _REPO_PIN, "2026-11-25", range(31, 36)),
    # EKS community add-on metrics-server (not tied to a minor).
    "metrics-server": _same("v0.7.2-eksbuild.1", _REPO_PIN, "2026-11-25", range(31, 36)),
}
"""Component -> Kubernetes minor -> pinned build. Add a line (with its source) when EKS offers a
minor; until then a stack on that minor must pin the build itself."""


def pin_for(component: str, minor: int) -> Pin | None:
    """The build of ``component`` pinned for ``minor``, or None."""
    return RELEASES[component].get(minor)

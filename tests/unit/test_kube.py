"""The shared Kubernetes building blocks in ``eksplatform.core.kube``."""

from __future__ import annotations

from eksplatform.core import kube


def test_pod_security_labels_default_every_mode_to_the_enforced_level() -> None:
    assert kube.pod_security_labels("restricted") == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def test_pod_security_labels_pin_each_mode_to_the_version() -> None:
    labels = kube.pod_security_labels(
        "privileged", warn="baseline", audit="restricted", version="latest"
    )
    assert list(labels.items()) == [
        ("pod-security.kubernetes.io/enforce", "privileged"),
        ("pod-security.kubernetes.io/enforce-version", "latest"),
        ("pod-security.kubernetes.io/warn", "baseline"),
        ("pod-security.kubernetes.io/warn-version", "latest"),
        ("pod-security.kubernetes.io/audit", "restricted"),
        ("pod-security.kubernetes.io/audit-version", "latest"),
    ]
